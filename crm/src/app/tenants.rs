//! Use cases of the bodies themselves: onboarding, listing, status and settings.

use std::borrow::Cow;

use civitas_policies::Permission;
use civitas_tenants::members::MemberProfile;
use civitas_tenants::registry::{self, NewTenant};
use civitas_tenants::{Identity, Role, Tenant, TenantSlug, TenantStatus, audit};
use serde_json::{Value, json};

use super::{App, Caller};
use crate::onboarding::{self, FirstAdmin, Onboarded};
use crate::{Error, Result};

/// Every body of the deployment (platform administrators).
pub async fn list(app: &App, caller: &Caller) -> Result<Vec<Tenant>> {
    caller
        .authorize_platform(app, Permission::TenantsList)
        .await?;
    Ok(registry::list(&app.db).await?)
}

/// One body by slug: any, for platform administrators; otherwise only the body the caller
/// acts in.
pub async fn get(app: &App, caller: &Caller, slug: &TenantSlug) -> Result<Tenant> {
    if caller
        .authorize_platform(app, Permission::TenantsRead)
        .await
        .is_ok()
    {
        return registry::find_by_slug(&app.db, slug)
            .await?
            .ok_or(Error::NotFound("tenant"));
    }
    let tc = caller.authorize(app, Permission::TenantRead).await?;
    if tc.tenant.slug != *slug {
        return Err(Error::forbidden());
    }
    Ok(tc.tenant.clone())
}

pub struct Onboard {
    pub tenant: NewTenant,
    /// The first administrator; their issuer by default the onboarding administrator's.
    pub admin_issuer: Option<String>,
    pub admin_subject: String,
    pub admin_profile: MemberProfile,
}

/// Creates a body with its default roles and policies and its first administrator, all
/// or nothing (platform administrators).
pub async fn onboard(app: &App, caller: &Caller, input: Onboard) -> Result<Onboarded> {
    let p = caller
        .authorize_platform(app, Permission::TenantOnboard)
        .await?;
    let admin = FirstAdmin {
        identity: Identity::new(
            input.admin_issuer.unwrap_or_else(|| p.issuer.clone()),
            input.admin_subject,
        ),
        profile: input.admin_profile,
    };
    let done =
        onboarding::onboard(&app.db, &app.authorizer, &p.identity(), input.tenant, admin).await?;
    tracing::info!(tenant = %done.tenant.slug, "tenant onboarded");
    Ok(done)
}

/// Suspends or reactivates a body (platform administrators). A suspended body's calls are
/// refused with TENANT_SUSPENDED; its data is kept.
pub async fn set_status(
    app: &App,
    caller: &Caller,
    slug: &TenantSlug,
    status: TenantStatus,
) -> Result<Tenant> {
    let p = caller
        .authorize_platform(app, Permission::TenantSuspend)
        .await?;
    let t = registry::set_status(&app.db, slug, status).await?;
    tracing::info!(tenant = %slug, status = %t.status, by = %p.subject, "tenant status changed");
    Ok(t)
}

/// Replaces the settings of the caller's body (a JSON object). Rate limits live in the
/// settings but are the platform's to set: a body's administrators keep whatever limits
/// their body has, and are told so when they try to change them.
pub async fn update_settings(app: &App, caller: &Caller, mut settings: Value) -> Result<Tenant> {
    let tc = caller.authorize(app, Permission::TenantUpdate).await?;
    if !tc.has_role(Role::PlatformAdmin)
        && let Some(obj) = settings.as_object_mut()
    {
        let current = tc.tenant.settings.get("limits");
        if obj.get("limits").is_some() && obj.get("limits") != current {
            return Err(Error::Forbidden(Cow::Borrowed(
                "a body's rate limits are set by a platform administrator",
            )));
        }
        match current {
            Some(l) => obj.insert("limits".into(), l.clone()),
            None => obj.remove("limits"),
        };
    }
    // The logo is set by its own use case, which checks and stores the file: a digest
    // written here could make any file of the body's store public.
    let logo = crate::branding::Branding::of(&tc.tenant.settings)
        .ok()
        .and_then(|b| b.logo);
    let settings = crate::branding::with_logo(settings, logo.as_ref());
    crate::branding::Branding::of(&settings)?;
    let notifications = crate::notify::NotificationSettings::of(&settings)?;
    for (field, url) in notifications.gateway_urls() {
        if let Some(why) = app.outbound.refuses(url) {
            return Err(Error::Validation(format!("notifications.{field}: {why}")));
        }
    }
    notifications.check_secrets(tc.tenant.slug.as_str())?;
    crate::attachments::AttachmentSettings::of(&settings, app.files.ceiling)?;
    let scope = app.db.scope(tc).await?;
    let t = registry::set_settings(&scope, tc.tenant.id, settings).await?;
    audit::record(
        &scope,
        &tc.identity(),
        "tenant.settings_updated",
        None,
        json!({}),
    )
    .await?;
    app.commit(scope).await?;
    Ok(t)
}
