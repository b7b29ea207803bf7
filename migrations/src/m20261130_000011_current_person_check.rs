//! `civitas_is_current_person` answers a citizen's own rows without starting a query.
//! PostgreSQL only.
//!
//! The policies call it for every row a citizen's own scope reads. Its one statement,
//! `p = me OR EXISTS (…)`, was planned again on every call: with the call's values as
//! constants, `p = me` folds to true for the citizen's own rows and that plan looks far
//! cheaper than the generic one, so PL/pgSQL never settled on a generic plan
//! (`pg_stat_statements` with `track = all`, `track_planning = on`: 90,616 plans for 90,609
//! calls during one run of the scenarios). Now `p = me` is a simple expression checked
//! first, and only a row of a record merged into the citizen runs the query. Same answers.

use sea_orm_migration::prelude::*;

use crate::m20261129_000007_plpgsql_policies as v7;
use crate::rls;

#[derive(DeriveMigrationName)]
pub struct Migration;

const IS_CURRENT_PERSON: &str = r#"
CREATE OR REPLACE FUNCTION civitas_is_current_person(p uuid) RETURNS boolean
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
  me uuid := civitas_current_person();
BEGIN
  IF me IS NULL OR p IS NULL THEN
    RETURN false;
  END IF;
  IF p = me THEN
    RETURN true;
  END IF;
  RETURN EXISTS (SELECT 1 FROM persons WHERE id = p AND merged_into = me);
END
$$;
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        rls::on_postgres(m, IS_CURRENT_PERSON).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        rls::on_postgres(m, v7::IS_CURRENT_PERSON).await
    }
}
