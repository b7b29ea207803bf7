//! Browser sessions: an opaque random token in an HTTP-only cookie; the database keeps
//! only its SHA-256, with the principal and the expiry.

use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use civitas_tenants::{Db, Principal};
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, QueryFilter};

/// The portal reads the same cookie: one name for both.
pub const COOKIE: &str = civitas_web::SESSION_COOKIE;
pub const TTL_HOURS: i64 = 8;

pub mod entity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "sessions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id_hash: String,
        #[sea_orm(column_type = "JsonBinary")]
        pub principal: Json,
        pub created_at: DateTimeUtc,
        pub expires_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub use civitas_web::{cookie, random_token};

fn hash(token: &str) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(d.as_ref())
}

/// Starts a session; returns the token to put in the cookie.
pub async fn create(db: &Db, principal: &Principal) -> Result<(String, DateTime<Utc>), DbErr> {
    let token = random_token();
    let now = db.clock().now();
    let expires = now + Duration::hours(TTL_HOURS);
    let row = entity::ActiveModel {
        id_hash: Set(hash(&token)),
        principal: Set(serde_json::to_value(principal).map_err(|e| DbErr::Custom(e.to_string()))?),
        created_at: Set(now),
        expires_at: Set(expires),
    };
    entity::Entity::insert(row)
        .exec_without_returning(db.global())
        .await?;
    Ok((token, expires))
}

/// The principal of a live session, and when it ends; an expired one is removed.
pub async fn principal(db: &Db, token: &str) -> Result<Option<(Principal, DateTime<Utc>)>, DbErr> {
    let Some(row) = entity::Entity::find_by_id(hash(token))
        .one(db.global())
        .await?
    else {
        return Ok(None);
    };
    if row.expires_at <= db.clock().now() {
        end(db, token).await?;
        return Ok(None);
    }
    Ok(serde_json::from_value(row.principal)
        .ok()
        .map(|p| (p, row.expires_at)))
}

pub async fn end(db: &Db, token: &str) -> Result<(), DbErr> {
    entity::Entity::delete_many()
        .filter(entity::Column::IdHash.eq(hash(token)))
        .exec(db.global())
        .await?;
    Ok(())
}
