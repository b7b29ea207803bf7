//! Use cases of the citizens who answer: their pending surveys in every body, answering
//! one signed in, answering from the link of the message that asked them (the platform's
//! signature vouches for it, as for an unsubscribe link), a body's open consultations;
//! and the job that asks the participants of initiatives that have ended.

use std::collections::BTreeMap;

use civitas_tenants::{Tenant, TenantContext, TenantId, TenantStatus, registry};
use sea_orm::{ColumnTrait, QueryFilter};
use uuid::Uuid;

use super::{App, Caller};
use crate::channels::Channel;
use crate::questionnaires::invitations::{self, Invitation};
use crate::questionnaires::store::{self, Questionnaire, Version};
use crate::{Error, Result};

/// A survey to answer: the invitation, its questionnaire and the version answered now.
#[derive(Clone, Debug)]
pub struct Survey {
    pub invitation: Invitation,
    pub questionnaire: Questionnaire,
    pub version: Version,
    pub body: Tenant,
}

/// The active body `id`, through the access cache (read from the database on a miss).
async fn body(app: &App, id: Uuid) -> Result<Tenant> {
    registry::by_id(&app.db, TenantId(id))
        .await?
        .filter(|t| t.status == TenantStatus::Active)
        .ok_or(Error::NotFound("survey"))
}

/// The signed-in citizen's surveys still to answer, in every body, newest first.
pub async fn mine(app: &App, caller: &Caller) -> Result<Vec<Survey>> {
    let me = caller.citizen()?;
    let scope = app.db.person_scope(me.person_id, &me.merged).await?;
    let pending = invitations::pending_of_person(&scope).await?;
    scope.commit().await?;
    let mut by_body: BTreeMap<Uuid, Vec<Invitation>> = BTreeMap::new();
    for inv in pending {
        by_body.entry(inv.tenant_id).or_default().push(inv);
    }
    let mut out = vec![];
    for (id, invs) in by_body {
        let Ok(t) = body(app, id).await else { continue };
        let tc = TenantContext::for_citizen(t.clone(), caller.principal()?.clone());
        let scope = app.db.scope(&tc).await?;
        for inv in invs {
            let q = store::get(&scope, inv.questionnaire_id).await?;
            // A retired questionnaire, or one without a published version, is not asked.
            if let Ok(version) = store::answerable(&scope, &q).await {
                out.push(Survey {
                    invitation: inv,
                    questionnaire: q,
                    version,
                    body: t.clone(),
                });
            }
        }
        scope.commit().await?;
    }
    out.sort_by_key(|s| std::cmp::Reverse(s.invitation.id));
    Ok(out)
}

/// The signed-in citizen answers one of their surveys.
pub async fn answer_mine(
    app: &App,
    caller: &Caller,
    invitation: Uuid,
    given: &[(String, Vec<String>)],
) -> Result<Version> {
    let me = caller.citizen()?;
    let scope = app.db.person_scope(me.person_id, &me.merged).await?;
    let inv = scope
        .find::<crate::entity::survey_invitation::Entity>()
        .filter(crate::entity::survey_invitation::Column::Id.eq(invitation))
        .one(scope.conn())
        .await?
        .ok_or(Error::NotFound("survey"))?;
    scope.commit().await?;
    let t = body(app, inv.tenant_id).await?;
    let tc = TenantContext::for_citizen(t, caller.principal()?.clone());
    let scope = app.db.scope(&tc).await?;
    let inv = invitations::get(&scope, inv.id).await?;
    let (_, v) = invitations::answer(&scope, &inv, given, app.now()).await?;
    app.commit(scope).await?;
    Ok(v)
}

/// What a survey link opens: the survey, if this platform signed the link. A link to a
/// survey already answered is CONFLICT; one that names nothing here, NOT_FOUND.
pub async fn by_link(app: &App, token: &str) -> Result<Survey> {
    let (tenant, id) = app
        .links
        .check_survey(token)
        .ok_or(Error::NotFound("survey"))?;
    let t = body(app, tenant).await?;
    let tc = TenantContext::system(t.clone(), "survey-link");
    let scope = app.db.scope(&tc).await?;
    let inv = invitations::get(&scope, id).await?;
    if inv.answered_at.is_some() {
        return Err(Error::Conflict(
            "this questionnaire is already answered".into(),
        ));
    }
    let q = store::get(&scope, inv.questionnaire_id).await?;
    let version = store::answerable(&scope, &q).await?;
    scope.commit().await?;
    Ok(Survey {
        invitation: inv,
        questionnaire: q,
        version,
        body: t,
    })
}

/// Answers the survey a signed link names; whoever holds the link answers, as the
/// citizen it was sent to.
pub async fn answer_by_link(
    app: &App,
    token: &str,
    given: &[(String, Vec<String>)],
) -> Result<Version> {
    let (tenant, id) = app
        .links
        .check_survey(token)
        .ok_or(Error::NotFound("survey"))?;
    let t = body(app, tenant).await?;
    let tc = TenantContext::system(t, "survey-link");
    let scope = app.db.scope(&tc).await?;
    let inv = invitations::get(&scope, id).await?;
    let (_, v) = invitations::answer(&scope, &inv, given, app.now()).await?;
    app.commit(scope).await?;
    Ok(v)
}

/// The consultations the body `slug` asks every citizen: published questionnaires
/// attached to no service or initiative.
pub async fn open(app: &App, caller: &Caller, slug: &str) -> Result<Vec<(Questionnaire, Version)>> {
    caller.citizen()?;
    let t = app.active_body("body", slug).await?;
    let tc = TenantContext::for_citizen(t, caller.principal()?.clone());
    let scope = app.db.scope(&tc).await?;
    let mut out = vec![];
    for q in store::list(&scope).await? {
        if q.service_id.is_some() || q.initiative_id.is_some() {
            continue;
        }
        if let Ok(v) = store::answerable(&scope, &q).await {
            out.push((q, v));
        }
    }
    app.commit(scope).await?;
    Ok(out)
}

/// The signed-in citizen answers a consultation of the body `slug`, once.
pub async fn answer_consultation(
    app: &App,
    caller: &Caller,
    slug: &str,
    questionnaire: Uuid,
    channel: Channel,
    given: &[(String, Vec<String>)],
) -> Result<Version> {
    if !matches!(channel, Channel::Web | Channel::App) {
        return Err(Error::Validation(
            "channel: a citizen answers on web or app".into(),
        ));
    }
    let me = caller.citizen()?;
    let t = app.active_body("body", slug).await?;
    let tc = TenantContext::for_citizen(t, caller.principal()?.clone());
    let now = app.now();
    let scope = app.db.scope(&tc).await?;
    let q = store::get(&scope, questionnaire).await?;
    store::answerable(&scope, &q).await?;
    let inv = invitations::for_consultation(&scope, &q, me.person_id, channel, now).await?;
    let (_, v) = invitations::answer(&scope, &inv, given, now).await?;
    app.commit(scope).await?;
    Ok(v)
}

/// Asks the participants of every initiative that has ended with a questionnaire, in
/// every active body. Returns how many were asked.
pub async fn send_due(app: &App) -> Result<u64> {
    let mut asked = 0;
    for t in registry::list(&app.db).await? {
        if t.status != TenantStatus::Active {
            continue;
        }
        let tc = TenantContext::system(t, "surveys");
        let scope = app.db.scope(&tc).await?;
        asked += invitations::initiatives_ended(&scope, app.now()).await?;
        app.commit(scope).await?;
    }
    Ok(asked)
}
