//! The citizen view's function, cheaper and safe for every choice of parts. PostgreSQL only.
//!
//! - A part the caller did not ask for (cases, interactions) is now left out with `CASE WHEN`.
//!   Under migration 8's `p_cases AND …`, a call with `false` planned while the function's
//!   plan was still custom (its first calls on a connection) folded the filter to `false`,
//!   lost the index condition, and planned a gated sequential scan of the whole table: never
//!   run, but costly enough on paper to be compiled by JIT, 300-450 ms per call at 0.1x.
//! - Contacts are one read by person (`contact_rows`) instead of one per profile; the
//!   application attaches them to their profiles.
//! - `civitas_enter_tenant` returns `true`, so that callers enter with an assignment, which
//!   PL/pgSQL evaluates without starting a query as `PERFORM` does, and sets the settings the
//!   same way. Its checks and refusals are unchanged.
//!
//! With pgbench on the view alone (0.1x, 8 clients, alternating with a copy of the old
//! function) PostgreSQL's CPU per call went from 352-382 to 321-353 µs; through the server
//! the change is within this machine's drift (docs/performance.md).

use sea_orm_migration::prelude::*;

use crate::m20261129_000008_citizen_view_function as v8;
use crate::rls;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Dropped first: their result types change.
const REPLACED: &[&str] = &[
    "civitas_enter_tenant(uuid, text)",
    "civitas_citizen_view(uuid, text, uuid, boolean, boolean)",
];

const ENTER_FUNCTION: &str = r#"
CREATE FUNCTION civitas_enter_tenant(p_tenant uuid, p_now text) RETURNS boolean
  LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  ignored text;
BEGIN
  IF p_tenant IS NULL THEN
    RAISE EXCEPTION 'civitas_enter_tenant: no tenant given';
  END IF;
  -- Inside a transaction already bound elsewhere (a scope of another tenant, a citizen's
  -- own scope), switching would change what the rest of it sees: refuse.
  IF civitas_current_person() IS NOT NULL
     OR COALESCE(civitas_current_tenant() <> p_tenant, false) THEN
    RAISE EXCEPTION 'civitas_enter_tenant: this transaction is bound to another tenant or person';
  END IF;
  ignored := set_config('app.tenant_id', p_tenant::text, true);
  ignored := set_config('app.person_id', '', true);
  ignored := set_config('app.now', COALESCE(p_now, ''), true);
  RETURN true;
END
$$;
"#;

/// The view as this migration wrote it (and migration 25 restores it when rolled back).
pub(crate) const VIEW_FUNCTION: &str = r#"
CREATE FUNCTION civitas_citizen_view(
    p_tenant uuid, p_now text, p_person uuid, p_cases boolean, p_interactions boolean)
  RETURNS TABLE (family text, consents text, profile_rows text, contact_rows text,
                 case_rows text, interaction_rows text)
  LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
DECLARE
  entered boolean;
BEGIN
  entered := civitas_enter_tenant(p_tenant, p_now);
  RETURN QUERY
    WITH fam AS MATERIALIZED (
      SELECT id, fiscal_code, oidc_subject, merged_into, created_at
      FROM persons WHERE id = p_person OR merged_into = p_person),
    con AS MATERIALIZED (
      SELECT sc.* FROM sharing_consents sc
      WHERE sc.person_id = ANY ((SELECT array_agg(id) FROM fam)::uuid[])
        AND sc.grantee_tenant_id = p_tenant AND sc.revoked_at IS NULL),
    ids AS (SELECT array_agg(id) AS v FROM fam),
    bodies AS (
      SELECT p_tenant || array_agg(source_tenant_id) FILTER (WHERE source_tenant_id IS NOT NULL) AS v,
             COALESCE(bool_or(source_tenant_id IS NULL), false) AS every
      FROM con)
    SELECT
      (SELECT json_agg(fam)::text FROM fam) AS family,
      (SELECT json_agg(con)::text FROM con) AS consents,
      (SELECT json_agg(p ORDER BY p.tenant_id, p.id)::text FROM profiles p
       WHERE p.person_id = ANY ((SELECT v FROM ids)::uuid[])
         AND (p.tenant_id = ANY ((SELECT v FROM bodies)::uuid[]) OR (SELECT every FROM bodies))
         AND p.merged_into IS NULL) AS profile_rows,
      (SELECT json_agg(c ORDER BY c.id)::text FROM contacts c
       WHERE c.person_id = ANY ((SELECT v FROM ids)::uuid[])
         AND (c.tenant_id = ANY ((SELECT v FROM bodies)::uuid[]) OR (SELECT every FROM bodies))) AS contact_rows,
      CASE WHEN p_cases THEN
        (SELECT json_agg(c)::text FROM cases c
         WHERE c.person_id = ANY ((SELECT v FROM ids)::uuid[])
           AND (c.tenant_id = ANY ((SELECT v FROM bodies)::uuid[]) OR (SELECT every FROM bodies)))
      END AS case_rows,
      CASE WHEN p_interactions THEN
        (SELECT json_agg(i)::text FROM interactions i
         WHERE i.person_id = ANY ((SELECT v FROM ids)::uuid[])
           AND (i.tenant_id = ANY ((SELECT v FROM bodies)::uuid[]) OR (SELECT every FROM bodies)))
      END AS interaction_rows;
END
$$;
"#;

/// As this migration wrote it (and migration 25 restores it when rolled back).
pub(crate) const LOG_FUNCTION: &str = r#"
CREATE OR REPLACE FUNCTION civitas_log_access(p_tenant uuid, p_now text, p_rows jsonb)
  RETURNS void LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  entered boolean;
BEGIN
  entered := civitas_enter_tenant(p_tenant, p_now);
  INSERT INTO access_log (tenant_id, id, occurred_at, person_id, reader, source_tenant_id,
                          scopes, consent_id, purpose)
  SELECT p_tenant, r.id, r.occurred_at, r.person_id, r.reader, r.source_tenant_id, r.scopes,
         r.consent_id, r.purpose
  FROM jsonb_to_recordset(p_rows) AS r(id uuid, occurred_at timestamptz, person_id uuid,
       reader text, source_tenant_id uuid, scopes text, consent_id uuid, purpose text);
END
$$;
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if !rls::is_postgres(m) {
            return Ok(());
        }
        rls::exec_all(m, &rls::drop_functions(REPLACED)).await?;
        for f in [ENTER_FUNCTION, VIEW_FUNCTION, LOG_FUNCTION] {
            m.get_connection().execute_unprepared(f).await?;
        }
        rls::exec_all(m, &rls::grant_execute(v8::ROLE_GRANTS)).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if !rls::is_postgres(m) {
            return Ok(());
        }
        rls::exec_all(m, &rls::drop_functions(REPLACED)).await?;
        m.get_connection().execute_unprepared(v8::FUNCTIONS).await?;
        rls::exec_all(m, &rls::grant_execute(v8::ROLE_GRANTS)).await
    }
}
