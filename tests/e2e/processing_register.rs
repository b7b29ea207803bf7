//! The register of processing activities (GDPR art. 30) follows the body's configuration:
//! its services and their fields, the providers behind its channels, its integrations, its
//! identity providers, the bodies it shares with under live consents; and shows a body
//! nothing of another's.

use rstest::rstest;
use serde_json::{Value, json};

use crate::harness::*;

const REGISTER: &str =
    "query($l: SheetLanguage!) { processingRegister(language: $l) { document markdown } }";

fn activity<'a>(doc: &'a Value, id: &str) -> &'a Value {
    doc["activities"]
        .as_array()
        .expect("activities")
        .iter()
        .find(|a| a["id"] == id)
        .unwrap_or_else(|| panic!("no activity {id}: {doc}"))
}

async fn register(app: &TestApp, token: &str, language: &str) -> (Value, String) {
    let r = app.gql(token, REGISTER, json!({ "l": language })).await;
    assert_no_errors(&r);
    let r = &r["data"]["processingRegister"];
    (
        r["document"].clone(),
        r["markdown"].as_str().expect("markdown").to_owned(),
    )
}

#[rstest]
#[tokio::test]
async fn the_register_follows_the_bodys_configuration(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    app.body_with_notifications(
        "alfa",
        json!({
            "email": { "host": "smtp.alfa.example", "port": 587, "fromAddress": "noreply@alfa.example" },
            "sms": { "url": "https://sms.example/send?k=1", "sender": "Alfa", "tokenEnv": "CIVITAS_SECRET_ALFA__SMS" }
        }),
    )
    .await;
    app.onboard("beta").await;
    let (alfa, beta) = (app.admin_of("alfa"), app.admin_of("beta"));
    let svc = app.gql(&alfa, "mutation { createService(input: { code: \"RIF\", name: \"Ritiro ingombranti\", area: \"Rifiuti\", customFields: [{ key: \"floor\", label: \"Piano\", type: NUMBER, required: true }] }) { code } }", json!({})).await;
    assert_no_errors(&svc);
    let hook = app.gql(&alfa, "mutation { createWebhook(url: \"http://127.0.0.1:9/hooks/sap\", eventTypes: [\"case.created\"]) { secret } }", json!({})).await;
    assert_no_errors(&hook);
    let idp = app
        .gql(
            &alfa,
            "mutation($i: RegisterIdentityProviderInput!) { registerIdentityProvider(input: $i) { id } }",
            json!({ "i": { "issuer": "http://127.0.0.1:9/realms/alfa", "audiences": ["civitas"] } }),
        )
        .await;
    assert_no_errors(&idp);
    let alfa_op = app
        .member("alfa", "alfa-op2", civitas_tenants::Role::Operator)
        .await;
    let beta_op = app
        .member("beta", "beta-op", civitas_tenants::Role::Operator)
        .await;
    app.register(&alfa_op, Some("RSSMRA85T10A562S"), "Mario", "Rossi", &[])
        .await;
    app.register(&beta_op, Some("RSSMRA85T10A562S"), "Mario", "Rossi", &[])
        .await;
    let citizen = app.citizen("RSSMRA85T10A562S");
    let grant = app
        .gql(&citizen, "mutation { grantSharingConsent(input: { source: \"alfa\", grantee: \"beta\", scopes: [PROFILE, CASES], purpose: \"Sportello unico\" }) { id } }", json!({}))
        .await;
    assert_no_errors(&grant);

    let (doc, md) = register(&app, &alfa, "IT").await;
    assert_eq!(doc["controller"]["slug"], "alfa");
    assert_eq!(doc["controller"]["name"], "Ente alfa");
    let ids: Vec<&str> = doc["activities"]
        .as_array()
        .expect("activities")
        .iter()
        .filter_map(|a| a["id"].as_str())
        .collect();
    assert_eq!(
        ids,
        [
            "case_handling",
            "notifications",
            "caller_recognition",
            "sharing",
            "authentication",
            "accountability"
        ]
    );
    let cases = activity(&doc, "case_handling");
    let codes: Vec<&str> = cases["services"]
        .as_array()
        .expect("services")
        .iter()
        .filter_map(|s| s["code"].as_str())
        .collect();
    assert_eq!(codes, ["CERT", "RIF"]);
    assert!(
        cases["dataCategories"].to_string().contains("Piano"),
        "{cases}"
    );
    assert_eq!(
        cases["recipients"]["integrations"],
        json!([{ "host": "127.0.0.1:9", "events": ["case.created"] }])
    );
    let hosts: Vec<&str> = activity(&doc, "notifications")["recipients"]["processors"]
        .as_array()
        .expect("processors")
        .iter()
        .filter_map(|p| p["host"].as_str())
        .collect();
    assert_eq!(hosts, ["smtp.alfa.example", "sms.example"]);
    assert_eq!(
        activity(&doc, "sharing")["recipients"]["bodiesUnderConsent"],
        json!([{ "body": "Ente beta", "consents": 1 }])
    );
    assert_eq!(
        activity(&doc, "authentication")["recipients"]["identityProviders"],
        json!(["http://127.0.0.1:9/realms/alfa"])
    );
    assert!(
        md.starts_with("# Registro delle attività di trattamento — Ente alfa\n"),
        "{md}"
    );
    for needle in [
        "## Gestione delle richieste dei cittadini",
        "Integrazioni (webhook): 127.0.0.1:9 (case.created)",
        "Responsabili del trattamento: Gateway SMS: sms.example",
        "Enti, su consenso: Ente beta (1)",
        "RIF Ritiro ingombranti (Rifiuti)",
        "Scopi dichiarabili per consultare i dati",
        "Controlli d'ufficio sulle dichiarazioni (`verification`): Art. 6(1)(c) GDPR",
        "## Misure di sicurezza",
    ] {
        assert!(md.contains(needle), "{needle} not in\n{md}");
    }
    let (doc_en, md_en) = register(&app, &alfa, "EN").await;
    assert_eq!(doc_en["language"], "en");
    assert!(md_en.starts_with("# Register of processing activities — Ente alfa\n"));

    // Beta sees that it reads from alfa, and nothing of alfa's configuration.
    let (beta_doc, beta_md) = register(&app, &beta, "IT").await;
    assert_eq!(
        activity(&beta_doc, "sharing")["sources"],
        json!([{ "body": "Ente alfa", "consents": 1 }])
    );
    for theirs in ["127.0.0.1:9", "sms.example", "RIF", "realms/alfa", "Piano"] {
        assert!(!beta_md.contains(theirs), "{theirs} in beta's register");
        assert!(!beta_doc.to_string().contains(theirs), "{theirs} in beta's");
    }

    // Revoked, the consent leaves the register.
    let revoke = app
        .gql(
            &citizen,
            "mutation($id: ID!) { revokeSharingConsent(id: $id) { id } }",
            json!({ "id": grant["data"]["grantSharingConsent"]["id"] }),
        )
        .await;
    assert_no_errors(&revoke);
    let (doc, _) = register(&app, &alfa, "IT").await;
    assert_eq!(
        activity(&doc, "sharing")["recipients"]["bodiesUnderConsent"],
        json!([])
    );
}
