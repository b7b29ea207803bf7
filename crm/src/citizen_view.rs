//! The citizen view: what the reader's body holds about a person, plus what other bodies
//! hold that an active sharing consent lets it read, each labelled with its owner and the
//! consent. Every cross-body read is written to the access log.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use civitas_tenants::{Error as TenancyError, PersonScope, Scope, Sources, TenantId};
use sea_orm::{ActiveValue::Set, ColumnTrait, QueryFilter, QueryOrder};
use serde::Serialize;
use uuid::Uuid;

use crate::entity::{access_log, profile};
use crate::persons::{self, parse_fiscal_code};
use crate::privacy::{self, PrivacyConsent};
use crate::profiles::{self, Profile};
use crate::sharing::{self, ConsentCache, ConsentScope, SharingConsent, Visibility};
use crate::{Error, Result};

/// A record and where it comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Labelled<T> {
    /// The body that holds the record.
    pub tenant_id: TenantId,
    /// The consent that allowed reading it; `None` for the reader's own body.
    pub consent_id: Option<Uuid>,
    pub record: T,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CitizenView {
    pub person_id: Uuid,
    pub fiscal_code: Option<String>,
    pub profiles: Vec<Labelled<Profile>>,
    /// The reader's body's privacy consents of this person.
    pub privacy_consents: Vec<PrivacyConsent>,
    /// Sharing consents of this person that involve the reader's body.
    pub sharing_consents: Vec<SharingConsent>,
}

/// How the operator names the citizen.
#[derive(Clone, Debug)]
pub enum Lookup {
    FiscalCode(String),
    Person(Uuid),
}

/// Builds the view for the scope's body. A person of whom the body can see nothing is
/// NOT_FOUND, exactly like a person who does not exist.
pub async fn view(
    scope: &Scope,
    reader: &str,
    cache: &ConsentCache,
    now: DateTime<Utc>,
    lookup: Lookup,
) -> Result<CitizenView> {
    let not_found = || Error::Tenancy(TenancyError::NotFound("citizen"));
    let person = match lookup {
        Lookup::FiscalCode(raw) => {
            persons::find_by_fiscal_code(scope.conn(), &parse_fiscal_code(&raw)?).await?
        }
        Lookup::Person(id) => persons::root(scope.conn(), id).await?,
    }
    .ok_or_else(not_found)?;
    let family = persons::family(scope.conn(), person.id).await?;
    let own = scope.tenant_id();

    let consents = cache.for_grantee(scope.conn(), own, &family).await?;
    let covering: Vec<&SharingConsent> = consents
        .iter()
        .filter(|c| c.is_active(now) && c.scopes.contains(&ConsentScope::Profile))
        .collect();
    let sources = if covering.iter().any(|c| c.source_tenant_id.is_none()) {
        Sources::Any
    } else {
        Sources::Only(covering.iter().filter_map(|c| c.source_tenant_id).collect())
    };
    let rows: Vec<profile::Model> = scope
        .find_shared::<profile::Entity>(&family, &sources)
        .filter(profile::Column::MergedInto.is_null())
        .order_by_asc(profile::Column::CreatedAt)
        .all(scope.conn())
        .await?;
    // Decide, row by row, which consent allows a foreign record; a row no consent covers
    // is dropped (on PostgreSQL the policy has already kept it out).
    let mut labelled = Vec::new();
    let mut allowed_rows = Vec::new();
    for row in rows {
        let tenant = TenantId(row.tenant_id);
        let consent = if tenant == own {
            None
        } else {
            match covering
                .iter()
                .find(|c| c.covers(tenant, ConsentScope::Profile, now))
            {
                Some(c) => Some(c.id),
                None => continue,
            }
        };
        labelled.push((tenant, consent));
        allowed_rows.push(row);
    }
    if allowed_rows.is_empty() {
        return Err(not_found());
    }
    let views = profiles::views(scope.conn(), allowed_rows).await?;

    let mut logged = BTreeSet::new();
    for (tenant, consent) in &labelled {
        if let Some(consent_id) = consent
            && logged.insert((tenant.0, *consent_id))
        {
            let purpose = covering
                .iter()
                .find(|c| c.id == *consent_id)
                .map(|c| c.purpose.clone())
                .unwrap_or_default();
            let row = access_log::ActiveModel {
                id: Set(Uuid::now_v7()),
                occurred_at: Set(now),
                person_id: Set(person.id),
                reader: Set(reader.to_owned()),
                source_tenant_id: Set(tenant.0),
                scopes: Set(ConsentScope::Profile.as_str().to_owned()),
                consent_id: Set(*consent_id),
                purpose: Set(purpose),
                ..Default::default()
            };
            scope.insert(row).await?;
        }
    }

    Ok(CitizenView {
        person_id: person.id,
        fiscal_code: person.fiscal_code,
        profiles: labelled
            .into_iter()
            .zip(views)
            .map(|((tenant_id, consent_id), record)| Labelled {
                tenant_id,
                consent_id,
                record,
            })
            .collect(),
        privacy_consents: privacy::history(scope, &family).await?,
        sharing_consents: sharing::list(scope.conn(), &family, Visibility::Tenant(own)).await?,
    })
}

/// One cross-body read, as the citizen and the reading body's administrators see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AccessEntry {
    pub id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub reader_tenant_id: TenantId,
    pub reader: String,
    pub person_id: Uuid,
    pub source_tenant_id: TenantId,
    pub scopes: Vec<String>,
    pub consent_id: Uuid,
    pub purpose: String,
}

impl From<access_log::Model> for AccessEntry {
    fn from(m: access_log::Model) -> Self {
        AccessEntry {
            id: m.id,
            occurred_at: m.occurred_at,
            reader_tenant_id: TenantId(m.tenant_id),
            reader: m.reader,
            person_id: m.person_id,
            source_tenant_id: TenantId(m.source_tenant_id),
            scopes: m.scopes.split(',').map(str::to_owned).collect(),
            consent_id: m.consent_id,
            purpose: m.purpose,
        }
    }
}

/// Every cross-body read about the scope's person, newest first.
pub async fn access_log_of_person(scope: &PersonScope) -> Result<Vec<AccessEntry>> {
    Ok(scope
        .find::<access_log::Entity>()
        .order_by_desc(access_log::Column::Id)
        .all(scope.conn())
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
}

/// The cross-body reads the scope's body made, newest first.
pub async fn access_log_of_tenant(scope: &Scope, limit: u64) -> Result<Vec<AccessEntry>> {
    use sea_orm::QuerySelect;
    Ok(scope
        .find::<access_log::Entity>()
        .order_by_desc(access_log::Column::Id)
        .limit(limit)
        .all(scope.conn())
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
}

/// The person (root record and family) named by `lookup`, if the scope's body has a profile
/// of them: operators act only for citizens their body knows.
pub async fn registered_person(scope: &Scope, lookup: Lookup) -> Result<(Uuid, Vec<Uuid>)> {
    let not_found = || Error::Tenancy(TenancyError::NotFound("citizen"));
    let person = match lookup {
        Lookup::FiscalCode(raw) => {
            persons::find_by_fiscal_code(scope.conn(), &parse_fiscal_code(&raw)?).await?
        }
        Lookup::Person(id) => persons::root(scope.conn(), id).await?,
    }
    .ok_or_else(not_found)?;
    let family = persons::family(scope.conn(), person.id).await?;
    let known = scope
        .find::<profile::Entity>()
        .filter(profile::Column::PersonId.is_in(family.iter().copied()))
        .one(scope.conn())
        .await?
        .is_some();
    if known {
        Ok((person.id, family))
    } else {
        Err(not_found())
    }
}
