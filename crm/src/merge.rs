//! Merging an unidentified person record into the identified person, once the codice
//! fiscale is known. Nothing is deleted; the merge is audited.

use civitas_tenants::{Identity, Scope, audit};
use sea_orm::{ActiveValue::Set, ColumnTrait, QueryFilter};
use serde_json::json;
use uuid::Uuid;

use crate::entity::{contact, privacy_consent, profile};
use crate::persons;
use crate::sharing::ConsentCache;
use crate::{Error, Result};

/// Merges `source` into `target`: the scope's body's profile, contacts and consents of the
/// source now belong to the target, and the source person record points at the target so
/// that other bodies' records of it follow. Refused across two different codici fiscali.
pub async fn merge(
    scope: &Scope,
    actor: &Identity,
    cache: &ConsentCache,
    source: Uuid,
    target: Uuid,
) -> Result<Uuid> {
    let conn = scope.conn();
    let src = persons::root(conn, source)
        .await?
        .ok_or(Error::NotFound("source person"))?;
    let dst = persons::root(conn, target)
        .await?
        .ok_or(Error::NotFound("target person"))?;
    if src.id == dst.id {
        return Err(Error::Validation(
            "these records are already the same person".into(),
        ));
    }
    match (&src.fiscal_code, &dst.fiscal_code) {
        (Some(a), Some(b)) if a != b => {
            return Err(Error::Conflict(format!(
                "cannot merge two different codici fiscali ({a}, {b})"
            )));
        }
        (Some(_), None) => {
            return Err(Error::Validation(
                "merge the unidentified record into the identified one, not the reverse".into(),
            ));
        }
        _ => {}
    }
    // Only records this body can see are touched; a body must hold a profile of the source.
    let src_profile = scope
        .find::<profile::Entity>()
        .filter(profile::Column::PersonId.eq(src.id))
        .filter(profile::Column::MergedInto.is_null())
        .one(conn)
        .await?
        .ok_or(Error::NotFound("source person"))?;
    let dst_profile = scope
        .find::<profile::Entity>()
        .filter(profile::Column::PersonId.eq(dst.id))
        .filter(profile::Column::MergedInto.is_null())
        .one(conn)
        .await?;

    // The person records are global: every body's records of the source now resolve to the
    // target, and so do records merged into the source earlier. First, while this body's
    // profile still names the source (PostgreSQL checks that the body knows both).
    persons::merge_records(conn, src.id, dst.id).await?;
    match &dst_profile {
        None => {
            scope
                .update_many::<profile::Entity>()
                .set(profile::ActiveModel {
                    person_id: Set(dst.id),
                    ..Default::default()
                })
                .filter(profile::Column::Id.eq(src_profile.id))
                .exec(conn)
                .await?;
            scope
                .update_many::<contact::Entity>()
                .set(contact::ActiveModel {
                    person_id: Set(dst.id),
                    ..Default::default()
                })
                .filter(contact::Column::ProfileId.eq(src_profile.id))
                .exec(conn)
                .await?;
        }
        Some(tp) => {
            let existing: Vec<(String, String)> = scope
                .find::<contact::Entity>()
                .filter(contact::Column::ProfileId.eq(tp.id))
                .all(conn)
                .await?
                .into_iter()
                .map(|c| (c.kind, c.value))
                .collect();
            for c in scope
                .find::<contact::Entity>()
                .filter(contact::Column::ProfileId.eq(src_profile.id))
                .all(conn)
                .await?
            {
                if !existing.contains(&(c.kind.clone(), c.value.clone())) {
                    scope
                        .update_many::<contact::Entity>()
                        .set(contact::ActiveModel {
                            profile_id: Set(tp.id),
                            person_id: Set(dst.id),
                            ..Default::default()
                        })
                        .filter(contact::Column::Id.eq(c.id))
                        .exec(conn)
                        .await?;
                }
            }
            scope
                .update_many::<profile::Entity>()
                .set(profile::ActiveModel {
                    merged_into: Set(Some(tp.id)),
                    ..Default::default()
                })
                .filter(profile::Column::Id.eq(src_profile.id))
                .exec(conn)
                .await?;
        }
    }
    scope
        .update_many::<privacy_consent::Entity>()
        .set(privacy_consent::ActiveModel {
            person_id: Set(dst.id),
            ..Default::default()
        })
        .filter(privacy_consent::Column::PersonId.eq(src.id))
        .exec(conn)
        .await?;
    audit::record(
        scope,
        actor,
        "citizen.merged",
        Some(&dst.id.to_string()),
        json!({ "source": src.id, "target": dst.id }),
    )
    .await?;
    cache.invalidate_all();
    Ok(dst.id)
}
