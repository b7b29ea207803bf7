//! Use cases of erasure and retention: a citizen asks for erasure (or an operator records
//! their request), sees what every body erased and kept; administrators set how long their
//! body keeps the cases of each service.

use civitas_policies::Permission;
use civitas_tenants::audit;
use serde_json::json;
use uuid::Uuid;

use super::{App, Caller};
use crate::erasure::{self, Request};
use crate::ids::PersonId;
use crate::retention::{self, Rule};
use crate::sharing::{self, Visibility};
use crate::{Error, Result};

/// The signed-in citizen asks every body to erase what it holds about them. Their sharing
/// consents are revoked at once; the bodies act on the next erasure run. Asking again while
/// a request is not yet settled returns that request.
pub async fn request_mine(app: &App, caller: &Caller) -> Result<Request> {
    let me = caller.citizen()?;
    let subject = caller.principal()?.subject.clone();
    let family = me.family();
    let now = app.now();
    let scope = super::me::own_scope(app, caller).await?;
    if erasure::unsettled(&erasure::of_person(&scope).await?).is_none() {
        erasure::file(scope.conn(), me.person_id, "citizen", "web", None, now).await?;
    }
    let mut revoked = Vec::new();
    for c in sharing::list(scope.conn(), &family, Visibility::Person(&family)).await? {
        if c.revoked_at.is_none() {
            sharing::revoke(
                scope.conn(),
                c.id,
                Visibility::Person(&family),
                &subject,
                now,
            )
            .await?;
            revoked.push((c.grantee_tenant_id, c.person_id));
        }
    }
    let requests = erasure::of_person(&scope).await?;
    scope.commit().await?;
    for (grantee, person) in revoked {
        app.consents.invalidate(grantee.0, person).await;
    }
    requests
        .into_iter()
        .next()
        .ok_or_else(|| Error::Internal("an erasure request just filed is not found".into()))
}

/// The signed-in citizen's erasure requests, newest first, with what each body did.
pub async fn mine(app: &App, caller: &Caller) -> Result<Vec<Request>> {
    let scope = super::me::own_scope(app, caller).await?;
    let found = erasure::of_person(&scope).await?;
    scope.commit().await?;
    Ok(found)
}

/// An operator records the request a citizen of their body made in person, by phone or in
/// writing. NOT_FOUND, and nothing written, for a person the body holds nothing of.
pub async fn record(app: &App, caller: &Caller, person: PersonId, channel: &str) -> Result<Uuid> {
    let tc = caller.authorize(app, Permission::ErasureRecord).await?;
    let channel: crate::channels::Channel = channel
        .parse()
        .map_err(|_| Error::Validation(format!("channel: unknown channel {channel:?}")))?;
    let scope = app.db.scope(tc).await?;
    if crate::profiles::of_person(&scope, person.0)
        .await?
        .is_none()
    {
        return Err(Error::NotFound("person"));
    }
    let by = tc.identity();
    let id = erasure::file(
        scope.conn(),
        person.0,
        &by.stored(),
        &channel.to_string(),
        Some(tc.tenant.id),
        app.now(),
    )
    .await?;
    audit::record(
        &scope,
        &by,
        "erasure.recorded",
        Some(&id.to_string()),
        json!({ "channel": channel.to_string() }),
    )
    .await?;
    app.commit(scope).await?;
    Ok(id)
}

pub async fn rules(app: &App, caller: &Caller) -> Result<Vec<Rule>> {
    let tc = caller.authorize(app, Permission::RetentionRead).await?;
    let scope = app.db.scope(tc).await?;
    let found = retention::rules(&scope).await?;
    app.commit(scope).await?;
    Ok(found)
}

/// Sets how long the body keeps the cases of a service (`None`: its default) after they
/// close, once their citizen asked for erasure.
pub async fn set_rule(
    app: &App,
    caller: &Caller,
    service_code: Option<&str>,
    keep_years: u32,
    minimum_years: Option<u32>,
) -> Result<Rule> {
    let tc = caller.authorize(app, Permission::RetentionManage).await?;
    let scope = app.db.scope(tc).await?;
    let by = tc.identity();
    let rule = retention::set(
        &scope,
        &by,
        service_code,
        keep_years,
        minimum_years,
        app.now(),
    )
    .await?;
    audit::record(
        &scope,
        &by,
        "retention.set",
        Some(service_code.unwrap_or("*")),
        json!({ "keepYears": rule.keep_years, "minimumYears": rule.minimum_years }),
    )
    .await?;
    app.commit(scope).await?;
    Ok(rule)
}

/// One erasure run now (the background job's work), with the app's file store and clock.
pub async fn run(app: &App) -> Result<erasure::RunSummary> {
    erasure::run(&app.db, app.files.store.as_ref(), app.now()).await
}
