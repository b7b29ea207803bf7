//! A body's look: its colour (a setting, refused when white text would be unreadable on
//! it) and its logo (uploaded by its administrators, raster only), worn by the portal; only
//! the current logo is public, never another file of the body's store.

use civitas_tenants::Role;
use rstest::rstest;
use serde_json::{Value, json};

use crate::harness::*;

/// The smallest PNG: one transparent pixel.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\0\0\0\0IEND\xaeB`\x82";

const SETTINGS: &str = "mutation($s: JSON!) { updateTenantSettings(settings: $s) { settings } }";

async fn put_logo(app: &TestApp, token: &str, bytes: &[u8]) -> (u16, Value) {
    let resp = app
        .client
        .put(app.url("/branding/logo"))
        .bearer_auth(token)
        .body(bytes.to_vec())
        .send()
        .await
        .expect("upload");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn get(app: &TestApp, path: &str) -> (u16, String, Vec<u8>) {
    let resp = app.client.get(app.url(path)).send().await.expect("get");
    let status = resp.status().as_u16();
    let kind = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, kind, resp.bytes().await.expect("body").to_vec())
}

#[rstest]
#[tokio::test]
async fn the_portal_wears_its_bodys_colour_and_logo(#[values(Sqlite, Postgres)] backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.portal_body = Some("alfa".into())).await;
    app.onboard("alfa").await;
    app.onboard("beta").await;
    let admin = app.admin_of("alfa");

    let pale = app
        .gql(
            &admin,
            SETTINGS,
            json!({ "s": { "branding": { "primaryColour": "#ffd700" } } }),
        )
        .await;
    assert_eq!(error_code(&pale), "VALIDATION");
    assert!(
        pale["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("contrast"),
        "{pale}"
    );
    let ok = app
        .gql(
            &admin,
            SETTINGS,
            json!({ "s": { "locale": "it-IT", "branding": { "primaryColour": "#1F5F8B" } } }),
        )
        .await;
    assert_no_errors(&ok);

    let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>";
    let (status, refused) = put_logo(&app, &admin, svg).await;
    assert_eq!(
        (status, refused["errors"][0]["extensions"]["code"].as_str()),
        (400, Some("VALIDATION")),
        "{refused}"
    );
    let (status, big) = put_logo(&app, &admin, &vec![0u8; 300 * 1024]).await;
    assert_eq!(
        big["errors"][0]["extensions"]["code"], "VALIDATION",
        "{status} {big}"
    );
    let op = app.member("alfa", "alfa-op", Role::Operator).await;
    let (_, forbidden) = put_logo(&app, &op, PNG).await;
    assert_eq!(forbidden["errors"][0]["extensions"]["code"], "FORBIDDEN");

    let (status, logo) = put_logo(&app, &admin, PNG).await;
    assert_eq!(status, 200, "{logo}");
    let sha = logo["sha256"].as_str().expect("sha256").to_owned();

    let (_, _, home) = get(&app, "/").await;
    let home = String::from_utf8(home).expect("html");
    assert!(
        home.contains("href=\"/bodies/alfa/brand.css?v=1f5f8b\""),
        "{home}"
    );
    assert!(home.contains(&format!("src=\"/bodies/alfa/logo/{sha}\"")));
    let (status, kind, css) = get(&app, "/bodies/alfa/brand.css?v=1f5f8b").await;
    assert_eq!((status, kind.as_str()), (200, "text/css; charset=utf-8"));
    assert!(
        String::from_utf8(css)
            .expect("css")
            .contains(".it-header-center-wrapper,.it-header-navbar-wrapper{background:#1f5f8b}")
    );
    let (status, kind, bytes) = get(&app, &format!("/bodies/alfa/logo/{sha}")).await;
    assert_eq!(
        (status, kind.as_str(), bytes.as_slice()),
        (200, "image/png", PNG)
    );

    // Settings cannot point the logo at another file: the logo stays the uploaded one.
    let forged = app
        .gql(&admin, SETTINGS, json!({ "s": { "branding": { "primaryColour": "#1f5f8b", "logo": { "sha256": "0".repeat(64), "mediaType": "application/pdf" } } } }))
        .await;
    assert_no_errors(&forged);
    assert_eq!(
        forged["data"]["updateTenantSettings"]["settings"]["branding"]["logo"]["sha256"],
        sha
    );
    assert_eq!(
        forged["data"]["updateTenantSettings"]["settings"]["locale"],
        Value::Null,
        "settings are replaced whole"
    );

    // Another body's logo goes to that body; alfa's stays.
    let beta = app.admin_of("beta");
    let mut other = PNG.to_vec();
    other.extend_from_slice(b"beta");
    let (_, beta_logo) = put_logo(&app, &beta, &other).await;
    let beta_sha = beta_logo["sha256"].as_str().expect("sha").to_owned();
    assert_eq!(
        get(&app, &format!("/bodies/alfa/logo/{beta_sha}")).await.0,
        404,
        "beta's file under alfa's name"
    );
    assert_eq!(
        get(&app, &format!("/bodies/beta/logo/{beta_sha}")).await.0,
        200
    );

    // Only the current logo is public: the old file is still stored, not served.
    let (_, newer) = put_logo(&app, &admin, &[PNG, b"v2"].concat()).await;
    assert_ne!(newer["sha256"], sha.as_str());
    assert_eq!(get(&app, &format!("/bodies/alfa/logo/{sha}")).await.0, 404);
    let removed = app
        .client
        .delete(app.url("/branding/logo"))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("delete");
    assert_eq!(removed.status().as_u16(), 204);
    let (_, _, home) = get(&app, "/").await;
    assert!(!String::from_utf8(home).expect("html").contains("/logo/"));
}
