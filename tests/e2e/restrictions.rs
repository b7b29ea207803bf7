//! Restriction and objection (GDPR arts. 18, 21): the citizen stops one body's handling of
//! their records, or its notifications; the body's staff no longer see or use them
//! (FORBIDDEN, reason RESTRICTED), another body under a consent no longer reads them, the
//! citizen still sees everything; lifting restores it.

use civitas_tenants::Role;
use rstest::rstest;
use serde_json::{Value, json};

use crate::harness::*;

const MARIO: &str = "RSSMRA85T10A562S";
const RESTRICT: &str = "mutation($b: String!, $p: RestrictionPurpose!, $k: RestrictionKind) { \
  restrictProcessing(input: { body: $b, purpose: $p, kind: $k, reason: \"dati inesatti\" }) { id purpose kind liftedAt tenant { slug } } }";
const VIEW: &str = "query($fc: String) { citizenView(fiscalCode: $fc, purpose: \"citizen_contact\") { profiles { profile { tenant { slug } } } cases { case { number } } } }";
const INBOX: &str = "{ myNotifications { edges { node { id tenant { slug } } } } }";

/// Roma and beta both know Mario; Roma has a case of his; Mario lets beta read Roma's
/// records. Returns Roma's and beta's operators and the case id.
async fn two_bodies(app: &TestApp) -> (String, String, String) {
    let (mut ops, mut person) = (vec![], Value::Null);
    for slug in ["roma", "beta"] {
        app.onboard(slug).await;
        let admin = app.admin_of(slug);
        let svc = app.gql(&admin, "mutation { createService(input: { code: \"CERT\", name: \"Certificato\", area: \"Anagrafe\" }) { code } }", json!({})).await;
        assert_no_errors(&svc);
        let op = app
            .member(slug, &format!("{slug}-op"), Role::Operator)
            .await;
        person = app.register(&op, Some(MARIO), "Mario", "Rossi", &[]).await["personId"].clone();
        ops.push(op);
    }
    let c = app
        .gql(
            &ops[0],
            "mutation($p: ID) { createCase(input: { serviceCode: \"CERT\", title: \"Residenza\", personId: $p }) { id } }",
            json!({ "p": person }),
        )
        .await;
    assert_no_errors(&c);
    let mario = app.citizen(MARIO);
    let g = app
        .gql(&mario, "mutation { grantSharingConsent(input: { source: \"roma\", grantee: \"beta\", scopes: [PROFILE, CASES], purpose: \"pratica\" }) { id } }", json!({}))
        .await;
    assert_no_errors(&g);
    (
        ops[0].clone(),
        ops[1].clone(),
        c["data"]["createCase"]["id"]
            .as_str()
            .expect("id")
            .to_owned(),
    )
}

fn slugs(view: &Value) -> Vec<String> {
    let mut s: Vec<String> = view["data"]["citizenView"]["profiles"]
        .as_array()
        .expect("profiles")
        .iter()
        .map(|p| {
            p["profile"]["tenant"]["slug"]
                .as_str()
                .expect("slug")
                .to_owned()
        })
        .collect();
    s.sort();
    s
}

#[rstest]
#[tokio::test]
async fn a_restricted_body_neither_sees_nor_uses_nor_shares_the_citizens_records(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let (roma, beta, case) = two_bodies(&app).await;
    let mario = app.citizen(MARIO);
    let fc = json!({ "fc": MARIO });
    assert_eq!(
        slugs(&app.gql(&beta, VIEW, fc.clone()).await),
        ["beta", "roma"]
    );

    let r = app
        .gql(
            &mario,
            RESTRICT,
            json!({ "b": "roma", "p": "CASE_HANDLING" }),
        )
        .await;
    assert_no_errors(&r);
    let id = r["data"]["restrictProcessing"]["id"].clone();
    assert_eq!(r["data"]["restrictProcessing"]["kind"], "RESTRICTION");
    let twice = app
        .gql(
            &mario,
            RESTRICT,
            json!({ "b": "roma", "p": "CASE_HANDLING" }),
        )
        .await;
    assert_eq!(error_code(&twice), "CONFLICT");

    let refused = |v: &Value| {
        assert_eq!(error_code(v), "FORBIDDEN", "{v}");
        assert_eq!(v["errors"][0]["extensions"]["reason"], "RESTRICTED", "{v}");
    };
    refused(&app.gql(&roma, VIEW, fc.clone()).await);
    refused(
        &app.gql(
            &roma,
            "query($id: ID!) { case(id: $id) { id } }",
            json!({ "id": case }),
        )
        .await,
    );
    refused(
        &app.gql(
            &roma,
            "mutation($id: ID!) { changeCaseStatus(id: $id, status: IN_PROGRESS) { id } }",
            json!({ "id": case }),
        )
        .await,
    );
    let queue = app
        .gql(
            &roma,
            "{ cases(first: 10) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert!(nodes(&queue["data"]["cases"]).is_empty(), "{queue}");
    let search = app
        .gql(
            &roma,
            "{ citizens(fiscalCode: \"RSSMRA85T10A562S\") { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert!(nodes(&search["data"]["citizens"]).is_empty(), "{search}");
    // Beta reads under Mario's consent, but no longer Roma's records.
    let shared = app.gql(&beta, VIEW, fc.clone()).await;
    assert_no_errors(&shared);
    assert_eq!(slugs(&shared), ["beta"]);
    assert!(
        shared["data"]["citizenView"]["cases"]
            .as_array()
            .expect("cases")
            .is_empty()
    );
    // Mario still sees his own case, and his restriction.
    let own = app
        .gql(&mario, "{ me { citizen { cases { id } } } }", json!({}))
        .await;
    assert_no_errors(&own);
    assert_eq!(
        own["data"]["me"]["citizen"]["cases"]
            .as_array()
            .expect("cases")
            .len(),
        1
    );
    let mine = app
        .gql(
            &mario,
            "{ myRestrictions { edges { node { purpose liftedAt tenant { slug } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(nodes(&mine["data"]["myRestrictions"]).len(), 1);

    // Laura cannot lift it; Mario can, and everything is back.
    let laura = app.citizen("BNCLRA90D45F205B");
    let lift = "mutation($id: ID!) { liftRestriction(id: $id) { liftedAt } }";
    assert_eq!(
        error_code(&app.gql(&laura, lift, json!({ "id": id })).await),
        "NOT_FOUND"
    );
    // Lifted through a replica that just started: its access cache does not hold the body
    // yet, and reads it.
    let second = app.replica().await;
    let lifted: Value = app
        .client
        .post(format!("http://{}/graphql", second.addr))
        .bearer_auth(&mario)
        .json(&json!({ "query": lift, "variables": { "id": id } }))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_no_errors(&lifted);
    assert!(!lifted["data"]["liftRestriction"]["liftedAt"].is_null());
    assert_eq!(
        error_code(&app.gql(&mario, lift, json!({ "id": id })).await),
        "CONFLICT"
    );
    assert_no_errors(&app.gql(&roma, VIEW, fc.clone()).await);
    assert_eq!(slugs(&app.gql(&beta, VIEW, fc).await), ["beta", "roma"]);
}

#[rstest]
#[tokio::test]
async fn an_objection_to_notifications_silences_that_body_only(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let (roma, _, case) = two_bodies(&app).await;
    let mario = app.citizen(MARIO);
    let move_to = |status: &'static str| {
        let (app, roma, case) = (&app, &roma, &case);
        async move {
            let q = format!(
                "mutation($id: ID!) {{ changeCaseStatus(id: $id, status: {status}) {{ id }} }}"
            );
            assert_no_errors(&app.gql(roma, &q, json!({ "id": case })).await);
        }
    };
    let count = || async {
        nodes(&app.gql(&mario, INBOX, json!({})).await["data"]["myNotifications"]).len()
    };
    let before = count().await;
    let o = app
        .gql(
            &mario,
            RESTRICT,
            json!({ "b": "roma", "p": "NOTIFICATIONS", "k": "OBJECTION" }),
        )
        .await;
    assert_no_errors(&o);
    move_to("IN_PROGRESS").await;
    assert_eq!(count().await, before, "no notification while he objects");
    let id = o["data"]["restrictProcessing"]["id"].clone();
    assert_no_errors(
        &app.gql(
            &mario,
            "mutation($id: ID!) { liftRestriction(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await,
    );
    move_to("RESOLVED").await;
    assert_eq!(count().await, before + 1, "told again once lifted");
}

#[rstest]
#[tokio::test]
async fn restrictions_refuse_what_they_must(#[values(Sqlite, Postgres)] backend: Backend) {
    let app = TestApp::spawn(backend).await;
    two_bodies(&app).await;
    app.onboard("gamma").await;
    let mario = app.citizen(MARIO);
    let none = app
        .gql(
            &mario,
            RESTRICT,
            json!({ "b": "gamma", "p": "CASE_HANDLING" }),
        )
        .await;
    assert_eq!(error_code(&none), "NOT_FOUND", "gamma holds nothing of him");
    let unknown = app
        .gql(
            &mario,
            RESTRICT,
            json!({ "b": "nowhere", "p": "CASE_HANDLING" }),
        )
        .await;
    assert_eq!(error_code(&unknown), "VALIDATION");
    let long = "x".repeat(2_001);
    let too_long = app
        .gql(
            &mario,
            "mutation($r: String!) { restrictProcessing(input: { body: \"roma\", purpose: ENGAGEMENT, reason: $r }) { id } }",
            json!({ "r": long }),
        )
        .await;
    assert_eq!(error_code(&too_long), "VALIDATION");
    let staff = app
        .gql(
            &app.admin_of("roma"),
            RESTRICT,
            json!({ "b": "roma", "p": "CASE_HANDLING" }),
        )
        .await;
    assert_eq!(error_code(&staff), "FORBIDDEN", "a citizen's own act");
    let mine = app
        .gql(
            &mario,
            "{ myRestrictions { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert!(
        nodes(&mine["data"]["myRestrictions"]).is_empty(),
        "nothing written"
    );
}

#[rstest]
#[tokio::test]
async fn the_citizen_restricts_and_lifts_in_the_portal(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let (roma, _, _) = two_bodies(&app).await;
    let (mario, _) = crate::portal::signed_in(&app, MARIO, "/").await;
    let page = || async {
        let r = mario
            .get(app.url("/restrictions"))
            .send()
            .await
            .expect("page");
        assert_eq!(r.status(), 200);
        r.text().await.expect("html")
    };
    let html = page().await;
    assert!(
        html.contains("value=\"roma\""),
        "a body that knows him: {html}"
    );
    assert!(!html.contains("value=\"gamma\""));
    let csrf = crate::portal::form_token(&html);
    let asked = mario
        .post(app.url("/restrictions"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("body", "roma"),
            ("purpose", "case_handling"),
            ("kind", "restriction"),
            ("reason", "dati inesatti"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(asked.status(), 303);
    let html = page().await;
    assert!(html.contains("In vigore dal"), "{html}");
    let fc = json!({ "fc": MARIO });
    let refused = app.gql(&roma, VIEW, fc.clone()).await;
    assert_eq!(refused["errors"][0]["extensions"]["reason"], "RESTRICTED");

    let lift = html
        .split("action=\"/restrictions/")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("a lift form")
        .to_owned();
    let lifted = mario
        .post(app.url(&format!("/restrictions/{lift}")))
        .form(&[("csrf", crate::portal::form_token(&html))])
        .send()
        .await
        .expect("lift");
    assert_eq!(lifted.status(), 303);
    assert!(page().await.contains("Revocata il"));
    assert_no_errors(&app.gql(&roma, VIEW, fc).await);

    let bad = mario
        .post(app.url("/restrictions"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("body", "roma"),
            ("purpose", "nonsense"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(
        bad.status(),
        400,
        "an unknown purpose is the citizen's mistake"
    );
}

#[rstest]
#[tokio::test]
async fn legacy_systems_do_not_write_to_a_restricted_citizen(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    two_bodies(&app).await;
    let sys = app.member("roma", "roma-sys", Role::Integrator).await;
    let citizen = "mutation { upsertCitizenFromSource(source: \"anagrafe\", externalRef: \"A-1\", \
      input: { fiscalCode: \"RSSMRA85T10A562S\", givenName: \"Mario\", familyName: \"Bianchi\" }) { changed } }";
    let case = "mutation { upsertCaseFromSource(source: \"sap\", externalRef: \"4711\", \
      input: { serviceCode: \"CERT\", fiscalCode: \"RSSMRA85T10A562S\", title: \"Ritiro\", status: NEW }) { changed } }";
    let mario = app.citizen(MARIO);
    let r = app
        .gql(
            &mario,
            RESTRICT,
            json!({ "b": "roma", "p": "CASE_HANDLING" }),
        )
        .await;
    assert_no_errors(&r);
    for q in [citizen, case] {
        let refused = app.gql(&sys, q, json!({})).await;
        assert_eq!(error_code(&refused), "FORBIDDEN", "{refused}");
        assert_eq!(refused["errors"][0]["extensions"]["reason"], "RESTRICTED");
    }
    let id = r["data"]["restrictProcessing"]["id"].clone();
    let lift = "mutation($id: ID!) { liftRestriction(id: $id) { id } }";
    assert_no_errors(&app.gql(&mario, lift, json!({ "id": id })).await);
    for q in [citizen, case] {
        assert_no_errors(&app.gql(&sys, q, json!({})).await);
    }
}
