use sea_orm::entity::prelude::*;

/// One citizen's answers to one version of a questionnaire.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "survey_answers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub questionnaire_id: Uuid,
    pub version_id: Uuid,
    pub version: i32,
    /// None when the questionnaire is anonymous.
    pub person_id: Option<Uuid>,
    pub case_id: Option<Uuid>,
    pub initiative_id: Option<Uuid>,
    pub service_id: Option<Uuid>,
    pub channel: String,
    /// Question key → number (scale, NPS), text (single choice, free text, date) or list
    /// (multiple choice).
    #[sea_orm(column_type = "JsonBinary")]
    pub answers: Json,
    pub submitted_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

super::owned_by!(tenant);
super::owned_by!(person);
