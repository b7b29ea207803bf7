//! Outbound webhooks with a transactional outbox, and idempotency keys for mutations.

use sea_orm_migration::{prelude::*, schema::*};

use crate::rls;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone)]
enum Webhooks {
    Table,
    TenantId,
    Id,
    Url,
    Secret,
    EventTypes,
    Active,
    CreatedAt,
}

#[derive(DeriveIden, Clone)]
enum Outbox {
    Table,
    TenantId,
    Id,
    EventType,
    Payload,
    CreatedAt,
}

#[derive(DeriveIden, Clone)]
enum WebhookDeliveries {
    Table,
    TenantId,
    Id,
    WebhookId,
    EventId,
    Status,
    Attempts,
    NextAttemptAt,
    LastStatus,
    LastError,
    DeliveredAt,
}

#[derive(DeriveIden, Clone)]
enum IdempotencyKeys {
    Table,
    TenantId,
    Key,
    RequestHash,
    Response,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Webhooks::Table)
                .col(uuid(Webhooks::TenantId))
                .col(uuid(Webhooks::Id))
                .col(text(Webhooks::Url))
                .col(text(Webhooks::Secret))
                .col(text(Webhooks::EventTypes))
                .col(boolean(Webhooks::Active).default(true))
                .col(timestamp_with_time_zone(Webhooks::CreatedAt))
                .primary_key(Index::create().col(Webhooks::TenantId).col(Webhooks::Id))
                .to_owned(),
        )
        .await?;
        rls::protect_tenant_table(m, "webhooks", "SELECT, INSERT, UPDATE, DELETE").await?;

        m.create_table(
            Table::create()
                .table(Outbox::Table)
                .col(uuid(Outbox::TenantId))
                .col(uuid(Outbox::Id))
                .col(text(Outbox::EventType))
                .col(json_binary(Outbox::Payload))
                .col(timestamp_with_time_zone(Outbox::CreatedAt))
                .primary_key(Index::create().col(Outbox::TenantId).col(Outbox::Id))
                .to_owned(),
        )
        .await?;
        rls::protect_tenant_table(m, "outbox", "SELECT, INSERT").await?;

        m.create_table(
            Table::create()
                .table(WebhookDeliveries::Table)
                .col(uuid(WebhookDeliveries::TenantId))
                .col(uuid(WebhookDeliveries::Id))
                .col(uuid(WebhookDeliveries::WebhookId))
                .col(uuid(WebhookDeliveries::EventId))
                .col(text(WebhookDeliveries::Status))
                .col(integer(WebhookDeliveries::Attempts).default(0))
                .col(timestamp_with_time_zone(WebhookDeliveries::NextAttemptAt))
                .col(integer_null(WebhookDeliveries::LastStatus))
                .col(text_null(WebhookDeliveries::LastError))
                .col(timestamp_with_time_zone_null(
                    WebhookDeliveries::DeliveredAt,
                ))
                .primary_key(
                    Index::create()
                        .col(WebhookDeliveries::TenantId)
                        .col(WebhookDeliveries::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_webhook_deliveries_due")
                .table(WebhookDeliveries::Table)
                .col(WebhookDeliveries::TenantId)
                .col(WebhookDeliveries::Status)
                .col(WebhookDeliveries::NextAttemptAt)
                .to_owned(),
        )
        .await?;
        rls::protect_tenant_table(m, "webhook_deliveries", "SELECT, INSERT, UPDATE").await?;

        m.create_table(
            Table::create()
                .table(IdempotencyKeys::Table)
                .col(uuid(IdempotencyKeys::TenantId))
                .col(text(IdempotencyKeys::Key))
                .col(text(IdempotencyKeys::RequestHash))
                .col(json_binary(IdempotencyKeys::Response))
                .col(timestamp_with_time_zone(IdempotencyKeys::CreatedAt))
                .primary_key(
                    Index::create()
                        .col(IdempotencyKeys::TenantId)
                        .col(IdempotencyKeys::Key),
                )
                .to_owned(),
        )
        .await?;
        rls::protect_tenant_table(m, "idempotency_keys", "SELECT, INSERT, UPDATE, DELETE").await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "idempotency_keys",
            "webhook_deliveries",
            "outbox",
            "webhooks",
        ] {
            m.drop_table(Table::drop().table(Alias::new(t)).to_owned())
                .await?;
        }
        Ok(())
    }
}
