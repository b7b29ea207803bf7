//! Onboarding a new body: the tenant, its default roles, policies and access purposes, and
//! its first tenant administrator, in one transaction.

use civitas_policies::{Authorizer, install_tenant_defaults};
use civitas_tenants::members::{self, Member, MemberProfile};
use civitas_tenants::registry::{self, NewTenant};
use civitas_tenants::{Db, Identity, Role, Tenant, audit};
use serde_json::json;

use crate::Result;

/// The first administrator of the new body: the issuer and subject their identity provider
/// will present, and how to address them.
#[derive(Clone, Debug)]
pub struct FirstAdmin {
    pub identity: Identity,
    pub profile: MemberProfile,
}

#[derive(Clone, Debug)]
pub struct Onboarded {
    pub tenant: Tenant,
    pub admin: Member,
}

/// Creates the tenant and everything it needs, or nothing at all: onboarding the same slug
/// twice is a conflict and leaves the first tenant untouched.
pub async fn onboard(
    db: &Db,
    authorizer: &Authorizer,
    actor: &Identity,
    new: NewTenant,
    admin: FirstAdmin,
) -> Result<Onboarded> {
    let (scope, tenant) = registry::begin_onboarding(db, &new).await?;
    install_tenant_defaults(scope.conn(), &tenant.id.to_string()).await?;
    crate::access_purposes::install_defaults(&scope, db.clock().now()).await?;
    let admin = members::grant(
        &scope,
        &actor.subject,
        &admin.identity,
        Role::TenantAdmin,
        &admin.profile,
    )
    .await?;
    audit::record(
        &scope,
        actor,
        "tenant.onboarded",
        Some(tenant.slug.as_str()),
        json!({ "kind": tenant.kind.as_str(), "admin": admin.subject, "issuer": admin.issuer }),
    )
    .await?;
    scope.commit().await?;
    authorizer.reload().await?;
    authorizer.publish_change().await?;
    Ok(Onboarded { tenant, admin })
}
