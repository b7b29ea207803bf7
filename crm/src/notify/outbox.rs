//! The outbox of notifications: a delivery per notification and channel, written with the
//! notification; what is due, with what the message needs; every attempt recorded; retries
//! with backoff, then given up ("failed": the dead letters, kept and listed).

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use civitas_tenants::Scope;
use sea_orm::{ActiveValue::Set, ColumnTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::choices;
use super::settings::NotificationSettings;
use super::templates::Facts;
use crate::Result;
use crate::channels::{Channel, ContactKind};
use crate::entity::{
    case, contact, notification, notification_attempt, notification_delivery as delivery, profile,
};
use crate::notifications::Language;

/// Attempts before a delivery is given up.
pub const MAX_ATTEMPTS: i32 = 8;

/// The wait after the `n`th failed attempt: 30 s, doubling, at most an hour.
pub fn backoff(n: i32) -> Duration {
    Duration::seconds((30i64 << (n - 1).clamp(0, 7)).min(3600))
}

/// The channels tried, in order, for a citizen who prefers none the body can send on:
/// WhatsApp and app push only ever by the citizen's own choice.
const FALLBACK: [Channel; 2] = [Channel::Email, Channel::Sms];

/// Queues `n` on one channel: the citizen's preferred one at this body if the body sends on
/// it and holds an address for it, else e-mail, else SMS; never a channel the citizen
/// refused this body. With none the notification stays in the inbox only. `occasion`,
/// the occasion's channel (a case's), is tried before the preferred one.
pub(crate) async fn enqueue(
    scope: &Scope,
    n: &notification::Model,
    occasion: Option<Channel>,
) -> Result<()> {
    let settings = NotificationSettings::saved(&scope.settings().await?);
    let enabled = settings.channels();
    if enabled.is_empty() {
        return Ok(());
    }
    let preferred: Option<Channel> = scope
        .find::<profile::Entity>()
        .filter(profile::Column::PersonId.eq(n.person_id))
        .filter(profile::Column::MergedInto.is_null())
        .one(scope.conn())
        .await?
        .and_then(|p| p.preferred_channel)
        .and_then(|c| c.parse().ok());
    let contacts = scope
        .find::<contact::Entity>()
        .filter(contact::Column::PersonId.eq(n.person_id))
        .order_by_asc(contact::Column::CreatedAt)
        .all(scope.conn())
        .await?;
    let first = |kind: ContactKind| {
        contacts
            .iter()
            .find(|c| c.kind == kind.as_str())
            .map(|c| c.value.clone())
    };
    let refused = choices::refused(scope, n.person_id).await?;
    let chosen = occasion
        .into_iter()
        .chain(preferred)
        .chain(FALLBACK)
        .filter(|c| enabled.contains(c) && !refused.contains(c))
        .find_map(|c| {
            let address = match c {
                Channel::Email => first(ContactKind::Email),
                Channel::Sms | Channel::Whatsapp => first(ContactKind::Phone),
                Channel::App => Some(n.person_id.to_string()),
                _ => None,
            };
            address.map(|a| (c, a))
        });
    let Some((channel, address)) = chosen else {
        return Ok(());
    };
    scope
        .insert(delivery::ActiveModel {
            id: Set(Uuid::now_v7()),
            notification_id: Set(n.id),
            person_id: Set(n.person_id),
            channel: Set(channel.to_string()),
            address: Set(address),
            status: Set("pending".into()),
            attempts: Set(0),
            next_attempt_at: Set(n.created_at),
            last_error: Set(None),
            sent_at: Set(None),
            created_at: Set(n.created_at),
            ..Default::default()
        })
        .await?;
    Ok(())
}

/// A delivery whose time has come, with what its message needs.
#[derive(Clone, Debug)]
pub struct Due {
    pub delivery_id: Uuid,
    pub notification_id: Uuid,
    pub person_id: Uuid,
    pub attempts: i32,
    pub channel: Channel,
    pub to: String,
    pub language: Language,
    pub facts: Facts,
}

/// How long a worker holds the deliveries it took: another replica's worker leaves them
/// alone meanwhile; if this one dies, they are due again after it (at least once).
pub fn lease() -> Duration {
    Duration::minutes(2)
}

/// Up to `limit` due deliveries of the scope's body, oldest first, taken for [`lease`]:
/// on PostgreSQL rows another worker is taking are skipped (`FOR UPDATE SKIP LOCKED`),
/// and the taken ones are not due again until the lease ends, so that replicas never send
/// the same message twice (SQLite has one writer at a time). Those to a citizen who has
/// since refused the channel are marked skipped, not returned.
pub async fn due(scope: &Scope, now: DateTime<Utc>, limit: u64) -> Result<Vec<Due>> {
    let rows = crate::paging::take_due(
        scope,
        scope
            .find::<delivery::Entity>()
            .filter(delivery::Column::Status.eq("pending"))
            .filter(delivery::Column::NextAttemptAt.lte(now))
            .order_by_asc(delivery::Column::NextAttemptAt)
            .limit(limit),
    )
    .await?;
    if rows.is_empty() {
        return Ok(vec![]);
    }
    scope
        .update_many::<delivery::Entity>()
        .col_expr(delivery::Column::NextAttemptAt, (now + lease()).into())
        .filter(delivery::Column::Id.is_in(rows.iter().map(|d| d.id)))
        .exec(scope.conn())
        .await?;
    let notes: HashMap<Uuid, notification::Model> = scope
        .find::<notification::Entity>()
        .filter(notification::Column::Id.is_in(rows.iter().map(|d| d.notification_id)))
        .all(scope.conn())
        .await?
        .into_iter()
        .map(|n| (n.id, n))
        .collect();
    let titles: HashMap<Uuid, String> = scope
        .find::<case::Entity>()
        .filter(case::Column::Id.is_in(notes.values().filter_map(|n| n.case_id)))
        .all(scope.conn())
        .await?
        .into_iter()
        .map(|c| (c.id, c.title))
        .collect();
    let people: HashMap<Uuid, profile::Model> = scope
        .find::<profile::Entity>()
        .filter(profile::Column::PersonId.is_in(rows.iter().map(|d| d.person_id)))
        .filter(profile::Column::MergedInto.is_null())
        .all(scope.conn())
        .await?
        .into_iter()
        .map(|p| (p.person_id, p))
        .collect();
    let refused: Vec<(Uuid, String)> = scope
        .find::<crate::entity::channel_choice::Entity>()
        .filter(
            crate::entity::channel_choice::Column::PersonId.is_in(rows.iter().map(|d| d.person_id)),
        )
        .filter(crate::entity::channel_choice::Column::Allowed.eq(false))
        .all(scope.conn())
        .await?
        .into_iter()
        .map(|c| (c.person_id, c.channel))
        .collect();
    let persons: Vec<Uuid> = rows.iter().map(|d| d.person_id).collect();
    let quiet = super::quiet::of(scope, &persons).await?;
    let zone = NotificationSettings::saved(&scope.settings().await?).zone();
    let mut out = Vec::with_capacity(rows.len());
    let mut held: HashMap<DateTime<Utc>, Vec<Uuid>> = HashMap::new();
    for d in rows {
        let channel: Option<Channel> = d.channel.parse().ok();
        let note = notes.get(&d.notification_id);
        let (Some(channel), Some(note)) = (channel, note) else {
            skip(scope, d.id, "nothing to send", now).await?;
            continue;
        };
        if refused.contains(&(d.person_id, d.channel.clone())) {
            skip(scope, d.id, "the citizen refused this channel", now).await?;
            continue;
        }
        let p = people.get(&d.person_id);
        if let Some(q) = quiet.get(&d.person_id) {
            let release = q.release(now, zone);
            if release > now {
                held.entry(release).or_default().push(d.id);
                continue;
            }
        }
        out.push(Due {
            delivery_id: d.id,
            notification_id: d.notification_id,
            person_id: d.person_id,
            attempts: d.attempts,
            channel,
            to: d.address,
            language: Language::from_tag(p.and_then(|p| p.language.as_deref())),
            facts: Facts {
                kind: note.kind.clone(),
                given_name: p.map(|p| p.given_name.clone()).unwrap_or_default(),
                family_name: p.map(|p| p.family_name.clone()).unwrap_or_default(),
                body_name: String::new(),
                case_number: note.case_number.clone(),
                case_title: note.case_id.and_then(|c| titles.get(&c).cloned()),
                status: note.status.as_deref().and_then(|s| s.parse().ok()),
                unsubscribe_url: None,
                message: note.message.clone(),
                invitation: note.invitation_id,
                survey_url: None,
            },
        });
    }
    // Put off until the end of the citizens' quiet hours: not an attempt. One statement
    // per end time (the citizens of a body share their zone).
    for (until, ids) in held {
        scope
            .update_many::<delivery::Entity>()
            .col_expr(delivery::Column::NextAttemptAt, until.into())
            .filter(delivery::Column::Id.is_in(ids))
            .exec(scope.conn())
            .await?;
    }
    Ok(out)
}

async fn attempt(
    scope: &Scope,
    id: Uuid,
    ok: bool,
    error: Option<String>,
    now: DateTime<Utc>,
) -> Result<()> {
    scope
        .insert(notification_attempt::ActiveModel {
            id: Set(Uuid::now_v7()),
            delivery_id: Set(id),
            attempted_at: Set(now),
            ok: Set(ok),
            error: Set(error),
            ..Default::default()
        })
        .await?;
    Ok(())
}

/// Marks a delivery as not to be sent, and why.
pub async fn skip(scope: &Scope, id: Uuid, why: &str, now: DateTime<Utc>) -> Result<()> {
    scope
        .update_many::<delivery::Entity>()
        .set(delivery::ActiveModel {
            status: Set("skipped".into()),
            last_error: Set(Some(why.to_owned())),
            next_attempt_at: Set(now),
            ..Default::default()
        })
        .filter(delivery::Column::Id.eq(id))
        .exec(scope.conn())
        .await?;
    Ok(())
}

/// Records an attempt: sent; or failed, retried after [`backoff`], given up after
/// [`MAX_ATTEMPTS`] or at once when `permanent` (the server refused the recipient).
pub async fn record(
    scope: &Scope,
    d: &Due,
    result: std::result::Result<(), (bool, String)>,
    now: DateTime<Utc>,
) -> Result<()> {
    let attempts = d.attempts + 1;
    let mut row = delivery::ActiveModel {
        attempts: Set(attempts),
        ..Default::default()
    };
    let error = match &result {
        Ok(()) => {
            row.status = Set("sent".into());
            row.sent_at = Set(Some(now));
            row.last_error = Set(None);
            None
        }
        Err((permanent, e)) => {
            let e: String = e.chars().take(500).collect();
            let give_up = *permanent || attempts >= MAX_ATTEMPTS;
            row.status = Set(if give_up { "failed" } else { "pending" }.into());
            row.next_attempt_at = Set(now + backoff(attempts));
            row.last_error = Set(Some(e.clone()));
            Some(e)
        }
    };
    attempt(scope, d.delivery_id, result.is_ok(), error, now).await?;
    scope
        .update_many::<delivery::Entity>()
        .set(row)
        .filter(delivery::Column::Id.eq(d.delivery_id))
        .exec(scope.conn())
        .await?;
    Ok(())
}

/// The body's deliveries, newest first.
pub async fn page(
    scope: &Scope,
    first: u64,
    after: Option<Uuid>,
) -> Result<(Vec<delivery::Model>, bool)> {
    let q = scope.find::<delivery::Entity>();
    crate::paging::newest_first(scope.conn(), q, delivery::Column::Id, first, after).await
}

/// The attempts at `deliveries`, oldest first.
pub async fn attempts(
    scope: &Scope,
    deliveries: &[Uuid],
) -> Result<Vec<notification_attempt::Model>> {
    Ok(scope
        .find::<notification_attempt::Entity>()
        .filter(notification_attempt::Column::DeliveryId.is_in(deliveries.iter().copied()))
        .order_by_asc(notification_attempt::Column::Id)
        .all(scope.conn())
        .await?)
}

/// How many deliveries of the scope's body wait to be sent.
pub async fn count_pending(scope: &Scope) -> Result<u64> {
    use sea_orm::PaginatorTrait;
    Ok(scope
        .find::<delivery::Entity>()
        .filter(delivery::Column::Status.eq("pending"))
        .count(scope.conn())
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_thirty_seconds_to_an_hour() {
        assert_eq!(backoff(1), Duration::seconds(30));
        assert_eq!(backoff(2), Duration::seconds(60));
        assert_eq!(backoff(8), Duration::seconds(3600));
        assert_eq!(backoff(20), Duration::seconds(3600));
    }
}
