//! The webhook worker: posts due deliveries from the outbox, signed with each webhook's
//! secret, and records the outcome (retries back off exponentially). Delivery is at least
//! once: receivers deduplicate on `X-Civitas-Event-Id`.

use std::sync::Arc;
use std::time::Duration;

use crate::metrics::Metrics;

use chrono::{DateTime, Utc};
use civitas_crm::webhooks::{self, Due};
use civitas_tenants::{Db, TenantContext, TenantStatus, registry};
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

async fn post(
    http: &reqwest::Client,
    d: &Due,
    now: DateTime<Utc>,
) -> Result<u16, (Option<u16>, String)> {
    let body = serde_json::to_vec(&d.body).map_err(|e| (None, e.to_string()))?;
    let resp = http
        .post(&d.url)
        .header("content-type", "application/json")
        .header("x-civitas-event-id", d.event_id.to_string())
        .header("x-civitas-event-type", &d.event_type)
        .header(
            "x-civitas-signature",
            signature(&d.secret, now.timestamp(), &body),
        )
        .body(body)
        .send()
        .await
        .map_err(|e| (None, e.to_string()))?;
    let status = resp.status().as_u16();
    if resp.status().is_success() {
        Ok(status)
    } else {
        Err((Some(status), format!("HTTP {status}")))
    }
}

/// One pass over every active body's due deliveries. Network calls happen outside any
/// database transaction.
pub async fn run_once(db: &Db, http: &reqwest::Client, metrics: &Metrics) -> anyhow::Result<usize> {
    let mut attempted = 0;
    let mut pending = std::collections::BTreeMap::new();
    for tenant in registry::list(db).await? {
        if tenant.status != TenantStatus::Active {
            continue;
        }
        let slug = tenant.slug.to_string();
        let ctx = TenantContext::system(tenant, "webhooks");
        let now = db.clock().now();
        let scope = db.scope(&ctx).await?;
        let due = webhooks::due(&scope, now, 50).await?;
        scope.commit().await?;
        for d in due {
            let result = post(http, &d, now).await;
            if let Err((_, e)) = &result {
                tracing::info!(url = %d.url, error = %e, attempt = d.attempts + 1, "webhook delivery failed");
            }
            let scope = db.scope(&ctx).await?;
            webhooks::record(
                &scope,
                d.delivery_id,
                d.attempts,
                result,
                db.clock().now(),
                false,
            )
            .await?;
            scope.commit().await?;
            attempted += 1;
        }
        let scope = db.scope(&ctx).await?;
        pending.insert(slug, webhooks::count_pending(&scope).await?);
        scope.commit().await?;
    }
    metrics.set_outbox_pending(pending);
    Ok(attempted)
}

pub fn spawn(
    db: &Db,
    metrics: Arc<Metrics>,
    poll_ms: u64,
) -> anyhow::Result<Option<JoinHandle<()>>> {
    if poll_ms == 0 {
        return Ok(None);
    }
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()?;
    let db = db.clone();
    Ok(Some(tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(poll_ms));
        loop {
            tick.tick().await;
            if let Err(e) = run_once(&db, &http, &metrics).await {
                tracing::error!(error = %e, "webhook delivery run failed");
            }
        }
    })))
}
