//! Real time: the domain's case changes ([`civitas_crm::events`]) as GraphQL
//! subscriptions, each ending when the caller's rights or token do.

use std::pin::Pin;

use async_graphql::{Context, ID, SimpleObject, Subscription};
use chrono::{DateTime, Utc};
use civitas_crm::app::watch;
use civitas_crm::events::CaseChange;
use civitas_crm::notifications::Language;
use civitas_tenants::TenantId;
use futures::{Stream, StreamExt};

use crate::caller::{caller, state};
use crate::error::{ApiError, ApiResult};
use crate::loaders::{TenantRef, tenant_ref};

#[derive(SimpleObject)]
#[graphql(complex)]
pub struct CaseChanged {
    pub case_id: ID,
    pub number: String,
    pub status: String,
    /// created, assigned, status_changed, reopened, escalated, synced, message
    pub kind: String,
    pub at: DateTime<Utc>,
    #[graphql(skip)]
    pub tenant_id: TenantId,
}

#[async_graphql::ComplexObject]
impl CaseChanged {
    async fn tenant(&self, ctx: &Context<'_>) -> ApiResult<TenantRef> {
        tenant_ref(ctx, self.tenant_id).await
    }
}

impl From<CaseChange> for CaseChanged {
    fn from(c: CaseChange) -> Self {
        CaseChanged {
            case_id: ID(c.case_id.to_string()),
            number: c.number,
            status: c.status,
            kind: c.kind,
            at: c.at,
            tenant_id: TenantId(c.tenant_id),
        }
    }
}

type Changes = Pin<Box<dyn Stream<Item = CaseChanged> + Send>>;

#[derive(Default)]
pub struct Subscription;

#[Subscription]
impl Subscription {
    /// Every change to the caller's body's cases (operators, supervisors, integrators).
    async fn case_changed(&self, ctx: &Context<'_>) -> async_graphql::Result<Changes> {
        let changes = watch::body_cases(state(ctx), caller(ctx))
            .await
            .map_err(ApiError::from)?;
        Ok(Box::pin(changes.map(CaseChanged::from)))
    }

    /// The signed-in citizen's new notifications, from every body, titled in `language`
    /// (`it` by default, or `en`); ends when the token expires.
    async fn my_notifications(
        &self,
        ctx: &Context<'_>,
        language: Option<String>,
    ) -> async_graphql::Result<Pin<Box<dyn Stream<Item = crate::me::Notification> + Send>>> {
        let lang = Language::from_tag(language.as_deref());
        let events = watch::own_notifications(state(ctx), caller(ctx))
            .await
            .map_err(ApiError::from)?;
        Ok(Box::pin(
            events.map(move |n| crate::me::Notification::of(n, lang)),
        ))
    }

    /// Changes to the signed-in citizen's own cases, in every body.
    async fn my_case_changed(&self, ctx: &Context<'_>) -> async_graphql::Result<Changes> {
        let changes = watch::own_cases(state(ctx), caller(ctx))
            .await
            .map_err(ApiError::from)?;
        Ok(Box::pin(changes.map(CaseChanged::from)))
    }
}
