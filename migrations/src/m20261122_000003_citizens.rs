//! One citizen across many bodies: global persons, each body's profile and contacts, privacy
//! consents, sharing consents between bodies, and the log of cross-body reads.

use sea_orm_migration::sea_orm::{DbBackend, Statement};
use sea_orm_migration::{prelude::*, schema::*};

use crate::rls;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone)]
enum Persons {
    Table,
    Id,
    FiscalCode,
    OidcSubject,
    MergedInto,
    CreatedAt,
}

#[derive(DeriveIden, Clone)]
enum Profiles {
    Table,
    TenantId,
    Id,
    PersonId,
    GivenName,
    FamilyName,
    SearchName,
    PreferredChannel,
    Language,
    Notes,
    MergedInto,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone)]
enum Contacts {
    Table,
    TenantId,
    Id,
    ProfileId,
    PersonId,
    Kind,
    Value,
    CreatedAt,
}

#[derive(DeriveIden, Clone)]
enum PrivacyConsents {
    Table,
    TenantId,
    Id,
    PersonId,
    Purpose,
    TextVersion,
    Channel,
    CollectedBy,
    CollectorKind,
    GivenAt,
    WithdrawnAt,
    WithdrawnBy,
}

#[derive(DeriveIden, Clone)]
enum SharingConsents {
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
    CollectorKind,
    CollectedInTenantId,
    GrantedAt,
    RevokedAt,
    RevokedBy,
}

#[derive(DeriveIden, Clone)]
enum AccessLog {
    Table,
    TenantId,
    Id,
    OccurredAt,
    PersonId,
    Reader,
    SourceTenantId,
    Scopes,
    ConsentId,
    Purpose,
}

#[derive(DeriveIden, Clone)]
enum Tenants {
    Table,
    Id,
}

/// Rules that tenants onboarded before this migration did not get.
const NEW_GRANTS: &[(&str, &str, &str)] = &[
    ("operator", "citizen", "read"),
    ("operator", "citizen", "register"),
    ("operator", "citizen", "update"),
    ("operator", "citizen_view", "read"),
    ("operator", "consent", "*"),
    ("operator", "privacy", "*"),
    ("supervisor", "citizen", "merge"),
    ("supervisor", "access_log", "read"),
    ("tutor", "citizen", "read"),
    ("tutor", "citizen_view", "read"),
    ("integrator", "citizen", "read"),
    ("integrator", "citizen", "register"),
    ("integrator", "citizen", "update"),
];

fn person_fk(table: impl IntoIden + Clone, name: &str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(table, Alias::new("person_id"))
        .to(Persons::Table, Persons::Id)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Persons::Table)
                .col(uuid(Persons::Id).primary_key())
                .col(text_null(Persons::FiscalCode).unique_key())
                .col(text_null(Persons::OidcSubject).unique_key())
                .col(uuid_null(Persons::MergedInto))
                .col(timestamp_with_time_zone(Persons::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_persons_merged_into")
                        .from(Persons::Table, Persons::MergedInto)
                        .to(Persons::Table, Persons::Id),
                )
                .to_owned(),
        )
        .await?;
        rls::index(
            m,
            "ix_persons_merged_into",
            Persons::Table,
            &["merged_into"],
            false,
        )
        .await?;
        rls::grant_global(m, "persons", "SELECT, INSERT, UPDATE").await?;

        m.create_table(
            Table::create()
                .table(SharingConsents::Table)
                .col(uuid(SharingConsents::Id).primary_key())
                .col(uuid(SharingConsents::PersonId))
                .col(uuid_null(SharingConsents::SourceTenantId))
                .col(uuid(SharingConsents::GranteeTenantId))
                .col(text(SharingConsents::Scopes))
                .col(text(SharingConsents::Purpose))
                .col(timestamp_with_time_zone_null(SharingConsents::ExpiresAt))
                .col(text(SharingConsents::Channel))
                .col(text(SharingConsents::CollectedBy))
                .col(text(SharingConsents::CollectorKind))
                .col(uuid_null(SharingConsents::CollectedInTenantId))
                .col(timestamp_with_time_zone(SharingConsents::GrantedAt))
                .col(timestamp_with_time_zone_null(SharingConsents::RevokedAt))
                .col(text_null(SharingConsents::RevokedBy))
                .foreign_key(&mut person_fk(
                    SharingConsents::Table,
                    "fk_sharing_consents_person",
                ))
                .to_owned(),
        )
        .await?;
        rls::index(
            m,
            "ix_sharing_consents_person",
            SharingConsents::Table,
            &["person_id", "grantee_tenant_id"],
            false,
        )
        .await?;
        rls::index(
            m,
            "ix_sharing_consents_grantee",
            SharingConsents::Table,
            &["grantee_tenant_id"],
            false,
        )
        .await?;
        rls::protect_consents(m).await?;

        m.create_table(
            Table::create()
                .table(Profiles::Table)
                .col(uuid(Profiles::TenantId))
                .col(uuid(Profiles::Id))
                .col(uuid(Profiles::PersonId))
                .col(text(Profiles::GivenName))
                .col(text(Profiles::FamilyName))
                .col(text(Profiles::SearchName))
                .col(text_null(Profiles::PreferredChannel))
                .col(text_null(Profiles::Language))
                .col(text(Profiles::Notes).default(""))
                .col(uuid_null(Profiles::MergedInto))
                .col(timestamp_with_time_zone(Profiles::CreatedAt))
                .col(timestamp_with_time_zone(Profiles::UpdatedAt))
                .primary_key(Index::create().col(Profiles::TenantId).col(Profiles::Id))
                .foreign_key(&mut person_fk(Profiles::Table, "fk_profiles_person"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_profiles_tenant")
                        .from(Profiles::Table, Profiles::TenantId)
                        .to(Tenants::Table, Tenants::Id),
                )
                .to_owned(),
        )
        .await?;
        rls::index(
            m,
            "ux_profiles_person",
            Profiles::Table,
            &["tenant_id", "person_id"],
            true,
        )
        .await?;
        rls::index(
            m,
            "ix_profiles_search_name",
            Profiles::Table,
            &["tenant_id", "search_name"],
            false,
        )
        .await?;
        // Cross-body reads look profiles up by person across tenants.
        rls::index(
            m,
            "ix_profiles_person_any_tenant",
            Profiles::Table,
            &["person_id"],
            false,
        )
        .await?;
        rls::protect_shared_table(m, "profiles", "profile", "SELECT, INSERT, UPDATE").await?;

        m.create_table(
            Table::create()
                .table(Contacts::Table)
                .col(uuid(Contacts::TenantId))
                .col(uuid(Contacts::Id))
                .col(uuid(Contacts::ProfileId))
                .col(uuid(Contacts::PersonId))
                .col(text(Contacts::Kind))
                .col(text(Contacts::Value))
                .col(timestamp_with_time_zone(Contacts::CreatedAt))
                .primary_key(Index::create().col(Contacts::TenantId).col(Contacts::Id))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_contacts_profile")
                        .from(Contacts::Table, (Contacts::TenantId, Contacts::ProfileId))
                        .to(Profiles::Table, (Profiles::TenantId, Profiles::Id))
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        rls::index(
            m,
            "ux_contacts_value",
            Contacts::Table,
            &["tenant_id", "profile_id", "kind", "value"],
            true,
        )
        .await?;
        rls::index(
            m,
            "ix_contacts_lookup",
            Contacts::Table,
            &["tenant_id", "kind", "value"],
            false,
        )
        .await?;
        rls::index(
            m,
            "ix_contacts_person_any_tenant",
            Contacts::Table,
            &["person_id"],
            false,
        )
        .await?;
        rls::protect_shared_table(m, "contacts", "profile", "SELECT, INSERT, UPDATE, DELETE")
            .await?;

        m.create_table(
            Table::create()
                .table(PrivacyConsents::Table)
                .col(uuid(PrivacyConsents::TenantId))
                .col(uuid(PrivacyConsents::Id))
                .col(uuid(PrivacyConsents::PersonId))
                .col(text(PrivacyConsents::Purpose))
                .col(text(PrivacyConsents::TextVersion))
                .col(text(PrivacyConsents::Channel))
                .col(text(PrivacyConsents::CollectedBy))
                .col(text(PrivacyConsents::CollectorKind))
                .col(timestamp_with_time_zone(PrivacyConsents::GivenAt))
                .col(timestamp_with_time_zone_null(PrivacyConsents::WithdrawnAt))
                .col(text_null(PrivacyConsents::WithdrawnBy))
                .primary_key(
                    Index::create()
                        .col(PrivacyConsents::TenantId)
                        .col(PrivacyConsents::Id),
                )
                .foreign_key(&mut person_fk(
                    PrivacyConsents::Table,
                    "fk_privacy_consents_person",
                ))
                .to_owned(),
        )
        .await?;
        rls::index(
            m,
            "ix_privacy_consents_person",
            PrivacyConsents::Table,
            &["tenant_id", "person_id", "purpose"],
            false,
        )
        .await?;
        rls::protect_person_table(m, "privacy_consents", "SELECT, INSERT, UPDATE").await?;

        m.create_table(
            Table::create()
                .table(AccessLog::Table)
                .col(uuid(AccessLog::TenantId))
                .col(uuid(AccessLog::Id))
                .col(timestamp_with_time_zone(AccessLog::OccurredAt))
                .col(uuid(AccessLog::PersonId))
                .col(text(AccessLog::Reader))
                .col(uuid(AccessLog::SourceTenantId))
                .col(text(AccessLog::Scopes))
                .col(uuid(AccessLog::ConsentId))
                .col(text(AccessLog::Purpose))
                .primary_key(Index::create().col(AccessLog::TenantId).col(AccessLog::Id))
                .to_owned(),
        )
        .await?;
        rls::index(
            m,
            "ix_access_log_time",
            AccessLog::Table,
            &["tenant_id", "occurred_at"],
            false,
        )
        .await?;
        // Citizens read every entry about themselves, whichever body made it.
        rls::index(
            m,
            "ix_access_log_person_any_tenant",
            AccessLog::Table,
            &["person_id"],
            false,
        )
        .await?;
        rls::protect_person_table(m, "access_log", "SELECT, INSERT").await?;

        add_rules_to_existing_tenants(m, NEW_GRANTS).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "access_log",
            "sharing_consents",
            "privacy_consents",
            "contacts",
            "profiles",
            "persons",
        ] {
            m.drop_table(Table::drop().table(Alias::new(t)).to_owned())
                .await?;
        }
        Ok(())
    }
}

/// Adds `grants` to the domain of every tenant that exists when the migration runs.
pub(crate) async fn add_rules_to_existing_tenants(
    m: &SchemaManager<'_>,
    grants: &[(&str, &str, &str)],
) -> Result<(), DbErr> {
    let conn = m.get_connection();
    let backend = m.get_database_backend();
    let tenants = conn
        .query_all_raw(Statement::from_string(backend, "SELECT id FROM tenants"))
        .await?;
    let placeholders = match backend {
        DbBackend::Postgres => "($1, $2, $3, $4, $5)",
        _ => "(?, ?, ?, ?, ?)",
    };
    for row in tenants {
        let id: uuid::Uuid = row.try_get("", "id")?;
        for (role, obj, act) in grants {
            conn.execute_raw(Statement::from_sql_and_values(
                backend,
                format!("INSERT INTO casbin_rule (ptype, v0, v1, v2, v3) VALUES {placeholders}"),
                [
                    "p".into(),
                    (*role).into(),
                    id.to_string().into(),
                    (*obj).into(),
                    (*act).into(),
                ],
            ))
            .await?;
        }
    }
    Ok(())
}
