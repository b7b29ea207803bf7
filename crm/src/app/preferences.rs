//! Use cases of a citizen's preferences: they see every preference every body holds of
//! them, say what interests them at a body that knows them, and delete any preference.

use civitas_tenants::{TenantContext, TenantId, registry};
use uuid::Uuid;

use super::{App, Caller};
use crate::lookup::{Lookup, registered_person};
use crate::preferences::{self, Preference};
use crate::{Error, Result};

/// The signed-in citizen's preferences in every body.
pub async fn mine(app: &App, caller: &Caller) -> Result<Vec<Preference>> {
    let me = caller.citizen()?;
    let scope = app.db.person_scope(me.person_id, &me.merged).await?;
    let found = preferences::of_person(&scope).await?;
    scope.commit().await?;
    Ok(found)
}

/// The signed-in citizen says whether an area (and category) interests them at the body
/// `slug`, which must know them: a body holds preferences only of its own citizens.
pub async fn set_mine(
    app: &App,
    caller: &Caller,
    slug: &str,
    (area, category): (&str, &str),
    interested: bool,
) -> Result<Preference> {
    let me = caller.citizen()?;
    let body = app.active_body("body", slug).await?;
    let tc = TenantContext::for_citizen(body, caller.principal()?.clone());
    let scope = app.db.scope(&tc).await?;
    match registered_person(&scope, Lookup::Person(me.person_id)).await {
        Ok(_) => {}
        Err(Error::NotFound(_)) => {
            return Err(Error::Forbidden(
                "this body does not know you: it holds preferences of its own citizens".into(),
            ));
        }
        Err(e) => return Err(e),
    }
    let p = preferences::set_explicit(&scope, me.person_id, area, category, interested, app.now())
        .await?;
    app.commit(scope).await?;
    Ok(p)
}

/// The signed-in citizen deletes one of their preferences, whichever its source.
pub async fn delete_mine(app: &App, caller: &Caller, id: Uuid) -> Result<()> {
    let me = caller.citizen()?;
    let scope = app.db.person_scope(me.person_id, &me.merged).await?;
    let found = preferences::of_person(&scope)
        .await?
        .into_iter()
        .find(|p| p.id == id)
        .ok_or(Error::NotFound("preference"))?;
    scope.commit().await?;
    let body = registry::find_by_id(&app.db, TenantId(found.tenant_id))
        .await?
        .ok_or(Error::NotFound("preference"))?;
    let tc = TenantContext::for_citizen(body, caller.principal()?.clone());
    let scope = app.db.scope(&tc).await?;
    let mut persons = vec![me.person_id];
    persons.extend(me.merged.iter().copied());
    preferences::delete(&scope, &persons, id).await?;
    app.commit(scope).await
}
