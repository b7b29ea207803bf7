//! Use case of the register of processing activities: a body's administrators (or whoever
//! its policies let `report` on the tenant) read it as generated from the body's
//! configuration at this moment.

use std::collections::BTreeMap;

use civitas_policies::Permission;
use civitas_tenants::{TenantId, identity_providers, registry};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter};
use serde_json::Value;
use uuid::Uuid;

use super::{App, Caller};
use crate::entity::sharing_consent;
use crate::notify::NotificationSettings;
use crate::register::{self, Body, Inputs, Register, ServiceEntry};
use crate::{Result, catalogue, webhooks};

/// Names the bodies of `counts`, "every body" for a consent that names none.
async fn named(
    app: &App,
    counts: BTreeMap<Option<Uuid>, u64>,
    every: &str,
) -> Result<Vec<(String, u64)>> {
    let ids: Vec<TenantId> = counts.keys().flatten().copied().map(TenantId).collect();
    let bodies = registry::cached_by_ids(&app.db, &ids).await?;
    Ok(counts
        .into_iter()
        .map(|(id, n)| {
            let name = match id {
                None => every.to_owned(),
                Some(id) => bodies
                    .iter()
                    .find(|b| b.id.0 == id)
                    .map_or_else(|| id.to_string(), |b| b.display_name.clone()),
            };
            (name, n)
        })
        .collect())
}

/// The caller's body's register, in `language` (`it` or `en`).
pub async fn of_body(app: &App, caller: &Caller, language: &str) -> Result<Register> {
    let tc = caller
        .authorize(app, Permission::ProcessingRegisterRead)
        .await?;
    let me = tc.tenant.id.0;
    let now = app.now();
    let scope = app.db.scope(tc).await?;
    let services = catalogue::list(&scope).await?;
    let hooks = webhooks::list(&scope).await?;
    let schedule = crate::retention::rules(&scope).await?;
    let purposes = crate::access_purposes::list(&scope, false).await?;
    // Consents are the person's rows, not a tenant's: the parties' filter is explicit here
    // (and the database's policy shows a body no other rows).
    let live = sharing_consent::Entity::find()
        .filter(
            Condition::any()
                .add(sharing_consent::Column::SourceTenantId.eq(me))
                .add(sharing_consent::Column::GranteeTenantId.eq(me)),
        )
        .filter(sharing_consent::Column::RevokedAt.is_null())
        .filter(
            Condition::any()
                .add(sharing_consent::Column::ExpiresAt.is_null())
                .add(sharing_consent::Column::ExpiresAt.gt(now)),
        )
        .all(scope.conn())
        .await?;
    scope.commit().await?;
    let (mut shares_to, mut reads_from) = (BTreeMap::new(), BTreeMap::new());
    for c in &live {
        if c.source_tenant_id == Some(me) && c.grantee_tenant_id != me {
            *shares_to.entry(Some(c.grantee_tenant_id)).or_insert(0) += 1;
        }
        if c.grantee_tenant_id == me && c.source_tenant_id != Some(me) {
            *reads_from.entry(c.source_tenant_id).or_insert(0) += 1;
        }
    }
    let every = if language == "en" {
        "every body"
    } else {
        "tutti gli enti"
    };
    let parent = match tc.tenant.parent_id {
        Some(p) => registry::cached_by_ids(&app.db, &[p])
            .await?
            .pop()
            .map(|t| t.display_name),
        None => None,
    };
    let inputs = Inputs {
        body: Body {
            slug: tc.tenant.slug.to_string(),
            name: tc.tenant.display_name.clone(),
            kind: tc.tenant.kind.to_string(),
            parent,
            privacy_policy_url: tc
                .tenant
                .settings
                .get("privacyPolicyUrl")
                .and_then(Value::as_str)
                .map(str::to_owned),
        },
        services: services
            .iter()
            .map(|s| ServiceEntry {
                code: s.code.clone(),
                name: s.name.clone(),
                area: s.area.clone(),
                fields: catalogue::field_defs(s)
                    .into_iter()
                    .map(|f| f.label)
                    .collect(),
            })
            .collect(),
        notifications: NotificationSettings::of(&tc.tenant.settings)?,
        access_purposes: purposes
            .into_iter()
            .map(|p| (p.code, p.label, p.legal_basis))
            .collect(),
        webhooks: hooks
            .iter()
            .filter(|h| h.active)
            .map(|h| (register::host_of(&h.url), h.event_types.clone()))
            .collect(),
        identity_providers: identity_providers::of_tenant(&app.db, tc.tenant.id)
            .await?
            .into_iter()
            .map(|r| r.issuer)
            .collect(),
        retention: schedule
            .into_iter()
            .map(|r| (r.service_code, r.keep_years))
            .collect(),
        shares_to: named(app, shares_to, every).await?,
        reads_from: named(app, reads_from, every).await?,
        https: app
            .public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://")),
        secrets_key_id: app.db.keyring().current_id().to_owned(),
        generated_at: now,
    };
    Ok(register::build(&inputs, language))
}
