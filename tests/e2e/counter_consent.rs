//! A sharing consent collected at one body's counter opens another body's records only
//! once the citizen confirms it, unless the source body accepts the collecting body's
//! counter consents. The citizen sees what waits for them; the bodies see who collected what.

use civitas_tenants::Role;
use rstest::rstest;
use serde_json::{Value, json};

use crate::harness::*;

const MARIO: &str = "RSSMRA85T10A562S";
const GRANT: &str = "mutation($i: GrantSharingConsentInput!) { grantSharingConsent(input: $i) { id status active collectedBy collectedIn { slug } } }";
const VIEW: &str = "query($fc: String!) { citizenView(fiscalCode: $fc, purpose: \"citizen_contact\") { profiles { profile { tenant { slug } } } } }";
const REQUESTS: &str = "query($all: Boolean! = false) { consentRequests(all: $all) { edges { node { id status collectedBy source { slug } } } pageInfo { hasNextPage } } }";
const MINE: &str = "query($all: Boolean! = false) { myConsentRequests(all: $all) { edges { node { id status purpose collectedBy collectedIn { slug } } } } }";

async fn visible(app: &TestApp, op: &str) -> Vec<String> {
    let body = app.gql(op, VIEW, json!({ "fc": MARIO })).await;
    assert_no_errors(&body);
    let mut v: Vec<String> = body["data"]["citizenView"]["profiles"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["profile"]["tenant"]["slug"].as_str().map(str::to_owned))
        .collect();
    v.sort();
    v
}

fn nodes(body: &Value, field: &str) -> Vec<Value> {
    body["data"][field]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

#[rstest]
#[tokio::test]
async fn an_operators_word_alone_does_not_open_another_bodys_records(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let mut ops = Vec::new();
    for slug in ["alfa", "beta", "gamma"] {
        app.onboard(slug).await;
        let op = app
            .member(slug, &format!("{slug}-op"), Role::Operator)
            .await;
        app.register(&op, Some(MARIO), "Mario", "Rossi", &[]).await;
        ops.push(op);
    }
    let (beta, gamma) = (&ops[1], &ops[2]);
    let grant = |input: Value| {
        let app = &app;
        async move {
            let body = app.gql(beta, GRANT, json!({ "i": input })).await;
            assert_no_errors(&body);
            body["data"]["grantSharingConsent"].clone()
        }
    };

    // alfa's records, and every body's: they wait for Mario.
    let from_alfa = grant(json!({ "fiscalCode": MARIO, "source": "alfa", "grantee": "beta", "scopes": ["PROFILE"], "purpose": "pratica edilizia", "channel": "counter" })).await;
    assert_eq!(
        (from_alfa["status"].as_str(), from_alfa["active"].as_bool()),
        (Some("PENDING_CONFIRMATION"), Some(false))
    );
    let from_all = grant(json!({ "fiscalCode": MARIO, "grantee": "beta", "scopes": ["PROFILE", "CASES"], "purpose": "tutto", "channel": "counter" })).await;
    assert_eq!(from_all["status"], "PENDING_CONFIRMATION");
    assert_eq!(visible(&app, beta).await, ["beta"]);
    // beta's own records, for alfa: beta's operator may open those at once.
    let own = grant(json!({ "fiscalCode": MARIO, "source": "beta", "grantee": "alfa", "scopes": ["PROFILE"], "purpose": "p", "channel": "counter" })).await;
    assert_eq!(own["status"], "ACTIVE");

    // Who collected what: beta's supervisor, and alfa as the source, see the requests;
    // gamma, no party to them, sees none.
    let sup = app.member("beta", "beta-sup", Role::Supervisor).await;
    let seen = nodes(&app.gql(&sup, REQUESTS, json!({})).await, "consentRequests");
    assert_eq!(seen.len(), 2);
    assert!(seen.iter().all(|n| n["collectedBy"] == "beta-op"));
    let alfa_sees = nodes(
        &app.gql(&ops[0], REQUESTS, json!({})).await,
        "consentRequests",
    );
    assert_eq!(alfa_sees.len(), 1, "alfa is the source of one of them");
    assert!(
        nodes(
            &app.gql(gamma, REQUESTS, json!({})).await,
            "consentRequests"
        )
        .is_empty()
    );

    // Mario sees both, confirms one and declines the other.
    let mario = app.citizen(MARIO);
    let mine = nodes(&app.gql(&mario, MINE, json!({})).await, "myConsentRequests");
    assert_eq!(mine.len(), 2, "{mine:?}");
    assert!(mine.iter().all(|n| n["collectedIn"]["slug"] == "beta"));
    let someone_else = app.citizen("VRDGPP80A01H501U");
    let (_, theft) = app
        .post(
            Some(&someone_else),
            None,
            "mutation($id: ID!) { confirmSharingConsent(id: $id) { status } }",
            json!({ "id": from_alfa["id"] }),
        )
        .await;
    assert_eq!(error_code(&theft), "NOT_FOUND");
    let confirmed = app
        .gql(&mario, "mutation($id: ID!) { confirmSharingConsent(id: $id) { status active collectedBy collectorKind } }", json!({ "id": from_alfa["id"] }))
        .await;
    assert_eq!(
        confirmed["data"]["confirmSharingConsent"],
        json!({ "status": "ACTIVE", "active": true, "collectedBy": "beta-op", "collectorKind": "operator" })
    );
    assert_eq!(visible(&app, beta).await, ["alfa", "beta"]);
    let declined = app
        .gql(
            &mario,
            "mutation($id: ID!) { declineSharingConsent(id: $id) { status active } }",
            json!({ "id": from_all["id"] }),
        )
        .await;
    assert_eq!(
        declined["data"]["declineSharingConsent"],
        json!({ "status": "DECLINED", "active": false })
    );
    let again = app
        .gql(
            &mario,
            "mutation($id: ID!) { confirmSharingConsent(id: $id) { status } }",
            json!({ "id": from_all["id"] }),
        )
        .await;
    assert_eq!(error_code(&again), "CONFLICT");
    assert_eq!(
        visible(&app, beta).await,
        ["alfa", "beta"],
        "gamma stays closed"
    );
    assert!(nodes(&app.gql(&mario, MINE, json!({})).await, "myConsentRequests").is_empty());
    let history = nodes(
        &app.gql(&mario, MINE, json!({ "all": true })).await,
        "myConsentRequests",
    );
    assert_eq!(history.len(), 2);

    // gamma accepts beta's counter consents: now one takes effect at once.
    let accepted = app
        .gql(&app.admin_of("gamma"), "mutation { updateTenantSettings(settings: { acceptCounterConsentsFrom: [\"beta\"] }) { id } }", json!({}))
        .await;
    assert_no_errors(&accepted);
    let from_gamma = grant(json!({ "fiscalCode": MARIO, "source": "gamma", "grantee": "beta", "scopes": ["PROFILE"], "purpose": "p", "channel": "counter" })).await;
    assert_eq!(from_gamma["status"], "ACTIVE");
    assert_eq!(visible(&app, beta).await, ["alfa", "beta", "gamma"]);

    if backend == Postgres {
        // The database's own wall: raw SQL as the application role.
        let conn = crate::isolation::app_role(&app).await;
        let sql = "SELECT collected_in_tenant_id::text AS t FROM consent_requests";
        let (b, g) = (
            crate::isolation::tenant_id(&app, "beta").await,
            crate::isolation::tenant_id(&app, "gamma").await,
        );
        assert_eq!(
            crate::isolation::as_app_role(&conn, &b, "", sql)
                .await
                .len(),
            2
        );
        assert!(
            crate::isolation::as_app_role(&conn, &g, "", sql)
                .await
                .is_empty()
        );
        assert!(
            crate::isolation::as_app_role(&conn, "", "", sql)
                .await
                .is_empty()
        );
    }
}
