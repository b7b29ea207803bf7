//! The public catalogue: every active body's services, for anyone, filtered and searched
//! by words (Italian stems on both backends), and a public read that sees nothing else.

use rstest::rstest;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::harness::*;

const CATALOGUE: &str = "query($body: String, $area: String, $channel: String, $search: String, $first: Int = 20, $after: String) { \
  catalogue(body: $body, area: $area, channel: $channel, search: $search, first: $first, after: $after) { \
    edges { cursor node { body { slug name } service { code name area channels slaHours customFields { key } } } } \
    pageInfo { hasNextPage endCursor } } }";

async fn service(app: &TestApp, slug: &str, input: Value) {
    let body = app
        .gql(
            &app.admin_of(slug),
            "mutation($i: CreateServiceInput!) { createService(input: $i) { code } }",
            json!({ "i": input }),
        )
        .await;
    assert_no_errors(&body);
}

/// Onboards alfa, beta and gamma with a few services each; gamma is then suspended.
async fn city(backend: Backend) -> TestApp {
    let app = TestApp::spawn(backend).await;
    for slug in ["alfa", "beta", "gamma"] {
        app.onboard(slug).await;
    }
    service(
        &app,
        "alfa",
        json!({ "code": "ANAG-CERT", "name": "Certificato di residenza", "area": "Anagrafe",
        "description": "Attesta la residenza anagrafica.", "channels": ["web", "counter"],
        "customFields": [{ "key": "copie", "label": "Copie", "type": "NUMBER" }] }),
    )
    .await;
    service(
        &app,
        "alfa",
        json!({ "code": "MOB-PASS", "name": "Permesso di sosta", "area": "Mobilità",
        "description": "Per chi abita nella ZTL.", "channels": ["counter"] }),
    )
    .await;
    service(&app, "beta", json!({ "code": "RIF-ING", "name": "Ritiro rifiuti ingombranti", "area": "Ambiente",
        "description": "Mobili e elettrodomestici, a domicilio.", "channels": ["web", "app", "phone"], "slaHours": 240 })).await;
    service(
        &app,
        "gamma",
        json!({ "code": "ANAG-CIE", "name": "Carta d'identità elettronica", "area": "Anagrafe" }),
    )
    .await;
    let s = app
        .gql(
            &app.platform_admin(),
            "mutation { setTenantStatus(slug: \"gamma\", status: SUSPENDED) { status } }",
            json!({}),
        )
        .await;
    assert_no_errors(&s);
    app
}

async fn ask(app: &TestApp, token: Option<&str>, vars: Value) -> Value {
    app.post(token, None, CATALOGUE, vars).await.1
}

fn codes(body: &Value) -> Vec<String> {
    assert_no_errors(body);
    nodes(&body["data"]["catalogue"])
        .iter()
        .map(|n| n["service"]["code"].as_str().expect("code").to_owned())
        .collect()
}

#[rstest]
#[tokio::test]
async fn anyone_reads_every_active_bodys_services(#[values(Sqlite, Postgres)] backend: Backend) {
    let app = city(backend).await;
    let all = ask(&app, None, json!({})).await;
    assert_eq!(
        codes(&all),
        ["ANAG-CERT", "MOB-PASS", "RIF-ING"],
        "by body, area, name; the suspended body's are not public"
    );
    let first = &nodes(&all["data"]["catalogue"])[0];
    assert_eq!(first["body"]["slug"], "alfa");
    assert_eq!(first["service"]["channels"], json!(["web", "counter"]));
    assert_eq!(first["service"]["customFields"][0]["key"], "copie");

    let citizen = app.citizen("RSSMRA85T10A562S");
    let by = |vars: Value| {
        let app = &app;
        let citizen = citizen.clone();
        async move { codes(&ask(app, Some(&citizen), vars).await) }
    };
    assert_eq!(by(json!({ "body": "beta" })).await, ["RIF-ING"]);
    assert_eq!(by(json!({ "area": "anagrafe" })).await, ["ANAG-CERT"]);
    assert_eq!(
        by(json!({ "channel": "web" })).await,
        ["ANAG-CERT", "RIF-ING"],
        "what a citizen can ask for online"
    );
    assert_eq!(
        by(json!({ "search": "certificati residenza" })).await,
        ["ANAG-CERT"],
        "other forms of the words"
    );
    assert_eq!(by(json!({ "search": "ingombrante" })).await, ["RIF-ING"]);
    assert_eq!(
        by(json!({ "search": "elettrodomestico" })).await,
        ["RIF-ING"]
    );
    assert_eq!(by(json!({ "search": "soste" })).await, ["MOB-PASS"]);
    assert!(by(json!({ "search": "carta identità" })).await.is_empty());
    assert!(
        by(json!({ "search": "residenza", "body": "beta" }))
            .await
            .is_empty()
    );
    assert!(by(json!({ "search": "\" OR * NEAR(" })).await.is_empty());
}

#[rstest]
#[tokio::test]
async fn the_catalogue_pages_without_gaps_or_repeats(#[values(Sqlite, Postgres)] backend: Backend) {
    let app = city(backend).await;
    let mut seen = vec![];
    let mut after: Option<String> = None;
    loop {
        let body = ask(&app, None, json!({ "first": 1, "after": after })).await;
        seen.extend(codes(&body));
        let info = &body["data"]["catalogue"]["pageInfo"];
        if info["hasNextPage"] != true {
            break;
        }
        after = info["endCursor"].as_str().map(str::to_owned);
    }
    assert_eq!(seen, ["ANAG-CERT", "MOB-PASS", "RIF-ING"]);
}

#[rstest]
#[case::suspended_body(json!({ "body": "gamma" }), "body")]
#[case::unknown_body(json!({ "body": "nessuno" }), "body")]
#[case::unknown_channel(json!({ "channel": "fax" }), "channel")]
#[case::page_too_big(json!({ "first": 101 }), "first")]
#[case::bad_cursor(json!({ "after": "x" }), "after")]
#[case::long_search(json!({ "search": "parola ".repeat(40) }), "search")]
#[tokio::test]
async fn bad_filters_are_named(
    #[case] vars: Value,
    #[case] field: &str,
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let app = city(backend).await;
    let body = ask(&app, None, vars).await;
    assert_eq!(error_code(&body), "VALIDATION", "{body}");
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains(field), "{message}");
}

/// On PostgreSQL the public read is its own binding: it sees services of every body, their
/// published sheets (not their drafts) and not one row of any other table, even with
/// cases, profiles and notifications about.
#[rstest]
#[tokio::test]
async fn a_public_read_sees_services_and_nothing_else(#[values(Postgres)] backend: Backend) {
    let app = city(backend).await;
    let citizen = app.citizen("RSSMRA85T10A562S");
    let filed = app
        .post(
            Some(&citizen),
            Some("beta"),
            "mutation { fileRequest(input: { serviceCode: \"RIF-ING\", title: \"Un divano\", privacyNotice: \"v1\", givenName: \"Mario\", familyName: \"Rossi\" }) { id } }",
            json!({}),
        )
        .await
        .1;
    assert_no_errors(&filed);
    let alfa = app.admin_of("alfa");
    for code in ["ANAG-CERT", "MOB-PASS"] {
        let draft = app
            .gql(
                &alfa,
                "mutation($c: String!) { saveServiceSheetDraft(code: $c, language: IT, sections: { what: \"Testo\" }) { state } }",
                json!({ "c": code }),
            )
            .await;
        assert_no_errors(&draft);
    }
    let published = app
        .gql(
            &alfa,
            "mutation { publishServiceSheet(code: \"ANAG-CERT\", language: IT) { state } }",
            json!({}),
        )
        .await;
    assert_no_errors(&published);
    let scope = app.app.db.public_scope().await.expect("public scope");
    let count = |table: &str| {
        let sql = format!("SELECT count(*)::bigint AS n FROM {table}");
        let conn = scope.conn();
        async move {
            conn.query_one_raw(Statement::from_string(conn.get_database_backend(), sql))
                .await
                .expect("count")
                .expect("row")
                .try_get::<i64>("", "n")
                .expect("n")
        }
    };
    assert_eq!(count("services").await, 4, "every body's, suspended too");
    assert_eq!(
        count("service_sheets").await,
        1,
        "the published sheet, no draft"
    );
    for table in civitas_migrations::TENANT_OWNED_TABLES
        .iter()
        .filter(|t| !["services", "service_sheets"].contains(t))
    {
        assert_eq!(count(table).await, 0, "{table} is not public");
    }
}
