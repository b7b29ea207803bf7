//! Contacts with citizens and the contact centre's caller recognition: a translation of
//! [`civitas_crm::app::interactions`].

use async_graphql::{ComplexObject, Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use civitas_crm::app::interactions::{self as uc, RecordInteraction};
use civitas_crm::interactions;
use civitas_tenants::TenantId;

use crate::caller::{caller, state};
use crate::cases::{Case, channel};
use crate::connections::{Conn, connection, page};
use crate::error::ApiResult;
use crate::ids::{parse, parse_opt};
use crate::loaders::{TenantRef, tenant_ref};

#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Interaction {
    pub id: ID,
    pub person_id: Option<ID>,
    pub case_id: Option<ID>,
    pub channel: String,
    pub direction: String,
    pub operator: String,
    pub on_behalf_of: Option<String>,
    pub summary: String,
    pub occurred_at: DateTime<Utc>,
    #[graphql(skip)]
    pub tenant_id: TenantId,
}

#[ComplexObject]
impl Interaction {
    async fn tenant(&self, ctx: &Context<'_>) -> ApiResult<TenantRef> {
        tenant_ref(ctx, self.tenant_id).await
    }
}

impl From<interactions::Interaction> for Interaction {
    fn from(i: interactions::Interaction) -> Self {
        Interaction {
            id: ID(i.id.to_string()),
            person_id: i.person_id.map(|p| ID(p.to_string())),
            case_id: i.case_id.map(|c| ID(c.to_string())),
            channel: i.channel,
            direction: i.direction,
            operator: i.operator,
            on_behalf_of: i.on_behalf_of,
            summary: i.summary,
            occurred_at: i.occurred_at,
            tenant_id: i.tenant_id,
        }
    }
}

/// Who is calling: only for callers who allowed this body to recognise them.
#[derive(SimpleObject)]
pub struct RecognisedCaller {
    pub person_id: ID,
    pub greeting_name: String,
    pub open_cases: Vec<Case>,
}

#[derive(InputObject)]
pub struct RecordInteractionInput {
    pub person_id: Option<ID>,
    pub case_id: Option<ID>,
    pub channel: String,
    /// `inbound` or `outbound`.
    pub direction: String,
    pub summary: String,
    pub occurred_at: Option<DateTime<Utc>>,
    pub on_behalf_of: Option<ID>,
}

#[derive(Default)]
pub struct InteractionQuery;

#[Object]
impl InteractionQuery {
    /// Who is calling from this number: only when they allowed this body to recognise them
    /// (privacy purpose `caller_recognition`); otherwise `null`. Every look-up is audited.
    async fn identify_caller(
        &self,
        ctx: &Context<'_>,
        phone: String,
    ) -> ApiResult<Option<RecognisedCaller>> {
        let found = uc::identify_caller(state(ctx), caller(ctx), &phone).await?;
        Ok(found.map(|c| RecognisedCaller {
            person_id: ID(c.person_id.to_string()),
            greeting_name: c.greeting_name,
            open_cases: c.open_cases.into_iter().map(Into::into).collect(),
        }))
    }

    /// The body's contacts with a citizen, newest recorded first, as a Relay connection.
    async fn interaction_history(
        &self,
        ctx: &Context<'_>,
        person_id: ID,
        #[graphql(default = 20)] first: i32,
        after: Option<String>,
    ) -> ApiResult<Conn<Interaction>> {
        let person = parse("personId", &person_id)?;
        let page = page(first, after)?;
        let (rows, more) = uc::history(state(ctx), caller(ctx), person, page).await?;
        Ok(connection(
            rows,
            page.after.is_some(),
            more,
            |i| i.id.to_string(),
            Interaction::from,
        ))
    }

    /// The body's contacts with a citizen, newest first.
    #[graphql(
        deprecation = "Use `interactionHistory`, a Relay connection; this field goes in the next release."
    )]
    async fn interactions(&self, ctx: &Context<'_>, person_id: ID) -> ApiResult<Vec<Interaction>> {
        let list = uc::of_person(state(ctx), caller(ctx), parse("personId", &person_id)?).await?;
        Ok(list.into_iter().map(Into::into).collect())
    }
}

#[derive(Default)]
pub struct InteractionMutation;

#[Object]
impl InteractionMutation {
    /// Records a contact with a citizen on any channel.
    async fn record_interaction(
        &self,
        ctx: &Context<'_>,
        input: RecordInteractionInput,
    ) -> ApiResult<Interaction> {
        let new = RecordInteraction {
            person_id: parse_opt("personId", input.person_id.as_ref())?,
            case_id: parse_opt("caseId", input.case_id.as_ref())?,
            channel: channel(&input.channel)?,
            direction: input.direction,
            summary: input.summary,
            occurred_at: input.occurred_at,
            on_behalf_of: parse_opt("onBehalfOf", input.on_behalf_of.as_ref())?,
        };
        Ok(uc::record(state(ctx), caller(ctx), new).await?.into())
    }
}
