//! The service catalogue: what a body offers citizens, grouped by thematic area.

use sea_orm_migration::{prelude::*, schema::*};

use crate::rls;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Services {
    Table,
    TenantId,
    Id,
    Code,
    Name,
    Area,
    Description,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Services::Table)
                .col(uuid(Services::TenantId))
                .col(uuid(Services::Id))
                .col(text(Services::Code))
                .col(text(Services::Name))
                .col(text(Services::Area))
                .col(text(Services::Description).default(""))
                .col(timestamp_with_time_zone(Services::CreatedAt))
                .primary_key(Index::create().col(Services::TenantId).col(Services::Id))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_services_tenant")
                        .from(Services::Table, Services::TenantId)
                        .to(Tenants::Table, Tenants::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_services_code")
                .table(Services::Table)
                .col(Services::TenantId)
                .col(Services::Code)
                .unique()
                .to_owned(),
        )
        .await?;
        rls::protect_tenant_table(m, "services", "SELECT, INSERT, UPDATE, DELETE").await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Services::Table).to_owned())
            .await
    }
}
