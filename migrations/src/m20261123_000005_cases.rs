//! The operational CRM: service levels and custom fields in the catalogue, cases with their
//! history, contacts on every channel, tutors' delegations, per-tenant counters.

use sea_orm_migration::{prelude::*, schema::*};

use crate::rls;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone)]
enum Services {
    Table,
    Channels,
    SlaHours,
    CustomFields,
}

#[derive(DeriveIden, Clone)]
enum Cases {
    Table,
    TenantId,
    Id,
    Number,
    PersonId,
    ServiceId,
    Title,
    Description,
    Status,
    Priority,
    Channel,
    AssignedTeam,
    AssignedTo,
    EscalationLevel,
    CustomFields,
    ResolutionNote,
    Source,
    ExternalRef,
    DueAt,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
    ResolvedAt,
    ClosedAt,
}

#[derive(DeriveIden, Clone)]
enum CaseEvents {
    Table,
    TenantId,
    Id,
    CaseId,
    PersonId,
    OccurredAt,
    Actor,
    OnBehalfOf,
    Channel,
    Kind,
    FromStatus,
    ToStatus,
    Detail,
}

#[derive(DeriveIden, Clone)]
enum Interactions {
    Table,
    TenantId,
    Id,
    PersonId,
    CaseId,
    Channel,
    Direction,
    Operator,
    OnBehalfOf,
    Summary,
    OccurredAt,
}

#[derive(DeriveIden, Clone)]
enum Delegations {
    Table,
    TenantId,
    Id,
    PersonId,
    TutorSubject,
    Scopes,
    ExpiresAt,
    RevokedAt,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden, Clone)]
enum Counters {
    Table,
    TenantId,
    Name,
    Value,
}

/// Rules that tenants onboarded before this migration did not get.
const NEW_GRANTS: &[(&str, &str, &str)] = &[
    ("operator", "case", "read"),
    ("operator", "case", "create"),
    ("operator", "case", "update"),
    ("operator", "case", "assign"),
    ("operator", "interaction", "*"),
    ("operator", "contact_centre", "identify"),
    ("supervisor", "case", "escalate"),
    ("supervisor", "case", "stats"),
    ("supervisor", "delegation", "*"),
    ("supervisor", "catalogue", "import"),
    ("tutor", "case", "read"),
    ("tutor", "case", "create"),
    ("tutor", "interaction", "create"),
    ("integrator", "case", "read"),
    ("integrator", "case", "create"),
    ("integrator", "case", "update"),
    ("integrator", "case", "upsert"),
    ("integrator", "interaction", "create"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters a column at a time.
        for col in [
            text(Services::Channels).default("").to_owned(),
            integer(Services::SlaHours).default(72).to_owned(),
            json_binary(Services::CustomFields).default("[]").to_owned(),
        ] {
            m.alter_table(
                Table::alter()
                    .table(Services::Table)
                    .add_column(col)
                    .to_owned(),
            )
            .await?;
        }

        m.create_table(
            Table::create()
                .table(Cases::Table)
                .col(uuid(Cases::TenantId))
                .col(uuid(Cases::Id))
                .col(text(Cases::Number))
                .col(uuid_null(Cases::PersonId))
                .col(uuid(Cases::ServiceId))
                .col(text(Cases::Title))
                .col(text(Cases::Description).default(""))
                .col(text(Cases::Status))
                .col(text(Cases::Priority))
                .col(text(Cases::Channel))
                .col(text_null(Cases::AssignedTeam))
                .col(text_null(Cases::AssignedTo))
                .col(integer(Cases::EscalationLevel).default(0))
                .col(json_binary(Cases::CustomFields))
                .col(text_null(Cases::ResolutionNote))
                .col(text_null(Cases::Source))
                .col(text_null(Cases::ExternalRef))
                .col(timestamp_with_time_zone(Cases::DueAt))
                .col(text(Cases::CreatedBy))
                .col(timestamp_with_time_zone(Cases::CreatedAt))
                .col(timestamp_with_time_zone(Cases::UpdatedAt))
                .col(timestamp_with_time_zone_null(Cases::ResolvedAt))
                .col(timestamp_with_time_zone_null(Cases::ClosedAt))
                .primary_key(Index::create().col(Cases::TenantId).col(Cases::Id))
                .to_owned(),
        )
        .await?;
        rls::index(
            m,
            "ux_cases_number",
            Cases::Table,
            &["tenant_id", "number"],
            true,
        )
        .await?;
        rls::index(
            m,
            "ux_cases_external_ref",
            Cases::Table,
            &["tenant_id", "source", "external_ref"],
            true,
        )
        .await?;
        rls::index(
            m,
            "ix_cases_status_due",
            Cases::Table,
            &["tenant_id", "status", "due_at"],
            false,
        )
        .await?;
        rls::index(
            m,
            "ix_cases_person_any_tenant",
            Cases::Table,
            &["person_id"],
            false,
        )
        .await?;
        rls::protect_shared_table(m, "cases", "cases", "SELECT, INSERT, UPDATE").await?;

        m.create_table(
            Table::create()
                .table(CaseEvents::Table)
                .col(uuid(CaseEvents::TenantId))
                .col(uuid(CaseEvents::Id))
                .col(uuid(CaseEvents::CaseId))
                .col(uuid_null(CaseEvents::PersonId))
                .col(timestamp_with_time_zone(CaseEvents::OccurredAt))
                .col(text(CaseEvents::Actor))
                .col(text_null(CaseEvents::OnBehalfOf))
                .col(text(CaseEvents::Channel))
                .col(text(CaseEvents::Kind))
                .col(text_null(CaseEvents::FromStatus))
                .col(text_null(CaseEvents::ToStatus))
                .col(json_binary(CaseEvents::Detail))
                .primary_key(
                    Index::create()
                        .col(CaseEvents::TenantId)
                        .col(CaseEvents::Id),
                )
                .to_owned(),
        )
        .await?;
        rls::index(
            m,
            "ix_case_events_case",
            CaseEvents::Table,
            &["tenant_id", "case_id", "occurred_at"],
            false,
        )
        .await?;
        // The history is append-only.
        rls::protect_shared_table(m, "case_events", "cases", "SELECT, INSERT").await?;

        m.create_table(
            Table::create()
                .table(Interactions::Table)
                .col(uuid(Interactions::TenantId))
                .col(uuid(Interactions::Id))
                .col(uuid_null(Interactions::PersonId))
                .col(uuid_null(Interactions::CaseId))
                .col(text(Interactions::Channel))
                .col(text(Interactions::Direction))
                .col(text(Interactions::Operator))
                .col(text_null(Interactions::OnBehalfOf))
                .col(text(Interactions::Summary))
                .col(timestamp_with_time_zone(Interactions::OccurredAt))
                .primary_key(
                    Index::create()
                        .col(Interactions::TenantId)
                        .col(Interactions::Id),
                )
                .to_owned(),
        )
        .await?;
        rls::index(
            m,
            "ix_interactions_person",
            Interactions::Table,
            &["tenant_id", "person_id", "occurred_at"],
            false,
        )
        .await?;
        rls::index(
            m,
            "ix_interactions_person_any_tenant",
            Interactions::Table,
            &["person_id"],
            false,
        )
        .await?;
        rls::protect_shared_table(m, "interactions", "interactions", "SELECT, INSERT").await?;

        m.create_table(
            Table::create()
                .table(Delegations::Table)
                .col(uuid(Delegations::TenantId))
                .col(uuid(Delegations::Id))
                .col(uuid(Delegations::PersonId))
                .col(text(Delegations::TutorSubject))
                .col(text(Delegations::Scopes))
                .col(timestamp_with_time_zone_null(Delegations::ExpiresAt))
                .col(timestamp_with_time_zone_null(Delegations::RevokedAt))
                .col(text(Delegations::CreatedBy))
                .col(timestamp_with_time_zone(Delegations::CreatedAt))
                .primary_key(
                    Index::create()
                        .col(Delegations::TenantId)
                        .col(Delegations::Id),
                )
                .to_owned(),
        )
        .await?;
        rls::index(
            m,
            "ix_delegations_tutor",
            Delegations::Table,
            &["tenant_id", "tutor_subject", "person_id"],
            false,
        )
        .await?;
        rls::protect_person_table(m, "delegations", "SELECT, INSERT, UPDATE").await?;

        m.create_table(
            Table::create()
                .table(Counters::Table)
                .col(uuid(Counters::TenantId))
                .col(text(Counters::Name))
                .col(big_integer(Counters::Value))
                .primary_key(Index::create().col(Counters::TenantId).col(Counters::Name))
                .to_owned(),
        )
        .await?;
        rls::protect_tenant_table(m, "counters", "SELECT, INSERT, UPDATE").await?;
        crate::m20261122_000003_citizens::add_rules_to_existing_tenants(m, NEW_GRANTS).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "counters",
            "delegations",
            "interactions",
            "case_events",
            "cases",
        ] {
            m.drop_table(Table::drop().table(Alias::new(t)).to_owned())
                .await?;
        }
        Ok(())
    }
}
