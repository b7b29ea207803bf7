use sea_orm::entity::prelude::*;

/// One notification on its way to a citizen on one channel (the outbox row).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notification_deliveries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub notification_id: Uuid,
    pub person_id: Uuid,
    /// `email` (and, later, `sms`, `whatsapp`, `app`).
    pub channel: String,
    /// Where it goes: an e-mail address, a phone number.
    pub address: String,
    /// `pending`, `sent`, `failed` (given up) or `skipped` (nowhere to send it).
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    pub last_error: Option<String>,
    pub sent_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

super::owned_by!(tenant);
super::owned_by!(person);
