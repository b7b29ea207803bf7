//! Use cases of tutors' delegations: recorded by a body's supervisors at the counter, or
//! granted, listed and revoked by the citizen themselves.

use chrono::{DateTime, Utc};
use civitas_policies::Permission;
use civitas_tenants::{Identity, Role, TenantContext, TenantId, members, registry};
use sea_orm::{ColumnTrait, QueryFilter};

use super::{App, Caller, Page};
use crate::delegations::{self, Delegation};
use crate::entity::delegation;
use crate::ids::{DelegationId, PersonId};
use crate::{Error, Result, paging};

pub struct GrantDelegation {
    pub person_id: PersonId,
    pub tutor_subject: String,
    /// The tutor's issuer; by default the caller's own.
    pub tutor_issuer: Option<String>,
    pub scopes: Vec<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Records that a citizen delegates a tutor of the body (supervisors).
pub async fn grant(app: &App, caller: &Caller, input: GrantDelegation) -> Result<Delegation> {
    let tc = caller.authorize(app, Permission::DelegationGrant).await?;
    let tutor = Identity::new(
        input
            .tutor_issuer
            .unwrap_or_else(|| tc.principal.issuer.clone()),
        input.tutor_subject,
    );
    let scope = app.db.scope(tc).await?;
    let d = delegations::grant(
        &scope,
        &tc.identity(),
        input.person_id.0,
        &tutor,
        &input.scopes,
        input.expires_at,
        app.now(),
    )
    .await?;
    app.commit(scope).await?;
    Ok(d)
}

pub async fn revoke(app: &App, caller: &Caller, id: DelegationId) -> Result<()> {
    let tc = caller.authorize(app, Permission::DelegationRevoke).await?;
    let scope = app.db.scope(tc).await?;
    delegations::revoke(&scope, &tc.identity(), id.0, app.now()).await?;
    app.commit(scope).await
}

/// The signed-in citizen's delegations in every body, newest first, revoked and expired
/// ones included (a body's counter records them too): a page, and whether more follow.
pub async fn mine(
    app: &App,
    caller: &Caller,
    page: Page<uuid::Uuid>,
) -> Result<(Vec<Delegation>, bool)> {
    let me = caller.citizen()?;
    let scope = app.db.person_scope(me.person_id, &me.merged).await?;
    let q = scope.find::<delegation::Entity>();
    let (rows, more) = paging::newest_first(
        scope.conn(),
        q,
        delegation::Column::Id,
        page.first,
        page.after,
    )
    .await?;
    scope.commit().await?;
    Ok((rows.into_iter().map(Into::into).collect(), more))
}

pub struct GrantMine {
    /// The body where the tutor acts, by slug.
    pub tenant: String,
    pub tutor_subject: String,
    pub tutor_issuer: String,
    pub scopes: Vec<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// The signed-in citizen delegates a tutor of a body that knows them. The tutor must hold
/// the tutor role there: a delegation to anyone else could never be used.
pub async fn grant_mine(app: &App, caller: &Caller, input: GrantMine) -> Result<Delegation> {
    let me = caller.citizen()?;
    let principal = caller.principal()?;
    let tenant = app.active_body("tenant", &input.tenant).await?;
    let slug = tenant.slug.clone();
    let tc = TenantContext::for_citizen(tenant, principal.clone());
    let tutor = Identity::new(input.tutor_issuer.trim(), input.tutor_subject.trim());
    let scope = app.db.scope(&tc).await?;
    let is_tutor = members::with_subject(&scope, &tutor.subject)
        .await?
        .iter()
        .any(|m| m.issuer == tutor.issuer && m.roles.contains(&Role::Tutor));
    if !is_tutor {
        return Err(Error::Validation(format!(
            "tutor: {} is not a tutor of {slug}",
            tutor.subject
        )));
    }
    let d = delegations::grant(
        &scope,
        &principal.identity(),
        me.person_id,
        &tutor,
        &input.scopes,
        input.expires_at,
        app.now(),
    )
    .await?;
    app.commit(scope).await?;
    Ok(d)
}

/// The signed-in citizen revokes one of their delegations, whichever body recorded it;
/// effective on the tutor's next request. Another person's delegation is NOT_FOUND.
pub async fn revoke_mine(app: &App, caller: &Caller, id: DelegationId) -> Result<Delegation> {
    let me = caller.citizen()?;
    let principal = caller.principal()?;
    let family = me.family();
    let scope = app.db.person_scope(me.person_id, &me.merged).await?;
    let found = scope
        .find::<delegation::Entity>()
        .filter(delegation::Column::Id.eq(id.0))
        .one(scope.conn())
        .await?
        .filter(|d| family.contains(&d.person_id));
    scope.commit().await?;
    let found = found.ok_or(Error::NotFound("delegation"))?;
    let tenant = registry::find_by_id(&app.db, TenantId(found.tenant_id))
        .await?
        .ok_or(Error::NotFound("delegation"))?;
    let tc = TenantContext::for_citizen(tenant, principal.clone());
    let scope = app.db.scope(&tc).await?;
    let now = app.now();
    delegations::revoke(&scope, &principal.identity(), id.0, now).await?;
    app.commit(scope).await?;
    let mut d = Delegation::from(found);
    d.revoked_at = Some(now);
    Ok(d)
}
