//! A citizen files a request with any body, on the web or an app: the body registers them
//! if it did not know them, with their consent to the handling, in the same transaction;
//! the same request sent twice under one idempotency key is one case.

use civitas_tenants::Role;
use rstest::rstest;
use serde_json::{Value, json};

use crate::harness::*;

const MARIO: &str = "RSSMRA85T10A562S";
const FILE: &str = "mutation($i: FileRequestInput!) { fileRequest(input: $i) { id number status channel personId tenant { slug } } }";

/// Posts `FILE` as `token`, naming `tenant` in the header and keyed by `key` when given.
async fn file(
    app: &TestApp,
    token: &str,
    tenant: Option<&str>,
    key: Option<&str>,
    input: Value,
) -> (Option<String>, Value) {
    let mut req = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": FILE, "variables": { "i": input } }));
    if let Some(t) = tenant {
        req = req.header("X-Civitas-Tenant", t);
    }
    if let Some(k) = key {
        req = req.header("Idempotency-Key", k);
    }
    let resp = req.send().await.expect("send");
    let replayed = resp
        .headers()
        .get("idempotent-replayed")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (replayed, resp.json().await.expect("json"))
}

async fn count(app: &TestApp, token: &str, query: &str, path: &[&str]) -> usize {
    let body = app.gql(token, query, json!({})).await;
    assert_no_errors(&body);
    let mut v = &body["data"];
    for p in path {
        v = &v[*p];
    }
    v.as_array().map(Vec::len).unwrap_or(0)
}

#[rstest]
#[tokio::test]
async fn a_citizen_files_a_request_with_a_body_that_did_not_know_them(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    for slug in ["alfa", "beta"] {
        app.onboard(slug).await;
    }
    let alfa_op = app.member("alfa", "alfa-op", Role::Operator).await;
    let beta_sup = app.member("beta", "beta-sup", Role::Supervisor).await;
    let beta_op = app.member("beta", "beta-op", Role::Operator).await;
    app.register(&alfa_op, Some(MARIO), "Mario", "Rossi", &[])
        .await;
    let svc = app.gql(&beta_sup, "mutation { createService(input: { code: \"RIF\", name: \"Ritiro\", area: \"Rifiuti\", channels: [\"web\", \"app\", \"counter\"], customFields: [{ key: \"floor\", label: \"Piano\", type: NUMBER, required: true }] }) { code } }", json!({})).await;
    assert_no_errors(&svc);
    let counter_only = app.gql(&beta_sup, "mutation { createService(input: { code: \"SPORT\", name: \"Solo sportello\", area: \"Anagrafe\", channels: [\"counter\"] }) { code } }", json!({})).await;
    assert_no_errors(&counter_only);
    let mario = app.citizen(MARIO);
    let good = json!({ "serviceCode": "RIF", "title": "Divano", "customFields": { "floor": 2 },
        "privacyNotice": "2026-01", "givenName": "Mario", "familyName": "Rossi" });

    // Bad input writes nothing: no case, no profile, no consent at beta.
    let mut bad_cases = Vec::new();
    for (change, code) in [
        (json!({ "channel": "counter" }), "VALIDATION"),
        (json!({ "serviceCode": "NOPE" }), "NOT_FOUND"),
        (json!({ "serviceCode": "SPORT" }), "VALIDATION"),
        (
            json!({ "customFields": { "floor": "secondo" } }),
            "VALIDATION",
        ),
        (json!({ "customFields": {} }), "VALIDATION"),
        (json!({ "givenName": null }), "VALIDATION"),
        (json!({ "privacyNotice": "not a version!" }), "VALIDATION"),
    ] {
        let mut input = good.clone();
        if let (Some(i), Some(c)) = (input.as_object_mut(), change.as_object()) {
            i.extend(c.clone());
        }
        let (_, body) = file(&app, &mario, Some("beta"), None, input).await;
        assert_eq!(error_code(&body), code, "{change}: {body}");
        bad_cases.push(body);
    }
    let beta_people = "{ citizens(fiscalCode: \"RSSMRA85T10A562S\") { edges { cursor } } }";
    assert_eq!(
        count(&app, &beta_op, beta_people, &["citizens", "edges"]).await,
        0
    );
    assert_eq!(
        count(
            &app,
            &beta_op,
            "{ cases { edges { cursor } } }",
            &["cases", "edges"]
        )
        .await,
        0
    );

    // Filed twice under one key: one case, the second answer replayed.
    let (first_replayed, first) =
        file(&app, &mario, Some("beta"), Some("divano-1"), good.clone()).await;
    assert_no_errors(&first);
    assert_eq!(first_replayed, None);
    let case = &first["data"]["fileRequest"];
    assert_eq!(case["channel"], "web");
    assert_eq!(case["status"], "NEW");
    assert_eq!(case["tenant"]["slug"], "beta");
    let (replayed, second) = file(&app, &mario, Some("beta"), Some("divano-1"), good.clone()).await;
    assert_eq!(replayed.as_deref(), Some("true"));
    assert_eq!(second["data"]["fileRequest"]["id"], case["id"]);
    assert_eq!(
        count(
            &app,
            &beta_op,
            "{ cases { edges { cursor } } }",
            &["cases", "edges"]
        )
        .await,
        1
    );

    // Beta now knows Mario (the same person alfa knows), with his consent to the handling.
    let known = app.gql(&beta_op, "{ citizenView(fiscalCode: \"RSSMRA85T10A562S\", purpose: \"citizen_contact\") { personId profiles { profile { givenName preferredChannel } } privacyConsents { purpose textVersion channel active } } }", json!({})).await;
    assert_no_errors(&known);
    let view = &known["data"]["citizenView"];
    assert_eq!(view["personId"], case["personId"]);
    assert_eq!(view["profiles"][0]["profile"]["givenName"], "Mario");
    assert_eq!(
        view["privacyConsents"],
        json!([{ "purpose": "case_handling", "textVersion": "2026-01", "channel": "web", "active": true }])
    );

    // A second request, from the app, naming the body in the input: no second profile or
    // consent; the citizen follows both in their own view; alfa sees neither.
    let mut from_app = good.clone();
    if let Some(i) = from_app.as_object_mut() {
        i.insert("tenant".into(), json!("beta"));
        i.insert("channel".into(), json!("app"));
        i.remove("givenName");
    }
    let (_, other) = file(&app, &mario, None, None, from_app).await;
    assert_no_errors(&other);
    assert_eq!(other["data"]["fileRequest"]["channel"], "app");
    assert_eq!(
        count(
            &app,
            &beta_op,
            "{ citizenView(fiscalCode: \"RSSMRA85T10A562S\", purpose: \"citizen_contact\") { privacyConsents { id } } }",
            &["citizenView", "privacyConsents"]
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &app,
            &mario,
            "{ me { citizen { cases { id } } } }",
            &["me", "citizen", "cases"]
        )
        .await,
        2
    );
    assert_eq!(
        count(
            &app,
            &alfa_op,
            "{ cases { edges { cursor } } }",
            &["cases", "edges"]
        )
        .await,
        0
    );

    // The input may not name another body than the header does.
    let mut elsewhere = good.clone();
    if let Some(i) = elsewhere.as_object_mut() {
        i.insert("tenant".into(), json!("alfa"));
    }
    let (_, clash) = file(&app, &mario, Some("beta"), Some("divano-2"), elsewhere).await;
    assert_eq!(error_code(&clash), "VALIDATION", "{clash}");

    // Naming a body gives a citizen nothing of its staff's.
    let (_, staff) = (
        (),
        app.post(
            Some(&mario),
            Some("beta"),
            "{ cases { edges { cursor } } }",
            json!({}),
        )
        .await
        .1,
    );
    assert_eq!(error_code(&staff), "FORBIDDEN");
    let (_, catalogue) = app
        .post(
            Some(&mario),
            Some("beta"),
            "{ services { code } }",
            json!({}),
        )
        .await;
    assert_no_errors(&catalogue);
    // Operators cannot file as citizens.
    let (_, not_citizen) = file(&app, &beta_op, None, None, good).await;
    assert_eq!(error_code(&not_citizen), "FORBIDDEN");
}
