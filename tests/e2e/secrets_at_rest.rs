//! Secrets at rest: a body's webhook signing secret and its identity provider's client
//! secret are stored sealed under the configured key, still work (deliveries verify with
//! the secret the body was shown), survive a key rotation (old key accepted for reading,
//! `rewrap` seals everything again under the new one) and stop opening once the key that
//! sealed them is gone, without telling the client anything.

use civitas::app::rewrap_secrets;
use civitas_tenants::Role;
use civitas_tenants::sealed::Keyring;
use rstest::rstest;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::harness::*;
use crate::webhooks::{Receiver, free_port, verify};

/// The one text value `sql` selects as `v`, read past row-level security.
async fn raw(app: &TestApp, sql: &str) -> String {
    let conn = app.unrestricted().await;
    let row = conn
        .query_one_raw(Statement::from_string(conn.get_database_backend(), sql))
        .await
        .expect("query")
        .expect("row");
    row.try_get("", "v").expect("v")
}

/// Writes past row-level security, as an older release would have.
async fn raw_exec(app: &TestApp, sql: &str) {
    let conn = app.unrestricted().await;
    conn.execute_unprepared(sql).await.expect("exec");
}

async fn gql_at(app: &TestApp, addr: std::net::SocketAddr, token: &str, query: &str) -> Value {
    app.client
        .post(format!("http://{addr}/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": query }))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json")
}

fn key_id(key: &str) -> String {
    let bytes = civitas_tenants::sealed::decode_key(key).expect("key");
    Keyring::new(&bytes, &[])
        .expect("keyring")
        .current_id()
        .to_owned()
}

const PROVIDERS: &str = "{ identityProviders { issuer hasClientSecret } }";

#[rstest]
#[tokio::test]
async fn stored_secrets_are_sealed_and_survive_a_key_rotation(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let (key_a, key_b) = (Keyring::generate_key(), Keyring::generate_key());
    let (id_a, id_b) = (key_id(&key_a), key_id(&key_b));
    // This server only serves requests: the replicas below deliver.
    let app = TestApp::spawn_with(backend, |c| {
        c.secrets_key = Some(key_a.clone());
        c.webhook_poll_ms = 0;
    })
    .await;
    app.onboard("roma").await;
    let admin = app.admin_of("roma");
    let op = app.member("roma", "roma-op", Role::Operator).await;
    let sup = app.member("roma", "roma-sup", Role::Supervisor).await;
    assert_no_errors(&app.gql(&sup, "mutation { createService(input: { code: \"ANAG\", name: \"Anagrafe\", area: \"Anagrafe\" }) { code } }", json!({})).await);
    let port = free_port();
    let receiver = Receiver::start(port, 0).await;
    let hook = app
        .gql(&admin, "mutation($u: String!) { createWebhook(url: $u, eventTypes: [\"case.created\"]) { secret } }", json!({ "u": format!("http://127.0.0.1:{port}/hook") }))
        .await;
    assert_no_errors(&hook);
    let secret = hook["data"]["createWebhook"]["secret"]
        .as_str()
        .expect("secret")
        .to_owned();
    let idp = app
        .gql(
            &admin,
            "mutation($i: RegisterIdentityProviderInput!) { registerIdentityProvider(input: $i) { id } }",
            json!({ "i": { "issuer": "http://127.0.0.1:9/realms/roma", "audiences": ["civitas"],
                           "clientId": "civitas-web", "clientSecret": "web-secret" } }),
        )
        .await;
    assert_no_errors(&idp);

    // At rest: sealed under key A, neither secret in the clear.
    let stored_hook = "SELECT secret AS v FROM webhooks";
    let stored_idp = "SELECT client_secret AS v FROM identity_providers";
    let (h, p) = (raw(&app, stored_hook).await, raw(&app, stored_idp).await);
    assert!(h.starts_with(&format!("sealed:v1:{id_a}:")), "{h}");
    assert!(p.starts_with(&format!("sealed:v1:{id_a}:")), "{p}");
    assert!(!h.contains(&secret) && !p.contains("web-secret"));

    // Rotated: B seals, A still opens. Deliveries verify with the secret the body was shown.
    let rotated = app
        .replica_with(|c| {
            c.secrets_key = Some(key_b.clone());
            c.secrets_old_keys = vec![key_a.clone()];
            c.webhook_poll_ms = 200;
        })
        .await;
    assert_no_errors(
        &app.gql(
            &op,
            "mutation { createCase(input: { serviceCode: \"ANAG\", title: \"Uno\" }) { id } }",
            json!({}),
        )
        .await,
    );
    let got = receiver.wait_for(1).await;
    assert_eq!(got.len(), 1, "one delivery");
    assert!(
        verify(&secret, &got[0].0, &got[0].1),
        "signed with the body's secret"
    );
    let listed = gql_at(&app, rotated.addr, &admin, PROVIDERS).await;
    assert_no_errors(&listed);
    assert_eq!(
        listed["data"]["identityProviders"][0]["hasClientSecret"],
        true
    );

    // The rewrap seals both under B, once.
    assert_eq!(
        rewrap_secrets(&rotated.app.db).await.expect("rewrap"),
        (1, 1)
    );
    assert_eq!(
        rewrap_secrets(&rotated.app.db).await.expect("rewrap"),
        (0, 0)
    );
    let (h, p) = (raw(&app, stored_hook).await, raw(&app, stored_idp).await);
    assert!(h.starts_with(&format!("sealed:v1:{id_b}:")), "{h}");
    assert!(p.starts_with(&format!("sealed:v1:{id_b}:")), "{p}");

    // A secret stored in the clear by an older release still signs, and is sealed next time.
    raw_exec(&app, &format!("UPDATE webhooks SET secret = '{secret}'")).await;
    assert_no_errors(
        &app.gql(
            &op,
            "mutation { createCase(input: { serviceCode: \"ANAG\", title: \"Due\" }) { id } }",
            json!({}),
        )
        .await,
    );
    let got = receiver.wait_for(2).await;
    assert_eq!(got.len(), 2, "two deliveries");
    assert!(verify(&secret, &got[1].0, &got[1].1));
    assert_eq!(
        rewrap_secrets(&rotated.app.db).await.expect("rewrap"),
        (0, 1)
    );
    assert!(
        raw(&app, stored_hook)
            .await
            .starts_with(&format!("sealed:v1:{id_b}:"))
    );

    // Key A alone no longer opens them: an internal error, with nothing of the cause shown.
    let stale = app
        .replica_with(|c| {
            c.secrets_key = Some(key_a.clone());
            c.secrets_old_keys = vec![];
            c.webhook_poll_ms = 0;
        })
        .await;
    let refused = gql_at(&app, stale.addr, &admin, PROVIDERS).await;
    assert_eq!(error_code(&refused), "INTERNAL", "{refused}");
    assert!(!refused.to_string().contains(&id_b), "{refused}");
}

#[rstest]
#[tokio::test]
async fn a_bad_secrets_key_stops_the_start() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut config = test_config(Sqlite, dir.path(), None);
    config.secrets_key = Some("c2hvcnQ=".into());
    let err = civitas::build(config).await.err().expect("must refuse");
    assert!(
        format!("{err:#}").contains("CIVITAS_SECRETS_KEY"),
        "{err:#}"
    );
}
