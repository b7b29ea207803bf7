//! Onboarding, the tenant registry, suspension, and the caller's tenant.

use civitas_tenants::Role;
use rstest::rstest;
use serde_json::json;

use crate::harness::*;

const TENANTS: &str = "{ tenants { slug status } }";

#[rstest]
#[tokio::test]
async fn onboarding_creates_tenant_policies_and_first_admin(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let body = app.onboard("municipio-iii").await;
    assert_eq!(
        body["data"]["onboardTenant"]["tenant"]["slug"],
        "municipio-iii"
    );
    assert_eq!(body["data"]["onboardTenant"]["tenant"]["status"], "ACTIVE");
    assert_eq!(
        body["data"]["onboardTenant"]["admin"]["roles"],
        json!(["TENANT_ADMIN"])
    );

    // The first administrator's token asserts no roles: the grant made at onboarding counts.
    let me = app
        .gql(
            &app.admin_of("municipio-iii"),
            "{ me { subject roles tenant { slug } } policies { role } }",
            json!({}),
        )
        .await;
    assert_no_errors(&me);
    assert_eq!(me["data"]["me"]["roles"], json!(["TENANT_ADMIN"]));
    assert_eq!(me["data"]["me"]["tenant"]["slug"], "municipio-iii");
    assert!(
        me["data"]["policies"]
            .as_array()
            .is_some_and(|p| !p.is_empty())
    );

    let log = app
        .gql(
            &app.admin_of("municipio-iii"),
            "{ auditLog { action actor } }",
            json!({}),
        )
        .await;
    assert_eq!(log["data"]["auditLog"][0]["action"], "tenant.onboarded");
    assert_eq!(log["data"]["auditLog"][0]["actor"], "platform-admin");
}

#[rstest]
#[tokio::test]
async fn onboarding_the_same_slug_twice_conflicts_and_changes_nothing(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    app.onboard("comune-fiumicino").await;
    let again = app
        .gql(
            &app.platform_admin(),
            ONBOARD,
            json!({ "input": {
                "slug": "comune-fiumicino", "displayName": "Altro", "kind": "COMUNE_METROPOLITANO",
                "admin": { "subject": "intruder" }
            }}),
        )
        .await;
    assert_eq!(error_code(&again), "CONFLICT");

    let list = app.gql(&app.platform_admin(), TENANTS, json!({})).await;
    assert_eq!(list["data"]["tenants"].as_array().map(Vec::len), Some(1));
    let members = app
        .gql(
            &app.admin_of("comune-fiumicino"),
            "{ members { subject } }",
            json!({}),
        )
        .await;
    assert_eq!(
        members["data"]["members"],
        json!([{ "subject": "comune-fiumicino-admin" }])
    );
    let t = app
        .gql(
            &app.platform_admin(),
            "{ tenant(slug: \"comune-fiumicino\") { displayName kind } }",
            json!({}),
        )
        .await;
    assert_eq!(
        t["data"]["tenant"],
        json!({ "displayName": "Ente comune-fiumicino", "kind": "MUNICIPIO" })
    );
}

#[rstest]
#[case::bad_slug("Roma Capitale", None, "VALIDATION")]
#[case::reserved_slug("platform", None, "VALIDATION")]
#[case::unknown_parent("municipio-xv", Some("nowhere"), "VALIDATION")]
#[tokio::test]
async fn invalid_onboarding_writes_nothing(
    #[values(Sqlite, Postgres)] backend: Backend,
    #[case] slug: &str,
    #[case] parent: Option<&str>,
    #[case] code: &str,
) {
    let app = TestApp::spawn(backend).await;
    let body = app
        .gql(
            &app.platform_admin(),
            ONBOARD,
            json!({ "input": {
                "slug": slug, "displayName": "X", "kind": "MUNICIPIO", "parentSlug": parent,
                "admin": { "subject": "someone" }
            }}),
        )
        .await;
    assert_eq!(error_code(&body), code);
    let list = app.gql(&app.platform_admin(), TENANTS, json!({})).await;
    assert_eq!(list["data"]["tenants"], json!([]));
}

#[rstest]
#[tokio::test]
async fn a_child_tenant_records_its_parent(#[values(Sqlite, Postgres)] backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let parent = app.onboard("roma").await;
    let child = app
        .gql(
            &app.platform_admin(),
            ONBOARD,
            json!({ "input": {
                "slug": "municipio-i", "displayName": "Municipio I", "kind": "MUNICIPIO", "parentSlug": "roma",
                "admin": { "subject": "m1-admin" }
            }}),
        )
        .await;
    assert_no_errors(&child);
    let t = app
        .gql(
            &app.platform_admin(),
            "{ tenant(slug: \"municipio-i\") { parentId } }",
            json!({}),
        )
        .await;
    assert_eq!(
        t["data"]["tenant"]["parentId"],
        parent["data"]["onboardTenant"]["tenant"]["id"]
    );
}

#[rstest]
#[tokio::test]
async fn only_platform_admins_onboard_and_list(#[values(Sqlite, Postgres)] backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.onboard("roma").await;
    let admin = app.admin_of("roma");
    let body = app
        .gql(
            &admin,
            ONBOARD,
            json!({ "input": { "slug": "mine", "displayName": "X", "kind": "OTHER", "admin": { "subject": "x" } } }),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN");
    assert_eq!(
        error_code(&app.gql(&admin, TENANTS, json!({})).await),
        "FORBIDDEN"
    );
    let (_, anon) = app.post(None, None, TENANTS, json!({})).await;
    assert_eq!(error_code(&anon), "UNAUTHENTICATED");
}

#[rstest]
#[tokio::test]
async fn a_suspended_tenant_is_refused_until_reactivated(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    app.onboard("ama").await;
    let op = app.member("ama", "ama-op", Role::Operator).await;
    let status =
        "mutation($s: TenantStatus!) { setTenantStatus(slug: \"ama\", status: $s) { status } }";

    let s = app
        .gql(&app.platform_admin(), status, json!({ "s": "SUSPENDED" }))
        .await;
    assert_eq!(s["data"]["setTenantStatus"]["status"], "SUSPENDED");
    let (code, body) = app
        .post(Some(&op), None, "{ services { code } }", json!({}))
        .await;
    assert_eq!((code, error_code(&body)), (403, "TENANT_SUSPENDED"));

    app.gql(&app.platform_admin(), status, json!({ "s": "ACTIVE" }))
        .await;
    let body = app.gql(&op, "{ services { code } }", json!({})).await;
    assert_no_errors(&body);
}

#[rstest]
#[tokio::test]
async fn tenant_admins_update_their_settings(#[values(Sqlite, Postgres)] backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.onboard("roma").await;
    let q = "mutation($s: JSON!) { updateTenantSettings(settings: $s) { settings } }";
    let body = app
        .gql(
            &app.admin_of("roma"),
            q,
            json!({ "s": { "locale": "it-IT" } }),
        )
        .await;
    assert_eq!(
        body["data"]["updateTenantSettings"]["settings"],
        json!({ "locale": "it-IT" })
    );
    let bad = app
        .gql(&app.admin_of("roma"), q, json!({ "s": [1, 2] }))
        .await;
    assert_eq!(error_code(&bad), "VALIDATION");
    let op = app.member("roma", "roma-op", Role::Operator).await;
    assert_eq!(
        error_code(&app.gql(&op, q, json!({ "s": {} })).await),
        "FORBIDDEN"
    );
}

#[rstest]
#[tokio::test]
async fn health_and_readiness(#[values(Sqlite, Postgres)] backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let h = app
        .client
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("healthz");
    assert_eq!(h.status().as_u16(), 200);
    let r = app
        .client
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(r.status().as_u16(), 200);
    let g = app
        .client
        .get(app.url("/graphql"))
        .send()
        .await
        .expect("graphiql");
    let page = g.text().await.expect("text");
    assert!(page.contains("GraphiQL"));
    // Everything the page loads comes from this server: it works offline.
    assert!(!page.contains("https://"), "no CDN: {page}");
    for (asset, mime) in [
        ("graphiql.min.js", "text/javascript"),
        ("graphiql.min.css", "text/css"),
        ("react.production.min.js", "text/javascript"),
        ("react-dom.production.min.js", "text/javascript"),
    ] {
        assert!(
            page.contains(&format!("/graphql/assets/{asset}")),
            "{asset}"
        );
        let r = app
            .client
            .get(app.url(&format!("/graphql/assets/{asset}")))
            .send()
            .await
            .expect("asset");
        assert_eq!(r.status().as_u16(), 200, "{asset}");
        let ct = r.headers()[reqwest::header::CONTENT_TYPE]
            .to_str()
            .expect("ct")
            .to_owned();
        assert!(ct.starts_with(mime), "{asset}: {ct}");
        assert!(r.bytes().await.expect("body").len() > 5_000, "{asset}");
    }
    let missing = app
        .client
        .get(app.url("/graphql/assets/..%2Fcivitas.db"))
        .send()
        .await
        .expect("missing");
    assert_eq!(missing.status().as_u16(), 404);
}

#[rstest]
#[tokio::test]
async fn metrics_are_labelled_by_operation_and_tenant(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    app.onboard("roma").await;
    let admin = app.admin_of("roma");
    for _ in 0..3 {
        let (_, body) = app
            .post(
                Some(&admin),
                None,
                "query Members { members { subject } }",
                json!({}),
            )
            .await;
        assert_no_errors(&body);
    }
    let (_, denied) = app
        .post(
            Some(&admin),
            None,
            "query Tenants { tenants { slug } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&denied), "FORBIDDEN");
    let text = app.metrics_text().await;
    assert!(
        text.contains(
            "civitas_graphql_requests_total{operation=\"Members\",tenant=\"roma\",outcome=\"ok\"} 3"
        ),
        "{text}"
    );
    assert!(text.contains(
        "civitas_graphql_requests_total{operation=\"Tenants\",tenant=\"roma\",outcome=\"error\"} 1"
    ));
    assert!(text.contains(
        "civitas_graphql_request_duration_seconds_count{operation=\"Members\",tenant=\"roma\"} 3"
    ));
    assert!(text.contains("civitas_db_pool_connections{state=\"open\"}"));
    assert!(text.contains("civitas_consent_cache_requests_total{result=\"hit\"}"));
    assert!(text.contains("# TYPE civitas_webhook_outbox_pending gauge"));
}
