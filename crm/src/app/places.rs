//! Use cases of a body's geography and Open311 set-up: its areas of competence, its
//! routing rules (for a parent body) and its Open311 keys. Administrators change them;
//! every change is in the audit log.

use civitas_policies::Permission;
use civitas_tenants::{Tenant, TenantSlug, audit, registry};
use serde_json::json;
use uuid::Uuid;

use super::{App, Caller};
use crate::api_keys::{self, ApiKey};
use crate::areas::{self, Area, NewArea};
use crate::routing_rules::{self, RoutingRule};
use crate::{Error, Result};

/// The body's areas (operators and integrators read them; the geometry comes too).
pub async fn areas(app: &App, caller: &Caller) -> Result<Vec<Area>> {
    let tc = caller.authorize(app, Permission::ServiceAreaRead).await?;
    let scope = app.db.scope(tc).await?;
    let found = areas::list(&scope).await?;
    app.commit(scope).await?;
    Ok(found)
}

/// Adds an area of competence: a GeoJSON Polygon or MultiPolygon, checked.
pub async fn define_area(app: &App, caller: &Caller, new: NewArea) -> Result<Area> {
    let tc = caller.authorize(app, Permission::ServiceAreaManage).await?;
    let scope = app.db.scope(tc).await?;
    let by = tc.identity();
    let a = areas::define(&scope, new, &by.stored(), app.now()).await?;
    audit::record(
        &scope,
        &by,
        "service_area.defined",
        Some(&a.id.to_string()),
        json!({ "name": a.name, "vertices": a.vertices }),
    )
    .await?;
    app.commit(scope).await?;
    Ok(a)
}

pub async fn remove_area(app: &App, caller: &Caller, id: Uuid) -> Result<Area> {
    let tc = caller.authorize(app, Permission::ServiceAreaManage).await?;
    let scope = app.db.scope(tc).await?;
    let a = areas::remove(&scope, id).await?;
    audit::record(
        &scope,
        &tc.identity(),
        "service_area.removed",
        Some(&id.to_string()),
        json!({ "name": a.name }),
    )
    .await?;
    app.commit(scope).await?;
    Ok(a)
}

/// The body's routing rules, each with the body it names.
pub async fn routing_rules(app: &App, caller: &Caller) -> Result<Vec<(RoutingRule, Tenant)>> {
    let tc = caller.authorize(app, Permission::RoutingRuleRead).await?;
    let scope = app.db.scope(tc).await?;
    let rules = routing_rules::list(&scope).await?;
    app.commit(scope).await?;
    let ids: Vec<_> = rules
        .iter()
        .map(|r| civitas_tenants::TenantId(r.target_tenant_id))
        .collect();
    let bodies = registry::cached_by_ids(&app.db, &ids).await?;
    Ok(rules
        .into_iter()
        .filter_map(|r| {
            let t = bodies
                .iter()
                .find(|t| t.id.0 == r.target_tenant_id)?
                .clone();
            Some((r, t))
        })
        .collect())
}

/// Sends reports of `service_code` that neither a body under this one nor this body
/// takes to the body `target` (a partecipata, usually).
pub async fn add_routing_rule(
    app: &App,
    caller: &Caller,
    service_code: &str,
    target: &str,
    position: i32,
) -> Result<(RoutingRule, Tenant)> {
    let tc = caller.authorize(app, Permission::RoutingRuleManage).await?;
    let slug = TenantSlug::parse(target)?;
    let body = registry::cached_by_slug(&app.db, &slug)
        .await?
        .ok_or_else(|| Error::Validation(format!("bodySlug: there is no body {slug}")))?;
    if body.id == tc.tenant.id {
        return Err(Error::Validation(
            "bodySlug: a rule names another body; this body takes what it offers itself".into(),
        ));
    }
    let scope = app.db.scope(tc).await?;
    let by = tc.identity();
    let r = routing_rules::add(
        &scope,
        service_code,
        body.id,
        position,
        &by.stored(),
        app.now(),
    )
    .await?;
    audit::record(
        &scope,
        &by,
        "routing_rule.added",
        Some(&r.id.to_string()),
        json!({ "serviceCode": r.service_code, "body": body.slug.as_str(), "position": position }),
    )
    .await?;
    app.commit(scope).await?;
    Ok((r, body))
}

pub async fn remove_routing_rule(app: &App, caller: &Caller, id: Uuid) -> Result<RoutingRule> {
    let tc = caller.authorize(app, Permission::RoutingRuleManage).await?;
    let scope = app.db.scope(tc).await?;
    let r = routing_rules::remove(&scope, id).await?;
    audit::record(
        &scope,
        &tc.identity(),
        "routing_rule.removed",
        Some(&id.to_string()),
        json!({ "serviceCode": r.service_code }),
    )
    .await?;
    app.commit(scope).await?;
    Ok(r)
}

pub async fn api_keys(app: &App, caller: &Caller) -> Result<Vec<ApiKey>> {
    let tc = caller.authorize(app, Permission::ApiKeyManage).await?;
    let scope = app.db.scope(tc).await?;
    let found = api_keys::list(&scope).await?;
    app.commit(scope).await?;
    Ok(found)
}

/// Issues an Open311 key; its secret is returned this once.
pub async fn issue_api_key(app: &App, caller: &Caller, name: &str) -> Result<(ApiKey, String)> {
    let tc = caller.authorize(app, Permission::ApiKeyManage).await?;
    let scope = app.db.scope(tc).await?;
    let by = tc.identity();
    let (k, secret) = api_keys::issue(&scope, name, &by.stored(), app.now()).await?;
    audit::record(
        &scope,
        &by,
        "api_key.issued",
        Some(&k.id.to_string()),
        json!({ "name": k.name }),
    )
    .await?;
    app.commit(scope).await?;
    Ok((k, secret))
}

pub async fn revoke_api_key(app: &App, caller: &Caller, id: Uuid) -> Result<ApiKey> {
    let tc = caller.authorize(app, Permission::ApiKeyManage).await?;
    let scope = app.db.scope(tc).await?;
    let k = api_keys::revoke(&scope, id, app.now()).await?;
    audit::record(
        &scope,
        &tc.identity(),
        "api_key.revoked",
        Some(&id.to_string()),
        json!({ "name": k.name }),
    )
    .await?;
    app.commit(scope).await?;
    Ok(k)
}
