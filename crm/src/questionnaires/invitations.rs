//! Asking citizens and taking their answers. An invitation is one per citizen,
//! questionnaire and occasion (a case, an initiative, or none): answering marks it, with a
//! conditional update, so a second answer is a conflict however many arrive together.
//! Anonymous answers carry no person or case, a random id and only the day, so that no
//! column joins them back to the invitation.

use chrono::{DateTime, Utc};
use civitas_tenants::{PersonScope, Scope};
use sea_orm::{ActiveValue::Set, ColumnTrait, QueryFilter, QueryOrder, sea_query::Expr};
use uuid::Uuid;

use super::store::{self, Questionnaire, Version};
use super::{check_answers, questions_of};
use crate::channels::Channel;
use crate::entity::{case, initiative, participation, survey_answer, survey_invitation};
use crate::{Error, Result};

pub use survey_answer::Model as Answer;
pub use survey_invitation::Model as Invitation;

/// Why a citizen is asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Occasion {
    /// A questionnaire answered on its own (a consultation).
    None,
    Case(Uuid),
    Initiative(Uuid),
}

impl Occasion {
    fn key(self) -> String {
        match self {
            Occasion::None => String::new(),
            Occasion::Case(c) => format!("case:{c}"),
            Occasion::Initiative(i) => format!("initiative:{i}"),
        }
    }
}

/// Asks `person`; None when they were already asked on this occasion.
pub async fn invite(
    scope: &Scope,
    q: &Questionnaire,
    person: Uuid,
    occasion: Occasion,
    (service, channel): (Option<Uuid>, &str),
    now: DateTime<Utc>,
) -> Result<Option<Invitation>> {
    let asked = scope
        .find::<survey_invitation::Entity>()
        .filter(survey_invitation::Column::QuestionnaireId.eq(q.id))
        .filter(survey_invitation::Column::PersonId.eq(person))
        .filter(survey_invitation::Column::Occasion.eq(occasion.key()))
        .one(scope.conn())
        .await?;
    if asked.is_some() {
        return Ok(None);
    }
    let (case_id, initiative_id) = match occasion {
        Occasion::Case(c) => (Some(c), None),
        Occasion::Initiative(i) => (None, Some(i)),
        Occasion::None => (None, None),
    };
    let row = survey_invitation::ActiveModel {
        id: Set(Uuid::now_v7()),
        questionnaire_id: Set(q.id),
        person_id: Set(person),
        occasion: Set(occasion.key()),
        case_id: Set(case_id),
        initiative_id: Set(initiative_id),
        service_id: Set(service),
        channel: Set(channel.to_owned()),
        created_at: Set(now),
        answered_at: Set(None),
        ..Default::default()
    };
    Ok(Some(scope.insert(row).await?))
}

/// A case was resolved: its citizen gets the service's satisfaction survey, if it has
/// one, on the case's channel where that channel carries messages. Once per case, however
/// often it is reopened and resolved again.
pub(crate) async fn case_resolved(
    scope: &Scope,
    c: &case::Model,
    now: DateTime<Utc>,
) -> Result<()> {
    let Some(person) = c.person_id else {
        return Ok(());
    };
    let Some(q) = store::of_service(scope, c.service_id).await? else {
        return Ok(());
    };
    let occasion = Occasion::Case(c.id);
    let asked = invite(
        scope,
        &q,
        person,
        occasion,
        (Some(c.service_id), &c.channel),
        now,
    )
    .await?;
    if let Some(inv) = asked {
        let channel = c.channel.parse::<Channel>().ok();
        crate::notifications::survey_invitation(scope, &inv, Some(&c.number), channel, now).await?;
    }
    Ok(())
}

/// Asks the participants (confirmed or attended) of every initiative of the scope's body
/// that has ended and has a published questionnaire; each initiative once. Returns how
/// many were asked.
pub async fn initiatives_ended(scope: &Scope, now: DateTime<Utc>) -> Result<u64> {
    let ended = scope
        .find::<initiative::Entity>()
        .filter(initiative::Column::EndsAt.lte(now))
        .filter(initiative::Column::SurveySentAt.is_null())
        .filter(initiative::Column::Status.is_in(["published", "closed"]))
        .all(scope.conn())
        .await?;
    let mut asked = 0;
    for i in ended {
        // Taken first, conditionally: a second replica running the same job waits on the
        // row, then finds it taken and moves on.
        let taken = scope
            .update_many::<initiative::Entity>()
            .col_expr(initiative::Column::SurveySentAt, now.into())
            .filter(initiative::Column::Id.eq(i.id))
            .filter(initiative::Column::SurveySentAt.is_null())
            .exec(scope.conn())
            .await?;
        if taken.rows_affected == 0 {
            continue;
        }
        let q = scope
            .find::<crate::entity::questionnaire::Entity>()
            .filter(crate::entity::questionnaire::Column::InitiativeId.eq(i.id))
            .filter(crate::entity::questionnaire::Column::RetiredAt.is_null())
            .filter(crate::entity::questionnaire::Column::CurrentVersion.gt(0))
            .order_by_desc(crate::entity::questionnaire::Column::Id)
            .one(scope.conn())
            .await?;
        let Some(q) = q else { continue };
        let came = scope
            .find::<participation::Entity>()
            .filter(participation::Column::InitiativeId.eq(i.id))
            .filter(participation::Column::Status.is_in(["confirmed", "attended"]))
            .all(scope.conn())
            .await?;
        for p in came {
            let occasion = Occasion::Initiative(i.id);
            if let Some(inv) =
                invite(scope, &q, p.person_id, occasion, (None, &p.channel), now).await?
            {
                crate::notifications::survey_invitation(scope, &inv, None, None, now).await?;
                asked += 1;
            }
        }
    }
    Ok(asked)
}

pub async fn get(scope: &Scope, id: Uuid) -> Result<Invitation> {
    scope
        .find::<survey_invitation::Entity>()
        .filter(survey_invitation::Column::Id.eq(id))
        .one(scope.conn())
        .await?
        .ok_or(Error::NotFound("survey"))
}

/// The invitation of `person` to answer `q` on its own, made now if there is none.
pub async fn for_consultation(
    scope: &Scope,
    q: &Questionnaire,
    person: Uuid,
    channel: Channel,
    now: DateTime<Utc>,
) -> Result<Invitation> {
    if q.service_id.is_some() || q.initiative_id.is_some() {
        return Err(Error::Validation(
            "questionnaire: it is sent to the citizens it concerns, not answered on its own".into(),
        ));
    }
    let occasion = Occasion::None;
    if let Some(inv) = invite(scope, q, person, occasion, (None, channel.as_str()), now).await? {
        return Ok(inv);
    }
    scope
        .find::<survey_invitation::Entity>()
        .filter(survey_invitation::Column::QuestionnaireId.eq(q.id))
        .filter(survey_invitation::Column::PersonId.eq(person))
        .filter(survey_invitation::Column::Occasion.eq(""))
        .one(scope.conn())
        .await?
        .ok_or(Error::NotFound("survey"))
}

/// Takes the answers to an invitation: checked against the version answered now, once.
pub async fn answer(
    scope: &Scope,
    inv: &Invitation,
    given: &[(String, Vec<String>)],
    now: DateTime<Utc>,
) -> Result<(Answer, Version)> {
    let q = store::get(scope, inv.questionnaire_id).await?;
    let v = store::answerable(scope, &q).await?;
    let answers = check_answers(&questions_of(&v.questions), given)?;
    // Anonymous: the day only, on both rows, so that times do not pair them.
    let at = if q.anonymous {
        now.date_naive()
            .and_hms_opt(0, 0, 0)
            .map_or(now, |d| d.and_utc())
    } else {
        now
    };
    let marked = scope
        .update_many::<survey_invitation::Entity>()
        .col_expr(survey_invitation::Column::AnsweredAt, Expr::value(at))
        .filter(survey_invitation::Column::Id.eq(inv.id))
        .filter(survey_invitation::Column::AnsweredAt.is_null())
        .exec(scope.conn())
        .await?;
    if marked.rows_affected == 0 {
        return Err(Error::Conflict(
            "this questionnaire is already answered".into(),
        ));
    }
    let (id, person, case_id) = if q.anonymous {
        (Uuid::new_v4(), None, None)
    } else {
        (Uuid::now_v7(), Some(inv.person_id), inv.case_id)
    };
    let row = survey_answer::ActiveModel {
        id: Set(id),
        questionnaire_id: Set(q.id),
        version_id: Set(v.id),
        version: Set(v.version),
        person_id: Set(person),
        case_id: Set(case_id),
        initiative_id: Set(inv.initiative_id),
        service_id: Set(inv.service_id),
        channel: Set(inv.channel.clone()),
        answers: Set(answers),
        submitted_at: Set(at),
        ..Default::default()
    };
    let saved = scope.insert(row).await?;
    // Answering an initiative's identified questionnaire shows interest in its area.
    if let (false, Some(i)) = (q.anonymous, inv.initiative_id) {
        let i = crate::initiatives::get(scope, i, false).await?;
        let source = crate::preferences::Source::Questionnaire;
        crate::preferences::derive(scope, inv.person_id, &i.area, source, i.id, now).await?;
    }
    Ok((saved, v))
}

/// The citizen's invitations not answered yet, in every body, newest first.
pub async fn pending_of_person(scope: &PersonScope) -> Result<Vec<Invitation>> {
    Ok(scope
        .find::<survey_invitation::Entity>()
        .filter(survey_invitation::Column::AnsweredAt.is_null())
        .order_by_desc(survey_invitation::Column::Id)
        .all(scope.conn())
        .await?)
}
