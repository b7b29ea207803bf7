//! The access log: every read of a citizen's records by a body's staff (of the body's own
//! records, on a legal basis, and of other bodies' records, under a consent), as the citizen
//! and the reading body's administrators see it.

use chrono::{DateTime, Utc};
use civitas_tenants::{PersonScope, Scope, TenantId};
use sea_orm::{IntoActiveModel, QueryOrder};
use serde::Serialize;
use uuid::Uuid;

use crate::Result;
use crate::entity::access_log;

/// What allowed a read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// A consent of the citizen's (named by the entry).
    Consent,
    /// The law: the body's own records, read for one of its declared purposes.
    LegalBasis,
}

impl Basis {
    pub const fn as_str(self) -> &'static str {
        match self {
            Basis::Consent => "consent",
            Basis::LegalBasis => "legal_basis",
        }
    }

    fn parse(s: &str) -> Self {
        if s == "legal_basis" {
            Basis::LegalBasis
        } else {
            Basis::Consent
        }
    }
}

/// What kind of access an entry records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    CitizenView,
    CallerRecognition,
    /// One case opened by its id, with its history.
    CaseRead,
}

impl Action {
    pub const fn as_str(self) -> &'static str {
        match self {
            Action::CitizenView => "citizen_view",
            Action::CallerRecognition => "caller_recognition",
            Action::CaseRead => "case_read",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "caller_recognition" => Action::CallerRecognition,
            "case_read" => Action::CaseRead,
            _ => Action::CitizenView,
        }
    }
}

/// One read, as the citizen and the reading body's administrators see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AccessEntry {
    pub id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub reader_tenant_id: TenantId,
    pub reader: String,
    pub person_id: Uuid,
    pub source_tenant_id: TenantId,
    pub scopes: Vec<String>,
    pub action: Action,
    /// The purpose the reader declared (or the case they were handling).
    pub purpose: String,
    pub basis: Basis,
    /// For [`Basis::Consent`]: the consent.
    pub consent_id: Option<Uuid>,
    /// For [`Basis::LegalBasis`]: the article or law.
    pub legal_basis: Option<String>,
    /// The case whose handling was the purpose.
    pub case_id: Option<Uuid>,
}

/// Who read, about whom, why: what every entry of one access shares.
#[derive(Clone, Debug)]
pub struct Access<'a> {
    pub reader_tenant: TenantId,
    pub reader: &'a str,
    pub person_id: Uuid,
    pub action: Action,
    pub purpose: &'a str,
    pub case_id: Option<Uuid>,
    pub at: DateTime<Utc>,
}

impl Access<'_> {
    /// The entry for a read of `source`'s records in `scopes`, allowed by `consent` or,
    /// without one, by `legal_basis`.
    pub fn entry(
        &self,
        id: Uuid,
        source: Uuid,
        scopes: &[&str],
        consent: Option<Uuid>,
        legal_basis: Option<&str>,
    ) -> access_log::Model {
        access_log::Model {
            tenant_id: self.reader_tenant.0,
            id,
            occurred_at: self.at,
            person_id: self.person_id,
            reader: self.reader.to_owned(),
            source_tenant_id: source,
            scopes: scopes.join(","),
            consent_id: consent,
            purpose: self.purpose.to_owned(),
            basis: if consent.is_some() {
                Basis::Consent
            } else {
                Basis::LegalBasis
            }
            .as_str()
            .to_owned(),
            action: self.action.as_str().to_owned(),
            case_id: self.case_id,
            legal_basis: if consent.is_some() {
                None
            } else {
                legal_basis.map(str::to_owned)
            },
        }
    }
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
            action: Action::parse(&m.action),
            purpose: m.purpose,
            basis: Basis::parse(&m.basis),
            consent_id: m.consent_id,
            legal_basis: m.legal_basis,
            case_id: m.case_id,
        }
    }
}

/// Puts on record that `reader` opened case `case` (number `number`) of `person` at the
/// scope's body, for the case's own purpose.
pub async fn record_case_read(
    scope: &Scope,
    reader: &str,
    person: Uuid,
    case: Uuid,
    number: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let declared = crate::access_purposes::for_case(scope, number).await?;
    let access = Access {
        reader_tenant: scope.tenant_id(),
        reader,
        person_id: person,
        action: Action::CaseRead,
        purpose: &declared.label,
        case_id: Some(case),
        at: now,
    };
    let own = scope.tenant_id().0;
    let entry = access.entry(
        Uuid::now_v7(),
        own,
        &["cases"],
        None,
        Some(&declared.legal_basis),
    );
    scope.insert(entry.into_active_model()).await?;
    Ok(())
}

/// Every read about the scope's person, newest first (for the export).
pub async fn every_access_to_person(scope: &PersonScope) -> Result<Vec<AccessEntry>> {
    Ok(scope
        .find::<access_log::Entity>()
        .order_by_desc(access_log::Column::Id)
        .all(scope.conn())
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
}

/// Which reads a citizen wants to see: by the reading body, and in a period.
#[derive(Clone, Copy, Debug, Default)]
pub struct AccessFilter {
    pub reader: Option<TenantId>,
    pub from: Option<DateTime<Utc>>,
    /// Exclusive.
    pub to: Option<DateTime<Utc>>,
}

/// Reads about the scope's person, newest first: a page, and whether more follow.
pub async fn access_log_of_person(
    scope: &PersonScope,
    filter: AccessFilter,
    first: u64,
    after: Option<Uuid>,
) -> Result<(Vec<AccessEntry>, bool)> {
    use sea_orm::{ColumnTrait, QueryFilter};
    let mut q = scope.find::<access_log::Entity>();
    if let Some(r) = filter.reader {
        q = q.filter(access_log::Column::TenantId.eq(r.0));
    }
    if let Some(f) = filter.from {
        q = q.filter(access_log::Column::OccurredAt.gte(f));
    }
    if let Some(t) = filter.to {
        q = q.filter(access_log::Column::OccurredAt.lt(t));
    }
    page(scope.conn(), q, first, after).await
}

async fn page<C: sea_orm::ConnectionTrait>(
    conn: &C,
    q: sea_orm::Select<access_log::Entity>,
    first: u64,
    after: Option<Uuid>,
) -> Result<(Vec<AccessEntry>, bool)> {
    let (rows, more) =
        crate::paging::newest_first(conn, q, access_log::Column::Id, first, after).await?;
    Ok((rows.into_iter().map(Into::into).collect(), more))
}

/// The reads of citizens' records the scope's body made, newest first: a page, and whether more
/// follow.
pub async fn access_log_of_tenant(
    scope: &Scope,
    first: u64,
    after: Option<Uuid>,
) -> Result<(Vec<AccessEntry>, bool)> {
    page(scope.conn(), scope.find(), first, after).await
}
