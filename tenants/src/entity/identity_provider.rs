use sea_orm::entity::prelude::*;

/// A body's registration of an OpenID provider. Global (see the migration), changed only
/// by the owning body's administrators.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "identity_providers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub owner_tenant_id: Uuid,
    pub issuer: String,
    /// Comma-separated.
    pub audiences: String,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub fiscal_number_claim: String,
    pub roles_claim: String,
    /// Comma-separated client ids that are this body's integrators.
    pub service_clients: String,
    /// Set by a platform administrator: its tokens may assert a citizen's fiscal code.
    pub citizen_identities: bool,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
