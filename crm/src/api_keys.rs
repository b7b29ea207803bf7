//! A body's Open311 keys. The secret is shown once, when issued; only its SHA-256 is kept,
//! so a copy of the database lets no one report in a body's name.

use base64::Engine;
use chrono::{DateTime, Utc};
use civitas_tenants::Scope;
use ring::rand::SecureRandom;
use sea_orm::{ActiveValue::Set, ColumnTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::entity::api_key;
use crate::{Error, Result};

pub use api_key::Model as ApiKey;

const PREFIX: &str = "c311_";

/// What is kept of a secret.
pub fn digest(secret: &str) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, secret.as_bytes());
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Issues a key named `name`; returns it with its secret.
pub async fn issue(
    scope: &Scope,
    name: &str,
    by: &str,
    now: DateTime<Utc>,
) -> Result<(ApiKey, String)> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Error::Validation("name must be 1 to 100 characters".into()));
    }
    let mut bytes = [0u8; 32];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| Error::Internal("no randomness for a key".into()))?;
    let secret = format!(
        "{PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    );
    Ok((store(scope, name, &secret, by, now).await?, secret))
}

/// Keeps a key whose secret the caller chose (the benchmark's data set); a secret must
/// start with `c311_`.
pub async fn store(
    scope: &Scope,
    name: &str,
    secret: &str,
    by: &str,
    now: DateTime<Utc>,
) -> Result<ApiKey> {
    if !secret.starts_with(PREFIX) {
        return Err(Error::Validation(format!(
            "a key's secret starts with {PREFIX}"
        )));
    }
    let row = api_key::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(name.to_owned()),
        secret_hash: Set(digest(secret)),
        created_by: Set(by.to_owned()),
        created_at: Set(now),
        revoked_at: Set(None),
        ..Default::default()
    };
    scope.insert(row).await.map_err(|e| {
        Error::conflict_on_unique(e, format!("the body already has a key named {name}"))
    })
}

pub async fn revoke(scope: &Scope, id: Uuid, now: DateTime<Utc>) -> Result<ApiKey> {
    let found = scope
        .find::<api_key::Entity>()
        .filter(api_key::Column::Id.eq(id))
        .one(scope.conn())
        .await?
        .ok_or(Error::NotFound("api key"))?;
    if found.revoked_at.is_some() {
        return Ok(found);
    }
    scope
        .update_many::<api_key::Entity>()
        .col_expr(api_key::Column::RevokedAt, now.into())
        .filter(api_key::Column::Id.eq(id))
        .exec(scope.conn())
        .await?;
    Ok(ApiKey {
        revoked_at: Some(now),
        ..found
    })
}

pub async fn list(scope: &Scope) -> Result<Vec<ApiKey>> {
    Ok(scope
        .find::<api_key::Entity>()
        .order_by_asc(api_key::Column::Name)
        .all(scope.conn())
        .await?)
}

/// The body's live key whose secret is `secret`.
pub async fn find(scope: &Scope, secret: &str) -> Result<Option<ApiKey>> {
    if !secret.starts_with(PREFIX) || secret.len() > 100 {
        return Ok(None);
    }
    Ok(scope
        .find::<api_key::Entity>()
        .filter(api_key::Column::SecretHash.eq(digest(secret)))
        .filter(api_key::Column::RevokedAt.is_null())
        .one(scope.conn())
        .await?)
}
