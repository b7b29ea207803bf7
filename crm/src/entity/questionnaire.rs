use sea_orm::entity::prelude::*;

/// A body's questionnaire; its questions are in its versions.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "questionnaires")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub title: String,
    /// Answers keep no person, no case and only the day.
    pub anonymous: bool,
    /// A satisfaction survey: sent when a case of this service is resolved.
    pub service_id: Option<Uuid>,
    /// Sent to the initiative's participants once it ends.
    pub initiative_id: Option<Uuid>,
    /// The published version answered now; 0 before the first is published.
    pub current_version: i32,
    pub retired_at: Option<DateTimeUtc>,
    pub created_by: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

super::owned_by!(tenant);
