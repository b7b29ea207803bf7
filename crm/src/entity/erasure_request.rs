use sea_orm::entity::prelude::*;

/// A citizen's request to erase what every body holds about them. Belongs to the person,
/// not to a tenant; on PostgreSQL the citizen and the bodies that know them see it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "erasure_requests")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub person_id: Uuid,
    pub requested_at: DateTimeUtc,
    /// `citizen`, or the operator who recorded it (`issuer|subject`).
    pub requested_by: String,
    pub channel: String,
    /// The body whose operator recorded it; `None`: the citizen asked themselves.
    pub recorded_in_tenant_id: Option<Uuid>,
    /// When the person's codice fiscale was dropped (no body held anything of them).
    pub forgotten_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

super::owned_by!(person);
