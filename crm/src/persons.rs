//! Persons: the one global identity of a human across every body.

use chrono::Utc;
use civitas_tenants::Principal;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, JoinType, QueryFilter,
    QuerySelect, RelationDef, Statement,
};
use uuid::Uuid;

use crate::entity::{person, person_identity, sharing_consent};
use crate::identity::FiscalCode;
use crate::{Error, Result};

pub use person::Model as Person;

fn validation(m: impl Into<String>) -> Error {
    Error::Validation(m.into())
}

/// Follows `merged_into` to the person a record now belongs to.
pub async fn root<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<Option<Person>> {
    let mut current = person::Entity::find_by_id(id).one(conn).await?;
    // Merges re-point whole chains, so one hop is the norm; the bound guards against a cycle.
    for _ in 0..8 {
        match current {
            Some(ref p) if p.merged_into.is_some() => {
                current = person::Entity::find_by_id(p.merged_into.unwrap_or(p.id))
                    .one(conn)
                    .await?;
            }
            _ => break,
        }
    }
    Ok(current)
}

/// The person record `id` belongs to (following merges) and every record merged into it,
/// the person first: one statement when `id` is not itself merged, as is the norm.
pub async fn with_family<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<Option<Vec<Person>>> {
    let rows = person::Entity::find()
        .filter(record_and_merged(id))
        .all(conn)
        .await?;
    let Some(me) = rows.iter().find(|p| p.id == id).cloned() else {
        return Ok(None);
    };
    if let Some(target) = me.merged_into {
        let Some(root) = root(conn, target).await? else {
            return Ok(None);
        };
        let merged = person::Entity::find()
            .filter(person::Column::MergedInto.eq(root.id))
            .all(conn)
            .await?;
        return Ok(Some(std::iter::once(root).chain(merged).collect()));
    }
    Ok(Some(
        std::iter::once(me)
            .chain(rows.into_iter().filter(|p| p.id != id))
            .collect(),
    ))
}

/// The person record `id` and the records merged into it.
fn record_and_merged(id: Uuid) -> sea_orm::Condition {
    sea_orm::Condition::any()
        .add(person::Column::Id.eq(id))
        .add(person::Column::MergedInto.eq(id))
}

/// [`with_family`] and, in the same statement, the family's active sharing consents whose
/// grantee is `grantee`: the citizen view's first read. When `id` is itself merged (rare)
/// the family is read as [`with_family`] does and the consents are left to the caller (`None`).
pub async fn with_family_and_consents<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    grantee: Uuid,
) -> Result<Option<(Vec<Person>, Option<Vec<sharing_consent::Model>>)>> {
    let rows = person::Entity::find()
        .filter(record_and_merged(id))
        .join(JoinType::LeftJoin, active_consents_to(grantee))
        .select_also(sharing_consent::Entity)
        .all(conn)
        .await?;
    let Some(me) = rows.iter().map(|(p, _)| p).find(|p| p.id == id).cloned() else {
        return Ok(None);
    };
    if me.merged_into.is_some() {
        return Ok(with_family(conn, id).await?.map(|family| (family, None)));
    }
    let mut family = vec![me];
    let mut consents = Vec::new();
    for (person, consent) in rows {
        if !family.iter().any(|p| p.id == person.id) {
            family.push(person);
        }
        consents.extend(consent);
    }
    Ok(Some((family, Some(consents))))
}

/// Joins a person's sharing consents that are not revoked and whose grantee is `grantee`.
fn active_consents_to(grantee: Uuid) -> RelationDef {
    person::Entity::belongs_to(sharing_consent::Entity)
        .from(person::Column::Id)
        .to(sharing_consent::Column::PersonId)
        .on_condition(move |_, consent| {
            sea_orm::Condition::all()
                .add(
                    Expr::col((consent.clone(), sharing_consent::Column::GranteeTenantId))
                        .eq(grantee),
                )
                .add(Expr::col((consent, sharing_consent::Column::RevokedAt)).is_null())
        })
        .into()
}

/// The person and every person record merged into it, the person first.
pub async fn family<C: ConnectionTrait>(conn: &C, root_id: Uuid) -> Result<Vec<Uuid>> {
    let merged = person::Entity::find()
        .filter(person::Column::MergedInto.eq(root_id))
        .all(conn)
        .await?;
    Ok(std::iter::once(root_id)
        .chain(merged.into_iter().map(|p| p.id))
        .collect())
}

/// Whether `conn` speaks to PostgreSQL, where persons are under row-level security
/// (migration 22) and the look-ups below go through its functions.
fn walled<C: ConnectionTrait>(conn: &C) -> bool {
    conn.get_database_backend() == DbBackend::Postgres
}

/// The single `uuid` column `sql` returns, if any row.
async fn one_id<C: ConnectionTrait>(
    conn: &C,
    sql: &str,
    values: Vec<sea_orm::Value>,
) -> Result<Option<Uuid>> {
    let row = conn
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            sql,
            values,
        ))
        .await?;
    Ok(match row {
        Some(r) => r.try_get::<Option<Uuid>>("", "id")?,
        None => None,
    })
}

/// The id of the person record holding this code (which may have been merged), whether or
/// not the scope's body knows them: an exact look-up answers only the id.
pub async fn id_by_fiscal_code<C: ConnectionTrait>(
    conn: &C,
    code: &FiscalCode,
) -> Result<Option<Uuid>> {
    if walled(conn) {
        return one_id(
            conn,
            "SELECT civitas_person_id($1) AS id",
            vec![code.as_str().into()],
        )
        .await;
    }
    Ok(person::Entity::find()
        .filter(person::Column::FiscalCode.eq(code.as_str()))
        .one(conn)
        .await?
        .map(|p| p.id))
}

/// The id of the person with this codice fiscale (following a merge), created if this is
/// the first body to meet them. Safe against two bodies registering the same person at once.
pub async fn find_or_create<C: ConnectionTrait>(conn: &C, code: &FiscalCode) -> Result<Uuid> {
    if walled(conn) {
        return one_id(
            conn,
            "SELECT civitas_register_person($1, $2) AS id",
            vec![code.as_str().into(), Uuid::now_v7().into()],
        )
        .await?
        .ok_or(Error::NotFound("person"));
    }
    if let Some(id) = id_by_fiscal_code(conn, code).await?
        && let Some(p) = root(conn, id).await?
    {
        return Ok(p.id);
    }
    let row = person::ActiveModel {
        id: Set(Uuid::now_v7()),
        fiscal_code: Set(Some(code.to_string())),
        oidc_subject: Set(None),
        merged_into: Set(None),
        created_at: Set(Utc::now()),
    };
    person::Entity::insert(row)
        .on_conflict(
            OnConflict::column(person::Column::FiscalCode)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
    let id = id_by_fiscal_code(conn, code)
        .await?
        .ok_or(Error::NotFound("person"))?;
    Ok(root(conn, id).await?.ok_or(Error::NotFound("person"))?.id)
}

/// A person known only by a phone number or an email, or not at all: recorded without a
/// codice fiscale, to be merged into the identified person later.
pub async fn create_unidentified<C: ConnectionTrait>(conn: &C) -> Result<Uuid> {
    let id = Uuid::now_v7();
    let row = person::ActiveModel {
        id: Set(id),
        fiscal_code: Set(None),
        oidc_subject: Set(None),
        merged_into: Set(None),
        created_at: Set(Utc::now()),
    };
    // Without RETURNING: the body holds no record of the new person until its profile.
    person::Entity::insert(row)
        .exec_without_returning(conn)
        .await?;
    Ok(id)
}

/// Points `source` and every record merged into it at `target`; the caller has checked
/// that both are persons its body knows (PostgreSQL checks it again).
pub async fn merge_records<C: ConnectionTrait>(conn: &C, source: Uuid, target: Uuid) -> Result<()> {
    if walled(conn) {
        conn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT civitas_merge_person($1, $2)",
            [source.into(), target.into()],
        ))
        .await?;
        return Ok(());
    }
    person::Entity::update_many()
        .col_expr(person::Column::MergedInto, Expr::value(target))
        .filter(
            sea_orm::Condition::any()
                .add(person::Column::MergedInto.eq(source))
                .add(person::Column::Id.eq(source)),
        )
        .exec(conn)
        .await?;
    Ok(())
}

/// The ids of the person a citizen principal stands for and of the records merged into
/// it, the person first: by their identity (issuer, subject), else by the codice fiscale
/// their identity provider vouches for (linking the identity on first sign-in). A subject
/// alone never finds anyone: any provider may issue any subject. One statement for a
/// citizen already linked, as on every request after the first sign-in.
pub async fn citizen_family<C: ConnectionTrait>(
    conn: &C,
    principal: &Principal,
) -> Result<Vec<Uuid>> {
    let code = principal
        .fiscal_code
        .as_deref()
        .map(FiscalCode::parse)
        .transpose()
        .map_err(|e| validation(e.to_string()));
    if walled(conn) {
        // A code the token carries is checked only when it is needed (first sign-in).
        let text = code
            .as_ref()
            .ok()
            .and_then(|c| c.as_ref())
            .map(|c| c.to_string());
        let rows = conn
            .query_all_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT id, is_root FROM civitas_citizen_sign_in($1, $2, $3, $4)",
                [
                    principal.issuer.as_str().into(),
                    principal.subject.as_str().into(),
                    text.into(),
                    Uuid::now_v7().into(),
                ],
            ))
            .await?;
        let mut ids = Vec::with_capacity(rows.len());
        for r in rows {
            let id: Uuid = r.try_get("", "id")?;
            if r.try_get::<bool>("", "is_root")? {
                ids.insert(0, id);
            } else {
                ids.push(id);
            }
        }
        if ids.is_empty() {
            return Err(code
                .err()
                .unwrap_or_else(|| validation("the citizen's token carries no codice fiscale")));
        }
        return Ok(ids);
    }
    let linked =
        person_identity::Entity::find_by_id((principal.issuer.clone(), principal.subject.clone()))
            .one(conn)
            .await?;
    let person = match linked {
        Some(link) => link.person_id,
        None => {
            let code =
                code?.ok_or_else(|| validation("the citizen's token carries no codice fiscale"))?;
            let p = find_or_create(conn, &code).await?;
            let row = person_identity::ActiveModel {
                issuer: Set(principal.issuer.clone()),
                subject: Set(principal.subject.clone()),
                person_id: Set(p),
                created_at: Set(Utc::now()),
            };
            // A concurrent first sign-in of the same identity links the same person.
            person_identity::Entity::insert(row)
                .on_conflict(
                    OnConflict::columns([
                        person_identity::Column::Issuer,
                        person_identity::Column::Subject,
                    ])
                    .do_nothing()
                    .to_owned(),
                )
                .exec_without_returning(conn)
                .await?;
            p
        }
    };
    let root = root(conn, person).await?.ok_or(Error::NotFound("person"))?;
    family(conn, root.id).await
}

/// Parses a codice fiscale into a VALIDATION error that names what is wrong.
pub fn parse_fiscal_code(raw: &str) -> Result<FiscalCode> {
    FiscalCode::parse(raw).map_err(|e| validation(format!("fiscalCode: {e}")))
}
