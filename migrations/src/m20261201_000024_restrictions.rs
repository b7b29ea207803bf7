//! Restriction and objection (GDPR arts. 18, 21): a citizen restricts, or objects to, the
//! processing of their records by one body for one purpose. `profiles.restricted_at` marks
//! a profile whose case handling is restricted, so that every view that reads profiles
//! (the citizen view among them) sees the restriction without another query.

use sea_orm_migration::{prelude::*, schema::*};

use crate::rls;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone)]
enum Restrictions {
    Table,
    TenantId,
    Id,
    PersonId,
    Purpose,
    Kind,
    Reason,
    RequestedAt,
    RequestedBy,
    LiftedAt,
    LiftedBy,
}

#[derive(DeriveIden)]
enum Profiles {
    Table,
    RestrictedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use Restrictions as R;
        m.create_table(
            Table::create()
                .table(R::Table)
                .col(uuid(R::TenantId))
                .col(uuid(R::Id))
                .col(uuid(R::PersonId))
                .col(text(R::Purpose))
                .col(text(R::Kind))
                .col(text(R::Reason))
                .col(timestamp_with_time_zone(R::RequestedAt))
                .col(text(R::RequestedBy))
                .col(timestamp_with_time_zone_null(R::LiftedAt))
                .col(text_null(R::LiftedBy))
                .primary_key(Index::create().col(R::TenantId).col(R::Id))
                .to_owned(),
        )
        .await?;
        rls::index(
            m,
            "ix_restrictions_person",
            R::Table,
            &["tenant_id", "person_id", "purpose"],
            false,
        )
        .await?;
        rls::protect_person_table(m, "restrictions", "SELECT, INSERT, UPDATE").await?;
        m.alter_table(
            Table::alter()
                .table(Profiles::Table)
                .add_column(timestamp_with_time_zone_null(Profiles::RestrictedAt))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Profiles::Table)
                .drop_column(Profiles::RestrictedAt)
                .to_owned(),
        )
        .await?;
        m.drop_table(Table::drop().table(Restrictions::Table).to_owned())
            .await
    }
}
