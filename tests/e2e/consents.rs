//! Consented sharing between bodies: the citizen view, receipts, revocation and expiry,
//! the citizen's own view, the access log and the export.

use civitas_tenants::Role;
use rstest::rstest;
use serde_json::{Value, json};

use crate::harness::*;

const MARIO: &str = "RSSMRA85T10A562S";
/// The label of the default purpose the views below declare.
const CONTACT_PURPOSE: &str = "Risposta al cittadino che si rivolge all'ente";
const VIEW: &str = "query($fc: String) { citizenView(fiscalCode: $fc, purpose: \"citizen_contact\") { personId profiles { shared consentId profile { givenName phones tenant { slug } } } sharingConsents { id active } } }";
const GRANT: &str = "mutation($i: GrantSharingConsentInput!) { grantSharingConsent(input: $i) { id scopes purpose channel collectorKind collectedBy active source { slug } grantee { slug } collectedIn { slug } } }";
const REVOKE: &str = "mutation($id: ID!) { revokeSharingConsent(id: $id) { id active revokedBy } }";

/// Three bodies that each know Mario, with an operator each.
struct World {
    app: TestApp,
    ops: [String; 3],
}

async fn world(backend: Backend) -> World {
    let app = TestApp::spawn(backend).await;
    let mut ops = Vec::new();
    for slug in ["alfa", "beta", "gamma"] {
        app.onboard(slug).await;
        let op = app
            .member(slug, &format!("{slug}-op"), Role::Operator)
            .await;
        app.register(&op, Some(MARIO), "Mario", &format!("Rossi-{slug}"), &[])
            .await;
        ops.push(op);
    }
    // These bodies accept each other's counter consents: the view's mechanics are tested
    // here; counter_consent.rs tests consents that wait for the citizen.
    for slug in ["alfa", "beta", "gamma"] {
        let others: Vec<&str> = ["alfa", "beta", "gamma"]
            .into_iter()
            .filter(|o| *o != slug)
            .collect();
        let body = app
            .gql(
                &app.admin_of(slug),
                "mutation($s: JSON!) { updateTenantSettings(settings: $s) { id } }",
                json!({ "s": { "acceptCounterConsentsFrom": others } }),
            )
            .await;
        assert_no_errors(&body);
    }
    let ops = ops.try_into().unwrap_or_else(|_| unreachable!());
    World { app, ops }
}

/// The bodies whose records an operator sees in the citizen view, sorted.
async fn visible(app: &TestApp, op: &str) -> Vec<String> {
    let body = app.gql(op, VIEW, json!({ "fc": MARIO })).await;
    assert_no_errors(&body);
    let mut v: Vec<String> = body["data"]["citizenView"]["profiles"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            p["profile"]["tenant"]["slug"]
                .as_str()
                .unwrap_or("")
                .to_owned()
        })
        .collect();
    v.sort();
    v
}

async fn grant(app: &TestApp, token: &str, input: Value) -> Value {
    let body = app.gql(token, GRANT, json!({ "i": input })).await;
    assert_no_errors(&body);
    body["data"]["grantSharingConsent"].clone()
}

#[rstest]
#[tokio::test]
async fn an_operator_sees_other_bodies_only_under_consent(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let World {
        app,
        ops: [alfa, beta, _gamma],
    } = world(backend).await;
    assert_eq!(visible(&app, &beta).await, ["beta"]);

    // Collected at beta's counter: beta may read alfa's profile (not gamma's).
    let receipt = grant(&app, &beta, json!({ "fiscalCode": MARIO, "source": "alfa", "grantee": "beta", "scopes": ["PROFILE"], "purpose": "pratica edilizia", "channel": "counter" })).await;
    assert_eq!(receipt["collectorKind"], "operator");
    assert_eq!(receipt["collectedBy"], "beta-op");
    assert_eq!(receipt["collectedIn"]["slug"], "beta");
    assert_eq!(receipt["source"]["slug"], "alfa");
    assert_eq!(visible(&app, &beta).await, ["alfa", "beta"]);
    assert_eq!(visible(&app, &alfa).await, ["alfa"], "consent is one-way");

    let body = app.gql(&beta, VIEW, json!({ "fc": MARIO })).await;
    let shared: Vec<&Value> = body["data"]["citizenView"]["profiles"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["shared"] == true)
        .collect();
    assert_eq!(shared.len(), 1);
    assert_eq!(shared[0]["consentId"], receipt["id"]);

    // Every read is logged, for the reading body and for the citizen: alfa's records under
    // the consent, with the purpose beta's operator declared; beta's own on a legal basis.
    let log = app.gql(&app.admin_of("beta"), "{ accessLog { reader purpose basis consentId legalBasis sourceTenant { slug } readerTenant { slug } } }", json!({})).await;
    let newest = &log["data"]["accessLog"][0];
    assert!(
        newest["reader"]
            .as_str()
            .is_some_and(|r| r.ends_with("|beta-op")),
        "issuer and subject: {newest}"
    );
    assert_eq!(
        (
            &newest["purpose"],
            &newest["basis"],
            &newest["consentId"],
            &newest["legalBasis"]
        ),
        (
            &json!(CONTACT_PURPOSE),
            &json!("CONSENT"),
            &receipt["id"],
            &Value::Null
        )
    );
    assert_eq!(newest["sourceTenant"]["slug"], "alfa");
    assert_eq!(newest["readerTenant"]["slug"], "beta");
    let own = &log["data"]["accessLog"][1];
    assert_eq!(
        (
            &own["basis"],
            &own["consentId"],
            &own["sourceTenant"]["slug"]
        ),
        (&json!("LEGAL_BASIS"), &Value::Null, &json!("beta"))
    );
    assert!(
        own["legalBasis"]
            .as_str()
            .is_some_and(|b| b.contains("GDPR")),
        "{own}"
    );
    let mine = app
        .gql(
            &app.citizen(MARIO),
            "{ myAccessLog { basis sourceTenant { slug } readerTenant { slug } } }",
            json!({}),
        )
        .await;
    let by = |basis: &str| {
        mine["data"]["myAccessLog"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| e["basis"] == basis)
            .count()
    };
    assert_eq!(by("CONSENT"), 2, "two views with the consent: {mine}");
    assert_eq!(
        by("LEGAL_BASIS"),
        4,
        "and every view of a body's own records: {mine}"
    );

    // Revoked: gone on the very next request.
    let rv = app.gql(&beta, REVOKE, json!({ "id": receipt["id"] })).await;
    assert_eq!(rv["data"]["revokeSharingConsent"]["active"], false);
    assert_eq!(visible(&app, &beta).await, ["beta"]);
    let twice = app.gql(&beta, REVOKE, json!({ "id": receipt["id"] })).await;
    assert_eq!(error_code(&twice), "CONFLICT");
}

/// The view reads the family's consents with the family itself: a consent given on a record
/// that is later merged keeps opening the other body, whichever record the view is asked for.
#[rstest]
#[tokio::test]
async fn a_consent_on_a_merged_record_still_opens_the_view(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let World {
        app,
        ops: [_alfa, beta, _gamma],
    } = world(backend).await;
    let sup = app.member("beta", "beta-sup", Role::Supervisor).await;
    let caller = app
        .register(&beta, None, "Mario", "Rossi", &["333 123 4567"])
        .await;
    grant(&app, &beta, json!({ "personId": caller["personId"], "source": "alfa", "grantee": "beta", "scopes": ["PROFILE"], "purpose": "pratica edilizia", "channel": "phone" })).await;
    assert_eq!(
        visible(&app, &beta).await,
        ["beta"],
        "not yet the same person"
    );

    let merge =
        "mutation($s: ID!, $t: ID!) { mergePersons(sourcePersonId: $s, targetPersonId: $t) }";
    let root =
        app.gql(&beta, VIEW, json!({ "fc": MARIO })).await["data"]["citizenView"]["personId"]
            .clone();
    let merged = app
        .gql(&sup, merge, json!({ "s": caller["personId"], "t": root }))
        .await;
    assert_no_errors(&merged);
    assert_eq!(visible(&app, &beta).await, ["alfa", "beta"]);

    let by_record = app
        .gql(
            &beta,
            "query($id: ID) { citizenView(personId: $id, purpose: \"citizen_contact\") { personId profiles { profile { tenant { slug } } } } }",
            json!({ "id": caller["personId"] }),
        )
        .await;
    assert_no_errors(&by_record);
    let view = &by_record["data"]["citizenView"];
    assert_eq!(
        view["personId"], root,
        "the merged record leads to its person"
    );
    let mut slugs: Vec<&str> = view["profiles"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["profile"]["tenant"]["slug"].as_str())
        .collect();
    slugs.sort();
    slugs.dedup();
    assert_eq!(slugs, ["alfa", "beta"]);
}

#[rstest]
#[tokio::test]
async fn scopes_sources_and_expiry_are_respected(#[values(Sqlite, Postgres)] backend: Backend) {
    let World {
        app,
        ops: [_alfa, beta, _gamma],
    } = world(backend).await;
    let citizen = app.citizen(MARIO);
    // Cases only: the profiles stay hidden.
    grant(
        &app,
        &citizen,
        json!({ "grantee": "beta", "scopes": ["CASES"], "purpose": "x" }),
    )
    .await;
    assert_eq!(visible(&app, &beta).await, ["beta"]);
    // Every body, for an hour.
    let expires = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    grant(&app, &citizen, json!({ "grantee": "beta", "scopes": ["PROFILE"], "purpose": "sportello unico", "expiresAt": expires })).await;
    assert_eq!(visible(&app, &beta).await, ["alfa", "beta", "gamma"]);
    app.clock.advance(chrono::Duration::minutes(61));
    assert_eq!(
        visible(&app, &beta).await,
        ["beta"],
        "expired on the next request"
    );

    let past = app.gql(&citizen, GRANT, json!({ "i": { "grantee": "beta", "scopes": ["PROFILE"], "purpose": "x", "expiresAt": "2020-01-01T00:00:00Z" } })).await;
    assert_eq!(error_code(&past), "VALIDATION");
    let none = app
        .gql(
            &citizen,
            GRANT,
            json!({ "i": { "grantee": "beta", "scopes": [], "purpose": "x" } }),
        )
        .await;
    assert_eq!(error_code(&none), "VALIDATION");
    let own = app.gql(&citizen, GRANT, json!({ "i": { "source": "beta", "grantee": "beta", "scopes": ["PROFILE"], "purpose": "x" } })).await;
    assert_eq!(error_code(&own), "VALIDATION");
    let nobody = app
        .gql(
            &citizen,
            GRANT,
            json!({ "i": { "grantee": "delta", "scopes": ["PROFILE"], "purpose": "x" } }),
        )
        .await;
    assert_eq!(error_code(&nobody), "VALIDATION");
}

#[rstest]
#[tokio::test]
async fn the_citizen_sees_everything_about_themselves_and_withdraws_as_easily(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let World {
        app,
        ops: [alfa, beta, _gamma],
    } = world(backend).await;
    let citizen = app.citizen(MARIO);
    let receipt = grant(&app, &citizen, json!({ "grantee": "beta", "scopes": ["PROFILE", "CASES"], "purpose": "sportello unico", "channel": "app" })).await;
    assert_eq!(receipt["collectorKind"], "citizen");
    assert_eq!(receipt["source"], Value::Null, "every body");
    assert_eq!(receipt["collectedIn"], Value::Null);

    let pc = app.gql(&alfa, "mutation { recordPrivacyConsent(input: { fiscalCode: \"RSSMRA85T10A562S\", purpose: \"caller_recognition\", textVersion: \"2026-01\", channel: \"phone\" }) { id active collectorKind } }", json!({})).await;
    assert_eq!(
        pc["data"]["recordPrivacyConsent"]["collectorKind"],
        "operator"
    );
    let mine = app.gql(&citizen, "mutation { recordPrivacyConsent(input: { tenant: \"gamma\", purpose: \"newsletter\", textVersion: \"v3\" }) { id tenant { slug } collectorKind } }", json!({})).await;
    assert_eq!(
        mine["data"]["recordPrivacyConsent"]["tenant"]["slug"],
        "gamma"
    );

    let me = app.gql(&citizen, "{ me { kind citizen { profiles { familyName tenant { slug } } sharingConsents { id active } privacyConsents { id purpose active tenant { slug } } } } }", json!({})).await;
    assert_no_errors(&me);
    let data = &me["data"]["me"]["citizen"];
    assert_eq!(
        data["profiles"].as_array().map(Vec::len),
        Some(3),
        "every body's profile"
    );
    assert_eq!(data["sharingConsents"][0]["id"], receipt["id"]);
    assert_eq!(data["privacyConsents"].as_array().map(Vec::len), Some(2));

    // Withdraw the operator-collected privacy consent from the citizen's side.
    let id = pc["data"]["recordPrivacyConsent"]["id"].clone();
    let w = app
        .gql(
            &citizen,
            "mutation($id: ID!) { withdrawPrivacyConsent(id: $id) { active withdrawnBy } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        w["data"]["withdrawPrivacyConsent"],
        json!({ "active": false, "withdrawnBy": format!("spid-{MARIO}") })
    );
    let hist = app
        .gql(
            &alfa,
            VIEW.replace(
                "sharingConsents { id active }",
                "privacyConsents { purpose active }",
            )
            .as_str(),
            json!({ "fc": MARIO }),
        )
        .await;
    assert_eq!(
        hist["data"]["citizenView"]["privacyConsents"],
        json!([{ "purpose": "caller_recognition", "active": false }]),
        "history kept"
    );

    visible(&app, &beta).await;
    let export = app.gql(&citizen, "{ exportMyData }", json!({})).await;
    let data = &export["data"]["exportMyData"]["data"];
    assert_eq!(data["profiles"].as_array().map(Vec::len), Some(3));
    assert_eq!(data["sharing_consents"].as_array().map(Vec::len), Some(1));
    assert_eq!(data["privacy_consents"].as_array().map(Vec::len), Some(2));
    let under_consent = data["access_log"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["basis"] == "consent")
        .count();
    assert_eq!(under_consent, 2, "{data}");
    let bodies = &export["data"]["exportMyData"]["bodies"];
    assert_eq!(
        bodies.as_object().map(|b| b.len()),
        Some(3),
        "the bodies the export mentions: {bodies}"
    );

    let rv = app
        .gql(&citizen, REVOKE, json!({ "id": receipt["id"] }))
        .await;
    assert_eq!(
        rv["data"]["revokeSharingConsent"]["revokedBy"],
        format!("spid-{MARIO}")
    );
    assert_eq!(visible(&app, &beta).await, ["beta"]);
}

#[rstest]
#[tokio::test]
async fn consents_are_private_to_their_parties(#[values(Sqlite, Postgres)] backend: Backend) {
    let World {
        app,
        ops: [alfa, beta, gamma],
    } = world(backend).await;
    let receipt = grant(&app, &beta, json!({ "fiscalCode": MARIO, "source": "alfa", "grantee": "beta", "scopes": ["PROFILE"], "purpose": "p" })).await;
    let ids = |body: &Value| {
        body["data"]["citizenView"]["sharingConsents"]
            .as_array()
            .map(|a| a.iter().map(|c| c["id"].clone()).collect::<Vec<_>>())
            .unwrap_or_default()
    };
    assert_eq!(
        ids(&app.gql(&alfa, VIEW, json!({ "fc": MARIO })).await),
        [receipt["id"].clone()],
        "the source sees it"
    );
    assert!(
        ids(&app.gql(&gamma, VIEW, json!({ "fc": MARIO })).await).is_empty(),
        "a third body does not"
    );
    let rv = app
        .gql(&gamma, REVOKE, json!({ "id": receipt["id"] }))
        .await;
    assert_eq!(error_code(&rv), "NOT_FOUND");
    // Another citizen cannot revoke it either.
    let other = app.citizen("BNCLRA90D45F205B");
    assert_eq!(
        error_code(
            &app.gql(&other, REVOKE, json!({ "id": receipt["id"] }))
                .await
        ),
        "NOT_FOUND"
    );
    // Operators act only for citizens their body knows.
    let stranger = app.gql(&gamma, GRANT, json!({ "i": { "fiscalCode": "VRDGPP80A01H501U", "grantee": "gamma", "scopes": ["PROFILE"], "purpose": "p" } })).await;
    assert_eq!(error_code(&stranger), "NOT_FOUND");
    // Citizen-only operations refuse operators.
    assert_eq!(
        error_code(&app.gql(&alfa, "{ myAccessLog { id } }", json!({})).await),
        "FORBIDDEN"
    );
}

#[rstest]
#[tokio::test]
async fn revocation_is_effective_on_the_next_request_on_another_replica() {
    let World {
        app,
        ops: [_alfa, beta, _gamma],
    } = world(Postgres).await;
    let second = app.replica().await;
    let citizen = app.citizen(MARIO);
    let receipt = grant(
        &app,
        &citizen,
        json!({ "source": "alfa", "grantee": "beta", "scopes": ["PROFILE"], "purpose": "p" }),
    )
    .await;
    let on_second = |token: String| {
        let client = app.client.clone();
        let url = format!("http://{}/graphql", second.addr);
        async move {
            let body: Value = client
                .post(url)
                .bearer_auth(token)
                .json(&json!({ "query": VIEW, "variables": { "fc": MARIO } }))
                .send()
                .await
                .expect("send")
                .json()
                .await
                .expect("json");
            let mut v: Vec<String> = body["data"]["citizenView"]["profiles"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| {
                    p["profile"]["tenant"]["slug"]
                        .as_str()
                        .unwrap_or("")
                        .to_owned()
                })
                .collect();
            v.sort();
            v
        }
    };
    // The grant reaches the second replica (its cache learns through NOTIFY).
    let mut seen = Vec::new();
    for _ in 0..50 {
        seen = on_second(beta.clone()).await;
        if seen.len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(seen, ["alfa", "beta"]);

    // Revoked through the first replica: the second one's very next request no longer shows it.
    let rv = app
        .gql(&citizen, REVOKE, json!({ "id": receipt["id"] }))
        .await;
    assert_no_errors(&rv);
    assert_eq!(on_second(beta.clone()).await, ["beta"]);

    // And the second replica's cache entry is dropped too, not only filtered by the database.
    let person: uuid::Uuid = receipt_person(&app, &citizen).await;
    let mut cached = true;
    for _ in 0..50 {
        let grantee = tenant_uuid(&app, "beta").await;
        let consents = second
            .app
            .consents
            .for_grantee(
                second.app.db.global(),
                civitas_tenants::TenantId(grantee),
                &[person],
            )
            .await
            .expect("cache");
        cached = consents.iter().any(|c| c.revoked_at.is_none());
        if !cached {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        !cached,
        "the second replica still caches the revoked consent"
    );
}

async fn receipt_person(app: &TestApp, citizen: &str) -> uuid::Uuid {
    let me = app
        .gql(citizen, "{ me { citizen { personId } } }", json!({}))
        .await;
    me["data"]["me"]["citizen"]["personId"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("person id")
}

async fn tenant_uuid(app: &TestApp, slug: &str) -> uuid::Uuid {
    let t = app
        .gql(
            &app.platform_admin(),
            &format!("{{ tenant(slug: \"{slug}\") {{ id }} }}"),
            json!({}),
        )
        .await;
    t["data"]["tenant"]["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("tenant id")
}
