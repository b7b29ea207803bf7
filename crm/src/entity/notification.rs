use sea_orm::entity::prelude::*;

/// Something a body told a citizen (a status change of their case), until they read it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notifications")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub person_id: Uuid,
    /// `case.created`, `case.status_changed`, `case.reopened`, `case.synced`, `case.assigned`.
    pub kind: String,
    pub case_id: Option<Uuid>,
    pub case_number: Option<String>,
    pub status: Option<String>,
    pub created_at: DateTimeUtc,
    pub read_at: Option<DateTimeUtc>,
    /// What an operator wrote to the citizen (`case.message`).
    pub message: Option<String>,
    /// When the citizen archived it (out of the inbox, kept).
    pub archived_at: Option<DateTimeUtc>,
    /// The survey a `survey.invitation` asks the citizen to answer.
    pub invitation_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

super::owned_by!(tenant);
super::owned_by!(person);
