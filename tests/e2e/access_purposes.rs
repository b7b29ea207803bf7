//! Every access on record (issue 23): a body's staff declare why they open a citizen's
//! records (one of the body's purposes, or a case they handle); every read, of the body's
//! own records on a legal basis and of another body's under consent, and every caller
//! recognition, is in the citizen's access log with who, which body, when, why and what
//! allowed it. Each body keeps its own list of purposes.

use civitas_tenants::Role;
use rstest::rstest;
use serde_json::{Value, json};

use crate::harness::*;

const MARIO: &str = "RSSMRA85T10A562S";
const LUIGI: &str = "VRDLGU80A01H501Q";
const VIEW: &str = "query($fc: String, $why: String, $case: ID) { citizenView(fiscalCode: $fc, purpose: $why, caseId: $case) { personId profiles { profile { tenant { slug } } } } }";
const MINE: &str = "{ myAccessEntries(first: 50) { edges { node { reader action purpose basis consentId legalBasis caseId scopes readerTenant { slug } sourceTenant { slug } } } } }";

/// The citizen's access log, newest first.
async fn mine(app: &TestApp) -> Vec<Value> {
    let body = app.gql(&app.citizen(MARIO), MINE, json!({})).await;
    assert_no_errors(&body);
    body["data"]["myAccessEntries"]["edges"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| e["node"].clone())
        .collect()
}

/// Roma with a service, an operator, its administrator, and Mario registered.
async fn roma(app: &TestApp) -> (String, String, Value) {
    app.onboard("roma").await;
    let admin = app.admin_of("roma");
    let svc = app.gql(&admin, "mutation { createService(input: { code: \"CERT\", name: \"Certificato\", area: \"Anagrafe\" }) { code } }", json!({})).await;
    assert_no_errors(&svc);
    let op = app.member("roma", "roma-op", Role::Operator).await;
    let mario = app
        .register(&op, Some(MARIO), "Mario", "Rossi", &["+393331234567"])
        .await;
    (op, admin, mario["personId"].clone())
}

/// A new case of `person` at Roma: its id and number.
async fn new_case(app: &TestApp, op: &str, person: &Value) -> Value {
    let c = app
        .gql(
            op,
            "mutation($p: ID) { createCase(input: { serviceCode: \"CERT\", title: \"Residenza\", personId: $p }) { id number } }",
            json!({ "p": person }),
        )
        .await;
    assert_no_errors(&c);
    c["data"]["createCase"].clone()
}

#[rstest]
#[tokio::test]
async fn a_reader_declares_why_and_the_citizen_sees_it(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let (op, admin, person) = roma(&app).await;

    // No purpose, an unknown one, both purpose and case: refused, and nothing on record.
    for vars in [
        json!({ "fc": MARIO }),
        json!({ "fc": MARIO, "why": "curiosity" }),
        json!({ "fc": MARIO, "why": "citizen_contact", "case": "00000000-0000-7000-8000-000000000001" }),
    ] {
        let body = app.gql(&op, VIEW, vars.clone()).await;
        assert_eq!(error_code(&body), "VALIDATION", "{vars}: {body}");
        assert_eq!(body["data"], Value::Null);
    }
    assert!(mine(&app).await.is_empty(), "nothing read, nothing logged");

    // A purpose of the body's: the read is on record with its label and legal basis.
    let seen = app
        .gql(&op, VIEW, json!({ "fc": MARIO, "why": "verification" }))
        .await;
    assert_no_errors(&seen);
    let log = mine(&app).await;
    assert_eq!(log.len(), 1, "{log:?}");
    let e = &log[0];
    assert!(
        e["reader"]
            .as_str()
            .is_some_and(|r| r.ends_with("|roma-op")),
        "{e}"
    );
    assert_eq!(
        (
            &e["action"],
            &e["purpose"],
            &e["basis"],
            &e["consentId"],
            &e["caseId"]
        ),
        (
            &json!("CITIZEN_VIEW"),
            &json!("Controlli d'ufficio sulle dichiarazioni"),
            &json!("LEGAL_BASIS"),
            &Value::Null,
            &Value::Null
        )
    );
    assert!(
        e["legalBasis"]
            .as_str()
            .is_some_and(|b| b.contains("445/2000")),
        "{e}"
    );
    assert_eq!(e["scopes"], json!(["profile"]), "only the parts asked for");
    assert_eq!(
        (&e["readerTenant"]["slug"], &e["sourceTenant"]["slug"]),
        (&json!("roma"), &json!("roma"))
    );

    // A case gives its own purpose, naming it; another citizen's case does not.
    let case = &new_case(&app, &op, &person).await;
    let by_case = app
        .gql(&op, VIEW, json!({ "fc": MARIO, "case": case["id"] }))
        .await;
    assert_no_errors(&by_case);
    let newest = mine(&app).await.remove(0);
    assert_eq!(newest["caseId"], case["id"]);
    let number = case["number"].as_str().expect("number");
    assert_eq!(
        newest["purpose"],
        format!("Istruttoria di una pratica ({number})")
    );
    app.register(&op, Some(LUIGI), "Luigi", "Verdi", &[]).await;
    let wrong = app
        .gql(&op, VIEW, json!({ "fc": LUIGI, "case": case["id"] }))
        .await;
    assert_eq!(error_code(&wrong), "VALIDATION", "{wrong}");

    // The administrator adds a purpose and retires one: the list follows at once.
    let define = "mutation($c: String!, $l: String!, $b: String!) { defineAccessPurpose(input: { code: $c, label: $l, legalBasis: $b }) { code label retiredAt } }";
    let added = app
        .gql(
            &admin,
            define,
            json!({ "c": "tax_check", "l": "Verifica tributaria", "b": "Art. 6(1)(e) GDPR; L. 212/2000" }),
        )
        .await;
    assert_no_errors(&added);
    let bad = app
        .gql(
            &admin,
            define,
            json!({ "c": "Tax Check", "l": "x", "b": "y" }),
        )
        .await;
    assert_eq!(error_code(&bad), "VALIDATION");
    let no_basis = app
        .gql(
            &admin,
            define,
            json!({ "c": "gossip", "l": "Pettegolezzo", "b": "  " }),
        )
        .await;
    assert_eq!(
        error_code(&no_basis),
        "VALIDATION",
        "a purpose names its law"
    );
    let denied = app
        .gql(&op, define, json!({ "c": "mine", "l": "x", "b": "y" }))
        .await;
    assert_eq!(
        error_code(&denied),
        "FORBIDDEN",
        "operators only read the list"
    );
    assert_no_errors(
        &app.gql(&op, VIEW, json!({ "fc": MARIO, "why": "tax_check" }))
            .await,
    );
    let retired = app
        .gql(
            &admin,
            "mutation { retireAccessPurpose(code: \"verification\") { retiredAt } }",
            json!({}),
        )
        .await;
    assert!(retired["data"]["retireAccessPurpose"]["retiredAt"].is_string());
    let refused = app
        .gql(&op, VIEW, json!({ "fc": MARIO, "why": "verification" }))
        .await;
    assert_eq!(error_code(&refused), "VALIDATION");
    let list = app
        .gql(
            &op,
            "{ accessPurposes { edges { node { code } } } }",
            json!({}),
        )
        .await;
    let codes: Vec<&str> = list["data"]["accessPurposes"]["edges"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["node"]["code"].as_str())
        .collect();
    assert_eq!(codes, ["case_handling", "citizen_contact", "tax_check"]);
    let log = mine(&app).await;
    assert_eq!(log.len(), 3, "three reads went through: {log:?}");
    assert_eq!(log[0]["purpose"], "Verifica tributaria");
    // Older entries keep the label they were written with.
    assert_eq!(log[2]["purpose"], "Controlli d'ufficio sulle dichiarazioni");
}

#[rstest]
#[tokio::test]
async fn each_body_keeps_its_own_purposes(#[values(Sqlite, Postgres)] backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, roma_admin, _) = roma(&app).await;
    app.onboard("beta").await;
    let beta_admin = app.admin_of("beta");
    let beta_op = app.member("beta", "beta-op", Role::Operator).await;
    app.register(&beta_op, Some(MARIO), "Mario", "Rossi", &[])
        .await;
    let define = "mutation { defineAccessPurpose(input: { code: \"roma_only\", label: \"Solo Roma\", legalBasis: \"Art. 6(1)(e) GDPR\" }) { code } }";
    assert_no_errors(&app.gql(&roma_admin, define, json!({})).await);

    // Beta neither sees Roma's purpose nor may declare it.
    let list = app
        .gql(
            &beta_admin,
            "{ accessPurposes(includeRetired: true) { edges { node { code } } } }",
            json!({}),
        )
        .await;
    assert!(
        !list.to_string().contains("roma_only"),
        "another body's purposes stay out: {list}"
    );
    let used = app
        .gql(&beta_op, VIEW, json!({ "fc": MARIO, "why": "roma_only" }))
        .await;
    assert_eq!(error_code(&used), "VALIDATION");
    // Retiring its own default changes nothing at Roma.
    let gone = app
        .gql(
            &beta_admin,
            "mutation { retireAccessPurpose(code: \"citizen_contact\") { code } }",
            json!({}),
        )
        .await;
    assert_no_errors(&gone);
    let unknown = app
        .gql(
            &beta_admin,
            "mutation { retireAccessPurpose(code: \"roma_only\") { code } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&unknown), "NOT_FOUND");
    let roma_list = app
        .gql(
            &roma_admin,
            "{ accessPurposes { edges { node { code retiredAt } } } }",
            json!({}),
        )
        .await;
    assert!(
        roma_list
            .to_string()
            .contains("{\"node\":{\"code\":\"citizen_contact\",\"retiredAt\":null}}"),
        "{roma_list}"
    );
    // Beta's reads are in beta's log, not Roma's.
    let read = app
        .gql(
            &beta_op,
            VIEW,
            json!({ "fc": MARIO, "why": "case_handling" }),
        )
        .await;
    assert_no_errors(&read);
    let q = "{ accessEntries { edges { node { readerTenant { slug } } } } }";
    let roma_log = app.gql(&roma_admin, q, json!({})).await;
    assert_eq!(roma_log["data"]["accessEntries"]["edges"], json!([]));
    let beta_log = app.gql(&beta_admin, q, json!({})).await;
    assert_eq!(
        beta_log["data"]["accessEntries"]["edges"],
        json!([{ "node": { "readerTenant": { "slug": "beta" } } }])
    );
}

#[rstest]
#[tokio::test]
async fn a_caller_recognition_is_on_record_under_its_consent(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let (op, _, _) = roma(&app).await;
    let who = "query($p: String!) { identifyCaller(phone: $p) { greetingName } }";
    let before = app.gql(&op, who, json!({ "p": "3331234567" })).await;
    assert_eq!(before["data"]["identifyCaller"], Value::Null);
    assert!(mine(&app).await.is_empty(), "not recognised: nothing read");
    let pc = app.gql(&op, "mutation { recordPrivacyConsent(input: { fiscalCode: \"RSSMRA85T10A562S\", purpose: \"caller_recognition\", textVersion: \"v1\", channel: \"phone\" }) { id } }", json!({})).await;
    assert_no_errors(&pc);
    let after = app.gql(&op, who, json!({ "p": "3331234567" })).await;
    assert_eq!(
        after["data"]["identifyCaller"]["greetingName"],
        "Mario Rossi"
    );
    let log = mine(&app).await;
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(
        (
            &log[0]["action"],
            &log[0]["basis"],
            &log[0]["consentId"],
            &log[0]["scopes"]
        ),
        (
            &json!("CALLER_RECOGNITION"),
            &json!("CONSENT"),
            &pc["data"]["recordPrivacyConsent"]["id"],
            &json!(["profile", "cases"])
        )
    );
}

#[rstest]
#[tokio::test]
async fn opening_a_case_is_on_record_for_its_own_purpose(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let (op, _, person) = roma(&app).await;
    let case = &new_case(&app, &op, &person).await;
    assert!(mine(&app).await.is_empty(), "creating is not reading");
    let read = app
        .gql(
            &op,
            "query($id: ID!) { case(id: $id) { number history { kind } } }",
            json!({ "id": case["id"] }),
        )
        .await;
    assert_no_errors(&read);
    let log = mine(&app).await;
    assert_eq!(log.len(), 1, "{log:?}");
    let number = case["number"].as_str().expect("number");
    assert_eq!(
        (
            &log[0]["action"],
            &log[0]["caseId"],
            &log[0]["basis"],
            &log[0]["scopes"]
        ),
        (
            &json!("CASE_READ"),
            &case["id"],
            &json!("LEGAL_BASIS"),
            &json!(["cases"])
        )
    );
    assert_eq!(
        log[0]["purpose"],
        format!("Istruttoria di una pratica ({number})")
    );
}
