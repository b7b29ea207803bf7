use sea_orm::entity::prelude::*;

/// One language of a service's sheet at one body, as a draft or as published.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "service_sheets")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub service_code: String,
    /// `it` or `en`.
    pub language: String,
    /// `draft` or `published`.
    pub state: String,
    /// The text of each section (see `sheets::Sections`).
    #[sea_orm(column_type = "JsonBinary")]
    pub sections: Json,
    pub updated_by: String,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

super::owned_by!(tenant);
