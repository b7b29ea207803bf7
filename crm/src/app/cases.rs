//! Use cases of cases: reading, opening, moving, assigning, escalating, syncing from a
//! legacy system, and the supervisors' figures.

use std::collections::HashMap;

use civitas_policies::Permission;
use civitas_tenants::TenantContext;

use super::{App, Caller, Page};
use crate::Result;
use crate::access_log;
use crate::cases::stats::{self, CaseStats};
use crate::cases::{self, Actor, Case, CaseEvent, CaseFilter, CaseStatus, NewCase, SourceUpdate};
use crate::catalogue;
use crate::channels::Channel;
use crate::delegations;
use crate::ids::{CaseId, PersonId};

/// Which of the body's cases to list.
#[derive(Clone, Debug, Default)]
pub struct CaseQuery {
    pub statuses: Vec<CaseStatus>,
    pub service_code: Option<String>,
    pub assigned_to: Option<String>,
    pub assigned_team: Option<String>,
    pub person_id: Option<PersonId>,
    pub overdue: Option<bool>,
    /// Only cases whose place is in this box.
    pub within: Option<crate::places::BBox>,
}

fn actor(tc: &TenantContext, channel: Channel, on_behalf_of: Option<PersonId>) -> Actor {
    Actor {
        subject: tc.actor(),
        on_behalf_of,
        channel,
    }
}

/// The body's cases, newest first, and whether more follow.
pub async fn list(
    app: &App,
    caller: &Caller,
    query: CaseQuery,
    page: Page<CaseId>,
) -> Result<(Vec<Case>, bool)> {
    let tc = caller.authorize(app, Permission::CaseRead).await?;
    let scope = app.db.scope(tc).await?;
    let service_id = match query.service_code.as_deref() {
        Some(code) => Some(catalogue::by_code(&scope, code).await?.id.into()),
        None => None,
    };
    let filter = CaseFilter {
        statuses: query.statuses,
        service_id,
        assigned_to: query.assigned_to,
        assigned_team: query.assigned_team,
        person_id: query.person_id,
        overdue: query.overdue,
        within: query.within,
    };
    let found = cases::list(&scope, &filter, page.first, page.after, app.now()).await?;
    app.commit(scope).await?;
    Ok(found)
}

pub async fn get(app: &App, caller: &Caller, id: CaseId) -> Result<Case> {
    let tc = caller.authorize(app, Permission::CaseRead).await?;
    let scope = app.db.scope(tc).await?;
    let c = cases::get(&scope, id).await?;
    // Opening one citizen's case is a read of their records: on record for them.
    if let Some(person) = c.person_id {
        let reader = tc.identity().stored();
        access_log::record_case_read(&scope, &reader, person.0, id.0, &c.number, app.now()).await?;
    }
    app.commit(scope).await?;
    Ok(c)
}

/// The histories of the caller's body's cases among `ids`, oldest event first.
pub async fn histories(
    app: &App,
    caller: &Caller,
    ids: &[CaseId],
) -> Result<HashMap<CaseId, Vec<CaseEvent>>> {
    let tc = caller.authorize(app, Permission::CaseRead).await?;
    let scope = app.db.scope(tc).await?;
    let raw: Vec<uuid::Uuid> = ids.iter().map(|i| i.0).collect();
    let found = cases::histories(&scope, &raw).await?;
    app.commit(scope).await?;
    Ok(found.into_iter().map(|(k, v)| (CaseId(k), v)).collect())
}

/// The supervisors' dashboard.
pub async fn stats(app: &App, caller: &Caller) -> Result<CaseStats> {
    let tc = caller.authorize(app, Permission::CaseStats).await?;
    let scope = app.db.scope(tc).await?;
    let st = stats::compute(&scope, app.now()).await?;
    app.commit(scope).await?;
    Ok(st)
}

pub struct CreateCase {
    /// The case; its person is the delegating citizen's when a tutor acts for them.
    pub case: NewCase,
    /// Where the request came in.
    pub channel: Channel,
    /// For tutors: the citizen who delegated them.
    pub on_behalf_of: Option<PersonId>,
}

/// Opens a case; its due time follows the service's SLA. A tutor opens it for the citizen
/// who delegated them, checked in the same transaction.
pub async fn create(app: &App, caller: &Caller, input: CreateCase) -> Result<Case> {
    let tc = caller.authorize(app, Permission::CaseCreate).await?;
    let now = app.now();
    let scope = app.db.scope(tc).await?;
    let for_person = delegations::acting_for(&scope, tc, input.on_behalf_of, "cases", now).await?;
    let new = NewCase {
        person_id: for_person.or(input.case.person_id),
        ..input.case
    };
    let c = cases::create(&scope, &actor(tc, input.channel, for_person), new, now).await?;
    app.commit(scope).await?;
    Ok(c)
}

/// Moves a case along its lifecycle; an illegal move is a VALIDATION error naming the
/// allowed ones. Closing needs a resolution note.
pub async fn change_status(
    app: &App,
    caller: &Caller,
    id: CaseId,
    status: CaseStatus,
    note: Option<String>,
    channel: Channel,
) -> Result<Case> {
    let tc = caller.authorize(app, Permission::CaseUpdate).await?;
    let scope = app.db.scope(tc).await?;
    let c = cases::transition(
        &scope,
        &actor(tc, channel, None),
        id,
        status,
        note,
        app.now(),
    )
    .await?;
    app.commit(scope).await?;
    Ok(c)
}

/// Writes to the case's citizen (whoever may work the case may): in its history, their
/// inbox, and by e-mail where the body sends it.
pub async fn message_citizen(
    app: &App,
    caller: &Caller,
    id: CaseId,
    text: &str,
    channel: Channel,
) -> Result<Case> {
    let tc = caller.authorize(app, Permission::CaseUpdate).await?;
    let scope = app.db.scope(tc).await?;
    let c = cases::message(&scope, &actor(tc, channel, None), id, text, app.now()).await?;
    app.commit(scope).await?;
    Ok(c)
}

/// Assigns a case to a team and/or an operator who may own cases in the body.
pub async fn assign(
    app: &App,
    caller: &Caller,
    id: CaseId,
    team: Option<String>,
    operator: Option<String>,
) -> Result<Case> {
    let tc = caller.authorize(app, Permission::CaseAssign).await?;
    let scope = app.db.scope(tc).await?;
    let c = cases::assign(
        &scope,
        &actor(tc, Channel::Web, None),
        id,
        team,
        operator,
        app.now(),
    )
    .await?;
    app.commit(scope).await?;
    Ok(c)
}

/// Raises a case one level (operator → supervisor → head of office).
pub async fn escalate(app: &App, caller: &Caller, id: CaseId, reason: &str) -> Result<Case> {
    let tc = caller.authorize(app, Permission::CaseEscalate).await?;
    let scope = app.db.scope(tc).await?;
    let c = cases::escalate(
        &scope,
        &actor(tc, Channel::Web, None),
        id,
        reason,
        app.now(),
    )
    .await?;
    app.commit(scope).await?;
    Ok(c)
}

/// Creates or updates the case a legacy system knows as `external_ref`; returns whether
/// anything changed.
pub async fn upsert_from_source(
    app: &App,
    caller: &Caller,
    source: &str,
    external_ref: &str,
    update: SourceUpdate,
) -> Result<(Case, bool)> {
    let tc = caller.authorize(app, Permission::CaseUpsert).await?;
    let scope = app.db.scope(tc).await?;
    let found = cases::upsert_from_source(
        &scope,
        &actor(tc, Channel::Web, None),
        source,
        external_ref,
        update,
        app.now(),
    )
    .await?;
    app.commit(scope).await?;
    Ok(found)
}
