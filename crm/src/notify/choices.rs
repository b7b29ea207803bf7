//! Which body may reach a citizen on which channel: the citizen's choice, per body. No
//! choice recorded means allowed; an unsubscribe link records "not allowed".

use chrono::{DateTime, Utc};
use civitas_tenants::Scope;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::Result;
use crate::channels::Channel;
use crate::entity::channel_choice;

/// Records whether the scope's body may reach `person` on `channel`.
pub async fn set(
    scope: &Scope,
    person: Uuid,
    channel: Channel,
    allowed: bool,
    now: DateTime<Utc>,
) -> Result<()> {
    let row = channel_choice::ActiveModel {
        tenant_id: Set(scope.tenant_id().0),
        person_id: Set(person),
        channel: Set(channel.to_string()),
        allowed: Set(allowed),
        updated_at: Set(now),
    };
    channel_choice::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([
                channel_choice::Column::TenantId,
                channel_choice::Column::PersonId,
                channel_choice::Column::Channel,
            ])
            .update_columns([
                channel_choice::Column::Allowed,
                channel_choice::Column::UpdatedAt,
            ])
            .to_owned(),
        )
        .exec_without_returning(scope.conn())
        .await?;
    Ok(())
}

/// The channels the scope's body may not use for `person`.
pub async fn refused(scope: &Scope, person: Uuid) -> Result<Vec<Channel>> {
    Ok(scope
        .find::<channel_choice::Entity>()
        .filter(channel_choice::Column::PersonId.eq(person))
        .filter(channel_choice::Column::Allowed.eq(false))
        .all(scope.conn())
        .await?
        .into_iter()
        .filter_map(|c| c.channel.parse().ok())
        .collect())
}

/// Every choice the scope's person made, at every body (the citizen's own view), by body
/// and channel.
pub async fn of_person(scope: &civitas_tenants::PersonScope) -> Result<Vec<channel_choice::Model>> {
    use sea_orm::QueryOrder;
    Ok(scope
        .find::<channel_choice::Entity>()
        .order_by_asc(channel_choice::Column::TenantId)
        .order_by_asc(channel_choice::Column::Channel)
        .all(scope.conn())
        .await?)
}
