//! Erasure (GDPR art. 17) across bodies, with legal retention.
//!
//! A request is filed once, for the person (by the citizen, or recorded by an operator of a
//! body that knows them). A background run then visits every body: in one transaction per
//! body it erases what the body holds of the person (profile, contacts, channel choices,
//! quiet hours, notifications and their deliveries, privacy consents, delegations given,
//! interactions, links to legacy records, and the cases no retention duty keeps, with their
//! history and files), restricts the cases its retention schedule keeps until they are due,
//! and writes a step saying what it erased and what it kept. A body with a step is done, so
//! a run cut off half-way (a crash, a kill) leaves every body either done or untouched, and
//! the next run finishes the rest. Each run also erases the restricted cases that have come
//! due, and drops the codice fiscale of a person of whom no body holds anything any more.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use civitas_tenants::{
    Db, PersonScope, Scope, TenantContext, TenantId, TenantOwned, audit, registry,
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Statement,
};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use crate::attachments::{self, BlobStore};
use crate::entity::{
    attachment, case, case_event, channel_choice, consent_request, contact, delegation,
    erasure_request, erasure_step, interaction, notification, notification_attempt,
    notification_delivery, participation, person_source, preference, privacy_consent, profile,
    quiet_hours, service, survey_answer, survey_invitation,
};
use crate::retention::{Schedule, kept_until};
use crate::sharing::{self, Visibility};
use crate::{Error, Result};

/// A case a body keeps under its retention schedule, restricted until `until`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Kept {
    pub case: String,
    pub service: String,
    pub years: u32,
    pub until: DateTime<Utc>,
}

/// What one body did for a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub tenant_id: TenantId,
    pub done_at: DateTime<Utc>,
    /// Records erased, by kind.
    pub erased: BTreeMap<String, u64>,
    /// Cases still kept (those erased since their retention ended are no longer listed).
    pub kept: Vec<Kept>,
}

impl TryFrom<erasure_step::Model> for Step {
    type Error = Error;
    fn try_from(m: erasure_step::Model) -> Result<Self> {
        let bad = |e: serde_json::Error| Error::Internal(format!("erasure step {}: {e}", m.id));
        Ok(Step {
            tenant_id: TenantId(m.tenant_id),
            done_at: m.done_at,
            erased: serde_json::from_value(m.erased.clone()).map_err(bad)?,
            kept: serde_json::from_value(m.kept.clone()).map_err(bad)?,
        })
    }
}

/// A request as the citizen sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub id: Uuid,
    pub requested_at: DateTime<Utc>,
    /// The body whose operator recorded it; `None`: the citizen asked themselves.
    pub recorded_in: Option<TenantId>,
    pub steps: Vec<Step>,
    /// Bodies that hold records of the person and have not yet acted on it.
    pub pending: Vec<TenantId>,
    /// When the codice fiscale was dropped: nothing of the person was left anywhere.
    pub forgotten_at: Option<DateTime<Utc>>,
}

impl Request {
    /// Every body that held records has acted on it.
    pub fn settled(&self) -> bool {
        self.pending.is_empty()
    }
}

/// Files a request for `person` (who must be visible on `conn`: the citizen's own scope, or
/// a body that knows them).
pub async fn file<C: ConnectionTrait>(
    conn: &C,
    person: Uuid,
    by: &str,
    channel: &str,
    recorded_in: Option<TenantId>,
    now: DateTime<Utc>,
) -> Result<Uuid> {
    let id = Uuid::now_v7();
    erasure_request::Entity::insert(erasure_request::ActiveModel {
        id: Set(id),
        person_id: Set(person),
        requested_at: Set(now),
        requested_by: Set(by.to_owned()),
        channel: Set(channel.to_owned()),
        recorded_in_tenant_id: Set(recorded_in.map(|t| t.0)),
        forgotten_at: Set(None),
    })
    .exec_without_returning(conn)
    .await?;
    Ok(id)
}

/// The citizen's requests, newest first, each with what every body did and which have not
/// acted yet.
pub async fn of_person(scope: &PersonScope) -> Result<Vec<Request>> {
    let persons = scope.persons().to_vec();
    let requests = erasure_request::Entity::find()
        .filter(erasure_request::Column::PersonId.is_in(persons.clone()))
        .order_by_desc(erasure_request::Column::Id)
        .all(scope.conn())
        .await?;
    let steps = scope
        .find::<erasure_step::Entity>()
        .all(scope.conn())
        .await?;
    let mut holding: BTreeSet<Uuid> = scope
        .find::<profile::Entity>()
        .all(scope.conn())
        .await?
        .into_iter()
        .map(|p| p.tenant_id)
        .collect();
    // The bodies only: a citizen may have thousands of cases (the export calls this).
    let with_cases: Vec<Uuid> = scope
        .find::<case::Entity>()
        .filter(case::Column::EraseAfter.is_null())
        .select_only()
        .column(case::Column::TenantId)
        .distinct()
        .into_tuple()
        .all(scope.conn())
        .await?;
    holding.extend(with_cases);
    requests
        .into_iter()
        .map(|r| {
            let mine: Vec<Step> = steps
                .iter()
                .filter(|s| s.request_id == r.id)
                .cloned()
                .map(Step::try_from)
                .collect::<Result<_>>()?;
            let done: BTreeSet<Uuid> = mine.iter().map(|s| s.tenant_id.0).collect();
            Ok(Request {
                id: r.id,
                requested_at: r.requested_at,
                recorded_in: r.recorded_in_tenant_id.map(TenantId),
                pending: holding
                    .iter()
                    .filter(|t| !done.contains(t))
                    .map(|t| TenantId(*t))
                    .collect(),
                steps: mine,
                forgotten_at: r.forgotten_at,
            })
        })
        .collect()
}

/// What one run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunSummary {
    /// Bodies that acted on a request.
    pub steps: u64,
    /// Restricted cases erased because their retention ended.
    pub purged: u64,
    /// Persons whose codice fiscale was dropped.
    pub forgotten: u64,
    /// Bodies where a step failed (logged; the next run tries again).
    pub failed: u64,
}

/// Acts on every request at every body, erases restricted cases that have come due, and
/// forgets persons of whom nothing is left. Safe to run on several replicas at once: a
/// body's step is unique per request, so a second run's insert fails and rolls its
/// transaction back.
pub async fn run(db: &Db, store: &dyn BlobStore, now: DateTime<Utc>) -> Result<RunSummary> {
    let mut summary = RunSummary::default();
    for tenant in registry::list(db).await? {
        let ctx = TenantContext::system(tenant, "erasure");
        let scope = db.scope(&ctx).await?;
        let pending = pending_in(&scope).await?;
        scope.commit().await?;
        for (request, person) in pending {
            let scope = db.scope(&ctx).await?;
            match erase_in(&scope, store, request, person, now).await {
                Ok(()) => {
                    scope.commit().await?;
                    summary.steps += 1;
                }
                Err(e) => {
                    tracing::error!(error = %e, tenant = %ctx.tenant.slug, %request,
                        "erasure step failed; the next run tries again");
                    summary.failed += 1;
                }
            }
        }
        let scope = db.scope(&ctx).await?;
        match purge_due(&scope, store, now).await {
            Ok(n) => {
                scope.commit().await?;
                summary.purged += n;
            }
            Err(e) => {
                tracing::error!(error = %e, tenant = %ctx.tenant.slug,
                    "erasing cases whose retention ended failed");
                summary.failed += 1;
            }
        }
    }
    for person in open_requests(db).await? {
        if forget(db, person, now).await? {
            summary.forgotten += 1;
        }
    }
    if summary != RunSummary::default() {
        tracing::info!(?summary, "erasure run");
    }
    Ok(summary)
}

/// Requests about persons the scope's body holds records of, which it has not acted on.
async fn pending_in(scope: &Scope) -> Result<Vec<(Uuid, Uuid)>> {
    let backend = scope.conn().get_database_backend();
    let t = scope.tenant_id().0;
    let sql = match backend {
        DbBackend::Postgres => PENDING_SQL.replace('?', "$1"),
        _ => PENDING_SQL.to_owned(),
    };
    let rows = scope
        .conn()
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            sql,
            match backend {
                DbBackend::Postgres => vec![t.into()],
                _ => vec![t.into(), t.into(), t.into(), t.into(), t.into()],
            },
        ))
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("", "id")?, r.try_get("", "person_id")?)))
        .collect()
}

/// The tenant parameter appears five times (`$1` on PostgreSQL, `?` five times on SQLite).
const PENDING_SQL: &str = "SELECT r.id, r.person_id FROM erasure_requests r
  WHERE NOT EXISTS (SELECT 1 FROM erasure_steps s WHERE s.tenant_id = ? AND s.request_id = r.id)
    AND (EXISTS (SELECT 1 FROM profiles f LEFT JOIN persons x ON x.id = f.person_id
                 WHERE f.tenant_id = ? AND (f.person_id = r.person_id OR x.merged_into = r.person_id))
      OR EXISTS (SELECT 1 FROM cases c LEFT JOIN persons y ON y.id = c.person_id
                 WHERE c.tenant_id = ? AND c.erase_after IS NULL
                   AND (c.person_id = r.person_id OR y.merged_into = r.person_id))
      OR EXISTS (SELECT 1 FROM participations q LEFT JOIN persons z ON z.id = q.person_id
                 WHERE q.tenant_id = ?
                   AND (q.person_id = r.person_id OR z.merged_into = r.person_id))
      OR EXISTS (SELECT 1 FROM survey_invitations v LEFT JOIN persons w ON w.id = v.person_id
                 WHERE v.tenant_id = ?
                   AND (v.person_id = r.person_id OR w.merged_into = r.person_id)))
  ORDER BY r.id";

/// Deletes the rows of `E` of the scope's body whose `col` is one of `ids`; how many.
async fn delete_in<E: TenantOwned>(scope: &Scope, col: E::Column, ids: &[Uuid]) -> Result<u64> {
    if ids.is_empty() {
        return Ok(0);
    }
    Ok(scope
        .delete_many::<E>()
        .filter(col.is_in(ids.iter().copied()))
        .exec(scope.conn())
        .await?
        .rows_affected)
}

/// One body's step for one request.
async fn erase_in(
    scope: &Scope,
    store: &dyn BlobStore,
    request: Uuid,
    person: Uuid,
    now: DateTime<Utc>,
) -> Result<()> {
    let family = crate::persons::family(scope.conn(), person).await?;
    let schedule = Schedule::of(scope).await?;
    let services: BTreeMap<Uuid, String> = scope
        .find::<service::Entity>()
        .all(scope.conn())
        .await?
        .into_iter()
        .map(|s| (s.id, s.code))
        .collect();
    let cases = scope
        .find::<case::Entity>()
        .filter(case::Column::PersonId.is_in(family.clone()))
        .all(scope.conn())
        .await?;
    let (mut erase, mut kept) = (Vec::new(), Vec::new());
    for c in &cases {
        let code = services.get(&c.service_id).cloned().unwrap_or_default();
        let years = schedule.years(&code);
        if years == 0 {
            erase.push(c.id);
            continue;
        }
        let until = c
            .erase_after
            .unwrap_or_else(|| kept_until(c.closed_at.or(c.resolved_at), now, years));
        if c.erase_after.is_none() {
            scope
                .update_many::<case::Entity>()
                .col_expr(case::Column::EraseAfter, until.into())
                .filter(case::Column::Id.eq(c.id))
                .exec(scope.conn())
                .await?;
        }
        kept.push((
            c.id,
            Kept {
                case: c.number.clone(),
                service: code,
                years,
                until,
            },
        ));
    }
    let kept_ids: Vec<Uuid> = kept.iter().map(|(id, _)| *id).collect();
    let mut erased = erase_cases(scope, store, &erase).await?;
    let mut count = |k: &str, n: u64| {
        if n > 0 {
            *erased.entry(k.to_owned()).or_default() += n;
        }
    };
    // Interactions with no case, or with a case not kept.
    let loose: Vec<Uuid> = scope
        .find::<interaction::Entity>()
        .filter(interaction::Column::PersonId.is_in(family.clone()))
        .all(scope.conn())
        .await?
        .into_iter()
        .filter(|i| i.case_id.is_none_or(|c| !kept_ids.contains(&c)))
        .map(|i| i.id)
        .collect();
    count(
        "interactions",
        delete_in::<interaction::Entity>(scope, interaction::Column::Id, &loose).await?,
    );
    let deliveries: Vec<Uuid> = scope
        .find::<notification_delivery::Entity>()
        .filter(notification_delivery::Column::PersonId.is_in(family.clone()))
        .all(scope.conn())
        .await?
        .into_iter()
        .map(|d| d.id)
        .collect();
    delete_in::<notification_attempt::Entity>(
        scope,
        notification_attempt::Column::DeliveryId,
        &deliveries,
    )
    .await?;
    count(
        "notificationDeliveries",
        delete_in::<notification_delivery::Entity>(
            scope,
            notification_delivery::Column::Id,
            &deliveries,
        )
        .await?,
    );
    count(
        "notifications",
        delete_in::<notification::Entity>(scope, notification::Column::PersonId, &family).await?,
    );
    count(
        "contacts",
        delete_in::<contact::Entity>(scope, contact::Column::PersonId, &family).await?,
    );
    count(
        "channelChoices",
        delete_in::<channel_choice::Entity>(scope, channel_choice::Column::PersonId, &family)
            .await?,
    );
    count(
        "quietHours",
        delete_in::<quiet_hours::Entity>(scope, quiet_hours::Column::PersonId, &family).await?,
    );
    count(
        "privacyConsents",
        delete_in::<privacy_consent::Entity>(scope, privacy_consent::Column::PersonId, &family)
            .await?,
    );
    count(
        "delegations",
        delete_in::<delegation::Entity>(scope, delegation::Column::PersonId, &family).await?,
    );
    count(
        "participations",
        delete_in::<participation::Entity>(scope, participation::Column::PersonId, &family).await?,
    );
    count(
        "preferences",
        delete_in::<preference::Entity>(scope, preference::Column::PersonId, &family).await?,
    );
    // Anonymous answers name no one and stay; identified ones go with their invitations.
    count(
        "surveyAnswers",
        delete_in::<survey_answer::Entity>(scope, survey_answer::Column::PersonId, &family).await?,
    );
    count(
        "surveyInvitations",
        delete_in::<survey_invitation::Entity>(scope, survey_invitation::Column::PersonId, &family)
            .await?,
    );
    let profiles: Vec<Uuid> = scope
        .find::<profile::Entity>()
        .filter(profile::Column::PersonId.is_in(family.clone()))
        .all(scope.conn())
        .await?
        .into_iter()
        .map(|p| p.id)
        .collect();
    count(
        "legacyLinks",
        delete_in::<person_source::Entity>(scope, person_source::Column::ProfileId, &profiles)
            .await?,
    );
    count(
        "profiles",
        delete_in::<profile::Entity>(scope, profile::Column::Id, &profiles).await?,
    );
    count(
        "sharingConsents",
        withdraw_consents(scope, &family, now).await?,
    );
    let kept: Vec<Kept> = kept.into_iter().map(|(_, k)| k).collect();
    let step = erasure_step::ActiveModel {
        id: Set(Uuid::now_v7()),
        request_id: Set(request),
        person_id: Set(person),
        done_at: Set(now),
        erased: Set(json!(erased)),
        kept: Set(serde_json::to_value(&kept).map_err(|e| Error::Internal(e.to_string()))?),
        ..Default::default()
    };
    scope.insert(step).await?;
    // The tombstone: which request, how much, nothing that names the person.
    audit::record(
        scope,
        "system:erasure",
        "person.erased",
        Some(&request.to_string()),
        json!({ "erased": erased, "kept": kept.len() }),
    )
    .await?;
    Ok(())
}

/// Revokes the person's sharing consents the scope's body is a party to, and declines
/// their pending consent requests.
async fn withdraw_consents(scope: &Scope, family: &[Uuid], now: DateTime<Utc>) -> Result<u64> {
    let own = scope.tenant_id();
    let mut n = 0;
    for c in sharing::list(scope.conn(), family, Visibility::Tenant(own)).await? {
        if c.revoked_at.is_none() {
            sharing::revoke(
                scope.conn(),
                c.id,
                Visibility::Tenant(own),
                "system:erasure",
                now,
            )
            .await?;
            n += 1;
        }
    }
    let involved = sea_orm::Condition::any()
        .add(consent_request::Column::GranteeTenantId.eq(own.0))
        .add(consent_request::Column::SourceTenantId.eq(own.0))
        .add(consent_request::Column::CollectedInTenantId.eq(own.0));
    consent_request::Entity::update_many()
        .col_expr(consent_request::Column::Status, "declined".into())
        .col_expr(consent_request::Column::DecidedAt, Some(now).into())
        .filter(consent_request::Column::PersonId.is_in(family.iter().copied()))
        .filter(consent_request::Column::Status.eq("pending"))
        .filter(involved)
        .exec(scope.conn())
        .await?;
    Ok(n)
}

/// Erases cases with their history, interactions, notifications about them and files (a
/// file stays while another record of the body names it, or it is the body's logo).
async fn erase_cases(
    scope: &Scope,
    store: &dyn BlobStore,
    ids: &[Uuid],
) -> Result<BTreeMap<String, u64>> {
    let mut erased = BTreeMap::new();
    if ids.is_empty() {
        return Ok(erased);
    }
    let files: BTreeSet<String> = scope
        .find::<attachment::Entity>()
        .filter(attachment::Column::CaseId.is_in(ids.iter().copied()))
        .all(scope.conn())
        .await?
        .into_iter()
        .map(|a| a.sha256)
        .collect();
    let mut put = |k: &str, n: u64| {
        if n > 0 {
            erased.insert(k.to_owned(), n);
        }
    };
    put(
        "attachments",
        delete_in::<attachment::Entity>(scope, attachment::Column::CaseId, ids).await?,
    );
    put(
        "caseEvents",
        delete_in::<case_event::Entity>(scope, case_event::Column::CaseId, ids).await?,
    );
    let interactions = scope
        .delete_many::<interaction::Entity>()
        .filter(interaction::Column::CaseId.is_in(ids.iter().copied()))
        .exec(scope.conn())
        .await?
        .rows_affected;
    put("interactions", interactions);
    scope
        .delete_many::<notification::Entity>()
        .filter(notification::Column::CaseId.is_in(ids.iter().copied()))
        .exec(scope.conn())
        .await?;
    put(
        "cases",
        delete_in::<case::Entity>(scope, case::Column::Id, ids).await?,
    );
    let logo = crate::branding::Branding::of(&scope.settings().await?)
        .ok()
        .and_then(|b| b.logo)
        .map(|l| l.sha256);
    for sha in files {
        let still_named = scope
            .find::<attachment::Entity>()
            .filter(attachment::Column::Sha256.eq(sha.clone()))
            .one(scope.conn())
            .await?
            .is_some();
        if still_named || logo.as_deref() == Some(sha.as_str()) {
            continue;
        }
        // Before the commit: a failure here rolls the rows back, and the next run tries
        // again; a file deleted whose rows then fail to commit is deleted again, harmlessly.
        store
            .delete(&attachments::key(scope.tenant_id(), &sha))
            .await
            .map_err(|e| Error::Internal(format!("deleting a file: {e}")))?;
    }
    Ok(erased)
}

/// Erases the body's restricted cases whose retention has ended; how many.
async fn purge_due(scope: &Scope, store: &dyn BlobStore, now: DateTime<Utc>) -> Result<u64> {
    let due = scope
        .find::<case::Entity>()
        .filter(case::Column::EraseAfter.lte(now))
        .all(scope.conn())
        .await?;
    if due.is_empty() {
        return Ok(0);
    }
    let ids: Vec<Uuid> = due.iter().map(|c| c.id).collect();
    let numbers: BTreeSet<String> = due.iter().map(|c| c.number.clone()).collect();
    let persons: Vec<Uuid> = due.iter().filter_map(|c| c.person_id).collect();
    erase_cases(scope, store, &ids).await?;
    // The steps stop listing them as kept.
    for step in scope
        .find::<erasure_step::Entity>()
        .filter(erasure_step::Column::PersonId.is_in(persons))
        .all(scope.conn())
        .await?
    {
        let id = step.id;
        let s = Step::try_from(step)?;
        let before = s.kept.len();
        let kept: Vec<Kept> = s
            .kept
            .into_iter()
            .filter(|k| !numbers.contains(&k.case))
            .collect();
        if kept.len() == before {
            continue;
        }
        let mut erased = s.erased;
        *erased.entry("cases".into()).or_default() += (before - kept.len()) as u64;
        scope
            .update_many::<erasure_step::Entity>()
            .col_expr(erasure_step::Column::Kept, json!(kept).into())
            .col_expr(erasure_step::Column::Erased, json!(erased).into())
            .filter(erasure_step::Column::Id.eq(id))
            .exec(scope.conn())
            .await?;
    }
    audit::record(
        scope,
        "system:erasure",
        "case.retention_ended",
        None,
        json!({ "cases": ids.len() }),
    )
    .await?;
    Ok(ids.len() as u64)
}

/// The persons of requests whose codice fiscale is still on record.
async fn open_requests(db: &Db) -> Result<Vec<Uuid>> {
    let conn = db.global();
    let backend = conn.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => "SELECT DISTINCT person_id FROM civitas_open_erasures()",
        _ => "SELECT DISTINCT person_id FROM erasure_requests WHERE forgotten_at IS NULL",
    };
    let rows = conn
        .query_all_raw(Statement::from_string(backend, sql))
        .await?;
    rows.iter()
        .map(|r| Ok(r.try_get("", "person_id")?))
        .collect()
}

/// Drops the person's codice fiscale once no body holds a profile or a case of them, and
/// withdraws what is left of their consents; whether it did.
async fn forget(db: &Db, person: Uuid, now: DateTime<Utc>) -> Result<bool> {
    let scope = db.person_scope(person, &[]).await?;
    let conn = scope.conn();
    let backend = conn.get_database_backend();
    let done = if backend == DbBackend::Postgres {
        let row = conn
            .query_one_raw(Statement::from_sql_and_values(
                backend,
                "SELECT civitas_forget_person($1) AS done",
                [person.into()],
            ))
            .await?;
        row.map(|r| r.try_get::<bool>("", "done"))
            .transpose()?
            .unwrap_or(false)
    } else {
        forget_on_sqlite(conn, person, now).await?
    };
    scope.commit().await?;
    Ok(done)
}

/// What `civitas_forget_person` does, where there is no row-level security.
async fn forget_on_sqlite<C: ConnectionTrait>(
    conn: &C,
    person: Uuid,
    now: DateTime<Utc>,
) -> Result<bool> {
    let family = crate::persons::family(conn, person).await?;
    let holds = profile::Entity::find()
        .filter(profile::Column::PersonId.is_in(family.clone()))
        .one(conn)
        .await?
        .is_some()
        || case::Entity::find()
            .filter(case::Column::PersonId.is_in(family.clone()))
            .one(conn)
            .await?
            .is_some();
    if holds {
        return Ok(false);
    }
    let list = family
        .iter()
        .map(|id| format!("'{id}'"))
        .collect::<Vec<_>>()
        .join(",");
    for sql in [
        format!("UPDATE persons SET fiscal_code = NULL WHERE id IN ({list})"),
        format!("DELETE FROM sharing_consents WHERE person_id IN ({list})"),
        format!("DELETE FROM consent_requests WHERE person_id IN ({list})"),
    ] {
        conn.execute_unprepared(&sql).await?;
    }
    erasure_request::Entity::update_many()
        .col_expr(erasure_request::Column::ForgottenAt, Some(now).into())
        .filter(erasure_request::Column::PersonId.eq(person))
        .filter(erasure_request::Column::ForgottenAt.is_null())
        .exec(conn)
        .await?;
    Ok(true)
}

/// Whether `person` has a request not yet settled at every body, for the citizen to be
/// shown rather than a second one filed.
pub fn unsettled(requests: &[Request]) -> Option<&Request> {
    requests.iter().find(|r| !r.settled())
}
