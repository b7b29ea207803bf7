//! Use cases of a body's webhooks, managed by its administrators.

use civitas_policies::Permission;
use civitas_tenants::audit;
use serde_json::json;
use uuid::Uuid;

use super::{App, Caller, Page};
use crate::Result;
use crate::entity::webhook_delivery;
use crate::webhooks::{self, Webhook};

pub async fn list(app: &App, caller: &Caller) -> Result<Vec<Webhook>> {
    let tc = caller.authorize(app, Permission::TenantUpdate).await?;
    let scope = app.db.scope(tc).await?;
    let found = webhooks::list(&scope).await?;
    app.commit(scope).await?;
    Ok(found)
}

/// The delivery log, newest first: a page, and whether more follow.
pub async fn deliveries(
    app: &App,
    caller: &Caller,
    page: Page<Uuid>,
) -> Result<(Vec<webhook_delivery::Model>, bool)> {
    let tc = caller.authorize(app, Permission::TenantUpdate).await?;
    let scope = app.db.scope(tc).await?;
    let found = webhooks::deliveries(&scope, page.first, page.after).await?;
    app.commit(scope).await?;
    Ok(found)
}

/// Subscribes a URL (checked against the outbound guard's rules) to event types; returns
/// the webhook and its signing secret, shown this once.
pub async fn create(
    app: &App,
    caller: &Caller,
    url: &str,
    event_types: &[String],
) -> Result<(Webhook, String)> {
    let tc = caller.authorize(app, Permission::TenantUpdate).await?;
    let scope = app.db.scope(tc).await?;
    let secret = webhooks::new_secret();
    let (w, secret) = webhooks::subscribe(
        &scope,
        app.db.keyring(),
        url,
        event_types,
        secret,
        app.now(),
        &*app.outbound,
    )
    .await?;
    audit::record(
        &scope,
        &tc.identity(),
        "webhook.created",
        Some(&w.url),
        json!({ "id": w.id }),
    )
    .await?;
    app.commit(scope).await?;
    Ok((w, secret))
}

pub async fn remove(app: &App, caller: &Caller, id: Uuid) -> Result<()> {
    let tc = caller.authorize(app, Permission::TenantUpdate).await?;
    let scope = app.db.scope(tc).await?;
    webhooks::deactivate(&scope, id).await?;
    audit::record(
        &scope,
        &tc.identity(),
        "webhook.removed",
        Some(&id.to_string()),
        json!({}),
    )
    .await?;
    app.commit(scope).await
}
