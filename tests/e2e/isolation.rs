//! Tenant B can neither read, change, delete nor infer tenant A's rows; on PostgreSQL the
//! database itself refuses too.

use civitas_migrations::TENANT_OWNED_TABLES;
use civitas_tenants::Role;
use rstest::rstest;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement, TransactionTrait};
use serde_json::{Value, json};

use crate::harness::*;

/// Two tenants with a member, a service and audit events each.
pub(crate) async fn two_tenants(backend: Backend) -> TestApp {
    let app = TestApp::spawn(backend).await;
    for slug in ["alfa", "beta"] {
        app.onboard(slug).await;
        app.member(slug, &format!("{slug}-op"), Role::Operator)
            .await;
        let s = app
            .gql(
                &app.admin_of(slug),
                "mutation($c: String!) { createService(input: { code: $c, name: \"Servizio\", area: \"Anagrafe\" }) { code } }",
                json!({ "c": format!("{}-SVC", slug.to_uppercase()) }),
            )
            .await;
        assert_no_errors(&s);
    }
    app
}

fn strings(v: &Value, field: &str) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|x| x[field].as_str().map(str::to_owned))
        .collect()
}

#[rstest]
#[tokio::test]
async fn another_tenant_is_not_reachable_through_the_header(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let app = two_tenants(backend).await;
    let beta_admin = app.admin_of("beta");
    for q in [
        "{ members { subject } }",
        "{ services { code } }",
        "{ auditLog { action } }",
        "{ policies { role } }",
    ] {
        let (status, body) = app
            .post(Some(&beta_admin), Some("alfa"), q, json!({}))
            .await;
        assert_eq!((status, error_code(&body)), (403, "FORBIDDEN"), "{q}");
    }
    // A tenant that does not exist answers exactly like one that does.
    let (s1, b1) = app
        .post(
            Some(&beta_admin),
            Some("alfa"),
            "{ me { subject } }",
            json!({}),
        )
        .await;
    let (s2, b2) = app
        .post(
            Some(&beta_admin),
            Some("gamma"),
            "{ me { subject } }",
            json!({}),
        )
        .await;
    assert_eq!((s1, &b1), (s2, &b2));
    // Nor through the slug argument.
    let t = app
        .gql(&beta_admin, "{ tenant(slug: \"alfa\") { id } }", json!({}))
        .await;
    assert_eq!(error_code(&t), "FORBIDDEN");
}

#[rstest]
#[tokio::test]
async fn lists_show_only_the_callers_tenant(#[values(Sqlite, Postgres)] backend: Backend) {
    let app = two_tenants(backend).await;
    let body = app
        .gql(
            &app.admin_of("beta"),
            "{ members { subject } services { code } auditLog { target } }",
            json!({}),
        )
        .await;
    assert_no_errors(&body);
    assert_eq!(
        strings(&body["data"]["members"], "subject"),
        ["beta-admin", "beta-op"]
    );
    assert_eq!(strings(&body["data"]["services"], "code"), ["BETA-SVC"]);
    assert!(!body.to_string().contains("alfa"), "{body}");
    let policies = app
        .gql(
            &app.admin_of("beta"),
            "{ policies { role object action } }",
            json!({}),
        )
        .await;
    let alfa = app
        .gql(
            &app.admin_of("alfa"),
            "{ policies { role object action } }",
            json!({}),
        )
        .await;
    assert_eq!(
        policies, alfa,
        "each tenant sees its own copy of the defaults"
    );
}

#[rstest]
#[tokio::test]
async fn another_tenants_rows_cannot_be_changed_or_probed(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let app = two_tenants(backend).await;
    let beta_admin = app.admin_of("beta");

    // Revoking alfa's operator from beta looks exactly like revoking someone unknown.
    let theirs = app
        .gql(
            &beta_admin,
            "mutation { revokeRole(subject: \"alfa-op\", role: OPERATOR) { subject } }",
            json!({}),
        )
        .await;
    let nobody = app
        .gql(
            &beta_admin,
            "mutation { revokeRole(subject: \"nobody\", role: OPERATOR) { subject } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&theirs), "NOT_FOUND");
    assert_eq!(
        theirs["errors"][0]["message"],
        nobody["errors"][0]["message"]
    );

    // Granting to alfa's subject from beta creates a beta member and leaves alfa's alone.
    let g = app
        .gql(
            &beta_admin,
            "mutation { grantRole(subject: \"alfa-op\", role: SUPERVISOR) { roles } }",
            json!({}),
        )
        .await;
    assert_eq!(g["data"]["grantRole"]["roles"], json!(["SUPERVISOR"]));
    let alfa = app
        .gql(
            &app.admin_of("alfa"),
            "{ members { subject roles } }",
            json!({}),
        )
        .await;
    assert_eq!(
        alfa["data"]["members"],
        json!([{ "subject": "alfa-admin", "roles": ["TENANT_ADMIN"] }, { "subject": "alfa-op", "roles": ["OPERATOR"] }])
    );

    // A service code used by alfa is free in beta: uniqueness does not leak across tenants.
    let s = app.gql(&beta_admin, "mutation { createService(input: { code: \"ALFA-SVC\", name: \"Mio\", area: \"Tributi\" }) { code } }", json!({})).await;
    assert_no_errors(&s);
    let dup = app.gql(&beta_admin, "mutation { createService(input: { code: \"ALFA-SVC\", name: \"Mio\", area: \"Tributi\" }) { code } }", json!({})).await;
    assert_eq!(error_code(&dup), "CONFLICT");

    // A policy edit in beta does not reach alfa.
    app.gql(
        &beta_admin,
        "mutation { addPolicy(role: \"operator\", object: \"member\", action: \"read\") { role } }",
        json!({}),
    )
    .await;
    let alfa_op = app.token("alfa-op", Some("alfa"), &[]);
    assert_eq!(
        error_code(
            &app.gql(&alfa_op, "{ members { subject } }", json!({}))
                .await
        ),
        "FORBIDDEN"
    );
}

pub(crate) async fn app_role(app: &TestApp) -> DatabaseConnection {
    let name = &app.pg.as_ref().expect("postgres").name;
    Database::connect(pg_url(civitas_migrations::APP_ROLE, name))
        .await
        .expect("connect as app role")
}

pub(crate) async fn count(conn: &impl ConnectionTrait, table: &str) -> i64 {
    let row = conn
        .query_one_raw(Statement::from_string(
            conn.get_database_backend(),
            format!("SELECT count(*) AS n FROM {table}"),
        ))
        .await
        .expect("count")
        .expect("row");
    row.try_get("", "n").expect("n")
}

pub(crate) async fn tenant_id(app: &TestApp, slug: &str) -> String {
    let t = app
        .gql(
            &app.platform_admin(),
            &format!("{{ tenant(slug: \"{slug}\") {{ id }} }}"),
            json!({}),
        )
        .await;
    t["data"]["tenant"]["id"].as_str().expect("id").to_owned()
}

#[rstest]
#[tokio::test]
async fn raw_sql_as_the_application_role_sees_nothing_without_a_tenant() {
    let app = two_tenants(Postgres).await;
    let conn = app_role(&app).await;
    for table in TENANT_OWNED_TABLES {
        assert_eq!(
            count(&conn, table).await,
            0,
            "{table} without app.tenant_id"
        );
    }

    // With alfa set, only alfa's rows; the setting ends with the transaction.
    let alfa = tenant_id(&app, "alfa").await;
    let txn = conn.begin().await.expect("begin");
    txn.execute_raw(Statement::from_sql_and_values(
        txn.get_database_backend(),
        "SELECT set_config('app.tenant_id', $1, true)",
        [alfa.clone().into()],
    ))
    .await
    .expect("set tenant");
    assert_eq!(count(&txn, "members").await, 2);
    assert_eq!(count(&txn, "services").await, 1);
    let foreign = txn
        .query_one_raw(Statement::from_string(
            txn.get_database_backend(),
            format!("SELECT count(*) AS n FROM members WHERE tenant_id <> '{alfa}'"),
        ))
        .await
        .expect("q")
        .expect("row");
    assert_eq!(foreign.try_get::<i64>("", "n").expect("n"), 0);
    txn.commit().await.expect("commit");
    assert_eq!(
        count(&conn, "members").await,
        0,
        "a pooled connection keeps '' after the transaction"
    );
}

#[rstest]
#[tokio::test]
async fn the_database_refuses_writes_across_tenants_and_audit_rewrites() {
    let app = two_tenants(Postgres).await;
    let conn = app_role(&app).await;
    let alfa = tenant_id(&app, "alfa").await;
    let beta = tenant_id(&app, "beta").await;
    let in_alfa = |sql: String| {
        let conn = conn.clone();
        let alfa = alfa.clone();
        async move {
            let txn = conn.begin().await.expect("begin");
            txn.execute_raw(Statement::from_sql_and_values(
                txn.get_database_backend(),
                "SELECT set_config('app.tenant_id', $1, true)",
                [alfa.into()],
            ))
            .await
            .expect("set");
            let r = txn.execute_unprepared(&sql).await;
            txn.rollback().await.ok();
            r
        }
    };
    // Writing a row for beta while acting for alfa violates the policy's WITH CHECK.
    let insert = in_alfa(format!(
        "INSERT INTO members (tenant_id, id, subject, display_name, created_at) VALUES ('{beta}', gen_random_uuid(), 'x', 'x', now())"
    ))
    .await;
    assert!(insert.is_err(), "cross-tenant insert must fail");
    // Beta's rows are invisible, so updates and deletes touch nothing.
    let upd = in_alfa(format!(
        "UPDATE members SET display_name = 'pwned' WHERE tenant_id = '{beta}'"
    ))
    .await
    .expect("update");
    assert_eq!(upd.rows_affected(), 0);
    let del = in_alfa(format!("DELETE FROM services WHERE tenant_id = '{beta}'"))
        .await
        .expect("delete");
    assert_eq!(del.rows_affected(), 0);
    // The audit log is append-only for the application.
    assert!(
        in_alfa("UPDATE audit_events SET action = 'x'".into())
            .await
            .is_err()
    );
    assert!(in_alfa("DELETE FROM audit_events".into()).await.is_err());
    assert!(
        in_alfa("UPDATE access_log SET reader = 'x'".into())
            .await
            .is_err()
    );
    assert!(in_alfa("DELETE FROM access_log".into()).await.is_err());
}

#[rstest]
#[tokio::test]
async fn every_table_with_a_tenant_id_is_listed_and_forced_under_rls() {
    let app = TestApp::spawn(Postgres).await;
    let owner = app.owner().await;
    let rows = owner
        .query_all_raw(Statement::from_string(
            owner.get_database_backend(),
            "SELECT c.relname::text AS t, c.relrowsecurity AS rls, c.relforcerowsecurity AS forced \
             FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid \
             WHERE a.attname = 'tenant_id' AND c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace",
        ))
        .await
        .expect("catalog");
    let mut found: Vec<String> = Vec::new();
    for r in rows {
        let t: String = r.try_get("", "t").expect("t");
        assert!(r.try_get::<bool>("", "rls").expect("rls"), "{t}: RLS off");
        assert!(
            r.try_get::<bool>("", "forced").expect("forced"),
            "{t}: RLS not forced"
        );
        found.push(t);
    }
    found.sort();
    let mut listed: Vec<String> = TENANT_OWNED_TABLES.iter().map(|s| s.to_string()).collect();
    listed.sort();
    assert_eq!(
        found, listed,
        "TENANT_OWNED_TABLES must list every table with a tenant_id"
    );
}

#[rstest]
#[tokio::test]
async fn the_server_refuses_to_run_as_a_role_that_bypasses_rls() {
    let db = PgDatabase::create().await;
    let dir = tempfile::tempdir().expect("tmp");
    let mut config = test_config(Postgres, dir.path(), Some(&db));
    config.database_url = pg_url("postgres", &db.name);
    let err = civitas::build(config).await.err().expect("must refuse");
    assert!(
        format!("{err:#}").contains("bypasses row-level security"),
        "{err:#}"
    );
}

pub(crate) async fn as_app_role(
    conn: &DatabaseConnection,
    tenant: &str,
    person: &str,
    sql: &str,
) -> Vec<String> {
    let txn = conn.begin().await.expect("begin");
    txn.execute_raw(Statement::from_sql_and_values(
        txn.get_database_backend(),
        "SELECT set_config('app.tenant_id', $1, true), set_config('app.person_id', $2, true)",
        [tenant.into(), person.into()],
    ))
    .await
    .expect("set");
    let rows = txn
        .query_all_raw(Statement::from_string(txn.get_database_backend(), sql))
        .await
        .expect("query");
    txn.rollback().await.ok();
    let mut v: Vec<String> = rows
        .iter()
        .map(|r| r.try_get::<String>("", "t").expect("t"))
        .collect();
    v.sort();
    v
}

#[rstest]
#[tokio::test]
async fn the_database_policy_itself_enforces_sharing_consents() {
    let app = TestApp::spawn(Postgres).await;
    for slug in ["alfa", "beta", "gamma"] {
        app.onboard(slug).await;
    }
    let alfa_op = app.member("alfa", "alfa-op", Role::Operator).await;
    let beta_op = app.member("beta", "beta-op", Role::Operator).await;
    let mario = app
        .register(
            &alfa_op,
            Some("RSSMRA85T10A562S"),
            "Mario",
            "Rossi",
            &["3331234567"],
        )
        .await;
    app.register(&beta_op, Some("RSSMRA85T10A562S"), "Mario", "Rossi", &[])
        .await;
    app.register(&alfa_op, Some("BNCLRA90D45F205B"), "Laura", "Bianchi", &[])
        .await;
    let (alfa, beta, gamma) = (
        tenant_id(&app, "alfa").await,
        tenant_id(&app, "beta").await,
        tenant_id(&app, "gamma").await,
    );
    let person = mario["personId"].as_str().expect("person").to_owned();
    let conn = app_role(&app).await;
    let profiles = "SELECT tenant_id::text AS t FROM profiles";
    let contacts = "SELECT tenant_id::text AS t FROM contacts";

    for table in civitas_migrations::CONSENT_TABLES {
        assert_eq!(
            count(&conn, table).await,
            0,
            "{table} without a tenant or person"
        );
    }
    assert_eq!(
        as_app_role(&conn, &beta, "", profiles).await,
        vec![beta.clone()]
    );

    let citizen = app.citizen("RSSMRA85T10A562S");
    let grant = app
        .gql(&citizen, "mutation { grantSharingConsent(input: { source: \"alfa\", grantee: \"beta\", scopes: [PROFILE], purpose: \"p\" }) { id } }", json!({}))
        .await;
    assert_no_errors(&grant);

    // With no filter of the application's, the database shows beta alfa's record of Mario
    // (and its contacts), but not alfa's record of Laura; gamma still sees nothing.
    let mut want = vec![alfa.clone(), beta.clone()];
    want.sort();
    assert_eq!(as_app_role(&conn, &beta, "", profiles).await, want);
    assert_eq!(
        as_app_role(&conn, &beta, "", contacts).await,
        vec![alfa.clone()]
    );
    assert!(as_app_role(&conn, &gamma, "", profiles).await.is_empty());
    // The citizen sees every record about themselves, and no one else's.
    assert_eq!(as_app_role(&conn, "", &person, profiles).await, want);

    let id = grant["data"]["grantSharingConsent"]["id"].clone();
    let rv = app
        .gql(
            &citizen,
            "mutation($id: ID!) { revokeSharingConsent(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
    assert_no_errors(&rv);
    assert_eq!(
        as_app_role(&conn, &beta, "", profiles).await,
        vec![beta.clone()]
    );
}
