use sea_orm::entity::prelude::*;

/// A sharing consent an operator collected that waits for the citizen's confirmation.
/// Belongs to the person and its parties, as a consent does.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "consent_requests")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub person_id: Uuid,
    pub source_tenant_id: Option<Uuid>,
    pub grantee_tenant_id: Uuid,
    /// Comma-separated scope names.
    pub scopes: String,
    pub purpose: String,
    pub expires_at: Option<DateTimeUtc>,
    pub channel: String,
    pub collected_by: String,
    pub collected_by_issuer: String,
    pub collected_in_tenant_id: Uuid,
    pub requested_at: DateTimeUtc,
    /// `pending`, `confirmed` or `declined`.
    pub status: String,
    pub decided_at: Option<DateTimeUtc>,
    /// The consent a confirmation created.
    pub consent_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

super::owned_by!(person);
