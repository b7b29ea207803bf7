//! A tenant's members and their roles.

use async_graphql::{Context, Object};
use civitas_tenants::{Identity, TenantContext, audit, members, members::MemberProfile};
use serde_json::json;

use crate::caller::{authorize, state};
use crate::error::ApiResult;
use crate::types::{Member, Role};

#[derive(Default)]
pub struct MemberQuery;

#[Object]
impl MemberQuery {
    /// The members of the caller's tenant with their granted roles.
    async fn members(&self, ctx: &Context<'_>) -> ApiResult<Vec<Member>> {
        let tc = authorize(ctx, "member", "read").await?;
        let scope = state(ctx).db.scope(tc).await?;
        let list = members::list(&scope).await?;
        scope.commit().await?;
        Ok(list.into_iter().map(Into::into).collect())
    }
}

#[derive(Default)]
pub struct MemberMutation;

#[Object]
impl MemberMutation {
    /// Grants a role in the caller's tenant to the member with `subject` at `issuer` (by
    /// default the caller's own issuer), adding them as a member if they are new. Granting a
    /// role already held changes nothing.
    async fn grant_role(
        &self,
        ctx: &Context<'_>,
        subject: String,
        issuer: Option<String>,
        role: Role,
        display_name: Option<String>,
        email: Option<String>,
    ) -> ApiResult<Member> {
        let tc = authorize(ctx, "member", "manage").await?;
        let scope = state(ctx).db.scope(tc).await?;
        let role = role.into();
        let profile = MemberProfile {
            display_name,
            email,
        };
        let who = identity(tc, issuer, subject);
        let m = members::grant(&scope, &tc.actor(), &who, role, &profile).await?;
        audit::record(
            &scope,
            &tc.identity(),
            "role.granted",
            Some(&m.subject),
            json!({ "role": role, "issuer": m.issuer }),
        )
        .await?;
        scope.commit().await?;
        Ok(m.into())
    }

    /// Revokes a role in the caller's tenant. Effective on the member's next request.
    async fn revoke_role(
        &self,
        ctx: &Context<'_>,
        subject: String,
        issuer: Option<String>,
        role: Role,
    ) -> ApiResult<Member> {
        let tc = authorize(ctx, "member", "manage").await?;
        let scope = state(ctx).db.scope(tc).await?;
        let role = role.into();
        let m = members::revoke(&scope, &identity(tc, issuer, subject), role).await?;
        audit::record(
            &scope,
            &tc.identity(),
            "role.revoked",
            Some(&m.subject),
            json!({ "role": role, "issuer": m.issuer }),
        )
        .await?;
        scope.commit().await?;
        Ok(m.into())
    }
}

/// The member an administrator names: by default at the administrator's own issuer.
fn identity(tc: &TenantContext, issuer: Option<String>, subject: String) -> Identity {
    Identity::new(
        issuer.unwrap_or_else(|| tc.principal.issuer.clone()),
        subject,
    )
}
