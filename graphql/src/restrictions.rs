//! Restriction and objection: a translation of [`civitas_crm::app::restrictions`].

use async_graphql::{Context, Enum, ID, InputObject, Object};
use chrono::{DateTime, Utc};
use civitas_crm::app::restrictions as uc;
use civitas_crm::restrictions::{Kind, Purpose, Restriction as Model};

use crate::caller::{caller, state};
use crate::connections::Conn;
use crate::erasure::paged;
use crate::error::ApiResult;
use crate::ids::parse_id;
use crate::loaders::{TenantRef, tenant_ref};

/// What a restriction stops at its body.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum RestrictionPurpose {
    /// The body's staff no longer see the citizen nor use their cases; kept, unused.
    CaseHandling,
    /// The body sends the citizen no notifications.
    Notifications,
    /// The body may not put the citizen in segments or campaigns.
    Engagement,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum RestrictionKind {
    /// GDPR art. 18: keep the records, do not use them.
    Restriction,
    /// GDPR art. 21: the citizen objects to the processing.
    Objection,
}

impl From<RestrictionPurpose> for Purpose {
    fn from(p: RestrictionPurpose) -> Self {
        match p {
            RestrictionPurpose::CaseHandling => Purpose::CaseHandling,
            RestrictionPurpose::Notifications => Purpose::Notifications,
            RestrictionPurpose::Engagement => Purpose::Engagement,
        }
    }
}

impl From<Purpose> for RestrictionPurpose {
    fn from(p: Purpose) -> Self {
        match p {
            Purpose::CaseHandling => RestrictionPurpose::CaseHandling,
            Purpose::Notifications => RestrictionPurpose::Notifications,
            Purpose::Engagement => RestrictionPurpose::Engagement,
        }
    }
}

pub struct Restriction(Model);

#[Object]
impl Restriction {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn tenant(&self, ctx: &Context<'_>) -> ApiResult<TenantRef> {
        tenant_ref(ctx, self.0.tenant_id).await
    }
    async fn purpose(&self) -> RestrictionPurpose {
        self.0.purpose.into()
    }
    async fn kind(&self) -> RestrictionKind {
        match self.0.kind {
            Kind::Restriction => RestrictionKind::Restriction,
            Kind::Objection => RestrictionKind::Objection,
        }
    }
    async fn reason(&self) -> &str {
        &self.0.reason
    }
    async fn requested_at(&self) -> DateTime<Utc> {
        self.0.requested_at
    }
    /// Null while in force.
    async fn lifted_at(&self) -> Option<DateTime<Utc>> {
        self.0.lifted_at
    }
}

#[derive(InputObject)]
pub struct RestrictInput {
    /// The body, by slug.
    pub body: String,
    pub purpose: RestrictionPurpose,
    /// Omitted or null: a restriction.
    pub kind: Option<RestrictionKind>,
    /// Why, in the citizen's words (optional, at most 2,000 characters).
    #[graphql(default)]
    pub reason: String,
}

#[derive(Default)]
pub struct RestrictionQuery;

#[Object]
impl RestrictionQuery {
    /// The signed-in citizen's restrictions and objections at every body, newest first.
    async fn my_restrictions(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: i32,
        after: Option<String>,
    ) -> ApiResult<Conn<Restriction>> {
        let found = uc::mine(state(ctx), caller(ctx)).await?;
        paged(found, first, after, Restriction)
    }
}

#[derive(Default)]
pub struct RestrictionMutation;

#[Object]
impl RestrictionMutation {
    /// The signed-in citizen restricts (art. 18), or objects to (art. 21), a body's
    /// processing of their records for a purpose. CONFLICT while one is in force for it;
    /// NOT_FOUND when the body holds no record of them.
    async fn restrict_processing(
        &self,
        ctx: &Context<'_>,
        input: RestrictInput,
    ) -> ApiResult<Restriction> {
        let kind = match input.kind {
            None | Some(RestrictionKind::Restriction) => Kind::Restriction,
            Some(RestrictionKind::Objection) => Kind::Objection,
        };
        let r = uc::restrict_mine(
            state(ctx),
            caller(ctx),
            &input.body,
            input.purpose.into(),
            kind,
            &input.reason,
        )
        .await?;
        Ok(Restriction(r))
    }

    /// Lifts one of the signed-in citizen's restrictions.
    async fn lift_restriction(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Restriction> {
        let id = parse_id("id", &id)?;
        Ok(Restriction(
            uc::lift_mine(state(ctx), caller(ctx), id).await?,
        ))
    }
}
