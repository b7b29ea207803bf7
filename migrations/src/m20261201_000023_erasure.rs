//! Erasure (GDPR art. 17) with legal retention.
//!
//! - `retention_rules`: how many years a body keeps the cases of a service after they
//!   close (`service_code` empty: the body's default), and the legal minimum below which
//!   its administrators may not set it.
//! - `erasure_requests`: a citizen's request, global like the person it is about. The
//!   citizen and the bodies that know them see it.
//! - `erasure_steps`: what one body erased and what it kept, and until when; the citizen
//!   reads their own.
//! - `cases.erase_after`: a case kept under a retention duty after its citizen asked for
//!   erasure is restricted until then, and erased then.
//!
//! On PostgreSQL two `SECURITY DEFINER` functions do what the application role may not:
//! list the requests not yet settled (ids only), and drop the codice fiscale of a person
//! of whom no body holds anything any more.

use sea_orm_migration::{prelude::*, schema::*};

use crate::rls::{self, APP_ROLE};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone)]
enum RetentionRules {
    Table,
    TenantId,
    ServiceCode,
    KeepYears,
    MinimumYears,
    UpdatedBy,
    UpdatedAt,
}

#[derive(DeriveIden, Clone)]
enum ErasureRequests {
    Table,
    Id,
    PersonId,
    RequestedAt,
    RequestedBy,
    Channel,
    RecordedInTenantId,
    ForgottenAt,
}

#[derive(DeriveIden, Clone)]
enum ErasureSteps {
    Table,
    TenantId,
    Id,
    RequestId,
    PersonId,
    DoneAt,
    Erased,
    Kept,
}

#[derive(DeriveIden)]
enum Cases {
    Table,
    EraseAfter,
}

const FUNCTIONS: &str = r#"
-- The requests whose person still has a codice fiscale on record: ids only.
CREATE OR REPLACE FUNCTION civitas_open_erasures() RETURNS TABLE (id uuid, person_id uuid)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
  SELECT r.id, r.person_id FROM erasure_requests r WHERE r.forgotten_at IS NULL
$$;

-- Drops the codice fiscale of the current person, who asked for erasure, once no body
-- holds a profile or a case of theirs; withdraws what is left of their consents. Whether
-- it did.
CREATE OR REPLACE FUNCTION civitas_forget_person(p uuid) RETURNS boolean
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
  IF civitas_current_tenant() IS NOT NULL OR civitas_current_person() IS DISTINCT FROM p THEN
    RAISE EXCEPTION 'not allowed' USING ERRCODE = '42501';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM erasure_requests r WHERE r.person_id = p
                 AND r.forgotten_at IS NULL) THEN
    RETURN false;
  END IF;
  IF EXISTS (SELECT 1 FROM profiles f WHERE civitas_is_current_person(f.person_id))
     OR EXISTS (SELECT 1 FROM cases c WHERE civitas_is_current_person(c.person_id)) THEN
    RETURN false;
  END IF;
  UPDATE persons SET fiscal_code = NULL WHERE id = p OR merged_into = p;
  DELETE FROM sharing_consents s WHERE civitas_is_current_person(s.person_id);
  DELETE FROM consent_requests s WHERE civitas_is_current_person(s.person_id);
  UPDATE erasure_requests SET forgotten_at = civitas_now()
    WHERE person_id = p AND forgotten_at IS NULL;
  RETURN true;
END
$$;
"#;

/// Tables whose rows erasure deletes and the application role could not delete until now
/// (case history and interactions were append-only: now only erasure deletes them).
const ERASED_TABLES: &str = "attachments, case_events, cases, channel_choices, delegations, \
    interactions, notification_attempts, notification_deliveries, notifications, \
    person_sources, privacy_consents, profiles";

/// The default grants of this release (policies::defaults), as rules.
const NEW_GRANTS: &[(&str, &str, &str)] = &[
    ("tenant_admin", "retention", "*"),
    ("supervisor", "retention", "read"),
    ("supervisor", "erasure", "record"),
];

const SIGNATURES: &[&str] = &["civitas_open_erasures()", "civitas_forget_person(uuid)"];

/// The citizen, and a body that knows them, see (and may file) a request.
const PARTIES: &str =
    "civitas_is_current_person(person_id) OR civitas_person_known(person_id, NULL)";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use ErasureRequests as R;
        use ErasureSteps as S;
        use RetentionRules as K;
        m.create_table(
            Table::create()
                .table(K::Table)
                .col(uuid(K::TenantId))
                .col(text(K::ServiceCode))
                .col(integer(K::KeepYears))
                .col(integer(K::MinimumYears))
                .col(text(K::UpdatedBy))
                .col(timestamp_with_time_zone(K::UpdatedAt))
                .primary_key(Index::create().col(K::TenantId).col(K::ServiceCode))
                .to_owned(),
        )
        .await?;
        rls::protect_tenant_table(m, "retention_rules", "SELECT, INSERT, UPDATE").await?;
        m.create_table(
            Table::create()
                .table(R::Table)
                .col(uuid(R::Id).primary_key())
                .col(uuid(R::PersonId))
                .col(timestamp_with_time_zone(R::RequestedAt))
                .col(text(R::RequestedBy))
                .col(text(R::Channel))
                .col(uuid_null(R::RecordedInTenantId))
                .col(timestamp_with_time_zone_null(R::ForgottenAt))
                .to_owned(),
        )
        .await?;
        rls::index(
            m,
            "ix_erasure_requests_person",
            R::Table,
            &["person_id"],
            false,
        )
        .await?;
        m.create_table(
            Table::create()
                .table(S::Table)
                .col(uuid(S::TenantId))
                .col(uuid(S::Id))
                .col(uuid(S::RequestId))
                .col(uuid(S::PersonId))
                .col(timestamp_with_time_zone(S::DoneAt))
                .col(json_binary(S::Erased))
                .col(json_binary(S::Kept))
                .primary_key(Index::create().col(S::TenantId).col(S::Id))
                .to_owned(),
        )
        .await?;
        rls::index(
            m,
            "ux_erasure_steps_request",
            S::Table,
            &["tenant_id", "request_id"],
            true,
        )
        .await?;
        rls::protect_person_table(m, "erasure_steps", "SELECT, INSERT, UPDATE").await?;
        m.alter_table(
            Table::alter()
                .table(Cases::Table)
                .add_column(timestamp_with_time_zone_null(Cases::EraseAfter))
                .to_owned(),
        )
        .await?;
        // Bodies onboarded before this release get the grants new bodies start with.
        for (role, object, action) in NEW_GRANTS {
            m.get_connection()
                .execute_unprepared(&format!(
                    "INSERT INTO casbin_rule (ptype, v0, v1, v2, v3, v4, v5)
                     SELECT DISTINCT 'p', '{role}', d.v1, '{object}', '{action}', '', ''
                     FROM casbin_rule d
                     WHERE d.ptype = 'p' AND d.v0 = 'tenant_admin' AND d.v2 = 'tenant'
                       AND NOT EXISTS (SELECT 1 FROM casbin_rule x WHERE x.ptype = 'p'
                         AND x.v0 = '{role}' AND x.v1 = d.v1 AND x.v2 = '{object}'
                         AND x.v3 = '{action}')"
                ))
                .await?;
        }
        if !rls::is_postgres(m) {
            return Ok(());
        }
        m.get_connection().execute_unprepared(FUNCTIONS).await?;
        let mut sql = rls::grant_execute(SIGNATURES);
        sql.extend([
            format!("GRANT DELETE ON {ERASED_TABLES} TO {APP_ROLE}"),
            "ALTER TABLE erasure_requests ENABLE ROW LEVEL SECURITY".to_owned(),
            "ALTER TABLE erasure_requests FORCE ROW LEVEL SECURITY".to_owned(),
            format!("CREATE POLICY parties ON erasure_requests FOR SELECT USING ({PARTIES})"),
            format!(
                "CREATE POLICY filed ON erasure_requests FOR INSERT \
                 WITH CHECK (forgotten_at IS NULL AND ({PARTIES}))"
            ),
            // Only the definer function updates (the application role has no grant); the
            // policy lets it when the schema owner is not a superuser.
            "CREATE POLICY settled ON erasure_requests FOR UPDATE \
             USING (civitas_is_current_person(person_id))"
                .to_owned(),
            format!("GRANT SELECT, INSERT ON erasure_requests TO {APP_ROLE}"),
        ]);
        rls::exec_all(m, &sql).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if rls::is_postgres(m) {
            let mut sql = rls::drop_functions(SIGNATURES);
            sql.push(format!("REVOKE DELETE ON {ERASED_TABLES} FROM {APP_ROLE}"));
            rls::exec_all(m, &sql).await?;
        }
        m.get_connection()
            .execute_unprepared(
                "DELETE FROM casbin_rule WHERE ptype = 'p' AND v2 IN ('retention', 'erasure')",
            )
            .await?;
        m.alter_table(
            Table::alter()
                .table(Cases::Table)
                .drop_column(Cases::EraseAfter)
                .to_owned(),
        )
        .await?;
        for t in ["erasure_steps", "erasure_requests", "retention_rules"] {
            m.drop_table(Table::drop().table(Alias::new(t)).to_owned())
                .await?;
        }
        Ok(())
    }
}
