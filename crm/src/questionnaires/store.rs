//! A body's questionnaires and their versions: a new questionnaire starts as draft
//! version 1; a draft is edited in place; publishing makes the latest draft the version
//! answered from then on (the one before it retires); editing a published questionnaire
//! opens the next draft; retiring ends all asking.

use chrono::{DateTime, Utc};
use civitas_tenants::Scope;
use sea_orm::{ActiveValue::Set, ColumnTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use super::{Question, check_questions, invalid};
use crate::entity::{initiative, questionnaire, questionnaire_version as version, service};
use crate::{Error, Result};

pub use questionnaire::Model as Questionnaire;
pub use version::Model as Version;

/// What a questionnaire is attached to, if anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attachment {
    None,
    /// A satisfaction survey of this service, sent when a case of it is resolved.
    Service(Uuid),
    /// Sent to this initiative's participants once it ends.
    Initiative(Uuid),
}

#[derive(Clone, Debug)]
pub struct NewQuestionnaire {
    pub title: String,
    pub anonymous: bool,
    pub attachment: Attachment,
    pub questions: Vec<Question>,
}

async fn attachment_exists(scope: &Scope, a: Attachment) -> Result<()> {
    match a {
        Attachment::None => Ok(()),
        Attachment::Service(id) => scope
            .find::<service::Entity>()
            .filter(service::Column::Id.eq(id))
            .one(scope.conn())
            .await?
            .map(|_| ())
            .ok_or_else(|| invalid("serviceId: no such service in this body")),
        Attachment::Initiative(id) => scope
            .find::<initiative::Entity>()
            .filter(initiative::Column::Id.eq(id))
            .one(scope.conn())
            .await?
            .map(|_| ())
            .ok_or_else(|| invalid("initiativeId: no such initiative in this body")),
    }
}

/// Creates a questionnaire with its questions as draft version 1.
pub async fn create(
    scope: &Scope,
    new: NewQuestionnaire,
    by: &str,
    now: DateTime<Utc>,
) -> Result<(Questionnaire, Version)> {
    let title = new.title.trim().to_owned();
    if title.is_empty() || title.chars().count() > 200 {
        return Err(invalid("title must be 1 to 200 characters"));
    }
    let questions = check_questions(new.questions)?;
    attachment_exists(scope, new.attachment).await?;
    let (service_id, initiative_id) = match new.attachment {
        Attachment::None => (None, None),
        Attachment::Service(s) => (Some(s), None),
        Attachment::Initiative(i) => (None, Some(i)),
    };
    let q = scope
        .insert(questionnaire::ActiveModel {
            id: Set(Uuid::now_v7()),
            title: Set(title),
            anonymous: Set(new.anonymous),
            service_id: Set(service_id),
            initiative_id: Set(initiative_id),
            current_version: Set(0),
            retired_at: Set(None),
            created_by: Set(by.to_owned()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        })
        .await?;
    let v = new_version(scope, q.id, 1, &questions, now).await?;
    Ok((q, v))
}

async fn new_version(
    scope: &Scope,
    questionnaire: Uuid,
    n: i32,
    questions: &[Question],
    now: DateTime<Utc>,
) -> Result<Version> {
    Ok(scope
        .insert(version::ActiveModel {
            id: Set(Uuid::now_v7()),
            questionnaire_id: Set(questionnaire),
            version: Set(n),
            status: Set("draft".into()),
            questions: Set(serde_json::to_value(questions).unwrap_or_default()),
            created_at: Set(now),
            published_at: Set(None),
            ..Default::default()
        })
        .await?)
}

pub async fn get(scope: &Scope, id: Uuid) -> Result<Questionnaire> {
    scope
        .find::<questionnaire::Entity>()
        .filter(questionnaire::Column::Id.eq(id))
        .one(scope.conn())
        .await?
        .ok_or(Error::NotFound("questionnaire"))
}

/// The body's questionnaires, newest first.
pub async fn list(scope: &Scope) -> Result<Vec<Questionnaire>> {
    Ok(scope
        .find::<questionnaire::Entity>()
        .order_by_desc(questionnaire::Column::Id)
        .all(scope.conn())
        .await?)
}

/// A questionnaire's versions, first to last.
pub async fn versions(scope: &Scope, id: Uuid) -> Result<Vec<Version>> {
    Ok(scope
        .find::<version::Entity>()
        .filter(version::Column::QuestionnaireId.eq(id))
        .order_by_asc(version::Column::Version)
        .all(scope.conn())
        .await?)
}

/// The version answered now: the published one of a questionnaire not retired.
pub async fn answerable(scope: &Scope, q: &Questionnaire) -> Result<Version> {
    if q.retired_at.is_some() {
        return Err(invalid(
            "questionnaire: it is retired and takes no more answers",
        ));
    }
    scope
        .find::<version::Entity>()
        .filter(version::Column::QuestionnaireId.eq(q.id))
        .filter(version::Column::Version.eq(q.current_version))
        .filter(version::Column::Status.eq("published"))
        .one(scope.conn())
        .await?
        .ok_or_else(|| invalid("questionnaire: no version is published yet"))
}

fn check_open(q: &Questionnaire) -> Result<()> {
    if q.retired_at.is_some() {
        return Err(invalid("questionnaire: it is retired"));
    }
    Ok(())
}

/// Replaces the questions of the draft, opening the next version when the latest is
/// published: a published version never changes.
pub async fn revise(
    scope: &Scope,
    id: Uuid,
    questions: Vec<Question>,
    now: DateTime<Utc>,
) -> Result<Version> {
    let q = get(scope, id).await?;
    check_open(&q)?;
    let questions = check_questions(questions)?;
    let latest = versions(scope, id).await?.pop();
    match latest {
        Some(v) if v.status == "draft" => {
            scope
                .update_many::<version::Entity>()
                .col_expr(
                    version::Column::Questions,
                    serde_json::to_value(&questions).unwrap_or_default().into(),
                )
                .filter(version::Column::Id.eq(v.id))
                .exec(scope.conn())
                .await?;
            Ok(Version {
                questions: serde_json::to_value(&questions).unwrap_or_default(),
                ..v
            })
        }
        latest => {
            let n = latest.map_or(1, |v| v.version + 1);
            new_version(scope, id, n, &questions, now).await
        }
    }
}

/// Publishes the latest draft; the version published before it retires (its answers
/// stay, named by it).
pub async fn publish(scope: &Scope, id: Uuid, now: DateTime<Utc>) -> Result<Version> {
    let q = get(scope, id).await?;
    check_open(&q)?;
    let Some(draft) = versions(scope, id)
        .await?
        .into_iter()
        .rev()
        .find(|v| v.status == "draft")
    else {
        return Err(invalid(
            "questionnaire: there is no draft to publish (revise it first)",
        ));
    };
    retire_published(scope, id).await?;
    scope
        .update_many::<version::Entity>()
        .col_expr(version::Column::Status, "published".into())
        .col_expr(version::Column::PublishedAt, now.into())
        .filter(version::Column::Id.eq(draft.id))
        .exec(scope.conn())
        .await?;
    set_current(scope, id, draft.version, now).await?;
    Ok(Version {
        status: "published".into(),
        published_at: Some(now),
        ..draft
    })
}

/// The version answered until now, if any, is answered no more (its answers stay).
async fn retire_published(scope: &Scope, id: Uuid) -> Result<()> {
    scope
        .update_many::<version::Entity>()
        .col_expr(version::Column::Status, "retired".into())
        .filter(version::Column::QuestionnaireId.eq(id))
        .filter(version::Column::Status.eq("published"))
        .exec(scope.conn())
        .await?;
    Ok(())
}

async fn set_current(scope: &Scope, id: Uuid, n: i32, now: DateTime<Utc>) -> Result<()> {
    scope
        .update_many::<questionnaire::Entity>()
        .col_expr(questionnaire::Column::CurrentVersion, n.into())
        .col_expr(questionnaire::Column::UpdatedAt, now.into())
        .filter(questionnaire::Column::Id.eq(id))
        .exec(scope.conn())
        .await?;
    Ok(())
}

/// Retires a questionnaire: no more invitations or answers; its results stay.
pub async fn retire(scope: &Scope, id: Uuid, now: DateTime<Utc>) -> Result<Questionnaire> {
    let q = get(scope, id).await?;
    check_open(&q)?;
    retire_published(scope, id).await?;
    scope
        .update_many::<questionnaire::Entity>()
        .col_expr(questionnaire::Column::RetiredAt, now.into())
        .col_expr(questionnaire::Column::UpdatedAt, now.into())
        .filter(questionnaire::Column::Id.eq(id))
        .exec(scope.conn())
        .await?;
    Ok(Questionnaire {
        retired_at: Some(now),
        updated_at: now,
        ..q
    })
}

/// The satisfaction survey of a service: its newest questionnaire not retired with a
/// published version.
pub async fn of_service(scope: &Scope, service: Uuid) -> Result<Option<Questionnaire>> {
    Ok(scope
        .find::<questionnaire::Entity>()
        .filter(questionnaire::Column::ServiceId.eq(service))
        .filter(questionnaire::Column::RetiredAt.is_null())
        .filter(questionnaire::Column::CurrentVersion.gt(0))
        .order_by_desc(questionnaire::Column::Id)
        .one(scope.conn())
        .await?)
}
