//! A tenant's members and their roles: a translation of [`civitas_crm::app::members`].

use async_graphql::{Context, Object};
use civitas_crm::app::members as uc;
use civitas_tenants::members::MemberProfile;

use crate::caller::{caller, state};
use crate::connections::{Conn, connection, page};
use crate::error::ApiResult;
use crate::types::{Member, Role};

#[derive(Default)]
pub struct MemberQuery;

#[Object]
impl MemberQuery {
    /// The members of the caller's tenant with their granted roles, oldest first, as a
    /// Relay connection.
    async fn memberships(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: i32,
        after: Option<String>,
    ) -> ApiResult<Conn<Member>> {
        let page = page(first, after)?;
        let (rows, more) = uc::list(state(ctx), caller(ctx), page).await?;
        Ok(connection(
            rows,
            page.after.is_some(),
            more,
            |m| m.id.to_string(),
            Member::from,
        ))
    }

    /// The members of the caller's tenant with their granted roles.
    #[graphql(
        deprecation = "Use `memberships`, a Relay connection; this field goes in the next release."
    )]
    async fn members(&self, ctx: &Context<'_>) -> ApiResult<Vec<Member>> {
        let list = uc::all(state(ctx), caller(ctx)).await?;
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
        let profile = MemberProfile {
            display_name,
            email,
        };
        let m = uc::grant_role(
            state(ctx),
            caller(ctx),
            issuer,
            subject,
            role.into(),
            profile,
        )
        .await?;
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
        let m = uc::revoke_role(state(ctx), caller(ctx), issuer, subject, role.into()).await?;
        Ok(m.into())
    }
}
