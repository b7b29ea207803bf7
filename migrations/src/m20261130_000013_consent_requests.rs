//! Sharing consents an operator collected at a counter that would open another body's
//! records wait here for the citizen's confirmation (or are declined): one operator's word
//! does not open every body's data. A request belongs to its person and its parties, as a
//! consent does: on PostgreSQL the same policy shows it to them only.

use sea_orm_migration::{prelude::*, schema::*};

use crate::rls;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone)]
enum ConsentRequests {
    Table,
    Id,
    PersonId,
    SourceTenantId,
    GranteeTenantId,
    Scopes,
    Purpose,
    ExpiresAt,
    Channel,
    CollectedBy,
    CollectedByIssuer,
    CollectedInTenantId,
    RequestedAt,
    Status,
    DecidedAt,
    ConsentId,
}

#[derive(DeriveIden)]
enum Persons {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(ConsentRequests::Table)
                .col(uuid(ConsentRequests::Id).primary_key())
                .col(uuid(ConsentRequests::PersonId))
                .col(uuid_null(ConsentRequests::SourceTenantId))
                .col(uuid(ConsentRequests::GranteeTenantId))
                .col(text(ConsentRequests::Scopes))
                .col(text(ConsentRequests::Purpose))
                .col(timestamp_with_time_zone_null(ConsentRequests::ExpiresAt))
                .col(text(ConsentRequests::Channel))
                .col(text(ConsentRequests::CollectedBy))
                .col(text(ConsentRequests::CollectedByIssuer))
                .col(uuid(ConsentRequests::CollectedInTenantId))
                .col(timestamp_with_time_zone(ConsentRequests::RequestedAt))
                .col(text(ConsentRequests::Status))
                .col(timestamp_with_time_zone_null(ConsentRequests::DecidedAt))
                .col(uuid_null(ConsentRequests::ConsentId))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_consent_requests_person")
                        .from(ConsentRequests::Table, ConsentRequests::PersonId)
                        .to(Persons::Table, Persons::Id),
                )
                .to_owned(),
        )
        .await?;
        rls::index(
            m,
            "ix_consent_requests_person",
            ConsentRequests::Table,
            &["person_id"],
            false,
        )
        .await?;
        rls::index(
            m,
            "ix_consent_requests_collected_in",
            ConsentRequests::Table,
            &["collected_in_tenant_id", "requested_at"],
            false,
        )
        .await?;
        let visible = rls::PARTIES_V1;
        rls::on_postgres(
            m,
            &format!(
                "ALTER TABLE consent_requests ENABLE ROW LEVEL SECURITY; \
                 ALTER TABLE consent_requests FORCE ROW LEVEL SECURITY; \
                 CREATE POLICY parties ON consent_requests USING ({visible}) WITH CHECK ({visible}); \
                 GRANT SELECT, INSERT, UPDATE ON consent_requests TO {}",
                rls::APP_ROLE
            ),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ConsentRequests::Table).to_owned())
            .await
    }
}
