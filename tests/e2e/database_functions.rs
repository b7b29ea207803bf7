//! The database functions of the PostgreSQL schema: their migrations roll back and forward,
//! the tenant they enter ends with their statement, the citizen view reads only the parts it
//! is asked for and only the body it enters, and the application's connections carry their
//! settings.

use civitas_tenants::Role;
use rstest::rstest;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement, TransactionTrait};
use serde_json::{Value, json};

use crate::harness::*;
use crate::isolation::{count, tenant_id, two_tenants};

const MARIO: &str = "RSSMRA85T10A562S";

/// What the migrations have made of the consent checks and the view's functions.
#[derive(Debug, PartialEq)]
struct Functions {
    /// Languages of `civitas_is_current_person` and `civitas_shared`.
    langs: Vec<String>,
    /// The consent table's policy.
    policy: String,
    /// Result types of `civitas_enter_tenant` and `civitas_citizen_view` (absent: `None`).
    enter: Option<String>,
    view: Option<String>,
    /// The view function's own settings (`proconfig`), comma-separated.
    view_settings: Option<String>,
    /// Whether `civitas_is_current_person` compares before it queries (migration 11).
    person_compared_first: bool,
}

async fn functions(owner: &DatabaseConnection) -> Functions {
    let backend = owner.get_database_backend();
    let langs = owner
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT l.lanname::text AS lang FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang \
             WHERE p.proname IN ('civitas_shared', 'civitas_is_current_person') ORDER BY p.proname",
        ))
        .await
        .expect("functions")
        .iter()
        .map(|r| r.try_get::<String>("", "lang").expect("lang"))
        .collect();
    let row = owner
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT pg_get_expr(polqual, polrelid) AS q, \
               pg_get_function_result(to_regproc('civitas_enter_tenant')) AS enter, \
               pg_get_function_result(to_regproc('civitas_citizen_view')) AS view, \
               (SELECT array_to_string(proconfig, ',') FROM pg_proc \
                WHERE oid = to_regproc('civitas_citizen_view')) AS view_settings, \
               (SELECT prosrc LIKE '%IF p = me THEN%' FROM pg_proc \
                WHERE oid = to_regproc('civitas_is_current_person')) AS person_compared_first \
             FROM pg_policy WHERE polname = 'parties' AND polrelid = 'sharing_consents'::regclass",
        ))
        .await
        .expect("policy")
        .expect("parties policy");
    Functions {
        langs,
        policy: row.try_get("", "q").expect("q"),
        enter: row.try_get("", "enter").expect("enter"),
        view: row.try_get("", "view").expect("view"),
        view_settings: row.try_get("", "view_settings").expect("view settings"),
        person_compared_first: row
            .try_get("", "person_compared_first")
            .expect("person check"),
    }
}

#[rstest]
#[tokio::test]
async fn the_newest_database_functions_roll_back_and_forward() {
    use civitas_migrations::{Migrator, MigratorTrait};
    let app = TestApp::spawn(Postgres).await;
    let owner = app.owner().await;
    let newest = functions(&owner).await;
    assert_eq!(newest.langs, ["plpgsql", "plpgsql"]);
    assert!(
        newest.policy.starts_with("((grantee_tenant_id ="),
        "{newest:?}"
    );
    assert_eq!(newest.enter.as_deref(), Some("boolean"));
    let view = newest.view.clone().expect("view");
    assert!(
        view.contains("contact_rows text, case_rows text, interaction_rows text, purpose text"),
        "{view}"
    );
    assert_eq!(
        newest.view_settings.as_deref(),
        Some("plan_cache_mode=force_generic_plan")
    );

    assert!(newest.person_compared_first);

    // Migrations 26 (places, Open311), 27 (initiatives), 28 (questionnaires) and 29
    // (preferences) change no function.
    Migrator::down(&owner, Some(4)).await.expect("down to 25");
    assert_eq!(functions(&owner).await, newest);

    // Migration 25 (access purposes) gives the view its purpose; rolled back, the old one.
    Migrator::down(&owner, Some(1)).await.expect("down to 24");
    let v24 = functions(&owner).await;
    let view = v24.view.clone().expect("view");
    assert!(view.ends_with("interaction_rows text)"), "{view}");
    assert_eq!(v24.view_settings, newest.view_settings);

    // The migrations from 12 to 24 (identities bound to their issuer, consent requests,
    // legacy references to citizens, notifications, ...) change no function.
    let after_11 = Migrator::migrations().len() as u32 - 16;
    Migrator::down(&owner, Some(after_11))
        .await
        .expect("down to 11");
    assert_eq!(functions(&owner).await, v24);
    Migrator::down(&owner, Some(1)).await.expect("down to 10");
    let v10 = functions(&owner).await;
    assert!(!v10.person_compared_first);
    assert_eq!(v10.view_settings, newest.view_settings);

    Migrator::down(&owner, Some(1)).await.expect("down to 9");
    let v9 = functions(&owner).await;
    assert_eq!(v9.view_settings, None);
    assert_eq!(
        (v9.enter.as_deref(), v9.view.as_deref()),
        (v24.enter.as_deref(), v24.view.as_deref())
    );

    Migrator::down(&owner, Some(1)).await.expect("down to 8");
    let v8 = functions(&owner).await;
    assert_eq!(v8.enter.as_deref(), Some("void"));
    let view = v8.view.expect("migration 8's view");
    assert!(!view.contains("contact_rows"), "{view}");

    Migrator::down(&owner, Some(2)).await.expect("down to 6");
    let v6 = functions(&owner).await;
    assert_eq!(v6.langs, ["sql", "sql"]);
    assert!(
        v6.policy.starts_with("(civitas_is_current_person("),
        "{v6:?}"
    );
    assert_eq!((v6.enter, v6.view, v6.view_settings), (None, None, None));

    Migrator::up(&owner, None).await.expect("up");
    assert_eq!(functions(&owner).await, newest);
}

/// One connection as the application role, so that a statement after a call runs where the
/// call ran.
async fn one_app_connection(app: &TestApp) -> DatabaseConnection {
    let name = &app.pg.as_ref().expect("postgres").name;
    let mut opts = sea_orm::ConnectOptions::new(pg_url(civitas_migrations::APP_ROLE, name));
    opts.max_connections(1);
    Database::connect(opts).await.expect("connect as app role")
}

#[rstest]
#[tokio::test]
async fn a_function_that_enters_a_tenant_binds_only_its_own_statement() {
    let app = two_tenants(Postgres).await;
    let conn = one_app_connection(&app).await;
    let (alfa, beta) = (tenant_id(&app, "alfa").await, tenant_id(&app, "beta").await);
    let backend = conn.get_database_backend();
    let enter = |tenant: &str| {
        Statement::from_sql_and_values(
            backend,
            "SELECT civitas_enter_tenant($1::uuid, '')",
            [tenant.to_owned().into()],
        )
    };

    let txn = conn.begin().await.expect("begin");
    txn.execute_raw(enter(&alfa)).await.expect("enter alfa");
    assert_eq!(
        count(&txn, "members").await,
        2,
        "alfa's rows, as in a scope"
    );
    assert!(
        txn.execute_raw(enter(&beta)).await.is_err(),
        "a transaction bound to alfa cannot be switched to beta"
    );
    txn.rollback().await.expect("rollback");

    let txn = conn.begin().await.expect("begin");
    txn.execute_raw(Statement::from_string(
        backend,
        "SELECT set_config('app.person_id', gen_random_uuid()::text, true)",
    ))
    .await
    .expect("bind to a person");
    assert!(
        txn.execute_raw(enter(&alfa)).await.is_err(),
        "a citizen's own transaction cannot be turned into a body's"
    );
    txn.rollback().await.expect("rollback");

    let view = conn
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            "SELECT * FROM civitas_citizen_view($1::uuid, '', gen_random_uuid(), true, true, \
             gen_random_uuid(), 'probe', 'citizen_contact', NULL)",
            [alfa.clone().into()],
        ))
        .await
        .expect("call")
        .expect("row");
    assert_eq!(
        view.try_get::<Option<String>>("", "family")
            .expect("family"),
        None
    );
    assert_eq!(
        count(&conn, "members").await,
        0,
        "the call's tenant ends with its statement"
    );
}

/// How many access-log entries `tenant` holds, and how many of them are reads of its own
/// records on a legal basis.
async fn entries(owner: &DatabaseConnection, tenant: &str) -> (i64, i64) {
    let row = owner
        .query_one_raw(Statement::from_sql_and_values(
            owner.get_database_backend(),
            "SELECT count(*) AS n, count(*) FILTER (WHERE basis = 'legal_basis' \
             AND consent_id IS NULL AND legal_basis LIKE 'Art. 6%') AS lawful \
             FROM access_log WHERE tenant_id = $1::uuid",
            [tenant.into()],
        ))
        .await
        .expect("count")
        .expect("row");
    (
        row.try_get("", "n").expect("n"),
        row.try_get("", "lawful").expect("lawful"),
    )
}

/// How many rows each JSON part of a call of the view holds (`None`: the part is absent),
/// read for the body's default purpose `citizen_contact`.
async fn view_parts(
    conn: &DatabaseConnection,
    tenant: &str,
    person: &str,
    cases: bool,
    interactions: bool,
) -> Vec<Option<usize>> {
    view_parts_for(
        conn,
        tenant,
        person,
        (cases, interactions),
        "citizen_contact",
    )
    .await
}

async fn view_parts_for(
    conn: &DatabaseConnection,
    tenant: &str,
    person: &str,
    (cases, interactions): (bool, bool),
    purpose: &str,
) -> Vec<Option<usize>> {
    let row = conn
        .query_one_raw(Statement::from_sql_and_values(
            conn.get_database_backend(),
            "SELECT * FROM civitas_citizen_view($1::uuid, '', $2::uuid, $3, $4, \
             gen_random_uuid(), 'probe', $5, NULL)",
            [
                tenant.into(),
                person.into(),
                cases.into(),
                interactions.into(),
                purpose.into(),
            ],
        ))
        .await
        .expect("call")
        .expect("row");
    [
        "profile_rows",
        "contact_rows",
        "case_rows",
        "interaction_rows",
    ]
    .iter()
    .map(|c| {
        let text: Option<String> = row.try_get("", c).expect("column");
        text.map(|t| {
            let rows: Vec<Value> = serde_json::from_str(&t).expect("json array");
            rows.len()
        })
    })
    .collect()
}

#[rstest]
#[tokio::test]
async fn the_view_function_reads_only_the_parts_asked_for_in_the_body_it_enters() {
    let app = two_tenants(Postgres).await;
    let op = app.member("alfa", "alfa-desk", Role::Operator).await;
    let mario = app
        .register(&op, Some(MARIO), "Mario", "Rossi", &["+393331234567"])
        .await;
    let person = mario["personId"].as_str().expect("person");
    for (q, vars) in [
        (
            "mutation($p: ID!) { createCase(input: { serviceCode: \"ALFA-SVC\", personId: $p, title: \"Ritiro\" }) { id } }",
            json!({ "p": person }),
        ),
        (
            "mutation($p: ID!) { recordInteraction(input: { personId: $p, channel: \"phone\", direction: \"inbound\", summary: \"chiede\" }) { id } }",
            json!({ "p": person }),
        ),
    ] {
        assert_no_errors(&app.gql(&op, q, vars).await);
    }
    let conn = one_app_connection(&app).await;
    let (alfa, beta) = (tenant_id(&app, "alfa").await, tenant_id(&app, "beta").await);

    // More calls than PostgreSQL makes custom plans for (five), each way round, in case the
    // function ever plans with its arguments as constants again (migration 10 forbids it).
    for _ in 0..6 {
        assert_eq!(
            view_parts(&conn, &alfa, person, false, false).await,
            [Some(1), Some(1), None, None]
        );
        assert_eq!(
            view_parts(&conn, &alfa, person, true, false).await,
            [Some(1), Some(1), Some(1), None]
        );
        assert_eq!(
            view_parts(&conn, &alfa, person, false, true).await,
            [Some(1), Some(1), None, Some(1)]
        );
        assert_eq!(
            view_parts(&conn, &alfa, person, true, true).await,
            [Some(1), Some(1), Some(1), Some(1)]
        );
    }
    assert_eq!(
        view_parts(&conn, &beta, person, true, true).await,
        [None, None, None, None],
        "beta holds nothing about Mario and has no consent"
    );

    // Each of alfa's calls put one entry on record; beta's, none (nothing of its own read).
    let owner = app.owner().await;
    assert_eq!(entries(&owner, &alfa).await, (24, 24));
    assert_eq!(entries(&owner, &beta).await, (0, 0));
    // A purpose the body does not have reads nothing and writes nothing.
    assert_eq!(
        view_parts_for(&conn, &alfa, person, (true, true), "curiosity").await,
        [None, None, None, None]
    );
    assert_eq!(entries(&owner, &alfa).await, (24, 24));
}

#[rstest]
#[tokio::test]
async fn the_servers_connections_carry_a_statement_timeout_and_no_jit() {
    let app = TestApp::spawn(Postgres).await;
    let db = app.app.db.global();
    let mut settings = Vec::new();
    for name in ["statement_timeout", "jit"] {
        let row = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                format!("SELECT current_setting('{name}') AS v"),
            ))
            .await
            .expect("setting")
            .expect("row");
        settings.push(row.try_get::<String>("", "v").expect("v"));
    }
    assert_eq!(settings, ["10s", "off"]);
}
