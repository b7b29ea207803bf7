//! Cases, contacts, caller recognition, tutors' delegations and the supervisors' dashboard.

use async_graphql::connection::{Connection, Edge, EmptyFields};
use async_graphql::{ComplexObject, Context, Enum, ID, InputObject, Json, Object, SimpleObject};
use chrono::{DateTime, Utc};
use civitas_crm::cases::{self, Actor, CaseFilter, NewCase, SourceUpdate};
use civitas_crm::{delegations, interactions};
use civitas_tenants::{Role, TenantContext, TenantId};
use uuid::Uuid;

use crate::caller::{authorize, state};
use crate::citizens::parse_id;
use crate::error::{ApiError, ApiResult, Code};
use crate::loaders::{TenantRef, tenant_ref};

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
    #[graphql(skip)]
    pub tenant_id: TenantId,
}

#[ComplexObject]
impl Case {
    async fn tenant(&self, ctx: &Context<'_>) -> ApiResult<TenantRef> {
        tenant_ref(ctx, self.tenant_id).await
    }

    /// Past its due time and still open.
    async fn overdue(&self, ctx: &Context<'_>) -> bool {
        let now = state(ctx).db.clock().now();
        self.resolved_at.is_none() && self.closed_at.is_none() && self.due_at < now
    }

    /// Every change, oldest first (the caller's own body's cases only). Batched across the
    /// cases of a response.
    async fn history(&self, ctx: &Context<'_>) -> ApiResult<Vec<CaseEvent>> {
        let tc = authorize(ctx, "case", "read").await?;
        if tc.tenant.id != self.tenant_id {
            return Ok(vec![]);
        }
        let loader = ctx
            .data_opt::<async_graphql::dataloader::DataLoader<crate::loaders::CaseHistoryLoader>>()
            .ok_or_else(|| ApiError::internal(&"case history loader missing from the request"))?;
        let events = loader
            .load_one(parse_id("id", &self.id)?)
            .await?
            .unwrap_or_default();
        Ok(events.into_iter().map(Into::into).collect())
    }
}

impl From<cases::Case> for Case {
    fn from(c: cases::Case) -> Self {
        Case {
            id: ID(c.id.to_string()),
            owner: c.owner(),
            number: c.number,
            person_id: c.person_id.map(|p| ID(p.to_string())),
            service_id: ID(c.service_id.to_string()),
            title: c.title,
            description: c.description,
            status: c.status.into(),
            priority: c.priority.into(),
            channel: c.channel,
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
#[graphql(complex)]
pub struct Interaction {
    pub id: ID,
    pub person_id: Option<ID>,
    pub case_id: Option<ID>,
    pub channel: String,
    pub direction: String,
    pub operator: String,
    pub on_behalf_of: Option<String>,
    pub summary: String,
    pub occurred_at: DateTime<Utc>,
    #[graphql(skip)]
    pub tenant_id: TenantId,
}

#[ComplexObject]
impl Interaction {
    async fn tenant(&self, ctx: &Context<'_>) -> ApiResult<TenantRef> {
        tenant_ref(ctx, self.tenant_id).await
    }
}

impl From<interactions::Interaction> for Interaction {
    fn from(i: interactions::Interaction) -> Self {
        Interaction {
            id: ID(i.id.to_string()),
            person_id: i.person_id.map(|p| ID(p.to_string())),
            case_id: i.case_id.map(|c| ID(c.to_string())),
            channel: i.channel,
            direction: i.direction,
            operator: i.operator,
            on_behalf_of: i.on_behalf_of,
            summary: i.summary,
            occurred_at: i.occurred_at,
            tenant_id: i.tenant_id,
        }
    }
}

/// Who is calling: only for callers who allowed this body to recognise them.
#[derive(SimpleObject)]
pub struct RecognisedCaller {
    pub person_id: ID,
    pub greeting_name: String,
    pub open_cases: Vec<Case>,
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
pub struct Delegation {
    pub id: ID,
    pub person_id: ID,
    pub tutor_subject: String,
    pub tutor_issuer: String,
    pub scopes: Vec<String>,
    pub expires_at: Option<DateTime<Utc>>,
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

#[derive(InputObject)]
pub struct RecordInteractionInput {
    pub person_id: Option<ID>,
    pub case_id: Option<ID>,
    pub channel: String,
    /// `inbound` or `outbound`.
    pub direction: String,
    pub summary: String,
    pub occurred_at: Option<DateTime<Utc>>,
    pub on_behalf_of: Option<ID>,
}

async fn publish(s: &crate::AppState, c: &cases::Case, kind: &str) {
    s.events
        .publish(
            &s.db,
            crate::events::CaseChange::of(c, kind, s.db.clock().now()),
        )
        .await;
}

fn actor(tc: &TenantContext, channel: &str, on_behalf_of: Option<Uuid>) -> Actor {
    Actor {
        subject: tc.actor(),
        on_behalf_of,
        channel: channel.to_owned(),
    }
}

/// A tutor acts only for a citizen who delegated them; staff who are not only tutors act
/// directly. Returns the person the tutor acts for.
async fn on_behalf(
    ctx: &Context<'_>,
    tc: &TenantContext,
    person: Option<&ID>,
    what: &str,
) -> ApiResult<Option<Uuid>> {
    let only_tutor = tc.has_role(Role::Tutor)
        && ![
            Role::Operator,
            Role::Supervisor,
            Role::TenantAdmin,
            Role::Integrator,
            Role::PlatformAdmin,
        ]
        .iter()
        .any(|r| tc.has_role(*r));
    let Some(person) = person else {
        return if only_tutor {
            Err(ApiError::new(
                Code::Validation,
                "a tutor acts on behalf of a citizen: give onBehalfOf",
            ))
        } else {
            Ok(None)
        };
    };
    if !tc.has_role(Role::Tutor) {
        return Err(ApiError::new(
            Code::Forbidden,
            "only tutors act on behalf of a citizen",
        ));
    }
    let person = parse_id("onBehalfOf", person)?;
    let s = state(ctx);
    let scope = s.db.scope(tc).await?;
    let root = delegations::check(&scope, &tc.identity(), person, what, s.db.clock().now()).await?;
    scope.commit().await?;
    Ok(Some(root))
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
        let tc = authorize(ctx, "case", "read").await?;
        if !(1..=100).contains(&first) {
            return Err(ApiError::new(
                Code::Validation,
                "first must be between 1 and 100",
            ));
        }
        let after = after.map(|a| parse_id("after", &ID(a))).transpose()?;
        let f = filter.unwrap_or_default();
        let s = state(ctx);
        let scope = s.db.scope(tc).await?;
        let service_id = match f.service_code.as_deref() {
            Some(code) => Some(civitas_crm::catalogue::by_code(&scope, code).await?.id),
            None => None,
        };
        let filter = CaseFilter {
            statuses: f.statuses.into_iter().map(Into::into).collect(),
            service_id,
            assigned_to: f.assigned_to,
            assigned_team: f.assigned_team,
            person_id: f.person_id.map(|p| parse_id("personId", &p)).transpose()?,
            overdue: f.overdue,
        };
        let (rows, more) =
            cases::list(&scope, &filter, first as u64, after, s.db.clock().now()).await?;
        scope.commit().await?;
        let mut conn = Connection::new(after.is_some(), more);
        conn.edges.extend(
            rows.into_iter()
                .map(|c| Edge::new(c.id.to_string(), Case::from(c))),
        );
        Ok(conn)
    }

    async fn case(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Case> {
        let tc = authorize(ctx, "case", "read").await?;
        let scope = state(ctx).db.scope(tc).await?;
        let c = cases::get(&scope, parse_id("id", &id)?).await?;
        scope.commit().await?;
        Ok(c.into())
    }

    /// The supervisors' dashboard: open cases by status, service and team, how many are
    /// overdue, the median time to resolution.
    async fn case_stats(&self, ctx: &Context<'_>) -> ApiResult<CaseStats> {
        let tc = authorize(ctx, "case", "stats").await?;
        let s = state(ctx);
        let scope = s.db.scope(tc).await?;
        let st = cases::stats::compute(&scope, s.db.clock().now()).await?;
        scope.commit().await?;
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

    /// Who is calling from this number: only when they allowed this body to recognise them
    /// (privacy purpose `caller_recognition`); otherwise `null`. Every look-up is audited.
    async fn identify_caller(
        &self,
        ctx: &Context<'_>,
        phone: String,
    ) -> ApiResult<Option<RecognisedCaller>> {
        let tc = authorize(ctx, "contact_centre", "identify").await?;
        let s = state(ctx);
        let scope = s.db.scope(tc).await?;
        let found =
            interactions::identify_caller(&scope, &tc.identity(), &phone, s.db.clock().now())
                .await?;
        scope.commit().await?;
        Ok(found.map(|c| RecognisedCaller {
            person_id: ID(c.person_id.to_string()),
            greeting_name: c.greeting_name,
            open_cases: c.open_cases.into_iter().map(Into::into).collect(),
        }))
    }

    /// The body's contacts with a citizen, newest first.
    async fn interactions(&self, ctx: &Context<'_>, person_id: ID) -> ApiResult<Vec<Interaction>> {
        let tc = authorize(ctx, "interaction", "read").await?;
        let scope = state(ctx).db.scope(tc).await?;
        let (_, family) = civitas_crm::citizen_view::registered_person(
            &scope,
            civitas_crm::citizen_view::Lookup::Person(parse_id("personId", &person_id)?),
        )
        .await?;
        let list = interactions::of_person(&scope, &family).await?;
        scope.commit().await?;
        Ok(list.into_iter().map(Into::into).collect())
    }
}

#[derive(Default)]
pub struct CaseMutation;

#[Object]
impl CaseMutation {
    /// Opens a case; its due time follows the service's SLA.
    async fn create_case(&self, ctx: &Context<'_>, input: CreateCaseInput) -> ApiResult<Case> {
        let tc = authorize(ctx, "case", "create").await?;
        let for_person = on_behalf(ctx, tc, input.on_behalf_of.as_ref(), "cases").await?;
        let s = state(ctx);
        let scope = s.db.scope(tc).await?;
        let person_id = match for_person {
            Some(p) => Some(p),
            None => input
                .person_id
                .map(|p| parse_id("personId", &p))
                .transpose()?,
        };
        let new = NewCase {
            service_code: input.service_code,
            person_id,
            title: input.title,
            description: input.description,
            priority: input.priority.map(Into::into),
            custom_fields: input
                .custom_fields
                .map(|j| j.0)
                .unwrap_or(serde_json::Value::Null),
            assigned_team: input.assigned_team,
            assigned_to: input.assigned_to,
        };
        let c = cases::create(
            &scope,
            &actor(tc, &input.channel, for_person),
            new,
            s.db.clock().now(),
        )
        .await?;
        scope.commit().await?;
        publish(s, &c, "created").await;
        Ok(c.into())
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
        let tc = authorize(ctx, "case", "update").await?;
        let s = state(ctx);
        let scope = s.db.scope(tc).await?;
        let c = cases::transition(
            &scope,
            &actor(tc, &channel, None),
            parse_id("id", &id)?,
            status.into(),
            note,
            s.db.clock().now(),
        )
        .await?;
        scope.commit().await?;
        publish(s, &c, "status_changed").await;
        Ok(c.into())
    }

    async fn assign_case(
        &self,
        ctx: &Context<'_>,
        id: ID,
        team: Option<String>,
        operator: Option<String>,
    ) -> ApiResult<Case> {
        let tc = authorize(ctx, "case", "assign").await?;
        let s = state(ctx);
        let scope = s.db.scope(tc).await?;
        let c = cases::assign(
            &scope,
            &actor(tc, "web", None),
            parse_id("id", &id)?,
            team,
            operator,
            s.db.clock().now(),
        )
        .await?;
        scope.commit().await?;
        publish(s, &c, "assigned").await;
        Ok(c.into())
    }

    /// Raises a case one level (operator → supervisor → head of office).
    async fn escalate_case(&self, ctx: &Context<'_>, id: ID, reason: String) -> ApiResult<Case> {
        let tc = authorize(ctx, "case", "escalate").await?;
        let s = state(ctx);
        let scope = s.db.scope(tc).await?;
        let c = cases::escalate(
            &scope,
            &actor(tc, "web", None),
            parse_id("id", &id)?,
            &reason,
            s.db.clock().now(),
        )
        .await?;
        scope.commit().await?;
        publish(s, &c, "escalated").await;
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
        let tc = authorize(ctx, "case", "upsert").await?;
        let s = state(ctx);
        let scope = s.db.scope(tc).await?;
        let upd = SourceUpdate {
            service_code: input.service_code,
            fiscal_code: input.fiscal_code,
            title: input.title,
            description: input.description,
            status: input.status.into(),
            priority: input.priority.map(Into::into),
            custom_fields: input
                .custom_fields
                .map(|j| j.0)
                .unwrap_or(serde_json::Value::Null),
        };
        let (c, changed) = cases::upsert_from_source(
            &scope,
            &actor(tc, "web", None),
            &source,
            &external_ref,
            upd,
            s.db.clock().now(),
        )
        .await?;
        scope.commit().await?;
        if changed {
            publish(s, &c, "synced").await;
        }
        Ok(UpsertCasePayload {
            case: c.into(),
            changed,
        })
    }

    /// Records a contact with a citizen on any channel.
    async fn record_interaction(
        &self,
        ctx: &Context<'_>,
        input: RecordInteractionInput,
    ) -> ApiResult<Interaction> {
        let tc = authorize(ctx, "interaction", "create").await?;
        let for_person = on_behalf(ctx, tc, input.on_behalf_of.as_ref(), "interactions").await?;
        let s = state(ctx);
        let scope = s.db.scope(tc).await?;
        let new = interactions::NewInteraction {
            person_id: match for_person {
                Some(p) => Some(p),
                None => input
                    .person_id
                    .map(|p| parse_id("personId", &p))
                    .transpose()?,
            },
            case_id: input.case_id.map(|c| parse_id("caseId", &c)).transpose()?,
            direction: input.direction,
            summary: input.summary,
            occurred_at: input.occurred_at,
        };
        let i = interactions::record(
            &scope,
            &actor(tc, &input.channel, for_person),
            new,
            s.db.clock().now(),
        )
        .await?;
        scope.commit().await?;
        Ok(i.into())
    }

    /// Records that a citizen delegates a tutor of the body (supervisors).
    async fn grant_delegation(
        &self,
        ctx: &Context<'_>,
        person_id: ID,
        tutor: String,
        #[graphql(desc = "The tutor's issuer; by default the caller's own.")] tutor_issuer: Option<
            String,
        >,
        scopes: Vec<String>,
        expires_at: Option<DateTime<Utc>>,
    ) -> ApiResult<Delegation> {
        let tc = authorize(ctx, "delegation", "grant").await?;
        let s = state(ctx);
        let scope = s.db.scope(tc).await?;
        let tutor = civitas_tenants::Identity::new(
            tutor_issuer.unwrap_or_else(|| tc.principal.issuer.clone()),
            tutor,
        );
        let d = delegations::grant(
            &scope,
            &tc.identity(),
            parse_id("personId", &person_id)?,
            &tutor,
            &scopes,
            expires_at,
            s.db.clock().now(),
        )
        .await?;
        scope.commit().await?;
        Ok(Delegation {
            id: ID(d.id.to_string()),
            person_id: ID(d.person_id.to_string()),
            tutor_subject: d.tutor_subject,
            tutor_issuer: d.tutor_issuer,
            scopes: d.scopes,
            expires_at: d.expires_at,
        })
    }

    async fn revoke_delegation(&self, ctx: &Context<'_>, id: ID) -> ApiResult<bool> {
        let tc = authorize(ctx, "delegation", "revoke").await?;
        let s = state(ctx);
        let scope = s.db.scope(tc).await?;
        delegations::revoke(
            &scope,
            &tc.identity(),
            parse_id("id", &id)?,
            s.db.clock().now(),
        )
        .await?;
        scope.commit().await?;
        Ok(true)
    }
}
