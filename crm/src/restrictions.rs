//! Restriction (GDPR art. 18) and objection (art. 21): a citizen stops one body's
//! processing of their records for one purpose until they lift it.
//!
//! - `case_handling`: the body's staff no longer see the citizen (search, caller
//!   recognition, citizen view, queues) nor use their cases (FORBIDDEN, reason
//!   RESTRICTED); the records are kept, as for legal claims. Other bodies reading under a
//!   consent no longer see that body's records either.
//! - `notifications`: the body sends the citizen no more notifications.
//! - `engagement`: the body may not put the citizen in segments or campaigns (consulted by
//!   engagement once it exists).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use civitas_tenants::{PersonScope, Scope, TenantId};
use sea_orm::{ActiveValue::Set, ColumnTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::entity::{profile, restriction};
use crate::{Error, Result};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    CaseHandling,
    Notifications,
    Engagement,
}

impl Purpose {
    pub const ALL: [Purpose; 3] = [
        Purpose::CaseHandling,
        Purpose::Notifications,
        Purpose::Engagement,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::CaseHandling => "case_handling",
            Purpose::Notifications => "notifications",
            Purpose::Engagement => "engagement",
        }
    }
}

impl fmt::Display for Purpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Purpose {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Purpose::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| Error::Validation(format!("purpose: unknown purpose {s:?}")))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Art. 18: keep, do not use (while accuracy or lawfulness is in question).
    Restriction,
    /// Art. 21: the citizen objects to the processing.
    Objection,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Restriction => "restriction",
            Kind::Objection => "objection",
        }
    }
}

impl FromStr for Kind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "restriction" => Ok(Kind::Restriction),
            "objection" => Ok(Kind::Objection),
            _ => Err(Error::Validation(format!("kind: unknown kind {s:?}"))),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Restriction {
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub purpose: Purpose,
    pub kind: Kind,
    pub reason: String,
    pub requested_at: DateTime<Utc>,
    pub lifted_at: Option<DateTime<Utc>>,
}

impl TryFrom<restriction::Model> for Restriction {
    type Error = Error;
    fn try_from(m: restriction::Model) -> Result<Self> {
        Ok(Restriction {
            id: m.id,
            tenant_id: TenantId(m.tenant_id),
            purpose: m.purpose.parse()?,
            kind: m.kind.parse()?,
            reason: m.reason,
            requested_at: m.requested_at,
            lifted_at: m.lifted_at,
        })
    }
}

const MAX_REASON: usize = 2_000;

/// Records the citizen's restriction at the scope's body (which must hold a profile of
/// them: else NOT_FOUND). CONFLICT while one for the same purpose is in force.
pub async fn restrict(
    scope: &Scope,
    family: &[Uuid],
    purpose: Purpose,
    kind: Kind,
    reason: &str,
    by: &str,
    now: DateTime<Utc>,
) -> Result<Restriction> {
    let reason = reason.trim();
    if reason.chars().count() > MAX_REASON || reason.chars().any(|c| c.is_control() && c != '\n') {
        return Err(Error::Validation(format!(
            "reason: at most {MAX_REASON} characters, no control characters"
        )));
    }
    let profiles = scope
        .find::<profile::Entity>()
        .filter(profile::Column::PersonId.is_in(family.iter().copied()))
        .all(scope.conn())
        .await?;
    if profiles.is_empty() {
        return Err(Error::NotFound("body record of you"));
    }
    if in_force(scope, family, purpose).await? {
        return Err(Error::Conflict(format!(
            "a {purpose} restriction is already in force at this body"
        )));
    }
    let row = scope
        .insert(restriction::ActiveModel {
            id: Set(Uuid::now_v7()),
            person_id: Set(family[0]),
            purpose: Set(purpose.as_str().to_owned()),
            kind: Set(kind.as_str().to_owned()),
            reason: Set(reason.to_owned()),
            requested_at: Set(now),
            requested_by: Set(by.to_owned()),
            lifted_at: Set(None),
            lifted_by: Set(None),
            ..Default::default()
        })
        .await?;
    if purpose == Purpose::CaseHandling {
        mark_profiles(scope, family, Some(now)).await?;
    }
    row.try_into()
}

/// Lifts restriction `id` of the citizen at the scope's body; NOT_FOUND if it is not
/// theirs, CONFLICT if already lifted.
pub async fn lift(
    scope: &Scope,
    family: &[Uuid],
    id: Uuid,
    by: &str,
    now: DateTime<Utc>,
) -> Result<Restriction> {
    let found = scope
        .find::<restriction::Entity>()
        .filter(restriction::Column::Id.eq(id))
        .filter(restriction::Column::PersonId.is_in(family.iter().copied()))
        .one(scope.conn())
        .await?
        .ok_or(Error::NotFound("restriction"))?;
    if found.lifted_at.is_some() {
        return Err(Error::Conflict("this restriction is already lifted".into()));
    }
    scope
        .update_many::<restriction::Entity>()
        .col_expr(restriction::Column::LiftedAt, Some(now).into())
        .col_expr(restriction::Column::LiftedBy, Some(by.to_owned()).into())
        .filter(restriction::Column::Id.eq(id))
        .exec(scope.conn())
        .await?;
    let purpose: Purpose = found.purpose.parse()?;
    if purpose == Purpose::CaseHandling {
        mark_profiles(scope, family, None).await?;
    }
    Restriction::try_from(restriction::Model {
        lifted_at: Some(now),
        lifted_by: Some(by.to_owned()),
        ..found
    })
}

async fn mark_profiles(scope: &Scope, family: &[Uuid], at: Option<DateTime<Utc>>) -> Result<()> {
    scope
        .update_many::<profile::Entity>()
        .col_expr(profile::Column::RestrictedAt, at.into())
        .filter(profile::Column::PersonId.is_in(family.iter().copied()))
        .exec(scope.conn())
        .await?;
    Ok(())
}

/// Whether a restriction of (or objection to) `purpose` is in force for the person at the
/// scope's body.
pub async fn in_force(scope: &Scope, family: &[Uuid], purpose: Purpose) -> Result<bool> {
    Ok(scope
        .find::<restriction::Entity>()
        .filter(restriction::Column::PersonId.is_in(family.iter().copied()))
        .filter(restriction::Column::Purpose.eq(purpose.as_str()))
        .filter(restriction::Column::LiftedAt.is_null())
        .one(scope.conn())
        .await?
        .is_some())
}

/// Whether the body's handling of the person's records is restricted (their profile at
/// the scope's body is marked).
pub async fn handling_restricted(scope: &Scope, person: Uuid) -> Result<bool> {
    Ok(scope
        .find::<profile::Entity>()
        .filter(profile::Column::PersonId.eq(person))
        .filter(profile::Column::RestrictedAt.is_not_null())
        .one(scope.conn())
        .await?
        .is_some())
}

/// The citizen's restrictions at every body, newest first.
pub async fn of_person(scope: &PersonScope) -> Result<Vec<Restriction>> {
    scope
        .find::<restriction::Entity>()
        .order_by_desc(restriction::Column::Id)
        .all(scope.conn())
        .await?
        .into_iter()
        .map(Restriction::try_from)
        .collect()
}
