//! Tutors' delegations: a translation of [`civitas_crm::app::delegations`].

use async_graphql::{ComplexObject, Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use civitas_crm::app::delegations::{self as uc, GrantDelegation, GrantMine};
use civitas_tenants::TenantId;

use crate::caller::{caller, state};
use crate::connections::{Conn, connection, page};
use crate::error::ApiResult;
use crate::ids::parse;
use crate::loaders::{TenantRef, tenant_ref};

/// Who may act for a citizen, at which body, for what, until when.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Delegation {
    pub id: ID,
    pub person_id: ID,
    pub tutor_subject: String,
    pub tutor_issuer: String,
    /// `cases`, `interactions`.
    pub scopes: Vec<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// Who recorded it: a supervisor of the body, or the citizen.
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    #[graphql(skip)]
    pub tenant_id: TenantId,
}

#[ComplexObject]
impl Delegation {
    /// The body where the tutor may act.
    async fn tenant(&self, ctx: &Context<'_>) -> ApiResult<TenantRef> {
        tenant_ref(ctx, self.tenant_id).await
    }

    /// Neither revoked nor expired.
    async fn active(&self, ctx: &Context<'_>) -> bool {
        let now = state(ctx).now();
        self.revoked_at.is_none() && self.expires_at.is_none_or(|e| e > now)
    }
}

impl From<civitas_crm::delegations::Delegation> for Delegation {
    fn from(d: civitas_crm::delegations::Delegation) -> Self {
        Delegation {
            id: ID(d.id.to_string()),
            person_id: ID(d.person_id.to_string()),
            tutor_subject: d.tutor_subject,
            tutor_issuer: d.tutor_issuer,
            scopes: d.scopes,
            expires_at: d.expires_at,
            revoked_at: d.revoked_at,
            created_by: d.created_by,
            created_at: d.created_at,
            tenant_id: d.tenant_id,
        }
    }
}

#[derive(Default)]
pub struct DelegationQuery;

#[Object]
impl DelegationQuery {
    /// The signed-in citizen's delegations in every body (those a body recorded at the
    /// counter too), newest first, revoked and expired ones included.
    async fn my_delegations(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: i32,
        after: Option<String>,
    ) -> ApiResult<Conn<Delegation>> {
        let page = page(first, after)?;
        let (rows, more) = uc::mine(state(ctx), caller(ctx), page).await?;
        Ok(connection(
            rows,
            page.after.is_some(),
            more,
            |d| d.id.to_string(),
            Delegation::from,
        ))
    }
}

#[derive(Default)]
pub struct DelegationMutation;

#[Object]
impl DelegationMutation {
    /// Records that a citizen delegates a tutor of the body (supervisors).
    async fn grant_delegation(
        &self,
        ctx: &Context<'_>,
        person_id: ID,
        tutor: String,
        #[graphql(desc = "The tutor's issuer; by default the caller's own.")] tutor_issuer: Option<
            String,
        >,
        scopes: Vec<String>,
        expires_at: Option<DateTime<Utc>>,
    ) -> ApiResult<Delegation> {
        let input = GrantDelegation {
            person_id: parse("personId", &person_id)?,
            tutor_subject: tutor,
            tutor_issuer,
            scopes,
            expires_at,
        };
        Ok(uc::grant(state(ctx), caller(ctx), input).await?.into())
    }

    async fn revoke_delegation(&self, ctx: &Context<'_>, id: ID) -> ApiResult<bool> {
        uc::revoke(state(ctx), caller(ctx), parse("id", &id)?).await?;
        Ok(true)
    }

    /// The signed-in citizen lets a tutor of a body that knows them act for them there
    /// (`scopes`: `cases`, `interactions`), until `expiresAt` if given.
    async fn grant_my_delegation(
        &self,
        ctx: &Context<'_>,
        tenant: String,
        tutor: String,
        tutor_issuer: String,
        scopes: Vec<String>,
        expires_at: Option<DateTime<Utc>>,
    ) -> ApiResult<Delegation> {
        let input = GrantMine {
            tenant,
            tutor_subject: tutor,
            tutor_issuer,
            scopes,
            expires_at,
        };
        Ok(uc::grant_mine(state(ctx), caller(ctx), input).await?.into())
    }

    /// The signed-in citizen revokes one of their delegations, whichever body recorded it.
    async fn revoke_my_delegation(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Delegation> {
        let d = uc::revoke_mine(state(ctx), caller(ctx), parse("id", &id)?).await?;
        Ok(d.into())
    }
}
