//! Idempotency keys: a client that retries a mutation with the same `Idempotency-Key`
//! header gets the first response again instead of a second execution.

use base64::Engine;
use civitas_tenants::{Db, TenantContext};
use sea_orm::{ActiveValue::Set, ColumnTrait, QueryFilter};
use serde_json::Value;

pub const HEADER: &str = "idempotency-key";

pub mod entity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "idempotency_keys")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub key: String,
        pub request_hash: String,
        #[sea_orm(column_type = "JsonBinary")]
        pub response: Json,
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

/// What to do with a request that carries a key.
pub enum Claim {
    /// First time: run it, then [`complete`] or [`release`].
    Run,
    /// Done before with the same request: answer this.
    Replay(Value),
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

/// Records the key as in progress, or reports what it already stands for. The claim is
/// committed at once, so that a concurrent retry sees it.
pub async fn claim(
    db: &Db,
    ctx: &TenantContext,
    key: &str,
    request_hash: &str,
) -> Result<Claim, sea_orm::DbErr> {
    let scope = db.scope(ctx).await?;
    let existing = scope
        .find::<entity::Entity>()
        .filter(entity::Column::Key.eq(key))
        .one(scope.conn())
        .await?;
    let claim = match existing {
        Some(e) if e.request_hash != request_hash => Claim::Mismatch,
        Some(e) if e.response.is_null() => Claim::InProgress,
        Some(e) => Claim::Replay(e.response),
        None => {
            let row = entity::ActiveModel {
                key: Set(key.to_owned()),
                request_hash: Set(request_hash.to_owned()),
                response: Set(Value::Null),
                created_at: Set(db.clock().now()),
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

/// Stores the response of a request that ran to completion.
pub async fn complete(
    db: &Db,
    ctx: &TenantContext,
    key: &str,
    response: Value,
) -> Result<(), sea_orm::DbErr> {
    let scope = db.scope(ctx).await?;
    scope
        .update_many::<entity::Entity>()
        .set(entity::ActiveModel {
            response: Set(response),
            ..Default::default()
        })
        .filter(entity::Column::Key.eq(key))
        .exec(scope.conn())
        .await?;
    scope.commit().await
}

/// Forgets a claim whose request failed, so that the client may retry it.
pub async fn release(db: &Db, ctx: &TenantContext, key: &str) -> Result<(), sea_orm::DbErr> {
    let scope = db.scope(ctx).await?;
    scope
        .delete_many::<entity::Entity>()
        .filter(entity::Column::Key.eq(key))
        .exec(scope.conn())
        .await?;
    scope.commit().await
}
