//! Use cases of restriction and objection: the signed-in citizen restricts, or objects to,
//! one body's processing of their records for one purpose, and lifts it.

use civitas_tenants::{TenantContext, audit};
use sea_orm::{ColumnTrait, QueryFilter};
use serde_json::json;
use uuid::Uuid;

use super::{App, Caller};
use crate::entity::restriction;
use crate::restrictions::{self, Kind, Purpose, Restriction};
use crate::{Error, Result};

/// Restricts (or objects to) the processing by the body `slug` of the citizen's records for
/// `purpose`. The body's audit log records it (purpose and kind, not the reason).
pub async fn restrict_mine(
    app: &App,
    caller: &Caller,
    slug: &str,
    purpose: Purpose,
    kind: Kind,
    reason: &str,
) -> Result<Restriction> {
    let me = caller.citizen()?;
    let p = caller.principal()?.clone();
    let family = me.family();
    let tc = TenantContext::for_citizen(super::consents::body(app, "body", slug).await?, p);
    let scope = app.db.scope(&tc).await?;
    let by = tc.identity().stored();
    let r = restrictions::restrict(&scope, &family, purpose, kind, reason, &by, app.now()).await?;
    audit::record(
        &scope,
        &tc.identity(),
        "restriction.requested",
        Some(&r.id.to_string()),
        json!({ "purpose": purpose.as_str(), "kind": kind.as_str() }),
    )
    .await?;
    app.commit(scope).await?;
    Ok(r)
}

/// Lifts one of the citizen's restrictions; NOT_FOUND if it is not theirs.
pub async fn lift_mine(app: &App, caller: &Caller, id: Uuid) -> Result<Restriction> {
    let me = caller.citizen()?;
    let p = caller.principal()?.clone();
    let family = me.family();
    let scope = super::me::own_scope(app, caller).await?;
    let found = scope
        .find::<restriction::Entity>()
        .filter(restriction::Column::Id.eq(id))
        .one(scope.conn())
        .await?
        .ok_or(Error::NotFound("restriction"))?;
    scope.commit().await?;
    let body =
        civitas_tenants::registry::by_id(&app.db, civitas_tenants::TenantId(found.tenant_id))
            .await?
            .ok_or(Error::NotFound("restriction"))?;
    let tc = TenantContext::for_citizen(body, p);
    let scope = app.db.scope(&tc).await?;
    let by = tc.identity().stored();
    let r = restrictions::lift(&scope, &family, id, &by, app.now()).await?;
    audit::record(
        &scope,
        &tc.identity(),
        "restriction.lifted",
        Some(&id.to_string()),
        json!({ "purpose": r.purpose.as_str() }),
    )
    .await?;
    app.commit(scope).await?;
    Ok(r)
}

/// The citizen's restrictions at every body, newest first.
pub async fn mine(app: &App, caller: &Caller) -> Result<Vec<Restriction>> {
    let scope = super::me::own_scope(app, caller).await?;
    let found = restrictions::of_person(&scope).await?;
    scope.commit().await?;
    Ok(found)
}
