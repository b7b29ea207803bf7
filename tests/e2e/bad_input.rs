//! Bad input gets a typed error, never a panic, never a partial write.

use base64::Engine;
use civitas::dev_issuer::TokenRequest;
use civitas_tenants::{PrincipalKind, Role};
use rstest::rstest;
use serde_json::json;

use crate::harness::*;

const ME: &str = "{ me { subject } }";

fn b64(v: &serde_json::Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}

fn claims(exp_offset: i64) -> serde_json::Value {
    let now = chrono::Utc::now().timestamp();
    json!({ "iss": "civitas-dev", "aud": "civitas", "sub": "mallory", "iat": now, "nbf": now,
            "exp": now + exp_offset, "kind": "operator", "roles": ["platform_admin"] })
}

fn forged_tokens(valid: &str) -> Vec<(&'static str, String)> {
    let hs = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims(600),
        &jsonwebtoken::EncodingKey::from_secret(b"guessable"),
    )
    .expect("hs256");
    let parts: Vec<&str> = valid.split('.').collect();
    vec![
        ("garbage", "not-a-token".to_owned()),
        (
            "alg none",
            format!(
                "{}.{}.",
                b64(&json!({ "alg": "none", "typ": "JWT" })),
                b64(&claims(600))
            ),
        ),
        ("hmac", hs),
        (
            "tampered payload",
            format!("{}.{}.{}", parts[0], b64(&claims(600)), parts[2]),
        ),
        (
            "truncated signature",
            format!("{}.{}.{}", parts[0], parts[1], &parts[2][..10]),
        ),
    ]
}

#[rstest]
#[tokio::test]
async fn bad_tokens_are_unauthenticated(#[values(Sqlite, Postgres)] backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let valid = app.platform_admin();
    let mut cases = forged_tokens(&valid);
    let expired = app.token_with(TokenRequest {
        subject: "late".into(),
        kind: PrincipalKind::Operator,
        name: None,
        tenant: None,
        roles: vec![Role::PlatformAdmin],
        fiscal_code: None,
        ttl: chrono::Duration::minutes(-10),
    });
    cases.push(("expired", expired));
    // A token from another development issuer (another data directory's key).
    let other = tempfile::tempdir().expect("tmp");
    let stranger = civitas::dev_issuer::DevIssuer::load_or_create(other.path()).expect("issuer");
    cases.push((
        "foreign key",
        stranger
            .mint(&TokenRequest {
                subject: "x".into(),
                kind: PrincipalKind::Operator,
                name: None,
                tenant: None,
                roles: vec![Role::PlatformAdmin],
                fiscal_code: None,
                ttl: chrono::Duration::minutes(5),
            })
            .expect("mint"),
    ));

    for (what, token) in cases {
        let (status, body) = app.post(Some(&token), None, ME, json!({})).await;
        assert_eq!(
            (status, error_code(&body)),
            (401, "UNAUTHENTICATED"),
            "{what}"
        );
    }
    let resp = app
        .client
        .post(app.url("/graphql"))
        .header("Authorization", "Basic abc")
        .json(&json!({ "query": ME }))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 401);
}

#[rstest]
#[tokio::test]
async fn tokens_are_refused_when_the_dev_issuer_is_off(#[values(Sqlite)] backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.dev = false).await;
    let issuer = civitas::dev_issuer::DevIssuer::load_or_create(&app.data_dir).expect("issuer");
    let token = issuer
        .mint(&TokenRequest {
            subject: "x".into(),
            kind: PrincipalKind::Operator,
            name: None,
            tenant: None,
            roles: vec![Role::PlatformAdmin],
            fiscal_code: None,
            ttl: chrono::Duration::minutes(5),
        })
        .expect("mint");
    let (status, body) = app.post(Some(&token), None, ME, json!({})).await;
    assert_eq!((status, error_code(&body)), (401, "UNAUTHENTICATED"));
    let g = app
        .client
        .get(app.url("/graphql"))
        .send()
        .await
        .expect("get");
    assert_eq!(g.status().as_u16(), 404, "no GraphiQL outside development");
    let a = app
        .client
        .get(app.url("/graphql/assets/graphiql.min.js"))
        .send()
        .await
        .expect("get");
    assert_eq!(a.status().as_u16(), 404, "nor its assets");
}

#[rstest]
#[tokio::test]
async fn malformed_requests_get_typed_errors(#[values(Sqlite, Postgres)] backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.graphql_max_aliases = 10_000).await;
    let url = app.url("/graphql");
    let send = |body: Vec<u8>| {
        app.client
            .post(&url)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };

    let r = send(b"{not json".to_vec()).await.expect("send");
    assert_eq!(r.status().as_u16(), 400);
    assert_eq!(error_code(&r.json().await.expect("json")), "BAD_REQUEST");

    let big = json!({ "query": format!("{{ me {{ subject }} }} #{}", "x".repeat(100 * 1024)) });
    let r = send(big.to_string().into_bytes()).await.expect("send");
    assert_eq!(r.status().as_u16(), 413);
    assert_eq!(
        error_code(&r.json().await.expect("json")),
        "PAYLOAD_TOO_LARGE"
    );

    let token = app.platform_admin();
    let syntax = app.gql(&token, "{ me { subject ", json!({})).await;
    assert_eq!(error_code(&syntax), "GRAPHQL_VALIDATION");
    let unknown = app.gql(&token, "{ nope }", json!({})).await;
    assert_eq!(error_code(&unknown), "GRAPHQL_VALIDATION");
    // Too costly: more fields than the complexity limit allows (aliases are capped too, by
    // default below this; here the complexity limit is the one that must answer).
    let wide = format!(
        "{{ {} }}",
        (0..600)
            .map(|i| format!("a{i}: me {{ subject }}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let body = app.gql(&token, &wide, json!({})).await;
    assert_eq!(error_code(&body), "GRAPHQL_VALIDATION");
    assert!(body["data"].is_null());
}

#[rstest]
#[tokio::test]
async fn tenant_header_and_arguments_are_checked(#[values(Sqlite, Postgres)] backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.onboard("roma").await;
    let admin = app.admin_of("roma");
    let (status, body) = app
        .post(Some(&admin), Some("Not A Slug!"), ME, json!({}))
        .await;
    assert_eq!((status, error_code(&body)), (400, "VALIDATION"));
    let (status, body) = app.post(Some(&admin), Some("nowhere"), ME, json!({})).await;
    assert_eq!((status, error_code(&body)), (403, "FORBIDDEN"));

    // A platform administrator has no tenant unless one is named.
    let body = app
        .gql(&app.platform_admin(), "{ services { code } }", json!({}))
        .await;
    assert_eq!(error_code(&body), "BAD_REQUEST");

    let bad_code = app.gql(&admin, "mutation { createService(input: { code: \"bad code\", name: \"X\", area: \"Y\" }) { code } }", json!({})).await;
    assert_eq!(error_code(&bad_code), "VALIDATION");
    let empty_subject = app
        .gql(
            &admin,
            "mutation { grantRole(subject: \"  \", role: OPERATOR) { subject } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&empty_subject), "VALIDATION");
    let limit = app
        .gql(&admin, "{ auditLog(limit: 100000) { action } }", json!({}))
        .await;
    assert_eq!(error_code(&limit), "VALIDATION");
    let services = app
        .gql(
            &admin,
            "{ services { code } members { subject } }",
            json!({}),
        )
        .await;
    assert_eq!(
        services["data"]["services"],
        json!([]),
        "failed writes left nothing behind"
    );
    assert_eq!(
        services["data"]["members"],
        json!([{ "subject": "roma-admin" }])
    );
}
