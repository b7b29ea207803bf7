//! Who is acting in which tenant, with which roles.

use std::collections::BTreeSet;

use crate::{Db, Error, MemberId, Principal, Result, Role, Tenant, TenantSlug, TenantStatus};
use crate::{members, registry};

/// The tenant a request acts in, the principal acting, and the roles it holds there.
/// Every scoped unit of work is opened for one of these.
#[derive(Clone, Debug)]
pub struct TenantContext {
    pub tenant: Tenant,
    pub principal: Principal,
    pub roles: BTreeSet<Role>,
    pub member_id: Option<MemberId>,
}

impl TenantContext {
    /// A context for work the platform itself does in a tenant (onboarding, demo data).
    pub fn system(tenant: Tenant, reason: &str) -> Self {
        TenantContext {
            tenant,
            principal: Principal::system(reason),
            roles: BTreeSet::from([Role::PlatformAdmin]),
            member_id: None,
        }
    }

    /// A context in which a citizen acts towards a body they are not a member of (giving
    /// it a privacy consent, withdrawing one).
    pub fn for_citizen(tenant: Tenant, principal: Principal) -> Self {
        TenantContext {
            tenant,
            principal,
            roles: BTreeSet::from([Role::Citizen]),
            member_id: None,
        }
    }

    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Who did it, by subject (history entries, receipts).
    pub fn actor(&self) -> String {
        self.principal.subject.clone()
    }

    /// Who did it, as written into the audit log.
    pub fn identity(&self) -> crate::Identity {
        self.principal.identity()
    }
}

/// Establishes the tenant a caller acts in: the one named by `requested` (the
/// `X-Civitas-Tenant` header) or else the token's own. A tenant that does not exist and a
/// tenant the caller does not belong to give the same `Forbidden`, so that the answer does
/// not reveal which bodies exist.
pub async fn resolve(
    db: &Db,
    principal: &Principal,
    requested: Option<&str>,
) -> Result<Option<TenantContext>> {
    let Some(raw) = requested.or(principal.home_tenant.as_deref()) else {
        return Ok(None);
    };
    let slug = TenantSlug::parse(raw)?;
    let tenant = registry::cached_by_slug(db, &slug)
        .await?
        .ok_or(Error::Forbidden)?;
    let is_home = principal.home_tenant.as_deref() == Some(slug.as_str());

    let who = principal.identity();
    let membership = match db.access().membership(tenant.id.0, &who).await {
        Some(m) => m,
        None => {
            let scope = db.scope_for(tenant.id).await?;
            let m = members::membership(&scope, &who).await?;
            scope.commit().await?;
            db.access()
                .remember_membership(tenant.id.0, &who, m.clone())
                .await;
            m
        }
    };

    // A citizen may address any body: its own records there are theirs, and the citizen
    // role grants only what a body shows the public (its catalogue, itself).
    let citizen = principal.kind == crate::PrincipalKind::Citizen;
    if !is_home && membership.is_none() && !principal.is_platform_admin() && !citizen {
        return Err(Error::Forbidden);
    }
    if tenant.status == TenantStatus::Suspended {
        return Err(Error::TenantSuspended(tenant.slug.to_string()));
    }

    let mut roles = BTreeSet::new();
    if is_home {
        roles.extend(principal.token_roles.iter().copied());
    }
    if principal.is_platform_admin() {
        roles.insert(Role::PlatformAdmin);
    }
    if citizen {
        roles.insert(Role::Citizen);
    }
    let member_id = membership.map(|(id, granted)| {
        roles.extend(granted);
        id
    });
    Ok(Some(TenantContext {
        tenant,
        principal: principal.clone(),
        roles,
        member_id,
    }))
}
