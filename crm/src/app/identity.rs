//! Use cases of the identity providers a body accepts tokens from.

use civitas_policies::Permission;
use civitas_tenants::audit;
use civitas_tenants::identity_providers::{self, ProviderRegistration};
use serde_json::json;
use uuid::Uuid;

use super::{App, Caller};
use crate::Result;

pub async fn list(app: &App, caller: &Caller) -> Result<Vec<ProviderRegistration>> {
    let tc = caller.authorize(app, Permission::TenantUpdate).await?;
    Ok(identity_providers::of_tenant(&app.db, tc.tenant.id).await?)
}

/// Accepts tokens from an OpenID provider for the caller's body. An issuer another body
/// registered is a CONFLICT unless a platform administrator shares it; citizens' fiscal
/// codes count only once a platform administrator trusts the provider for citizens.
pub async fn register(
    app: &App,
    caller: &Caller,
    reg: ProviderRegistration,
) -> Result<ProviderRegistration> {
    let tc = caller.authorize(app, Permission::TenantUpdate).await?;
    let reg = ProviderRegistration {
        id: Uuid::nil(),
        tenant: Some(tc.tenant.id),
        citizen_identities: false,
        ..reg
    };
    let shared = tc.principal.is_platform_admin();
    let saved = identity_providers::register(
        &app.db,
        tc.tenant.id,
        reg,
        &app.reserved_issuers,
        shared,
        &*app.outbound,
    )
    .await?;
    let scope = app.db.scope(tc).await?;
    audit::record(
        &scope,
        &tc.identity(),
        "identity_provider.registered",
        Some(&saved.issuer),
        json!({ "id": saved.id, "shared": shared }),
    )
    .await?;
    app.commit(scope).await?;
    Ok(saved)
}

/// Lets a provider's tokens assert citizens' fiscal codes, or stops them (platform
/// administrators).
pub async fn set_citizen_trust(
    app: &App,
    caller: &Caller,
    id: Uuid,
    trusted: bool,
) -> Result<ProviderRegistration> {
    let p = caller
        .authorize_platform(app, Permission::IdentityProviderTrust)
        .await?;
    let reg = identity_providers::set_citizen_identities(&app.db, id, trusted).await?;
    tracing::warn!(issuer = %reg.issuer, trusted, by = %p.subject, by_issuer = %p.issuer,
        "citizen identity trust of a provider changed");
    Ok(reg)
}

/// Stops accepting a provider's tokens, from the next request.
pub async fn remove(app: &App, caller: &Caller, id: Uuid) -> Result<()> {
    let tc = caller.authorize(app, Permission::TenantUpdate).await?;
    identity_providers::remove(&app.db, tc.tenant.id, id).await?;
    let scope = app.db.scope(tc).await?;
    audit::record(
        &scope,
        &tc.identity(),
        "identity_provider.removed",
        Some(&id.to_string()),
        json!({}),
    )
    .await?;
    app.commit(scope).await
}
