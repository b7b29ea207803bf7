//! A citizen's inbox: one row per thing a body tells them (today: their cases' status
//! changes), kept by the body, read and marked read by the citizen across every body.
//! Rows store what happened (kind, case, status), not words: the words are chosen when the
//! citizen reads, in their language.

use sea_orm_migration::{prelude::*, schema::*};

use crate::rls;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone)]
enum Notifications {
    Table,
    TenantId,
    Id,
    PersonId,
    Kind,
    CaseId,
    CaseNumber,
    Status,
    CreatedAt,
    ReadAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Notifications::Table)
                .col(uuid(Notifications::TenantId))
                .col(uuid(Notifications::Id))
                .col(uuid(Notifications::PersonId))
                .col(text(Notifications::Kind))
                .col(uuid_null(Notifications::CaseId))
                .col(text_null(Notifications::CaseNumber))
                .col(text_null(Notifications::Status))
                .col(timestamp_with_time_zone(Notifications::CreatedAt))
                .col(timestamp_with_time_zone_null(Notifications::ReadAt))
                .primary_key(
                    Index::create()
                        .col(Notifications::TenantId)
                        .col(Notifications::Id),
                )
                .to_owned(),
        )
        .await?;
        rls::index(
            m,
            "ix_notifications_person",
            Notifications::Table,
            &["person_id", "id"],
            false,
        )
        .await?;
        rls::protect_person_table(m, "notifications", "SELECT, INSERT, UPDATE").await?;
        // The citizen marks their own notifications read, from their own scope.
        rls::on_postgres(
            m,
            "CREATE POLICY person_update ON notifications FOR UPDATE \
             USING (civitas_is_current_person(person_id)) \
             WITH CHECK (civitas_is_current_person(person_id))",
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Notifications::Table).to_owned())
            .await
    }
}
