//! Registering, finding, updating and merging citizens within a body.

use civitas_tenants::Role;
use rstest::rstest;
use serde_json::{Value, json};

use crate::harness::*;

const MARIO: &str = "RSSMRA85T10A562S";
const LAURA: &str = "BNCLRA90D45F205B";
const SEARCH: &str = "query($fc: String, $n: String, $p: String, $e: String, $first: Int! = 20, $after: String) {
  searchCitizens(fiscalCode: $fc, name: $n, phone: $p, email: $e, first: $first, after: $after) { items { id givenName familyName phones emails fiscalCode } nextCursor } }";

async fn search(app: &TestApp, token: &str, vars: Value) -> Value {
    let body = app.gql(token, SEARCH, vars).await;
    assert_no_errors(&body);
    body["data"]["searchCitizens"].clone()
}

fn names(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            format!(
                "{} {}",
                p["givenName"].as_str().unwrap_or(""),
                p["familyName"].as_str().unwrap_or("")
            )
        })
        .collect()
}

#[rstest]
#[tokio::test]
async fn register_search_and_update(#[values(Sqlite, Postgres)] backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.onboard("roma").await;
    let op = app.member("roma", "roma-op", Role::Operator).await;
    let mario = app
        .register(
            &op,
            Some("rssmra85t10a562s"),
            "Mario",
            "Rossi",
            &["333 123 4567"],
        )
        .await;
    assert_eq!(mario["fiscalCode"], MARIO, "stored normalised");
    assert_eq!(mario["phones"], json!(["+393331234567"]));
    assert_eq!(mario["tenant"]["slug"], "roma");
    app.register(&op, Some(LAURA), "Laura", "D'Àngelo Bianchi", &[])
        .await;
    app.register(&op, None, "Niccolò", "Núñez", &["+39 06 1234 5678"])
        .await;

    assert_eq!(
        names(&search(&app, &op, json!({ "fc": MARIO })).await),
        ["Mario Rossi"]
    );
    assert_eq!(
        names(&search(&app, &op, json!({ "n": "ANGELO bian" })).await),
        ["Laura D'Àngelo Bianchi"]
    );
    assert_eq!(
        names(&search(&app, &op, json!({ "n": "niccolo nunez" })).await),
        ["Niccolò Núñez"]
    );
    assert_eq!(
        names(&search(&app, &op, json!({ "p": "0039 333-1234567" })).await),
        ["Mario Rossi"]
    );
    assert_eq!(
        names(&search(&app, &op, json!({ "p": "06 12345678" })).await),
        ["Niccolò Núñez"]
    );
    assert_eq!(
        names(&search(&app, &op, json!({ "n": "rossi", "p": "06 12345678" })).await),
        Vec::<String>::new()
    );

    // Pages of one, following the cursor to the end.
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = search(&app, &op, json!({ "n": "i", "first": 1, "after": after })).await;
        seen.extend(names(&page));
        match page["nextCursor"].as_str() {
            Some(c) => after = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 3);

    let upd = app
        .gql(&op, "mutation($id: ID!) { updateProfile(id: $id, input: { emails: [\" Mario.Rossi@Example.IT \"], language: \"it\", preferredChannel: \"whatsapp\" }) { emails phones language preferredChannel givenName } }", json!({ "id": mario["id"] }))
        .await;
    assert_eq!(
        upd["data"]["updateProfile"],
        json!({ "emails": ["mario.rossi@example.it"], "phones": ["+393331234567"], "language": "it", "preferredChannel": "whatsapp", "givenName": "Mario" })
    );
    assert_eq!(
        names(&search(&app, &op, json!({ "e": "MARIO.ROSSI@example.it" })).await),
        ["Mario Rossi"]
    );
}

#[rstest]
#[case::check_character("RSSMRA85T10A562T", "check character")]
#[case::month("RSSMRA85F10A562S", "month")]
#[case::length("RSSMRA85T10", "16 characters")]
#[tokio::test]
async fn an_invalid_fiscal_code_says_what_is_wrong_and_writes_nothing(
    #[values(Sqlite, Postgres)] backend: Backend,
    #[case] code: &str,
    #[case] says: &str,
) {
    let app = TestApp::spawn(backend).await;
    app.onboard("roma").await;
    let op = app.member("roma", "roma-op", Role::Operator).await;
    let body = app
        .gql(&op, "mutation($fc: String) { registerCitizen(input: { fiscalCode: $fc, givenName: \"A\", familyName: \"B\" }) { id } }", json!({ "fc": code }))
        .await;
    assert_eq!(error_code(&body), "VALIDATION");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains(says),
        "{body}"
    );
    assert_eq!(
        names(&search(&app, &op, json!({ "n": "b" })).await),
        Vec::<String>::new()
    );
}

#[rstest]
#[tokio::test]
async fn bad_contacts_and_duplicates_are_refused(#[values(Sqlite, Postgres)] backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.onboard("roma").await;
    let op = app.member("roma", "roma-op", Role::Operator).await;
    app.register(&op, Some(MARIO), "Mario", "Rossi", &[]).await;
    let again = app.gql(&op, "mutation { registerCitizen(input: { fiscalCode: \"RSSMRA85T10A562S\", givenName: \"M\", familyName: \"R\" }) { id } }", json!({})).await;
    assert_eq!(error_code(&again), "CONFLICT");
    for input in [
        json!({ "givenName": "A", "familyName": "B", "phones": ["call me"] }),
        json!({ "givenName": "A", "familyName": "B", "emails": ["not-an-email"] }),
        json!({ "givenName": " ", "familyName": "B" }),
        json!({ "givenName": "A", "familyName": "B", "language": "italiano" }),
        json!({ "givenName": "A", "familyName": "B", "preferredChannel": "pigeon" }),
    ] {
        let body = app
            .gql(
                &op,
                "mutation($i: RegisterCitizenInput!) { registerCitizen(input: $i) { id } }",
                json!({ "i": input }),
            )
            .await;
        assert_eq!(error_code(&body), "VALIDATION", "{input}");
    }
    assert_eq!(
        names(&search(&app, &op, json!({ "n": "a" })).await),
        ["Mario Rossi"],
        "nothing half-written"
    );
}

#[rstest]
#[tokio::test]
async fn an_unidentified_caller_is_merged_into_the_identified_person(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    app.onboard("roma").await;
    let op = app.member("roma", "roma-op", Role::Operator).await;
    let sup = app.member("roma", "roma-sup", Role::Supervisor).await;
    let caller = app
        .register(&op, None, "Mario", "Rossi", &["333 123 4567"])
        .await;
    let known = app
        .register(&op, Some(MARIO), "Mario", "Rossi", &["06 1234 5678"])
        .await;
    let laura = app
        .register(&op, Some(LAURA), "Laura", "Bianchi", &[])
        .await;
    let merge =
        "mutation($s: ID!, $t: ID!) { mergePersons(sourcePersonId: $s, targetPersonId: $t) }";

    let by_operator = app
        .gql(
            &op,
            merge,
            json!({ "s": caller["personId"], "t": known["personId"] }),
        )
        .await;
    assert_eq!(
        error_code(&by_operator),
        "FORBIDDEN",
        "merging is for supervisors"
    );
    let across = app
        .gql(
            &sup,
            merge,
            json!({ "s": laura["personId"], "t": known["personId"] }),
        )
        .await;
    assert_eq!(
        error_code(&across),
        "CONFLICT",
        "two different codici fiscali"
    );

    let ok = app
        .gql(
            &sup,
            merge,
            json!({ "s": caller["personId"], "t": known["personId"] }),
        )
        .await;
    assert_eq!(ok["data"]["mergePersons"], known["personId"]);
    let found = search(&app, &op, json!({ "fc": MARIO })).await;
    assert_eq!(found["items"].as_array().map(Vec::len), Some(1));
    let mut phones: Vec<_> = found["items"][0]["phones"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    phones.sort_by_key(|p| p.to_string());
    assert_eq!(
        phones,
        [json!("+390612345678"), json!("+393331234567")],
        "every record kept"
    );
    let by_phone = search(&app, &op, json!({ "p": "3331234567" })).await;
    assert_eq!(by_phone["items"][0]["fiscalCode"], MARIO);
    let again = app
        .gql(
            &sup,
            merge,
            json!({ "s": caller["personId"], "t": known["personId"] }),
        )
        .await;
    assert_eq!(error_code(&again), "VALIDATION");
    let log = app
        .gql(&app.admin_of("roma"), "{ auditLog { action } }", json!({}))
        .await;
    assert_eq!(log["data"]["auditLog"][0]["action"], "citizen.merged");
}

#[rstest]
#[tokio::test]
async fn another_body_cannot_find_or_touch_a_citizen(#[values(Sqlite, Postgres)] backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.onboard("alfa").await;
    app.onboard("beta").await;
    let a = app.member("alfa", "alfa-op", Role::Operator).await;
    let b = app.member("beta", "beta-op", Role::Operator).await;
    let mario = app
        .register(&a, Some(MARIO), "Mario", "Rossi", &["333 123 4567"])
        .await;

    assert_eq!(
        names(&search(&app, &b, json!({ "fc": MARIO })).await),
        Vec::<String>::new()
    );
    assert_eq!(
        names(&search(&app, &b, json!({ "p": "3331234567" })).await),
        Vec::<String>::new()
    );
    let view = app
        .gql(
            &b,
            "{ citizenView(fiscalCode: \"RSSMRA85T10A562S\", purpose: \"citizen_contact\") { personId } }",
            json!({}),
        )
        .await;
    let none = app
        .gql(
            &b,
            "{ citizenView(fiscalCode: \"VRDGPP80A01H501U\", purpose: \"citizen_contact\") { personId } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&view), "NOT_FOUND");
    assert_eq!(
        view["errors"][0]["message"], none["errors"][0]["message"],
        "existence is not revealed"
    );
    let upd = app
        .gql(
            &b,
            "mutation($id: ID!) { updateProfile(id: $id, input: { notes: \"x\" }) { id } }",
            json!({ "id": mario["id"] }),
        )
        .await;
    assert_eq!(error_code(&upd), "NOT_FOUND");
    // Beta registering the same person makes its own profile and leaves alfa's alone.
    app.register(&b, Some(MARIO), "M.", "Rossi", &[]).await;
    let alfa_view = search(&app, &a, json!({ "fc": MARIO })).await;
    assert_eq!(alfa_view["items"][0]["givenName"], "Mario");
}
