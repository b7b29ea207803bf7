//! Who is calling, and the one place their permissions are checked.

use std::borrow::Cow;

use civitas_policies::{Level, PLATFORM_DOMAIN, Permission};
use civitas_tenants::{Principal, PrincipalKind, TenantContext, access};
use uuid::Uuid;

use super::App;
use crate::{Error, Result};

/// Established by the front end before an operation runs: the validated principal, if
/// any, and the tenant it acts in, if one was named.
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

/// A permission a request was granted: at platform level or in its tenant. Stored with
/// idempotent answers, hence words rather than [`Permission`].
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Grant {
    pub platform: bool,
    pub object: String,
    pub action: String,
}

impl From<Permission> for Grant {
    fn from(p: Permission) -> Self {
        Grant {
            platform: p.level() == Level::Platform,
            object: p.object().as_str().to_owned(),
            action: p.action().as_str().to_owned(),
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

#[derive(Clone, Debug)]
pub struct CitizenIdentity {
    pub person_id: Uuid,
    pub merged: Vec<Uuid>,
}

impl CitizenIdentity {
    pub fn family(&self) -> Vec<Uuid> {
        std::iter::once(self.person_id)
            .chain(self.merged.iter().copied())
            .collect()
    }
}

impl Caller {
    pub fn principal(&self) -> Result<&Principal> {
        self.principal.as_ref().ok_or(Error::Unauthenticated)
    }

    /// The signed-in citizen; FORBIDDEN for any other principal.
    pub fn citizen(&self) -> Result<&CitizenIdentity> {
        self.principal()?;
        self.citizen.as_ref().ok_or(Error::Forbidden(Cow::Borrowed(
            "only a signed-in citizen may do this",
        )))
    }

    /// Whether the caller's roles now allow `g`: at platform level, the token's roles; in
    /// the tenant, the roles held there.
    pub async fn holds(&self, app: &App, g: &Grant) -> Result<bool> {
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
        Ok(app
            .authorizer
            .allowed(roles, &domain, &g.object, &g.action)
            .await?)
    }

    /// Whether the caller, with the roles they hold now, is still granted every one of
    /// `grants`.
    pub async fn still_granted(&self, app: &App, grants: &[Grant]) -> Result<bool> {
        for g in grants {
            if !self.holds(app, g).await? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Checks `g`, and remembers it among the request's grants when it holds.
    async fn check(&self, app: &App, g: Grant) -> Result<()> {
        if self.holds(app, &g).await? {
            self.granted.push(g);
            Ok(())
        } else {
            Err(Error::forbidden())
        }
    }

    /// The caller's tenant context, once the caller may do `p` there.
    pub async fn authorize(&self, app: &App, p: Permission) -> Result<&TenantContext> {
        debug_assert_eq!(
            p.level(),
            Level::Tenant,
            "{p:?} is checked at platform level"
        );
        self.principal()?;
        let tc = self.tenant.as_ref().ok_or(Error::NoTenant)?;
        self.check(app, p.into()).await?;
        Ok(tc)
    }

    /// The caller, once they may do `p` at platform level. Platform roles come from the
    /// token only: no tenant grants them.
    pub async fn authorize_platform(&self, app: &App, p: Permission) -> Result<&Principal> {
        debug_assert_eq!(p.level(), Level::Platform, "{p:?} is checked in a tenant");
        let principal = self.principal()?;
        self.check(app, p.into()).await?;
        Ok(principal)
    }
}

/// Establishes who is calling from a validated principal (if any) and the tenant named by
/// the request (if any). A citizen is linked to their person record, created at their
/// first sign-in.
pub async fn identify(
    app: &App,
    principal: Option<Principal>,
    requested: Option<&str>,
) -> Result<Caller> {
    let Some(principal) = principal else {
        return Ok(Caller::default());
    };
    let tenant = access::resolve(&app.db, &principal, requested).await?;
    let citizen = if principal.kind == PrincipalKind::Citizen {
        let family = crate::persons::citizen_family(app.db.global(), &principal).await?;
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
