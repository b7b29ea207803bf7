//! Creating, moving, assigning and listing cases; every change is a history event.

use chrono::{DateTime, Duration, Utc};
use civitas_tenants::{Role, Scope, TenantId};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, QueryFilter, QueryOrder,
    QuerySelect, Statement,
};
use serde::Serialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{CaseStatus, Priority};
use crate::catalogue::{self, Service};
use crate::channels::Channel;
use crate::entity::{case, case_event, profile};
use crate::events::{CaseChange, CaseEventKind, announce};
use crate::ids::{CaseId, PersonId, ServiceId};
use crate::lookup::{Lookup, registered_person};
use crate::places::Place;
use crate::{Error, Result};

/// Who makes a change, on whose behalf (a tutor for a citizen), through which channel.
#[derive(Clone, Debug)]
pub struct Actor {
    pub subject: String,
    pub on_behalf_of: Option<PersonId>,
    pub channel: Channel,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Case {
    pub id: CaseId,
    pub tenant_id: TenantId,
    pub number: String,
    pub person_id: Option<PersonId>,
    pub service_id: ServiceId,
    pub title: String,
    pub description: String,
    pub status: CaseStatus,
    pub priority: Priority,
    pub channel: Channel,
    pub assigned_team: Option<String>,
    pub assigned_to: Option<String>,
    pub escalation_level: i32,
    pub custom_fields: Value,
    pub resolution_note: Option<String>,
    pub source: Option<String>,
    pub external_ref: Option<String>,
    pub due_at: DateTime<Utc>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    /// Where it is, for a report about a place.
    pub place: Option<Place>,
    /// A picture or video of it a reporting app sent, by URL.
    pub media_url: Option<String>,
    /// Came in through Open311 and is listed in its public feed.
    pub published: bool,
    /// The picture uploaded with an Open311 report (one of its attachments).
    pub media_attachment_id: Option<Uuid>,
}

/// Who answers for a case at each escalation level.
pub const ESCALATION_OWNERS: [&str; 3] = ["operator", "supervisor", "head_of_office"];

impl Case {
    /// Who answers for the case now. Nothing is without an owner: an unassigned case
    /// belongs to the body's supervisors, an escalated one to the level it reached.
    pub fn owner(&self) -> String {
        match self.escalation_level {
            0 => self
                .assigned_to
                .clone()
                .or_else(|| self.assigned_team.as_ref().map(|t| format!("team:{t}")))
                .unwrap_or_else(|| "role:supervisor".into()),
            1 => "role:supervisor".into(),
            _ => "role:tenant_admin".into(),
        }
    }

    pub fn is_overdue(&self, now: DateTime<Utc>) -> bool {
        self.status.is_overdue(self.due_at, now)
    }
}

impl TryFrom<case::Model> for Case {
    type Error = Error;
    fn try_from(m: case::Model) -> Result<Self> {
        Ok(Case {
            id: CaseId(m.id),
            tenant_id: TenantId(m.tenant_id),
            number: m.number,
            person_id: m.person_id.map(PersonId),
            service_id: ServiceId(m.service_id),
            title: m.title,
            description: m.description,
            status: m.status.parse()?,
            priority: m.priority.parse()?,
            channel: m.channel.parse()?,
            assigned_team: m.assigned_team,
            assigned_to: m.assigned_to,
            escalation_level: m.escalation_level,
            custom_fields: m.custom_fields,
            resolution_note: m.resolution_note,
            source: m.source,
            external_ref: m.external_ref,
            due_at: m.due_at,
            created_by: m.created_by,
            created_at: m.created_at,
            updated_at: m.updated_at,
            resolved_at: m.resolved_at,
            closed_at: m.closed_at,
            place: match (m.latitude, m.longitude) {
                (Some(latitude), Some(longitude)) => Some(Place {
                    latitude,
                    longitude,
                    address: m.address,
                    note: m.location_note,
                }),
                _ => None,
            },
            media_url: m.media_url,
            published: m.published,
            media_attachment_id: m.media_attachment_id,
        })
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CaseEvent {
    pub id: Uuid,
    pub case_id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub actor: String,
    pub on_behalf_of: Option<String>,
    pub channel: String,
    pub kind: String,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub detail: Value,
}

impl From<case_event::Model> for CaseEvent {
    fn from(m: case_event::Model) -> Self {
        CaseEvent {
            id: m.id,
            case_id: m.case_id,
            occurred_at: m.occurred_at,
            actor: m.actor,
            on_behalf_of: m.on_behalf_of,
            channel: m.channel,
            kind: m.kind,
            from_status: m.from_status,
            to_status: m.to_status,
            detail: m.detail,
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct NewCase {
    pub service_code: String,
    pub person_id: Option<PersonId>,
    pub title: String,
    pub description: String,
    pub priority: Option<Priority>,
    pub custom_fields: Value,
    pub assigned_team: Option<String>,
    pub assigned_to: Option<String>,
    /// Where it is; the body must serve the point (one of its areas holds it, or it has
    /// none).
    pub place: Option<Place>,
    pub media_url: Option<String>,
    /// Listed in the public Open311 feed.
    pub published: bool,
    /// How the case reached this body (routing from a parent), for its history.
    pub routing: Option<Value>,
    /// The jurisdiction an Open311 report was sent to, when another body takes it.
    pub reported_to: Option<TenantId>,
    /// The caller already found that the body serves the place (routing did).
    pub place_checked: bool,
}

fn invalid(m: impl Into<String>) -> Error {
    Error::Validation(m.into())
}

fn text(field: &str, v: &str, max: usize, required: bool) -> Result<String> {
    let v = v.trim();
    if (required && v.is_empty()) || v.chars().count() > max {
        return Err(invalid(format!(
            "{field} must be {} to {max} characters",
            usize::from(required)
        )));
    }
    Ok(v.to_owned())
}

/// The next number of a per-tenant counter, such as the case number of a year.
async fn next_number(scope: &Scope, name: &str) -> Result<i64> {
    let conn = scope.conn();
    let sql = match conn.get_database_backend() {
        DbBackend::Postgres => {
            "INSERT INTO counters (tenant_id, name, value) VALUES ($1, $2, 1) \
             ON CONFLICT (tenant_id, name) DO UPDATE SET value = counters.value + 1 RETURNING value"
        }
        _ => {
            "INSERT INTO counters (tenant_id, name, value) VALUES (?, ?, 1) \
             ON CONFLICT (tenant_id, name) DO UPDATE SET value = counters.value + 1 RETURNING value"
        }
    };
    let row = conn
        .query_one_raw(Statement::from_sql_and_values(
            conn.get_database_backend(),
            sql,
            [scope.tenant_id().0.into(), name.into()],
        ))
        .await?
        .ok_or_else(|| invalid("counter"))?;
    Ok(row.try_get("", "value")?)
}

/// A status move, as a history event records it.
type Move = (Option<CaseStatus>, Option<CaseStatus>);

async fn record(
    scope: &Scope,
    c: &case::Model,
    actor: &Actor,
    kind: CaseEventKind,
    (from, to): Move,
    detail: Value,
    now: DateTime<Utc>,
) -> Result<()> {
    let row = case_event::ActiveModel {
        id: Set(Uuid::now_v7()),
        case_id: Set(c.id),
        person_id: Set(c.person_id),
        occurred_at: Set(now),
        actor: Set(actor.subject.clone()),
        on_behalf_of: Set(actor.on_behalf_of.map(|p| p.to_string())),
        channel: Set(actor.channel.as_str().to_owned()),
        kind: Set(kind.as_str().to_owned()),
        from_status: Set(from.map(|s| s.to_string())),
        to_status: Set(to.map(|s| s.to_string())),
        detail: Set(detail),
        ..Default::default()
    };
    scope.insert(row).await?;
    let payload = json!({
        "caseId": c.id, "number": c.number, "status": to.map(|s| s.to_string()), "previousStatus": from.map(|s| s.to_string()),
        "serviceId": c.service_id, "personId": c.person_id, "source": c.source, "externalRef": c.external_ref,
    });
    crate::webhooks::enqueue(scope, &format!("case.{}", kind.as_str()), payload, now).await?;
    crate::notifications::case_moved(scope, c, kind, (from, to), now).await?;
    let change = CaseChange {
        tenant_id: c.tenant_id,
        case_id: c.id,
        person_id: c.person_id,
        number: c.number.clone(),
        status: c.status.clone(),
        kind: kind.as_str().to_owned(),
        at: now,
    };
    announce(scope, &change).await
}

fn check_channel(service: &Service, channel: Channel) -> Result<String> {
    let accepted = catalogue::channels(service);
    if !accepted.is_empty() && !accepted.iter().any(|a| a == channel.as_str()) {
        return Err(invalid(format!(
            "service {} does not accept the {channel} channel",
            service.code
        )));
    }
    Ok(channel.as_str().to_owned())
}

/// Opens a case. Its due time comes from the service's SLA; its number is the body's next
/// for the year.
pub async fn create(
    scope: &Scope,
    actor: &Actor,
    new: NewCase,
    now: DateTime<Utc>,
) -> Result<Case> {
    let service = catalogue::by_code(scope, &new.service_code).await?;
    let channel = check_channel(&service, actor.channel)?;
    let title = text("title", &new.title, 200, true)?;
    let description = text("description", &new.description, 10_000, false)?;
    catalogue::validate_values(&catalogue::field_defs(&service), &new.custom_fields)?;
    if let Some(p) = &new.place
        && !new.place_checked
        && !crate::areas::serves(scope, p.latitude, p.longitude).await?
    {
        return Err(invalid(format!(
            "the point ({}, {}) is outside the areas this body serves",
            p.latitude, p.longitude
        )));
    }
    let media_url = match new.media_url {
        Some(u) => Some(media_url(&u)?),
        None => None,
    };
    let person = match new.person_id {
        Some(p) => Some(registered_person(scope, Lookup::Person(p.0)).await?.0),
        None => None,
    };
    let year = now.format("%Y").to_string();
    let number = format!(
        "{year}-{:06}",
        next_number(scope, &format!("case:{year}")).await?
    );
    let status = if new.assigned_to.is_some() || new.assigned_team.is_some() {
        CaseStatus::Assigned
    } else {
        CaseStatus::New
    };
    let row = case::ActiveModel {
        id: Set(Uuid::now_v7()),
        number: Set(number),
        person_id: Set(person),
        service_id: Set(service.id),
        title: Set(title),
        description: Set(description),
        status: Set(status.to_string()),
        priority: Set(new.priority.unwrap_or(Priority::Normal).to_string()),
        channel: Set(channel),
        assigned_team: Set(new.assigned_team),
        assigned_to: Set(new.assigned_to),
        escalation_level: Set(0),
        custom_fields: Set(if new.custom_fields.is_null() {
            json!({})
        } else {
            new.custom_fields
        }),
        resolution_note: Set(None),
        source: Set(None),
        external_ref: Set(None),
        due_at: Set(now + Duration::hours(i64::from(service.sla_hours))),
        created_by: Set(actor.subject.clone()),
        created_at: Set(now),
        updated_at: Set(now),
        resolved_at: Set(None),
        closed_at: Set(None),
        latitude: Set(new.place.as_ref().map(|p| p.latitude)),
        longitude: Set(new.place.as_ref().map(|p| p.longitude)),
        address: Set(new.place.as_ref().and_then(|p| p.address.clone())),
        location_note: Set(new.place.as_ref().and_then(|p| p.note.clone())),
        media_url: Set(media_url),
        published: Set(new.published),
        reported_to: Set(new.reported_to.map(|t| t.0)),
        ..Default::default()
    };
    let c = scope.insert(row).await?;
    let mut detail = json!({ "service": service.code });
    if let Some(r) = new.routing {
        detail["routing"] = r;
    }
    record(
        scope,
        &c,
        actor,
        CaseEventKind::Created,
        (None, Some(status)),
        detail,
        now,
    )
    .await?;
    c.try_into()
}

/// Names the attachment uploaded with a report as its picture, the one file of the case
/// its public feed shows.
pub async fn set_media(scope: &Scope, c: CaseId, attachment: Uuid) -> Result<()> {
    scope
        .update_many::<case::Entity>()
        .col_expr(case::Column::MediaAttachmentId, attachment.into())
        .filter(case::Column::Id.eq(c.0))
        .exec(scope.conn())
        .await?;
    Ok(())
}

/// An http(s) URL of at most 2,000 characters: it is shown to others, never fetched.
fn media_url(u: &str) -> Result<String> {
    let u = u.trim();
    let scheme_ok = u.starts_with("https://") || u.starts_with("http://");
    if !scheme_ok || u.len() > 2_000 || u.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid(
            "media_url must be an http or https URL of at most 2000 characters",
        ));
    }
    Ok(u.to_owned())
}

/// The case, for a use of it: a case restricted after an erasure request is refused.
async fn load(scope: &Scope, id: CaseId) -> Result<case::Model> {
    let row = scope
        .find::<case::Entity>()
        .filter(case::Column::Id.eq(id.0))
        .one(scope.conn())
        .await?
        .ok_or_else(|| Error::NotFound("case"))?;
    if row.erase_after.is_some() {
        return Err(Error::Restricted("this case"));
    }
    if let Some(p) = row.person_id
        && crate::restrictions::handling_restricted(scope, p).await?
    {
        return Err(Error::Restricted("this case"));
    }
    Ok(row)
}

pub async fn get(scope: &Scope, id: CaseId) -> Result<Case> {
    load(scope, id).await?.try_into()
}

async fn save(scope: &Scope, row: case::ActiveModel, id: CaseId) -> Result<case::Model> {
    scope
        .update_many::<case::Entity>()
        .set(row)
        .filter(case::Column::Id.eq(id.0))
        .exec(scope.conn())
        .await?;
    load(scope, id).await
}

/// Writes `text` to the case's citizen: a `message` in the case's history, and a
/// notification to the citizen (inbox, and e-mail where the body sends it), in one
/// transaction. VALIDATION for a case with no citizen or an empty or too long text.
pub async fn message(
    scope: &Scope,
    actor: &Actor,
    id: CaseId,
    text_: &str,
    now: DateTime<Utc>,
) -> Result<Case> {
    let text_ = text("text", text_, 4_000, true)?;
    let c = load(scope, id).await?;
    let Some(person) = c.person_id else {
        return Err(invalid("text: this case has no citizen to write to"));
    };
    let status: CaseStatus = c.status.parse()?;
    record(
        scope,
        &c,
        actor,
        CaseEventKind::Messaged,
        (Some(status), Some(status)),
        json!({ "message": text_ }),
        now,
    )
    .await?;
    crate::notifications::case_message(scope, &c, person, &text_, now).await?;
    c.try_into()
}

/// The case's citizen writes to the body: a `citizen_reply` in the case's history (the
/// body's staff and its webhooks hear of it), in one transaction. VALIDATION for an empty
/// or too long text; NOT_FOUND for a case that is not the citizen's.
pub async fn reply(
    scope: &Scope,
    actor: &Actor,
    id: CaseId,
    person_family: &[Uuid],
    text_: &str,
    now: DateTime<Utc>,
) -> Result<Case> {
    let text_ = text("text", text_, 4_000, true)?;
    let c = load(scope, id).await?;
    if !c.person_id.is_some_and(|p| person_family.contains(&p)) {
        return Err(Error::NotFound("case"));
    }
    let status: CaseStatus = c.status.parse()?;
    let row = case::ActiveModel {
        updated_at: Set(now),
        ..Default::default()
    };
    let c = save(scope, row, id).await?;
    record(
        scope,
        &c,
        actor,
        CaseEventKind::CitizenReplied,
        (Some(status), Some(status)),
        json!({ "message": text_ }),
        now,
    )
    .await?;
    c.try_into()
}

/// Moves a case along its lifecycle. Closing needs a resolution note, given now or when the
/// case was resolved; reopening a resolved case clears its resolution.
pub async fn transition(
    scope: &Scope,
    actor: &Actor,
    id: CaseId,
    to: CaseStatus,
    note: Option<String>,
    now: DateTime<Utc>,
) -> Result<Case> {
    let current = load(scope, id).await?;
    let from: CaseStatus = current.status.parse()?;
    from.check_move(to)?;
    let note = note
        .map(|n| text("note", &n, 10_000, false))
        .transpose()?
        .filter(|n| !n.is_empty());
    let mut row = case::ActiveModel {
        status: Set(to.to_string()),
        updated_at: Set(now),
        ..Default::default()
    };
    match to {
        CaseStatus::Resolved => {
            row.resolved_at = Set(Some(now));
            if let Some(n) = &note {
                row.resolution_note = Set(Some(n.clone()));
            }
        }
        CaseStatus::Closed => {
            let resolution = note.clone().or(current.resolution_note.clone());
            if resolution.is_none() {
                return Err(invalid("a case cannot be closed without a resolution note"));
            }
            row.resolution_note = Set(resolution);
            row.closed_at = Set(Some(now));
        }
        CaseStatus::InProgress if from == CaseStatus::Resolved => {
            row.resolved_at = Set(None);
            row.resolution_note = Set(None);
        }
        _ => {}
    }
    let saved = save(scope, row, id).await?;
    let kind = if from == CaseStatus::Resolved && to == CaseStatus::InProgress {
        CaseEventKind::Reopened
    } else {
        CaseEventKind::StatusChanged
    };
    record(
        scope,
        &saved,
        actor,
        kind,
        (Some(from), Some(to)),
        json!({ "note": note }),
        now,
    )
    .await?;
    if to == CaseStatus::Resolved {
        crate::questionnaires::invitations::case_resolved(scope, &saved, now).await?;
    }
    saved.try_into()
}

/// Assigns a case to a team and/or an operator; a new case becomes assigned.
/// The roles whose holders may be made owners of a case: staff who work cases. Tutors act
/// for one citizen and integrators are systems; neither owns a body's cases.
const CASE_OWNER_ROLES: [Role; 3] = [Role::Operator, Role::Supervisor, Role::TenantAdmin];

/// A case's owner must be a member of the case's body (the scope's) with such a role.
async fn may_own_cases(scope: &Scope, subject: &str) -> Result<()> {
    let owners = civitas_tenants::members::with_subject(scope, subject).await?;
    let ok = owners
        .iter()
        .any(|m| m.subject == subject && m.roles.iter().any(|r| CASE_OWNER_ROLES.contains(r)));
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "operator must be a member of this body whose role may own cases",
        ))
    }
}

pub async fn assign(
    scope: &Scope,
    actor: &Actor,
    id: CaseId,
    team: Option<String>,
    operator: Option<String>,
    now: DateTime<Utc>,
) -> Result<Case> {
    if team.is_none() && operator.is_none() {
        return Err(invalid("name a team, an operator, or both"));
    }
    if let Some(o) = &operator {
        may_own_cases(scope, o).await?;
    }
    let current = load(scope, id).await?;
    let from: CaseStatus = current.status.parse()?;
    if !from.is_open() {
        return Err(invalid(format!("a {from} case cannot be assigned")));
    }
    let to = if from == CaseStatus::New {
        CaseStatus::Assigned
    } else {
        from
    };
    let row = case::ActiveModel {
        assigned_team: Set(team.clone().or(current.assigned_team.clone())),
        assigned_to: Set(operator.clone().or(current.assigned_to.clone())),
        status: Set(to.to_string()),
        escalation_level: Set(0),
        updated_at: Set(now),
        ..Default::default()
    };
    let saved = save(scope, row, id).await?;
    record(
        scope,
        &saved,
        actor,
        CaseEventKind::Assigned,
        (Some(from), Some(to)),
        json!({ "team": team, "operator": operator }),
        now,
    )
    .await?;
    saved.try_into()
}

/// Raises a case one escalation level (operator, supervisor, head of office).
pub async fn escalate(
    scope: &Scope,
    actor: &Actor,
    id: CaseId,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<Case> {
    let current = load(scope, id).await?;
    let status: CaseStatus = current.status.parse()?;
    if !status.is_open() {
        return Err(invalid(format!("a {status} case cannot be escalated")));
    }
    if current.escalation_level as usize >= ESCALATION_OWNERS.len() - 1 {
        return Err(invalid("the case is already with the head of office"));
    }
    let level = current.escalation_level + 1;
    let saved = save(
        scope,
        case::ActiveModel {
            escalation_level: Set(level),
            updated_at: Set(now),
            ..Default::default()
        },
        id,
    )
    .await?;
    record(
        scope,
        &saved,
        actor,
        CaseEventKind::Escalated,
        (Some(status), Some(status)),
        json!({ "level": level, "to": ESCALATION_OWNERS[level as usize], "reason": reason }),
        now,
    )
    .await?;
    saved.try_into()
}

pub async fn history(scope: &Scope, id: CaseId) -> Result<Vec<CaseEvent>> {
    load(scope, id).await?;
    Ok(scope
        .find::<case_event::Entity>()
        .filter(case_event::Column::CaseId.eq(id.0))
        .order_by_asc(case_event::Column::Id)
        .all(scope.conn())
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
}

/// The histories of several cases of the scope's body in one query (for list views).
pub async fn histories(
    scope: &Scope,
    ids: &[Uuid],
) -> Result<std::collections::HashMap<Uuid, Vec<CaseEvent>>> {
    let mut out: std::collections::HashMap<Uuid, Vec<CaseEvent>> = std::collections::HashMap::new();
    for e in scope
        .find::<case_event::Entity>()
        .filter(case_event::Column::CaseId.is_in(ids.iter().copied()))
        .order_by_asc(case_event::Column::Id)
        .all(scope.conn())
        .await?
    {
        out.entry(e.case_id).or_default().push(e.into());
    }
    Ok(out)
}

#[derive(Clone, Debug, Default)]
pub struct CaseFilter {
    pub statuses: Vec<CaseStatus>,
    pub service_id: Option<ServiceId>,
    pub assigned_to: Option<String>,
    pub assigned_team: Option<String>,
    pub person_id: Option<PersonId>,
    pub overdue: Option<bool>,
    /// Only cases whose place is in this box (served by the index on the coordinates).
    pub within: Option<crate::places::BBox>,
}

/// The cases of the scope's body its staff may use: not restricted after an erasure
/// request, nor of a citizen who restricted the body's handling of their records.
pub(crate) fn usable(scope: &Scope) -> sea_orm::Condition {
    let restricted = sea_orm::sea_query::Query::select()
        .column(profile::Column::PersonId)
        .from(profile::Entity)
        .and_where(profile::Column::TenantId.eq(scope.tenant_id().0))
        .and_where(profile::Column::RestrictedAt.is_not_null())
        .to_owned();
    sea_orm::Condition::all()
        .add(case::Column::EraseAfter.is_null())
        .add(
            sea_orm::Condition::any()
                .add(case::Column::PersonId.is_null())
                .add(case::Column::PersonId.not_in_subquery(restricted)),
        )
}

/// A page of the body's cases, newest first; `after` is the id of the last case seen.
pub async fn list(
    scope: &Scope,
    f: &CaseFilter,
    first: u64,
    after: Option<CaseId>,
    now: DateTime<Utc>,
) -> Result<(Vec<Case>, bool)> {
    let mut q = scope.find::<case::Entity>().filter(usable(scope));
    if !f.statuses.is_empty() {
        q = q.filter(case::Column::Status.is_in(f.statuses.iter().map(|s| s.to_string())));
    }
    if let Some(s) = f.service_id {
        q = q.filter(case::Column::ServiceId.eq(s.0));
    }
    if let Some(a) = &f.assigned_to {
        q = q.filter(case::Column::AssignedTo.eq(a.clone()));
    }
    if let Some(t) = &f.assigned_team {
        q = q.filter(case::Column::AssignedTeam.eq(t.clone()));
    }
    if let Some(p) = f.person_id {
        q = q.filter(case::Column::PersonId.eq(p.0));
    }
    if let Some(b) = f.within {
        q = q
            .filter(case::Column::Latitude.between(b.min_lat, b.max_lat))
            .filter(case::Column::Longitude.between(b.min_lon, b.max_lon));
    }
    if let Some(o) = f.overdue {
        let open = [CaseStatus::Resolved, CaseStatus::Closed].map(|s| s.to_string());
        q = if o {
            q.filter(case::Column::DueAt.lt(now))
                .filter(case::Column::Status.is_not_in(open))
        } else {
            q.filter(
                sea_orm::Condition::any()
                    .add(case::Column::DueAt.gte(now))
                    .add(case::Column::Status.is_in(open)),
            )
        };
    }
    if let Some(a) = after {
        q = q.filter(case::Column::Id.lt(a.0));
    }
    let mut rows = q
        .order_by_desc(case::Column::Id)
        .limit(first + 1)
        .all(scope.conn())
        .await?;
    let more = rows.len() as u64 > first;
    rows.truncate(first as usize);
    Ok((
        rows.into_iter()
            .map(Case::try_from)
            .collect::<Result<_>>()?,
        more,
    ))
}

/// What a legacy system pushes about one of its cases.
#[derive(Clone, Debug, Default)]
pub struct SourceUpdate {
    pub service_code: String,
    pub fiscal_code: Option<String>,
    pub title: String,
    pub description: String,
    pub status: CaseStatus,
    pub priority: Option<Priority>,
    pub custom_fields: Value,
}

/// Creates or updates the case a legacy system knows as `external_ref`. The source system
/// is authoritative for its cases' status (it may skip steps), except that a closed case
/// stays closed. The same push twice changes nothing the second time. Returns the case and
/// whether anything changed.
pub async fn upsert_from_source(
    scope: &Scope,
    actor: &Actor,
    source: &str,
    external_ref: &str,
    upd: SourceUpdate,
    now: DateTime<Utc>,
) -> Result<(Case, bool)> {
    let source = text("source", source, 100, true)?;
    let external_ref = text("externalRef", external_ref, 200, true)?;
    let existing = scope
        .find::<case::Entity>()
        .filter(case::Column::Source.eq(source.clone()))
        .filter(case::Column::ExternalRef.eq(external_ref.clone()))
        .one(scope.conn())
        .await?;
    if let Some(c) = &existing
        && (c.erase_after.is_some()
            || match c.person_id {
                Some(p) => crate::restrictions::handling_restricted(scope, p).await?,
                None => false,
            })
    {
        return Err(Error::Restricted("this case"));
    }
    let service = catalogue::by_code(scope, &upd.service_code).await?;
    catalogue::validate_values(&catalogue::field_defs(&service), &upd.custom_fields)?;
    let title = text("title", &upd.title, 200, true)?;
    let description = text("description", &upd.description, 10_000, false)?;
    let fields = if upd.custom_fields.is_null() {
        json!({})
    } else {
        upd.custom_fields.clone()
    };
    let priority = upd.priority.unwrap_or(Priority::Normal).to_string();
    let Some(current) = existing else {
        let person = match upd.fiscal_code.as_deref() {
            Some(fc) => Some(
                registered_person(scope, Lookup::FiscalCode(fc.to_owned()))
                    .await?
                    .0,
            ),
            None => None,
        };
        if let Some(p) = person
            && crate::restrictions::handling_restricted(scope, p).await?
        {
            return Err(Error::Restricted("this citizen's records at your body"));
        }
        let year = now.format("%Y").to_string();
        let number = format!(
            "{year}-{:06}",
            next_number(scope, &format!("case:{year}")).await?
        );
        let row = case::ActiveModel {
            id: Set(Uuid::now_v7()),
            number: Set(number),
            person_id: Set(person),
            service_id: Set(service.id),
            title: Set(title),
            description: Set(description),
            status: Set(upd.status.to_string()),
            priority: Set(priority),
            channel: Set(actor.channel.as_str().to_owned()),
            assigned_team: Set(None),
            assigned_to: Set(None),
            escalation_level: Set(0),
            custom_fields: Set(fields),
            resolution_note: Set(None),
            source: Set(Some(source.clone())),
            external_ref: Set(Some(external_ref.clone())),
            due_at: Set(now + Duration::hours(i64::from(service.sla_hours))),
            created_by: Set(actor.subject.clone()),
            created_at: Set(now),
            updated_at: Set(now),
            resolved_at: Set((!upd.status.is_open()).then_some(now)),
            closed_at: Set((upd.status == CaseStatus::Closed).then_some(now)),
            ..Default::default()
        };
        let c = scope.insert(row).await.map_err(|e| {
            Error::conflict_on_unique(e, "this source's case was created concurrently; retry")
        })?;
        record(
            scope,
            &c,
            actor,
            CaseEventKind::Synced,
            (None, Some(upd.status)),
            json!({ "source": source, "externalRef": external_ref }),
            now,
        )
        .await?;
        return Ok((c.try_into()?, true));
    };
    let from: CaseStatus = current.status.parse()?;
    let unchanged = from == upd.status
        && current.title == title
        && current.description == description
        && current.priority == priority
        && current.custom_fields == fields
        && current.service_id == service.id;
    if unchanged {
        return Ok((current.try_into()?, false));
    }
    if from == CaseStatus::Closed && upd.status != CaseStatus::Closed {
        return Err(invalid(
            "a closed case cannot be reopened by its source; open a new one",
        ));
    }
    let row = case::ActiveModel {
        service_id: Set(service.id),
        title: Set(title),
        description: Set(description),
        status: Set(upd.status.to_string()),
        priority: Set(priority),
        custom_fields: Set(fields),
        updated_at: Set(now),
        resolved_at: Set(if upd.status.is_open() {
            None
        } else {
            current.resolved_at.or(Some(now))
        }),
        closed_at: Set((upd.status == CaseStatus::Closed).then(|| current.closed_at.unwrap_or(now))),
        ..Default::default()
    };
    let saved = save(scope, row, CaseId(current.id)).await?;
    record(
        scope,
        &saved,
        actor,
        CaseEventKind::Synced,
        (Some(from), Some(upd.status)),
        json!({ "source": source, "externalRef": external_ref }),
        now,
    )
    .await?;
    Ok((saved.try_into()?, true))
}
