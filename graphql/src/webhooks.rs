//! A body's webhooks, managed by its administrators.

use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use civitas_crm::webhooks;
use civitas_tenants::audit;
use serde_json::json;

use crate::caller::{authorize, state};
use crate::citizens::parse_id;
use crate::error::{ApiError, ApiResult, Code};

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

#[derive(Default)]
pub struct WebhookQuery;

#[Object]
impl WebhookQuery {
    async fn webhooks(&self, ctx: &Context<'_>) -> ApiResult<Vec<Webhook>> {
        let tc = authorize(ctx, "tenant", "update").await?;
        let scope = state(ctx).db.scope(tc).await?;
        let list = webhooks::list(&scope).await?;
        scope.commit().await?;
        Ok(list.into_iter().map(Into::into).collect())
    }

    /// The delivery log, newest first.
    async fn webhook_deliveries(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 50)] limit: i32,
    ) -> ApiResult<Vec<WebhookDelivery>> {
        let tc = authorize(ctx, "tenant", "update").await?;
        if !(1..=500).contains(&limit) {
            return Err(ApiError::new(
                Code::Validation,
                "limit must be between 1 and 500",
            ));
        }
        let scope = state(ctx).db.scope(tc).await?;
        let rows = webhooks::deliveries(&scope, limit as u64).await?;
        scope.commit().await?;
        Ok(rows
            .into_iter()
            .map(|d| WebhookDelivery {
                id: ID(d.id.to_string()),
                webhook_id: ID(d.webhook_id.to_string()),
                event_id: ID(d.event_id.to_string()),
                status: d.status,
                attempts: d.attempts,
                next_attempt_at: d.next_attempt_at,
                last_status: d.last_status,
                last_error: d.last_error,
                delivered_at: d.delivered_at,
            })
            .collect())
    }
}

#[derive(Default)]
pub struct WebhookMutation;

#[Object]
impl WebhookMutation {
    /// Subscribes a URL to event types (`*` for all): case.created, case.assigned,
    /// case.status_changed, case.reopened, case.escalated, case.synced.
    async fn create_webhook(
        &self,
        ctx: &Context<'_>,
        url: String,
        event_types: Vec<String>,
    ) -> ApiResult<CreatedWebhook> {
        let tc = authorize(ctx, "tenant", "update").await?;
        let s = state(ctx);
        let scope = s.db.scope(tc).await?;
        let secret = civitas_crm::webhooks::new_secret();
        let (w, secret) = webhooks::subscribe(
            &scope,
            &url,
            &event_types,
            secret,
            s.db.clock().now(),
            &*s.outbound,
        )
        .await?;
        audit::record(
            &scope,
            &tc.identity(),
            "webhook.created",
            Some(&w.url),
            json!({ "id": w.id }),
        )
        .await?;
        scope.commit().await?;
        Ok(CreatedWebhook {
            webhook: w.into(),
            secret,
        })
    }

    async fn remove_webhook(&self, ctx: &Context<'_>, id: ID) -> ApiResult<bool> {
        let tc = authorize(ctx, "tenant", "update").await?;
        let scope = state(ctx).db.scope(tc).await?;
        webhooks::deactivate(&scope, parse_id("id", &id)?).await?;
        audit::record(
            &scope,
            &tc.identity(),
            "webhook.removed",
            Some(id.as_str()),
            json!({}),
        )
        .await?;
        scope.commit().await?;
        Ok(true)
    }
}
