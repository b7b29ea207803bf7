//! Notifications leave the platform: one delivery per notification and channel (today
//! e-mail), written in the transaction of the notification (an outbox), sent by a worker
//! that records every attempt; the citizen's choice of which body may use which channel;
//! and a notification may carry an operator's message to the citizen.

use sea_orm_migration::{prelude::*, schema::*};

use crate::rls;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone)]
enum NotificationDeliveries {
    Table,
    TenantId,
    Id,
    NotificationId,
    PersonId,
    Channel,
    Address,
    Status,
    Attempts,
    NextAttemptAt,
    LastError,
    SentAt,
    CreatedAt,
}

#[derive(DeriveIden, Clone)]
enum NotificationAttempts {
    Table,
    TenantId,
    Id,
    DeliveryId,
    AttemptedAt,
    Ok,
    Error,
}

#[derive(DeriveIden, Clone)]
enum Notifications {
    Table,
    Message,
}

#[derive(DeriveIden, Clone)]
enum ChannelChoices {
    Table,
    TenantId,
    PersonId,
    Channel,
    Allowed,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Notifications::Table)
                .add_column(text_null(Notifications::Message))
                .to_owned(),
        )
        .await?;
        use NotificationDeliveries as D;
        m.create_table(
            Table::create()
                .table(D::Table)
                .col(uuid(D::TenantId))
                .col(uuid(D::Id))
                .col(uuid(D::NotificationId))
                .col(uuid(D::PersonId))
                .col(text(D::Channel))
                .col(text(D::Address))
                .col(text(D::Status))
                .col(integer(D::Attempts).default(0))
                .col(timestamp_with_time_zone(D::NextAttemptAt))
                .col(text_null(D::LastError))
                .col(timestamp_with_time_zone_null(D::SentAt))
                .col(timestamp_with_time_zone(D::CreatedAt))
                .primary_key(Index::create().col(D::TenantId).col(D::Id))
                .to_owned(),
        )
        .await?;
        rls::index(
            m,
            "ix_notification_deliveries_due",
            D::Table,
            &["tenant_id", "status", "next_attempt_at"],
            false,
        )
        .await?;
        rls::index(
            m,
            "ix_notification_deliveries_notification",
            D::Table,
            &["tenant_id", "notification_id"],
            false,
        )
        .await?;
        rls::protect_person_table(m, "notification_deliveries", "SELECT, INSERT, UPDATE").await?;

        use NotificationAttempts as A;
        m.create_table(
            Table::create()
                .table(A::Table)
                .col(uuid(A::TenantId))
                .col(uuid(A::Id))
                .col(uuid(A::DeliveryId))
                .col(timestamp_with_time_zone(A::AttemptedAt))
                .col(boolean(A::Ok))
                .col(text_null(A::Error))
                .primary_key(Index::create().col(A::TenantId).col(A::Id))
                .to_owned(),
        )
        .await?;
        rls::index(
            m,
            "ix_notification_attempts_delivery",
            A::Table,
            &["tenant_id", "delivery_id"],
            false,
        )
        .await?;
        rls::protect_tenant_table(m, "notification_attempts", "SELECT, INSERT").await?;

        use ChannelChoices as C;
        m.create_table(
            Table::create()
                .table(C::Table)
                .col(uuid(C::TenantId))
                .col(uuid(C::PersonId))
                .col(text(C::Channel))
                .col(boolean(C::Allowed))
                .col(timestamp_with_time_zone(C::UpdatedAt))
                .primary_key(
                    Index::create()
                        .col(C::TenantId)
                        .col(C::PersonId)
                        .col(C::Channel),
                )
                .to_owned(),
        )
        .await?;
        rls::protect_person_table(m, "channel_choices", "SELECT, INSERT, UPDATE").await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "channel_choices",
            "notification_attempts",
            "notification_deliveries",
        ] {
            m.drop_table(Table::drop().table(Alias::new(t)).to_owned())
                .await?;
        }
        m.alter_table(
            Table::alter()
                .table(Notifications::Table)
                .drop_column(Notifications::Message)
                .to_owned(),
        )
        .await
    }
}
