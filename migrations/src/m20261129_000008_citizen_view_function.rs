//! The citizen view as a database function, and the function that enters a tenant for
//! such calls. PostgreSQL only.
//!
//! A scope costs four round trips (BEGIN, `set_config`, the statement, COMMIT) and each wakes
//! a PostgreSQL backend: for a read that is one statement, the transaction around it was
//! most of the work of both sides. `civitas_enter_tenant` does what a scope's `set_config`
//! does, for the transaction of the statement that calls it, so that a function beginning
//! with it reads under the same RLS policies in one round trip (`Db::call_in_tenant`).
//! `civitas_citizen_view` is the view's reads: the person and its merged records, their
//! unrevoked consents to the reader's body, and the profiles (with contacts), cases and
//! interactions of that body and of the bodies those consents name, each as a JSON array.
//! Its body filter is coarse (any such consent's source); the policies decide what is
//! visible, and the application labels each row and drops what no active consent covers.
//! `civitas_log_access` writes the access-log entries the application made of that
//! labelling, in one call as well.

use sea_orm_migration::prelude::*;

use crate::rls;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// As this migration created them (and as migration 9 restores them when rolled back).
pub(crate) const FUNCTIONS: &str = r#"
CREATE OR REPLACE FUNCTION civitas_enter_tenant(p_tenant uuid, p_now text) RETURNS void
  LANGUAGE plpgsql VOLATILE AS $$
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
  PERFORM set_config('app.tenant_id', p_tenant::text, true),
          set_config('app.person_id', '', true),
          set_config('app.now', COALESCE(p_now, ''), true);
END
$$;

CREATE OR REPLACE FUNCTION civitas_citizen_view(
    p_tenant uuid, p_now text, p_person uuid, p_cases boolean, p_interactions boolean)
  RETURNS TABLE (family text, consents text, profile_rows text, case_rows text,
                 interaction_rows text)
  LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
BEGIN
  PERFORM civitas_enter_tenant(p_tenant, p_now);
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
      (SELECT json_agg(json_build_object('profile', p, 'contacts',
                (SELECT COALESCE(json_agg(c ORDER BY c.id), '[]') FROM contacts c
                 WHERE c.tenant_id = p.tenant_id AND c.profile_id = p.id))
              ORDER BY p.tenant_id, p.id)::text
       FROM profiles p
       WHERE p.person_id = ANY ((SELECT v FROM ids)::uuid[])
         AND (p.tenant_id = ANY ((SELECT v FROM bodies)::uuid[]) OR (SELECT every FROM bodies))
         AND p.merged_into IS NULL) AS profile_rows,
      (SELECT json_agg(c)::text FROM cases c
       WHERE p_cases AND c.person_id = ANY ((SELECT v FROM ids)::uuid[])
         AND (c.tenant_id = ANY ((SELECT v FROM bodies)::uuid[]) OR (SELECT every FROM bodies))) AS case_rows,
      (SELECT json_agg(i)::text FROM interactions i
       WHERE p_interactions AND i.person_id = ANY ((SELECT v FROM ids)::uuid[])
         AND (i.tenant_id = ANY ((SELECT v FROM bodies)::uuid[]) OR (SELECT every FROM bodies))) AS interaction_rows;
END
$$;

-- The access-log entries of a view, written for the body the call enters.
CREATE OR REPLACE FUNCTION civitas_log_access(p_tenant uuid, p_now text, p_rows jsonb)
  RETURNS void LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  PERFORM civitas_enter_tenant(p_tenant, p_now);
  INSERT INTO access_log (tenant_id, id, occurred_at, person_id, reader, source_tenant_id,
                          scopes, consent_id, purpose)
  SELECT p_tenant, r.id, r.occurred_at, r.person_id, r.reader, r.source_tenant_id, r.scopes,
         r.consent_id, r.purpose
  FROM jsonb_to_recordset(p_rows) AS r(id uuid, occurred_at timestamptz, person_id uuid,
       reader text, source_tenant_id uuid, scopes text, consent_id uuid, purpose text);
END
$$;
"#;

pub(crate) const ROLE_GRANTS: &[&str] = &[
    "civitas_enter_tenant(uuid, text)",
    "civitas_citizen_view(uuid, text, uuid, boolean, boolean)",
    "civitas_log_access(uuid, text, jsonb)",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if !rls::is_postgres(m) {
            return Ok(());
        }
        m.get_connection().execute_unprepared(FUNCTIONS).await?;
        rls::exec_all(m, &rls::grant_execute(ROLE_GRANTS)).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if !rls::is_postgres(m) {
            return Ok(());
        }
        rls::exec_all(m, &rls::drop_functions(ROLE_GRANTS)).await
    }
}
