use sea_orm::entity::prelude::*;

/// A person's consent that a grantee body may read what a source body (or every body,
/// when `source_tenant_id` is null) holds about them, for some scopes. Belongs to the person,
/// not to a tenant; on PostgreSQL only its parties can see it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
#[sea_orm(table_name = "sharing_consents")]
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
    pub collector_kind: String,
    pub collected_in_tenant_id: Option<Uuid>,
    pub granted_at: DateTimeUtc,
    pub revoked_at: Option<DateTimeUtc>,
    pub revoked_by: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

super::owned_by!(person);
