//! A citizen corrects how one body reaches them; the other bodies' records stay.

use civitas_tenants::Role;
use rstest::rstest;
use serde_json::json;

use crate::harness::*;

const MARIO: &str = "RSSMRA85T10A562S";
const CORRECT: &str = "mutation($t: String!, $i: MyContactsInput!) { correctMyContacts(tenant: $t, input: $i) { givenName emails phones preferredChannel language tenant { slug } } }";
const SEEN: &str = "{ citizenView(fiscalCode: \"RSSMRA85T10A562S\", purpose: \"citizen_contact\") { profiles { shared profile { givenName emails phones preferredChannel language } } } }";

#[rstest]
#[tokio::test]
async fn a_citizen_corrects_how_one_body_reaches_them(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let mut ops = Vec::new();
    for slug in ["alfa", "beta", "gamma"] {
        app.onboard(slug).await;
        ops.push(
            app.member(slug, &format!("{slug}-op"), Role::Operator)
                .await,
        );
    }
    for op in &ops[..2] {
        app.register(op, Some(MARIO), "Mario", "Rossi", &["333 123 4567"])
            .await;
    }
    let mario = app.citizen(MARIO);
    let own = |i: usize| {
        let app = &app;
        let op = ops[i].clone();
        async move {
            let body = app.gql(&op, SEEN, json!({})).await;
            assert_no_errors(&body);
            body["data"]["citizenView"]["profiles"][0]["profile"].clone()
        }
    };
    let beta_before = own(1).await;

    let fixed = app.gql(&mario, CORRECT, json!({ "t": "alfa", "i": { "emails": ["mario@example.it"], "phones": ["+39 347 000 1111"], "preferredChannel": "email", "language": "en" } })).await;
    assert_no_errors(&fixed);
    assert_eq!(
        fixed["data"]["correctMyContacts"],
        json!({ "givenName": "Mario", "emails": ["mario@example.it"], "phones": ["+393470001111"],
                "preferredChannel": "email", "language": "en", "tenant": { "slug": "alfa" } })
    );
    let alfa = own(0).await;
    assert_eq!(alfa["emails"], json!(["mario@example.it"]));
    assert_eq!(alfa["preferredChannel"], "email");
    assert_eq!(own(1).await, beta_before, "beta's record is untouched");

    // Left out stays; bad input changes nothing; a body that does not know him says so.
    let partial = app
        .gql(
            &mario,
            CORRECT,
            json!({ "t": "alfa", "i": { "language": "it" } }),
        )
        .await;
    assert_no_errors(&partial);
    assert_eq!(
        partial["data"]["correctMyContacts"]["emails"],
        json!(["mario@example.it"])
    );
    let bad = app
        .gql(
            &mario,
            CORRECT,
            json!({ "t": "alfa", "i": { "emails": ["not an address"], "language": "fr" } }),
        )
        .await;
    assert_eq!(error_code(&bad), "VALIDATION");
    assert_eq!(own(0).await["language"], "it", "nothing written");
    let unknown = app
        .gql(
            &mario,
            CORRECT,
            json!({ "t": "gamma", "i": { "language": "en" } }),
        )
        .await;
    assert_eq!(error_code(&unknown), "NOT_FOUND");
    let staff = app
        .gql(
            &ops[0],
            CORRECT,
            json!({ "t": "alfa", "i": { "language": "en" } }),
        )
        .await;
    assert_eq!(error_code(&staff), "FORBIDDEN", "staff use updateProfile");
}
