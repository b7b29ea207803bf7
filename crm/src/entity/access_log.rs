use sea_orm::entity::prelude::*;

/// One read of a citizen's records: who, from which body (`tenant_id`), about whom, of
/// which body's data, for which declared purpose, and what allowed it: a consent
/// (`basis` "consent", `consent_id`) or a legal basis (`basis` "legal_basis", named in
/// `legal_basis`). Append-only.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "access_log")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub occurred_at: DateTimeUtc,
    pub person_id: Uuid,
    pub reader: String,
    pub source_tenant_id: Uuid,
    pub scopes: String,
    pub consent_id: Option<Uuid>,
    pub purpose: String,
    pub basis: String,
    pub action: String,
    pub case_id: Option<Uuid>,
    pub legal_basis: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

super::owned_by!(tenant);
super::owned_by!(person);
