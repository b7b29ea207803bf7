use sea_orm::entity::prelude::*;

/// One body's record of a person.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
#[sea_orm(table_name = "profiles")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub person_id: Uuid,
    pub given_name: String,
    pub family_name: String,
    pub search_name: String,
    pub preferred_channel: Option<String>,
    pub language: Option<String>,
    pub notes: String,
    pub merged_into: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Set while the citizen restricts the body's handling of their records (art. 18):
    /// the profile and the person's cases are then hidden from the body's staff.
    pub restricted_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

super::owned_by!(tenant);
super::owned_by!(person);
