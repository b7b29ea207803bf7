//! The enforcer, shared by every request. Policies are held in memory and written through
//! to the database, so a change made here is effective on the next request.

use casbin::{CoreApi, DefaultModel, Enforcer, MgmtApi};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter,
    Statement,
};
use tokio::sync::RwLock;

use crate::defaults::platform_rules;
use crate::entity::{Column, Entity};
use crate::{Error, MODEL, SeaOrmAdapter};

/// One `p` rule of a tenant: `role` may do `action` on `object`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct PolicyRule {
    pub role: String,
    pub object: String,
    pub action: String,
}

pub struct Authorizer {
    enforcer: RwLock<Enforcer>,
    /// Decisions already taken, by (role, domain, object, action). Casbin evaluates its
    /// matcher against every rule of every tenant on each check, which profiling showed as
    /// the largest cost of a request once there are a hundred tenants; the answers change
    /// only when the policies do, and every change clears them under the write lock.
    decisions: moka::sync::Cache<(String, String, String, String), bool>,
    conn: DatabaseConnection,
}

pub use civitas_tenants::INVALIDATION_CHANNEL;
/// The payload that tells replicas to reload policies.
pub const POLICY_CHANGED: &str = "policy";

fn validate_term(what: &str, v: &str) -> Result<(), Error> {
    let ok = !v.is_empty()
        && v.len() <= 64
        && v.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'*');
    if ok {
        Ok(())
    } else {
        Err(Error::Validation(format!(
            "{what} {v:?} must be 1 to 64 characters of a-z, 0-9, '_' or '*'"
        )))
    }
}

impl Authorizer {
    /// Loads every rule, first writing the platform-wide ones if they are missing.
    pub async fn load(conn: DatabaseConnection) -> Result<Self, Error> {
        for (ptype, rule) in platform_rules() {
            let present = Entity::find()
                .filter(Column::Ptype.eq(ptype))
                .filter(Column::V0.eq(rule[0].clone()))
                .filter(Column::V1.eq(rule[1].clone()))
                .one(&conn)
                .await?
                .is_some();
            if !present {
                Entity::insert(crate::adapter::row(ptype, &rule))
                    .exec_without_returning(&conn)
                    .await?;
            }
        }
        let model = DefaultModel::from_str(MODEL).await?;
        let enforcer = Enforcer::new(model, SeaOrmAdapter::new(conn.clone())).await?;
        Ok(Self {
            enforcer: RwLock::new(enforcer),
            decisions: moka::sync::Cache::new(100_000),
            conn,
        })
    }

    /// Re-reads every rule from the database (after a write made outside the enforcer,
    /// such as onboarding, or made by another replica).
    pub async fn reload(&self) -> Result<(), Error> {
        let mut e = self.enforcer.write().await;
        e.load_policy().await?;
        self.decisions.invalidate_all();
        Ok(())
    }

    /// Tells the other replicas to reload (PostgreSQL `NOTIFY`; nothing to do on SQLite,
    /// which serves one process).
    pub async fn publish_change(&self) -> Result<(), Error> {
        if self.conn.get_database_backend() == DbBackend::Postgres {
            self.conn
                .execute_raw(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    "SELECT pg_notify($1, $2)",
                    [INVALIDATION_CHANNEL.into(), POLICY_CHANGED.into()],
                ))
                .await?;
        }
        Ok(())
    }

    /// Whether any of `roles` may do `action` on `object` in `domain`.
    pub async fn allowed<'a>(
        &self,
        roles: impl IntoIterator<Item = &'a str>,
        domain: &str,
        object: &str,
        action: &str,
    ) -> Result<bool, Error> {
        // Decisions are read and written under the read lock, so none computed from old
        // rules can land after a reload (which holds the write lock) cleared them.
        let e = self.enforcer.read().await;
        for role in roles {
            let key = (
                role.to_owned(),
                domain.to_owned(),
                object.to_owned(),
                action.to_owned(),
            );
            let allowed = match self.decisions.get(&key) {
                Some(d) => d,
                None => {
                    let d = e.enforce((role, domain, object, action))?;
                    self.decisions.insert(key, d);
                    d
                }
            };
            if allowed {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The `p` rules of one domain, sorted.
    pub async fn rules(&self, domain: &str) -> Vec<PolicyRule> {
        let e = self.enforcer.read().await;
        let mut rules: Vec<PolicyRule> = e
            .get_filtered_policy(1, vec![domain.to_owned()])
            .into_iter()
            .filter_map(|r| match r.as_slice() {
                [role, _, object, action, ..] => Some(PolicyRule {
                    role: role.clone(),
                    object: object.clone(),
                    action: action.clone(),
                }),
                _ => None,
            })
            .collect();
        rules.sort();
        rules
    }

    /// Adds a rule to `domain`. Returns false when it was already there.
    pub async fn add_rule(&self, domain: &str, rule: &PolicyRule) -> Result<bool, Error> {
        validate_term("role", &rule.role)?;
        validate_term("object", &rule.object)?;
        validate_term("action", &rule.action)?;
        let mut e = self.enforcer.write().await;
        let added = e
            .add_policy(vec![
                rule.role.clone(),
                domain.to_owned(),
                rule.object.clone(),
                rule.action.clone(),
            ])
            .await?;
        self.decisions.invalidate_all();
        drop(e);
        self.publish_change().await?;
        Ok(added)
    }

    /// Removes a rule from `domain`. Returns false when it was not there.
    pub async fn remove_rule(&self, domain: &str, rule: &PolicyRule) -> Result<bool, Error> {
        let mut e = self.enforcer.write().await;
        let removed = e
            .remove_policy(vec![
                rule.role.clone(),
                domain.to_owned(),
                rule.object.clone(),
                rule.action.clone(),
            ])
            .await?;
        self.decisions.invalidate_all();
        drop(e);
        self.publish_change().await?;
        Ok(removed)
    }
}
