//! Service sheets: what a service is, who it is for, how to apply, what is needed, what one
//! gets, times, costs and contacts, written by a body's editors per service code and
//! language, as a draft and (once published) a published copy. A child body's sheet of the
//! same code falls back, section by section, on its ancestors' published ones.
//!
//! On PostgreSQL the public read (`app.public`, migration 16) sees published sheets of every
//! body, and no draft.

use sea_orm_migration::{prelude::*, schema::*};

use crate::rls;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone)]
enum ServiceSheets {
    Table,
    TenantId,
    Id,
    ServiceCode,
    Language,
    State,
    Sections,
    UpdatedBy,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use ServiceSheets as S;
        m.create_table(
            Table::create()
                .table(S::Table)
                .col(uuid(S::TenantId))
                .col(uuid(S::Id))
                .col(text(S::ServiceCode))
                .col(text(S::Language))
                .col(text(S::State))
                .col(json_binary(S::Sections))
                .col(text(S::UpdatedBy))
                .col(timestamp_with_time_zone(S::UpdatedAt))
                .primary_key(Index::create().col(S::TenantId).col(S::Id))
                .to_owned(),
        )
        .await?;
        rls::index(
            m,
            "ux_service_sheets_code",
            S::Table,
            &["tenant_id", "service_code", "language", "state"],
            true,
        )
        .await?;
        rls::protect_tenant_table(m, "service_sheets", "SELECT, INSERT, UPDATE, DELETE").await?;
        rls::on_postgres(
            m,
            "CREATE POLICY public_read ON service_sheets FOR SELECT \
             USING (current_setting('app.public', true) = 'on' AND state = 'published')",
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ServiceSheets::Table).to_owned())
            .await
    }
}
