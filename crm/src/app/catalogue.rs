//! Use cases of a body's service catalogue.

use civitas_policies::Permission;
use civitas_tenants::{TenantContext, audit, registry};
use serde_json::json;

use super::{App, Caller, Page};
use crate::catalogue::{self, NewService, Service};
use crate::public_catalogue::{self, PublicFilter, PublicService};
use crate::{Error, Result};

/// The services of the caller's body, by area and code.
pub async fn list(app: &App, caller: &Caller) -> Result<Vec<Service>> {
    let tc = caller.authorize(app, Permission::ServiceRead).await?;
    let scope = app.db.scope(tc).await?;
    let found = catalogue::list(&scope).await?;
    app.commit(scope).await?;
    Ok(found)
}

/// The public catalogue: the services of every active body, for anyone, signed in or not
/// (what a body offers is public). A page after the first `page.after` services, and
/// whether more follow. A body named in the filter must exist and be active.
pub async fn public(
    app: &App,
    filter: PublicFilter,
    page: Page<u64>,
) -> Result<(Vec<PublicService>, bool)> {
    if let Some(b) = &filter.body {
        app.active_body("body", b).await?;
    }
    let scope = app.db.public_scope().await?;
    let found =
        public_catalogue::page(&scope, &filter, page.after.unwrap_or(0), page.first).await?;
    scope.commit().await?;
    Ok(found)
}

/// One service of the public catalogue: the body's (by slug) with this code; NOT_FOUND when
/// the body is not active or has no such service.
pub async fn public_service(app: &App, body: &str, code: &str) -> Result<PublicService> {
    let filter = PublicFilter {
        body: Some(body.to_owned()),
        code: Some(code.to_owned()),
        ..PublicFilter::default()
    };
    let scope = app.db.public_scope().await?;
    let (found, _) = public_catalogue::page(&scope, &filter, 0, 1).await?;
    scope.commit().await?;
    found.into_iter().next().ok_or(Error::NotFound("service"))
}

/// The service of a body by id (what a case names), for anyone: its name and field
/// definitions are public. `None` when the body has no such service.
pub async fn public_service_by_id(
    app: &App,
    body: civitas_tenants::TenantId,
    id: crate::ids::ServiceId,
) -> Result<Option<Service>> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let scope = app.db.public_scope().await?;
    let found = crate::entity::service::Entity::find()
        .filter(crate::entity::service::Column::TenantId.eq(body.0))
        .filter(crate::entity::service::Column::Id.eq(id.0))
        .one(scope.conn())
        .await?;
    scope.commit().await?;
    Ok(found)
}

/// Copies the parent body's services that this body does not have yet (by code); returns
/// how many were copied.
pub async fn import_parent(app: &App, caller: &Caller) -> Result<u64> {
    let tc = caller.authorize(app, Permission::CatalogueImport).await?;
    let parent_id = tc
        .tenant
        .parent_id
        .ok_or_else(|| Error::Validation("this body has no parent body".into()))?;
    let parent = registry::find_by_id(&app.db, parent_id)
        .await?
        .ok_or(Error::NotFound("parent body"))?;
    // The parent's catalogue is read in the parent's own scope, as the platform, and in a
    // transaction of its own: SQLite allows a single writer.
    let parent_ctx = TenantContext::system(parent, "catalogue-import");
    let parent_scope = app.db.scope(&parent_ctx).await?;
    let parents = catalogue::list(&parent_scope).await?;
    parent_scope.commit().await?;
    let scope = app.db.scope(tc).await?;
    let copied = catalogue::copy_from(parents, &scope).await?;
    audit::record(
        &scope,
        &tc.identity(),
        "catalogue.imported",
        None,
        json!({ "copied": copied }),
    )
    .await?;
    app.commit(scope).await?;
    Ok(copied as u64)
}

pub async fn create_service(app: &App, caller: &Caller, new: NewService) -> Result<Service> {
    let tc = caller.authorize(app, Permission::ServiceCreate).await?;
    let scope = app.db.scope(tc).await?;
    let s = catalogue::create(&scope, new).await?;
    audit::record(
        &scope,
        &tc.identity(),
        "service.created",
        Some(&s.code),
        json!({}),
    )
    .await?;
    app.commit(scope).await?;
    Ok(s)
}
