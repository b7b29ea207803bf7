//! GraphQL subscriptions over WebSocket (graphql-transport-ws), with a real WebSocket
//! client, across two server instances on one PostgreSQL.

use std::net::SocketAddr;
use std::time::Duration;

use civitas_tenants::Role;
use futures::{SinkExt, StreamExt};
use rstest::rstest;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest, http::HeaderValue};

use crate::harness::*;

pub(crate) type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(addr: SocketAddr, token: &str, tenant: Option<&str>) -> Result<Ws, String> {
    let mut req = format!("ws://{addr}/graphql/ws")
        .into_client_request()
        .expect("request");
    req.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(req)
        .await
        .expect("websocket");
    let init = json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}"), "tenant": tenant } });
    ws.send(Message::text(init.to_string()))
        .await
        .expect("init");
    match next(&mut ws, Duration::from_secs(5)).await {
        Some(v) if v["type"] == "connection_ack" => Ok(ws),
        other => Err(format!("{other:?}")),
    }
}

pub(crate) async fn subscribe(addr: SocketAddr, token: &str, query: &str) -> Ws {
    let mut ws = connect(addr, token, None)
        .await
        .expect("connection acknowledged");
    let sub = json!({ "id": "1", "type": "subscribe", "payload": { "query": query } });
    ws.send(Message::text(sub.to_string()))
        .await
        .expect("subscribe");
    // Let the server register the subscription before anything is published.
    tokio::time::sleep(Duration::from_millis(300)).await;
    ws
}

/// The next protocol message, skipping pings; `None` on timeout or close.
pub(crate) async fn next(ws: &mut Ws, wait: Duration) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next())
            .await
            .ok()??
            .ok()?;
        match msg {
            Message::Text(t) => {
                let v: Value = serde_json::from_str(&t).ok()?;
                if v["type"] == "ping" {
                    continue;
                }
                return Some(v);
            }
            Message::Close(_) => return None,
            _ => continue,
        }
    }
}

async fn setup(app: &TestApp) -> (String, String) {
    let mut ops = Vec::new();
    for slug in ["alfa", "beta"] {
        app.onboard(slug).await;
        let op = app
            .member(slug, &format!("{slug}-op"), Role::Operator)
            .await;
        let sup = app
            .member(slug, &format!("{slug}-sup"), Role::Supervisor)
            .await;
        let s = app.gql(&sup, "mutation { createService(input: { code: \"ANAG\", name: \"Anagrafe\", area: \"Anagrafe\" }) { code } }", json!({})).await;
        assert_no_errors(&s);
        app.register(&op, Some("RSSMRA85T10A562S"), "Mario", "Rossi", &[])
            .await;
        ops.push(op);
    }
    (ops[0].clone(), ops[1].clone())
}

async fn open_case(app: &TestApp, op: &str, person: Option<&Value>) -> Value {
    let body = app
        .gql(op, "mutation($p: ID) { createCase(input: { serviceCode: \"ANAG\", title: \"Certificato\", personId: $p }) { id number } }", json!({ "p": person }))
        .await;
    assert_no_errors(&body);
    body["data"]["createCase"].clone()
}

async fn person_of(app: &TestApp, op: &str) -> Value {
    let s = app
        .gql(
            op,
            "{ searchCitizens(fiscalCode: \"RSSMRA85T10A562S\") { items { personId } } }",
            json!({}),
        )
        .await;
    s["data"]["searchCitizens"]["items"][0]["personId"].clone()
}

const OPS_SUB: &str = "subscription { caseChanged { caseId number status kind tenant { slug } } }";
const CITIZEN_SUB: &str = "subscription { myCaseChanged { caseId number tenant { slug } } }";

#[rstest]
#[tokio::test]
async fn changes_reach_subscribers_of_another_instance_and_only_their_tenant() {
    let app = TestApp::spawn(Postgres).await;
    let (alfa, beta) = setup(&app).await;
    let second = app.replica().await;
    let mut alfa_ws = subscribe(second.addr, &alfa, OPS_SUB).await;
    let mut beta_ws = subscribe(second.addr, &beta, OPS_SUB).await;
    let mut citizen_ws =
        subscribe(second.addr, &app.citizen("RSSMRA85T10A562S"), CITIZEN_SUB).await;

    // A change on the first instance...
    let mario = person_of(&app, &alfa).await;
    let c = open_case(&app, &alfa, Some(&mario)).await;
    // ...reaches alfa's subscriber on the second one.
    let got = next(&mut alfa_ws, Duration::from_secs(10))
        .await
        .expect("alfa's change");
    assert_eq!(got["type"], "next");
    assert_eq!(got["payload"]["data"]["caseChanged"]["caseId"], c["id"]);
    assert_eq!(got["payload"]["data"]["caseChanged"]["kind"], "created");
    assert_eq!(
        got["payload"]["data"]["caseChanged"]["tenant"]["slug"],
        "alfa"
    );
    // The citizen hears of their own case, whichever body opened it.
    let mine = next(&mut citizen_ws, Duration::from_secs(10))
        .await
        .expect("citizen's change");
    assert_eq!(mine["payload"]["data"]["myCaseChanged"]["caseId"], c["id"]);

    // Beta's subscriber did not receive alfa's change: the first thing it hears is beta's own.
    let b = open_case(&app, &beta, None).await;
    let got = next(&mut beta_ws, Duration::from_secs(10))
        .await
        .expect("beta's change");
    assert_eq!(got["payload"]["data"]["caseChanged"]["caseId"], b["id"]);
    // And the citizen does not hear of a case that is not theirs.
    assert!(
        next(&mut citizen_ws, Duration::from_millis(800))
            .await
            .is_none()
    );
}

#[rstest]
#[tokio::test]
async fn subscriptions_work_in_process_on_sqlite_and_need_a_token() {
    let app = TestApp::spawn(Sqlite).await;
    let (alfa, _) = setup(&app).await;
    let mut ws = subscribe(app.addr, &alfa, OPS_SUB).await;
    let c = open_case(&app, &alfa, None).await;
    let got = next(&mut ws, Duration::from_secs(5)).await.expect("change");
    assert_eq!(got["payload"]["data"]["caseChanged"]["number"], c["number"]);
    let moved = app
        .gql(
            &alfa,
            "mutation($id: ID!) { changeCaseStatus(id: $id, status: IN_PROGRESS) { status } }",
            json!({ "id": c["id"] }),
        )
        .await;
    assert_no_errors(&moved);
    let got = next(&mut ws, Duration::from_secs(5)).await.expect("change");
    assert_eq!(
        got["payload"]["data"]["caseChanged"]["status"],
        "in_progress"
    );

    assert!(
        connect(app.addr, "not-a-token", None).await.is_err(),
        "a bad token is refused at connection_init"
    );
    let citizen_only = subscribe(app.addr, &alfa, CITIZEN_SUB).await;
    let mut citizen_only = citizen_only;
    let refused = next(&mut citizen_only, Duration::from_secs(5))
        .await
        .expect("an answer");
    assert_eq!(
        refused["payload"]["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{refused}"
    );
}

/// The message that ends subscription "1", within `wait`.
async fn completes(ws: &mut Ws, wait: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + wait;
    while let Some(v) = next(ws, deadline - tokio::time::Instant::now()).await {
        if v["type"] == "complete" && v["id"] == "1" {
            return true;
        }
    }
    false
}

/// Asserts that subscription "1" completes within 1.5 s of now.
async fn closes_soon(ws: &mut Ws, after: &str) {
    let started = std::time::Instant::now();
    assert!(
        completes(ws, Duration::from_secs(3)).await,
        "closed after {after}"
    );
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{after}: {:?}",
        started.elapsed()
    );
}

/// On PostgreSQL a second replica, where the subscriber connects, so that the change made on
/// the first reaches it across replicas; on SQLite, the one server.
async fn subscriber_side(app: &TestApp, backend: Backend) -> (Option<Replica>, SocketAddr) {
    let replica = match backend {
        Postgres => Some(app.replica().await),
        Sqlite => None,
    };
    let addr = replica.as_ref().map_or(app.addr, |r| r.addr);
    (replica, addr)
}

#[rstest]
#[tokio::test]
async fn a_subscription_ends_with_the_rights_or_the_token_it_was_opened_with(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let (alfa, beta) = setup(&app).await;
    let (_replica, addr) = subscriber_side(&app, backend).await;
    let mut ws = subscribe(addr, &alfa, OPS_SUB).await;
    let revoked = app
        .gql(
            &app.admin_of("alfa"),
            "mutation { revokeRole(subject: \"alfa-op\", role: OPERATOR) { roles } }",
            json!({}),
        )
        .await;
    assert_no_errors(&revoked);
    closes_soon(&mut ws, "revokeRole").await;
    // Nothing more of alfa's reaches it.
    open_case(&app, &app.admin_of("alfa"), None).await;
    assert!(next(&mut ws, Duration::from_millis(500)).await.is_none());

    // A token that expires in two seconds: the subscription ends with it.
    let short = app.token_with(civitas::dev_issuer::TokenRequest {
        subject: "beta-op".into(),
        kind: civitas_tenants::PrincipalKind::Operator,
        name: None,
        tenant: Some("beta".into()),
        roles: vec![],
        fiscal_code: None,
        ttl: chrono::Duration::seconds(2),
    });
    let mut ws = subscribe(addr, &short, OPS_SUB).await;
    let b = open_case(&app, &beta, None).await;
    let got = next(&mut ws, Duration::from_secs(2))
        .await
        .expect("a change before expiry");
    assert_eq!(got["payload"]["data"]["caseChanged"]["caseId"], b["id"]);
    assert!(
        completes(&mut ws, Duration::from_secs(4)).await,
        "closed at expiry"
    );
}

#[rstest]
#[tokio::test]
async fn a_subscription_ends_when_a_policy_or_the_body_takes_its_right_away(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let (alfa, beta) = setup(&app).await;
    let (_replica, addr) = subscriber_side(&app, backend).await;

    // beta's administrators take reading cases away from operators.
    let mut ws = subscribe(addr, &beta, OPS_SUB).await;
    let rm = app
        .gql(
            &app.admin_of("beta"),
            "mutation { removePolicy(role: \"operator\", object: \"case\", action: \"read\") { role } }",
            json!({}),
        )
        .await;
    assert_no_errors(&rm);
    closes_soon(&mut ws, "removePolicy").await;

    // alfa is suspended.
    let mut ws = subscribe(addr, &alfa, OPS_SUB).await;
    let s = app
        .gql(
            &app.platform_admin(),
            "mutation { setTenantStatus(slug: \"alfa\", status: SUSPENDED) { status } }",
            json!({}),
        )
        .await;
    assert_no_errors(&s);
    closes_soon(&mut ws, "suspension").await;
}

/// A citizen's new notifications reach their open subscription, from every body and on
/// another replica too (PostgreSQL); nobody else's.
#[rstest]
#[tokio::test]
async fn a_citizen_hears_of_their_notifications_as_they_are_written(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let (alfa, beta) = setup(&app).await;
    let other = match backend {
        Postgres => Some(app.replica().await),
        Sqlite => None,
    };
    let addr = other.as_ref().map(|r| r.addr).unwrap_or(app.addr);
    let sub = "subscription { myNotifications(language: \"en\") { kind caseNumber title tenant { slug } } }";
    let mut mario = subscribe(addr, &app.citizen("RSSMRA85T10A562S"), sub).await;
    let mut laura = subscribe(addr, &app.citizen("BNCLRA90D45F205B"), sub).await;

    let mario_in_beta = person_of(&app, &beta).await;
    let c = open_case(&app, &beta, Some(&mario_in_beta)).await;
    let got = next(&mut mario, Duration::from_secs(5))
        .await
        .expect("a notification");
    let n = &got["payload"]["data"]["myNotifications"];
    assert_eq!(n["kind"], "case.created", "{got}");
    assert_eq!(n["tenant"]["slug"], "beta");
    assert_eq!(
        n["title"],
        format!("Request {}: received", c["number"].as_str().unwrap_or(""))
    );
    // A case without a citizen tells no one; Laura hears nothing of Mario's.
    open_case(&app, &alfa, None).await;
    assert!(next(&mut mario, Duration::from_millis(500)).await.is_none());
    assert!(next(&mut laura, Duration::from_millis(200)).await.is_none());
}
