//! A citizen's quiet hours per body: notifications that would reach them on a phone or by
//! e-mail between these minutes of the day (the body's time zone) wait until the end.

use sea_orm_migration::{prelude::*, schema::*};

use crate::rls;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone)]
enum QuietHours {
    Table,
    TenantId,
    PersonId,
    StartMinute,
    EndMinute,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use QuietHours as Q;
        m.create_table(
            Table::create()
                .table(Q::Table)
                .col(uuid(Q::TenantId))
                .col(uuid(Q::PersonId))
                .col(integer(Q::StartMinute))
                .col(integer(Q::EndMinute))
                .col(timestamp_with_time_zone(Q::UpdatedAt))
                .primary_key(Index::create().col(Q::TenantId).col(Q::PersonId))
                .to_owned(),
        )
        .await?;
        rls::protect_person_table(m, "quiet_hours", "SELECT, INSERT, UPDATE, DELETE").await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(QuietHours::Table).to_owned())
            .await
    }
}
