//! A citizen sees, grants and revokes their own delegations, in every body: who may act for
//! them, where, for what, until when.

use civitas_tenants::Role;
use rstest::rstest;
use serde_json::{Value, json};

use crate::harness::*;

const MARIO: &str = "RSSMRA85T10A562S";
const LAURA: &str = "BNCLRA90D45F205B";
const MINE: &str = "{ myDelegations { edges { node { id tutorSubject tutorIssuer scopes active revokedAt createdBy tenant { slug } } } pageInfo { hasNextPage } } }";
const GRANT: &str = "mutation($t: String!, $tutor: String!, $s: [String!]!) { grantMyDelegation(tenant: $t, tutor: $tutor, tutorIssuer: \"civitas-dev\", scopes: $s) { id active tenant { slug } } }";
const REVOKE: &str = "mutation($id: ID!) { revokeMyDelegation(id: $id) { id active revokedAt } }";
const OPEN_FOR: &str = "mutation($p: ID!) { createCase(input: { serviceCode: \"CERT\", title: \"Per conto\", onBehalfOf: $p }) { id personId } }";

async fn mine(app: &TestApp, citizen: &str) -> Vec<Value> {
    let body = app.gql(citizen, MINE, json!({})).await;
    assert_no_errors(&body);
    nodes(&body["data"]["myDelegations"])
}

#[rstest]
#[tokio::test]
async fn a_citizen_sees_grants_and_revokes_their_delegations(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    for slug in ["alfa", "beta"] {
        app.onboard(slug).await;
    }
    let op = app.member("alfa", "alfa-op", Role::Operator).await;
    let sup = app.member("alfa", "alfa-sup", Role::Supervisor).await;
    let tutor = app.member("alfa", "alfa-tutor", Role::Tutor).await;
    let beta_op = app.member("beta", "beta-op", Role::Operator).await;
    app.member("beta", "beta-tutor", Role::Tutor).await;
    let svc = app.gql(&sup, "mutation { createService(input: { code: \"CERT\", name: \"Certificato\", area: \"Anagrafe\" }) { code } }", json!({})).await;
    assert_no_errors(&svc);
    let mario = app.register(&op, Some(MARIO), "Mario", "Rossi", &[]).await;
    app.register(&op, Some(LAURA), "Laura", "Bianchi", &[])
        .await;
    let (mario_token, laura_token) = (app.citizen(MARIO), app.citizen(LAURA));
    assert!(mine(&app, &mario_token).await.is_empty());

    // A delegation the body recorded at the counter is listed too.
    let counter = app.gql(&sup, "mutation($p: ID!) { grantDelegation(personId: $p, tutor: \"alfa-tutor\", scopes: [\"interactions\"]) { id } }", json!({ "p": mario["personId"] })).await;
    assert_no_errors(&counter);
    let listed = mine(&app, &mario_token).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["createdBy"], "alfa-sup");
    assert_eq!(listed[0]["tenant"]["slug"], "alfa");

    // The tutor cannot open a case for Mario yet: the counter's delegation covers contacts.
    let before = app
        .gql(&tutor, OPEN_FOR, json!({ "p": mario["personId"] }))
        .await;
    assert_eq!(error_code(&before), "FORBIDDEN");
    let granted = app
        .gql(
            &mario_token,
            GRANT,
            json!({ "t": "alfa", "tutor": "alfa-tutor", "s": ["cases"] }),
        )
        .await;
    assert_no_errors(&granted);
    let id = granted["data"]["grantMyDelegation"]["id"].clone();
    assert_eq!(granted["data"]["grantMyDelegation"]["active"], true);
    let acted = app
        .gql(&tutor, OPEN_FOR, json!({ "p": mario["personId"] }))
        .await;
    assert_no_errors(&acted);
    assert_eq!(acted["data"]["createCase"]["personId"], mario["personId"]);
    assert_eq!(mine(&app, &mario_token).await.len(), 2);
    // Mario's own history of the case says who acted for him.
    let own = app
        .gql(
            &mario_token,
            "{ me { citizen { cases { id history { actor onBehalfOf kind } } } } }",
            json!({}),
        )
        .await;
    assert_no_errors(&own);
    let cases = own["data"]["me"]["citizen"]["cases"]
        .as_array()
        .expect("cases")
        .clone();
    assert_eq!(cases.len(), 1);
    assert_eq!(cases[0]["id"], acted["data"]["createCase"]["id"]);
    assert_eq!(
        cases[0]["history"],
        json!([{ "actor": "alfa-tutor", "onBehalfOf": mario["personId"], "kind": "created" }])
    );
    let laura_cases = app
        .gql(
            &laura_token,
            "{ me { citizen { cases { id history { actor } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(laura_cases["data"]["me"]["citizen"]["cases"], json!([]));
    // The body's audit log says the citizen granted it.
    let audit = app
        .gql(
            &app.admin_of("alfa"),
            "{ auditEvents { edges { node { actor action } } } }",
            json!({}),
        )
        .await;
    assert!(
        audit["data"]["auditEvents"]["edges"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|e| e["node"]["action"] == "delegation.granted"),
        "{audit}"
    );

    // Nobody else sees or revokes it.
    assert!(mine(&app, &laura_token).await.is_empty());
    let theirs = app.gql(&laura_token, REVOKE, json!({ "id": id })).await;
    assert_eq!(error_code(&theirs), "NOT_FOUND");
    let staff = app.gql(&beta_op, MINE, json!({})).await;
    assert_eq!(
        error_code(&staff),
        "FORBIDDEN",
        "only a citizen has delegations of their own"
    );

    // Revoked: effective on the tutor's next request.
    let revoked = app.gql(&mario_token, REVOKE, json!({ "id": id })).await;
    assert_no_errors(&revoked);
    assert_eq!(revoked["data"]["revokeMyDelegation"]["active"], false);
    let after = app
        .gql(&tutor, OPEN_FOR, json!({ "p": mario["personId"] }))
        .await;
    assert_eq!(error_code(&after), "FORBIDDEN");
    let again = app.gql(&mario_token, REVOKE, json!({ "id": id })).await;
    assert_eq!(error_code(&again), "NOT_FOUND", "already revoked");
    let states: Vec<bool> = mine(&app, &mario_token)
        .await
        .iter()
        .map(|d| d["active"].as_bool().expect("active"))
        .collect();
    assert_eq!(
        states,
        [false, true],
        "newest first: the revoked one, then the counter's"
    );

    // Bad input writes nothing.
    let cases = [
        (
            json!({ "t": "beta", "tutor": "beta-tutor", "s": ["cases"] }),
            "NOT_FOUND",
            "beta does not know Mario",
        ),
        (
            json!({ "t": "alfa", "tutor": "alfa-op", "s": ["cases"] }),
            "VALIDATION",
            "not a tutor",
        ),
        (
            json!({ "t": "alfa", "tutor": "alfa-tutor", "s": ["everything"] }),
            "VALIDATION",
            "unknown scope",
        ),
        (
            json!({ "t": "nessuno", "tutor": "alfa-tutor", "s": ["cases"] }),
            "VALIDATION",
            "no such body",
        ),
    ];
    for (vars, code, why) in cases {
        let body = app.gql(&mario_token, GRANT, vars).await;
        assert_eq!(error_code(&body), code, "{why}: {body}");
    }
    assert_eq!(mine(&app, &mario_token).await.len(), 2, "nothing written");
}
