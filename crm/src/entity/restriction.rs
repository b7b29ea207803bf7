use sea_orm::entity::prelude::*;

/// A citizen's restriction of (art. 18), or objection to (art. 21), one body's processing
/// of their records for one purpose; in force until lifted.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "restrictions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub person_id: Uuid,
    /// `case_handling`, `notifications` or `engagement`.
    pub purpose: String,
    /// `restriction` or `objection`.
    pub kind: String,
    pub reason: String,
    pub requested_at: DateTimeUtc,
    pub requested_by: String,
    pub lifted_at: Option<DateTimeUtc>,
    pub lifted_by: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

super::owned_by!(tenant);
super::owned_by!(person);
