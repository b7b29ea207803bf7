//! The scoped units of work: one transaction bound to one tenant (for operators and
//! integrators) or to one person (for a citizen reading what every body holds about them).

use sea_orm::sea_query::Values;
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait,
    DatabaseTransaction, DbErr, DeleteMany, EntityTrait, IntoActiveModel, QueryFilter, QueryResult,
    Select, SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait, UpdateMany,
    Value,
};
use uuid::Uuid;

use crate::{Backend, Db, TenantContext, TenantId};

/// An entity whose rows belong to one tenant.
pub trait TenantOwned: EntityTrait {
    fn tenant_column() -> Self::Column;
}

/// An entity whose rows are about one person.
pub trait PersonOwned: EntityTrait {
    fn person_column() -> Self::Column;
}

/// Which other tenants' rows a read may include besides the scope's own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sources {
    /// These tenants (an empty list: none).
    Only(Vec<TenantId>),
    /// Every tenant.
    Any,
}

/// A transaction in which the current tenant is fixed. On PostgreSQL it carries
/// `app.tenant_id` for the RLS policies; on both backends the query builders below add the
/// `tenant_id` filter themselves.
pub struct Scope {
    txn: DatabaseTransaction,
    tenant_id: TenantId,
    access: crate::AccessCache,
    /// Notices for other replicas' listeners that SQLite cannot send (see [`Scope::notify`]).
    notices: std::sync::Mutex<Vec<Notice>>,
}

/// A message for the listeners of `channel`, sent only if the transaction commits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    pub channel: &'static str,
    pub payload: String,
}

/// A transaction bound to one person (and the person records merged into it), across
/// tenants: what a citizen sees of themselves.
pub struct PersonScope {
    txn: DatabaseTransaction,
    persons: Vec<Uuid>,
}

/// A read-only transaction over what every body publishes (its service catalogue), bound
/// to no tenant and no person. On PostgreSQL it carries `app.public`, which only the
/// `public_read` policies honour: every other table shows it nothing.
pub struct PublicScope {
    txn: DatabaseTransaction,
}

impl PublicScope {
    pub fn conn(&self) -> &DatabaseTransaction {
        &self.txn
    }

    pub async fn commit(self) -> Result<(), DbErr> {
        self.txn.commit().await
    }
}

impl Db {
    /// Opens a read of the public data of every body. A plain (deferred) transaction on
    /// SQLite: it writes nothing, so it need not queue behind writers.
    pub async fn public_scope(&self) -> Result<PublicScope, DbErr> {
        let txn = self.global().begin().await?;
        if self.backend() == Backend::Postgres {
            txn.execute_raw(Statement::from_sql_and_values(
                txn.get_database_backend(),
                "SELECT set_config('app.tenant_id', '', true), set_config('app.person_id', '', true), \
                 set_config('app.public', 'on', true), set_config('app.now', $1, true)",
                [self.clock().now().to_rfc3339().into()],
            ))
            .await?;
        }
        Ok(PublicScope { txn })
    }

    /// Opens the unit of work for the tenant of `ctx`.
    pub async fn scope(&self, ctx: &TenantContext) -> Result<Scope, DbErr> {
        self.scope_for(ctx.tenant.id).await
    }

    pub(crate) async fn scope_for(&self, tenant_id: TenantId) -> Result<Scope, DbErr> {
        let txn = self.begin_bound(Some(tenant_id.0), None).await?;
        Ok(Scope {
            txn,
            tenant_id,
            access: self.access().clone(),
            notices: Default::default(),
        })
    }

    /// Opens the unit of work of a citizen: `person` and the records `merged` into it.
    pub async fn person_scope(&self, person: Uuid, merged: &[Uuid]) -> Result<PersonScope, DbErr> {
        let txn = self.begin_bound(None, Some(person)).await?;
        let persons = std::iter::once(person)
            .chain(merged.iter().copied())
            .collect();
        Ok(PersonScope { txn, persons })
    }

    /// Calls a database function that enters the tenant of `ctx` itself (PostgreSQL only):
    /// `SELECT * FROM function(tenant, clock, args…)`, on the pool, in the statement's own
    /// transaction. The function's first act must be `civitas_enter_tenant(tenant, clock)`
    /// (migration 8), which sets `app.tenant_id`, `app.person_id` and `app.now` for that
    /// transaction exactly as [`Db::scope`] does for a scope's, and refuses inside a
    /// transaction already bound to another tenant or a person; the RLS policies then apply
    /// unchanged. One round trip where a scope takes four (BEGIN, `set_config`, the
    /// statement, COMMIT), for a read that needs nothing else, on a pool that does not add a
    /// fifth when the connection goes back (`call_pool`). Its one row, if any.
    pub async fn call_in_tenant(
        &self,
        ctx: &TenantContext,
        function: &'static str,
        args: Vec<Value>,
    ) -> Result<Option<QueryResult>, DbErr> {
        let Some(calls) = self.calls() else {
            return Err(DbErr::BackendNotSupported {
                db: "SQLite",
                ctx: "call_in_tenant",
            });
        };
        // The name is a constant of the caller's; only identifiers are spliced into the text.
        let identifier = |b: u8| b.is_ascii_lowercase() || b == b'_';
        if function.is_empty() || !function.bytes().all(identifier) {
            return Err(DbErr::Custom(format!("not a function name: {function:?}")));
        }
        let values: Vec<Value> = [
            ctx.tenant.id.0.into(),
            self.clock().now().to_rfc3339().into(),
        ]
        .into_iter()
        .chain(args)
        .collect();
        let placeholders: Vec<String> = (1..=values.len()).map(|i| format!("${i}")).collect();
        let sql = format!("SELECT * FROM {function}({})", placeholders.join(", "));
        calls.fetch_optional(&sql, Values(values)).await
    }

    pub(crate) async fn begin_bound(
        &self,
        tenant: Option<Uuid>,
        person: Option<Uuid>,
    ) -> Result<DatabaseTransaction, DbErr> {
        // IMMEDIATE on SQLite: take the write lock up front, so that two writers queue on the
        // busy timeout instead of one failing when it upgrades a read lock.
        let txn = self
            .global()
            .begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..Default::default()
            })
            .await?;
        if self.backend() == Backend::Postgres {
            let text = |u: Option<Uuid>| u.map(|u| u.to_string()).unwrap_or_default();
            txn.execute_raw(Statement::from_sql_and_values(
                txn.get_database_backend(),
                "SELECT set_config('app.tenant_id', $1, true), set_config('app.person_id', $2, true), \
                 set_config('app.now', $3, true)",
                [
                    text(tenant).into(),
                    text(person).into(),
                    self.clock().now().to_rfc3339().into(),
                ],
            ))
            .await?;
        }
        Ok(txn)
    }
}

impl Scope {
    pub fn tenant_id(&self) -> TenantId {
        self.tenant_id
    }

    /// The transaction, to run statements built by the methods below (and reads of global
    /// tables that must see the same snapshot).
    pub fn conn(&self) -> &DatabaseTransaction {
        &self.txn
    }

    /// The tenant's settings: from the access cache when it holds the tenant, else read in
    /// this transaction.
    pub async fn settings(&self) -> Result<serde_json::Value, DbErr> {
        if let Some(t) = self.access.tenant_by_id(self.tenant_id.0).await {
            return Ok(t.settings);
        }
        Ok(crate::entity::tenant::Entity::find_by_id(self.tenant_id.0)
            .one(&self.txn)
            .await?
            .map(|t| t.settings)
            .unwrap_or_default())
    }

    /// Marks the tenant's registry entry or its memberships as changed (see [`crate::AccessCache`]).
    pub(crate) async fn access_changed(&self) -> Result<(), DbErr> {
        self.access.changed(&self.txn).await
    }

    pub fn find<E: TenantOwned>(&self) -> Select<E> {
        E::find().filter(E::tenant_column().eq(self.tenant_id.0))
    }

    /// Rows about `persons` held by this tenant or by `sources`: the read behind the
    /// citizen view. The caller decides `sources` from active consents; on PostgreSQL the
    /// RLS policies check the same consents again.
    pub fn find_shared<E: TenantOwned + PersonOwned>(
        &self,
        persons: &[Uuid],
        sources: &Sources,
    ) -> Select<E> {
        let own = E::tenant_column().eq(self.tenant_id.0);
        let tenants = match sources {
            Sources::Any => Condition::all(),
            Sources::Only(list) => Condition::any()
                .add(own)
                .add(E::tenant_column().is_in(list.iter().map(|t| t.0))),
        };
        E::find()
            .filter(E::person_column().is_in(persons.iter().copied()))
            .filter(tenants)
    }

    pub fn update_many<E: TenantOwned>(&self) -> UpdateMany<E> {
        E::update_many().filter(E::tenant_column().eq(self.tenant_id.0))
    }

    pub fn delete_many<E: TenantOwned>(&self) -> DeleteMany<E> {
        E::delete_many().filter(E::tenant_column().eq(self.tenant_id.0))
    }

    /// Inserts a row, stamping it with this scope's tenant whatever the caller set.
    pub async fn insert<E, A>(&self, mut row: A) -> Result<E::Model, DbErr>
    where
        E: TenantOwned,
        A: ActiveModelTrait<Entity = E> + ActiveModelBehavior + Send,
        E::Model: IntoActiveModel<A>,
    {
        row.set(E::tenant_column(), self.tenant_id.0.into());
        row.insert(&self.txn).await
    }

    /// Sends `payload` on `channel` when the transaction commits, and never if it rolls
    /// back: on PostgreSQL through `NOTIFY` inside the transaction (every replica's listener
    /// hears it), on SQLite by handing it back from [`Scope::commit_notices`] for the one
    /// replica to deliver itself.
    pub async fn notify(&self, channel: &'static str, payload: String) -> Result<(), DbErr> {
        if self.txn.get_database_backend() == sea_orm::DbBackend::Postgres {
            self.txn
                .execute_raw(sea_orm::Statement::from_sql_and_values(
                    sea_orm::DbBackend::Postgres,
                    "SELECT pg_notify($1, $2)",
                    [channel.into(), payload.into()],
                ))
                .await?;
        } else if let Ok(mut n) = self.notices.lock() {
            n.push(Notice { channel, payload });
        }
        Ok(())
    }

    pub async fn commit(self) -> Result<(), DbErr> {
        self.txn.commit().await
    }

    /// Commits, and returns the notices the caller must deliver itself (SQLite's; none on
    /// PostgreSQL, where the database delivered them).
    pub async fn commit_notices(self) -> Result<Vec<Notice>, DbErr> {
        let notices = self
            .notices
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        self.txn.commit().await?;
        Ok(notices)
    }
}

impl PersonScope {
    pub fn person_id(&self) -> Uuid {
        self.persons[0]
    }

    pub fn persons(&self) -> &[Uuid] {
        &self.persons
    }

    pub fn conn(&self) -> &DatabaseTransaction {
        &self.txn
    }

    /// Rows about this person, in every tenant.
    pub fn find<E: PersonOwned>(&self) -> Select<E> {
        E::find().filter(E::person_column().is_in(self.persons.iter().copied()))
    }

    pub async fn commit(self) -> Result<(), DbErr> {
        self.txn.commit().await
    }
}
