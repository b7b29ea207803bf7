//! Consent receipts: every sharing and privacy consent, and its withdrawal, has a receipt
//! in the Kantara Consent Receipt v1.1 shape, signed by the platform; a real JOSE library
//! (panva/jose, from npm) verifies it with the published key set.

use std::process::Command;

use civitas_tenants::Role;
use rstest::rstest;
use serde_json::{Value, json};

use crate::harness::*;
use crate::oidc::{ensure_npm_packages, provider_dir};

const MARIO: &str = "RSSMRA85T10A562S";
const RECEIPT: &str = "query($k: ConsentKind!, $id: ID!, $e: ReceiptEvent = GRANTED) { \
  myConsentReceipt(kind: $k, consentId: $id, event: $e) { receipt jws } }";

/// Verifies `jws` with the server's published keys through panva/jose; its payload.
pub(crate) async fn verified(app: &TestApp, jws: &str) -> Result<Value, String> {
    verified_at(app, &app.url("/receipts/jwks.json"), jws).await
}

/// Verifies `jws` with the key set at `jwks_url` through panva/jose; its payload.
async fn verified_at(app: &TestApp, jwks_url: &str, jws: &str) -> Result<Value, String> {
    ensure_npm_packages();
    let jwks = app
        .client
        .get(jwks_url)
        .send()
        .await
        .expect("jwks")
        .text()
        .await
        .expect("jwks text");
    let dir = tempfile::tempdir().expect("dir");
    let (keys, token) = (dir.path().join("jwks.json"), dir.path().join("receipt.jws"));
    std::fs::write(&keys, jwks).expect("write jwks");
    std::fs::write(&token, jws).expect("write jws");
    let out = Command::new("node")
        .arg("verify-jws.mjs")
        .arg(&keys)
        .arg(&token)
        .current_dir(provider_dir())
        .output()
        .expect("node");
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(serde_json::from_slice::<Value>(&out.stdout).expect("json")["payload"].clone())
}

#[rstest]
#[tokio::test]
async fn receipts_are_signed_and_verify_with_the_published_key(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    app.onboard("alfa").await;
    app.onboard("beta").await;
    let op = app.member("beta", "beta-op", Role::Operator).await;
    app.register(&op, Some(MARIO), "Mario", "Rossi", &[]).await;
    let mario = app.citizen(MARIO);

    let g = app
        .gql(&mario, "mutation { grantSharingConsent(input: { source: \"beta\", grantee: \"alfa\", scopes: [PROFILE, CASES], purpose: \"pratica edilizia\" }) { id } }", json!({}))
        .await;
    assert_no_errors(&g);
    let sharing = g["data"]["grantSharingConsent"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let p = app
        .gql(&op, "mutation { recordPrivacyConsent(input: { fiscalCode: \"RSSMRA85T10A562S\", purpose: \"engagement\", textVersion: \"v3\", channel: \"counter\" }) { id } }", json!({}))
        .await;
    assert_no_errors(&p);
    let privacy = p["data"]["recordPrivacyConsent"]["id"]
        .as_str()
        .expect("id")
        .to_owned();

    let r = app
        .gql(&mario, RECEIPT, json!({ "k": "SHARING", "id": sharing }))
        .await;
    assert_no_errors(&r);
    let receipt = &r["data"]["myConsentReceipt"]["receipt"];
    assert_eq!(receipt["version"], "KI-CR-v1.1.0");
    assert_eq!(receipt["piiPrincipalId"], MARIO);
    assert_eq!(receipt["jurisdiction"], "IT");
    let controllers: Vec<&str> = receipt["piiControllers"]
        .as_array()
        .expect("controllers")
        .iter()
        .map(|c| c["civitas:body"].as_str().expect("slug"))
        .collect();
    assert_eq!(controllers, ["beta", "alfa"], "the source and the grantee");
    let purpose = &receipt["services"][0]["purposes"][0];
    assert_eq!(purpose["piiCategory"], json!(["profile", "cases"]));
    assert_eq!(purpose["thirdPartyName"], "Ente alfa");
    let jws = r["data"]["myConsentReceipt"]["jws"].as_str().expect("jws");
    let payload = verified(&app, jws)
        .await
        .expect("panva/jose verifies the receipt");
    assert_eq!(&payload, receipt, "the signed payload is the receipt");

    // A changed payload does not verify.
    let parts: Vec<&str> = jws.split('.').collect();
    let tampered = {
        use base64::Engine;
        let mut forged = receipt.clone();
        forged["piiPrincipalId"] = json!("BNCGLI80A41H501C");
        let b = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(forged.to_string());
        format!("{}.{b}.{}", parts[0], parts[2])
    };
    assert!(verified(&app, &tampered).await.is_err());

    // No withdrawal receipt while the consent is in force; one once withdrawn.
    let early = app
        .gql(
            &mario,
            RECEIPT,
            json!({ "k": "PRIVACY", "id": privacy, "e": "WITHDRAWN" }),
        )
        .await;
    assert_eq!(error_code(&early), "NOT_FOUND");
    let w = app
        .gql(
            &op,
            "mutation($id: ID!) { withdrawPrivacyConsent(id: $id) { id } }",
            json!({ "id": privacy }),
        )
        .await;
    assert_no_errors(&w);
    let late = app
        .gql(
            &mario,
            RECEIPT,
            json!({ "k": "PRIVACY", "id": privacy, "e": "WITHDRAWN" }),
        )
        .await;
    assert_no_errors(&late);
    let withdrawal = &late["data"]["myConsentReceipt"]["receipt"];
    assert_eq!(withdrawal["civitas:event"], "withdrawn");
    assert_eq!(withdrawal["collectionMethod"], "counter");
    assert_eq!(
        withdrawal["services"][0]["purposes"][0]["civitas:noticeVersion"],
        "v3"
    );
    let granted = app
        .gql(&mario, RECEIPT, json!({ "k": "PRIVACY", "id": privacy }))
        .await;
    assert_ne!(
        granted["data"]["myConsentReceipt"]["receipt"]["consentReceiptID"],
        withdrawal["consentReceiptID"]
    );

    // Another citizen's consent has no receipt for them; a body's staff get none either.
    app.register(&op, Some("BNCGLI80A41H501C"), "Giulia", "Bianchi", &[])
        .await;
    let giulia = app.citizen("BNCGLI80A41H501C");
    let other = app
        .gql(&giulia, RECEIPT, json!({ "k": "SHARING", "id": sharing }))
        .await;
    assert_eq!(error_code(&other), "NOT_FOUND");
    let staff = app
        .gql(&op, RECEIPT, json!({ "k": "SHARING", "id": sharing }))
        .await;
    assert!(
        matches!(error_code(&staff), "FORBIDDEN" | "NOT_FOUND"),
        "{staff}"
    );
}

#[rstest]
#[tokio::test]
async fn the_portal_hands_out_the_receipt_file(#[values(Sqlite, Postgres)] backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.onboard("alfa").await;
    app.onboard("beta").await;
    let op = app.member("beta", "beta-op", Role::Operator).await;
    app.register(&op, Some(MARIO), "Mario", "Rossi", &[]).await;
    let g = app
        .gql(&app.citizen(MARIO), "mutation { grantSharingConsent(input: { grantee: \"alfa\", scopes: [PROFILE], purpose: \"sportello\" }) { id } }", json!({}))
        .await;
    let id = g["data"]["grantSharingConsent"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let (browser, _) = crate::portal::signed_in(&app, MARIO, "/consents").await;
    let page = browser
        .get(app.url("/consents"))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    let link = format!("/consents/sharing/{id}/receipt");
    assert!(page.contains(&link), "the consents page links the receipt");
    let resp = browser.get(app.url(&link)).send().await.expect("receipt");
    assert_eq!(resp.status().as_u16(), 200);
    let disposition = resp
        .headers()
        .get("content-disposition")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        disposition.contains(&format!("consent-receipt-{id}-granted.json")),
        "{disposition}"
    );
    let file: Value = resp.json().await.expect("json");
    assert_eq!(
        file["receipt"]["services"][0]["purposes"][0]["civitas:source"],
        "every body"
    );
    let payload = verified(&app, file["jws"].as_str().expect("jws"))
        .await
        .expect("verifies");
    assert_eq!(payload, file["receipt"]);
    let missing = browser
        .get(app.url(&format!("/consents/sharing/{id}/receipt?event=withdrawn")))
        .send()
        .await
        .expect("withdrawal");
    assert_eq!(
        missing.status().as_u16(),
        404,
        "not withdrawn: no such receipt"
    );
}

/// A consent an operator collected at another body's counter waits for the citizen: the
/// portal shows it, and the citizen confirms one and declines another there.
#[rstest]
#[tokio::test]
async fn the_citizen_confirms_or_declines_a_collected_consent_in_the_portal(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let mut ops = Vec::new();
    for slug in ["alfa", "beta"] {
        app.onboard(slug).await;
        let op = app
            .member(slug, &format!("{slug}-op"), Role::Operator)
            .await;
        app.register(&op, Some(MARIO), "Mario", "Rossi", &[]).await;
        ops.push(op);
    }
    const GRANT: &str =
        "mutation($i: GrantSharingConsentInput!) { grantSharingConsent(input: $i) { id status } }";
    let mut ids = Vec::new();
    for purpose in ["pratica edilizia", "tributi"] {
        let g = app
            .gql(&ops[1], GRANT, json!({ "i": { "fiscalCode": MARIO, "source": "alfa", "grantee": "beta", "scopes": ["PROFILE"], "purpose": purpose, "channel": "counter" } }))
            .await;
        assert_no_errors(&g);
        assert_eq!(
            g["data"]["grantSharingConsent"]["status"],
            "PENDING_CONFIRMATION"
        );
        ids.push(
            g["data"]["grantSharingConsent"]["id"]
                .as_str()
                .expect("id")
                .to_owned(),
        );
    }
    let (browser, _) = crate::portal::signed_in(&app, MARIO, "/consents").await;
    let page = |b: reqwest::Client| {
        let url = app.url("/consents");
        async move {
            b.get(url)
                .send()
                .await
                .expect("page")
                .text()
                .await
                .expect("html")
        }
    };
    let html = page(browser.clone()).await;
    assert!(
        html.contains("In attesa della tua conferma")
            || html.contains("Waiting for your confirmation"),
        "{html}"
    );
    assert!(html.contains(&format!("/consents/requests/{}/confirm", ids[0])));
    let csrf = crate::portal::form_token(&html);
    let post = |path: String| {
        let (b, csrf) = (browser.clone(), csrf.clone());
        async move {
            b.post(path)
                .form(&[("csrf", csrf.as_str())])
                .send()
                .await
                .expect("post")
                .status()
                .as_u16()
        }
    };
    assert_eq!(
        post(app.url(&format!("/consents/requests/{}/confirm", ids[0]))).await,
        303
    );
    assert_eq!(
        post(app.url(&format!("/consents/requests/{}/decline", ids[1]))).await,
        303
    );
    // Another citizen's request, or a forged action, changes nothing.
    assert_eq!(
        post(app.url(&format!("/consents/requests/{}/confirm", ids[1]))).await,
        409,
        "already declined"
    );
    assert_eq!(
        post(app.url(&format!("/consents/requests/{}/approve", ids[1]))).await,
        404
    );

    let html = page(browser.clone()).await;
    assert!(
        !html.contains("/consents/requests/"),
        "nothing waits any more"
    );
    let mine = app
        .gql(
            &app.citizen(MARIO),
            "query { me { citizen { sharingConsents { purpose active } } } }",
            json!({}),
        )
        .await;
    assert_no_errors(&mine);
    assert_eq!(
        mine["data"]["me"]["citizen"]["sharingConsents"],
        json!([{ "purpose": "pratica edilizia", "active": true }]),
        "the confirmed one is in force, the declined one never was"
    );
}

#[rstest]
#[tokio::test]
async fn receipts_signed_before_a_key_rotation_still_verify() {
    use base64::Engine;
    use civitas_crm::receipts::Signer;
    let b64 = |der: Vec<u8>| base64::engine::general_purpose::STANDARD.encode(der);
    let old = b64(Signer::generate().expect("key"));
    let new = b64(Signer::generate().expect("key"));
    let app = TestApp::spawn_with(Sqlite, |c| c.receipt_key = Some(old.clone())).await;
    app.onboard("beta").await;
    let op = app.member("beta", "beta-op", Role::Operator).await;
    app.register(&op, Some(MARIO), "Mario", "Rossi", &[]).await;
    let p = app
        .gql(&op, "mutation { recordPrivacyConsent(input: { fiscalCode: \"RSSMRA85T10A562S\", purpose: \"engagement\", textVersion: \"v3\", channel: \"counter\" }) { id } }", json!({}))
        .await;
    assert_no_errors(&p);
    let r = app
        .gql(
            &app.citizen(MARIO),
            RECEIPT,
            json!({ "k": "PRIVACY", "id": p["data"]["recordPrivacyConsent"]["id"] }),
        )
        .await;
    assert_no_errors(&r);
    let jws = r["data"]["myConsentReceipt"]["jws"]
        .as_str()
        .expect("jws")
        .to_owned();

    // Rotated: the new key signs, the old one is still published.
    let rotated = app
        .replica_with(|c| {
            c.receipt_key = Some(new.clone());
            c.receipt_old_keys = vec![old.clone()];
        })
        .await;
    let url = format!("http://{}/receipts/jwks.json", rotated.addr);
    let keys: Value = app
        .client
        .get(&url)
        .send()
        .await
        .expect("jwks")
        .json()
        .await
        .expect("json");
    assert_eq!(keys["keys"].as_array().expect("keys").len(), 2, "{keys}");
    let payload = verified_at(&app, &url, &jws)
        .await
        .expect("old receipt verifies");
    assert_eq!(
        payload["services"][0]["purposes"][0]["purpose"],
        "engagement"
    );
    // Once the old key is dropped from the set, its receipts no longer verify.
    let forgotten = app
        .replica_with(|c| c.receipt_key = Some(new.clone()))
        .await;
    let url = format!("http://{}/receipts/jwks.json", forgotten.addr);
    assert!(verified_at(&app, &url, &jws).await.is_err());
}
