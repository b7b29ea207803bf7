//! A legacy system pushes its citizens by its own reference, as it pushes cases: the same
//! push twice changes nothing; a changed push updates the same record; another body's
//! references and records are its own.

use civitas_tenants::Role;
use rstest::rstest;
use serde_json::{Value, json};

use crate::harness::*;

const MARIO: &str = "RSSMRA85T10A562S";
const PUSH: &str = "mutation($r: String!, $i: SourceCitizenInput!) { upsertCitizenFromSource(source: \"anagrafe\", externalRef: $r, input: $i) { changed citizen { id personId fiscalCode givenName familyName phones language } } }";

async fn push(app: &TestApp, token: &str, reference: &str, input: Value) -> Value {
    app.gql(token, PUSH, json!({ "r": reference, "i": input }))
        .await
}

#[rstest]
#[tokio::test]
async fn legacy_citizen_pushes_are_idempotent(#[values(Sqlite, Postgres)] backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for slug in ["alfa", "beta"] {
        app.onboard(slug).await;
    }
    let sys = app.member("alfa", "alfa-sys", Role::Integrator).await;
    let beta_sys = app.member("beta", "beta-sys", Role::Integrator).await;
    let op = app.member("alfa", "alfa-op", Role::Operator).await;
    let mario = json!({ "fiscalCode": MARIO, "givenName": "Mario", "familyName": "Rossi", "phones": ["333 123 4567"] });

    let first = push(&app, &sys, "A-1", mario.clone()).await;
    assert_no_errors(&first);
    let created = &first["data"]["upsertCitizenFromSource"];
    assert_eq!(created["changed"], true);
    let again = push(&app, &sys, "A-1", mario.clone()).await;
    assert_no_errors(&again);
    assert_eq!(again["data"]["upsertCitizenFromSource"]["changed"], false);
    assert_eq!(
        again["data"]["upsertCitizenFromSource"]["citizen"],
        created["citizen"]
    );

    // A changed push updates the same record; the phone in another format is no change.
    let mut moved = mario.clone();
    moved["phones"] = json!(["+39 333 1234567"]);
    moved["language"] = json!("en");
    let updated = push(&app, &sys, "A-1", moved).await;
    assert_no_errors(&updated);
    assert_eq!(updated["data"]["upsertCitizenFromSource"]["changed"], true);
    assert_eq!(
        updated["data"]["upsertCitizenFromSource"]["citizen"]["id"],
        created["citizen"]["id"]
    );
    assert_eq!(
        updated["data"]["upsertCitizenFromSource"]["citizen"]["language"],
        "en"
    );

    // A second reference for the citizen the body knows by fiscal code: the same record.
    let other_ref = push(&app, &sys, "A-2", mario.clone()).await;
    assert_no_errors(&other_ref);
    assert_eq!(
        other_ref["data"]["upsertCitizenFromSource"]["citizen"]["id"],
        created["citizen"]["id"]
    );
    let people = app
        .gql(
            &op,
            "{ citizens(fiscalCode: \"RSSMRA85T10A562S\") { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        people["data"]["citizens"]["edges"].as_array().map(Vec::len),
        Some(1)
    );

    // Another body's reference "A-1" is its own: its own record of the same person.
    let beta = push(&app, &beta_sys, "A-1", mario.clone()).await;
    assert_no_errors(&beta);
    let beta_citizen = &beta["data"]["upsertCitizenFromSource"]["citizen"];
    assert_eq!(beta["data"]["upsertCitizenFromSource"]["changed"], true);
    assert_ne!(beta_citizen["id"], created["citizen"]["id"]);
    assert_eq!(beta_citizen["personId"], created["citizen"]["personId"]);
    assert_eq!(
        beta_citizen["language"],
        json!(null),
        "alfa's update is not beta's"
    );

    // Bad input writes nothing.
    let mut bad = mario.clone();
    bad["phones"] = json!(["not a phone"]);
    assert_eq!(
        error_code(&push(&app, &sys, "A-3", bad).await),
        "VALIDATION"
    );
    let mut no_name = mario.clone();
    no_name["givenName"] = json!(" ");
    assert_eq!(
        error_code(&push(&app, &sys, "A-4", no_name).await),
        "VALIDATION"
    );
    let empty_ref = app.gql(&sys, "mutation { upsertCitizenFromSource(source: \"anagrafe\", externalRef: \" \", input: { givenName: \"A\", familyName: \"B\" }) { changed } }", json!({})).await;
    assert_eq!(error_code(&empty_ref), "VALIDATION");
    let unchanged = push(
        &app,
        &sys,
        "A-1",
        json!({ "fiscalCode": MARIO, "givenName": "Mario", "familyName": "Rossi" }),
    )
    .await;
    assert_eq!(
        unchanged["data"]["upsertCitizenFromSource"]["changed"], false,
        "lists left out stay"
    );
}
