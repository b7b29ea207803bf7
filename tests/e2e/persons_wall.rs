//! The global `persons` and `person_identities` tables under row-level security: as the
//! application role, with raw SQL, a transaction sees a person only when its tenant holds a
//! record of them (or a live sharing consent names it as grantee) or it is bound to that
//! person; exact look-ups answer only an id; nothing writes a codice fiscale or a merge
//! except the owner's functions.

use rstest::rstest;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement, TransactionTrait};
use serde_json::json;

use crate::harness::*;
use crate::isolation::{app_role, as_app_role, count, tenant_id};
use civitas_tenants::Role;

const MARIO: &str = "RSSMRA85T10A562S";
const LAURA: &str = "BNCLRA90D45F205B";

/// Runs `sql` as the application role bound to `tenant` and `person` ('' for none).
async fn run(
    conn: &DatabaseConnection,
    tenant: &str,
    person: &str,
    sql: &str,
) -> Result<u64, sea_orm::DbErr> {
    let txn = conn.begin().await.expect("begin");
    txn.execute_raw(Statement::from_sql_and_values(
        txn.get_database_backend(),
        "SELECT set_config('app.tenant_id', $1, true), set_config('app.person_id', $2, true)",
        [tenant.into(), person.into()],
    ))
    .await
    .expect("set");
    let r = txn.execute_unprepared(sql).await.map(|r| r.rows_affected());
    txn.rollback().await.ok();
    r
}

#[rstest]
#[tokio::test]
async fn persons_are_seen_only_by_the_bodies_that_know_them_and_by_themselves() {
    let app = TestApp::spawn(Postgres).await;
    for slug in ["alfa", "beta", "gamma"] {
        app.onboard(slug).await;
    }
    let alfa_op = app.member("alfa", "alfa-op", Role::Operator).await;
    let beta_op = app.member("beta", "beta-op", Role::Operator).await;
    let mario = app
        .register(&alfa_op, Some(MARIO), "Mario", "Rossi", &[])
        .await;
    let laura = app
        .register(&beta_op, Some(LAURA), "Laura", "Bianchi", &[])
        .await;
    let mario = mario["personId"].as_str().expect("person").to_owned();
    let laura = laura["personId"].as_str().expect("person").to_owned();
    // Mario signs in once: his identity is linked.
    let me = app
        .gql(&app.citizen(MARIO), "{ me { subject } }", json!({}))
        .await;
    assert_no_errors(&me);
    let (alfa, beta, gamma) = (
        tenant_id(&app, "alfa").await,
        tenant_id(&app, "beta").await,
        tenant_id(&app, "gamma").await,
    );
    let conn = app_role(&app).await;
    let ids = "SELECT id::text AS t FROM persons";
    let codes = "SELECT fiscal_code AS t FROM persons";
    let identities = "SELECT subject AS t FROM person_identities";

    // Bound to nothing: nothing, not even a count.
    assert_eq!(count(&conn, "persons").await, 0);
    assert_eq!(count(&conn, "person_identities").await, 0);
    // Each body sees the person it holds a record of; gamma holds none.
    assert_eq!(
        as_app_role(&conn, &alfa, "", ids).await,
        vec![mario.clone()]
    );
    assert_eq!(as_app_role(&conn, &alfa, "", codes).await, vec![MARIO]);
    assert_eq!(
        as_app_role(&conn, &beta, "", ids).await,
        vec![laura.clone()]
    );
    assert!(as_app_role(&conn, &gamma, "", ids).await.is_empty());
    // No body reads the identities of citizens; a citizen reads their own.
    assert!(as_app_role(&conn, &alfa, "", identities).await.is_empty());
    assert_eq!(
        as_app_role(&conn, "", &mario, identities).await,
        vec![format!("spid-{MARIO}")]
    );
    assert_eq!(
        as_app_role(&conn, "", &mario, ids).await,
        vec![mario.clone()]
    );
    assert!(as_app_role(&conn, "", &laura, identities).await.is_empty());

    // An exact look-up answers the id to any body, and nothing else of the row.
    let lookup = format!("SELECT civitas_person_id('{LAURA}')::text AS t");
    assert_eq!(
        as_app_role(&conn, &gamma, "", &lookup).await,
        vec![laura.clone()]
    );

    // A live sharing consent whose grantee is gamma opens Mario's record to gamma; revoked,
    // it closes it again.
    let citizen = app.citizen(MARIO);
    let grant = app
        .gql(&citizen, "mutation { grantSharingConsent(input: { source: \"alfa\", grantee: \"gamma\", scopes: [PROFILE], purpose: \"p\" }) { id } }", json!({}))
        .await;
    assert_no_errors(&grant);
    assert_eq!(
        as_app_role(&conn, &gamma, "", ids).await,
        vec![mario.clone()]
    );
    let revoke = app
        .gql(
            &citizen,
            "mutation($id: ID!) { revokeSharingConsent(id: $id) { id } }",
            json!({ "id": grant["data"]["grantSharingConsent"]["id"] }),
        )
        .await;
    assert_no_errors(&revoke);
    assert!(as_app_role(&conn, &gamma, "", ids).await.is_empty());

    // Writes: no codice fiscale, no merge, no identity but through the owner's functions.
    let insert = "INSERT INTO persons (id, fiscal_code, created_at) VALUES (gen_random_uuid(), 'VRDGPP80A01H501U', now())";
    assert!(
        run(&conn, &gamma, "", insert).await.is_err(),
        "identified insert"
    );
    let unidentified =
        "INSERT INTO persons (id, fiscal_code, created_at) VALUES (gen_random_uuid(), NULL, now())";
    assert_eq!(
        run(&conn, &gamma, "", unidentified).await.expect("insert"),
        1
    );
    assert!(run(&conn, "", "", unidentified).await.is_err(), "no tenant");
    let update = format!("UPDATE persons SET merged_into = '{laura}' WHERE id = '{mario}'");
    assert!(run(&conn, &alfa, "", &update).await.is_err(), "update");
    let link = format!(
        "INSERT INTO person_identities (issuer, subject, person_id, created_at) VALUES ('x', 'y', '{laura}', now())"
    );
    assert!(run(&conn, &beta, "", &link).await.is_err(), "identity");
    // Alfa does not know Laura: it may not merge her record into Mario's.
    let merge = format!("SELECT civitas_merge_person('{laura}', '{mario}')");
    assert!(run(&conn, &alfa, "", &merge).await.is_err(), "merge");
    assert_eq!(
        as_app_role(
            &conn,
            &beta,
            "",
            "SELECT coalesce(merged_into::text, 'none') AS t FROM persons"
        )
        .await,
        vec!["none"]
    );
}
