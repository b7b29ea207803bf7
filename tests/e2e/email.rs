//! Notifications by e-mail, through each body's own SMTP server (a real one: aiosmtpd):
//! the body's words, the citizen's language, an unsubscribe link that works, every attempt
//! on record, retries then a dead letter, and one body's server down delaying only its mail.

use rstest::rstest;
use serde_json::{Value, json};

use crate::harness::*;
use crate::smtp::{SmtpSink, closed_port};

const MARIO: &str = "RSSMRA85T10A562S";
const LAURA: &str = "BNCLRA90D45F205B";
const OPEN: &str = "mutation($p: ID) { createCase(input: { serviceCode: \"CERT\", title: \"Certificato di residenza\", personId: $p }) { id number } }";
const MOVE: &str =
    "mutation($id: ID!, $s: CaseStatus!) { changeCaseStatus(id: $id, status: $s) { status } }";
const DELIVERIES: &str = "{ notificationDeliveries(first: 20) { edges { node { address status attempts lastError attemptLog { ok error } } } } }";

/// Onboards `slug` with a CERT service and an e-mail server on `port`; returns an operator.
async fn body(app: &TestApp, slug: &str, port: u16, extra: Value) -> String {
    let mut notifications = json!({ "email": {
        "host": "127.0.0.1", "port": port, "security": "none",
        "fromAddress": format!("noreply@{slug}.example"), "fromName": format!("Ente {slug}") } });
    if let (Some(n), Some(e)) = (notifications.as_object_mut(), extra.as_object()) {
        n.extend(e.clone());
    }
    app.body_with_notifications(slug, notifications).await
}

/// Registers a citizen with an e-mail address and a language; returns their person id.
async fn citizen(app: &TestApp, op: &str, cf: &str, email: &str, language: &str) -> Value {
    let body = app
        .gql(
            op,
            "mutation($i: RegisterCitizenInput!) { registerCitizen(input: $i) { personId } }",
            json!({ "i": { "fiscalCode": cf, "givenName": "Mario", "familyName": "Rossi", "emails": [email], "language": language } }),
        )
        .await;
    assert_no_errors(&body);
    body["data"]["registerCitizen"]["personId"].clone()
}

/// Opens a case for `person` and moves it to IN_PROGRESS; returns its id and number.
async fn case_moved(app: &TestApp, op: &str, person: &Value) -> (Value, String) {
    let c = app.gql(op, OPEN, json!({ "p": person })).await;
    assert_no_errors(&c);
    let c = &c["data"]["createCase"];
    let m = app
        .gql(op, MOVE, json!({ "id": c["id"], "s": "IN_PROGRESS" }))
        .await;
    assert_no_errors(&m);
    (
        c["id"].clone(),
        c["number"].as_str().expect("number").to_owned(),
    )
}

async fn deliveries(app: &TestApp, slug: &str) -> Vec<Value> {
    let body = app.gql(&app.admin_of(slug), DELIVERIES, json!({})).await;
    assert_no_errors(&body);
    nodes(&body["data"]["notificationDeliveries"])
}

/// The body's deliveries once none is pending (at most 10 s).
async fn settled(app: &TestApp, slug: &str) -> Vec<Value> {
    let waited = std::time::Instant::now();
    loop {
        let log = deliveries(app, slug).await;
        if log.iter().all(|d| d["status"] != "pending") {
            return log;
        }
        assert!(waited.elapsed().as_secs() < 10, "{log:?}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[rstest]
#[tokio::test]
async fn a_status_change_reaches_the_citizen_in_the_bodys_words(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let sink = SmtpSink::start();
    let app = TestApp::spawn(backend).await;
    let words =
        json!({ "statusWords": { "it": { "in_progress": "presa in carico dagli operatori" } } });
    let op = body(&app, "ama", sink.port, words).await;
    let person = citizen(&app, &op, MARIO, "mario.rossi@example.org", "it").await;
    let (case_id, number) = case_moved(&app, &op, &person).await;

    // Created, then in progress: two notifications, two e-mails (in either order).
    let got = sink.wait_for(2).await;
    let m = got
        .iter()
        .find(|m| {
            m.header("Subject")
                .is_some_and(|s| s.contains("presa in carico"))
        })
        .expect("the in-progress message");
    assert_eq!(m.mail_from, "noreply@ama.example");
    assert_eq!(m.rcpt_tos, ["mario.rossi@example.org"]);
    assert_eq!(
        m.header("From").as_deref(),
        Some("\"Ente ama\" <noreply@ama.example>")
    );
    let subject = m.header("Subject").expect("subject");
    assert!(subject.contains(&number), "{subject}");
    assert!(
        subject.contains("presa in carico dagli operatori"),
        "{subject}"
    );
    let text = m.part("text/plain");
    assert!(text.contains("Gentile Mario Rossi"), "{text}");
    assert!(text.contains("Certificato di residenza"), "{text}");
    assert!(m.part("text/html").contains("<strong>presa in carico"));
    let unsubscribe = m.header("List-Unsubscribe").expect("List-Unsubscribe");
    assert_eq!(
        m.header("List-Unsubscribe-Post").as_deref(),
        Some("List-Unsubscribe=One-Click")
    );
    let url = unsubscribe
        .trim_matches(|c| c == '<' || c == '>')
        .to_owned();
    let path = &url[url.find("/unsubscribe").expect("an unsubscribe URL")..];
    assert!(text.contains(path), "the link is in the text too: {text}");

    let log = settled(&app, "ama").await;
    assert_eq!(log.len(), 2);
    assert!(log.iter().all(
        |d| d["status"] == "sent" && d["attemptLog"] == json!([{ "ok": true, "error": null }])
    ));

    // The link: a page with a button, then (POST, as a mail client's one click) done.
    let page = app.client.get(app.url(path)).send().await.expect("get");
    assert_eq!(page.status().as_u16(), 200);
    assert!(
        page.text()
            .await
            .expect("html")
            .contains("<form method=\"post\"")
    );
    let done = app
        .client
        .post(app.url(path))
        .form(&[("List-Unsubscribe", "One-Click")])
        .send()
        .await
        .expect("post");
    assert_eq!(done.status().as_u16(), 200);
    let forged = app
        .client
        .post(app.url(&path.replace("t=", "t=0")))
        .send()
        .await
        .expect("post");
    assert_eq!(forged.status().as_u16(), 404);

    let mario = app.citizen(MARIO);
    let choices = app
        .gql(
            &mario,
            "{ myChannelChoices { edges { node { channel allowed tenant { slug } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        nodes(&choices["data"]["myChannelChoices"]),
        [json!({ "channel": "email", "allowed": false, "tenant": { "slug": "ama" } })]
    );
    // Refused: the next change is in the inbox, not in the mailbox.
    let m = app
        .gql(&op, MOVE, json!({ "id": case_id, "s": "WAITING_CITIZEN" }))
        .await;
    assert_no_errors(&m);
    // Allowed again by one call: the next one is sent.
    let again = app
        .post(
            Some(&mario),
            None,
            "mutation { setMyChannel(tenant: \"ama\", channel: \"email\", allowed: true) }",
            json!({}),
        )
        .await
        .1;
    assert_no_errors(&again);
    let m = app
        .gql(&op, MOVE, json!({ "id": case_id, "s": "RESOLVED" }))
        .await;
    assert_no_errors(&m);
    let got = sink.wait_for(3).await;
    assert!(
        got[2]
            .header("Subject")
            .expect("subject")
            .contains("risolta"),
        "the third is the resolution"
    );
    assert_eq!(sink.received().len(), 3, "nothing was sent while refused");
    let inbox = app
        .gql(
            &mario,
            "{ myNotifications(first: 10) { edges { node { status: title } } } }",
            json!({}),
        )
        .await;
    assert_eq!(nodes(&inbox["data"]["myNotifications"]).len(), 4);
}

#[rstest]
#[tokio::test]
async fn one_bodys_server_down_delays_only_its_mail_and_gives_up_in_the_end(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let sink = SmtpSink::start();
    let app = TestApp::spawn(backend).await;
    let down = body(&app, "alfa", closed_port(), json!({})).await;
    let up = body(&app, "beta", sink.port, json!({})).await;
    let a = citizen(&app, &down, MARIO, "mario@example.org", "it").await;
    let b = citizen(&app, &up, LAURA, "laura@example.org", "en").await;
    let refused = citizen(&app, &up, MARIO, "reject-me@example.org", "it").await;
    app.gql(&down, OPEN, json!({ "p": a })).await;
    app.gql(&up, OPEN, json!({ "p": b })).await;
    app.gql(&up, OPEN, json!({ "p": refused })).await;

    // beta's citizen hears at once, in English; beta's refused recipient is given up at once.
    let got = sink.wait_for(1).await;
    assert_eq!(got[0].rcpt_tos, ["laura@example.org"]);
    assert!(got[0].part("text/plain").contains("Dear Mario Rossi"));
    let beta = settled(&app, "beta").await;
    let rejected = beta
        .iter()
        .find(|d| d["address"] == "reject-me@example.org")
        .expect("the refused one");
    assert_eq!(
        (rejected["status"].as_str(), rejected["attempts"].as_i64()),
        (Some("failed"), Some(1))
    );
    assert!(
        rejected["lastError"]
            .as_str()
            .unwrap_or_default()
            .contains("refused"),
        "{rejected}"
    );

    // alfa's is retried with backoff, every attempt on record, and given up after eight.
    for attempt in 1..=8 {
        let waited = std::time::Instant::now();
        loop {
            let log = deliveries(&app, "alfa").await;
            assert_eq!(log.len(), 1);
            if log[0]["attempts"].as_i64() == Some(attempt) {
                break;
            }
            assert!(
                waited.elapsed().as_secs() < 10,
                "attempt {attempt}: {log:?}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        app.clock.advance(chrono::Duration::hours(1));
    }
    let log = deliveries(&app, "alfa").await;
    assert_eq!(log[0]["status"], "failed");
    let attempts = log[0]["attemptLog"].as_array().expect("attempts");
    assert_eq!(attempts.len(), 8);
    assert!(
        attempts
            .iter()
            .all(|a| a["ok"] == false && a["error"].as_str().is_some())
    );
    // Each body sees its own deliveries only.
    assert!(
        deliveries(&app, "beta")
            .await
            .iter()
            .all(|d| d["address"] != "mario@example.org")
    );
}

#[rstest]
#[tokio::test]
async fn notification_settings_are_checked_before_they_are_saved(
    #[values(Sqlite)] backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    app.onboard("ama").await;
    let admin = app.admin_of("ama");
    for (bad, field) in [
        (
            json!({ "email": { "host": "127.0.0.1", "port": 25, "fromAddress": "not an address" } }),
            "fromAddress",
        ),
        (
            json!({ "templates": { "*": { "it": { "subject": "{% for %}" } } } }),
            "templates.*.it.subject",
        ),
        (json!({ "statusWords": { "de": {} } }), "statusWords"),
    ] {
        let body = app
            .gql(
                &admin,
                "mutation($s: JSON!) { updateTenantSettings(settings: $s) { settings } }",
                json!({ "s": { "notifications": bad } }),
            )
            .await;
        assert_eq!(error_code(&body), "VALIDATION", "{body}");
        let message = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains(field), "{message}");
    }
    let settings = app.gql(&admin, "{ tenant { settings } }", json!({})).await;
    assert!(
        settings["data"]["tenant"]["settings"]
            .get("notifications")
            .is_none(),
        "{settings}"
    );
}

#[rstest]
#[tokio::test]
async fn an_operator_writes_to_the_citizen_from_a_case(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let sink = SmtpSink::start();
    let app = TestApp::spawn(backend).await;
    let op = body(&app, "ama", sink.port, json!({})).await;
    let other = body(&app, "beta", sink.port, json!({})).await;
    let person = citizen(&app, &op, MARIO, "mario.rossi@example.org", "en").await;
    let c = app.gql(&op, OPEN, json!({ "p": person })).await;
    let case_id = c["data"]["createCase"]["id"].clone();
    let write = "mutation($id: ID!, $t: String!) { messageCitizen(caseId: $id, text: $t) { number history { kind detail } } }";
    let text = "Please bring <two> copies.";
    let sent = app
        .gql(&op, write, json!({ "id": case_id, "t": text }))
        .await;
    assert_no_errors(&sent);
    let history = &sent["data"]["messageCitizen"]["history"];
    assert!(
        history
            .as_array()
            .expect("history")
            .iter()
            .any(|e| e["kind"] == "message" && e["detail"]["message"] == text),
        "{history}"
    );

    let got = sink.wait_for(2).await;
    let m = got
        .iter()
        .find(|m| {
            m.header("Subject")
                .is_some_and(|s| s.contains("a message about request"))
        })
        .expect("the message");
    assert!(m.part("text/plain").contains(text));
    assert!(
        m.part("text/html")
            .contains("Please bring &lt;two&gt; copies.")
    );
    let inbox = app
        .gql(&app.citizen(MARIO), "{ myNotifications(first: 5, language: \"en\") { edges { node { kind title message } } } }", json!({}))
        .await;
    let newest = &nodes(&inbox["data"]["myNotifications"])[0];
    assert_eq!(newest["kind"], "case.message");
    assert_eq!(newest["message"], text);
    assert!(
        newest["title"]
            .as_str()
            .unwrap_or_default()
            .starts_with("Message about request")
    );

    // Nothing written on bad input; another body cannot write on ama's case.
    let empty = app
        .gql(&op, write, json!({ "id": case_id, "t": "  " }))
        .await;
    assert_eq!(error_code(&empty), "VALIDATION");
    let long = app
        .gql(&op, write, json!({ "id": case_id, "t": "x".repeat(4001) }))
        .await;
    assert_eq!(error_code(&long), "VALIDATION");
    let stranger = app
        .gql(&other, write, json!({ "id": case_id, "t": "hello" }))
        .await;
    assert_eq!(error_code(&stranger), "NOT_FOUND");
    let nobody = app.gql(&op, OPEN, json!({ "p": null })).await;
    let nobody_case = nobody["data"]["createCase"]["id"].clone();
    let orphan = app
        .gql(&op, write, json!({ "id": nobody_case, "t": "hello" }))
        .await;
    assert_eq!(error_code(&orphan), "VALIDATION");
    let inbox = app
        .gql(
            &app.citizen(MARIO),
            "{ myNotifications(first: 10) { edges { node { kind } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        nodes(&inbox["data"]["myNotifications"]).len(),
        2,
        "created, and the one message"
    );
}

/// Three replicas' workers poll the same outbox: each message is sent once.
#[rstest]
#[tokio::test(flavor = "multi_thread")]
async fn replicas_do_not_send_a_message_twice(#[values(Sqlite, Postgres)] backend: Backend) {
    let sink = SmtpSink::start();
    let app = TestApp::spawn_with(backend, |c| c.notify_poll_ms = 20).await;
    let _second = app.replica().await;
    let _third = app.replica().await;
    let op = body(&app, "ama", sink.port, json!({})).await;
    let mut cases = vec![];
    for i in 0..10 {
        let p = app
            .gql(&op, "mutation($i: RegisterCitizenInput!) { registerCitizen(input: $i) { personId } }",
                json!({ "i": { "givenName": "Mario", "familyName": format!("Rossi{i}"), "emails": [format!("m{i}@example.org")] } }))
            .await;
        assert_no_errors(&p);
        cases.push(p["data"]["registerCitizen"]["personId"].clone());
    }
    for p in &cases {
        case_moved(&app, &op, p).await;
    }
    // Created and in progress, for each of ten citizens.
    sink.wait_for(20).await;
    settled(&app, "ama").await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let got = sink.received();
    let mut seen: Vec<(String, String)> = got
        .iter()
        .map(|m| {
            (
                m.rcpt_tos.join(","),
                m.header("Subject").unwrap_or_default(),
            )
        })
        .collect();
    seen.sort();
    seen.dedup();
    assert_eq!((got.len(), seen.len()), (20, 20), "each message once");
}
