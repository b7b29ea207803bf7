//! Who is calling, and the checks every resolver starts with.

use async_graphql::Context;
use civitas_policies::PLATFORM_DOMAIN;
use civitas_tenants::{Principal, PrincipalKind, TenantContext, access};

use crate::AppState;
use crate::error::{ApiError, ApiResult, Code};

/// Established by the HTTP layer before the query runs: the validated principal, if any,
/// and the tenant it acts in, if one was named.
#[derive(Clone, Debug, Default)]
pub struct Caller {
    pub principal: Option<Principal>,
    pub tenant: Option<TenantContext>,
    /// For a citizen principal: the person they are, and the records merged into it.
    pub citizen: Option<CitizenIdentity>,
}

#[derive(Clone, Debug)]
pub struct CitizenIdentity {
    pub person_id: uuid::Uuid,
    pub merged: Vec<uuid::Uuid>,
}

impl CitizenIdentity {
    pub fn family(&self) -> Vec<uuid::Uuid> {
        std::iter::once(self.person_id)
            .chain(self.merged.iter().copied())
            .collect()
    }
}

/// Establishes who is calling from a validated principal (if any) and the tenant named by
/// the `X-Civitas-Tenant` header (if any). A citizen is linked to their person record,
/// created at their first sign-in.
pub async fn identify(
    state: &AppState,
    principal: Option<Principal>,
    requested: Option<&str>,
) -> ApiResult<Caller> {
    let Some(principal) = principal else {
        return Ok(Caller::default());
    };
    let tenant = access::resolve(&state.db, &principal, requested).await?;
    let citizen = if principal.kind == PrincipalKind::Citizen {
        let family = civitas_crm::persons::citizen_family(state.db.global(), &principal).await?;
        Some(CitizenIdentity {
            person_id: family[0],
            merged: family[1..].to_vec(),
        })
    } else {
        None
    };
    Ok(Caller {
        principal: Some(principal),
        tenant,
        citizen,
    })
}

/// The signed-in citizen; FORBIDDEN for any other principal.
pub(crate) fn citizen<'a>(ctx: &Context<'a>) -> ApiResult<&'a CitizenIdentity> {
    principal(ctx)?;
    caller(ctx)
        .citizen
        .as_ref()
        .ok_or_else(|| ApiError::new(Code::Forbidden, "only a signed-in citizen may do this"))
}

pub(crate) fn state<'a>(ctx: &Context<'a>) -> &'a AppState {
    ctx.data_unchecked::<AppState>()
}

fn caller<'a>(ctx: &Context<'a>) -> &'a Caller {
    static ANONYMOUS: Caller = Caller {
        principal: None,
        tenant: None,
        citizen: None,
    };
    ctx.data_opt::<Caller>().unwrap_or(&ANONYMOUS)
}

pub(crate) fn principal<'a>(ctx: &Context<'a>) -> ApiResult<&'a Principal> {
    caller(ctx)
        .principal
        .as_ref()
        .ok_or_else(|| ApiError::new(Code::Unauthenticated, "a valid bearer token is required"))
}

pub(crate) fn tenant_opt<'a>(ctx: &Context<'a>) -> Option<&'a TenantContext> {
    caller(ctx).tenant.as_ref()
}

/// The caller's tenant context, once the caller may do `action` on `object` there.
pub(crate) async fn authorize<'a>(
    ctx: &Context<'a>,
    object: &str,
    action: &str,
) -> ApiResult<&'a TenantContext> {
    principal(ctx)?;
    let tc = tenant_opt(ctx).ok_or_else(|| {
        ApiError::new(
            Code::BadRequest,
            "no tenant: use a token issued for a tenant or send X-Civitas-Tenant",
        )
    })?;
    let allowed = state(ctx)
        .authorizer
        .allowed(
            tc.roles.iter().map(|r| r.as_str()),
            &tc.tenant.id.to_string(),
            object,
            action,
        )
        .await?;
    if allowed {
        Ok(tc)
    } else {
        Err(ApiError::forbidden())
    }
}

/// The caller, once they may do `action` on `object` at platform level. Platform roles
/// come from the token only: no tenant grants them.
pub(crate) async fn authorize_platform<'a>(
    ctx: &Context<'a>,
    object: &str,
    action: &str,
) -> ApiResult<&'a Principal> {
    let p = principal(ctx)?;
    let allowed = state(ctx)
        .authorizer
        .allowed(
            p.token_roles.iter().map(|r| r.as_str()),
            PLATFORM_DOMAIN,
            object,
            action,
        )
        .await?;
    if allowed {
        Ok(p)
    } else {
        Err(ApiError::forbidden())
    }
}
