//! Citizens pushed by a body's legacy system, keyed by the system's own reference: the same
//! push twice changes nothing the second time, as for cases.

use chrono::{DateTime, Utc};
use civitas_tenants::{Identity, Scope};
use sea_orm::{ActiveValue::Set, ColumnTrait, QueryFilter};

use crate::entity::person_source;
use crate::lookup::{Lookup, person_id};
use crate::profiles::{self, Profile, ProfileInput};
use crate::{Error, Result};

fn reference(field: &str, v: &str, max: usize) -> Result<String> {
    let v = v.trim();
    if v.is_empty() || v.chars().count() > max || v.chars().any(char::is_control) {
        return Err(Error::Validation(format!(
            "{field} must be 1 to {max} printable characters"
        )));
    }
    Ok(v.to_owned())
}

/// Creates or updates the citizen `source` knows as `external_ref`: the profile the
/// reference points at; else the body's profile of the person `fiscal_code` names; else a
/// new profile. Returns the profile and whether anything changed.
pub async fn upsert_person(
    scope: &Scope,
    actor: &Identity,
    source: &str,
    external_ref: &str,
    fiscal_code: Option<&str>,
    input: ProfileInput,
    now: DateTime<Utc>,
) -> Result<(Profile, bool)> {
    let source = reference("source", source, 100)?;
    let external_ref = reference("externalRef", external_ref, 200)?;
    let linked = scope
        .find::<person_source::Entity>()
        .filter(person_source::Column::Source.eq(source.clone()))
        .filter(person_source::Column::ExternalRef.eq(external_ref.clone()))
        .one(scope.conn())
        .await?;
    let existing = match (&linked, fiscal_code) {
        (Some(l), _) => Some(profiles::get(scope, l.profile_id).await?),
        (None, Some(fc)) => match person_id(scope.conn(), Lookup::FiscalCode(fc.to_owned())).await?
        {
            Some(person) => profiles::of_person(scope, person).await?,
            None => None,
        },
        (None, None) => None,
    };
    // A citizen who restricted the body's handling of their records is not written to by
    // its legacy systems either.
    if let Some(p) = &existing
        && crate::restrictions::handling_restricted(scope, p.person_id).await?
    {
        return Err(crate::Error::Restricted(
            "this citizen's records at your body",
        ));
    }
    let (profile, changed) = match existing {
        Some(current) if !profiles::differs(&current, &input)? => (current, false),
        Some(current) => (
            profiles::update(scope, actor, current.id, input).await?,
            true,
        ),
        None => (
            profiles::register(scope, actor, fiscal_code, input).await?,
            true,
        ),
    };
    if linked.is_none() {
        let row = person_source::ActiveModel {
            source: Set(source),
            external_ref: Set(external_ref),
            profile_id: Set(profile.id),
            updated_at: Set(now),
            ..Default::default()
        };
        scope.insert(row).await.map_err(|e| {
            Error::conflict_on_unique(e, "this source's citizen was created concurrently; retry")
        })?;
        return Ok((profile, true));
    }
    Ok((profile, changed))
}
