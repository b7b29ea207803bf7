//! A parent body's routing table: which body takes a category of report that no body under
//! it covering the point, and not the parent itself, offers.

use chrono::{DateTime, Utc};
use civitas_tenants::Scope;
use sea_orm::{ActiveValue::Set, ColumnTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::entity::routing_rule;
use crate::{Error, Result};

pub use routing_rule::Model as RoutingRule;

pub async fn add(
    scope: &Scope,
    service_code: &str,
    target: civitas_tenants::TenantId,
    position: i32,
    by: &str,
    now: DateTime<Utc>,
) -> Result<RoutingRule> {
    let code = service_code.trim();
    if code.is_empty() || code.len() > 40 {
        return Err(Error::Validation(
            "serviceCode must be 1 to 40 characters".into(),
        ));
    }
    if !(0..=10_000).contains(&position) {
        return Err(Error::Validation(
            "position must be between 0 and 10000".into(),
        ));
    }
    let row = routing_rule::ActiveModel {
        id: Set(Uuid::now_v7()),
        service_code: Set(code.to_owned()),
        target_tenant_id: Set(target.0),
        position: Set(position),
        created_by: Set(by.to_owned()),
        created_at: Set(now),
        ..Default::default()
    };
    scope.insert(row).await.map_err(|e| {
        Error::conflict_on_unique(e, format!("a rule already sends {code} to that body"))
    })
}

pub async fn remove(scope: &Scope, id: Uuid) -> Result<RoutingRule> {
    let found = scope
        .find::<routing_rule::Entity>()
        .filter(routing_rule::Column::Id.eq(id))
        .one(scope.conn())
        .await?
        .ok_or(Error::NotFound("routing rule"))?;
    scope
        .delete_many::<routing_rule::Entity>()
        .filter(routing_rule::Column::Id.eq(id))
        .exec(scope.conn())
        .await?;
    Ok(found)
}

/// The body's rules, by category and then in the order they apply.
pub async fn list(scope: &Scope) -> Result<Vec<RoutingRule>> {
    Ok(scope
        .find::<routing_rule::Entity>()
        .order_by_asc(routing_rule::Column::ServiceCode)
        .order_by_asc(routing_rule::Column::Position)
        .order_by_asc(routing_rule::Column::CreatedAt)
        .all(scope.conn())
        .await?)
}
