//! PostgreSQL-only hardening shared by every migration that creates a tenant-owned table.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

/// The login role the server uses: no ownership, no BYPASSRLS, only the grants below.
pub const APP_ROLE: &str = "civitas_app";

/// Every table whose rows belong to one tenant. The isolation tests iterate this list, so a
/// new tenant-owned table that is not added here fails them.
pub const TENANT_OWNED_TABLES: &[&str] = &[
    "members",
    "role_assignments",
    "audit_events",
    "services",
    "profiles",
    "contacts",
    "privacy_consents",
    "access_log",
    "cases",
    "case_events",
    "interactions",
    "delegations",
    "counters",
    "webhooks",
    "outbox",
    "webhook_deliveries",
    "idempotency_keys",
    "person_sources",
    "notifications",
    "notification_deliveries",
    "notification_attempts",
    "channel_choices",
    "quiet_hours",
    "attachments",
    "service_sheets",
    "retention_rules",
    "erasure_steps",
    "restrictions",
    "access_purposes",
    "service_areas",
    "routing_rules",
    "api_keys",
    "initiatives",
    "participations",
    "questionnaires",
    "questionnaire_versions",
    "survey_invitations",
    "survey_answers",
    "preferences",
];

/// The expression every policy compares `tenant_id` with. `NULLIF` because a pooled
/// connection keeps `''` once a transaction-local setting has ended.
pub const CURRENT_TENANT: &str = "NULLIF(current_setting('app.tenant_id', true), '')::uuid";

/// Creates an index on `cols` of `table` (the tenant column first, by the callers' habit).
pub async fn index(
    m: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden + Clone,
    cols: &[&str],
    unique: bool,
) -> Result<(), DbErr> {
    let mut i = Index::create();
    i.name(name).table(table);
    for c in cols {
        i.col(Alias::new(*c));
    }
    if unique {
        i.unique();
    }
    m.create_index(i.to_owned()).await
}

pub(crate) fn is_postgres(m: &SchemaManager<'_>) -> bool {
    m.get_database_backend() == DbBackend::Postgres
}

/// Runs `sql` on PostgreSQL; nothing on SQLite, which has no functions or policies.
pub(crate) async fn on_postgres(m: &SchemaManager<'_>, sql: &str) -> Result<(), DbErr> {
    if is_postgres(m) {
        m.get_connection().execute_unprepared(sql).await?;
    }
    Ok(())
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

/// Tables that hold data about a person shared between tenants under consent. Not listed
/// in [`TENANT_OWNED_TABLES`] when they have no `tenant_id`.
pub const CONSENT_TABLES: &[&str] = &["sharing_consents", "consent_requests"];

/// Functions the policies below use. `civitas_shared` is SECURITY DEFINER so that the
/// application role need not read every consent row to evaluate a policy. Migration 7
/// replaces the two SECURITY DEFINER ones with PL/pgSQL bodies; this text stays as migration
/// 3 created them (and as migration 7 restores them when rolled back).
pub(crate) const FUNCTIONS: &str = r#"
CREATE OR REPLACE FUNCTION civitas_current_tenant() RETURNS uuid
  LANGUAGE sql STABLE AS $$ SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid $$;

CREATE OR REPLACE FUNCTION civitas_current_person() RETURNS uuid
  LANGUAGE sql STABLE AS $$ SELECT NULLIF(current_setting('app.person_id', true), '')::uuid $$;

-- The application's clock (tests move it); the database's when unset.
CREATE OR REPLACE FUNCTION civitas_now() RETURNS timestamptz
  LANGUAGE sql STABLE AS $$ SELECT COALESCE(NULLIF(current_setting('app.now', true), '')::timestamptz, now()) $$;

-- A person and every person record merged into it.
CREATE OR REPLACE FUNCTION civitas_is_current_person(p uuid) RETURNS boolean
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
  SELECT civitas_current_person() IS NOT NULL AND (
    p = civitas_current_person()
    OR EXISTS (SELECT 1 FROM persons WHERE id = p AND merged_into = civitas_current_person()))
$$;

-- Whether an active sharing consent lets the current tenant read `scope` data about person
-- `p` held by tenant `source`.
CREATE OR REPLACE FUNCTION civitas_shared(p uuid, source uuid, scope text) RETURNS boolean
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
  SELECT civitas_current_tenant() IS NOT NULL AND EXISTS (
    SELECT 1 FROM sharing_consents c
    WHERE c.person_id IN (
            SELECT COALESCE(x.merged_into, x.id) FROM persons x WHERE x.id = p
            UNION SELECT y.id FROM persons y
                  WHERE y.merged_into = (SELECT COALESCE(z.merged_into, z.id) FROM persons z WHERE z.id = p))
      AND c.grantee_tenant_id = civitas_current_tenant()
      AND (c.source_tenant_id IS NULL OR c.source_tenant_id = source)
      AND c.source_tenant_id IS DISTINCT FROM c.grantee_tenant_id
      AND c.revoked_at IS NULL
      AND (c.expires_at IS NULL OR c.expires_at > civitas_now())
      AND position(',' || scope || ',' in ',' || c.scopes || ',') > 0)
$$;
"#;

pub(crate) async fn exec_all(m: &SchemaManager<'_>, sqls: &[String]) -> Result<(), DbErr> {
    let conn = m.get_connection();
    for sql in sqls {
        conn.execute_unprepared(sql).await?;
    }
    Ok(())
}

/// Lets the application role, and no one else, call each function (`name(argument types)`).
pub(crate) fn grant_execute(functions: &[&str]) -> Vec<String> {
    functions
        .iter()
        .flat_map(|f| {
            [
                format!("REVOKE ALL ON FUNCTION {f} FROM PUBLIC"),
                format!("GRANT EXECUTE ON FUNCTION {f} TO {APP_ROLE}"),
            ]
        })
        .collect()
}

/// Drops each function, the last first.
pub(crate) fn drop_functions(functions: &[&str]) -> Vec<String> {
    functions
        .iter()
        .rev()
        .map(|f| format!("DROP FUNCTION IF EXISTS {f}"))
        .collect()
}

/// Who may see a consent row, as migration 3 wrote it (migration 7 reorders it).
pub(crate) const PARTIES_V1: &str = "civitas_is_current_person(person_id) \
    OR grantee_tenant_id = civitas_current_tenant() \
    OR source_tenant_id = civitas_current_tenant() \
    OR collected_in_tenant_id = civitas_current_tenant()";

/// The consent table and the functions that read it. PostgreSQL only.
pub async fn protect_consents(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    if !is_postgres(m) {
        return Ok(());
    }
    let visible = PARTIES_V1;
    m.get_connection().execute_unprepared(FUNCTIONS).await?;
    exec_all(
        m,
        &[
            "ALTER TABLE sharing_consents ENABLE ROW LEVEL SECURITY".into(),
            "ALTER TABLE sharing_consents FORCE ROW LEVEL SECURITY".into(),
            format!(
                "CREATE POLICY parties ON sharing_consents USING ({visible}) WITH CHECK ({visible})"
            ),
            format!("GRANT SELECT, INSERT, UPDATE ON sharing_consents TO {APP_ROLE}"),
            "REVOKE ALL ON FUNCTION civitas_shared(uuid, uuid, text) FROM PUBLIC".into(),
            "REVOKE ALL ON FUNCTION civitas_is_current_person(uuid) FROM PUBLIC".into(),
            format!("GRANT EXECUTE ON FUNCTION civitas_shared(uuid, uuid, text) TO {APP_ROLE}"),
            format!("GRANT EXECUTE ON FUNCTION civitas_is_current_person(uuid) TO {APP_ROLE}"),
        ],
    )
    .await
}

/// A tenant-owned table whose rows are also readable by the person they are about.
pub async fn protect_person_table(
    m: &SchemaManager<'_>,
    table: &str,
    privileges: &str,
) -> Result<(), DbErr> {
    protect_tenant_table(m, table, privileges).await?;
    if !is_postgres(m) {
        return Ok(());
    }
    exec_all(
        m,
        &[format!(
            "CREATE POLICY person_read ON {table} FOR SELECT USING (civitas_is_current_person(person_id))"
        )],
    )
    .await
}

/// A tenant-owned table about a person that other tenants may read under a sharing consent
/// for `scope`: the database, not only the application, enforces the consent.
pub async fn protect_shared_table(
    m: &SchemaManager<'_>,
    table: &str,
    scope: &str,
    privileges: &str,
) -> Result<(), DbErr> {
    protect_person_table(m, table, privileges).await?;
    if !is_postgres(m) {
        return Ok(());
    }
    exec_all(
        m,
        &[format!(
            "CREATE POLICY consented_read ON {table} FOR SELECT USING (civitas_shared(person_id, tenant_id, '{scope}'))"
        )],
    )
    .await
}
