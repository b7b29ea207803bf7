//! Tutors: an operator with the tutor role acts for a citizen who delegated them.

use chrono::{DateTime, Utc};
use civitas_tenants::{Identity, Role, Scope, TenantContext, TenantId, audit};
use sea_orm::{ActiveValue::Set, ColumnTrait, QueryFilter};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use crate::entity::delegation;
use crate::ids::{DelegationId, PersonId};
use crate::lookup::{Lookup, registered_person};
use crate::{Error, Result};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Delegation {
    pub id: DelegationId,
    /// The body where the tutor may act.
    pub tenant_id: TenantId,
    pub person_id: PersonId,
    pub tutor_subject: String,
    pub tutor_issuer: String,
    pub scopes: Vec<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

impl From<delegation::Model> for Delegation {
    fn from(m: delegation::Model) -> Self {
        Delegation {
            id: DelegationId(m.id),
            tenant_id: TenantId(m.tenant_id),
            person_id: PersonId(m.person_id),
            tutor_subject: m.tutor_subject,
            tutor_issuer: m.tutor_issuer,
            scopes: m.scopes.split(',').map(str::to_owned).collect(),
            expires_at: m.expires_at,
            revoked_at: m.revoked_at,
            created_by: m.created_by,
            created_at: m.created_at,
        }
    }
}

/// What a delegation may cover.
pub const SCOPES: [&str; 3] = ["cases", "interactions", "initiatives"];

fn invalid(m: impl Into<String>) -> Error {
    Error::Validation(m.into())
}

/// Records that a citizen known to the body delegates `tutor` (an identity: issuer and
/// subject) for `scopes`.
pub async fn grant(
    scope: &Scope,
    by: &Identity,
    person: Uuid,
    tutor: &Identity,
    scopes: &[String],
    expires_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<Delegation> {
    let (root, _) = registered_person(scope, Lookup::Person(person)).await?;
    if scopes.is_empty() || scopes.iter().any(|s| !SCOPES.contains(&s.as_str())) {
        return Err(invalid(format!(
            "scopes must be some of {}",
            SCOPES.join(", ")
        )));
    }
    if expires_at.is_some_and(|e| e <= now) {
        return Err(invalid("expiresAt must be in the future"));
    }
    let subject = tutor.subject.trim();
    if subject.is_empty() || tutor.issuer.trim().is_empty() {
        return Err(invalid("tutor must name a member"));
    }
    let row = delegation::ActiveModel {
        id: Set(Uuid::now_v7()),
        person_id: Set(root),
        tutor_subject: Set(subject.to_owned()),
        tutor_issuer: Set(tutor.issuer.trim().to_owned()),
        scopes: Set(scopes.join(",")),
        expires_at: Set(expires_at),
        revoked_at: Set(None),
        created_by: Set(by.subject.clone()),
        created_at: Set(now),
        ..Default::default()
    };
    let d = scope.insert(row).await?;
    audit::record(
        scope,
        by,
        "delegation.granted",
        Some(&d.id.to_string()),
        json!({ "tutor": subject, "tutorIssuer": tutor.issuer, "person": root }),
    )
    .await?;
    Ok(d.into())
}

pub async fn revoke(scope: &Scope, by: &Identity, id: Uuid, now: DateTime<Utc>) -> Result<()> {
    let res = scope
        .update_many::<delegation::Entity>()
        .set(delegation::ActiveModel {
            revoked_at: Set(Some(now)),
            ..Default::default()
        })
        .filter(delegation::Column::Id.eq(id))
        .filter(delegation::Column::RevokedAt.is_null())
        .exec(scope.conn())
        .await?;
    if res.rows_affected == 0 {
        return Err(Error::NotFound("delegation"));
    }
    audit::record(
        scope,
        by,
        "delegation.revoked",
        Some(&id.to_string()),
        json!({}),
    )
    .await?;
    Ok(())
}

/// Whether the caller acts in the body as a tutor and nothing more: every change they
/// make is for a citizen who delegated them.
pub fn only_tutor(tc: &TenantContext) -> bool {
    const STAFF: [Role; 5] = [
        Role::Operator,
        Role::Supervisor,
        Role::TenantAdmin,
        Role::Integrator,
        Role::PlatformAdmin,
    ];
    tc.has_role(Role::Tutor) && !STAFF.iter().any(|r| tc.has_role(*r))
}

/// Who a change is made for: a tutor acts only for a citizen who delegated them
/// `scope_name` (checked in the scope of the write it allows, so a revocation cannot slip
/// between the check and the write); staff who are not only tutors act directly. Returns
/// the person the tutor acts for.
pub async fn acting_for(
    scope: &Scope,
    tc: &TenantContext,
    person: Option<PersonId>,
    scope_name: &str,
    now: DateTime<Utc>,
) -> Result<Option<PersonId>> {
    let only_tutor = only_tutor(tc);
    let Some(person) = person else {
        return if only_tutor {
            Err(invalid(
                "a tutor acts on behalf of a citizen: give onBehalfOf",
            ))
        } else {
            Ok(None)
        };
    };
    if !tc.has_role(Role::Tutor) {
        return Err(Error::Forbidden(
            "only tutors act on behalf of a citizen".into(),
        ));
    }
    let root = check(scope, &tc.identity(), person.0, scope_name, now).await?;
    Ok(Some(PersonId(root)))
}

/// Checks that `tutor` may act for `person` in `scope_name` now; FORBIDDEN otherwise.
pub async fn check(
    scope: &Scope,
    tutor: &Identity,
    person: Uuid,
    scope_name: &str,
    now: DateTime<Utc>,
) -> Result<Uuid> {
    let (root, family) = registered_person(scope, Lookup::Person(person)).await?;
    let active = scope
        .find::<delegation::Entity>()
        .filter(delegation::Column::TutorIssuer.eq(tutor.issuer.as_str()))
        .filter(delegation::Column::TutorSubject.eq(tutor.subject.as_str()))
        .filter(delegation::Column::PersonId.is_in(family))
        .filter(delegation::Column::RevokedAt.is_null())
        .all(scope.conn())
        .await?
        .into_iter()
        .any(|d| {
            d.expires_at.is_none_or(|e| e > now) && d.scopes.split(',').any(|s| s == scope_name)
        });
    if active {
        Ok(root)
    } else {
        Err(Error::forbidden())
    }
}
