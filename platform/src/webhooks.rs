//! The webhook worker: posts due deliveries from the outbox, signed with each webhook's
//! secret, and records the outcome (retries back off exponentially). Delivery is at least
//! once: receivers deduplicate on `X-Civitas-Event-Id`.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;

use crate::metrics::Metrics;
use crate::outbound::{Outbound, OutboundError};

use chrono::{DateTime, Utc};
use civitas_crm::webhooks::{self, Due};
use civitas_tenants::{Db, TenantContext};
use ring::hmac;
use tokio::task::JoinHandle;

/// `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`: the timestamp is signed too,
/// so that a receiver can refuse replays of old deliveries.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let mut ctx = hmac::Context::with_key(&key);
    ctx.update(timestamp.to_string().as_bytes());
    ctx.update(b".");
    ctx.update(body);
    let tag = ctx.sign();
    let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("t={timestamp},v1={hex}")
}

async fn post(out: &Outbound, d: &Due, now: DateTime<Utc>) -> Result<u16, (Option<u16>, String)> {
    let body = serde_json::to_vec(&d.body).map_err(|e| (None, e.to_string()))?;
    let headers = [
        ("content-type", "application/json".to_owned()),
        ("x-civitas-event-id", d.event_id.to_string()),
        ("x-civitas-event-type", d.event_type.clone()),
        (
            "x-civitas-signature",
            signature(&d.secret, now.timestamp(), &body),
        ),
    ];
    out.post(&d.url, &headers, body).await.map_err(|e| {
        let status = match e {
            OutboundError::Status(s) => Some(s),
            _ => None,
        };
        // What is stored (and shown as lastError) is the guard's word, never a socket detail.
        (status, e.to_string())
    })
}

/// Deliveries posted at once for one body: a body with many due deliveries gets on, and
/// cannot take every connection.
const PER_TENANT: usize = 4;

/// Delivers one body's due deliveries, at most [`PER_TENANT`] at a time. Network calls
/// happen outside any database transaction.
async fn deliver_tenant(
    db: &Db,
    out: &Outbound,
    metrics: &Metrics,
    tenant: civitas_tenants::Tenant,
) -> anyhow::Result<usize> {
    let slug = tenant.slug.to_string();
    let ctx = TenantContext::system(tenant, "webhooks");
    let now = db.clock().now();
    let scope = db.scope(&ctx).await?;
    let due = webhooks::due(&scope, db.keyring(), now, 50).await?;
    scope.commit().await?;
    let attempted = due.len();
    let results: Vec<anyhow::Result<()>> = futures::stream::iter(due)
        .map(|d| {
            let ctx = &ctx;
            async move {
                let result = post(out, &d, now).await;
                if let Err((_, e)) = &result {
                    tracing::info!(url = %d.url, error = %e, attempt = d.attempts + 1, "webhook delivery failed");
                }
                let scope = db.scope(ctx).await?;
                webhooks::record(&scope, d.delivery_id, d.attempts, result, db.clock().now(), false)
                    .await?;
                scope.commit().await?;
                Ok(())
            }
        })
        .buffer_unordered(PER_TENANT)
        .collect()
        .await;
    results.into_iter().collect::<anyhow::Result<Vec<()>>>()?;
    let scope = db.scope(&ctx).await?;
    metrics.set_outbox_pending_of(&slug, webhooks::count_pending(&scope).await?);
    scope.commit().await?;
    Ok(attempted)
}

/// The worker: each body's deliveries run in a task of their own, so one body's slow
/// receiver holds up only that body's next pass, never another body's.
pub struct Worker {
    db: Db,
    out: Outbound,
    metrics: Arc<Metrics>,
    passes: crate::passes::Passes,
}

impl Worker {
    pub fn new(db: &Db, metrics: Arc<Metrics>, out: Outbound) -> Self {
        Worker {
            db: db.clone(),
            out,
            metrics,
            passes: Default::default(),
        }
    }

    /// Starts a pass for every active body that has none under way; returns how many
    /// passes it started.
    pub async fn tick(&self) -> anyhow::Result<usize> {
        self.passes
            .start(&self.db, "webhook delivery pass", |tenant| {
                let (db, out, metrics) = (self.db.clone(), self.out.clone(), self.metrics.clone());
                async move {
                    deliver_tenant(&db, &out, &metrics, tenant)
                        .await
                        .map(|_| ())
                }
            })
            .await
    }
}

pub fn spawn(
    db: &Db,
    metrics: Arc<Metrics>,
    poll_ms: u64,
    out: Outbound,
) -> anyhow::Result<Option<JoinHandle<()>>> {
    if poll_ms == 0 {
        return Ok(None);
    }
    let worker = Worker::new(db, metrics, out);
    Ok(Some(tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(poll_ms));
        loop {
            tick.tick().await;
            if let Err(e) = worker.tick().await {
                tracing::error!(error = %e, "webhook delivery run failed");
            }
        }
    })))
}
