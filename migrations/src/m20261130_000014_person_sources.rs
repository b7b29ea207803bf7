//! The reference a body's legacy system knows a citizen by, so that it can push a citizen
//! again and again (as it pushes cases) and Civitas updates the same record. One row per
//! (body, source, reference), pointing at the body's profile.

use sea_orm_migration::{prelude::*, schema::*};

use crate::rls;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone)]
enum PersonSources {
    Table,
    TenantId,
    Source,
    ExternalRef,
    ProfileId,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(PersonSources::Table)
                .col(uuid(PersonSources::TenantId))
                .col(text(PersonSources::Source))
                .col(text(PersonSources::ExternalRef))
                .col(uuid(PersonSources::ProfileId))
                .col(timestamp_with_time_zone(PersonSources::UpdatedAt))
                .primary_key(
                    Index::create()
                        .col(PersonSources::TenantId)
                        .col(PersonSources::Source)
                        .col(PersonSources::ExternalRef),
                )
                .to_owned(),
        )
        .await?;
        rls::index(
            m,
            "ix_person_sources_profile",
            PersonSources::Table,
            &["tenant_id", "profile_id"],
            false,
        )
        .await?;
        rls::protect_tenant_table(m, "person_sources", "SELECT, INSERT, UPDATE").await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(PersonSources::Table).to_owned())
            .await
    }
}
