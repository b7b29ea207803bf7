//! Citizens' preferences by area and category at a body, each with its source and date:
//! **explicit** (the citizen's own choice, interested or not) and **derived** (from the
//! initiatives they joined and the questionnaires of initiatives they answered). Derived
//! ones are written only while the body holds the citizen's `engagement` privacy consent and
//! no objection to engagement is in force; withdrawing the consent deletes them. Explicit
//! ones are the citizen's and stay until they change or delete them.

use chrono::{DateTime, Utc};
use civitas_tenants::{PersonScope, Scope};
use sea_orm::{ActiveValue::Set, ColumnTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::entity::{participation, preference, privacy_consent};
use crate::restrictions::{self, Purpose};
use crate::{Error, Result};

pub use preference::Model as Preference;

/// The privacy purpose under which a body may derive preferences (and, next, segment).
pub const ENGAGEMENT: &str = "engagement";

/// Where a preference comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Explicit,
    Participation,
    Questionnaire,
}

impl Source {
    pub const fn as_str(self) -> &'static str {
        match self {
            Source::Explicit => "explicit",
            Source::Participation => "participation",
            Source::Questionnaire => "questionnaire",
        }
    }
}

fn words(field: &str, v: &str, required: bool) -> Result<String> {
    let v = v.trim();
    if (required && v.is_empty()) || v.chars().count() > 100 {
        return Err(Error::Validation(format!(
            "{field} must be {} to 100 characters",
            usize::from(required)
        )));
    }
    Ok(v.to_owned())
}

/// Whether the body may derive preferences of `person`: their `engagement` consent is in
/// force and they have not objected to engagement.
pub async fn engaged(scope: &Scope, person: Uuid) -> Result<bool> {
    let consent = scope
        .find::<privacy_consent::Entity>()
        .filter(privacy_consent::Column::PersonId.eq(person))
        .filter(privacy_consent::Column::Purpose.eq(ENGAGEMENT))
        .filter(privacy_consent::Column::WithdrawnAt.is_null())
        .one(scope.conn())
        .await?
        .is_some();
    Ok(consent && !restrictions::in_force(scope, &[person], Purpose::Engagement).await?)
}

async fn upsert(
    scope: &Scope,
    person: Uuid,
    (area, category): (&str, &str),
    source: Source,
    (interested, origin): (bool, Option<Uuid>),
    now: DateTime<Utc>,
) -> Result<Preference> {
    let existing = scope
        .find::<preference::Entity>()
        .filter(preference::Column::PersonId.eq(person))
        .filter(preference::Column::Area.eq(area))
        .filter(preference::Column::Category.eq(category))
        .filter(preference::Column::Source.eq(source.as_str()))
        .one(scope.conn())
        .await?;
    match existing {
        Some(p) => {
            scope
                .update_many::<preference::Entity>()
                .col_expr(preference::Column::Interested, interested.into())
                .col_expr(preference::Column::OriginId, origin.into())
                .col_expr(preference::Column::UpdatedAt, now.into())
                .filter(preference::Column::Id.eq(p.id))
                .exec(scope.conn())
                .await?;
            Ok(Preference {
                interested,
                origin_id: origin,
                updated_at: now,
                ..p
            })
        }
        None => Ok(scope
            .insert(preference::ActiveModel {
                id: Set(Uuid::now_v7()),
                person_id: Set(person),
                area: Set(area.to_owned()),
                category: Set(category.to_owned()),
                source: Set(source.as_str().to_owned()),
                interested: Set(interested),
                origin_id: Set(origin),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            })
            .await?),
    }
}

/// The citizen says whether `area` (and `category`, or the whole area) interests them.
pub async fn set_explicit(
    scope: &Scope,
    person: Uuid,
    area: &str,
    category: &str,
    interested: bool,
    now: DateTime<Utc>,
) -> Result<Preference> {
    let area = words("area", area, true)?;
    let category = words("category", category, false)?;
    let what = (area.as_str(), category.as_str());
    upsert(
        scope,
        person,
        what,
        Source::Explicit,
        (interested, None),
        now,
    )
    .await
}

/// Records an interest the citizen showed in `area` (joining an initiative, answering its
/// questionnaire), if the body may derive it. Returns whether it did.
pub async fn derive(
    scope: &Scope,
    person: Uuid,
    area: &str,
    source: Source,
    origin: Uuid,
    now: DateTime<Utc>,
) -> Result<bool> {
    if !engaged(scope, person).await? {
        return Ok(false);
    }
    let what = (area.trim(), "");
    upsert(scope, person, what, source, (true, Some(origin)), now).await?;
    Ok(true)
}

/// The consent was just given: derives from the initiatives the citizen already joined.
pub(crate) async fn derive_from_history(
    scope: &Scope,
    person: Uuid,
    now: DateTime<Utc>,
) -> Result<()> {
    let joined = scope
        .find::<participation::Entity>()
        .filter(participation::Column::PersonId.eq(person))
        .filter(participation::Column::Status.is_in(["confirmed", "waiting", "attended"]))
        .all(scope.conn())
        .await?;
    let ids: Vec<Uuid> = joined.iter().map(|p| p.initiative_id).collect();
    for i in crate::initiatives::by_ids(scope, &ids).await? {
        derive(scope, person, &i.area, Source::Participation, i.id, now).await?;
    }
    Ok(())
}

/// The consent was withdrawn: the derived preferences go; the citizen's own stay.
pub(crate) async fn forget_derived(scope: &Scope, person: Uuid) -> Result<u64> {
    Ok(scope
        .delete_many::<preference::Entity>()
        .filter(preference::Column::PersonId.eq(person))
        .filter(preference::Column::Source.ne(Source::Explicit.as_str()))
        .exec(scope.conn())
        .await?
        .rows_affected)
}

/// Deletes one of the citizen's preferences at the scope's body.
pub async fn delete(scope: &Scope, persons: &[Uuid], id: Uuid) -> Result<()> {
    let gone = scope
        .delete_many::<preference::Entity>()
        .filter(preference::Column::Id.eq(id))
        .filter(preference::Column::PersonId.is_in(persons.iter().copied()))
        .exec(scope.conn())
        .await?;
    if gone.rows_affected == 0 {
        return Err(Error::NotFound("preference"));
    }
    Ok(())
}

/// The citizen's preferences in every body, by body then area.
pub async fn of_person(scope: &PersonScope) -> Result<Vec<Preference>> {
    Ok(scope
        .find::<preference::Entity>()
        .order_by_asc(preference::Column::TenantId)
        .order_by_asc(preference::Column::Area)
        .order_by_asc(preference::Column::Category)
        .order_by_asc(preference::Column::Source)
        .all(scope.conn())
        .await?)
}
