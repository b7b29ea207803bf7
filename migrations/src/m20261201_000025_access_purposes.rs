//! Every access on record (GDPR arts. 5(2), 15): reads by a body's own staff join the
//! access log, each with the purpose its reader declared.
//!
//! - `access_purposes`: each body's list of purposes its staff choose from when they open a
//!   citizen view outside a case, with the legal basis that allows the read. Every existing
//!   body gets the three defaults new bodies get at onboarding.
//! - `access_log`: `consent_id` may be empty (a read of the body's own records rests on a
//!   legal basis, not a consent); `basis` says which, `legal_basis` names it, `action` says
//!   what kind of access it was (a citizen view, a caller recognition), `case_id` the case
//!   that gave its purpose. SQLite cannot drop a NOT NULL: the table is rebuilt there.
//! - `civitas_citizen_view` takes the reader, the declared purpose or case and the entry's
//!   id, checks the purpose against the body's list and writes the own-body entry itself,
//!   in the same call as the reads: a view costs no round trip more than before. It reads
//!   nothing when the purpose is not the body's, and reads the family once (each read of
//!   `persons` checks its policy per row). Its commit does not wait for the WAL flush
//!   (measured in docs/performance-journal.md, tenth round). `civitas_log_access` writes
//!   the new columns.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261122_000003_citizens::add_rules_to_existing_tenants;
use crate::m20261129_000008_citizen_view_function as v8;
use crate::m20261129_000009_citizen_view_parts as v9;
use crate::rls;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone)]
enum AccessPurposes {
    Table,
    TenantId,
    Code,
    Label,
    LegalBasis,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
    RetiredAt,
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
    Basis,
    Action,
    CaseId,
    LegalBasis,
}

/// The purposes every body starts with (crm::access_purposes::DEFAULTS, as of this release).
const DEFAULTS: &[(&str, &str, &str)] = &[
    (
        "case_handling",
        "Istruttoria di una pratica",
        "Art. 6(1)(e) GDPR: esecuzione di un compito di interesse pubblico (L. 241/1990)",
    ),
    (
        "citizen_contact",
        "Risposta al cittadino che si rivolge all'ente",
        "Art. 6(1)(e) GDPR: esecuzione di un compito di interesse pubblico",
    ),
    (
        "verification",
        "Controlli d'ufficio sulle dichiarazioni",
        "Art. 6(1)(c) GDPR: obbligo di legge (D.P.R. 445/2000, art. 71)",
    ),
];

/// The default grants of this release (policies::defaults), as rules.
const NEW_GRANTS: &[(&str, &str, &str)] = &[
    ("operator", "access_purpose", "read"),
    ("tutor", "access_purpose", "read"),
    ("tenant_admin", "access_purpose", "*"),
];

const VIEW_V9: &str = "civitas_citizen_view(uuid, text, uuid, boolean, boolean)";
const VIEW: &str =
    "civitas_citizen_view(uuid, text, uuid, boolean, boolean, uuid, text, text, uuid)";
const LOG: &str = "civitas_log_access(uuid, text, jsonb)";

const FUNCTIONS: &str = r#"
CREATE FUNCTION civitas_citizen_view(
    p_tenant uuid, p_now text, p_person uuid, p_cases boolean, p_interactions boolean,
    p_entry uuid, p_reader text, p_purpose text, p_case uuid)
  RETURNS TABLE (family text, consents text, profile_rows text, contact_rows text,
                 case_rows text, interaction_rows text, purpose text)
  LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
DECLARE
  entered boolean;
  v_family text;
  v_ids uuid[];
  v_root boolean;
  v_label text;
  v_basis text;
  ignored text;
BEGIN
  entered := civitas_enter_tenant(p_tenant, p_now);
  -- The entry is the call's only write: its commit does not wait for the WAL to reach the
  -- disk. Waiting made the view 36% slower (pgbench too); a crash of the database server
  -- can lose the entries of its last moments (at most 3 x wal_writer_delay), never leave a
  -- partial one. Cross-body reads (civitas_log_access) are still committed durably.
  ignored := set_config('synchronous_commit', 'off', true);
  -- The person and the records merged into it, read once: each read of persons checks its
  -- policy per row.
  SELECT json_agg(f)::text, array_agg(f.id),
         COALESCE(bool_or(f.id = p_person AND f.merged_into IS NULL), false)
    INTO v_family, v_ids, v_root
    FROM (SELECT id, fiscal_code, oidc_subject, merged_into, created_at FROM persons
           WHERE id = p_person OR merged_into = p_person) f;
  -- The declared purpose must be one of the body's; a case gives its own, and must be one
  -- of this person's at the body, in use. Without one, nothing is read.
  IF p_case IS NOT NULL THEN
    SELECT COALESCE(ap.label, 'Istruttoria di una pratica') || ' (' || c.number || ')',
           COALESCE(ap.legal_basis, 'Art. 6(1)(e) GDPR')
      INTO v_label, v_basis
      FROM cases c
      LEFT JOIN access_purposes ap ON ap.tenant_id = p_tenant AND ap.code = 'case_handling'
     WHERE c.tenant_id = p_tenant AND c.id = p_case AND c.erase_after IS NULL
       AND c.person_id = ANY (v_ids);
  ELSE
    SELECT ap.label, ap.legal_basis INTO v_label, v_basis
      FROM access_purposes ap
     WHERE ap.tenant_id = p_tenant AND ap.code = p_purpose AND ap.retired_at IS NULL;
  END IF;
  IF v_label IS NULL THEN
    RETURN QUERY SELECT NULL::text, NULL::text, NULL::text, NULL::text, NULL::text,
                        NULL::text, NULL::text;
    RETURN;
  END IF;
  -- The body's own records: logged when the view will show them, that is when the person
  -- (not a record merged into another) has a profile here and none of them is restricted.
  IF v_root AND (SELECT bool_and(p.restricted_at IS NULL) FROM profiles p
                  WHERE p.tenant_id = p_tenant AND p.merged_into IS NULL
                    AND p.person_id = ANY (v_ids)) THEN
    INSERT INTO access_log (tenant_id, id, occurred_at, person_id, reader, source_tenant_id,
                            scopes, consent_id, purpose, basis, action, case_id, legal_basis)
    VALUES (p_tenant, p_entry, COALESCE(NULLIF(p_now, '')::timestamptz, now()), p_person,
            p_reader, p_tenant,
            concat_ws(',', 'profile', CASE WHEN p_cases THEN 'cases' END,
                      CASE WHEN p_interactions THEN 'interactions' END),
            NULL, v_label, 'legal_basis', 'citizen_view', p_case, v_basis);
  END IF;
  RETURN QUERY
    WITH con AS MATERIALIZED (
      SELECT sc.* FROM sharing_consents sc
      WHERE sc.person_id = ANY (v_ids)
        AND sc.grantee_tenant_id = p_tenant AND sc.revoked_at IS NULL),
    bodies AS (
      SELECT p_tenant || array_agg(source_tenant_id) FILTER (WHERE source_tenant_id IS NOT NULL) AS v,
             COALESCE(bool_or(source_tenant_id IS NULL), false) AS every
      FROM con)
    SELECT
      v_family AS family,
      (SELECT json_agg(con)::text FROM con) AS consents,
      (SELECT json_agg(p ORDER BY p.tenant_id, p.id)::text FROM profiles p
       WHERE p.person_id = ANY (v_ids)
         AND (p.tenant_id = ANY ((SELECT v FROM bodies)::uuid[]) OR (SELECT every FROM bodies))
         AND p.merged_into IS NULL) AS profile_rows,
      (SELECT json_agg(c ORDER BY c.id)::text FROM contacts c
       WHERE c.person_id = ANY (v_ids)
         AND (c.tenant_id = ANY ((SELECT v FROM bodies)::uuid[]) OR (SELECT every FROM bodies))) AS contact_rows,
      CASE WHEN p_cases THEN
        (SELECT json_agg(c)::text FROM cases c
         WHERE c.person_id = ANY (v_ids)
           AND (c.tenant_id = ANY ((SELECT v FROM bodies)::uuid[]) OR (SELECT every FROM bodies)))
      END AS case_rows,
      CASE WHEN p_interactions THEN
        (SELECT json_agg(i)::text FROM interactions i
         WHERE i.person_id = ANY (v_ids)
           AND (i.tenant_id = ANY ((SELECT v FROM bodies)::uuid[]) OR (SELECT every FROM bodies)))
      END AS interaction_rows,
      json_build_object('label', v_label, 'legal_basis', v_basis)::text AS purpose;
END
$$;

ALTER FUNCTION civitas_citizen_view(uuid, text, uuid, boolean, boolean, uuid, text, text, uuid)
  SET plan_cache_mode = force_generic_plan;

CREATE OR REPLACE FUNCTION civitas_log_access(p_tenant uuid, p_now text, p_rows jsonb)
  RETURNS void LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  entered boolean;
BEGIN
  entered := civitas_enter_tenant(p_tenant, p_now);
  INSERT INTO access_log (tenant_id, id, occurred_at, person_id, reader, source_tenant_id,
                          scopes, consent_id, purpose, basis, action, case_id, legal_basis)
  SELECT p_tenant, r.id, r.occurred_at, r.person_id, r.reader, r.source_tenant_id, r.scopes,
         r.consent_id, r.purpose, r.basis, r.action, r.case_id, r.legal_basis
  FROM jsonb_to_recordset(p_rows) AS r(id uuid, occurred_at timestamptz, person_id uuid,
       reader text, source_tenant_id uuid, scopes text, consent_id uuid, purpose text,
       basis text, action text, case_id uuid, legal_basis text);
END
$$;
"#;

fn access_log_table(name: &str) -> TableCreateStatement {
    use AccessLog as L;
    Table::create()
        .table(Alias::new(name))
        .col(uuid(L::TenantId))
        .col(uuid(L::Id))
        .col(timestamp_with_time_zone(L::OccurredAt))
        .col(uuid(L::PersonId))
        .col(text(L::Reader))
        .col(uuid(L::SourceTenantId))
        .col(text(L::Scopes))
        .col(uuid_null(L::ConsentId))
        .col(text(L::Purpose))
        .col(text(L::Basis).default("consent"))
        .col(text(L::Action).default("citizen_view"))
        .col(uuid_null(L::CaseId))
        .col(text_null(L::LegalBasis))
        .primary_key(Index::create().col(L::TenantId).col(L::Id))
        .to_owned()
}

/// SQLite: the log rebuilt with the new columns and an optional consent.
async fn rebuild_access_log_on_sqlite(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    m.create_table(access_log_table("access_log_next")).await?;
    let conn = m.get_connection();
    conn.execute_unprepared(
        "INSERT INTO access_log_next (tenant_id, id, occurred_at, person_id, reader, \
         source_tenant_id, scopes, consent_id, purpose) \
         SELECT tenant_id, id, occurred_at, person_id, reader, source_tenant_id, scopes, \
         consent_id, purpose FROM access_log",
    )
    .await?;
    conn.execute_unprepared("DROP TABLE access_log").await?;
    conn.execute_unprepared("ALTER TABLE access_log_next RENAME TO access_log")
        .await?;
    rls::index(
        m,
        "ix_access_log_time",
        AccessLog::Table,
        &["tenant_id", "occurred_at"],
        false,
    )
    .await?;
    rls::index(
        m,
        "ix_access_log_person_any_tenant",
        AccessLog::Table,
        &["person_id"],
        false,
    )
    .await
}

/// Each existing body's default purposes; on PostgreSQL entering each body, so that the
/// insert passes the table's forced policy whoever runs the migration.
async fn add_default_purposes(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    let values: Vec<String> = DEFAULTS
        .iter()
        .map(|(code, label, basis)| {
            let q = |s: &str| format!("'{}'", s.replace('\'', "''"));
            format!("({}, {}, {})", q(code), q(label), q(basis))
        })
        .collect();
    let insert = |tenant: &str| {
        format!(
            "INSERT INTO access_purposes (tenant_id, code, label, legal_basis, created_by, \
             created_at, updated_at) \
             SELECT {tenant}, d.code, d.label, d.legal_basis, 'civitas', CURRENT_TIMESTAMP, \
             CURRENT_TIMESTAMP FROM (VALUES {}) AS d(code, label, legal_basis)",
            values.join(", ")
        )
    };
    let sql = if rls::is_postgres(m) {
        format!(
            "DO $$ DECLARE t uuid; ignored text; BEGIN \
             FOR t IN SELECT id FROM tenants LOOP \
               ignored := set_config('app.tenant_id', t::text, true); {}; \
             END LOOP; \
             ignored := set_config('app.tenant_id', '', true); END $$",
            insert("t")
        )
    } else {
        // SQLite names a VALUES list's columns column1, column2, ...
        format!(
            "INSERT INTO access_purposes (tenant_id, code, label, legal_basis, created_by, \
             created_at, updated_at) \
             SELECT t.id, d.column1, d.column2, d.column3, 'civitas', CURRENT_TIMESTAMP, \
             CURRENT_TIMESTAMP FROM tenants t, (VALUES {}) AS d",
            values.join(", ")
        )
    };
    m.get_connection().execute_unprepared(&sql).await?;
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use AccessPurposes as P;
        m.create_table(
            Table::create()
                .table(P::Table)
                .col(uuid(P::TenantId))
                .col(text(P::Code))
                .col(text(P::Label))
                .col(text(P::LegalBasis))
                .col(text(P::CreatedBy))
                .col(timestamp_with_time_zone(P::CreatedAt))
                .col(timestamp_with_time_zone(P::UpdatedAt))
                .col(timestamp_with_time_zone_null(P::RetiredAt))
                .primary_key(Index::create().col(P::TenantId).col(P::Code))
                .to_owned(),
        )
        .await?;
        rls::protect_tenant_table(m, "access_purposes", "SELECT, INSERT, UPDATE").await?;
        add_default_purposes(m).await?;
        add_rules_to_existing_tenants(m, NEW_GRANTS).await?;
        if !rls::is_postgres(m) {
            return rebuild_access_log_on_sqlite(m).await;
        }
        let mut sql = vec![
            "ALTER TABLE access_log ALTER COLUMN consent_id DROP NOT NULL, \
             ADD COLUMN basis text NOT NULL DEFAULT 'consent', \
             ADD COLUMN action text NOT NULL DEFAULT 'citizen_view', \
             ADD COLUMN case_id uuid, ADD COLUMN legal_basis text"
                .to_owned(),
        ];
        sql.extend(rls::drop_functions(&[VIEW_V9]));
        rls::exec_all(m, &sql).await?;
        m.get_connection().execute_unprepared(FUNCTIONS).await?;
        rls::exec_all(m, &rls::grant_execute(&[VIEW, LOG])).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection()
            .execute_unprepared(
                "DELETE FROM casbin_rule WHERE ptype = 'p' AND v2 = 'access_purpose'",
            )
            .await?;
        m.drop_table(Table::drop().table(AccessPurposes::Table).to_owned())
            .await?;
        // Entries without a consent cannot go back into the old table.
        m.get_connection()
            .execute_unprepared("DELETE FROM access_log WHERE consent_id IS NULL")
            .await?;
        if !rls::is_postgres(m) {
            for c in [
                AccessLog::Basis,
                AccessLog::Action,
                AccessLog::CaseId,
                AccessLog::LegalBasis,
            ] {
                m.alter_table(
                    Table::alter()
                        .table(AccessLog::Table)
                        .drop_column(c)
                        .to_owned(),
                )
                .await?;
            }
            return Ok(());
        }
        let mut sql = rls::drop_functions(&[VIEW]);
        sql.push(
            "ALTER TABLE access_log ALTER COLUMN consent_id SET NOT NULL, DROP COLUMN basis, \
             DROP COLUMN action, DROP COLUMN case_id, DROP COLUMN legal_basis"
                .to_owned(),
        );
        rls::exec_all(m, &sql).await?;
        let conn = m.get_connection();
        conn.execute_unprepared(v9::LOG_FUNCTION).await?;
        conn.execute_unprepared(v9::VIEW_FUNCTION).await?;
        conn.execute_unprepared(
            "ALTER FUNCTION civitas_citizen_view(uuid, text, uuid, boolean, boolean) \
             SET plan_cache_mode = force_generic_plan",
        )
        .await?;
        rls::exec_all(m, &rls::grant_execute(v8::ROLE_GRANTS)).await
    }
}
