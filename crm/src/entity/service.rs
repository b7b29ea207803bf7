use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "services")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub area: String,
    pub description: String,
    pub created_at: DateTimeUtc,
    /// Comma-separated channels the service accepts; empty: every channel.
    pub channels: String,
    pub sla_hours: i32,
    /// The service's custom field definitions (see `catalogue::FieldDef`).
    #[sea_orm(column_type = "JsonBinary")]
    pub custom_fields: Json,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

super::owned_by!(tenant);
