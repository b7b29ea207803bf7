//! The consent checks the RLS policies call, rewritten in PL/pgSQL, and the consent table's
//! policy reordered so that its cheap tests come first. PostgreSQL only.
//!
//! A SQL function that cannot be inlined (SECURITY DEFINER with its own `search_path`
//! never is) has its body parsed and planned again in every statement that calls it, once
//! per call site. A citizen view under consent calls `civitas_shared` from four policies
//! (profiles, contacts, cases, interactions), and that planning was a quarter of
//! PostgreSQL's CPU on such a view. PL/pgSQL keeps its statements' plans for the session.
//! Measured with pgbench on consented views only (docs/performance.md): about 1,170 to
//! 2,370 transactions/s at 0.1x. The functions answer exactly as before.

use sea_orm_migration::prelude::*;

use crate::rls;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Migration 11 restores this one on its way down.
pub(crate) const IS_CURRENT_PERSON: &str = r#"
CREATE OR REPLACE FUNCTION civitas_is_current_person(p uuid) RETURNS boolean
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
  me uuid := civitas_current_person();
BEGIN
  IF me IS NULL THEN
    RETURN false;
  END IF;
  RETURN p = me OR EXISTS (SELECT 1 FROM persons WHERE id = p AND merged_into = me);
END
$$;
"#;

const SHARED: &str = r#"
CREATE OR REPLACE FUNCTION civitas_shared(p uuid, source uuid, scope text) RETURNS boolean
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
  grantee uuid := civitas_current_tenant();
BEGIN
  IF grantee IS NULL THEN
    RETURN false;
  END IF;
  RETURN EXISTS (
    SELECT 1 FROM sharing_consents c
    WHERE c.person_id IN (
            SELECT COALESCE(x.merged_into, x.id) FROM persons x WHERE x.id = p
            UNION SELECT y.id FROM persons y
                  WHERE y.merged_into = (SELECT COALESCE(z.merged_into, z.id) FROM persons z WHERE z.id = p))
      AND c.grantee_tenant_id = grantee
      AND (c.source_tenant_id IS NULL OR c.source_tenant_id = source)
      AND c.source_tenant_id IS DISTINCT FROM c.grantee_tenant_id
      AND c.revoked_at IS NULL
      AND (c.expires_at IS NULL OR c.expires_at > civitas_now())
      AND position(',' || scope || ',' in ',' || c.scopes || ',') > 0);
END
$$;
"#;

/// The same parties as [`rls::PARTIES_V1`]; the comparisons first, so that a row of the
/// reader's own body never calls the function.
const PARTIES: &str = "grantee_tenant_id = civitas_current_tenant() \
    OR source_tenant_id = civitas_current_tenant() \
    OR collected_in_tenant_id = civitas_current_tenant() \
    OR civitas_is_current_person(person_id)";

fn parties(visible: &str) -> String {
    format!("ALTER POLICY parties ON sharing_consents USING ({visible}) WITH CHECK ({visible})")
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if !rls::is_postgres(m) {
            return Ok(());
        }
        let conn = m.get_connection();
        conn.execute_unprepared(IS_CURRENT_PERSON).await?;
        conn.execute_unprepared(SHARED).await?;
        rls::exec_all(m, &[parties(PARTIES)]).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if !rls::is_postgres(m) {
            return Ok(());
        }
        m.get_connection()
            .execute_unprepared(rls::FUNCTIONS)
            .await?;
        rls::exec_all(m, &[parties(rls::PARTIES_V1)]).await
    }
}
