//! Outbound webhooks: each body subscribes URLs to event types; events are written to an
//! outbox in the same transaction as the change, with one delivery per subscription, and a
//! worker posts them (signed) with retries and exponential backoff.

use chrono::{DateTime, Duration, Utc};
use civitas_tenants::Scope;
use civitas_tenants::sealed::Keyring;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use crate::entity::{outbox, webhook, webhook_delivery};
use crate::{Error, Result};

/// The event types a webhook may subscribe to.
pub const EVENT_TYPES: &[&str] = &[
    "case.created",
    "case.assigned",
    "case.status_changed",
    "case.reopened",
    "case.escalated",
    "case.synced",
    "case.message",
];
/// After this many failed attempts a delivery is given up (and shown as failed).
pub const MAX_ATTEMPTS: i32 = 12;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Webhook {
    pub id: Uuid,
    pub url: String,
    pub event_types: Vec<String>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

impl From<webhook::Model> for Webhook {
    fn from(m: webhook::Model) -> Self {
        Webhook {
            id: m.id,
            url: m.url,
            event_types: m.event_types.split(',').map(str::to_owned).collect(),
            active: m.active,
            created_at: m.created_at,
        }
    }
}

/// Where a webhook's signing secret is sealed: its own row.
fn secret_context(id: Uuid) -> String {
    format!("webhooks.secret:{id}")
}

/// Seals every signing secret of the scope's body that is not sealed under the keyring's
/// current key; how many were sealed again.
pub async fn rewrap_secrets(scope: &Scope, keyring: &Keyring) -> Result<u64> {
    let rows = scope.find::<webhook::Entity>().all(scope.conn()).await?;
    let mut done = 0;
    for h in rows {
        if let Some(sealed) = keyring
            .rewrap(&secret_context(h.id), &h.secret)
            .map_err(civitas_tenants::Error::from)?
        {
            scope
                .update_many::<webhook::Entity>()
                .col_expr(webhook::Column::Secret, Expr::value(sealed))
                .filter(webhook::Column::Id.eq(h.id))
                .exec(scope.conn())
                .await?;
            done += 1;
        }
    }
    Ok(done)
}

/// A fresh signing secret: two random UUIDs (244 random bits), hex.
pub fn new_secret() -> String {
    let a = Uuid::new_v4().simple().to_string();
    let b = Uuid::new_v4().simple().to_string();
    format!("whsec_{a}{b}")
}

fn invalid(m: impl Into<String>) -> Error {
    Error::Validation(m.into())
}

/// Subscribes `url` to `event_types` (`*` for all); returns the webhook and its signing
/// secret, which is shown this once.
pub async fn subscribe(
    scope: &Scope,
    keyring: &Keyring,
    url: &str,
    event_types: &[String],
    secret: String,
    now: DateTime<Utc>,
    policy: &dyn civitas_tenants::UrlPolicy,
) -> Result<(Webhook, String)> {
    let url = url.trim();
    if !(url.starts_with("https://") || url.starts_with("http://"))
        || url.len() > 2000
        || url.contains(char::is_whitespace)
    {
        return Err(invalid("url must be an http(s) URL"));
    }
    if let Some(why) = policy.refuses(url) {
        return Err(invalid(format!("url: {why}")));
    }
    if event_types.is_empty()
        || event_types
            .iter()
            .any(|t| t != "*" && !EVENT_TYPES.contains(&t.as_str()))
    {
        return Err(invalid(format!(
            "eventTypes must be * or some of {}",
            EVENT_TYPES.join(", ")
        )));
    }
    let id = Uuid::now_v7();
    let row = webhook::ActiveModel {
        id: Set(id),
        url: Set(url.to_owned()),
        secret: Set(keyring.seal(&secret_context(id), &secret)),
        event_types: Set(event_types.join(",")),
        active: Set(true),
        created_at: Set(now),
        ..Default::default()
    };
    Ok((scope.insert(row).await?.into(), secret))
}

pub async fn list(scope: &Scope) -> Result<Vec<Webhook>> {
    Ok(scope
        .find::<webhook::Entity>()
        .order_by_asc(webhook::Column::CreatedAt)
        .all(scope.conn())
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
}

/// Stops a webhook; deliveries already queued are abandoned by the worker.
pub async fn deactivate(scope: &Scope, id: Uuid) -> Result<()> {
    let res = scope
        .update_many::<webhook::Entity>()
        .set(webhook::ActiveModel {
            active: Set(false),
            ..Default::default()
        })
        .filter(webhook::Column::Id.eq(id))
        .exec(scope.conn())
        .await?;
    if res.rows_affected == 0 {
        return Err(Error::NotFound("webhook"));
    }
    Ok(())
}

/// Writes an event and its deliveries in the caller's transaction.
pub async fn enqueue(
    scope: &Scope,
    event_type: &str,
    payload: Value,
    now: DateTime<Utc>,
) -> Result<()> {
    let subscribers: Vec<webhook::Model> = scope
        .find::<webhook::Entity>()
        .filter(webhook::Column::Active.eq(true))
        .all(scope.conn())
        .await?
        .into_iter()
        .filter(|w| {
            w.event_types
                .split(',')
                .any(|t| t == "*" || t == event_type)
        })
        .collect();
    if subscribers.is_empty() {
        return Ok(());
    }
    let event = scope
        .insert(outbox::ActiveModel {
            id: Set(Uuid::now_v7()),
            event_type: Set(event_type.to_owned()),
            payload: Set(payload),
            created_at: Set(now),
            ..Default::default()
        })
        .await?;
    for w in subscribers {
        scope
            .insert(webhook_delivery::ActiveModel {
                id: Set(Uuid::now_v7()),
                webhook_id: Set(w.id),
                event_id: Set(event.id),
                status: Set("pending".into()),
                attempts: Set(0),
                next_attempt_at: Set(now),
                last_status: Set(None),
                last_error: Set(None),
                delivered_at: Set(None),
                ..Default::default()
            })
            .await?;
    }
    Ok(())
}

/// One delivery to attempt: where, with which secret, what.
#[derive(Clone, Debug)]
pub struct Due {
    pub delivery_id: Uuid,
    pub attempts: i32,
    pub url: String,
    pub secret: String,
    pub event_id: Uuid,
    pub event_type: String,
    pub body: Value,
}

/// Deliveries of the scope's body whose time has come, oldest first, taken for two
/// minutes as notifications' are (`notify::outbox::due`): replicas do not post the same
/// delivery at once; a worker that dies leaves it due again after the lease.
pub async fn due(
    scope: &Scope,
    keyring: &Keyring,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<Due>> {
    let rows = crate::paging::take_due(
        scope,
        scope
            .find::<webhook_delivery::Entity>()
            .filter(webhook_delivery::Column::Status.eq("pending"))
            .filter(webhook_delivery::Column::NextAttemptAt.lte(now))
            .order_by_asc(webhook_delivery::Column::NextAttemptAt)
            .limit(limit),
    )
    .await?;
    if !rows.is_empty() {
        scope
            .update_many::<webhook_delivery::Entity>()
            .col_expr(
                webhook_delivery::Column::NextAttemptAt,
                (now + crate::notify::outbox::lease()).into(),
            )
            .filter(webhook_delivery::Column::Id.is_in(rows.iter().map(|d| d.id)))
            .exec(scope.conn())
            .await?;
    }
    // Their webhooks and events in two queries, not two per delivery.
    let hooks: std::collections::HashMap<Uuid, webhook::Model> = scope
        .find::<webhook::Entity>()
        .filter(webhook::Column::Id.is_in(rows.iter().map(|d| d.webhook_id)))
        .all(scope.conn())
        .await?
        .into_iter()
        .map(|h| (h.id, h))
        .collect();
    let events: std::collections::HashMap<Uuid, outbox::Model> = scope
        .find::<outbox::Entity>()
        .filter(outbox::Column::Id.is_in(rows.iter().map(|d| d.event_id)))
        .all(scope.conn())
        .await?
        .into_iter()
        .map(|e| (e.id, e))
        .collect();
    let mut out = Vec::new();
    for d in rows {
        let hook = hooks.get(&d.webhook_id).filter(|h| h.active);
        // An event may feed several deliveries (one per webhook): clone it for each.
        let (h, e) = match (hook, events.get(&d.event_id).cloned()) {
            (Some(h), Some(e)) => (h, e),
            _ => {
                record(
                    scope,
                    d.id,
                    d.attempts,
                    Err((None, "webhook removed".into())),
                    now,
                    true,
                )
                .await?;
                continue;
            }
        };
        let secret = match keyring.open(&secret_context(h.id), &h.secret) {
            Ok(s) => s,
            // Nothing is sent unsigned; the delivery waits for the keyring to be mended.
            Err(err) => {
                tracing::error!(webhook = %h.id, error = %err, "webhook signing secret unreadable");
                let why = "the signing secret could not be read (see the server log)";
                record(scope, d.id, d.attempts, Err((None, why.into())), now, false).await?;
                continue;
            }
        };
        out.push(Due {
            delivery_id: d.id,
            attempts: d.attempts,
            url: h.url.clone(),
            secret,
            event_id: e.id,
            body: serde_json::json!({ "id": e.id, "type": e.event_type, "occurredAt": e.created_at, "data": e.payload }),
            event_type: e.event_type,
        });
    }
    Ok(out)
}

/// Records an attempt: delivered, or retried after 2^attempts seconds (at most an hour),
/// or given up after [`MAX_ATTEMPTS`] (or when `final_` says so).
pub async fn record(
    scope: &Scope,
    id: Uuid,
    attempts_before: i32,
    result: Result<u16, (Option<u16>, String)>,
    now: DateTime<Utc>,
    final_: bool,
) -> Result<()> {
    let attempts = attempts_before + 1;
    let mut row = webhook_delivery::ActiveModel {
        attempts: Set(attempts),
        ..Default::default()
    };
    match result {
        Ok(status) => {
            row.status = Set("delivered".into());
            row.last_status = Set(Some(i32::from(status)));
            row.last_error = Set(None);
            row.delivered_at = Set(Some(now));
        }
        Err((status, error)) => {
            let give_up = final_ || attempts >= MAX_ATTEMPTS;
            row.status = Set(if give_up { "failed" } else { "pending" }.into());
            row.last_status = Set(status.map(i32::from));
            row.last_error = Set(Some(error.chars().take(500).collect()));
            row.next_attempt_at =
                Set(now + Duration::seconds(2i64.pow(attempts.clamp(0, 12) as u32).min(3600)));
        }
    }
    scope
        .update_many::<webhook_delivery::Entity>()
        .set(row)
        .filter(webhook_delivery::Column::Id.eq(id))
        .exec(scope.conn())
        .await?;
    Ok(())
}

/// The delivery log, newest first.
pub async fn deliveries(
    scope: &Scope,
    first: u64,
    after: Option<Uuid>,
) -> Result<(Vec<webhook_delivery::Model>, bool)> {
    let q = scope.find::<webhook_delivery::Entity>();
    crate::paging::newest_first(scope.conn(), q, webhook_delivery::Column::Id, first, after).await
}

/// How many deliveries of the scope's body wait to be sent.
pub async fn count_pending(scope: &Scope) -> Result<u64> {
    use sea_orm::PaginatorTrait;
    Ok(scope
        .find::<webhook_delivery::Entity>()
        .filter(webhook_delivery::Column::Status.eq("pending"))
        .count(scope.conn())
        .await?)
}
