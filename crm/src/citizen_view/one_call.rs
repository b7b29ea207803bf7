//! The citizen view's reads on PostgreSQL in one call of `civitas_citizen_view` (migrations
//! 8, 9 and 25): the declared purpose checked against the body's list (or the case against
//! the person's), the access-log entry for the body's own records, then the person and its
//! merged records, their unrevoked consents to the reader's body, and the profiles, their
//! contacts, cases and interactions of that body and of the bodies those consents name, each
//! part as one JSON array. The function enters the reader's body itself
//! (`Db::call_in_tenant`), so the whole read is one round trip where a scope and separate
//! reads took eight.
//!
//! The function filters bodies coarsely, by the sources of any unrevoked consent to the
//! reader; the RLS policies decide what is visible, and the caller's labelling drops what no
//! active consent covers for that part (scope and expiry), as it does for separate reads.

use civitas_tenants::{Backend, Db, TenantContext};
use sea_orm::{DbErr, QueryResult};
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::{Parts, Rows};
use crate::access_purposes::{Declared, Reason};
use crate::entity::{access_log, case, contact, interaction, person, profile, sharing_consent};
use crate::sharing::SharingConsent;

/// The database function, as the benchmark's pgbench script calls it too.
pub const FUNCTION: &str = "civitas_citizen_view";

/// Writes access-log entries in one call, for the body that entered (migration 8).
const LOG_FUNCTION: &str = "civitas_log_access";

fn part<T: DeserializeOwned>(row: &QueryResult, column: &str) -> Result<Vec<T>, DbErr> {
    match row.try_get::<Option<String>>("", column)? {
        Some(text) => serde_json::from_str(&text)
            .map_err(|e| DbErr::Json(format!("citizen view, {column}: {e}"))),
        None => Ok(Vec::new()),
    }
}

#[derive(serde::Deserialize)]
struct Purpose {
    label: String,
    legal_basis: String,
}

/// The view's rows in one call, with the purpose the body accepted (`None`: refused, and
/// nothing was read), or `None` where this read does not apply: on SQLite, when the consent
/// lists are asked for too (they are read in a scope), and when `id` is itself a record
/// merged into another person (rare; separate reads follow the merge). A person who does
/// not exist gives empty `members`. The function writes entry `entry` for the body's own
/// records when the view will show them.
pub(super) async fn read(
    db: &Db,
    ctx: &TenantContext,
    id: Uuid,
    parts: Parts,
    reason: &Reason,
    entry: Uuid,
    reader: &str,
) -> crate::Result<Option<(Rows, Option<Declared>)>> {
    if db.backend() != Backend::Postgres || parts.privacy_consents || parts.sharing_consents {
        return Ok(None);
    }
    let (purpose, case) = match reason {
        Reason::Purpose(code) => (Some(code.clone()), None),
        Reason::Case(c) => (None, Some(c.0)),
    };
    let args = vec![
        id.into(),
        parts.cases.into(),
        parts.interactions.into(),
        entry.into(),
        reader.into(),
        purpose.into(),
        case.into(),
    ];
    let row = db
        .call_in_tenant(ctx, FUNCTION, args)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("{FUNCTION} returned no row")))?;
    let Some(text) = row.try_get::<Option<String>>("", "purpose")? else {
        return Ok(Some((Rows::default(), None)));
    };
    let purpose: Purpose = serde_json::from_str(&text)
        .map_err(|e| DbErr::Json(format!("citizen view, purpose: {e}")))?;
    let declared = Some(Declared {
        label: purpose.label,
        legal_basis: purpose.legal_basis,
    });
    let family: Vec<person::Model> = part(&row, "family")?;
    let Some(me) = family.iter().find(|p| p.id == id).cloned() else {
        return Ok(Some((Rows::default(), declared)));
    };
    if me.merged_into.is_some() {
        return Ok(None);
    }
    let members = std::iter::once(me)
        .chain(family.into_iter().filter(|p| p.id != id))
        .collect();
    let consents = part::<sharing_consent::Model>(&row, "consents")?;
    let rows = Rows {
        members,
        consents: std::sync::Arc::new(consents.into_iter().map(SharingConsent::from).collect()),
        profiles: part::<profile::Model>(&row, "profile_rows")?,
        contacts: part::<contact::Model>(&row, "contact_rows")?,
        cases: part::<case::Model>(&row, "case_rows")?,
        interactions: part::<interaction::Model>(&row, "interaction_rows")?,
    };
    Ok(Some((rows, declared)))
}

/// Writes `entries` to the access log of the body of `ctx` in one call (each row's body is
/// the one the call enters, whatever the entry says), and fails if they are not committed.
pub(super) async fn log(
    db: &Db,
    ctx: &TenantContext,
    entries: &[access_log::Model],
) -> crate::Result<()> {
    let rows = serde_json::to_value(entries)
        .map_err(|e| DbErr::Json(format!("access log entries: {e}")))?;
    db.call_in_tenant(ctx, LOG_FUNCTION, vec![rows.into()])
        .await?;
    Ok(())
}
