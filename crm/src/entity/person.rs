use sea_orm::entity::prelude::*;

/// Global: one row per human, found by codice fiscale or by an identity of theirs
/// (`person_identities`). `oidc_subject` is no longer written (migration 12).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
#[sea_orm(table_name = "persons")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub fiscal_code: Option<String>,
    pub oidc_subject: Option<String>,
    pub merged_into: Option<Uuid>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
