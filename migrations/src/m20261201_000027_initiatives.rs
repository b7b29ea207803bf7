//! Engagement, first part: a body's initiatives (events, meetings, courses, consultations)
//! and citizens' participation in them, with a waiting list.
//!
//! - `initiatives`: what, where, when, how many seats, the registration window, status
//!   (draft, published, closed, cancelled) and visibility (the body's own citizens, or
//!   everyone). `confirmed` and `waiting` count the seats taken and the queue: a
//!   registration takes a seat with one conditional `UPDATE … WHERE confirmed < capacity`,
//!   so concurrent registrations never overbook on either backend.
//! - `participations`: one per citizen and initiative: confirmed, waiting (with its place
//!   in the queue), cancelled or attended; who registered them and on which channel.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261122_000003_citizens::add_rules_to_existing_tenants;
use crate::rls;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone)]
enum Initiatives {
    Table,
    TenantId,
    Id,
    Kind,
    Title,
    Description,
    Area,
    Address,
    Latitude,
    Longitude,
    OnlineUrl,
    StartsAt,
    EndsAt,
    Capacity,
    WaitingList,
    RegistrationOpensAt,
    RegistrationClosesAt,
    Status,
    Visibility,
    Confirmed,
    Waiting,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone)]
enum Participations {
    Table,
    TenantId,
    Id,
    InitiativeId,
    PersonId,
    Status,
    QueuePosition,
    RegisteredBy,
    Channel,
    RegisteredAt,
    ConfirmedAt,
    CancelledAt,
    CheckedInAt,
}

const NEW_GRANTS: &[(&str, &str, &str)] = &[
    ("supervisor", "initiative", "*"),
    ("operator", "initiative", "read"),
    ("tutor", "initiative", "read"),
    ("operator", "participation", "*"),
    ("tutor", "participation", "record"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use Initiatives as I;
        m.create_table(
            Table::create()
                .table(I::Table)
                .col(uuid(I::TenantId))
                .col(uuid(I::Id))
                .col(text(I::Kind))
                .col(text(I::Title))
                .col(text(I::Description))
                .col(text(I::Area))
                .col(text_null(I::Address))
                .col(double_null(I::Latitude))
                .col(double_null(I::Longitude))
                .col(text_null(I::OnlineUrl))
                .col(timestamp_with_time_zone(I::StartsAt))
                .col(timestamp_with_time_zone(I::EndsAt))
                .col(integer_null(I::Capacity))
                .col(boolean(I::WaitingList).default(true))
                .col(timestamp_with_time_zone_null(I::RegistrationOpensAt))
                .col(timestamp_with_time_zone_null(I::RegistrationClosesAt))
                .col(text(I::Status))
                .col(text(I::Visibility))
                .col(integer(I::Confirmed).default(0))
                .col(integer(I::Waiting).default(0))
                .col(text(I::CreatedBy))
                .col(timestamp_with_time_zone(I::CreatedAt))
                .col(timestamp_with_time_zone(I::UpdatedAt))
                .primary_key(Index::create().col(I::TenantId).col(I::Id))
                .to_owned(),
        )
        .await?;
        rls::index(
            m,
            "ix_initiatives_start",
            I::Table,
            &["tenant_id", "status", "starts_at"],
            false,
        )
        .await?;
        rls::protect_tenant_table(m, "initiatives", "SELECT, INSERT, UPDATE").await?;

        use Participations as P;
        m.create_table(
            Table::create()
                .table(P::Table)
                .col(uuid(P::TenantId))
                .col(uuid(P::Id))
                .col(uuid(P::InitiativeId))
                .col(uuid(P::PersonId))
                .col(text(P::Status))
                .col(big_integer_null(P::QueuePosition))
                .col(text(P::RegisteredBy))
                .col(text(P::Channel))
                .col(timestamp_with_time_zone(P::RegisteredAt))
                .col(timestamp_with_time_zone_null(P::ConfirmedAt))
                .col(timestamp_with_time_zone_null(P::CancelledAt))
                .col(timestamp_with_time_zone_null(P::CheckedInAt))
                .primary_key(Index::create().col(P::TenantId).col(P::Id))
                .to_owned(),
        )
        .await?;
        rls::index(
            m,
            "ux_participations_person",
            P::Table,
            &["tenant_id", "initiative_id", "person_id"],
            true,
        )
        .await?;
        rls::index(
            m,
            "ix_participations_queue",
            P::Table,
            &["tenant_id", "initiative_id", "status", "queue_position"],
            false,
        )
        .await?;
        rls::index(
            m,
            "ix_participations_person_any_tenant",
            P::Table,
            &["person_id"],
            false,
        )
        .await?;
        // A citizen reads their own participations in every body, as their cases.
        rls::protect_person_table(m, "participations", "SELECT, INSERT, UPDATE, DELETE").await?;
        add_rules_to_existing_tenants(m, NEW_GRANTS).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection()
            .execute_unprepared(
                "DELETE FROM casbin_rule WHERE ptype = 'p' AND v2 IN ('initiative', 'participation')",
            )
            .await?;
        for t in ["participations", "initiatives"] {
            m.drop_table(Table::drop().table(Alias::new(t)).to_owned())
                .await?;
        }
        Ok(())
    }
}
