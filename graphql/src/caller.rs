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
    /// When the bearer token expires (subscriptions end then).
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Every permission this request was granted, so that a stored answer is replayed
    /// (Idempotency-Key) only to a caller who still holds them all.
    pub granted: Granted,
}

/// A permission a request was granted: at platform level or in its tenant.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Grant {
    pub platform: bool,
    pub object: String,
    pub action: String,
}

impl Grant {
    pub fn tenant(object: &str, action: &str) -> Self {
        Grant {
            platform: false,
            object: object.to_owned(),
            action: action.to_owned(),
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct Granted(std::sync::Arc<std::sync::Mutex<Vec<Grant>>>);

impl Granted {
    fn push(&self, g: Grant) {
        if let Ok(mut v) = self.0.lock()
            && !v.contains(&g)
        {
            v.push(g);
        }
    }

    pub fn list(&self) -> Vec<Grant> {
        self.0.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

impl Caller {
    /// Whether the caller's roles now allow `g`: at platform level, the token's roles; in
    /// the tenant, the roles held there. The one place a permission is checked.
    pub async fn holds(&self, state: &AppState, g: &Grant) -> ApiResult<bool> {
        let (roles, domain): (Vec<&str>, String) = if g.platform {
            let Some(p) = &self.principal else {
                return Ok(false);
            };
            (
                p.token_roles.iter().map(|r| r.as_str()).collect(),
                PLATFORM_DOMAIN.to_owned(),
            )
        } else {
            let Some(tc) = &self.tenant else {
                return Ok(false);
            };
            (
                tc.roles.iter().map(|r| r.as_str()).collect(),
                tc.tenant.id.to_string(),
            )
        };
        Ok(state
            .authorizer
            .allowed(roles, &domain, &g.object, &g.action)
            .await?)
    }

    /// Whether the caller, with the roles they hold now, is still granted every one of
    /// `grants`.
    pub async fn still_granted(&self, state: &AppState, grants: &[Grant]) -> ApiResult<bool> {
        for g in grants {
            if !self.holds(state, g).await? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Checks `g`, and remembers it among the request's grants when it holds.
    async fn check(&self, state: &AppState, g: Grant) -> ApiResult<()> {
        if self.holds(state, &g).await? {
            self.granted.push(g);
            Ok(())
        } else {
            Err(ApiError::forbidden())
        }
    }
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
        expires_at: None,
        granted: Granted::default(),
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
    static ANONYMOUS: std::sync::OnceLock<Caller> = std::sync::OnceLock::new();
    ctx.data_opt::<Caller>()
        .unwrap_or_else(|| ANONYMOUS.get_or_init(Caller::default))
}

pub(crate) fn principal<'a>(ctx: &Context<'a>) -> ApiResult<&'a Principal> {
    caller(ctx)
        .principal
        .as_ref()
        .ok_or_else(|| ApiError::new(Code::Unauthenticated, "a valid bearer token is required"))
}

pub(crate) fn expires_at(ctx: &Context<'_>) -> Option<chrono::DateTime<chrono::Utc>> {
    caller(ctx).expires_at
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
    caller(ctx)
        .check(state(ctx), Grant::tenant(object, action))
        .await?;
    Ok(tc)
}

/// The caller, once they may do `action` on `object` at platform level. Platform roles
/// come from the token only: no tenant grants them.
pub(crate) async fn authorize_platform<'a>(
    ctx: &Context<'a>,
    object: &str,
    action: &str,
) -> ApiResult<&'a Principal> {
    let p = principal(ctx)?;
    caller(ctx)
        .check(
            state(ctx),
            Grant {
                platform: true,
                object: object.to_owned(),
                action: action.to_owned(),
            },
        )
        .await?;
    Ok(p)
}
