//! Engagement, third part: citizens' preferences by area and category at each body.
//!
//! `preferences`: one row per person, body, area, category and source. `explicit` rows are
//! the citizen's own choice (interested or not); `participation` and `questionnaire` rows
//! are derived from what they took part in and answered, only while the body holds their
//! `engagement` privacy consent (withdrawing it deletes them). The citizen reads their own
//! in every body, and changes or deletes any of them.

use sea_orm_migration::{prelude::*, schema::*};

use crate::rls;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone)]
enum Preferences {
    Table,
    TenantId,
    Id,
    PersonId,
    Area,
    Category,
    Source,
    Interested,
    OriginId,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use Preferences as P;
        m.create_table(
            Table::create()
                .table(P::Table)
                .col(uuid(P::TenantId))
                .col(uuid(P::Id))
                .col(uuid(P::PersonId))
                .col(text(P::Area))
                .col(text(P::Category))
                .col(text(P::Source))
                .col(boolean(P::Interested))
                .col(uuid_null(P::OriginId))
                .col(timestamp_with_time_zone(P::CreatedAt))
                .col(timestamp_with_time_zone(P::UpdatedAt))
                .primary_key(Index::create().col(P::TenantId).col(P::Id))
                .to_owned(),
        )
        .await?;
        rls::index(
            m,
            "ux_preferences_once",
            P::Table,
            &["tenant_id", "person_id", "area", "category", "source"],
            true,
        )
        .await?;
        rls::index(
            m,
            "ix_preferences_person_any_tenant",
            P::Table,
            &["person_id"],
            false,
        )
        .await?;
        rls::protect_person_table(m, "preferences", "SELECT, INSERT, UPDATE, DELETE").await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Preferences::Table).to_owned())
            .await
    }
}
