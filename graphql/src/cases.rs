//! Cases and the supervisors' dashboard: a translation of [`civitas_crm::app::cases`].

use async_graphql::connection::{Connection, Edge, EmptyFields};
use async_graphql::{ComplexObject, Context, Enum, ID, InputObject, Json, Object, SimpleObject};
use chrono::{DateTime, Utc};
use civitas_crm::app::Page;
use civitas_crm::app::attachments::CasePage;
use civitas_crm::app::cases::{self as uc, CaseQuery as Query, CreateCase};
use civitas_crm::cases::{self, NewCase, SourceUpdate};
use civitas_crm::channels::Channel;
use civitas_crm::ids::{AttachmentId, CaseId};
use civitas_tenants::TenantId;

use crate::caller::{caller, state, tenant_opt};
use crate::connections::{Conn, connection, page};
use crate::error::{ApiError, ApiResult};
use crate::ids::{parse, parse_opt};
use crate::loaders::{TenantRef, tenant_ref};
use crate::places::{Location, LocationInput};

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "civitas_crm::cases::CaseStatus")]
pub enum CaseStatus {
    New,
    Assigned,
    InProgress,
    WaitingCitizen,
    Resolved,
    Closed,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "civitas_crm::cases::Priority")]
pub enum Priority {
    Low,
    Normal,
    High,
    Urgent,
}

/// A citizen's request, report or complaint.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Case {
    pub id: ID,
    /// The body's number for it, such as 2026-000042.
    pub number: String,
    pub person_id: Option<ID>,
    pub service_id: ID,
    pub title: String,
    pub description: String,
    pub status: CaseStatus,
    pub priority: Priority,
    /// The channel it came in on.
    pub channel: String,
    pub assigned_team: Option<String>,
    pub assigned_to: Option<String>,
    /// 0 with its operator, 1 with the supervisors, 2 with the head of office.
    pub escalation_level: i32,
    /// Who answers for it now; never empty.
    pub owner: String,
    pub custom_fields: Json<serde_json::Value>,
    pub resolution_note: Option<String>,
    /// The legacy system it comes from, and its reference there.
    pub source: Option<String>,
    pub external_ref: Option<String>,
    pub due_at: DateTime<Utc>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    /// Where it is, for a report about a place.
    pub location: Option<Location>,
    /// A picture or video of it, by URL, as a reporting app sent it.
    pub media_url: Option<String>,
    /// Came in through Open311 and is listed in the public feed.
    pub published: bool,
    #[graphql(skip)]
    pub tenant_id: TenantId,
    #[graphql(skip)]
    pub case_id: CaseId,
}

#[ComplexObject]
impl Case {
    async fn tenant(&self, ctx: &Context<'_>) -> ApiResult<TenantRef> {
        tenant_ref(ctx, self.tenant_id).await
    }

    /// Past its due time and still open.
    async fn overdue(&self, ctx: &Context<'_>) -> bool {
        cases::CaseStatus::from(self.status).is_overdue(self.due_at, state(ctx).now())
    }

    /// Every change, oldest first, with who acted and for whom: for staff, their own body's
    /// cases only; for a citizen, their own cases in every body. Batched across the cases
    /// of a response.
    async fn history(&self, ctx: &Context<'_>) -> ApiResult<Vec<CaseEvent>> {
        let own_body = tenant_opt(ctx).is_some_and(|tc| tc.tenant.id == self.tenant_id);
        if !own_body && caller(ctx).citizen.is_none() {
            return Ok(vec![]);
        }
        let loader = ctx
            .data_opt::<async_graphql::dataloader::DataLoader<crate::loaders::CaseHistoryLoader>>()
            .ok_or_else(|| ApiError::internal(&"case history loader missing from the request"))?;
        let events = loader.load_one(self.case_id).await?.unwrap_or_default();
        Ok(events.into_iter().map(Into::into).collect())
    }

    /// The files attached to it, oldest first: for staff of its body, and for its citizen.
    /// Batched across the cases of a response.
    /// Files are added with `POST /attachments` (`integrators.md`).
    async fn attachments(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: i32,
        after: Option<String>,
    ) -> ApiResult<Conn<CaseAttachment>> {
        let page: Page<AttachmentId> = page(first, after)?;
        let key = CasePage {
            case: self.case_id,
            first: page.first,
            after: page.after,
        };
        let loader = ctx
            .data_opt::<async_graphql::dataloader::DataLoader<crate::loaders::AttachmentLoader>>()
            .ok_or_else(|| ApiError::internal(&"attachment loader missing from the request"))?;
        let (rows, more) = loader.load_one(key).await?.unwrap_or_default();
        Ok(connection(
            rows,
            page.after.is_some(),
            more,
            |a| a.id.to_string(),
            CaseAttachment::from,
        ))
    }
}

/// A file attached to a case. Its bytes: `GET downloadUrl` with the same token (and, for
/// staff, the same `X-Civitas-Tenant`).
#[derive(SimpleObject)]
pub struct CaseAttachment {
    pub id: ID,
    pub file_name: String,
    /// The type its content showed (`application/pdf`, `image/png`…), whatever its name.
    pub media_type: String,
    pub size: i64,
    /// The SHA-256 of its bytes, in hex.
    pub sha256: String,
    /// Who attached it: issuer and subject.
    pub uploaded_by: String,
    pub created_at: DateTime<Utc>,
    /// Relative to the server's address.
    pub download_url: String,
}

impl From<civitas_crm::attachments::Attachment> for CaseAttachment {
    fn from(a: civitas_crm::attachments::Attachment) -> Self {
        CaseAttachment {
            id: ID(a.id.to_string()),
            download_url: format!("/attachments/{}", a.id),
            file_name: a.file_name,
            media_type: a.media_type,
            size: a.size,
            sha256: a.sha256,
            uploaded_by: a.uploaded_by,
            created_at: a.created_at,
        }
    }
}

impl From<cases::Case> for Case {
    fn from(c: cases::Case) -> Self {
        Case {
            case_id: c.id,
            id: ID(c.id.to_string()),
            owner: c.owner(),
            number: c.number,
            person_id: c.person_id.map(|p| ID(p.to_string())),
            service_id: ID(c.service_id.to_string()),
            title: c.title,
            description: c.description,
            status: c.status.into(),
            priority: c.priority.into(),
            channel: c.channel.to_string(),
            assigned_team: c.assigned_team,
            assigned_to: c.assigned_to,
            escalation_level: c.escalation_level,
            custom_fields: Json(c.custom_fields),
            resolution_note: c.resolution_note,
            source: c.source,
            external_ref: c.external_ref,
            due_at: c.due_at,
            created_by: c.created_by,
            created_at: c.created_at,
            updated_at: c.updated_at,
            resolved_at: c.resolved_at,
            closed_at: c.closed_at,
            location: c.place.map(Location::from),
            media_url: c.media_url,
            published: c.published,
            tenant_id: c.tenant_id,
        }
    }
}

/// One change of a case.
#[derive(SimpleObject)]
pub struct CaseEvent {
    pub id: ID,
    pub occurred_at: DateTime<Utc>,
    pub actor: String,
    /// The citizen a tutor acted for.
    pub on_behalf_of: Option<String>,
    pub channel: String,
    pub kind: String,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub detail: Json<serde_json::Value>,
}

impl From<cases::CaseEvent> for CaseEvent {
    fn from(e: cases::CaseEvent) -> Self {
        CaseEvent {
            id: ID(e.id.to_string()),
            occurred_at: e.occurred_at,
            actor: e.actor,
            on_behalf_of: e.on_behalf_of,
            channel: e.channel,
            kind: e.kind,
            from_status: e.from_status,
            to_status: e.to_status,
            detail: Json(e.detail),
        }
    }
}

#[derive(SimpleObject)]
pub struct Count {
    pub key: String,
    pub count: i32,
}

/// Where the open cases are and how late they run.
#[derive(SimpleObject)]
pub struct CaseStats {
    pub open_by_status: Vec<Count>,
    /// Keyed by service id.
    pub open_by_service: Vec<Count>,
    /// Keyed by team; "" for cases without one.
    pub open_by_team: Vec<Count>,
    pub overdue: i32,
    pub median_hours_to_resolution: Option<f64>,
}

#[derive(SimpleObject)]
pub struct UpsertCasePayload {
    pub case: Case,
    /// False when the push repeated what Civitas already had.
    pub changed: bool,
}

#[derive(InputObject, Default)]
pub struct CaseFilterInput {
    #[graphql(default)]
    pub statuses: Vec<CaseStatus>,
    pub service_code: Option<String>,
    pub assigned_to: Option<String>,
    pub assigned_team: Option<String>,
    pub person_id: Option<ID>,
    pub overdue: Option<bool>,
    /// Only cases whose place is in this box (a map's view).
    pub within: Option<BoundingBox>,
}

/// A box on the map, in degrees (WGS84).
#[derive(InputObject)]
pub struct BoundingBox {
    pub south: f64,
    pub west: f64,
    pub north: f64,
    pub east: f64,
}

impl BoundingBox {
    fn checked(self) -> ApiResult<civitas_crm::places::BBox> {
        let (south, west) = civitas_crm::places::coordinates(self.south, self.west)?;
        let (north, east) = civitas_crm::places::coordinates(self.north, self.east)?;
        if south > north || west > east {
            return Err(civitas_crm::Error::Validation(
                "within: south must not exceed north, nor west east".into(),
            )
            .into());
        }
        Ok(civitas_crm::places::BBox {
            min_lat: south,
            min_lon: west,
            max_lat: north,
            max_lon: east,
        })
    }
}

#[derive(InputObject)]
pub struct CreateCaseInput {
    pub service_code: String,
    pub person_id: Option<ID>,
    pub title: String,
    #[graphql(default)]
    pub description: String,
    pub priority: Option<Priority>,
    pub custom_fields: Option<Json<serde_json::Value>>,
    pub assigned_team: Option<String>,
    pub assigned_to: Option<String>,
    /// Where the request came in.
    #[graphql(default = "counter")]
    pub channel: String,
    /// For tutors: the citizen who delegated them.
    pub on_behalf_of: Option<ID>,
    /// Where it is; the body must serve the point (one of its areas holds it, or it has
    /// none).
    pub location: Option<LocationInput>,
}

#[derive(InputObject)]
pub struct SourceCaseInput {
    pub service_code: String,
    /// The citizen, when the legacy system knows them (they must be registered here).
    pub fiscal_code: Option<String>,
    pub title: String,
    #[graphql(default)]
    pub description: String,
    pub status: CaseStatus,
    pub priority: Option<Priority>,
    pub custom_fields: Option<Json<serde_json::Value>>,
}

/// A channel as clients name it; VALIDATION when unknown.
pub(crate) fn channel(word: &str) -> ApiResult<Channel> {
    Ok(word.parse::<Channel>()?)
}

fn json_or_null(j: Option<Json<serde_json::Value>>) -> serde_json::Value {
    j.map(|j| j.0).unwrap_or(serde_json::Value::Null)
}

#[derive(Default)]
pub struct CaseQuery;

#[Object]
impl CaseQuery {
    /// The body's cases, newest first, as a Relay connection.
    async fn cases(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: i32,
        after: Option<String>,
        filter: Option<CaseFilterInput>,
    ) -> ApiResult<Connection<String, Case, EmptyFields, EmptyFields>> {
        let after: Option<CaseId> = parse_opt("after", after.map(ID).as_ref())?;
        let f = filter.unwrap_or_default();
        let query = Query {
            statuses: f.statuses.into_iter().map(Into::into).collect(),
            service_code: f.service_code,
            assigned_to: f.assigned_to,
            assigned_team: f.assigned_team,
            person_id: parse_opt("personId", f.person_id.as_ref())?,
            overdue: f.overdue,
            within: f.within.map(BoundingBox::checked).transpose()?,
        };
        let page = Page::new(first.into(), after)?;
        let (rows, more) = uc::list(state(ctx), caller(ctx), query, page).await?;
        let mut conn = Connection::new(after.is_some(), more);
        conn.edges.extend(
            rows.into_iter()
                .map(|c| Edge::new(c.id.to_string(), Case::from(c))),
        );
        Ok(conn)
    }

    async fn case(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Case> {
        Ok(uc::get(state(ctx), caller(ctx), parse("id", &id)?)
            .await?
            .into())
    }

    /// The supervisors' dashboard: open cases by status, service and team, how many are
    /// overdue, the median time to resolution.
    async fn case_stats(&self, ctx: &Context<'_>) -> ApiResult<CaseStats> {
        let st = uc::stats(state(ctx), caller(ctx)).await?;
        let counts = |m: std::collections::BTreeMap<String, u64>| {
            m.into_iter()
                .map(|(key, n)| Count {
                    key,
                    count: n as i32,
                })
                .collect()
        };
        Ok(CaseStats {
            open_by_status: counts(st.open_by_status),
            open_by_service: counts(
                st.open_by_service
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v))
                    .collect(),
            ),
            open_by_team: counts(st.open_by_team),
            overdue: st.overdue as i32,
            median_hours_to_resolution: st.median_hours_to_resolution,
        })
    }
}

#[derive(Default)]
pub struct CaseMutation;

#[Object]
impl CaseMutation {
    /// Opens a case; its due time follows the service's SLA.
    async fn create_case(&self, ctx: &Context<'_>, input: CreateCaseInput) -> ApiResult<Case> {
        let new = CreateCase {
            case: NewCase {
                service_code: input.service_code,
                person_id: parse_opt("personId", input.person_id.as_ref())?,
                title: input.title,
                description: input.description,
                priority: input.priority.map(Into::into),
                custom_fields: json_or_null(input.custom_fields),
                assigned_team: input.assigned_team,
                assigned_to: input.assigned_to,
                place: input.location.map(LocationInput::place).transpose()?,
                ..Default::default()
            },
            channel: channel(&input.channel)?,
            on_behalf_of: parse_opt("onBehalfOf", input.on_behalf_of.as_ref())?,
        };
        Ok(uc::create(state(ctx), caller(ctx), new).await?.into())
    }

    /// Moves a case along its lifecycle; an illegal move is a VALIDATION error naming the
    /// allowed ones. Closing needs a resolution note.
    async fn change_case_status(
        &self,
        ctx: &Context<'_>,
        id: ID,
        status: CaseStatus,
        note: Option<String>,
        #[graphql(default = "web")] channel: String,
    ) -> ApiResult<Case> {
        let c = uc::change_status(
            state(ctx),
            caller(ctx),
            parse("id", &id)?,
            status.into(),
            note,
            self::channel(&channel)?,
        )
        .await?;
        Ok(c.into())
    }

    /// Writes to the case's citizen: the text is kept in the case's history (kind
    /// `message`), lands in the citizen's inbox and, where the body sends e-mail, in their
    /// mailbox. A case with no citizen, or an empty text or one over 4,000 characters, is
    /// VALIDATION.
    async fn message_citizen(
        &self,
        ctx: &Context<'_>,
        case_id: ID,
        text: String,
        #[graphql(default = "web")] channel: String,
    ) -> ApiResult<Case> {
        let c = uc::message_citizen(
            state(ctx),
            caller(ctx),
            parse("caseId", &case_id)?,
            &text,
            self::channel(&channel)?,
        )
        .await?;
        Ok(c.into())
    }

    async fn assign_case(
        &self,
        ctx: &Context<'_>,
        id: ID,
        team: Option<String>,
        operator: Option<String>,
    ) -> ApiResult<Case> {
        let c = uc::assign(state(ctx), caller(ctx), parse("id", &id)?, team, operator).await?;
        Ok(c.into())
    }

    /// Raises a case one level (operator → supervisor → head of office).
    async fn escalate_case(&self, ctx: &Context<'_>, id: ID, reason: String) -> ApiResult<Case> {
        let c = uc::escalate(state(ctx), caller(ctx), parse("id", &id)?, &reason).await?;
        Ok(c.into())
    }

    /// Creates or updates the case a legacy system knows as `externalRef`. Idempotent: the
    /// same push twice changes nothing the second time (`changed: false`).
    async fn upsert_case_from_source(
        &self,
        ctx: &Context<'_>,
        source: String,
        external_ref: String,
        input: SourceCaseInput,
    ) -> ApiResult<UpsertCasePayload> {
        let update = SourceUpdate {
            service_code: input.service_code,
            fiscal_code: input.fiscal_code,
            title: input.title,
            description: input.description,
            status: input.status.into(),
            priority: input.priority.map(Into::into),
            custom_fields: json_or_null(input.custom_fields),
        };
        let (c, changed) =
            uc::upsert_from_source(state(ctx), caller(ctx), &source, &external_ref, update).await?;
        Ok(UpsertCasePayload {
            case: c.into(),
            changed,
        })
    }
}
