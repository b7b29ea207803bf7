//! The scoped unit of work: one transaction bound to one tenant.

use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction,
    DbErr, DeleteMany, EntityTrait, IntoActiveModel, QueryFilter, Select, SqliteTransactionMode,
    Statement, TransactionOptions, TransactionTrait, UpdateMany,
};

use crate::{Backend, Db, TenantContext, TenantId};

/// An entity whose rows belong to one tenant.
pub trait TenantOwned: EntityTrait {
    fn tenant_column() -> Self::Column;
}

/// A transaction in which the current tenant is fixed. On PostgreSQL it carries
/// `app.tenant_id` for the RLS policies; on both backends the query builders below add the
/// `tenant_id` filter themselves.
pub struct Scope {
    txn: DatabaseTransaction,
    tenant_id: TenantId,
}

impl Db {
    /// Opens the unit of work for the tenant of `ctx`.
    pub async fn scope(&self, ctx: &TenantContext) -> Result<Scope, DbErr> {
        self.scope_for(ctx.tenant.id).await
    }

    pub(crate) async fn scope_for(&self, tenant_id: TenantId) -> Result<Scope, DbErr> {
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
            txn.execute_raw(Statement::from_sql_and_values(
                txn.get_database_backend(),
                "SELECT set_config('app.tenant_id', $1, true)",
                [tenant_id.0.to_string().into()],
            ))
            .await?;
        }
        Ok(Scope { txn, tenant_id })
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

    pub fn find<E: TenantOwned>(&self) -> Select<E> {
        E::find().filter(E::tenant_column().eq(self.tenant_id.0))
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

    pub async fn commit(self) -> Result<(), DbErr> {
        self.txn.commit().await
    }
}
