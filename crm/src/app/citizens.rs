//! Use cases of operators and integrators with citizens: registering, finding, updating and
//! merging them, the citizen view across bodies, and the body's log of those views.

use civitas_policies::Permission;
use uuid::Uuid;

use super::{App, Caller, Page};
use crate::access_log::{self, AccessEntry};
use crate::access_purposes::Reason;
use crate::citizen_view::{self, CitizenView, Parts};
use crate::ids::{PersonId, ProfileId};
use crate::lookup::Lookup;
use crate::merge;
use crate::profiles::{self, Profile, ProfileInput, SearchQuery};
use crate::{Error, Result};

/// Finds citizens registered in the caller's body; every filter given must match.
pub async fn search(
    app: &App,
    caller: &Caller,
    query: SearchQuery,
    page: Page<Uuid>,
) -> Result<profiles::Page> {
    let tc = caller.authorize(app, Permission::CitizenRead).await?;
    if query.fiscal_code.is_none()
        && query.name.is_none()
        && query.phone.is_none()
        && query.email.is_none()
    {
        return Err(Error::Validation(
            "give at least one of fiscalCode, name, phone, email".into(),
        ));
    }
    let scope = app.db.scope(tc).await?;
    let found = profiles::search(&scope, query, page.first, page.after).await?;
    app.commit(scope).await?;
    Ok(found)
}

/// What the caller's body holds about a citizen, plus what other bodies hold that the
/// citizen's consent lets it read, read for `reason`; every read is logged.
pub async fn view(
    app: &App,
    caller: &Caller,
    lookup: Lookup,
    parts: Parts,
    reason: &Reason,
) -> Result<CitizenView> {
    let tc = caller.authorize(app, Permission::CitizenViewRead).await?;
    citizen_view::view(&app.db, tc, &app.consents, app.now(), lookup, parts, reason).await
}

/// The reads of citizens' records that the caller's body made, newest first.
pub async fn access_log(
    app: &App,
    caller: &Caller,
    page: Page<Uuid>,
) -> Result<(Vec<AccessEntry>, bool)> {
    let tc = caller.authorize(app, Permission::AccessLogRead).await?;
    let scope = app.db.scope(tc).await?;
    let found = access_log::access_log_of_tenant(&scope, page.first, page.after).await?;
    app.commit(scope).await?;
    Ok(found)
}

/// Registers a citizen in the caller's body: links (or creates) the person and creates the
/// body's profile, in one transaction.
pub async fn register(
    app: &App,
    caller: &Caller,
    fiscal_code: Option<&str>,
    fields: ProfileInput,
) -> Result<Profile> {
    let tc = caller.authorize(app, Permission::CitizenRegister).await?;
    let scope = app.db.scope(tc).await?;
    let p = profiles::register(&scope, &tc.identity(), fiscal_code, fields).await?;
    app.commit(scope).await?;
    Ok(p)
}

pub async fn update(
    app: &App,
    caller: &Caller,
    id: ProfileId,
    fields: ProfileInput,
) -> Result<Profile> {
    let tc = caller.authorize(app, Permission::CitizenUpdate).await?;
    let scope = app.db.scope(tc).await?;
    let p = profiles::update(&scope, &tc.identity(), id.0, fields).await?;
    app.commit(scope).await?;
    Ok(p)
}

/// Merges an unidentified person record into the identified person (supervisors); never
/// across two different codici fiscali. Returns the surviving person.
pub async fn merge(
    app: &App,
    caller: &Caller,
    source: PersonId,
    target: PersonId,
) -> Result<PersonId> {
    let tc = caller.authorize(app, Permission::CitizenMerge).await?;
    let scope = app.db.scope(tc).await?;
    let kept = merge::merge(&scope, &tc.identity(), &app.consents, source.0, target.0).await?;
    app.commit(scope).await?;
    Ok(PersonId(kept))
}

/// Creates or updates the citizen a legacy system knows as `external_ref` (integrators).
/// The same push twice changes nothing the second time; returns whether anything changed.
pub async fn upsert_from_source(
    app: &App,
    caller: &Caller,
    source: &str,
    external_ref: &str,
    fiscal_code: Option<&str>,
    fields: ProfileInput,
) -> Result<(Profile, bool)> {
    let tc = caller.authorize(app, Permission::CitizenUpsert).await?;
    let scope = app.db.scope(tc).await?;
    let found = crate::sources::upsert_person(
        &scope,
        &tc.identity(),
        source,
        external_ref,
        fiscal_code,
        fields,
        app.now(),
    )
    .await?;
    app.commit(scope).await?;
    Ok(found)
}
