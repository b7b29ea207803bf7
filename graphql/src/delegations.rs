//! Tutors' delegations: a translation of [`civitas_crm::app::delegations`].

use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use civitas_crm::app::delegations::{self as uc, GrantDelegation};

use crate::caller::{caller, state};
use crate::error::ApiResult;
use crate::ids::parse;

#[derive(SimpleObject)]
pub struct Delegation {
    pub id: ID,
    pub person_id: ID,
    pub tutor_subject: String,
    pub tutor_issuer: String,
    pub scopes: Vec<String>,
    pub expires_at: Option<DateTime<Utc>>,
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
        }
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
}
