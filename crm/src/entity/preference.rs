use sea_orm::entity::prelude::*;

/// A citizen's interest in an area (and category) at a body: their own choice, or derived
/// from what they took part in while they allowed it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "preferences")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub person_id: Uuid,
    pub area: String,
    /// `""`: the whole area.
    pub category: String,
    /// `explicit`, `participation` or `questionnaire`.
    pub source: String,
    pub interested: bool,
    /// The initiative a derived preference comes from (the latest).
    pub origin_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

super::owned_by!(tenant);
super::owned_by!(person);
