//! A citizen's inbox across bodies: what each body told them, in their language when they
//! read it. Today a body tells a citizen every status change of their cases, in the
//! transaction of the change.

use chrono::{DateTime, Utc};
use civitas_tenants::{PersonScope, Scope, TenantId};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde::Serialize;
use uuid::Uuid;

use crate::Result;
use crate::cases::CaseStatus;
use crate::entity::{case, notification};
use crate::events::{CaseEventKind, NOTIFICATION_CHANNEL, NotificationEvent};
use crate::ids::CaseId;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Notification {
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub kind: String,
    pub case_id: Option<CaseId>,
    pub case_number: Option<String>,
    pub status: Option<CaseStatus>,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
    /// What an operator wrote (`case.message`).
    pub message: Option<String>,
    pub archived_at: Option<DateTime<Utc>>,
    /// The survey a `survey.invitation` asks to answer.
    pub invitation_id: Option<Uuid>,
}

impl From<notification::Model> for Notification {
    fn from(m: notification::Model) -> Self {
        Notification {
            id: m.id,
            tenant_id: TenantId(m.tenant_id),
            kind: m.kind,
            case_id: m.case_id.map(CaseId),
            case_number: m.case_number,
            status: m.status.and_then(|s| s.parse().ok()),
            created_at: m.created_at,
            read_at: m.read_at,
            message: m.message,
            archived_at: m.archived_at,
            invitation_id: m.invitation_id,
        }
    }
}

/// The languages notifications are worded in; Italian first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Language {
    It,
    En,
}

impl Language {
    /// `en`, `en-GB`… are English; anything else is Italian.
    pub fn from_tag(tag: Option<&str>) -> Self {
        match tag {
            Some(t) if t.to_ascii_lowercase().starts_with("en") => Language::En,
            _ => Language::It,
        }
    }

    /// The two-letter tag: `it`, `en`.
    pub const fn tag(self) -> &'static str {
        match self {
            Language::It => "it",
            Language::En => "en",
        }
    }
}

/// How a citizen is told a status, in `lang`.
pub fn status_words(status: CaseStatus, lang: Language) -> &'static str {
    use CaseStatus::*;
    match (lang, status) {
        (Language::It, New) => "ricevuta",
        (Language::It, Assigned) => "assegnata a un ufficio",
        (Language::It, InProgress) => "in lavorazione",
        (Language::It, WaitingCitizen) => "in attesa di una tua risposta",
        (Language::It, Resolved) => "risolta",
        (Language::It, Closed) => "chiusa",
        (Language::En, New) => "received",
        (Language::En, Assigned) => "assigned to an office",
        (Language::En, InProgress) => "in progress",
        (Language::En, WaitingCitizen) => "waiting for your answer",
        (Language::En, Resolved) => "resolved",
        (Language::En, Closed) => "closed",
    }
}

impl Notification {
    /// The one line a citizen reads, such as "Richiesta 2026-000042: in lavorazione".
    pub fn title(&self, lang: Language) -> String {
        if self.kind == SURVEY {
            return match (lang, &self.case_number) {
                (Language::It, Some(n)) => format!("Com'è andata la richiesta {n}? Ci dica la sua"),
                (Language::En, Some(n)) => format!("How did request {n} go? Tell us"),
                (Language::It, None) => "Ci dica la sua: un breve questionario".to_owned(),
                (Language::En, None) => "Tell us what you think: a short questionnaire".to_owned(),
            };
        }
        if self.kind == INITIATIVE_SEAT {
            return match lang {
                Language::It => "Posto confermato".to_owned(),
                Language::En => "Seat confirmed".to_owned(),
            };
        }
        let what = match (lang, self.kind == MESSAGE) {
            (Language::It, false) => "Richiesta",
            (Language::En, false) => "Request",
            (Language::It, true) => "Messaggio sulla richiesta",
            (Language::En, true) => "Message about request",
        };
        if self.kind == ESCALATED {
            let n = self.case_number.as_deref().unwrap_or_default();
            return match lang {
                Language::It => format!("{what} {n}: segnalata ai responsabili dell'ufficio"),
                Language::En => format!("{what} {n}: raised with the office's managers"),
            };
        }
        if self.kind == MESSAGE {
            return match &self.case_number {
                Some(n) => format!("{what} {n}"),
                None => what.to_owned(),
            };
        }
        match (&self.case_number, self.status) {
            (Some(n), Some(s)) => format!("{what} {n}: {}", status_words(s, lang)),
            (Some(n), None) => format!("{what} {n}"),
            _ => what.to_owned(),
        }
    }
}

/// Tells the case's citizen, if it has one, that it moved: called where the history row
/// of the move is written, so both commit or neither.
pub(crate) async fn case_moved(
    scope: &Scope,
    c: &case::Model,
    kind: CaseEventKind,
    (from, to): (Option<CaseStatus>, Option<CaseStatus>),
    now: DateTime<Utc>,
) -> Result<()> {
    let escalated = kind == CaseEventKind::Escalated;
    let Some(person) = c.person_id else {
        return Ok(());
    };
    let Some(to) = to.or_else(|| c.status.parse().ok()) else {
        return Ok(());
    };
    if escalated {
        let settings = crate::notify::NotificationSettings::saved(&scope.settings().await?);
        if !settings.tell_escalations() {
            return Ok(());
        }
    } else if from == Some(to) {
        return Ok(());
    }
    let row = notification::ActiveModel {
        id: Set(Uuid::now_v7()),
        person_id: Set(person),
        kind: Set(format!("case.{}", kind.as_str())),
        case_id: Set(Some(c.id)),
        case_number: Set(Some(c.number.clone())),
        status: Set(Some(to.to_string())),
        created_at: Set(now),
        read_at: Set(None),
        message: Set(None),
        ..Default::default()
    };
    write(scope, row).await
}

/// The kind of a notification that carries an operator's message.
pub const MESSAGE: &str = "case.message";

/// The kind of a notification that tells a citizen their late request went up to the
/// office's managers.
pub const ESCALATED: &str = "case.escalated";

/// The kind of a notification that tells a citizen a seat freed at an initiative is
/// theirs.
pub const INITIATIVE_SEAT: &str = "initiative.seat";

/// Tells a citizen promoted from an initiative's waiting list, in the transaction that
/// promotes them.
pub(crate) async fn initiative_seat(
    scope: &Scope,
    person: Uuid,
    text: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let row = notification::ActiveModel {
        id: Set(Uuid::now_v7()),
        person_id: Set(person),
        kind: Set(INITIATIVE_SEAT.to_owned()),
        case_id: Set(None),
        case_number: Set(None),
        status: Set(None),
        created_at: Set(now),
        read_at: Set(None),
        message: Set(Some(text.to_owned())),
        ..Default::default()
    };
    write(scope, row).await
}

/// The kind of a notification that asks a citizen to answer a questionnaire.
pub const SURVEY: &str = "survey.invitation";

/// Asks a citizen to answer a questionnaire (a satisfaction survey after their case was
/// resolved, or after an initiative), in the transaction that invites them. `first` is the
/// channel to try before the citizen's preferred one: the case's, when it carries messages.
pub(crate) async fn survey_invitation(
    scope: &Scope,
    inv: &crate::entity::survey_invitation::Model,
    case_number: Option<&str>,
    first: Option<crate::channels::Channel>,
    now: DateTime<Utc>,
) -> Result<()> {
    let row = notification::ActiveModel {
        id: Set(Uuid::now_v7()),
        person_id: Set(inv.person_id),
        kind: Set(SURVEY.to_owned()),
        case_id: Set(inv.case_id),
        case_number: Set(case_number.map(str::to_owned)),
        status: Set(None),
        created_at: Set(now),
        read_at: Set(None),
        message: Set(None),
        invitation_id: Set(Some(inv.id)),
        ..Default::default()
    };
    write_on(scope, row, first).await
}

/// Tells the case's citizen what an operator wrote to them, in the transaction that
/// records it in the case's history.
pub(crate) async fn case_message(
    scope: &Scope,
    c: &case::Model,
    person: Uuid,
    text: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let row = notification::ActiveModel {
        id: Set(Uuid::now_v7()),
        person_id: Set(person),
        kind: Set(MESSAGE.to_owned()),
        case_id: Set(Some(c.id)),
        case_number: Set(Some(c.number.clone())),
        status: Set(Some(c.status.clone())),
        created_at: Set(now),
        read_at: Set(None),
        message: Set(Some(text.to_owned())),
        ..Default::default()
    };
    write(scope, row).await
}

/// Writes a notification, queues it for the channels that reach its citizen, and tells
/// the citizen's open subscriptions once the transaction commits.
async fn write(scope: &Scope, row: notification::ActiveModel) -> Result<()> {
    write_on(scope, row, None).await
}

async fn write_on(
    scope: &Scope,
    row: notification::ActiveModel,
    first: Option<crate::channels::Channel>,
) -> Result<()> {
    // A citizen who objected to the body's notifications, or restricted its handling of
    // their records, gets none.
    if let sea_orm::ActiveValue::Set(person) = &row.person_id {
        let me = [*person];
        if crate::restrictions::in_force(scope, &me, crate::restrictions::Purpose::Notifications)
            .await?
            || crate::restrictions::handling_restricted(scope, *person).await?
        {
            return Ok(());
        }
    }
    let saved = scope.insert(row).await?;
    crate::notify::outbox::enqueue(scope, &saved, first).await?;
    let event = NotificationEvent {
        id: saved.id,
        tenant_id: saved.tenant_id,
        person_id: saved.person_id,
        kind: saved.kind,
        case_id: saved.case_id,
        case_number: saved.case_number,
        status: saved.status,
        message: saved.message,
        invitation_id: saved.invitation_id,
        at: saved.created_at,
    };
    let payload = serde_json::to_string(&event).unwrap_or_default();
    scope.notify(NOTIFICATION_CHANNEL, payload).await?;
    Ok(())
}

impl From<NotificationEvent> for Notification {
    fn from(e: NotificationEvent) -> Self {
        Notification {
            id: e.id,
            tenant_id: TenantId(e.tenant_id),
            kind: e.kind,
            case_id: e.case_id.map(CaseId),
            case_number: e.case_number,
            status: e.status.and_then(|s| s.parse().ok()),
            created_at: e.at,
            read_at: None,
            message: e.message,
            archived_at: None,
            invitation_id: e.invitation_id,
        }
    }
}

/// Which of a citizen's notifications a list shows.
#[derive(Clone, Copy, Debug, Default)]
pub struct Shown {
    /// Unread ones only.
    pub unread: bool,
    /// The archived ones instead of the inbox.
    pub archived: bool,
}

/// The citizen's notifications in every body, newest first: a page, and whether more
/// follow.
pub async fn of_person(
    scope: &PersonScope,
    shown: Shown,
    first: u64,
    after: Option<Uuid>,
) -> Result<(Vec<Notification>, bool)> {
    let mut q = scope.find::<notification::Entity>();
    q = if shown.archived {
        q.filter(notification::Column::ArchivedAt.is_not_null())
    } else {
        q.filter(notification::Column::ArchivedAt.is_null())
    };
    if shown.unread {
        q = q.filter(notification::Column::ReadAt.is_null());
    }
    let (rows, more) =
        crate::paging::newest_first(scope.conn(), q, notification::Column::Id, first, after)
            .await?;
    Ok((rows.into_iter().map(Into::into).collect(), more))
}

/// Archives (or with `archived` false, brings back to the inbox) the citizen's own
/// notifications among `ids`; returns how many changed.
pub async fn archive(
    scope: &PersonScope,
    ids: &[Uuid],
    archived: bool,
    now: DateTime<Utc>,
) -> Result<u64> {
    let (value, unchanged) = if archived {
        (Some(now), notification::Column::ArchivedAt.is_null())
    } else {
        (None, notification::Column::ArchivedAt.is_not_null())
    };
    let res = notification::Entity::update_many()
        .col_expr(notification::Column::ArchivedAt, value.into())
        .filter(notification::Column::Id.is_in(ids.iter().copied()))
        .filter(notification::Column::PersonId.is_in(scope.persons().iter().copied()))
        .filter(unchanged)
        .exec(scope.conn())
        .await?;
    Ok(res.rows_affected)
}

/// Marks the citizen's own notifications among `ids` read; returns how many were unread.
pub async fn mark_read(scope: &PersonScope, ids: &[Uuid], now: DateTime<Utc>) -> Result<u64> {
    let res = notification::Entity::update_many()
        .col_expr(notification::Column::ReadAt, now.into())
        .filter(notification::Column::Id.is_in(ids.iter().copied()))
        .filter(notification::Column::PersonId.is_in(scope.persons().iter().copied()))
        .filter(notification::Column::ReadAt.is_null())
        .exec(scope.conn())
        .await?;
    Ok(res.rows_affected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_has_words_in_both_languages() {
        for s in CaseStatus::ALL {
            for lang in [Language::It, Language::En] {
                assert!(!status_words(*s, lang).is_empty());
            }
            assert_ne!(
                status_words(*s, Language::It),
                status_words(*s, Language::En)
            );
        }
        assert_eq!(Language::from_tag(Some("en-GB")), Language::En);
        assert_eq!(Language::from_tag(Some("it")), Language::It);
        assert_eq!(Language::from_tag(None), Language::It);
    }
}
