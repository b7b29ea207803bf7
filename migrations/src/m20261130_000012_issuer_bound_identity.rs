//! An identity is the pair (issuer, subject). Before this migration a member, a citizen's
//! link to their person and an idempotency key were matched by subject alone, so a provider
//! that one body registered could mint another body's administrator or any citizen.
//!
//! - `members.issuer` and `delegations.tutor_issuer`: existing rows are carried over to the
//!   issuer of their body's one registered provider, or else to the development issuer
//!   (`civitas-dev`).
//! - `person_identities (issuer, subject) -> person`: a citizen may sign in through several
//!   providers (SPID broker, CIE). Existing links move here under the development issuer and
//!   `persons.oidc_subject` is no longer written: in production such a link is dead, and the
//!   citizen is linked again at their next sign-in by the fiscal code a trusted provider
//!   asserts.
//! - `identity_providers.citizen_identities`: only a provider a platform administrator marks
//!   may assert a fiscal code.
//! - `audit_events.actor_issuer`: who did it, with the issuer that vouched for them.
//! - `idempotency_keys` belong to (tenant, issuer, subject) and remember the permissions the
//!   request was granted, so that a replay is authorized again. The table only holds answers
//!   for retries, so it is recreated empty.

use sea_orm_migration::{prelude::*, schema::*};

use crate::rls;

#[derive(DeriveMigrationName)]
pub struct Migration;

const DEV_ISSUER: &str = "civitas-dev";

#[derive(DeriveIden, Clone)]
enum PersonIdentities {
    Table,
    Issuer,
    Subject,
    PersonId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    TenantId,
    Issuer,
    Subject,
    Key,
    RequestHash,
    Response,
    Checks,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Persons {
    Table,
    Id,
}

/// Runs `sql` with forced row-level security lifted from `table` (the owner may not be a
/// superuser, and no tenant is set while migrating), then puts it back.
async fn unforced(m: &SchemaManager<'_>, table: &str, sql: &str) -> Result<(), DbErr> {
    let conn = m.get_connection();
    let pg = rls::is_postgres(m);
    if pg {
        conn.execute_unprepared(&format!("ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY"))
            .await?;
    }
    conn.execute_unprepared(sql).await?;
    if pg {
        conn.execute_unprepared(&format!("ALTER TABLE {table} FORCE ROW LEVEL SECURITY"))
            .await?;
    }
    Ok(())
}

/// Adds `column` (an issuer) to the tenant-owned `table`, carrying existing rows over to
/// their body's one registered provider, or else to the development issuer.
async fn issuer_column(m: &SchemaManager<'_>, table: &str, column: &str) -> Result<(), DbErr> {
    m.get_connection()
        .execute_unprepared(&format!(
            "ALTER TABLE {table} ADD COLUMN {column} text NOT NULL DEFAULT '{DEV_ISSUER}'"
        ))
        .await?;
    let providers =
        format!("FROM identity_providers p WHERE p.owner_tenant_id = {table}.tenant_id");
    unforced(
        m,
        table,
        &format!(
            "UPDATE {table} SET {column} = (SELECT p.issuer {providers}) \
             WHERE (SELECT count(*) {providers}) = 1"
        ),
    )
    .await
}

async fn idempotency_table(m: &SchemaManager<'_>, bound: bool) -> Result<(), DbErr> {
    let mut t = Table::create();
    t.table(IdempotencyKeys::Table)
        .col(uuid(IdempotencyKeys::TenantId));
    let mut pk = Index::create();
    pk.col(IdempotencyKeys::TenantId);
    if bound {
        t.col(text(IdempotencyKeys::Issuer))
            .col(text(IdempotencyKeys::Subject));
        pk.col(IdempotencyKeys::Issuer)
            .col(IdempotencyKeys::Subject);
    }
    pk.col(IdempotencyKeys::Key);
    t.col(text(IdempotencyKeys::Key))
        .col(text(IdempotencyKeys::RequestHash))
        .col(json_binary(IdempotencyKeys::Response));
    if bound {
        t.col(json_binary(IdempotencyKeys::Checks));
    }
    t.col(timestamp_with_time_zone(IdempotencyKeys::CreatedAt))
        .primary_key(&mut pk);
    m.create_table(t.to_owned()).await?;
    rls::protect_tenant_table(m, "idempotency_keys", "SELECT, INSERT, UPDATE, DELETE").await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let conn = m.get_connection();
        issuer_column(m, "members", "issuer").await?;
        // A tutor's delegations name them as members are named.
        issuer_column(m, "delegations", "tutor_issuer").await?;
        conn.execute_unprepared("DROP INDEX ux_members_subject")
            .await?;
        rls::index(
            m,
            "ux_members_identity",
            Alias::new("members"),
            &["tenant_id", "issuer", "subject"],
            true,
        )
        .await?;

        conn.execute_unprepared("ALTER TABLE audit_events ADD COLUMN actor_issuer text")
            .await?;
        conn.execute_unprepared(
            "ALTER TABLE identity_providers ADD COLUMN citizen_identities boolean NOT NULL DEFAULT false",
        )
        .await?;
        rls::grant_global(m, "identity_providers", "UPDATE").await?;

        m.create_table(
            Table::create()
                .table(PersonIdentities::Table)
                .col(text(PersonIdentities::Issuer))
                .col(text(PersonIdentities::Subject))
                .col(uuid(PersonIdentities::PersonId))
                .col(timestamp_with_time_zone(PersonIdentities::CreatedAt))
                .primary_key(
                    Index::create()
                        .col(PersonIdentities::Issuer)
                        .col(PersonIdentities::Subject),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_person_identities_person")
                        .from(PersonIdentities::Table, PersonIdentities::PersonId)
                        .to(Persons::Table, Persons::Id),
                )
                .to_owned(),
        )
        .await?;
        rls::index(
            m,
            "ix_person_identities_person",
            PersonIdentities::Table,
            &["person_id"],
            false,
        )
        .await?;
        rls::grant_global(m, "person_identities", "SELECT, INSERT, UPDATE").await?;
        conn.execute_unprepared(&format!(
            "INSERT INTO person_identities (issuer, subject, person_id, created_at) \
             SELECT '{DEV_ISSUER}', oidc_subject, id, created_at FROM persons \
             WHERE oidc_subject IS NOT NULL"
        ))
        .await?;
        conn.execute_unprepared("UPDATE persons SET oidc_subject = NULL")
            .await?;

        m.drop_table(Table::drop().table(IdempotencyKeys::Table).to_owned())
            .await?;
        idempotency_table(m, true).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let conn = m.get_connection();
        m.drop_table(Table::drop().table(IdempotencyKeys::Table).to_owned())
            .await?;
        idempotency_table(m, false).await?;

        // One link per person comes back (the old column is unique): the oldest.
        conn.execute_unprepared(
            "UPDATE persons SET oidc_subject = (SELECT i.subject FROM person_identities i \
               WHERE i.person_id = persons.id ORDER BY i.created_at, i.issuer LIMIT 1)",
        )
        .await?;
        m.drop_table(Table::drop().table(PersonIdentities::Table).to_owned())
            .await?;
        conn.execute_unprepared("ALTER TABLE identity_providers DROP COLUMN citizen_identities")
            .await?;
        conn.execute_unprepared("ALTER TABLE audit_events DROP COLUMN actor_issuer")
            .await?;
        conn.execute_unprepared("DROP INDEX ux_members_identity")
            .await?;
        conn.execute_unprepared("ALTER TABLE members DROP COLUMN issuer")
            .await?;
        conn.execute_unprepared("ALTER TABLE delegations DROP COLUMN tutor_issuer")
            .await?;
        rls::index(
            m,
            "ux_members_subject",
            Alias::new("members"),
            &["tenant_id", "subject"],
            true,
        )
        .await
    }
}
