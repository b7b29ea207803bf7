//! PostgreSQL-only hardening shared by every migration that creates a tenant-owned table.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

/// The login role the server uses: no ownership, no BYPASSRLS, only the grants below.
pub const APP_ROLE: &str = "civitas_app";

/// Every table whose rows belong to one tenant. The isolation tests iterate this list, so a
/// new tenant-owned table that is not added here fails them.
pub const TENANT_OWNED_TABLES: &[&str] =
    &["members", "role_assignments", "audit_events", "services"];

/// The expression every policy compares `tenant_id` with. `NULLIF` because a pooled
/// connection keeps `''` once a transaction-local setting has ended.
pub const CURRENT_TENANT: &str = "NULLIF(current_setting('app.tenant_id', true), '')::uuid";

fn is_postgres(m: &SchemaManager<'_>) -> bool {
    m.get_database_backend() == DbBackend::Postgres
}

pub async fn create_app_role(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    if !is_postgres(m) {
        return Ok(());
    }
    // Roles are cluster-wide, so several databases (and parallel test databases) may race
    // to create it: tolerate the duplicate.
    let sql = format!(
        "DO $$ BEGIN
           IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
             BEGIN
               CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
             EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
             END;
           END IF;
         END $$;"
    );
    let conn = m.get_connection();
    conn.execute_unprepared(&sql).await?;
    conn.execute_unprepared(&format!(
        "DO $$ BEGIN EXECUTE format('GRANT CONNECT ON DATABASE %I TO {APP_ROLE}', current_database()); END $$;"
    ))
    .await?;
    conn.execute_unprepared(&format!("GRANT USAGE ON SCHEMA public TO {APP_ROLE}"))
        .await?;
    Ok(())
}

/// Grants on a global (not tenant-owned) table.
pub async fn grant_global(
    m: &SchemaManager<'_>,
    table: &str,
    privileges: &str,
) -> Result<(), DbErr> {
    if !is_postgres(m) {
        return Ok(());
    }
    m.get_connection()
        .execute_unprepared(&format!("GRANT {privileges} ON {table} TO {APP_ROLE}"))
        .await?;
    Ok(())
}

/// Turns on forced row-level security for a tenant-owned table, with a policy that shows
/// and accepts only rows of the tenant set in the current transaction.
pub async fn protect_tenant_table(
    m: &SchemaManager<'_>,
    table: &str,
    privileges: &str,
) -> Result<(), DbErr> {
    if !is_postgres(m) {
        return Ok(());
    }
    let conn = m.get_connection();
    for sql in [
        format!("ALTER TABLE {table} ENABLE ROW LEVEL SECURITY"),
        format!("ALTER TABLE {table} FORCE ROW LEVEL SECURITY"),
        format!(
            "CREATE POLICY tenant_isolation ON {table} USING (tenant_id = {CURRENT_TENANT}) \
             WITH CHECK (tenant_id = {CURRENT_TENANT})"
        ),
        format!("GRANT {privileges} ON {table} TO {APP_ROLE}"),
    ] {
        conn.execute_unprepared(&sql).await?;
    }
    Ok(())
}
