//! Use cases of the contact centre: recording contacts and recognising callers.

use chrono::{DateTime, Utc};
use civitas_policies::Permission;

use super::{App, Caller, Page};
use crate::Result;
use crate::cases::Actor;
use crate::channels::Channel;
use crate::delegations;
use crate::ids::{CaseId, PersonId};
use crate::interactions::{self, Interaction, NewInteraction, RecognisedCaller};
use crate::lookup::{Lookup, registered_person};

/// Who is calling from `phone`: only when they allowed this body to recognise them;
/// otherwise `None`. Every look-up is audited.
pub async fn identify_caller(
    app: &App,
    caller: &Caller,
    phone: &str,
) -> Result<Option<RecognisedCaller>> {
    let tc = caller.authorize(app, Permission::CallerIdentify).await?;
    let scope = app.db.scope(tc).await?;
    let found = interactions::identify_caller(&scope, &tc.identity(), phone, app.now()).await?;
    app.commit(scope).await?;
    Ok(found)
}

/// The body's contacts with a citizen it knows, newest recorded first: a page, and
/// whether more follow.
pub async fn history(
    app: &App,
    caller: &Caller,
    person: PersonId,
    page: Page<uuid::Uuid>,
) -> Result<(Vec<Interaction>, bool)> {
    let tc = caller.authorize(app, Permission::InteractionRead).await?;
    let scope = app.db.scope(tc).await?;
    let (_, family) = registered_person(&scope, Lookup::Person(person.0)).await?;
    let found = interactions::page_of_person(&scope, &family, page.first, page.after).await?;
    app.commit(scope).await?;
    Ok(found)
}

/// The body's contacts with a citizen it knows, newest first.
pub async fn of_person(app: &App, caller: &Caller, person: PersonId) -> Result<Vec<Interaction>> {
    let tc = caller.authorize(app, Permission::InteractionRead).await?;
    let scope = app.db.scope(tc).await?;
    let (_, family) = registered_person(&scope, Lookup::Person(person.0)).await?;
    let list = interactions::of_person(&scope, &family).await?;
    app.commit(scope).await?;
    Ok(list)
}

pub struct RecordInteraction {
    pub person_id: Option<PersonId>,
    pub case_id: Option<CaseId>,
    pub channel: Channel,
    /// `inbound` or `outbound`.
    pub direction: String,
    pub summary: String,
    pub occurred_at: Option<DateTime<Utc>>,
    /// For tutors: the citizen who delegated them.
    pub on_behalf_of: Option<PersonId>,
}

/// Records a contact with a citizen on any channel; a tutor records it for the citizen
/// who delegated them, checked in the same transaction.
pub async fn record(app: &App, caller: &Caller, input: RecordInteraction) -> Result<Interaction> {
    let tc = caller.authorize(app, Permission::InteractionCreate).await?;
    let now = app.now();
    let scope = app.db.scope(tc).await?;
    let for_person =
        delegations::acting_for(&scope, tc, input.on_behalf_of, "interactions", now).await?;
    let actor = Actor {
        subject: tc.actor(),
        on_behalf_of: for_person,
        channel: input.channel,
    };
    let new = NewInteraction {
        person_id: for_person.or(input.person_id),
        case_id: input.case_id,
        direction: input.direction,
        summary: input.summary,
        occurred_at: input.occurred_at,
    };
    let i = interactions::record(&scope, &actor, new, now).await?;
    app.commit(scope).await?;
    Ok(i)
}
