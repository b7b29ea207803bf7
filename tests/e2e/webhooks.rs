//! Outbound webhooks: signed payloads checked by an independent receiver, retries, and
//! delivery of what was committed before a restart.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use civitas_tenants::Role;
use rstest::rstest;
use serde_json::{Value, json};

use crate::harness::*;

/// The headers and body of one request the receiver accepted.
pub(crate) type Received = (HeaderMap, Vec<u8>);

#[derive(Clone, Default)]
pub(crate) struct Receiver {
    got: Arc<Mutex<Vec<Received>>>,
    /// How many requests to answer with 500 before accepting.
    fail_first: Arc<Mutex<usize>>,
}

impl Receiver {
    pub(crate) async fn start(port: u16, fail_first: usize) -> Receiver {
        let r = Receiver {
            fail_first: Arc::new(Mutex::new(fail_first)),
            ..Default::default()
        };
        let state = r.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
                let state = state.clone();
                async move {
                    let mut fail = state.fail_first.lock().expect("lock");
                    if *fail > 0 {
                        *fail -= 1;
                        return StatusCode::INTERNAL_SERVER_ERROR;
                    }
                    state
                        .got
                        .lock()
                        .expect("lock")
                        .push((headers, body.to_vec()));
                    StatusCode::NO_CONTENT
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind receiver");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        r
    }

    pub(crate) async fn wait_for(&self, n: usize) -> Vec<Received> {
        for _ in 0..100 {
            if self.got.lock().expect("lock").len() >= n {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.got.lock().expect("lock").clone()
    }
}

/// Checks `X-Civitas-Signature` the way a receiver would, with its own HMAC.
pub(crate) fn verify(secret: &str, headers: &HeaderMap, body: &[u8]) -> bool {
    let Some(sig) = headers
        .get("x-civitas-signature")
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let mut t = "";
    let mut v1 = "";
    for part in sig.split(',') {
        match part.split_once('=') {
            Some(("t", x)) => t = x,
            Some(("v1", x)) => v1 = x,
            _ => {}
        }
    }
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    let mut signed = t.as_bytes().to_vec();
    signed.push(b'.');
    signed.extend_from_slice(body);
    let Ok(expected) = (0..v1.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&v1[i..i + 2], 16))
        .collect::<Result<Vec<u8>, _>>()
    else {
        return false;
    };
    ring::hmac::verify(&key, &signed, &expected).is_ok()
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

async fn setup(app: &TestApp, port: u16) -> (String, String) {
    app.onboard("roma").await;
    let op = app.member("roma", "roma-op", Role::Operator).await;
    let sup = app.member("roma", "roma-sup", Role::Supervisor).await;
    assert_no_errors(&app.gql(&sup, "mutation { createService(input: { code: \"ANAG\", name: \"Anagrafe\", area: \"Anagrafe\" }) { code } }", json!({})).await);
    let hook = app
        .gql(&app.admin_of("roma"), "mutation($u: String!) { createWebhook(url: $u, eventTypes: [\"case.created\", \"case.status_changed\"]) { secret webhook { id eventTypes } } }", json!({ "u": format!("http://127.0.0.1:{port}/hook") }))
        .await;
    assert_no_errors(&hook);
    (
        op,
        hook["data"]["createWebhook"]["secret"]
            .as_str()
            .expect("secret")
            .to_owned(),
    )
}

async fn open_case(app: &TestApp, op: &str) -> Value {
    let c = app.gql(op, "mutation { createCase(input: { serviceCode: \"ANAG\", title: \"Certificato\" }) { id number } }", json!({})).await;
    assert_no_errors(&c);
    c["data"]["createCase"].clone()
}

#[rstest]
#[tokio::test]
async fn deliveries_are_signed_and_retried(#[values(Sqlite, Postgres)] backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let port = free_port();
    let receiver = Receiver::start(port, 1).await;
    let (op, secret) = setup(&app, port).await;
    let c = open_case(&app, &op).await;

    // The first attempt gets a 500; the retry is scheduled with backoff on the clock.
    for _ in 0..50 {
        let log = app
            .gql(
                &app.admin_of("roma"),
                "{ webhookDeliveries { attempts status lastStatus } }",
                json!({}),
            )
            .await;
        if log["data"]["webhookDeliveries"][0]["attempts"] == 1 {
            assert_eq!(log["data"]["webhookDeliveries"][0]["lastStatus"], 500);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    app.clock.advance(chrono::Duration::seconds(5));
    let got = receiver.wait_for(1).await;
    assert_eq!(got.len(), 1, "delivered once after the retry");
    let (headers, body) = &got[0];
    assert!(
        verify(&secret, headers, body),
        "the signature verifies with the secret"
    );
    assert!(
        !verify("another-secret", headers, body),
        "and not with another"
    );
    let payload: Value = serde_json::from_slice(body).expect("json");
    assert_eq!(payload["type"], "case.created");
    assert_eq!(payload["data"]["caseId"], c["id"]);
    assert_eq!(
        headers
            .get("x-civitas-event-id")
            .and_then(|v| v.to_str().ok()),
        payload["id"].as_str()
    );

    // Event types not subscribed to are not sent.
    let assigned = app
        .gql(
            &op,
            "mutation($id: ID!) { assignCase(id: $id, operator: \"roma-op\") { status } }",
            json!({ "id": c["id"] }),
        )
        .await;
    assert_no_errors(&assigned);
    let moved = app
        .gql(
            &op,
            "mutation($id: ID!) { changeCaseStatus(id: $id, status: IN_PROGRESS) { status } }",
            json!({ "id": c["id"] }),
        )
        .await;
    assert_no_errors(&moved);
    let got = receiver.wait_for(2).await;
    assert_eq!(got.len(), 2);
    let second: Value = serde_json::from_slice(&got[1].1).expect("json");
    assert_eq!(
        (second["type"].clone(), second["data"]["status"].clone()),
        (json!("case.status_changed"), json!("in_progress"))
    );
    // The receiver answers before the worker records the answer: wait for the record.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let log = app
            .gql(
                &app.admin_of("roma"),
                "{ webhookDeliveries { status } }",
                json!({}),
            )
            .await;
        let all_delivered = log["data"]["webhookDeliveries"]
            .as_array()
            .is_some_and(|l| l.iter().all(|d| d["status"] == "delivered"));
        if all_delivered {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{log}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[rstest]
#[tokio::test]
async fn what_was_committed_before_a_restart_is_delivered_after_it() {
    // The first server never delivers (its worker is off, as if it died after the commit).
    let app = TestApp::spawn_with(Postgres, |c| c.webhook_poll_ms = 0).await;
    let port = free_port();
    let receiver = Receiver::start(port, 0).await;
    let (op, secret) = setup(&app, port).await;
    let c = open_case(&app, &op).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(receiver.got.lock().expect("lock").is_empty());

    // A new server on the same database finds the delivery in the outbox and sends it.
    let _restarted = app.replica_with(|c| c.webhook_poll_ms = 200).await;
    let got = receiver.wait_for(1).await;
    assert_eq!(got.len(), 1);
    assert!(verify(&secret, &got[0].0, &got[0].1));
    let payload: Value = serde_json::from_slice(&got[0].1).expect("json");
    assert_eq!(payload["data"]["number"], c["number"]);
}

#[rstest]
#[tokio::test]
async fn webhooks_are_validated_and_private_to_their_body(#[values(Sqlite)] backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, _) = setup(&app, free_port()).await;
    app.onboard("beta").await;
    let bad = app
        .gql(
            &app.admin_of("roma"),
            "mutation { createWebhook(url: \"ftp://x\", eventTypes: [\"*\"]) { secret } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&bad), "VALIDATION");
    let unknown = app.gql(&app.admin_of("roma"), "mutation { createWebhook(url: \"http://127.0.0.1:1/x\", eventTypes: [\"case.deleted\"]) { secret } }", json!({})).await;
    assert_eq!(error_code(&unknown), "VALIDATION");
    let beta = app
        .gql(&app.admin_of("beta"), "{ webhooks { id } }", json!({}))
        .await;
    assert_eq!(beta["data"]["webhooks"], json!([]));
    let op = app.member("roma", "someone", Role::Operator).await;
    assert_eq!(
        error_code(&app.gql(&op, "{ webhooks { id } }", json!({})).await),
        "FORBIDDEN"
    );
}
