//! Use cases of initiatives and participation: supervisors create and publish
//! initiatives; operators register citizens at the counter or by phone, cancel and check
//! them in; citizens see what is open to them, register and cancel themselves, and follow
//! their participations in every body. A seat freed goes to the first in the waiting list,
//! who is told in the same transaction.

use std::collections::BTreeMap;

use civitas_policies::Permission;
use civitas_tenants::{TenantContext, TenantId, audit, registry};
use serde_json::json;
use uuid::Uuid;

use super::{App, Caller};
use crate::channels::Channel;
use crate::delegations;
use crate::ids::PersonId;
use crate::initiatives::{
    self, Initiative, NewInitiative, Participation, Registrar, Status, Visibility,
};
use crate::lookup::{Lookup, registered_person};
use crate::profiles::{self, ProfileInput};
use crate::{Error, Result};

/// Creates a draft initiative.
pub async fn create(app: &App, caller: &Caller, new: NewInitiative) -> Result<Initiative> {
    let tc = caller.authorize(app, Permission::InitiativeManage).await?;
    let scope = app.db.scope(tc).await?;
    let by = tc.identity();
    let i = initiatives::create(&scope, new, &by.stored(), app.now()).await?;
    audit::record(
        &scope,
        &by,
        "initiative.created",
        Some(&i.id.to_string()),
        json!({ "title": i.title }),
    )
    .await?;
    app.commit(scope).await?;
    Ok(i)
}

/// Publishes, closes or cancels an initiative.
pub async fn set_status(app: &App, caller: &Caller, id: Uuid, to: Status) -> Result<Initiative> {
    let tc = caller.authorize(app, Permission::InitiativeManage).await?;
    let scope = app.db.scope(tc).await?;
    let i = initiatives::set_status(&scope, id, to, app.now()).await?;
    audit::record(
        &scope,
        &tc.identity(),
        "initiative.status_changed",
        Some(&id.to_string()),
        json!({ "status": to.as_str() }),
    )
    .await?;
    app.commit(scope).await?;
    Ok(i)
}

/// The body's initiatives (staff).
pub async fn list(app: &App, caller: &Caller, statuses: &[Status]) -> Result<Vec<Initiative>> {
    let tc = caller.authorize(app, Permission::InitiativeRead).await?;
    let scope = app.db.scope(tc).await?;
    let found = initiatives::list(&scope, statuses).await?;
    app.commit(scope).await?;
    Ok(found)
}

/// A citizen's context at the body `slug`, and whether the body knows them.
async fn as_citizen(app: &App, caller: &Caller, slug: &str) -> Result<(TenantContext, Uuid)> {
    let me = caller.citizen()?;
    let body = app.active_body("body", slug).await?;
    Ok((
        TenantContext::for_citizen(body, caller.principal()?.clone()),
        me.person_id,
    ))
}

async fn known(scope: &civitas_tenants::Scope, person: Uuid) -> Result<bool> {
    match registered_person(scope, Lookup::Person(person)).await {
        Ok(_) => Ok(true),
        Err(Error::NotFound(_)) => Ok(false),
        Err(e) => Err(e),
    }
}

/// What the body `slug` offers the signed-in citizen: its published initiatives open to
/// everyone, and those for its own citizens when it knows them.
pub async fn open_to_me(app: &App, caller: &Caller, slug: &str) -> Result<Vec<Initiative>> {
    let (tc, person) = as_citizen(app, caller, slug).await?;
    let scope = app.db.scope(&tc).await?;
    let mine = known(&scope, person).await?;
    let found = initiatives::list(&scope, &[Status::Published]).await?;
    app.commit(scope).await?;
    Ok(found
        .into_iter()
        .filter(|i| mine || i.visibility == Visibility::Everyone.as_str())
        .collect())
}

/// Tells a citizen promoted from the waiting list, in the transaction that promotes them.
async fn tell_promoted(
    scope: &civitas_tenants::Scope,
    i: &Initiative,
    p: &Participation,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    let text = format!(
        "Si è liberato un posto: la sua partecipazione a «{}» del {} è confermata.",
        i.title,
        i.starts_at.format("%d/%m/%Y %H:%M UTC")
    );
    crate::notifications::initiative_seat(scope, p.person_id, &text, now).await
}

/// Cancels `p` and promotes the first waiting, if a seat was freed.
async fn cancel_in(
    scope: &civitas_tenants::Scope,
    p: Participation,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Participation> {
    let (cancelled, promoted) = initiatives::cancel(scope, p, now).await?;
    if let Some(n) = &promoted {
        let i = initiatives::get(scope, n.initiative_id, false).await?;
        tell_promoted(scope, &i, n, now).await?;
    }
    Ok(cancelled)
}

/// The signed-in citizen registers for an initiative of the body `slug`; a body that
/// does not know them registers them first (for an initiative open to everyone).
pub async fn register_me(
    app: &App,
    caller: &Caller,
    slug: &str,
    initiative: Uuid,
    channel: Channel,
    names: (Option<String>, Option<String>),
) -> Result<Participation> {
    if !matches!(channel, Channel::Web | Channel::App) {
        return Err(Error::Validation(
            "channel: a citizen registers on web or app".into(),
        ));
    }
    let (tc, person) = as_citizen(app, caller, slug).await?;
    let now = app.now();
    let scope = app.db.scope(&tc).await?;
    let i = initiatives::get(&scope, initiative, false).await?;
    if i.status == Status::Draft.as_str() {
        return Err(Error::NotFound("initiative"));
    }
    if !known(&scope, person).await? {
        if i.visibility == Visibility::Own.as_str() {
            return Err(Error::Forbidden(
                "this initiative is for the citizens the body knows; register at its counter first"
                    .into(),
            ));
        }
        // Taking part makes the citizen known to the body, as filing a request does: the
        // body then holds a profile of them, which their export and erasure reach.
        let principal = caller.principal()?;
        let fiscal_code = principal.fiscal_code.as_deref().ok_or_else(|| {
            Error::Validation("this body must register you at its counter first".into())
        })?;
        // The names the citizen gave, else their identity provider's.
        let claimed = principal.name.as_deref().and_then(|n| n.split_once(' '));
        let fields = ProfileInput {
            given_name: names.0.or(claimed.map(|(g, _)| g.to_owned())),
            family_name: names.1.or(claimed.map(|(_, f)| f.to_owned())),
            preferred_channel: Some(channel.as_str().to_owned()),
            ..Default::default()
        };
        profiles::register(&scope, &principal.identity(), Some(fiscal_code), fields).await?;
    }
    let by = tc.identity().stored();
    let who = Registrar {
        by: &by,
        channel: channel.as_str(),
    };
    let p = initiatives::register(&scope, initiative, person, who, now).await?;
    app.commit(scope).await?;
    Ok(p)
}

/// The signed-in citizen cancels their participation, up to the start.
pub async fn cancel_mine(
    app: &App,
    caller: &Caller,
    slug: &str,
    initiative: Uuid,
) -> Result<Participation> {
    let (tc, person) = as_citizen(app, caller, slug).await?;
    let scope = app.db.scope(&tc).await?;
    let p = initiatives::of(&scope, initiative, person).await?;
    let cancelled = cancel_in(&scope, p, app.now()).await?;
    app.commit(scope).await?;
    Ok(cancelled)
}

/// The person a participation change is for: a tutor only a citizen who delegated them
/// `initiatives` (checked in the transaction of the change); staff anyone the body knows.
async fn for_whom(
    scope: &civitas_tenants::Scope,
    tc: &TenantContext,
    person: Uuid,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Uuid> {
    if delegations::only_tutor(tc) {
        let acting =
            delegations::acting_for(scope, tc, Some(PersonId(person)), "initiatives", now).await?;
        return acting.map(|p| p.0).ok_or_else(Error::forbidden);
    }
    Ok(registered_person(scope, Lookup::Person(person)).await?.0)
}

/// An operator registers a citizen the body knows (at the counter, by phone); a tutor, a
/// citizen who delegated them `initiatives`.
pub async fn register(
    app: &App,
    caller: &Caller,
    initiative: Uuid,
    person: Uuid,
    channel: Channel,
) -> Result<Participation> {
    let tc = caller
        .authorize(app, Permission::ParticipationRecord)
        .await?;
    let now = app.now();
    let scope = app.db.scope(tc).await?;
    let person = for_whom(&scope, tc, person, now).await?;
    let by = tc.identity().stored();
    let who = Registrar {
        by: &by,
        channel: channel.as_str(),
    };
    let p = initiatives::register(&scope, initiative, person, who, now).await?;
    app.commit(scope).await?;
    Ok(p)
}

/// An operator cancels a participation (the citizen called); a tutor, one of a citizen
/// who delegated them.
pub async fn cancel(app: &App, caller: &Caller, id: Uuid) -> Result<Participation> {
    let tc = caller
        .authorize(app, Permission::ParticipationRecord)
        .await?;
    let scope = app.db.scope(tc).await?;
    let p = initiatives::one(&scope, id).await?;
    for_whom(&scope, tc, p.person_id, app.now()).await?;
    let cancelled = cancel_in(&scope, p, app.now()).await?;
    app.commit(scope).await?;
    Ok(cancelled)
}

/// An operator records that a participant came.
pub async fn check_in(app: &App, caller: &Caller, id: Uuid) -> Result<Participation> {
    let tc = caller
        .authorize(app, Permission::ParticipationCheckIn)
        .await?;
    let scope = app.db.scope(tc).await?;
    let p = initiatives::check_in(&scope, id, app.now()).await?;
    app.commit(scope).await?;
    Ok(p)
}

/// The initiative's participants (staff).
pub async fn participants(
    app: &App,
    caller: &Caller,
    initiative: Uuid,
) -> Result<(Initiative, Vec<Participation>)> {
    let tc = caller.authorize(app, Permission::ParticipationRead).await?;
    let scope = app.db.scope(tc).await?;
    let i = initiatives::get(&scope, initiative, false).await?;
    let found = initiatives::participants(&scope, initiative).await?;
    app.commit(scope).await?;
    Ok((i, found))
}

/// The signed-in citizen's participations in every body, each with its initiative.
pub async fn mine(app: &App, caller: &Caller) -> Result<Vec<(Participation, Initiative)>> {
    let me = caller.citizen()?;
    let scope = app.db.person_scope(me.person_id, &me.merged).await?;
    let rows = initiatives::of_person(&scope).await?;
    scope.commit().await?;
    let mut by_body: BTreeMap<Uuid, Vec<Uuid>> = BTreeMap::new();
    for p in &rows {
        by_body
            .entry(p.tenant_id)
            .or_default()
            .push(p.initiative_id);
    }
    // Each body's initiatives read in a citizen's context at that body.
    let mut found: Vec<Initiative> = vec![];
    for (body, ids) in by_body {
        let Some(t) = registry::by_id(&app.db, TenantId(body)).await? else {
            continue;
        };
        let tc = TenantContext::for_citizen(t, caller.principal()?.clone());
        let scope = app.db.scope(&tc).await?;
        found.extend(initiatives::by_ids(&scope, &ids).await?);
        scope.commit().await?;
    }
    Ok(rows
        .into_iter()
        .filter_map(|p| {
            let i = found.iter().find(|i| i.id == p.initiative_id)?.clone();
            Some((p, i))
        })
        .collect())
}
