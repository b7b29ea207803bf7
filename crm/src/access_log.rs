//! The access log: every read of one body's records by another body, as the citizen and
//! the reading body's administrators see it.

use chrono::{DateTime, Utc};
use civitas_tenants::{PersonScope, Scope, TenantId};
use sea_orm::QueryOrder;
use serde::Serialize;
use uuid::Uuid;

use crate::Result;
use crate::entity::access_log;

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

/// Every cross-body read about the scope's person, newest first (for the export).
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

/// Cross-body reads about the scope's person, newest first: a page, and whether more follow.
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

/// The cross-body reads the scope's body made, newest first: a page, and whether more
/// follow.
pub async fn access_log_of_tenant(
    scope: &Scope,
    first: u64,
    after: Option<Uuid>,
) -> Result<(Vec<AccessEntry>, bool)> {
    page(scope.conn(), scope.find(), first, after).await
}
