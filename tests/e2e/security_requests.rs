//! Requests that must not outlive or borrow rights: idempotent replays authorized again
//! and keys released when their request never finished; and the small doors: NUL text,
//! readiness without a database, a body's own limits, case owners, rules written by
//! another process.

use std::time::{Duration, Instant};

use civitas_tenants::Role;
use rstest::rstest;
use serde_json::json;

use crate::harness::*;

const CREATE_HOOK: &str =
    "mutation { createWebhook(url: \"https://example.org/hook\", eventTypes: [\"*\"]) { secret } }";

#[rstest]
#[tokio::test]
async fn a_stored_answer_is_replayed_only_to_its_caller_while_they_hold_its_rights(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    app.onboard("roma").await;
    let ops_admin = app.member("roma", "ops-admin", Role::TenantAdmin).await;
    let op = app.member("roma", "roma-op", Role::Operator).await;
    let (status, replayed, first) = post_keyed(&app, &ops_admin, "k1", CREATE_HOOK).await;
    assert_eq!((status, replayed), (200, None));
    assert!(
        first["data"]["createWebhook"]["secret"].is_string(),
        "{first}"
    );

    // Another member with the same key and body: their own request, refused as theirs.
    let (_, replayed, other) = post_keyed(&app, &op, "k1", CREATE_HOOK).await;
    assert_eq!(replayed, None);
    assert_eq!(error_code(&other), "FORBIDDEN", "{other}");
    assert!(!other.to_string().contains("whsec_"));

    // The same caller, once the role that allowed it is gone: no replay of the secret.
    let revoked = app
        .gql(
            &app.admin_of("roma"),
            "mutation { revokeRole(subject: \"ops-admin\", role: TENANT_ADMIN) { roles } }",
            json!({}),
        )
        .await;
    assert_no_errors(&revoked);
    let (status, _, again) = post_keyed(&app, &ops_admin, "k1", CREATE_HOOK).await;
    assert_eq!((status, error_code(&again)), (403, "FORBIDDEN"), "{again}");
    assert!(!again.to_string().contains("whsec_"));
}

#[rstest]
#[tokio::test]
async fn a_key_whose_request_never_finished_is_released_after_its_lease(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    app.onboard("roma").await;
    let admin = app.admin_of("roma");
    // A replica claimed the key and died before answering.
    let (principal, _) = app.app.auth.bearer(&admin).await.expect("token");
    let tc = civitas_tenants::access::resolve(&app.app.db, &principal, None)
        .await
        .expect("resolve")
        .expect("tenant");
    let body = serde_json::to_vec(&json!({ "query": CREATE_HOOK })).expect("json");
    let claim = civitas::idempotency::claim(
        &app.app.db,
        &tc,
        "crashed",
        &civitas::idempotency::hash(&body),
    )
    .await
    .expect("claim");
    assert!(matches!(claim, civitas::idempotency::Claim::Run));

    let (status, _, busy) = post_keyed(&app, &admin, "crashed", CREATE_HOOK).await;
    assert_eq!((status, error_code(&busy)), (409, "CONFLICT"));
    app.clock.advance(chrono::Duration::seconds(61));
    let (status, replayed, ran) = post_keyed(&app, &admin, "crashed", CREATE_HOOK).await;
    assert_eq!((status, replayed), (200, None));
    assert_no_errors(&ran);
    let (_, replayed, again) = post_keyed(&app, &admin, "crashed", CREATE_HOOK).await;
    assert_eq!(replayed.as_deref(), Some("true"));
    assert_eq!(again, ran);
}

#[rstest]
#[tokio::test]
async fn nul_characters_are_refused_alike_on_both_backends(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    app.onboard("roma").await;
    let op = app.member("roma", "roma-op", Role::Operator).await;
    let (status, body) = app
        .post(
            Some(&op),
            None,
            "mutation($i: RegisterCitizenInput!) { registerCitizen(input: $i) { id } }",
            json!({ "i": { "givenName": "Ma\u{0}rio", "familyName": "Rossi" } }),
        )
        .await;
    assert_eq!((status, error_code(&body)), (400, "VALIDATION"), "{body}");
    let (_, inline) = app
        .post(Some(&op), None, "mutation { registerCitizen(input: { givenName: \"A\\u0000\", familyName: \"B\" }) { id } }", json!({}))
        .await;
    assert_eq!(error_code(&inline), "VALIDATION", "{inline}");
    let list = app
        .gql(
            &op,
            "{ searchCitizens(name: \"Rossi\") { items { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        list["data"]["searchCitizens"]["items"],
        json!([]),
        "nothing written"
    );
}

#[rstest]
#[tokio::test]
async fn readiness_answers_at_once_when_the_database_is_gone() {
    let app = TestApp::spawn(Postgres).await;
    let ready = app
        .client
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(ready.status().as_u16(), 200);
    let name = app.pg.as_ref().expect("pg").name.clone();
    let admin = sea_orm::Database::connect(pg_url("postgres", "postgres"))
        .await
        .expect("connect");
    use sea_orm::ConnectionTrait;
    admin
        .execute_unprepared(&format!(
            "ALTER DATABASE {name} ALLOW_CONNECTIONS false; \
             SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
        ))
        .await
        .expect("cut the database off");
    // Termination is a signal: wait until the server's backends are gone.
    for _ in 0..100 {
        let left = admin
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Postgres,
                format!("SELECT count(*) AS n FROM pg_stat_activity WHERE datname = '{name}'"),
            ))
            .await
            .expect("count")
            .and_then(|r| r.try_get::<i64>("", "n").ok());
        if left == Some(0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let started = Instant::now();
    let ready = app
        .client
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(ready.status().as_u16(), 503);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    admin
        .execute_unprepared(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"))
        .await
        .expect("restore");
}

#[rstest]
#[tokio::test]
async fn a_body_cannot_set_its_own_limits_nor_give_cases_to_strangers(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    app.onboard("roma").await;
    app.onboard("beta").await;
    let admin = app.admin_of("roma");
    let limits = app
        .gql(&admin, "mutation { updateTenantSettings(settings: { locale: \"it-IT\", limits: { tenantRps: 100000 } }) { settings } }", json!({}))
        .await;
    assert_eq!(error_code(&limits), "FORBIDDEN", "{limits}");
    let fine = app
        .gql(
            &admin,
            "mutation { updateTenantSettings(settings: { locale: \"it-IT\" }) { settings } }",
            json!({}),
        )
        .await;
    assert_no_errors(&fine);

    let sup = app.member("roma", "roma-sup", Role::Supervisor).await;
    app.member("roma", "roma-op", Role::Operator).await;
    app.member("roma", "roma-tutor", Role::Tutor).await;
    app.member("beta", "beta-op", Role::Operator).await;
    assert_no_errors(&app.gql(&sup, "mutation { createService(input: { code: \"ANAG\", name: \"Anagrafe\", area: \"Anagrafe\" }) { code } }", json!({})).await);
    let c = app
        .gql(
            &sup,
            "mutation { createCase(input: { serviceCode: \"ANAG\", title: \"x\" }) { id } }",
            json!({}),
        )
        .await;
    let id = c["data"]["createCase"]["id"].clone();
    let assign =
        "mutation($id: ID!, $o: String!) { assignCase(id: $id, operator: $o) { assignedTo } }";
    for stranger in ["beta-op", "roma-tutor", "nobody", "'; DROP TABLE cases; --"] {
        let body = app
            .gql(&sup, assign, json!({ "id": id, "o": stranger }))
            .await;
        assert_eq!(error_code(&body), "VALIDATION", "{stranger}: {body}");
    }
    let ok = app
        .gql(&sup, assign, json!({ "id": id, "o": "roma-op" }))
        .await;
    assert_eq!(ok["data"]["assignCase"]["assignedTo"], "roma-op", "{ok}");
}

#[rstest]
#[tokio::test]
async fn a_body_onboarded_by_the_cli_works_at_once_on_a_running_sqlite_server() {
    let app = TestApp::spawn(Sqlite).await;
    let mut cmd = crate::cli::civitas(&app.data_dir);
    cmd.env("CIVITAS_DATABASE_URL", &app.config.database_url)
        .args([
            "tenant",
            "onboard",
            "--slug",
            "tivoli",
            "--name",
            "Comune di Tivoli",
            "--kind",
            "comune_metropolitano",
            "--admin-subject",
            "tivoli-admin",
        ]);
    // The server runs on while the other process writes (and has been watching for a while).
    tokio::time::sleep(Duration::from_millis(600)).await;
    let out = tokio::task::spawn_blocking(move || crate::cli::run(&mut cmd))
        .await
        .expect("cli");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let started = Instant::now();
    let admin = app.admin_of("tivoli");
    loop {
        let me = app
            .gql(&admin, "{ members { subject roles } }", json!({}))
            .await;
        if me.get("errors").is_none() {
            assert_eq!(me["data"]["members"][0]["roles"], json!(["TENANT_ADMIN"]));
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(1), "{me}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
