//! Per-request DataLoaders: created for each request, never shared across tenants.

use std::collections::HashMap;

use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{Context, ID, SimpleObject};
use civitas_crm::ids::CaseId;
use civitas_tenants::{Db, TenantId};

use crate::error::{ApiError, ApiResult};

/// A body, as a label on records that come from it.
#[derive(SimpleObject, Clone, Debug)]
pub struct TenantRef {
    pub id: ID,
    pub slug: String,
    pub display_name: String,
}

/// Batches the labels of every record in a response into one query.
pub struct TenantLoader {
    db: Db,
}

impl Loader<TenantId> for TenantLoader {
    type Value = TenantRef;
    type Error = ApiError;

    async fn load(&self, keys: &[TenantId]) -> Result<HashMap<TenantId, TenantRef>, ApiError> {
        let rows = civitas_tenants::registry::cached_by_ids(&self.db, keys).await?;
        Ok(rows.into_iter().map(|t| (t.id, t.into())).collect())
    }
}

impl From<civitas_tenants::Tenant> for TenantRef {
    fn from(t: civitas_tenants::Tenant) -> Self {
        TenantRef {
            id: ID(t.id.to_string()),
            slug: t.slug.to_string(),
            display_name: t.display_name,
        }
    }
}

pub fn tenant_loader(db: &Db) -> DataLoader<TenantLoader> {
    DataLoader::new(TenantLoader { db: db.clone() }, tokio::spawn)
}

/// The label of a body: from the access cache when it holds the body, else through the
/// request's loader, which batches the misses into one query. A loader's batch starts after
/// a timer on another thread; a cache hit needs no batch.
pub async fn tenant_ref(ctx: &Context<'_>, id: TenantId) -> ApiResult<TenantRef> {
    let db = &crate::caller::state(ctx).db;
    if let Some(t) = civitas_tenants::registry::cached_by_id(db, id).await {
        return Ok(t.into());
    }
    let loader = ctx
        .data_opt::<DataLoader<TenantLoader>>()
        .ok_or_else(|| ApiError::internal(&"tenant loader missing from the request"))?;
    loader
        .load_one(id)
        .await?
        .ok_or_else(|| ApiError::internal(&format!("tenant {id} referenced but absent")))
}

/// Batches the histories of the cases in a response into one use-case call, as the
/// request's caller (the loader is created per request, so never shared between callers).
pub struct CaseHistoryLoader {
    app: civitas_crm::app::App,
    caller: civitas_crm::app::Caller,
}

impl Loader<CaseId> for CaseHistoryLoader {
    type Value = Vec<civitas_crm::cases::CaseEvent>;
    type Error = ApiError;

    async fn load(&self, keys: &[CaseId]) -> Result<HashMap<CaseId, Self::Value>, ApiError> {
        // A citizen reads their own cases' histories in every body; staff their body's.
        if self.caller.citizen.is_some() {
            return Ok(civitas_crm::app::me::case_histories(&self.app, &self.caller, keys).await?);
        }
        Ok(civitas_crm::app::cases::histories(&self.app, &self.caller, keys).await?)
    }
}

pub fn case_history_loader(
    app: &civitas_crm::app::App,
    caller: &civitas_crm::app::Caller,
) -> DataLoader<CaseHistoryLoader> {
    DataLoader::new(
        CaseHistoryLoader {
            app: app.clone(),
            caller: caller.clone(),
        },
        tokio::spawn,
    )
}

/// Batches the attachments of every case of a response into one read, in the caller's own
/// scope (their body's, or a citizen's own records).
pub struct AttachmentLoader {
    app: civitas_crm::app::App,
    caller: civitas_crm::app::Caller,
}

impl Loader<civitas_crm::app::attachments::CasePage> for AttachmentLoader {
    type Value = (Vec<civitas_crm::attachments::Attachment>, bool);
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[civitas_crm::app::attachments::CasePage],
    ) -> Result<HashMap<civitas_crm::app::attachments::CasePage, Self::Value>, ApiError> {
        Ok(civitas_crm::app::attachments::lists(&self.app, &self.caller, keys).await?)
    }
}

pub fn attachment_loader(
    app: &civitas_crm::app::App,
    caller: &civitas_crm::app::Caller,
) -> DataLoader<AttachmentLoader> {
    DataLoader::new(
        AttachmentLoader {
            app: app.clone(),
            caller: caller.clone(),
        },
        tokio::spawn,
    )
}
