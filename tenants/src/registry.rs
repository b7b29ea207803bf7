//! The tenant registry: global rows, one per body.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder,
};

use crate::entity::tenant;
use crate::{Db, Error, Result, Scope, Tenant, TenantId, TenantKind, TenantSlug, TenantStatus};

/// What a platform administrator supplies to create a tenant.
#[derive(Clone, Debug)]
pub struct NewTenant {
    pub slug: TenantSlug,
    pub display_name: String,
    pub kind: TenantKind,
    pub parent: Option<TenantSlug>,
    pub settings: serde_json::Value,
}

impl NewTenant {
    fn validate(&self) -> Result<String> {
        let name = self.display_name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(Error::Validation(
                "displayName must be 1 to 200 characters".into(),
            ));
        }
        if !self.settings.is_object() {
            return Err(Error::Validation("settings must be a JSON object".into()));
        }
        Ok(name.to_owned())
    }
}

pub async fn find_by_slug(db: &Db, slug: &TenantSlug) -> Result<Option<Tenant>> {
    find_by_slug_on(db.global(), slug).await
}

pub async fn find_by_slug_on<C: ConnectionTrait>(
    conn: &C,
    slug: &TenantSlug,
) -> Result<Option<Tenant>> {
    tenant::Entity::find()
        .filter(tenant::Column::Slug.eq(slug.as_str()))
        .one(conn)
        .await?
        .map(Tenant::try_from)
        .transpose()
}

/// [`find_by_slug`] through the access cache: what every request resolves its tenant with.
pub async fn cached_by_slug(db: &Db, slug: &TenantSlug) -> Result<Option<Tenant>> {
    if let Some(t) = db.access().tenant(slug.as_str()).await {
        return Ok(Some(t));
    }
    let found = find_by_slug(db, slug).await?;
    if let Some(t) = &found {
        db.access().remember_tenant(t).await;
    }
    Ok(found)
}

/// The tenant with this id, through the access cache, read from the database on a miss
/// (a replica just started, an entry past its time to live).
pub async fn by_id(db: &Db, id: TenantId) -> Result<Option<Tenant>> {
    Ok(cached_by_ids(db, &[id]).await?.pop())
}

/// The tenant with this id if the access cache holds it; no database read (labels that
/// may be missing).
pub async fn cached_by_id(db: &Db, id: TenantId) -> Option<Tenant> {
    db.access().tenant_by_id(id.0).await
}

/// The tenants with these ids, through the access cache (labels of records in responses).
pub async fn cached_by_ids(db: &Db, ids: &[TenantId]) -> Result<Vec<Tenant>> {
    let mut found = Vec::with_capacity(ids.len());
    let mut missing = Vec::new();
    for id in ids {
        match db.access().tenant_by_id(id.0).await {
            Some(t) => found.push(t),
            None => missing.push(id.0),
        }
    }
    if !missing.is_empty() {
        for model in tenant::Entity::find()
            .filter(tenant::Column::Id.is_in(missing))
            .all(db.global())
            .await?
        {
            let t = Tenant::try_from(model)?;
            db.access().remember_tenant(&t).await;
            found.push(t);
        }
    }
    Ok(found)
}

pub async fn find_by_id(db: &Db, id: TenantId) -> Result<Option<Tenant>> {
    tenant::Entity::find_by_id(id.0)
        .one(db.global())
        .await?
        .map(Tenant::try_from)
        .transpose()
}

pub async fn list(db: &Db) -> Result<Vec<Tenant>> {
    tenant::Entity::find()
        .order_by_asc(tenant::Column::Slug)
        .all(db.global())
        .await?
        .into_iter()
        .map(Tenant::try_from)
        .collect()
}

/// Opens the unit of work of a tenant that does not exist yet and inserts its row in it, so
/// that the caller can add its policies and first administrator and commit all at once.
pub async fn begin_onboarding(db: &Db, new: &NewTenant) -> Result<(Scope, Tenant)> {
    let id = TenantId::new();
    let scope = db.scope_for(id).await?;
    let tenant = insert(scope.conn(), id, new).await?;
    Ok((scope, tenant))
}

async fn insert<C: ConnectionTrait>(conn: &C, id: TenantId, new: &NewTenant) -> Result<Tenant> {
    let display_name = new.validate()?;
    let parent_id = match &new.parent {
        Some(p) => Some(
            find_by_slug_on(conn, p)
                .await?
                .ok_or_else(|| Error::Validation(format!("parent tenant {p} does not exist")))?
                .id
                .0,
        ),
        None => None,
    };
    let now = Utc::now();
    let row = tenant::ActiveModel {
        id: Set(id.0),
        slug: Set(new.slug.to_string()),
        display_name: Set(display_name),
        kind: Set(new.kind.to_string()),
        parent_id: Set(parent_id),
        status: Set(TenantStatus::Active.to_string()),
        settings: Set(new.settings.clone()),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let model = row.insert(conn).await.map_err(|e| {
        Error::conflict_on_unique(e, format!("a tenant with slug {} already exists", new.slug))
    })?;
    Tenant::try_from(model)
}

pub async fn set_status(db: &Db, slug: &TenantSlug, status: TenantStatus) -> Result<Tenant> {
    let existing = find_by_slug(db, slug)
        .await?
        .ok_or(Error::NotFound("tenant"))?;
    let row = tenant::ActiveModel {
        id: Set(existing.id.0),
        status: Set(status.to_string()),
        updated_at: Set(Utc::now()),
        ..Default::default()
    };
    let updated = Tenant::try_from(row.update(db.global()).await?)?;
    db.access().changed(db.global()).await?;
    Ok(updated)
}

/// Replaces a tenant's settings (a JSON object).
pub async fn set_settings(
    scope: &Scope,
    id: TenantId,
    settings: serde_json::Value,
) -> Result<Tenant> {
    if !settings.is_object() {
        return Err(Error::Validation("settings must be a JSON object".into()));
    }
    let row = tenant::ActiveModel {
        id: Set(id.0),
        settings: Set(settings),
        updated_at: Set(Utc::now()),
        ..Default::default()
    };
    let updated = Tenant::try_from(row.update(scope.conn()).await?)?;
    scope.access_changed().await?;
    Ok(updated)
}
