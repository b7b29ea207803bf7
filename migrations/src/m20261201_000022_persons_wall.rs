//! Persons under the wall (PostgreSQL only). Until now the application role could read
//! every person's codice fiscale, and every (issuer, subject) linked to a person, with no
//! tenant set. Now:
//!
//! - `persons` shows a row only to a transaction bound to that person (the citizen and the
//!   records merged into them) or to a tenant that holds a record of them: a profile of the
//!   person or of a record merged with them, or an active sharing consent whose grantee it
//!   is. The application role may insert only unidentified records (no codice fiscale) and
//!   may not update any.
//! - `person_identities` shows a citizen their own identities, no one else anything.
//! - What needs more goes through `SECURITY DEFINER` functions that answer only what their
//!   caller needs: the id of the record holding an exact codice fiscale
//!   (`civitas_person_id`), registering an identified person (`civitas_register_person`),
//!   a signed-in citizen's records by their identity, linked on first sign-in
//!   (`civitas_citizen_sign_in`), and a merge between two records the current tenant knows
//!   (`civitas_merge_person`).
//!
//! Row-level security is enabled but not forced on these two tables: the functions run as
//! the schema owner, which must read them whole (a forced policy would also recurse, since
//! it reads `persons` itself).

use sea_orm_migration::prelude::*;

use crate::rls::{self, APP_ROLE};

#[derive(DeriveMigrationName)]
pub struct Migration;

const FUNCTIONS: &str = r#"
-- Whether the current transaction may see the person record (p_id, p_merged).
CREATE OR REPLACE FUNCTION civitas_person_known(p_id uuid, p_merged uuid) RETURNS boolean
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
  me uuid := civitas_current_person();
  t uuid := civitas_current_tenant();
  r uuid := COALESCE(p_merged, p_id);
BEGIN
  IF me IS NOT NULL AND (p_id = me OR p_merged = me) THEN
    RETURN true;
  END IF;
  IF t IS NULL OR r IS NULL THEN
    RETURN false;
  END IF;
  RETURN EXISTS (SELECT 1 FROM profiles f WHERE f.tenant_id = t AND f.person_id = r)
      OR EXISTS (SELECT 1 FROM persons x JOIN profiles f ON f.person_id = x.id
                 WHERE x.merged_into = r AND f.tenant_id = t)
      OR EXISTS (SELECT 1 FROM sharing_consents c
                 WHERE c.grantee_tenant_id = t AND c.revoked_at IS NULL
                   AND (c.expires_at IS NULL OR c.expires_at > civitas_now())
                   AND (c.person_id = r
                        OR c.person_id IN (SELECT x.id FROM persons x WHERE x.merged_into = r)));
END
$$;

-- The id of the record holding this codice fiscale (it may have been merged), and nothing
-- else of it: look-ups by exact code.
CREATE OR REPLACE FUNCTION civitas_person_id(p_code text) RETURNS uuid
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
  SELECT id FROM persons WHERE fiscal_code = p_code
$$;

-- The record a codice fiscale belongs to now (following a merge), created with `p_new` as
-- its id if no body has met the person yet. Safe against two bodies registering at once.
CREATE OR REPLACE FUNCTION civitas_register_person(p_code text, p_new uuid) RETURNS uuid
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
  found uuid;
BEGIN
  IF p_code IS NULL OR p_code = '' THEN
    RAISE EXCEPTION 'a codice fiscale is required' USING ERRCODE = '22023';
  END IF;
  INSERT INTO persons (id, fiscal_code, oidc_subject, merged_into, created_at)
    VALUES (p_new, p_code, NULL, NULL, civitas_now())
    ON CONFLICT (fiscal_code) DO NOTHING;
  SELECT COALESCE(merged_into, id) INTO found FROM persons WHERE fiscal_code = p_code;
  RETURN found;
END
$$;

-- The records of the citizen with this identity, the one not merged first. On the first
-- sign-in (no link yet) the identity is linked to the person of `p_code`, registered if
-- new; with no link and no code, no rows.
CREATE OR REPLACE FUNCTION civitas_citizen_sign_in(p_issuer text, p_subject text,
                                                   p_code text, p_new uuid)
  RETURNS TABLE (id uuid, is_root boolean)
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
  linked uuid;
  root uuid;
BEGIN
  SELECT i.person_id INTO linked FROM person_identities i
    WHERE i.issuer = p_issuer AND i.subject = p_subject;
  IF linked IS NULL THEN
    IF p_code IS NULL OR p_code = '' THEN
      RETURN;
    END IF;
    linked := civitas_register_person(p_code, p_new);
    INSERT INTO person_identities (issuer, subject, person_id, created_at)
      VALUES (p_issuer, p_subject, linked, civitas_now())
      ON CONFLICT (issuer, subject) DO NOTHING;
    SELECT i.person_id INTO linked FROM person_identities i
      WHERE i.issuer = p_issuer AND i.subject = p_subject;
  END IF;
  SELECT COALESCE(p.merged_into, p.id) INTO root FROM persons p WHERE p.id = linked;
  RETURN QUERY
    SELECT root, true
    UNION ALL
    SELECT x.id, false FROM persons x WHERE x.merged_into = root;
END
$$;

-- Merges record `p_source` into `p_target` (and what was merged into the source), for a
-- tenant that knows both.
CREATE OR REPLACE FUNCTION civitas_merge_person(p_source uuid, p_target uuid) RETURNS void
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
  IF civitas_current_tenant() IS NULL
     OR NOT EXISTS (SELECT 1 FROM persons WHERE id = p_source AND merged_into IS NULL
                    AND civitas_person_known(id, merged_into))
     OR NOT EXISTS (SELECT 1 FROM persons WHERE id = p_target AND merged_into IS NULL
                    AND civitas_person_known(id, merged_into)) THEN
    RAISE EXCEPTION 'person not found' USING ERRCODE = 'P0002';
  END IF;
  UPDATE persons SET merged_into = p_target WHERE merged_into = p_source OR id = p_source;
END
$$;
"#;

/// Who sees a person row: one call of `civitas_person_known` per row. Stating its common
/// cases inline instead (the citizen's own record, an `EXISTS` over the tenant's profiles,
/// then the call) was measured 7x slower on the citizen view and on pgbench's run of its
/// statements (337 against 2,283 views/s, 0.1x data, 8 clients), so the call stays.
const KNOWN_POLICY: &str =
    "CREATE POLICY known ON persons FOR SELECT USING (civitas_person_known(id, merged_into))";

const SIGNATURES: &[&str] = &[
    "civitas_person_known(uuid, uuid)",
    "civitas_person_id(text)",
    "civitas_register_person(text, uuid)",
    "civitas_citizen_sign_in(text, text, text, uuid)",
    "civitas_merge_person(uuid, uuid)",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if !rls::is_postgres(m) {
            return Ok(());
        }
        m.get_connection().execute_unprepared(FUNCTIONS).await?;
        let mut sql = rls::grant_execute(SIGNATURES);
        sql.extend([
            "ALTER TABLE persons ENABLE ROW LEVEL SECURITY".to_owned(),
            KNOWN_POLICY.to_owned(),
            "CREATE POLICY unidentified ON persons FOR INSERT WITH CHECK \
             (fiscal_code IS NULL AND merged_into IS NULL AND civitas_current_tenant() IS NOT NULL)"
                .to_owned(),
            format!("REVOKE UPDATE ON persons FROM {APP_ROLE}"),
            "ALTER TABLE person_identities ENABLE ROW LEVEL SECURITY".to_owned(),
            "CREATE POLICY own ON person_identities FOR SELECT \
             USING (civitas_is_current_person(person_id))"
                .to_owned(),
            format!("REVOKE INSERT, UPDATE ON person_identities FROM {APP_ROLE}"),
        ]);
        rls::exec_all(m, &sql).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if !rls::is_postgres(m) {
            return Ok(());
        }
        let mut sql = vec![
            "DROP POLICY IF EXISTS own ON person_identities".to_owned(),
            "ALTER TABLE person_identities DISABLE ROW LEVEL SECURITY".to_owned(),
            format!("GRANT INSERT, UPDATE ON person_identities TO {APP_ROLE}"),
            "DROP POLICY IF EXISTS unidentified ON persons".to_owned(),
            "DROP POLICY IF EXISTS known ON persons".to_owned(),
            "ALTER TABLE persons DISABLE ROW LEVEL SECURITY".to_owned(),
            format!("GRANT UPDATE ON persons TO {APP_ROLE}"),
        ];
        sql.extend(rls::drop_functions(SIGNATURES));
        rls::exec_all(m, &sql).await
    }
}
