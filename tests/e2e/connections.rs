//! Every list is a Relay connection: pages of `first` items resumed `after` a cursor, with
//! `pageInfo`, that together give every item once, newest first; another body's items never
//! appear; and the deprecated list fields they replace still answer the same.

use std::collections::BTreeSet;

use civitas_tenants::Role;
use rstest::rstest;
use serde_json::{Value, json};

use crate::harness::*;

const MARIO: &str = "RSSMRA85T10A562S";

/// Every node of `field(args…)`, walked two at a time. Checks on the way that no page is
/// larger than asked, that `hasNextPage` is true exactly until the last page, and that
/// `hasPreviousPage` says whether a cursor was given.
async fn walk(
    app: &TestApp,
    token: &str,
    field: &str,
    args: &str,
    node: &str,
    vars: Value,
) -> Vec<Value> {
    let decl = match field {
        "citizens" => "$first: Int!, $after: String, $name: String",
        "interactionHistory" => "$first: Int!, $after: String, $p: ID!",
        _ => "$first: Int!, $after: String",
    };
    let query = format!(
        "query({decl}) {{ {field}({args} first: $first, after: $after) {{ edges {{ cursor node {{ {node} }} }} pageInfo {{ hasNextPage hasPreviousPage endCursor }} }} }}"
    );
    let mut nodes = Vec::new();
    let mut after: Option<String> = None;
    for _ in 0..50 {
        let mut v = vars.clone();
        v["first"] = json!(2);
        v["after"] = json!(after);
        let body = app.gql(token, &query, v).await;
        assert_no_errors(&body);
        let conn = &body["data"][field];
        let edges = conn["edges"].as_array().expect("edges");
        assert!(edges.len() <= 2, "{field}: a page of {} items", edges.len());
        assert_eq!(conn["pageInfo"]["hasPreviousPage"], json!(after.is_some()));
        nodes.extend(edges.iter().map(|e| e["node"].clone()));
        if conn["pageInfo"]["hasNextPage"] != json!(true) {
            return nodes;
        }
        assert_eq!(edges.len(), 2, "{field}: a full page before the last");
        let end = conn["pageInfo"]["endCursor"].as_str().expect("endCursor");
        assert_eq!(edges[1]["cursor"].as_str(), Some(end));
        after = Some(end.to_owned());
    }
    panic!("{field}: more than 50 pages");
}

fn ids(nodes: &[Value]) -> Vec<String> {
    nodes
        .iter()
        .map(|n| n["id"].as_str().expect("id").to_owned())
        .collect()
}

/// Each id once, and as many as expected.
fn distinct(field: &str, nodes: &[Value], at_least: usize) -> BTreeSet<String> {
    let list = ids(nodes);
    let set: BTreeSet<String> = list.iter().cloned().collect();
    assert_eq!(set.len(), list.len(), "{field}: an item on two pages");
    assert!(
        list.len() >= at_least,
        "{field}: {} items, expected {at_least}",
        list.len()
    );
    set
}

#[rstest]
#[tokio::test]
async fn every_list_pages_as_a_relay_connection_within_its_body(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    for slug in ["alfa", "beta"] {
        app.onboard(slug).await;
    }
    let admin = app.admin_of("alfa");
    let op = app.member("alfa", "alfa-op", Role::Operator).await;
    let sup = app.member("alfa", "alfa-sup", Role::Supervisor).await;
    let beta_op = app.member("beta", "beta-op", Role::Operator).await;
    for i in 0..3 {
        app.member("alfa", &format!("alfa-extra-{i}"), Role::Operator)
            .await;
    }
    let mario = app.register(&op, Some(MARIO), "Mario", "Rossi", &[]).await;
    app.register(&beta_op, Some(MARIO), "Mario", "Rossi", &[])
        .await;
    for given in ["Anna", "Bruno", "Carla", "Dario"] {
        app.register(&op, None, given, "Rossi", &[]).await;
    }
    for n in 0..5 {
        let body = app.gql(&op, "mutation($p: ID!, $s: String!) { recordInteraction(input: { personId: $p, channel: \"phone\", direction: \"inbound\", summary: $s }) { id } }", json!({ "p": mario["personId"], "s": format!("call {n}") })).await;
        assert_no_errors(&body);
    }
    let hook = app.gql(&admin, "mutation { createWebhook(url: \"http://127.0.0.1:9/hook\", eventTypes: [\"*\"]) { secret } }", json!({})).await;
    assert_no_errors(&hook);
    let svc = app.gql(&sup, "mutation { createService(input: { code: \"CERT\", name: \"Certificato\", area: \"Anagrafe\" }) { code } }", json!({})).await;
    assert_no_errors(&svc);
    for n in 0..3 {
        let body = app.gql(&op, "mutation($t: String!) { createCase(input: { serviceCode: \"CERT\", title: $t }) { id } }", json!({ "t": format!("case {n}") })).await;
        assert_no_errors(&body);
    }
    // Mario lets beta read alfa's profile; beta's operator then reads it three times.
    let consent = app.gql(&app.citizen(MARIO), "mutation { grantSharingConsent(input: { source: \"alfa\", grantee: \"beta\", scopes: [PROFILE], purpose: \"pratica\" }) { id } }", json!({})).await;
    assert_no_errors(&consent);
    for _ in 0..3 {
        let view = app
            .gql(
                &beta_op,
                "{ citizenView(fiscalCode: \"RSSMRA85T10A562S\", purpose: \"citizen_contact\") { personId } }",
                json!({}),
            )
            .await;
        assert_no_errors(&view);
    }

    let people = walk(
        &app,
        &op,
        "citizens",
        "name: $name,",
        "id givenName",
        json!({ "name": "rossi" }),
    )
    .await;
    distinct("citizens", &people, 5);
    assert_eq!(people.len(), 5);
    let history = walk(
        &app,
        &op,
        "interactionHistory",
        "personId: $p,",
        "id summary",
        json!({ "p": mario["personId"] }),
    )
    .await;
    distinct("interactionHistory", &history, 5);
    let summaries: Vec<&str> = history
        .iter()
        .filter_map(|n| n["summary"].as_str())
        .collect();
    assert_eq!(
        summaries,
        ["call 4", "call 3", "call 2", "call 1", "call 0"],
        "newest first"
    );
    let members = walk(&app, &admin, "memberships", "", "id subject", json!({})).await;
    let member_ids = distinct("memberships", &members, 6);
    let audit = walk(&app, &admin, "auditEvents", "", "id action", json!({})).await;
    let audit_ids = distinct("auditEvents", &audit, 6);
    let deliveries = walk(
        &app,
        &admin,
        "webhookDeliveryLog",
        "",
        "id status",
        json!({}),
    )
    .await;
    let delivery_ids = distinct("webhookDeliveryLog", &deliveries, 3);
    let reads = walk(
        &app,
        &app.admin_of("beta"),
        "accessEntries",
        "",
        "id reader",
        json!({}),
    )
    .await;
    let read_ids = distinct("accessEntries", &reads, 3);
    let mine = walk(
        &app,
        &app.citizen(MARIO),
        "myAccessEntries",
        "",
        "id reader",
        json!({}),
    )
    .await;
    assert_eq!(
        distinct("myAccessEntries", &mine, 3),
        read_ids,
        "the citizen sees every read"
    );
    // Filtered by the reading body and by period.
    let filtered = |args: &str| {
        let q = format!("{{ myAccessEntries({args}) {{ edges {{ node {{ id }} }} }} }}");
        let token = app.citizen(MARIO);
        let app = &app;
        async move { app.gql(&token, &q, json!({})).await }
    };
    // Each of beta's views is two reads: beta's own records and, under the consent, alfa's.
    let by_beta = filtered("body: \"beta\"").await;
    assert_eq!(nodes(&by_beta["data"]["myAccessEntries"]).len(), 6);
    let by_alfa = filtered("body: \"alfa\"").await;
    assert!(nodes(&by_alfa["data"]["myAccessEntries"]).is_empty());
    let later = filtered("from: \"2999-01-01T00:00:00Z\"").await;
    assert!(nodes(&later["data"]["myAccessEntries"]).is_empty());
    let until_now = filtered("from: \"2000-01-01T00:00:00Z\", to: \"2999-01-01T00:00:00Z\"").await;
    assert_eq!(nodes(&until_now["data"]["myAccessEntries"]).len(), 6);
    let backwards = filtered("from: \"2999-01-01T00:00:00Z\", to: \"2000-01-01T00:00:00Z\"").await;
    assert_eq!(error_code(&backwards), "VALIDATION");
    let nowhere = filtered("body: \"nowhere\"").await;
    assert_eq!(error_code(&nowhere), "VALIDATION");
    let cases = walk(&app, &op, "cases", "", "id", json!({})).await;
    distinct("cases", &cases, 3);

    // The deprecated lists answer what their connections do.
    let old = app
        .gql(
            &admin,
            "{ members { id } auditLog(limit: 500) { id } webhookDeliveries(limit: 500) { id } }",
            json!({}),
        )
        .await;
    assert_no_errors(&old);
    let set =
        |v: &Value| -> BTreeSet<String> { ids(v.as_array().expect("list")).into_iter().collect() };
    assert_eq!(set(&old["data"]["members"]), member_ids);
    assert!(set(&old["data"]["auditLog"]).is_superset(&audit_ids));
    assert_eq!(set(&old["data"]["webhookDeliveries"]), delivery_ids);
    let old_reads = app
        .gql(
            &app.admin_of("beta"),
            "{ accessLog(limit: 500) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(set(&old_reads["data"]["accessLog"]), read_ids);
    let old_mine = app
        .gql(&app.citizen(MARIO), "{ myAccessLog { id } }", json!({}))
        .await;
    assert_eq!(set(&old_mine["data"]["myAccessLog"]), read_ids);

    // Another body sees none of it.
    let beta_admin = app.admin_of("beta");
    let beta_members = walk(
        &app,
        &beta_admin,
        "memberships",
        "",
        "id subject",
        json!({}),
    )
    .await;
    assert!(member_ids.is_disjoint(&ids(&beta_members).into_iter().collect()));
    let beta_audit = walk(&app, &beta_admin, "auditEvents", "", "id action", json!({})).await;
    assert!(audit_ids.is_disjoint(&ids(&beta_audit).into_iter().collect()));
    let beta_deliveries = walk(
        &app,
        &beta_admin,
        "webhookDeliveryLog",
        "",
        "id status",
        json!({}),
    )
    .await;
    assert!(beta_deliveries.is_empty());
    let beta_people = walk(
        &app,
        &beta_op,
        "citizens",
        "name: $name,",
        "id givenName",
        json!({ "name": "rossi" }),
    )
    .await;
    assert_eq!(beta_people.len(), 1, "beta knows Mario only");
    let alfa_reads = walk(&app, &admin, "accessEntries", "", "id reader", json!({})).await;
    assert!(alfa_reads.is_empty(), "alfa read nothing of another body");
    let beta_cases = walk(&app, &beta_op, "cases", "", "id", json!({})).await;
    assert!(beta_cases.is_empty());

    // A page size out of range, or a cursor that is not one, is a VALIDATION error.
    for (first, after) in [(0, None), (101, None), (2, Some("nope"))] {
        let body = app.gql(&admin, "query($f: Int!, $a: String) { auditEvents(first: $f, after: $a) { edges { cursor } } }", json!({ "f": first, "a": after })).await;
        assert_eq!(
            error_code(&body),
            "VALIDATION",
            "first {first}, after {after:?}"
        );
    }
}
