//! The OpenID providers a body accepts: for its operators, its integrators' service
//! accounts, and citizens signing in through it.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder,
};
use uuid::Uuid;

use crate::entity::identity_provider;
use crate::sealed::Keyring;
use crate::{Db, Error, Result, TenantId};

/// How a body's provider is trusted and how its claims map to principals.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderRegistration {
    pub id: Uuid,
    /// `None` for a platform-wide provider from the configuration file.
    pub tenant: Option<TenantId>,
    pub issuer: String,
    /// Accepted `aud` values; a token must carry one of them.
    pub audiences: Vec<String>,
    /// For the browser sign-in (authorization code flow).
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    /// The claim that carries a citizen's fiscal number (SPID: `fiscalNumber`, `TINIT-<cf>`).
    pub fiscal_number_claim: String,
    /// The claim whose values name operator roles.
    pub roles_claim: String,
    /// Client ids whose client-credentials tokens are this body's integrators.
    pub service_clients: Vec<String>,
    /// Whether its tokens may assert a citizen's fiscal code (in `fiscal_number_claim`).
    /// Only a platform administrator marks a provider so (the SPID/CIE broker, CIE OIDC);
    /// any other provider's fiscal code is ignored.
    pub citizen_identities: bool,
}

fn list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Where a registration's client secret is sealed: its own row.
fn secret_context(id: Uuid) -> String {
    format!("identity_providers.client_secret:{id}")
}

/// The registration a row holds, its client secret opened.
fn opened(keyring: &Keyring, m: identity_provider::Model) -> Result<ProviderRegistration> {
    let client_secret = match &m.client_secret {
        Some(s) => Some(keyring.open(&secret_context(m.id), s)?),
        None => None,
    };
    Ok(ProviderRegistration {
        id: m.id,
        tenant: Some(TenantId(m.owner_tenant_id)),
        issuer: m.issuer,
        audiences: list(&m.audiences),
        client_id: m.client_id,
        client_secret,
        fiscal_number_claim: m.fiscal_number_claim,
        roles_claim: m.roles_claim,
        service_clients: list(&m.service_clients),
        citizen_identities: m.citizen_identities,
    })
}

fn all_opened(
    keyring: &Keyring,
    rows: Vec<identity_provider::Model>,
) -> Result<Vec<ProviderRegistration>> {
    rows.into_iter().map(|m| opened(keyring, m)).collect()
}

fn validate(r: &ProviderRegistration) -> Result<()> {
    let url_ok = (r.issuer.starts_with("https://") || r.issuer.starts_with("http://"))
        && r.issuer.len() <= 500
        && !r.issuer.contains(char::is_whitespace);
    if !url_ok {
        return Err(Error::Validation("issuer must be an http(s) URL".into()));
    }
    if r.audiences.is_empty() || r.audiences.iter().any(|a| a.contains(',') || a.len() > 200) {
        return Err(Error::Validation(
            "audiences must name at least one audience".into(),
        ));
    }
    if r.client_secret.is_some() && r.client_id.is_none() {
        return Err(Error::Validation(
            "a client secret needs a client id".into(),
        ));
    }
    for (field, v) in [
        ("fiscalNumberClaim", &r.fiscal_number_claim),
        ("rolesClaim", &r.roles_claim),
    ] {
        if v.is_empty() || v.len() > 100 {
            return Err(Error::Validation(format!(
                "{field} must be 1 to 100 characters"
            )));
        }
    }
    Ok(())
}

/// Registers a provider for `tenant`. An issuer already registered by another body, or one
/// in `reserved` (the platform-wide and development issuers), is a CONFLICT unless `shared`
/// (a platform administrator's call): one body cannot squat another's issuer.
pub async fn register(
    db: &Db,
    tenant: TenantId,
    r: ProviderRegistration,
    reserved: &[String],
    shared: bool,
    policy: &dyn crate::UrlPolicy,
) -> Result<ProviderRegistration> {
    validate(&r)?;
    if let Some(why) = policy.refuses(&r.issuer) {
        return Err(Error::Validation(format!("issuer: {why}")));
    }
    let issuer = r.issuer.trim_end_matches('/').to_owned();
    // Read then write: on SQLite the write lock is taken up front (begin_bound), so that
    // another writer makes this wait rather than fail.
    let txn = db.begin_bound(None, None).await?;
    if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
        // Two bodies registering the same issuer at once: the second waits and sees the first.
        txn.execute_raw(sea_orm::Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock(hashtext('civitas_issuer:' || $1))",
            [issuer.clone().into()],
        ))
        .await?;
    }
    let others = identity_provider::Entity::find()
        .filter(identity_provider::Column::Issuer.eq(issuer.as_str()))
        .filter(identity_provider::Column::OwnerTenantId.ne(tenant.0))
        .count(&txn)
        .await?;
    let is_reserved = reserved
        .iter()
        .any(|x| x.trim_end_matches('/') == issuer.as_str());
    if (others > 0 || is_reserved) && !shared {
        return Err(Error::Conflict(
            "this issuer is registered for another body or the platform; a platform administrator may share it".into(),
        ));
    }
    let id = Uuid::now_v7();
    let client_secret = r
        .client_secret
        .map(|s| db.keyring().seal(&secret_context(id), &s));
    let row = identity_provider::ActiveModel {
        id: Set(id),
        owner_tenant_id: Set(tenant.0),
        issuer: Set(issuer),
        audiences: Set(r.audiences.join(",")),
        client_id: Set(r.client_id),
        client_secret: Set(client_secret),
        fiscal_number_claim: Set(r.fiscal_number_claim),
        roles_claim: Set(r.roles_claim),
        service_clients: Set(r.service_clients.join(",")),
        citizen_identities: Set(false),
        created_at: Set(Utc::now()),
    };
    let m = identity_provider::Entity::insert(row)
        .exec_with_returning(&txn)
        .await
        .map_err(|e| Error::conflict_on_unique(e, "this body already registered that issuer"))?;
    // Tokens verified under the old set of registrations are verified again.
    db.access().changed(&txn).await?;
    txn.commit().await?;
    opened(db.keyring(), m)
}

/// Marks a registration as one whose tokens may assert citizens' fiscal codes, or not
/// (platform administrators only: the caller checks).
pub async fn set_citizen_identities(
    db: &Db,
    id: Uuid,
    trusted: bool,
) -> Result<ProviderRegistration> {
    let found = identity_provider::Entity::find_by_id(id)
        .one(db.global())
        .await?
        .ok_or(Error::NotFound("identity provider"))?;
    let mut row: identity_provider::ActiveModel = found.into();
    row.citizen_identities = Set(trusted);
    let m = row.update(db.global()).await?;
    db.access().changed(db.global()).await?;
    opened(db.keyring(), m)
}

/// A body's registrations (its administrators' view).
pub async fn of_tenant(db: &Db, tenant: TenantId) -> Result<Vec<ProviderRegistration>> {
    let rows = identity_provider::Entity::find()
        .filter(identity_provider::Column::OwnerTenantId.eq(tenant.0))
        .order_by_asc(identity_provider::Column::CreatedAt)
        .all(db.global())
        .await?;
    all_opened(db.keyring(), rows)
}

/// Every registration of an issuer, whichever body made it (token validation).
pub async fn by_issuer(db: &Db, issuer: &str) -> Result<Vec<ProviderRegistration>> {
    let rows = identity_provider::Entity::find()
        .filter(identity_provider::Column::Issuer.eq(issuer.trim_end_matches('/')))
        .all(db.global())
        .await?;
    all_opened(db.keyring(), rows)
}

pub async fn find(db: &Db, id: Uuid) -> Result<Option<ProviderRegistration>> {
    identity_provider::Entity::find_by_id(id)
        .one(db.global())
        .await?
        .map(|m| opened(db.keyring(), m))
        .transpose()
}

/// Seals every client secret that is not sealed under the keyring's current key (stored
/// before sealing existed, or under a key since rotated); how many were sealed again.
pub async fn rewrap_secrets(db: &Db) -> Result<u64> {
    let rows = identity_provider::Entity::find()
        .filter(identity_provider::Column::ClientSecret.is_not_null())
        .all(db.global())
        .await?;
    let mut done = 0;
    for m in rows {
        let Some(stored) = m.client_secret.as_deref() else {
            continue;
        };
        if let Some(sealed) = db.keyring().rewrap(&secret_context(m.id), stored)? {
            identity_provider::Entity::update_many()
                .col_expr(
                    identity_provider::Column::ClientSecret,
                    sea_orm::sea_query::Expr::value(sealed),
                )
                .filter(identity_provider::Column::Id.eq(m.id))
                .filter(identity_provider::Column::ClientSecret.eq(stored))
                .exec(db.global())
                .await?;
            done += 1;
        }
    }
    Ok(done)
}

/// Removes one of the body's registrations; another body's is NOT_FOUND.
pub async fn remove(db: &Db, tenant: TenantId, id: Uuid) -> Result<()> {
    let res = identity_provider::Entity::delete_many()
        .filter(identity_provider::Column::Id.eq(id))
        .filter(identity_provider::Column::OwnerTenantId.eq(tenant.0))
        .exec(db.global())
        .await?;
    if res.rows_affected == 0 {
        return Err(Error::NotFound("identity provider"));
    }
    // Its tokens are refused from the next request, here and on every replica.
    db.access().changed(db.global()).await?;
    Ok(())
}
