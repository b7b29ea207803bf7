//! The pool of `Db::call_in_tenant` (PostgreSQL): its connections carry the server's settings,
//! one whose statement was abandoned is closed rather than reused, and a call still enters only
//! its own tenant.

use std::time::Duration;

use civitas_tenants::{Db, Role, TenantContext, TenantSlug, registry};
use rstest::{fixture, rstest};
use sea_orm::{ConnectionTrait, Value};

use crate::harness::*;
use crate::isolation::two_tenants;

/// Test-only functions, made by the database's owner and callable by the application role,
/// with the `(tenant, clock, …)` arguments `call_in_tenant` passes.
const FUNCTIONS: &str = r#"
CREATE FUNCTION civitas_test_session(p_tenant uuid, p_now text)
  RETURNS TABLE (statement_timeout text, jit text, pid int, members bigint)
  LANGUAGE plpgsql AS $$
DECLARE
  entered boolean;
BEGIN
  entered := civitas_enter_tenant(p_tenant, p_now);
  RETURN QUERY SELECT current_setting('statement_timeout'), current_setting('jit'),
                      pg_backend_pid(), (SELECT count(*) FROM members);
END
$$;
CREATE FUNCTION civitas_test_sleep(p_tenant uuid, p_now text, p_seconds float8)
  RETURNS TABLE (pid int) LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_sleep(p_seconds);
  RETURN QUERY SELECT pg_backend_pid();
END
$$;
GRANT EXECUTE ON FUNCTION civitas_test_session(uuid, text) TO civitas_app;
GRANT EXECUTE ON FUNCTION civitas_test_sleep(uuid, text, float8) TO civitas_app;
"#;

/// Two tenants on PostgreSQL, with the test functions.
#[fixture]
async fn pooled() -> TestApp {
    let app = two_tenants(Postgres).await;
    // Three members in alfa, two in beta: a count tells which tenant a call entered.
    app.member("alfa", "alfa-desk", Role::Operator).await;
    let owner = app.owner().await;
    owner
        .execute_unprepared(FUNCTIONS)
        .await
        .expect("test functions");
    app
}

async fn ctx(db: &Db, slug: &str) -> TenantContext {
    let slug = TenantSlug::parse(slug).expect("slug");
    let tenant = registry::find_by_slug(db, &slug)
        .await
        .expect("lookup")
        .expect("tenant");
    TenantContext::system(tenant, "test")
}

struct Session {
    statement_timeout: String,
    jit: String,
    pid: i32,
    members: i64,
}

async fn session(db: &Db, ctx: &TenantContext) -> Session {
    let row = db
        .call_in_tenant(ctx, "civitas_test_session", vec![])
        .await
        .expect("call")
        .expect("row");
    Session {
        statement_timeout: row.try_get("", "statement_timeout").expect("timeout"),
        jit: row.try_get("", "jit").expect("jit"),
        pid: row.try_get("", "pid").expect("pid"),
        members: row.try_get("", "members").expect("members"),
    }
}

#[rstest]
#[tokio::test]
async fn a_call_runs_with_the_servers_settings_and_reuses_its_connection(
    #[future] pooled: TestApp,
) {
    let app = pooled.await;
    let db = &app.app.db;
    let alfa = ctx(db, "alfa").await;
    let first = session(db, &alfa).await;
    assert_eq!(
        (first.statement_timeout.as_str(), first.jit.as_str()),
        ("10s", "off")
    );
    assert_eq!(first.members, 3, "alfa's members only");
    let second = session(db, &alfa).await;
    assert_eq!(
        second.pid, first.pid,
        "a finished call's connection goes back to the pool"
    );
}

#[rstest]
#[tokio::test]
async fn a_call_abandoned_mid_statement_does_not_lend_its_connection_again(
    #[future] pooled: TestApp,
) {
    let app = pooled.await;
    let db = &app.app.db;
    let alfa = ctx(db, "alfa").await;
    let before = session(db, &alfa).await;

    let abandoned = tokio::time::timeout(
        Duration::from_millis(200),
        db.call_in_tenant(&alfa, "civitas_test_sleep", vec![Value::from(30.0_f64)]),
    )
    .await;
    assert!(abandoned.is_err(), "the sleeping call was cut short");

    // Reused, that connection would first wait out the sleep (or answer with its row).
    let after = tokio::time::timeout(Duration::from_secs(20), session(db, &alfa))
        .await
        .expect("the next call does not wait for the abandoned statement");
    assert_ne!(after.pid, before.pid, "a new connection");
    assert_eq!(after.members, 3);
}

#[rstest]
#[tokio::test]
async fn a_call_refused_by_the_database_leaves_its_connection_usable(#[future] pooled: TestApp) {
    let app = pooled.await;
    let db = &app.app.db;
    let (alfa, beta) = (ctx(db, "alfa").await, ctx(db, "beta").await);
    let before = session(db, &alfa).await;
    // PostgreSQL refuses the statement (no such function for a text argument) and the
    // connection stays in step.
    db.call_in_tenant(&alfa, "civitas_test_sleep", vec![Value::from("soon")])
        .await
        .expect_err("not a number of seconds");
    let after = session(db, &beta).await;
    assert_eq!(after.pid, before.pid, "the same connection, reused");
    assert_eq!(
        after.members, 2,
        "beta's rows: alfa's call ended with its statement"
    );
}
