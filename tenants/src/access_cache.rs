//! What every request looks up before its real work: who the bearer token names, the tenant
//! named by a slug and the caller's membership there. All change rarely (identity provider
//! registrations, onboarding, suspension, settings, role grants), so they are cached for a
//! few seconds; every change drops the entries at once on this replica and, through
//! `NOTIFY` at commit, on the others.

use std::time::Duration;

use moka::future::Cache;
use sea_orm::{ConnectionTrait, DbErr, Statement};
use uuid::Uuid;

use chrono::{DateTime, Utc};

use crate::{Identity, MemberId, Principal, Role, Tenant};

/// The `NOTIFY` payload on the invalidation channel that drops every replica's entries.
pub const ACCESS_CHANGED: &str = "access";
/// The `NOTIFY` channel on which replicas hear that cached state changed (tenants and
/// memberships here; policies and consents use it too).
pub const INVALIDATION_CHANNEL: &str = "civitas_invalidation";
/// The bound on how stale an entry can be should a notification be lost.
const TTL: Duration = Duration::from_secs(5);

pub(crate) type Membership = Option<(MemberId, Vec<Role>)>;

#[derive(Clone, Debug)]
pub struct AccessCache {
    tenants: Cache<String, Tenant>,
    by_id: Cache<Uuid, Tenant>,
    memberships: Cache<(Uuid, Identity), Membership>,
    /// Verified bearer tokens: the principal and when the token expires.
    principals: Cache<String, (Principal, DateTime<Utc>)>,
    /// Counts the invalidations, so that long-lived work (a subscription) can check its
    /// rights again when anything they depend on may have changed.
    epoch: std::sync::Arc<tokio::sync::watch::Sender<u64>>,
}

impl Default for AccessCache {
    fn default() -> Self {
        AccessCache {
            tenants: Cache::builder()
                .max_capacity(10_000)
                .time_to_live(TTL)
                .build(),
            by_id: Cache::builder()
                .max_capacity(10_000)
                .time_to_live(TTL)
                .build(),
            memberships: Cache::builder()
                .max_capacity(200_000)
                .time_to_live(TTL)
                .build(),
            principals: Cache::builder()
                .max_capacity(20_000)
                .time_to_live(TTL)
                .build(),
            epoch: std::sync::Arc::new(tokio::sync::watch::channel(0).0),
        }
    }
}

impl AccessCache {
    pub(crate) async fn tenant(&self, slug: &str) -> Option<Tenant> {
        self.tenants.get(slug).await
    }

    pub(crate) async fn tenant_by_id(&self, id: Uuid) -> Option<Tenant> {
        self.by_id.get(&id).await
    }

    pub(crate) async fn remember_tenant(&self, tenant: &Tenant) {
        self.tenants
            .insert(tenant.slug.to_string(), tenant.clone())
            .await;
        self.by_id.insert(tenant.id.0, tenant.clone()).await;
    }

    pub(crate) async fn membership(&self, tenant: Uuid, who: &Identity) -> Option<Membership> {
        self.memberships.get(&(tenant, who.clone())).await
    }

    pub(crate) async fn remember_membership(&self, tenant: Uuid, who: &Identity, m: Membership) {
        self.memberships.insert((tenant, who.clone()), m).await;
    }

    /// The principal of a token verified a moment ago, unless the token has expired since
    /// (`now` by the platform's clock).
    pub async fn principal(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Option<(Principal, DateTime<Utc>)> {
        let (principal, expires) = self.principals.get(token).await?;
        (expires > now).then_some((principal, expires))
    }

    /// Changes whenever this replica's entries are dropped: a role, a membership, a
    /// tenant's status or settings, a provider or (through the listener) a policy changed,
    /// here or on another replica.
    pub fn changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.epoch.subscribe()
    }

    /// Keeps a token just verified, until it expires or the entries are dropped.
    pub async fn remember_principal(&self, token: &str, p: Principal, expires: DateTime<Utc>) {
        self.principals.insert(token.to_owned(), (p, expires)).await;
    }

    /// Drops every entry of this replica (a change here, or a notification from another).
    pub fn invalidate_all(&self) {
        self.tenants.invalidate_all();
        self.by_id.invalidate_all();
        self.memberships.invalidate_all();
        self.principals.invalidate_all();
        self.epoch.send_modify(|e| *e += 1);
    }

    /// Drops this replica's entries now and, on PostgreSQL, asks every replica to drop theirs
    /// when `conn`'s transaction commits.
    pub async fn changed<C: ConnectionTrait>(&self, conn: &C) -> Result<(), DbErr> {
        self.invalidate_all();
        if conn.get_database_backend() == sea_orm::DbBackend::Postgres {
            conn.execute_raw(Statement::from_sql_and_values(
                sea_orm::DbBackend::Postgres,
                "SELECT pg_notify($1, $2)",
                [INVALIDATION_CHANNEL.into(), ACCESS_CHANGED.into()],
            ))
            .await?;
        }
        Ok(())
    }
}
