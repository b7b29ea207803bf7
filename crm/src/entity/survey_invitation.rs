use sea_orm::entity::prelude::*;

/// A citizen asked to answer a questionnaire on an occasion, and whether they did.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "survey_invitations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub questionnaire_id: Uuid,
    pub person_id: Uuid,
    /// `case:<id>`, `initiative:<id>`, or `""` for a questionnaire answered on its own.
    pub occasion: String,
    pub case_id: Option<Uuid>,
    pub initiative_id: Option<Uuid>,
    pub service_id: Option<Uuid>,
    pub channel: String,
    pub created_at: DateTimeUtc,
    pub answered_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

super::owned_by!(tenant);
super::owned_by!(person);
