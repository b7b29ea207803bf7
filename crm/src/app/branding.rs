//! Use cases of a body's look: its administrators set the logo (the colour is a setting,
//! see `tenants::update_settings`); anyone reads both, as the portal shows them.

use civitas_policies::Permission;
use civitas_tenants::{audit, registry};
use serde_json::json;

use super::{App, Caller};
use crate::branding::{self, Branding, Logo};
use crate::{Error, Result, attachments};

/// Sets the body's logo (a PNG, JPEG or WebP image); the bytes are stored before the
/// settings name them.
pub async fn set_logo(app: &App, caller: &Caller, bytes: Vec<u8>) -> Result<Logo> {
    let tc = caller.authorize(app, Permission::TenantUpdate).await?;
    let logo = branding::check_logo(&bytes)?;
    let key = attachments::key(tc.tenant.id, &logo.sha256);
    app.files.store.put(&key, bytes).await.map_err(|e| {
        tracing::error!(tenant = %tc.tenant.slug, error = %e, "logo not stored");
        Error::Internal(format!("file store: {e}"))
    })?;
    let scope = app.db.scope(tc).await?;
    let current = object(scope.settings().await?);
    registry::set_settings(
        &scope,
        tc.tenant.id,
        branding::with_logo(current, Some(&logo)),
    )
    .await?;
    audit::record(
        &scope,
        &tc.identity(),
        "tenant.logo_set",
        None,
        json!({ "sha256": logo.sha256, "mediaType": logo.media_type }),
    )
    .await?;
    app.commit(scope).await?;
    Ok(logo)
}

/// Removes the body's logo.
pub async fn remove_logo(app: &App, caller: &Caller) -> Result<()> {
    let tc = caller.authorize(app, Permission::TenantUpdate).await?;
    let scope = app.db.scope(tc).await?;
    let current = object(scope.settings().await?);
    registry::set_settings(&scope, tc.tenant.id, branding::with_logo(current, None)).await?;
    audit::record(
        &scope,
        &tc.identity(),
        "tenant.logo_removed",
        None,
        json!({}),
    )
    .await?;
    app.commit(scope).await?;
    Ok(())
}

/// An active body's name and look, for anyone.
pub async fn public(app: &App, body: &str) -> Result<(String, Branding)> {
    let t = app.active_body("body", body).await?;
    Ok((
        t.display_name.clone(),
        Branding::of(&t.settings).unwrap_or_default(),
    ))
}

/// The bytes of an active body's logo, if `sha256` is the one it shows now: only the current
/// logo is public, never another file of the body's store.
pub async fn logo(app: &App, body: &str, sha256: &str) -> Result<(String, Vec<u8>)> {
    let t = app
        .active_body("body", body)
        .await
        .map_err(|_| Error::NotFound("logo"))?;
    let logo = Branding::of(&t.settings)
        .ok()
        .and_then(|b| b.logo)
        .filter(|l| l.sha256 == sha256)
        .ok_or(Error::NotFound("logo"))?;
    let bytes = app
        .files
        .store
        .get(&attachments::key(t.id, &logo.sha256))
        .await
        .map_err(|e| {
            tracing::error!(tenant = %t.slug, error = %e, "logo not read");
            Error::Internal(format!("file store: {e}"))
        })?;
    Ok((logo.media_type, bytes))
}

/// A body's settings as an object (a body onboarded without any has none yet).
fn object(settings: serde_json::Value) -> serde_json::Value {
    if settings.is_object() {
        settings
    } else {
        json!({})
    }
}
