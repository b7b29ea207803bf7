//! The server's own requests: refused towards internal addresses whatever the URL's
//! spelling, discovery not flooded by forged tokens, and one body's slow webhook receiver
//! holding up nobody else's deliveries.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use civitas_tenants::Role;
use rstest::rstest;
use serde_json::{Value, json};

use crate::harness::*;
use crate::oidc::free_port;

/// An HTTP server on loopback that counts the requests it gets and answers each with
/// `status` after `delay`.
async fn counting_server(port: u16, status: u16, delay: Duration) -> Arc<AtomicUsize> {
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let app = axum::Router::new().fallback(move || {
        let h = h.clone();
        async move {
            h.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(delay).await;
            axum::http::StatusCode::from_u16(status).expect("status")
        }
    });
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("bind");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    hits
}

async fn body_with_service(app: &TestApp, slug: &str) -> String {
    app.onboard(slug).await;
    let sup = app
        .member(slug, &format!("{slug}-sup"), Role::Supervisor)
        .await;
    assert_no_errors(&app.gql(&sup, "mutation { createService(input: { code: \"ANAG\", name: \"Anagrafe\", area: \"Anagrafe\" }) { code } }", json!({})).await);
    sup
}

async fn hook(app: &TestApp, slug: &str, url: &str) {
    let body = app
        .gql(
            &app.admin_of(slug),
            "mutation($u: String!) { createWebhook(url: $u, eventTypes: [\"*\"]) { secret } }",
            json!({ "u": url }),
        )
        .await;
    assert_no_errors(&body);
}

async fn open_case(app: &TestApp, token: &str) {
    let c = app.gql(token, "mutation { createCase(input: { serviceCode: \"ANAG\", title: \"Certificato\" }) { id } }", json!({})).await;
    assert_no_errors(&c);
}

async fn deliveries(app: &TestApp, slug: &str) -> Value {
    app.gql(
        &app.admin_of(slug),
        "{ webhookDeliveries { status attempts lastStatus lastError } }",
        json!({}),
    )
    .await["data"]["webhookDeliveries"]
        .clone()
}

#[rstest]
#[tokio::test]
async fn webhooks_to_internal_addresses_are_refused_however_spelt(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    // No allow-list: loopback is as internal as a cloud's metadata address.
    let app = TestApp::spawn_with(backend, |c| c.outbound_allow = vec![]).await;
    let port = free_port();
    let hits = counting_server(port, 204, Duration::ZERO).await;
    let sup = body_with_service(&app, "roma").await;
    // Addresses written in the URL are refused at once...
    for url in [
        format!("http://127.0.0.1:{port}/hook"),
        format!("http://2130706433:{port}/hook"),
        format!("http://0x7f.1:{port}/hook"),
        format!("http://[::ffff:127.0.0.1]:{port}/hook"),
        "http://169.254.169.254/latest/meta-data".to_owned(),
        "file:///etc/passwd".to_owned(),
    ] {
        let body = app
            .gql(
                &app.admin_of("roma"),
                "mutation($u: String!) { createWebhook(url: $u, eventTypes: [\"*\"]) { secret } }",
                json!({ "u": url }),
            )
            .await;
        assert_eq!(error_code(&body), "VALIDATION", "{url}: {body}");
    }
    // ...names once resolved, at every delivery: nothing is sent.
    for host in ["localhost", "civitas-test.invalid"] {
        hook(&app, "roma", &format!("http://{host}:{port}/hook")).await;
    }
    open_case(&app, &sup).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let log = deliveries(&app, "roma").await;
        let tried = log.as_array().map_or(0, |l| {
            l.iter()
                .filter(|d| d["attempts"].as_i64() >= Some(1))
                .count()
        });
        if tried == 2 {
            let errors: Vec<&str> = log
                .as_array()
                .expect("deliveries")
                .iter()
                .map(|d| d["lastError"].as_str().unwrap_or(""))
                .collect();
            // The unresolvable name fails as a failed connection; none says more.
            let mut sorted = errors.clone();
            sorted.sort();
            assert_eq!(sorted, ["connection failed", "refused"], "{log}");
            break;
        }
        assert!(Instant::now() < deadline, "{log}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "nothing reached the loopback server"
    );
}

#[rstest]
#[tokio::test]
async fn forged_tokens_neither_reach_internal_issuers_nor_flood_registered_ones() {
    use crate::oidc::{Key, genkey, sign};
    let keys = tempfile::tempdir().expect("tmp");
    let key: Key = genkey(keys.path(), "k.json");
    let forge = |issuer: &str| {
        let now = chrono::Utc::now().timestamp();
        sign(
            &key,
            jsonwebtoken::Algorithm::RS256,
            &json!({ "iss": issuer, "aud": "civitas", "sub": "x", "iat": now, "exp": now + 300 }),
        )
    };
    let register = "mutation($i: RegisterIdentityProviderInput!) { registerIdentityProvider(input: $i) { id } }";

    // An issuer on loopback without an allow-list: refused when written as an address,
    // never contacted when named.
    let strict = TestApp::spawn_with(Sqlite, |c| c.outbound_allow = vec![]).await;
    strict.onboard("roma").await;
    let port = free_port();
    let hits = counting_server(port, 500, Duration::ZERO).await;
    let literal = strict
        .gql(
            &strict.admin_of("roma"),
            register,
            json!({ "i": { "issuer": format!("http://127.0.0.1:{port}"), "audiences": ["civitas"] } }),
        )
        .await;
    assert_eq!(error_code(&literal), "VALIDATION");
    let issuer = format!("http://localhost:{port}");
    assert_no_errors(
        &strict
            .gql(
                &strict.admin_of("roma"),
                register,
                json!({ "i": { "issuer": issuer, "audiences": ["civitas"] } }),
            )
            .await,
    );
    let (status, _) = strict
        .post(Some(&forge(&issuer)), None, "{ me { subject } }", json!({}))
        .await;
    assert_eq!(status, 401);
    assert_eq!(hits.load(Ordering::SeqCst), 0);

    // A reachable issuer whose discovery fails: twenty forged tokens, one request to it.
    let app = TestApp::spawn(Sqlite).await;
    app.onboard("roma").await;
    let port = free_port();
    let hits = counting_server(port, 500, Duration::ZERO).await;
    let issuer = format!("http://127.0.0.1:{port}");
    assert_no_errors(
        &app.gql(
            &app.admin_of("roma"),
            register,
            json!({ "i": { "issuer": issuer, "audiences": ["civitas"] } }),
        )
        .await,
    );
    let token = forge(&issuer);
    let flood = (0..20).map(|_| app.post(Some(&token), None, "{ me { subject } }", json!({})));
    for (status, _) in futures::future::join_all(flood).await {
        assert_eq!(status, 401);
    }
    assert_eq!(
        hits.load(Ordering::SeqCst),
        1,
        "one discovery request for the whole flood"
    );
}

#[rstest]
#[tokio::test]
async fn a_slow_receiver_holds_up_only_its_own_bodys_deliveries() {
    let app = TestApp::spawn(Sqlite).await;
    let (slow_port, fast_port) = (free_port(), free_port());
    counting_server(slow_port, 204, Duration::from_secs(9)).await;
    let fast = counting_server(fast_port, 204, Duration::ZERO).await;
    let roma = body_with_service(&app, "roma").await;
    let beta = body_with_service(&app, "beta").await;
    hook(&app, "roma", &format!("http://127.0.0.1:{slow_port}/hook")).await;
    hook(&app, "beta", &format!("http://127.0.0.1:{fast_port}/hook")).await;

    open_case(&app, &roma).await;
    // roma's delivery is now under way, waiting for its receiver.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let created = Instant::now();
    open_case(&app, &beta).await;
    while fast.load(Ordering::SeqCst) == 0 {
        assert!(
            created.elapsed() < Duration::from_secs(3),
            "beta's delivery waited for roma's receiver"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        created.elapsed() < Duration::from_millis(1200),
        "beta delivered {:?} after its case",
        created.elapsed()
    );
}
