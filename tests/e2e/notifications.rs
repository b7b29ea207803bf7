//! A citizen's inbox across bodies: every status change of their cases, written in the
//! transaction of the change, read in their language, marked read by them only.

use civitas_tenants::Role;
use rstest::rstest;
use serde_json::{Value, json};

use crate::harness::*;

const MARIO: &str = "RSSMRA85T10A562S";
const LAURA: &str = "BNCLRA90D45F205B";
const INBOX: &str = "query($u: Boolean!, $l: String) { myNotifications(unreadOnly: $u, language: $l) { edges { node { id kind caseNumber title readAt tenant { slug } } } } }";

async fn inbox(app: &TestApp, token: &str, unread: bool, lang: Option<&str>) -> Vec<Value> {
    let body = app
        .gql(token, INBOX, json!({ "u": unread, "l": lang }))
        .await;
    assert_no_errors(&body);
    nodes(&body["data"]["myNotifications"])
}

#[rstest]
#[tokio::test]
async fn a_citizen_is_told_every_status_change_of_their_cases(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    for slug in ["alfa", "beta"] {
        app.onboard(slug).await;
    }
    let op = app.member("alfa", "alfa-op", Role::Operator).await;
    let sup = app.member("alfa", "alfa-sup", Role::Supervisor).await;
    let beta_op = app.member("beta", "beta-op", Role::Operator).await;
    let beta_sup = app.member("beta", "beta-sup", Role::Supervisor).await;
    for s in [&sup, &beta_sup] {
        let svc = app.gql(s, "mutation { createService(input: { code: \"CERT\", name: \"Certificato\", area: \"Anagrafe\" }) { code } }", json!({})).await;
        assert_no_errors(&svc);
    }
    let mario = app.register(&op, Some(MARIO), "Mario", "Rossi", &[]).await;
    let mario_beta = app
        .register(&beta_op, Some(MARIO), "Mario", "Rossi", &[])
        .await;
    app.register(&op, Some(LAURA), "Laura", "Bianchi", &[])
        .await;
    let (mario_token, laura_token) = (app.citizen(MARIO), app.citizen(LAURA));

    let open = "mutation($p: ID) { createCase(input: { serviceCode: \"CERT\", title: \"Certificato\", personId: $p }) { id number } }";
    let case = app.gql(&op, open, json!({ "p": mario["personId"] })).await;
    assert_no_errors(&case);
    let case = &case["data"]["createCase"];
    let moved = app
        .gql(
            &op,
            "mutation($id: ID!) { changeCaseStatus(id: $id, status: IN_PROGRESS) { status } }",
            json!({ "id": case["id"] }),
        )
        .await;
    assert_no_errors(&moved);
    let escalated = app
        .gql(
            &sup,
            "mutation($id: ID!) { escalateCase(id: $id, reason: \"late\") { escalationLevel } }",
            json!({ "id": case["id"] }),
        )
        .await;
    assert_no_errors(&escalated);
    let other_body = app
        .gql(&beta_op, open, json!({ "p": mario_beta["personId"] }))
        .await;
    assert_no_errors(&other_body);
    let nobody = app.gql(&op, open, json!({ "p": null })).await;
    assert_no_errors(&nobody);
    // A move that fails writes no notification either.
    let illegal = app
        .gql(
            &op,
            "mutation($id: ID!) { changeCaseStatus(id: $id, status: CLOSED) { status } }",
            json!({ "id": case["id"] }),
        )
        .await;
    assert_eq!(error_code(&illegal), "VALIDATION");

    let all = inbox(&app, &mario_token, false, None).await;
    let seen: Vec<(&str, &str)> = all
        .iter()
        .map(|n| {
            (
                n["tenant"]["slug"].as_str().unwrap_or(""),
                n["kind"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("beta", "case.created"),
            ("alfa", "case.escalated"),
            ("alfa", "case.status_changed"),
            ("alfa", "case.created")
        ],
        "newest first, every body"
    );
    let number = case["number"].as_str().expect("number");
    assert_eq!(
        all[2]["title"],
        format!("Richiesta {number}: in lavorazione")
    );
    assert_eq!(
        all[1]["title"],
        format!("Richiesta {number}: segnalata ai responsabili dell'ufficio")
    );
    let english = inbox(&app, &mario_token, false, Some("en")).await;
    assert_eq!(
        english[2]["title"],
        format!("Request {number}: in progress")
    );
    assert!(
        inbox(&app, &laura_token, false, None).await.is_empty(),
        "Laura is told nothing"
    );

    // Mario marks two read; Laura cannot mark Mario's.
    let ids: Vec<Value> = all[..2].iter().map(|n| n["id"].clone()).collect();
    let theirs = app
        .gql(
            &laura_token,
            "mutation($ids: [ID!]!) { markNotificationsRead(ids: $ids) }",
            json!({ "ids": ids }),
        )
        .await;
    assert_eq!(theirs["data"]["markNotificationsRead"], 0);
    assert_eq!(inbox(&app, &mario_token, true, None).await.len(), 4);
    let marked = app
        .gql(
            &mario_token,
            "mutation($ids: [ID!]!) { markNotificationsRead(ids: $ids) }",
            json!({ "ids": ids }),
        )
        .await;
    assert_eq!(marked["data"]["markNotificationsRead"], 2);
    let again = app
        .gql(
            &mario_token,
            "mutation($ids: [ID!]!) { markNotificationsRead(ids: $ids) }",
            json!({ "ids": ids }),
        )
        .await;
    assert_eq!(again["data"]["markNotificationsRead"], 0, "already read");
    let unread = inbox(&app, &mario_token, true, None).await;
    assert_eq!(unread.len(), 2);
    assert_eq!(unread[0]["kind"], "case.status_changed");
    assert_eq!(unread[1]["tenant"]["slug"], "alfa");

    // Mario archives the oldest; Laura cannot archive Mario's.
    let oldest = json!([all[3]["id"]]);
    let archive =
        "mutation($ids: [ID!]!, $a: Boolean!) { archiveNotifications(ids: $ids, archived: $a) }";
    let theirs = app
        .gql(&laura_token, archive, json!({ "ids": oldest, "a": true }))
        .await;
    assert_eq!(theirs["data"]["archiveNotifications"], 0);
    let done = app
        .gql(&mario_token, archive, json!({ "ids": oldest, "a": true }))
        .await;
    assert_eq!(done["data"]["archiveNotifications"], 1, "{done}");
    assert_eq!(inbox(&app, &mario_token, false, None).await.len(), 3);
    let shelf = app
        .gql(
            &mario_token,
            "{ myNotifications(archived: true) { edges { node { id kind archivedAt } } } }",
            json!({}),
        )
        .await;
    let shelf = nodes(&shelf["data"]["myNotifications"]);
    assert_eq!(shelf.len(), 1);
    assert_eq!(
        (&shelf[0]["id"], &shelf[0]["kind"]),
        (&all[3]["id"], &json!("case.created"))
    );
    assert!(shelf[0]["archivedAt"].is_string());
    let back = app
        .gql(&mario_token, archive, json!({ "ids": oldest, "a": false }))
        .await;
    assert_eq!(back["data"]["archiveNotifications"], 1);
    assert_eq!(inbox(&app, &mario_token, false, None).await.len(), 4);

    // A body that keeps escalations to itself.
    let quiet = app
        .gql(
            &app.admin_of("beta"),
            "mutation { updateTenantSettings(settings: { notifications: { escalations: false } }) { settings } }",
            json!({}),
        )
        .await;
    assert_no_errors(&quiet);
    let escalated = app
        .gql(
            &beta_sup,
            "mutation($id: ID!) { escalateCase(id: $id, reason: \"late\") { escalationLevel } }",
            json!({ "id": other_body["data"]["createCase"]["id"] }),
        )
        .await;
    assert_no_errors(&escalated);
    assert_eq!(inbox(&app, &mario_token, false, None).await.len(), 4);

    // Staff have no inbox of their own.
    assert_eq!(
        error_code(&app.gql(&op, INBOX, json!({ "u": false })).await),
        "FORBIDDEN"
    );
}
