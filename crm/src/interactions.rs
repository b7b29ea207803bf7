//! Contacts with citizens on every channel, and the contact centre's caller recognition.

use chrono::{DateTime, Utc};
use civitas_tenants::{Identity, Scope, TenantId, audit};
use sea_orm::{ActiveValue::Set, ColumnTrait, IntoActiveModel, QueryFilter, QueryOrder};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use crate::access_log::{Access, Action};
use crate::cases::{Actor, Case, CaseFilter, CaseStatus};
use crate::channels::ContactKind;
use crate::entity::{contact, interaction, profile};
use crate::identity::Phone;
use crate::ids::{CaseId, InteractionId, PersonId};
use crate::lookup::{Lookup, registered_person};
use crate::privacy::{self, CALLER_RECOGNITION};
use crate::{Error, Result, persons};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Interaction {
    pub id: InteractionId,
    pub tenant_id: TenantId,
    pub person_id: Option<PersonId>,
    pub case_id: Option<CaseId>,
    pub channel: String,
    pub direction: String,
    pub operator: String,
    pub on_behalf_of: Option<String>,
    pub summary: String,
    pub occurred_at: DateTime<Utc>,
}

impl From<interaction::Model> for Interaction {
    fn from(m: interaction::Model) -> Self {
        Interaction {
            id: InteractionId(m.id),
            tenant_id: TenantId(m.tenant_id),
            person_id: m.person_id.map(PersonId),
            case_id: m.case_id.map(CaseId),
            channel: m.channel,
            direction: m.direction,
            operator: m.operator,
            on_behalf_of: m.on_behalf_of,
            summary: m.summary,
            occurred_at: m.occurred_at,
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct NewInteraction {
    pub person_id: Option<PersonId>,
    pub case_id: Option<CaseId>,
    /// `inbound` or `outbound`.
    pub direction: String,
    pub summary: String,
    pub occurred_at: Option<DateTime<Utc>>,
}

fn invalid(m: impl Into<String>) -> Error {
    Error::Validation(m.into())
}

/// Records a contact on `actor.channel`, against a citizen the body knows and optionally a
/// case of the body.
pub async fn record(
    scope: &Scope,
    actor: &Actor,
    new: NewInteraction,
    now: DateTime<Utc>,
) -> Result<Interaction> {
    if !matches!(new.direction.as_str(), "inbound" | "outbound") {
        return Err(invalid("direction must be inbound or outbound"));
    }
    let summary = new.summary.trim();
    if summary.is_empty() || summary.chars().count() > 10_000 {
        return Err(invalid("summary must be 1 to 10000 characters"));
    }
    let person = match new.person_id {
        Some(p) => Some(registered_person(scope, Lookup::Person(p.0)).await?.0),
        None => None,
    };
    let mut case_person = None;
    if let Some(c) = new.case_id {
        case_person = crate::cases::get(scope, c).await?.person_id.map(|p| p.0);
    }
    let row = interaction::ActiveModel {
        id: Set(Uuid::now_v7()),
        person_id: Set(person.or(case_person)),
        case_id: Set(new.case_id.map(|c| c.0)),
        channel: Set(actor.channel.as_str().to_owned()),
        direction: Set(new.direction),
        operator: Set(actor.subject.clone()),
        on_behalf_of: Set(actor.on_behalf_of.map(|p| p.to_string())),
        summary: Set(summary.to_owned()),
        occurred_at: Set(new.occurred_at.unwrap_or(now)),
        ..Default::default()
    };
    Ok(scope.insert(row).await?.into())
}

/// The body's contacts with a person (and the records merged into it), newest first.
pub async fn of_person(scope: &Scope, persons: &[Uuid]) -> Result<Vec<Interaction>> {
    Ok(scope
        .find::<interaction::Entity>()
        .filter(interaction::Column::PersonId.is_in(persons.iter().copied()))
        .order_by_desc(interaction::Column::OccurredAt)
        .all(scope.conn())
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
}

/// A page of the body's contacts with a person (and the records merged into it), newest
/// first, and whether more follow.
pub async fn page_of_person(
    scope: &Scope,
    persons: &[Uuid],
    first: u64,
    after: Option<Uuid>,
) -> Result<(Vec<Interaction>, bool)> {
    let q = scope
        .find::<interaction::Entity>()
        .filter(interaction::Column::PersonId.is_in(persons.iter().copied()));
    let (rows, more) =
        crate::paging::newest_first(scope.conn(), q, interaction::Column::Id, first, after).await?;
    Ok((rows.into_iter().map(Into::into).collect(), more))
}

/// The purpose a caller recognition is logged with.
const RECOGNITION_PURPOSE: &str = "Riconoscimento del chiamante";

/// Who is calling, for the contact centre: only when the caller gave this body the
/// caller-recognition consent. Each look-up is audited, found or not.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RecognisedCaller {
    pub person_id: Uuid,
    pub greeting_name: String,
    pub open_cases: Vec<Case>,
}

pub async fn identify_caller(
    scope: &Scope,
    actor: &Identity,
    raw_phone: &str,
    now: DateTime<Utc>,
) -> Result<Option<RecognisedCaller>> {
    let phone = Phone::parse(raw_phone).map_err(invalid)?;
    let found = scope
        .find::<contact::Entity>()
        .filter(contact::Column::Kind.eq(ContactKind::Phone.as_str()))
        .filter(contact::Column::Value.eq(phone.as_str()))
        .one(scope.conn())
        .await?;
    let mut result = None;
    if let Some(c) = found
        && let Some(members) = persons::with_family(scope.conn(), c.person_id).await?
    {
        let root = &members[0];
        let family: Vec<Uuid> = members.iter().map(|p| p.id).collect();
        if let Some(consent) = privacy::given(scope, &family, CALLER_RECOGNITION).await? {
            let p = scope
                .find::<profile::Entity>()
                .filter(profile::Column::PersonId.is_in(family.iter().copied()))
                .filter(profile::Column::MergedInto.is_null())
                .filter(profile::Column::RestrictedAt.is_null())
                .one(scope.conn())
                .await?;
            if let Some(p) = p {
                let filter = CaseFilter {
                    statuses: CaseStatus::ALL
                        .iter()
                        .copied()
                        .filter(|s| s.is_open())
                        .collect(),
                    person_id: Some(PersonId(root.id)),
                    ..Default::default()
                };
                let (open_cases, _) = crate::cases::list(scope, &filter, 20, None, now).await?;
                // The greeting and the open requests are a read of the citizen's records:
                // on record for them, under the consent that allowed it.
                let reader = actor.stored();
                let access = Access {
                    reader_tenant: scope.tenant_id(),
                    reader: &reader,
                    person_id: root.id,
                    action: Action::CallerRecognition,
                    purpose: RECOGNITION_PURPOSE,
                    case_id: None,
                    at: now,
                };
                let entry = access.entry(
                    Uuid::now_v7(),
                    scope.tenant_id().0,
                    &["profile", "cases"],
                    Some(consent.id),
                    None,
                );
                scope.insert(entry.into_active_model()).await?;
                result = Some(RecognisedCaller {
                    person_id: root.id,
                    greeting_name: format!("{} {}", p.given_name, p.family_name),
                    open_cases,
                });
            }
        }
    }
    let outcome = if result.is_some() {
        "caller.recognised"
    } else {
        "caller.not_recognised"
    };
    // The number is kept out of the log: only whether a recognisable caller was found.
    audit::record(
        scope,
        actor,
        outcome,
        result.as_ref().map(|c| c.person_id.to_string()).as_deref(),
        json!({}),
    )
    .await?;
    Ok(result)
}
