//! The citizen view's reads on PostgreSQL in one statement: the person and the records
//! merged into it, their sharing consents to the reader's body, and every profile (with
//! contacts), case and interaction of the bodies those consents name, each part returned as
//! one JSON array. With BEGIN, the tenant's `set_config` and COMMIT that is four round trips
//! where separate reads took eight, and the server's CPU per view is mostly round trips.
//!
//! The statement filters bodies coarsely, by the sources of any unrevoked consent to the
//! reader; the RLS policies decide what is visible, and the caller's labelling drops what no
//! active consent covers for that part (scope and expiry), as it does for separate reads.

use sea_orm::{ConnectionTrait, DbBackend, DbErr, QueryResult, Statement};
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::{Parts, Rows};
use crate::entity::{case, contact, interaction, person, profile, sharing_consent};
use crate::sharing::SharingConsent;
use civitas_tenants::Scope;

/// `$1` the person record, `$2` the reader's body, `$3` / `$4` whether cases / interactions
/// are wanted. Arrays computed once (`ids`, `bodies`) are compared with `= ANY(...)`, so
/// the planner turns them into parameters that an index scan can use, and tests them before
/// the policies (they are leakproof), which keeps other bodies' rows away from the consent
/// functions.
pub const SQL: &str = r#"
WITH fam AS MATERIALIZED (
  SELECT id, fiscal_code, oidc_subject, merged_into, created_at
  FROM persons WHERE id = $1 OR merged_into = $1),
con AS MATERIALIZED (
  SELECT sc.* FROM sharing_consents sc
  WHERE sc.person_id = ANY ((SELECT array_agg(id) FROM fam)::uuid[])
    AND sc.grantee_tenant_id = $2 AND sc.revoked_at IS NULL),
ids AS (SELECT array_agg(id) AS v FROM fam),
bodies AS (
  SELECT $2 || array_agg(source_tenant_id) FILTER (WHERE source_tenant_id IS NOT NULL) AS v,
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
     AND p.merged_into IS NULL) AS profiles,
  (SELECT json_agg(c)::text FROM cases c
   WHERE $3 AND c.person_id = ANY ((SELECT v FROM ids)::uuid[])
     AND (c.tenant_id = ANY ((SELECT v FROM bodies)::uuid[]) OR (SELECT every FROM bodies))) AS cases,
  (SELECT json_agg(i)::text FROM interactions i
   WHERE $4 AND i.person_id = ANY ((SELECT v FROM ids)::uuid[])
     AND (i.tenant_id = ANY ((SELECT v FROM bodies)::uuid[]) OR (SELECT every FROM bodies))) AS interactions
"#;

#[derive(serde::Deserialize)]
struct ProfileRow {
    profile: profile::Model,
    contacts: Vec<contact::Model>,
}

fn part<T: DeserializeOwned>(row: &QueryResult, column: &str) -> Result<Vec<T>, DbErr> {
    match row.try_get::<Option<String>>("", column)? {
        Some(text) => serde_json::from_str(&text)
            .map_err(|e| DbErr::Json(format!("citizen view, {column}: {e}"))),
        None => Ok(Vec::new()),
    }
}

/// The view's rows in one statement, or `None` where this read does not apply: on SQLite,
/// and when `id` is itself a record merged into another person (rare; separate reads follow
/// the merge). A person who does not exist gives empty `members`.
pub(super) async fn read(scope: &Scope, id: Uuid, parts: Parts) -> crate::Result<Option<Rows>> {
    let conn = scope.conn();
    if conn.get_database_backend() != DbBackend::Postgres {
        return Ok(None);
    }
    let statement = Statement::from_sql_and_values(
        DbBackend::Postgres,
        SQL,
        [
            id.into(),
            scope.tenant_id().0.into(),
            parts.cases.into(),
            parts.interactions.into(),
        ],
    );
    let row = conn
        .query_one_raw(statement)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("citizen view row".into()))?;
    let family: Vec<person::Model> = part(&row, "family")?;
    let Some(me) = family.iter().find(|p| p.id == id).cloned() else {
        return Ok(Some(Rows::default()));
    };
    if me.merged_into.is_some() {
        return Ok(None);
    }
    let members = std::iter::once(me)
        .chain(family.into_iter().filter(|p| p.id != id))
        .collect();
    let consents = part::<sharing_consent::Model>(&row, "consents")?;
    Ok(Some(Rows {
        members,
        consents: std::sync::Arc::new(consents.into_iter().map(SharingConsent::from).collect()),
        profiles: part::<ProfileRow>(&row, "profiles")?
            .into_iter()
            .map(|r| (r.profile, r.contacts))
            .collect(),
        cases: part::<case::Model>(&row, "cases")?,
        interactions: part::<interaction::Model>(&row, "interactions")?,
    }))
}
