use sea_orm::entity::prelude::*;

/// How long a body keeps the cases of a service after they close, once their citizen has
/// asked for erasure. `service_code` empty: the body's default for every other service.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "retention_rules")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub service_code: String,
    pub keep_years: i32,
    /// The legal minimum: `keep_years` may not go below it.
    pub minimum_years: i32,
    pub updated_by: String,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

super::owned_by!(tenant);
