//! Idempotency keys: a client that retries a mutation with the same `Idempotency-Key`
//! header gets the first response again instead of a second execution.

use base64::Engine;
use civitas_graphql::Grant;
use civitas_tenants::{Db, TenantContext};
use sea_orm::{ActiveValue::Set, ColumnTrait, QueryFilter};
use serde_json::Value;

pub const HEADER: &str = "idempotency-key";

pub mod entity {
    use sea_orm::entity::prelude::*;

    /// A key belongs to one caller in one tenant: (tenant, issuer, subject, key).
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "idempotency_keys")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub issuer: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub subject: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub key: String,
        pub request_hash: String,
        /// Null while the request runs.
        #[sea_orm(column_type = "JsonBinary")]
        pub response: Json,
        /// The permissions the request was granted ([`civitas_graphql::Grant`]).
        #[sea_orm(column_type = "JsonBinary")]
        pub checks: Json,
        /// When the request was claimed (or its answer stored).
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}

    impl civitas_tenants::TenantOwned for Entity {
        fn tenant_column() -> Column {
            Column::TenantId
        }
    }
}

/// How long a claim whose request never finished (the replica died, the database went
/// away mid-request) holds its key before a retry may run: longer than any request runs.
pub const LEASE: chrono::Duration = chrono::Duration::seconds(60);

/// What to do with a request that carries a key.
pub enum Claim {
    /// First time: run it, then [`complete`] or [`release`].
    Run,
    /// Done before with the same request: answer this, once the caller is found to hold
    /// these permissions still.
    Replay(Value, Vec<Grant>),
    /// Running right now (a concurrent retry).
    InProgress,
    /// The key was used for a different request.
    Mismatch,
}

pub fn hash(body: &[u8]) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, body);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(d.as_ref())
}

pub fn valid_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= 200 && key.bytes().all(|b| b.is_ascii_graphic())
}

fn mine(
    scope: &civitas_tenants::Scope,
    ctx: &TenantContext,
    key: &str,
) -> sea_orm::Select<entity::Entity> {
    scope.find::<entity::Entity>().filter(mine_cond(ctx, key))
}

fn mine_cond(ctx: &TenantContext, key: &str) -> sea_orm::Condition {
    sea_orm::Condition::all()
        .add(entity::Column::Issuer.eq(ctx.principal.issuer.as_str()))
        .add(entity::Column::Subject.eq(ctx.principal.subject.as_str()))
        .add(entity::Column::Key.eq(key))
}

/// Records the key as in progress, or reports what it already stands for. The claim is
/// committed at once, so that a concurrent retry sees it. A claim older than [`LEASE`]
/// whose request never finished is taken over.
pub async fn claim(
    db: &Db,
    ctx: &TenantContext,
    key: &str,
    request_hash: &str,
) -> Result<Claim, sea_orm::DbErr> {
    let scope = db.scope(ctx).await?;
    let now = db.clock().now();
    let existing = mine(&scope, ctx, key).one(scope.conn()).await?;
    let claim = match existing {
        Some(e) if e.request_hash != request_hash => Claim::Mismatch,
        Some(e) if e.response.is_null() && now - e.created_at < LEASE => Claim::InProgress,
        Some(e) if e.response.is_null() => {
            // Only one retry takes an expired claim over: the one whose update still sees
            // the old claim time.
            let taken = scope
                .update_many::<entity::Entity>()
                .set(entity::ActiveModel {
                    created_at: Set(now),
                    ..Default::default()
                })
                .filter(mine_cond(ctx, key))
                .filter(entity::Column::CreatedAt.eq(e.created_at))
                .exec(scope.conn())
                .await?;
            if taken.rows_affected == 1 {
                tracing::warn!(
                    key,
                    "idempotency key of an unfinished request released after its lease"
                );
                Claim::Run
            } else {
                Claim::InProgress
            }
        }
        Some(e) => Claim::Replay(
            e.response,
            serde_json::from_value(e.checks).unwrap_or_default(),
        ),
        None => {
            let row = entity::ActiveModel {
                issuer: Set(ctx.principal.issuer.clone()),
                subject: Set(ctx.principal.subject.clone()),
                key: Set(key.to_owned()),
                request_hash: Set(request_hash.to_owned()),
                response: Set(Value::Null),
                checks: Set(Value::Array(vec![])),
                created_at: Set(now),
                ..Default::default()
            };
            match scope.insert(row).await {
                Ok(_) => Claim::Run,
                // Another replica claimed it between our read and our insert.
                Err(e) if e.sql_err().is_some() => Claim::InProgress,
                Err(e) => return Err(e),
            }
        }
    };
    scope.commit().await?;
    Ok(claim)
}

/// Stores the response of a request that ran to completion, with the permissions it used.
pub async fn complete(
    db: &Db,
    ctx: &TenantContext,
    key: &str,
    response: Value,
    checks: &[Grant],
) -> Result<(), sea_orm::DbErr> {
    let checks = serde_json::to_value(checks).map_err(|e| sea_orm::DbErr::Custom(e.to_string()))?;
    let scope = db.scope(ctx).await?;
    scope
        .update_many::<entity::Entity>()
        .set(entity::ActiveModel {
            response: Set(response),
            checks: Set(checks),
            created_at: Set(db.clock().now()),
            ..Default::default()
        })
        .filter(mine_cond(ctx, key))
        .exec(scope.conn())
        .await?;
    scope.commit().await
}

/// Forgets a claim whose request failed, so that the client may retry it.
pub async fn release(db: &Db, ctx: &TenantContext, key: &str) -> Result<(), sea_orm::DbErr> {
    let scope = db.scope(ctx).await?;
    scope
        .delete_many::<entity::Entity>()
        .filter(mine_cond(ctx, key))
        .exec(scope.conn())
        .await?;
    scope.commit().await
}

/// Releases a claim if the request holding it ends without [`Held::finish`]: the client
/// went away mid-request and the handler was dropped, or it panicked.
pub struct Held {
    db: Db,
    ctx: TenantContext,
    key: String,
    done: bool,
}

impl Held {
    pub fn new(db: &Db, ctx: &TenantContext, key: &str) -> Self {
        Held {
            db: db.clone(),
            ctx: ctx.clone(),
            key: key.to_owned(),
            done: false,
        }
    }

    /// Stores the answer of a success, or releases the key of a failure. When the database
    /// cannot be reached to do either, the claim's lease ends it.
    pub async fn finish(mut self, success: Option<(Value, Vec<Grant>)>) {
        self.done = true;
        let stored = match success {
            Some((v, checks)) => complete(&self.db, &self.ctx, &self.key, v, &checks).await,
            None => release(&self.db, &self.ctx, &self.key).await,
        };
        if let Err(e) = stored {
            tracing::error!(error = %e, "recording an idempotency key; its lease will release it");
            let _ = release(&self.db, &self.ctx, &self.key).await;
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let (db, ctx, key) = (
            self.db.clone(),
            self.ctx.clone(),
            std::mem::take(&mut self.key),
        );
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                if let Err(e) = release(&db, &ctx, &key).await {
                    tracing::warn!(error = %e, "releasing the idempotency key of an abandoned request");
                }
            });
        }
    }
}
