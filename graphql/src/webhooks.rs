//! A body's webhooks, managed by its administrators: a translation of
//! [`civitas_crm::app::webhooks`].

use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use civitas_crm::app::Page;
use civitas_crm::app::webhooks as uc;
use civitas_crm::entity::webhook_delivery;
use civitas_crm::webhooks;

use crate::caller::{caller, state};
use crate::connections::{Conn, connection, page};
use crate::error::{ApiError, ApiResult, Code};
use crate::ids::parse_id;

#[derive(SimpleObject)]
pub struct Webhook {
    pub id: ID,
    pub url: String,
    pub event_types: Vec<String>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

impl From<webhooks::Webhook> for Webhook {
    fn from(w: webhooks::Webhook) -> Self {
        Webhook {
            id: ID(w.id.to_string()),
            url: w.url,
            event_types: w.event_types,
            active: w.active,
            created_at: w.created_at,
        }
    }
}

#[derive(SimpleObject)]
pub struct CreatedWebhook {
    pub webhook: Webhook,
    /// The signing secret, shown this once: verify `X-Civitas-Signature` with it.
    pub secret: String,
}

#[derive(SimpleObject)]
pub struct WebhookDelivery {
    pub id: ID,
    pub webhook_id: ID,
    pub event_id: ID,
    /// pending, delivered or failed
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
}

impl From<webhook_delivery::Model> for WebhookDelivery {
    fn from(d: webhook_delivery::Model) -> Self {
        WebhookDelivery {
            id: ID(d.id.to_string()),
            webhook_id: ID(d.webhook_id.to_string()),
            event_id: ID(d.event_id.to_string()),
            status: d.status,
            attempts: d.attempts,
            next_attempt_at: d.next_attempt_at,
            last_status: d.last_status,
            last_error: d.last_error,
            delivered_at: d.delivered_at,
        }
    }
}

#[derive(Default)]
pub struct WebhookQuery;

#[Object]
impl WebhookQuery {
    async fn webhooks(&self, ctx: &Context<'_>) -> ApiResult<Vec<Webhook>> {
        let list = uc::list(state(ctx), caller(ctx)).await?;
        Ok(list.into_iter().map(Into::into).collect())
    }

    /// The delivery log, newest first, as a Relay connection.
    async fn webhook_delivery_log(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: i32,
        after: Option<String>,
    ) -> ApiResult<Conn<WebhookDelivery>> {
        let page = page(first, after)?;
        let (rows, more) = uc::deliveries(state(ctx), caller(ctx), page).await?;
        Ok(connection(
            rows,
            page.after.is_some(),
            more,
            |d| d.id.to_string(),
            WebhookDelivery::from,
        ))
    }

    /// The delivery log, newest first.
    #[graphql(
        deprecation = "Use `webhookDeliveryLog`, a Relay connection; this field goes in the next release."
    )]
    async fn webhook_deliveries(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 50)] limit: i32,
    ) -> ApiResult<Vec<WebhookDelivery>> {
        if !(1..=500).contains(&limit) {
            return Err(ApiError::new(
                Code::Validation,
                "limit must be between 1 and 500",
            ));
        }
        // The old field's larger pages, read as one page of the new use case.
        let page = Page {
            first: limit as u64,
            after: None,
        };
        let (rows, _) = uc::deliveries(state(ctx), caller(ctx), page).await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }
}

#[derive(Default)]
pub struct WebhookMutation;

#[Object]
impl WebhookMutation {
    /// Subscribes a URL to event types (`*` for all): case.created, case.assigned,
    /// case.status_changed, case.reopened, case.escalated, case.synced, case.message.
    async fn create_webhook(
        &self,
        ctx: &Context<'_>,
        url: String,
        event_types: Vec<String>,
    ) -> ApiResult<CreatedWebhook> {
        let (w, secret) = uc::create(state(ctx), caller(ctx), &url, &event_types).await?;
        Ok(CreatedWebhook {
            webhook: w.into(),
            secret,
        })
    }

    async fn remove_webhook(&self, ctx: &Context<'_>, id: ID) -> ApiResult<bool> {
        uc::remove(state(ctx), caller(ctx), parse_id("id", &id)?).await?;
        Ok(true)
    }
}
