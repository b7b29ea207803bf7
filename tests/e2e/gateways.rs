//! SMS, WhatsApp and app push: the exact request each provider receives (a recording
//! server on loopback stands in for it), the channel chosen for each citizen, refusals,
//! quiet hours, and the provider's refusals and failures on record.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, Method, StatusCode, Uri};
use rstest::rstest;
use serde_json::{Value, json};

use crate::harness::*;

const TOKEN: &str = "gateway-token-for-tests";
const OPEN: &str = "mutation($p: ID) { createCase(input: { serviceCode: \"CERT\", title: \"Certificato di residenza\", personId: $p }) { id number } }";
const DELIVERIES: &str = "{ notificationDeliveries(first: 50) { edges { node { id channel address status attempts nextAttemptAt lastError } } } }";

/// One request as the provider received it.
#[derive(Clone, Debug)]
struct Hit {
    method: Method,
    path: String,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Hit {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

/// A provider on loopback: records every request, answers each with the next status of
/// `answers` (then 200).
#[derive(Clone, Default)]
struct Provider {
    port: u16,
    hits: Arc<Mutex<Vec<Hit>>>,
    answers: Arc<Mutex<Vec<u16>>>,
}

impl Provider {
    async fn start(answers: &[u16]) -> Provider {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .expect("bind provider");
        let p = Provider {
            port: listener.local_addr().expect("addr").port(),
            answers: Arc::new(Mutex::new(answers.iter().rev().copied().collect())),
            ..Default::default()
        };
        let state = p.clone();
        let app = axum::Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: axum::body::Bytes| {
                let state = state.clone();
                async move {
                    state.hits.lock().expect("lock").push(Hit {
                        method,
                        path: uri.path().to_owned(),
                        headers,
                        body: body.to_vec(),
                    });
                    let code = state.answers.lock().expect("lock").pop().unwrap_or(200);
                    StatusCode::from_u16(code).expect("status")
                }
            },
        );
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        p
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    async fn wait_for(&self, n: usize) -> Vec<Hit> {
        for _ in 0..100 {
            if self.hits.lock().expect("lock").len() >= n {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.hits.lock().expect("lock").clone()
    }
}

fn gateways(p: &Provider) -> Value {
    json!({
        "sms": { "url": p.url("/sms/send"), "sender": "AMA", "tokenEnv": "CIVITAS_SECRET_AMA__GATEWAY_TOKEN" },
        "whatsapp": { "baseUrl": p.url(""), "phoneNumberId": "106540352242922",
                      "tokenEnv": "CIVITAS_SECRET_AMA__GATEWAY_TOKEN", "template": "aggiornamento_pratica" },
        "push": { "url": p.url("/push"), "secretEnv": "CIVITAS_SECRET_AMA__GATEWAY_TOKEN" },
    })
}

/// Registers a citizen with a phone and a preferred channel; returns their person id.
async fn citizen(app: &TestApp, op: &str, cf: &str, phone: &str, channel: &str) -> Value {
    let body = app
        .gql(
            op,
            "mutation($i: RegisterCitizenInput!) { registerCitizen(input: $i) { personId } }",
            json!({ "i": { "fiscalCode": cf, "givenName": "Mario", "familyName": "Rossi",
                           "phones": [phone], "preferredChannel": channel, "language": "it" } }),
        )
        .await;
    assert_no_errors(&body);
    body["data"]["registerCitizen"]["personId"].clone()
}

async fn open_case(app: &TestApp, op: &str, person: &Value) -> String {
    let c = app.gql(op, OPEN, json!({ "p": person })).await;
    assert_no_errors(&c);
    c["data"]["createCase"]["number"]
        .as_str()
        .expect("number")
        .to_owned()
}

async fn deliveries(app: &TestApp, slug: &str) -> Vec<Value> {
    let body = app.gql(&app.admin_of(slug), DELIVERIES, json!({})).await;
    assert_no_errors(&body);
    nodes(&body["data"]["notificationDeliveries"])
}

/// The body's deliveries once `done` holds for all of them (at most 10 s).
async fn settled(app: &TestApp, slug: &str, done: impl Fn(&Value) -> bool) -> Vec<Value> {
    let waited = std::time::Instant::now();
    loop {
        let log = deliveries(app, slug).await;
        if log.iter().all(&done) {
            return log;
        }
        assert!(waited.elapsed().as_secs() < 10, "{log:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[rstest]
#[tokio::test]
async fn each_channel_sends_the_providers_own_request(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let provider = Provider::start(&[]).await;
    let app = TestApp::spawn(backend).await;
    let op = app
        .body_with_notifications("ama", gateways(&provider))
        .await;
    let by_sms = citizen(&app, &op, "RSSMRA85T10A562S", "333 123 4567", "sms").await;
    let number = open_case(&app, &op, &by_sms).await;
    let hits = provider.wait_for(1).await;
    assert_eq!(hits.len(), 1, "{hits:?}");
    let sms = &hits[0];
    assert_eq!(
        (&sms.method, sms.path.as_str()),
        (&Method::POST, "/sms/send")
    );
    assert_eq!(sms.header("authorization"), format!("Bearer {TOKEN}"));
    assert_eq!(sms.header("content-type"), "application/json");
    let log = settled(&app, "ama", |d| d["status"] == "sent").await;
    assert_eq!(log[0]["channel"], "sms");
    assert_eq!(log[0]["address"], "+393331234567");
    assert_eq!(
        sms.json(),
        json!({
            "from": "AMA",
            "to": "+393331234567",
            "text": format!("Gentile Mario Rossi,\n\nla sua richiesta {number} (Certificato di residenza) è ricevuta.\n\nEnte ama"),
            "reference": log[0]["id"],
        })
    );

    let by_whatsapp = citizen(
        &app,
        &op,
        "BNCLRA90D45F205B",
        "+39 347 765 4321",
        "whatsapp",
    )
    .await;
    let number = open_case(&app, &op, &by_whatsapp).await;
    let wa = provider.wait_for(2).await[1].clone();
    assert_eq!(
        (&wa.method, wa.path.as_str()),
        (&Method::POST, "/v21.0/106540352242922/messages")
    );
    assert_eq!(wa.header("authorization"), format!("Bearer {TOKEN}"));
    assert_eq!(
        wa.json(),
        json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": "393477654321",
            "type": "template",
            "template": {
                "name": "aggiornamento_pratica",
                "language": { "code": "it" },
                "components": [{ "type": "body", "parameters": [{ "type": "text",
                    "text": format!("Gentile Mario Rossi, la sua richiesta {number} (Certificato di residenza) è ricevuta. Ente ama") }] }],
            },
        })
    );

    let by_app = citizen(&app, &op, "VRDGPP80A01H501U", "+39 320 000 0000", "app").await;
    let number = open_case(&app, &op, &by_app).await;
    let push = provider.wait_for(3).await[2].clone();
    assert_eq!((&push.method, push.path.as_str()), (&Method::POST, "/push"));
    assert!(
        crate::webhooks::verify(TOKEN, &push.headers, &push.body),
        "the push is signed with the body's secret"
    );
    let sent = push.json();
    assert_eq!(sent["person"], by_app);
    assert_eq!(sent["kind"], "case.created");
    assert_eq!(sent["case"], json!({ "number": number }));
    assert_eq!(
        sent["title"],
        format!("Ente ama: richiesta {number} ricevuta")
    );
    assert_eq!(
        push.header("x-civitas-notification-id"),
        sent["notification"]
    );

    let log = settled(&app, "ama", |d| d["status"] == "sent").await;
    let mut channels: Vec<&str> = log.iter().filter_map(|d| d["channel"].as_str()).collect();
    channels.sort_unstable();
    assert_eq!(channels, ["app", "sms", "whatsapp"]);
}

#[rstest]
#[tokio::test]
async fn fallback_refusal_quiet_hours_and_provider_errors(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    // The provider refuses the first request outright, is down for the second.
    let provider = Provider::start(&[400, 503]).await;
    let app = TestApp::spawn(backend).await;
    let sms_only = json!({ "sms": gateways(&provider)["sms"] });
    let op = app.body_with_notifications("ama", sms_only).await;

    // Prefers WhatsApp, which this body does not send: SMS instead. Refused outright.
    let mario = citizen(&app, &op, "RSSMRA85T10A562S", "3331234567", "whatsapp").await;
    open_case(&app, &op, &mario).await;
    let log = settled(&app, "ama", |d| d["status"] != "pending").await;
    assert_eq!(
        (
            &log[0]["channel"],
            &log[0]["status"],
            &log[0]["attempts"],
            &log[0]["lastError"]
        ),
        (
            &json!("sms"),
            &json!("failed"),
            &json!(1),
            &json!("HTTP 400")
        )
    );
    // Down: tried again later.
    open_case(&app, &op, &mario).await;
    provider.wait_for(2).await;
    let log = settled(&app, "ama", |d| d["attempts"] == 1).await;
    assert_eq!(
        (&log[0]["status"], &log[0]["lastError"]),
        (&json!("pending"), &json!("HTTP 503"))
    );
    app.clock.advance(chrono::Duration::seconds(31));
    let log = settled(&app, "ama", |d| d["status"] != "pending").await;
    assert_eq!(
        (&log[0]["status"], &log[0]["attempts"]),
        (&json!("sent"), &json!(2))
    );

    // Mario's quiet hours, around the present moment in Rome: held, not attempted, until
    // their end; then sent.
    let me = app.citizen("RSSMRA85T10A562S");
    let rome = app.clock.now().with_timezone(&chrono_tz::Europe::Rome);
    let hm = |t: chrono::DateTime<chrono_tz::Tz>| t.format("%H:%M").to_string();
    let (start, end) = (
        hm(rome - chrono::Duration::minutes(30)),
        hm(rome + chrono::Duration::minutes(90)),
    );
    let set = app
        .gql(
            &me,
            "mutation($s: String, $e: String) { setMyQuietHours(tenant: \"ama\", start: $s, end: $e) { tenant { slug } start end } }",
            json!({ "s": start, "e": end }),
        )
        .await;
    assert_no_errors(&set);
    assert_eq!(
        set["data"]["setMyQuietHours"],
        json!({ "tenant": { "slug": "ama" }, "start": start, "end": end })
    );
    let mine = app
        .gql(
            &me,
            "{ myQuietHours { edges { node { tenant { slug } start end } } } }",
            json!({}),
        )
        .await;
    assert_eq!(nodes(&mine["data"]["myQuietHours"]).len(), 1, "{mine}");
    open_case(&app, &op, &mario).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    let held = deliveries(&app, "ama").await;
    assert_eq!(
        (&held[0]["status"], &held[0]["attempts"]),
        (&json!("pending"), &json!(0))
    );
    assert_eq!(provider.hits.lock().expect("lock").len(), 3);
    let due: chrono::DateTime<chrono::Utc> = held[0]["nextAttemptAt"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .expect("a time");
    let wait = due - app.clock.now();
    assert!(
        wait > chrono::Duration::minutes(88) && wait <= chrono::Duration::minutes(90),
        "held until the end of the quiet hours: {wait}"
    );
    app.clock.advance(chrono::Duration::minutes(91));
    let log = settled(&app, "ama", |d| d["status"] != "pending").await;
    assert_eq!(log[0]["status"], "sent");

    // Mario refuses SMS from this body: nothing is queued for him any more (the inbox has it).
    let refuse = app
        .gql(
            &me,
            "mutation { setMyChannel(tenant: \"ama\", channel: \"sms\", allowed: false) }",
            json!({}),
        )
        .await;
    assert_no_errors(&refuse);
    open_case(&app, &op, &mario).await;
    assert_eq!(deliveries(&app, "ama").await.len(), 3);
    let inbox = app
        .gql(
            &me,
            "{ myNotifications(first: 10) { edges { node { kind } } } }",
            json!({}),
        )
        .await;
    assert_eq!(nodes(&inbox["data"]["myNotifications"]).len(), 4, "{inbox}");
    let export = app.gql(&me, "{ exportMyData }", json!({})).await;
    let data = &export["data"]["exportMyData"]["data"];
    assert_eq!(data["notifications"].as_array().map(Vec::len), Some(4));
    assert_eq!(data["channel_choices"][0]["channel"], "sms");
    assert_eq!(data["channel_choices"][0]["allowed"], false);
    assert_eq!(data["quiet_hours"][0]["hours"], format!("{start}-{end}"));

    // Bad quiet hours: VALIDATION naming the argument.
    let bad = app
        .gql(
            &me,
            "mutation { setMyQuietHours(tenant: \"ama\", start: \"25:00\", end: \"07:00\") { start } }",
            json!({}),
        )
        .await;
    assert_eq!(
        bad["errors"][0]["extensions"]["code"], "VALIDATION",
        "{bad}"
    );
    assert!(
        bad["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("start"))
    );
}

#[rstest]
#[tokio::test]
async fn a_gateway_on_an_internal_address_is_refused_when_saved(
    #[values(Sqlite)] backend: Backend,
) {
    let app = TestApp::spawn_with(backend, |c| c.outbound_allow = vec![]).await;
    app.onboard("ama").await;
    for (field, settings) in [
        (
            "sms.url",
            json!({ "sms": { "url": "http://10.1.2.3/send", "sender": "AMA", "tokenEnv": "CIVITAS_SECRET_AMA__T" } }),
        ),
        (
            "push.url",
            json!({ "push": { "url": "http://169.254.169.254/latest", "secretEnv": "CIVITAS_SECRET_AMA__T" } }),
        ),
        (
            "whatsapp.baseUrl",
            json!({ "whatsapp": { "baseUrl": "http://127.0.0.1:9", "phoneNumberId": "1", "tokenEnv": "CIVITAS_SECRET_AMA__T" } }),
        ),
    ] {
        let r = app
            .gql(
                &app.admin_of("ama"),
                "mutation($s: JSON!) { updateTenantSettings(settings: $s) { settings } }",
                json!({ "s": { "notifications": settings } }),
            )
            .await;
        assert_eq!(r["errors"][0]["extensions"]["code"], "VALIDATION", "{r}");
        let message = r["errors"][0]["message"].as_str().unwrap_or("");
        assert!(message.contains(field), "{message}");
    }
}

#[rstest]
#[tokio::test]
async fn a_body_cannot_name_the_servers_secrets_or_another_bodys(
    #[values(Sqlite)] backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    app.onboard("ama").await;
    for (field, stolen) in [
        (
            "sms.tokenEnv",
            json!({ "sms": { "url": "https://sms.example/send", "sender": "AMA", "tokenEnv": "CIVITAS_DATABASE_URL" } }),
        ),
        (
            "push.secretEnv",
            json!({ "push": { "url": "https://app.example/push", "secretEnv": "CIVITAS_SIGNING_SECRET" } }),
        ),
        (
            "email.passwordEnv",
            json!({ "email": { "host": "smtp.example", "port": 587, "fromAddress": "a@ama.example",
            "username": "ama", "passwordEnv": "CIVITAS_SECRET_ROMA__SMTP_PASSWORD" } }),
        ),
    ] {
        let r = app
            .gql(
                &app.admin_of("ama"),
                "mutation($s: JSON!) { updateTenantSettings(settings: $s) { settings } }",
                json!({ "s": { "notifications": stolen } }),
            )
            .await;
        assert_eq!(r["errors"][0]["extensions"]["code"], "VALIDATION", "{r}");
        let message = r["errors"][0]["message"].as_str().unwrap_or("");
        assert!(
            message.contains(field) && message.contains("CIVITAS_SECRET_AMA__"),
            "{message}"
        );
    }
}
