//! Fairness: one tenant's flood is refused with RATE_LIMITED and does not reach another
//! tenant; limits are the platform's to set; documents cannot multiply work with aliases;
//! requests beyond the server's places wait their turn, and are told OVERLOADED after a while.

use civitas_tenants::Role;
use rstest::rstest;
use serde_json::{Value, json};

use crate::harness::*;

async fn set_limits(app: &TestApp, slug: &str, limits: Value) {
    let body = app
        .post(
            Some(&app.platform_admin()),
            Some(slug),
            "mutation($s: JSON!) { updateTenantSettings(settings: $s) { settings } }",
            json!({ "s": { "limits": limits } }),
        )
        .await
        .1;
    assert_no_errors(&body);
}

/// Fires `n` requests at once; returns (successes, rate-limited responses with a Retry-After).
async fn burst(app: &TestApp, token: &str, n: usize) -> (usize, usize) {
    let requests = (0..n).map(|_| {
        app.client
            .post(app.url("/graphql"))
            .bearer_auth(token)
            .json(&json!({ "query": "{ services { code } }" }))
            .send()
    });
    let mut ok = 0;
    let mut limited = 0;
    for r in futures::future::join_all(requests).await {
        let r = r.expect("send");
        let status = r.status().as_u16();
        let retry = r.headers().get("retry-after").is_some();
        let body: Value = r.json().await.expect("json");
        match (status, body.get("errors")) {
            (200, None) => ok += 1,
            (429, Some(_)) if error_code(&body) == "RATE_LIMITED" && retry => limited += 1,
            other => panic!("unexpected answer {other:?}: {body}"),
        }
    }
    (ok, limited)
}

#[rstest]
#[tokio::test]
async fn a_flooding_tenant_is_limited_and_another_is_not(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    app.onboard("alfa").await;
    app.onboard("beta").await;
    let alfa = app.member("alfa", "alfa-op", Role::Operator).await;
    let beta = app.member("beta", "beta-op", Role::Operator).await;
    set_limits(
        &app,
        "alfa",
        json!({ "tenantRps": 1.0, "tenantBurst": 3.0 }),
    )
    .await;

    let (ok, limited) = burst(&app, &alfa, 10).await;
    assert!(
        ok <= 4 && limited >= 6,
        "alfa: {ok} served, {limited} limited"
    );
    let (ok, limited) = burst(&app, &beta, 10).await;
    assert_eq!((ok, limited), (10, 0), "beta is untouched by alfa's flood");
}

#[rstest]
#[tokio::test]
async fn one_principal_cannot_starve_its_colleagues(#[values(Sqlite)] backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.onboard("alfa").await;
    let noisy = app.member("alfa", "noisy", Role::Operator).await;
    let quiet = app.member("alfa", "quiet", Role::Operator).await;
    set_limits(
        &app,
        "alfa",
        json!({ "principalRps": 1.0, "principalBurst": 2.0 }),
    )
    .await;
    let (_, limited) = burst(&app, &noisy, 8).await;
    assert!(limited >= 5, "the noisy principal is limited ({limited})");
    let (ok, _) = burst(&app, &quiet, 2).await;
    assert_eq!(ok, 2, "its colleague is not");
}

#[rstest]
#[tokio::test]
async fn limits_are_the_platforms_to_set(#[values(Sqlite)] backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.onboard("alfa").await;
    set_limits(&app, "alfa", json!({ "tenantRps": 5.0 })).await;
    let admin = app.admin_of("alfa");
    let body = app
        .gql(&admin, "mutation { updateTenantSettings(settings: { locale: \"it-IT\", limits: { tenantRps: 100000 } }) { settings } }", json!({}))
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    // Other settings change; the limits stay the platform's.
    let body = app
        .gql(
            &admin,
            "mutation { updateTenantSettings(settings: { locale: \"it-IT\" }) { settings } }",
            json!({}),
        )
        .await;
    assert_eq!(
        body["data"]["updateTenantSettings"]["settings"],
        json!({ "locale": "it-IT", "limits": { "tenantRps": 5.0 } })
    );
}

#[rstest]
#[tokio::test]
async fn documents_with_too_many_aliases_are_refused(#[values(Sqlite)] backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let many = format!(
        "{{ {} }}",
        (0..60)
            .map(|i| format!("a{i}: __typename"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let (status, body) = app
        .post(Some(&app.platform_admin()), None, &many, json!({}))
        .await;
    assert_eq!((status, error_code(&body)), (400, "GRAPHQL_VALIDATION"));
}

#[rstest]
#[tokio::test]
async fn a_request_with_no_place_in_time_is_told_the_server_is_overloaded(
    #[values(Sqlite)] backend: Backend,
) {
    let app = TestApp::spawn_with(backend, |c| {
        c.max_in_flight = 1;
        c.in_flight_wait_ms = 2000;
    })
    .await;
    app.onboard("alfa").await;
    let op = app.member("alfa", "alfa-op", Role::Operator).await;
    let ask = || {
        app.client
            .post(app.url("/graphql"))
            .bearer_auth(&op)
            .json(&json!({ "query": "{ services { code } }" }))
            .send()
    };

    let place = app.app.gate.enter().await.expect("the only place");
    let r = ask().await.expect("send");
    assert_eq!(r.status().as_u16(), 503);
    assert_eq!(
        r.headers().get("retry-after").and_then(|v| v.to_str().ok()),
        Some("1")
    );
    let body: Value = r.json().await.expect("json");
    assert_eq!(error_code(&body), "OVERLOADED", "{body}");
    let stats = app.app.gate.stats();
    assert_eq!((stats.serving, stats.turned_away), (1, 1));

    let waiting = tokio::spawn(ask());
    let queued = std::time::Instant::now();
    while app.app.gate.stats().waiting == 0 {
        assert!(queued.elapsed().as_secs() < 5, "the request never queued");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let text = app.metrics_text().await;
    for line in [
        "civitas_requests_in_flight{state=\"serving\"} 1",
        "civitas_requests_in_flight{state=\"waiting\"} 1",
        "civitas_requests_overloaded_total 1",
    ] {
        assert!(text.contains(line), "{line} not in {text}");
    }
    drop(place);
    let r = waiting.await.expect("task").expect("send");
    assert_eq!(r.status().as_u16(), 200, "served once the place is free");
    assert_no_errors(&r.json().await.expect("json"));
}

/// A citizen may name any body, but spends their own budget, not the body's: citizens
/// cannot starve a body's operators.
#[rstest]
#[tokio::test]
async fn citizens_naming_a_body_do_not_spend_its_budget(#[values(Sqlite)] backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.onboard("alfa").await;
    let op = app.member("alfa", "alfa-op", Role::Operator).await;
    set_limits(
        &app,
        "alfa",
        json!({ "tenantRps": 1.0, "tenantBurst": 3.0, "maxConcurrent": 2 }),
    )
    .await;
    let citizen = app.citizen("RSSMRA85T10A562S");
    let requests = (0..12).map(|_| {
        app.client
            .post(app.url("/graphql"))
            .bearer_auth(&citizen)
            .header("X-Civitas-Tenant", "alfa")
            .json(&json!({ "query": "{ services { code } }" }))
            .send()
    });
    for r in futures::future::join_all(requests).await {
        assert_eq!(
            r.expect("send").status().as_u16(),
            200,
            "within the citizen's own budget"
        );
    }
    // One after another: three at once could meet alfa's cap of two in flight, which is
    // not what this test is about.
    let mut served = 0;
    for _ in 0..3 {
        served += burst(&app, &op, 1).await.0;
    }
    assert_eq!(served, 3, "alfa's budget is untouched by the citizens");
}

/// Callers with no token (the public catalogue) share one bucket of their own: a flood of
/// them is limited, and a body's operators are not.
#[rstest]
#[tokio::test]
async fn anonymous_callers_share_a_budget_of_their_own(#[values(Sqlite)] backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.default_limits.tenant_rps = 1.0;
        c.default_limits.tenant_burst = 3.0;
    })
    .await;
    app.onboard("alfa").await;
    let op = app.member("alfa", "alfa-op", Role::Operator).await;
    let mut codes = vec![];
    for _ in 0..6 {
        let (status, body) = app
            .post(
                None,
                None,
                "{ catalogue(first: 1) { pageInfo { hasNextPage } } }",
                json!({}),
            )
            .await;
        let code = body["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or("");
        codes.push((status, code.to_owned()));
    }
    assert!(
        codes
            .iter()
            .filter(|(s, c)| *s == 429 && c == "RATE_LIMITED")
            .count()
            >= 2,
        "{codes:?}"
    );
    let (ok, limited) = burst(&app, &op, 1).await;
    assert_eq!(
        (ok, limited),
        (1, 0),
        "alfa's operators are not limited by the public"
    );
}
