use sea_orm::entity::prelude::*;

/// What one body erased for one erasure request, and what it kept and until when.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "erasure_steps")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub request_id: Uuid,
    pub person_id: Uuid,
    pub done_at: DateTimeUtc,
    /// How many records of each kind were erased (`{"contacts": 2, …}`).
    #[sea_orm(column_type = "JsonBinary")]
    pub erased: Json,
    /// The cases kept under a retention duty: `[{"case", "service", "until", "years"}]`.
    #[sea_orm(column_type = "JsonBinary")]
    pub kept: Json,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

super::owned_by!(tenant);
super::owned_by!(person);
