//! Use cases of a citizen's own requests: filing one with any body, from the web or an app.

use civitas_tenants::TenantContext;
use serde_json::Value;

use super::{App, Caller};
use crate::cases::{self, Actor, Case, NewCase};
use crate::channels::Channel;
use crate::ids::{CaseId, PersonId};
use crate::lookup::{Lookup, registered_person};
use crate::privacy;
use crate::profiles::{self, ProfileInput};
use crate::sharing::Collector;
use crate::{Error, Result};

/// The privacy purpose under which a body handles a request the citizen filed.
pub const CASE_HANDLING: &str = "case_handling";

pub struct FileRequest {
    /// The body, by slug, when the request does not name one (`X-Civitas-Tenant`).
    pub tenant: Option<String>,
    pub service_code: String,
    pub title: String,
    pub description: String,
    pub custom_fields: Value,
    /// `web` or `app`.
    pub channel: Channel,
    /// The version of the privacy notice the citizen was shown.
    pub privacy_notice: String,
    /// Needed only when the body does not know the citizen yet.
    pub given_name: Option<String>,
    pub family_name: Option<String>,
}

/// Files a request (a case) with a body, on the web or an app, the citizen as requester.
/// A body that does not know the citizen registers them; the privacy consent to handle the
/// request is recorded unless given before; all in the transaction that opens the case.
pub async fn file(app: &App, caller: &Caller, input: FileRequest) -> Result<Case> {
    let me = caller.citizen()?;
    let principal = caller.principal()?;
    if !matches!(input.channel, Channel::Web | Channel::App) {
        return Err(Error::Validation(
            "channel: a citizen files a request on web or app".into(),
        ));
    }
    let tenant = match (&caller.tenant, input.tenant.as_deref()) {
        // The header decides where an idempotency key is kept: the request must not name
        // another body.
        (Some(tc), Some(slug)) if tc.tenant.slug.as_str() != slug.trim() => {
            return Err(Error::Validation(format!(
                "tenant: {slug} is not the body named by X-Civitas-Tenant ({})",
                tc.tenant.slug
            )));
        }
        (_, Some(slug)) => app.active_body("tenant", slug).await?,
        (Some(tc), None) => tc.tenant.clone(),
        (None, None) => {
            return Err(Error::Validation(
                "tenant: name the body (or send X-Civitas-Tenant)".into(),
            ));
        }
    };
    let tc = TenantContext::for_citizen(tenant, principal.clone());
    let now = app.now();
    let scope = app.db.scope(&tc).await?;
    let (person, family) = match registered_person(&scope, Lookup::Person(me.person_id)).await {
        Ok(known) => known,
        Err(Error::NotFound(_)) => {
            let fiscal_code = principal.fiscal_code.as_deref().ok_or_else(|| {
                Error::Validation("this body must register you at its counter first".into())
            })?;
            let fields = ProfileInput {
                given_name: input.given_name.clone(),
                family_name: input.family_name.clone(),
                preferred_channel: Some(input.channel.as_str().to_owned()),
                ..Default::default()
            };
            let p = profiles::register(&scope, &principal.identity(), Some(fiscal_code), fields)
                .await?;
            registered_person(&scope, Lookup::Person(p.person_id)).await?
        }
        Err(e) => return Err(e),
    };
    if !privacy::is_given(&scope, &family, CASE_HANDLING).await? {
        let collector = Collector::Citizen {
            subject: principal.subject.clone(),
        };
        privacy::record(
            &scope,
            &collector,
            person,
            CASE_HANDLING,
            &input.privacy_notice,
            input.channel.as_str(),
            now,
        )
        .await?;
    }
    let actor = Actor {
        subject: principal.subject.clone(),
        on_behalf_of: None,
        channel: input.channel,
    };
    let new = NewCase {
        service_code: input.service_code,
        person_id: Some(PersonId(person)),
        title: input.title,
        description: input.description,
        priority: None,
        custom_fields: input.custom_fields,
        ..Default::default()
    };
    let c = cases::create(&scope, &actor, new, now).await?;
    app.commit(scope).await?;
    Ok(c)
}

/// The signed-in citizen writes to the body about their own request (the reply box under
/// the body's messages). Another person's case, or a case of a body no longer active, is
/// NOT_FOUND.
pub async fn reply(
    app: &App,
    caller: &Caller,
    id: CaseId,
    text: &str,
    channel: Channel,
) -> Result<Case> {
    let me = caller.citizen()?;
    let principal = caller.principal()?;
    if !matches!(channel, Channel::Web | Channel::App) {
        return Err(Error::Validation(
            "channel: a citizen replies on web or app".into(),
        ));
    }
    let target = super::attachments::target(app, caller, id).await?;
    let actor = Actor {
        subject: principal.subject.clone(),
        on_behalf_of: None,
        channel,
    };
    let scope = app.db.scope(&target.tc).await?;
    let c = cases::reply(&scope, &actor, id, &me.family(), text, app.now()).await?;
    app.commit(scope).await?;
    Ok(c)
}
