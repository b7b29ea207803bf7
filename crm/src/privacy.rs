//! Privacy consents (GDPR art. 7): per body and purpose, with who collected them, how and
//! when; withdrawn as easily as given; the history kept.

use chrono::{DateTime, Utc};
use civitas_tenants::{PersonScope, Scope, TenantId, audit};
use sea_orm::{ActiveValue::Set, ColumnTrait, QueryFilter, QueryOrder};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use crate::entity::privacy_consent;
use crate::sharing::{Collector, validate_channel};
use crate::{Error, Result};

/// The purpose under which a contact centre may recognise a caller by phone number.
pub const CALLER_RECOGNITION: &str = "caller_recognition";

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PrivacyConsent {
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub person_id: Uuid,
    pub purpose: String,
    pub text_version: String,
    pub channel: String,
    pub collected_by: String,
    pub collector_kind: String,
    pub given_at: DateTime<Utc>,
    pub withdrawn_at: Option<DateTime<Utc>>,
    pub withdrawn_by: Option<String>,
}

impl From<privacy_consent::Model> for PrivacyConsent {
    fn from(m: privacy_consent::Model) -> Self {
        PrivacyConsent {
            id: m.id,
            tenant_id: TenantId(m.tenant_id),
            person_id: m.person_id,
            purpose: m.purpose,
            text_version: m.text_version,
            channel: m.channel,
            collected_by: m.collected_by,
            collector_kind: m.collector_kind,
            given_at: m.given_at,
            withdrawn_at: m.withdrawn_at,
            withdrawn_by: m.withdrawn_by,
        }
    }
}

fn token(field: &str, v: &str) -> Result<String> {
    let v = v.trim();
    let ok = !v.is_empty()
        && v.len() <= 64
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if ok {
        Ok(v.to_owned())
    } else {
        Err(Error::Validation(format!(
            "{field} must be 1 to 64 characters of letters, digits, '.', '_' or '-'"
        )))
    }
}

/// Records that `person` gave the scope's body consent for `purpose`, under the notice
/// `text_version`. A new row every time: the history is the table.
pub async fn record(
    scope: &Scope,
    collector: &Collector,
    person: Uuid,
    purpose: &str,
    text_version: &str,
    channel: &str,
    now: DateTime<Utc>,
) -> Result<PrivacyConsent> {
    let row = privacy_consent::ActiveModel {
        id: Set(Uuid::now_v7()),
        person_id: Set(person),
        purpose: Set(token("purpose", purpose)?),
        text_version: Set(token("textVersion", text_version)?),
        channel: Set(validate_channel(channel)?),
        collected_by: Set(collector.subject().to_owned()),
        collector_kind: Set(collector.kind().to_owned()),
        given_at: Set(now),
        withdrawn_at: Set(None),
        withdrawn_by: Set(None),
        ..Default::default()
    };
    let m = scope.insert(row).await?;
    audit::record(
        scope,
        collector.subject(),
        "privacy.given",
        Some(&m.id.to_string()),
        json!({ "purpose": m.purpose }),
    )
    .await?;
    if m.purpose == crate::preferences::ENGAGEMENT {
        crate::preferences::derive_from_history(scope, person, now).await?;
    }
    Ok(m.into())
}

/// Withdraws a consent of the scope's body. Withdrawing twice is a CONFLICT.
pub async fn withdraw(
    scope: &Scope,
    by: &str,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<PrivacyConsent> {
    let current = scope
        .find::<privacy_consent::Entity>()
        .filter(privacy_consent::Column::Id.eq(id))
        .one(scope.conn())
        .await?
        .ok_or(Error::NotFound("privacy consent"))?;
    if current.withdrawn_at.is_some() {
        return Err(Error::Conflict("this consent is already withdrawn".into()));
    }
    let row = privacy_consent::ActiveModel {
        withdrawn_at: Set(Some(now)),
        withdrawn_by: Set(Some(by.to_owned())),
        ..Default::default()
    };
    scope
        .update_many::<privacy_consent::Entity>()
        .set(row)
        .filter(privacy_consent::Column::Id.eq(id))
        .exec(scope.conn())
        .await?;
    audit::record(
        scope,
        by,
        "privacy.withdrawn",
        Some(&id.to_string()),
        json!({ "purpose": current.purpose }),
    )
    .await?;
    // Without the consent (another given since may still hold), nothing more is derived
    // and what was derived goes.
    if current.purpose == crate::preferences::ENGAGEMENT
        && !crate::preferences::engaged(scope, current.person_id).await?
    {
        crate::preferences::forget_derived(scope, current.person_id).await?;
    }
    Ok(PrivacyConsent {
        withdrawn_at: Some(now),
        withdrawn_by: Some(by.to_owned()),
        ..current.into()
    })
}

/// Every consent, given and withdrawn, of `persons` in the scope's body, newest first.
pub async fn history(scope: &Scope, persons: &[Uuid]) -> Result<Vec<PrivacyConsent>> {
    Ok(scope
        .find::<privacy_consent::Entity>()
        .filter(privacy_consent::Column::PersonId.is_in(persons.iter().copied()))
        .order_by_desc(privacy_consent::Column::Id)
        .all(scope.conn())
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
}

/// Whether `persons` has an active consent for `purpose` in the scope's body.
pub async fn is_given(scope: &Scope, persons: &[Uuid], purpose: &str) -> Result<bool> {
    Ok(given(scope, persons, purpose).await?.is_some())
}

/// The consent for `purpose` that one of `persons` gave the scope's body and has not
/// withdrawn.
pub async fn given(
    scope: &Scope,
    persons: &[Uuid],
    purpose: &str,
) -> Result<Option<PrivacyConsent>> {
    Ok(history(scope, persons)
        .await?
        .into_iter()
        .find(|c| c.purpose == purpose && c.withdrawn_at.is_none()))
}

/// A consent by id among the person's own, whichever body holds it.
pub async fn find_for_person(scope: &PersonScope, id: Uuid) -> Result<Option<PrivacyConsent>> {
    Ok(scope
        .find::<privacy_consent::Entity>()
        .filter(privacy_consent::Column::Id.eq(id))
        .one(scope.conn())
        .await?
        .map(Into::into))
}

/// Every consent a person gave any body.
pub async fn all_for_person(scope: &PersonScope) -> Result<Vec<PrivacyConsent>> {
    Ok(scope
        .find::<privacy_consent::Entity>()
        .order_by_desc(privacy_consent::Column::Id)
        .all(scope.conn())
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
}
