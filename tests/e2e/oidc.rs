//! Sign-in against a real OpenID provider (panva/oidc-provider on Node.js, started per test
//! on 127.0.0.1): discovery, bearer tokens of every kind of principal, refusals, key
//! rotation, and the browser flow.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use base64::Engine;
use civitas_tenants::Role;
use rstest::rstest;
use serde_json::{Value, json};

use crate::harness::*;

pub(crate) fn provider_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/oidc-provider")
}

/// Installs the provider's npm packages once (from the committed lock file).
pub(crate) fn ensure_npm_packages() {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    let r = DONE.get_or_init(|| {
        if provider_dir().join("node_modules/oidc-provider").exists() {
            return Ok(());
        }
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--silent"])
            .current_dir(provider_dir())
            .status()
            .map_err(|e| format!("npm is needed for the OpenID provider tests: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err("npm ci failed in tests/oidc-provider".into())
        }
    });
    if let Err(e) = r {
        panic!("{e}");
    }
}

pub(crate) struct Key {
    path: PathBuf,
    pub(crate) kid: String,
    pem: String,
}

pub(crate) fn genkey(dir: &Path, name: &str) -> Key {
    ensure_npm_packages();
    let path = dir.join(name);
    // A node that hangs (seen once, before it wrote anything) is killed and run again, so
    // that it cannot hold the suite up.
    let ok = (0..3).any(|_| node_within(&path, Duration::from_secs(30)));
    assert!(ok, "generating a key");
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("key file")).expect("key json");
    Key {
        path,
        kid: v["kid"].as_str().expect("kid").to_owned(),
        pem: v["pem"].as_str().expect("pem").to_owned(),
    }
}

/// Runs `node genkey.mjs path`; whether it succeeded within `limit`.
fn node_within(path: &Path, limit: Duration) -> bool {
    let mut child = Command::new("node")
        .arg("genkey.mjs")
        .arg(path)
        .current_dir(provider_dir())
        .stderr(Stdio::null())
        .spawn()
        .expect("node is needed for the OpenID provider tests");
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("wait for node") {
            return status.success();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub(crate) struct Provider {
    child: Child,
    pub(crate) port: u16,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Provider {
    /// Starts the provider on `port`, trying again a few times: a port just let go by the
    /// provider it replaces (key rotation) may not be free at once.
    pub(crate) fn start(port: u16, keys: &[&Key], redirect_uri: &str) -> Provider {
        for _ in 0..5 {
            if let Some(p) = Self::try_start(port, keys, redirect_uri) {
                return p;
            }
            std::thread::sleep(Duration::from_millis(300));
        }
        panic!("the OpenID provider did not start on port {port}");
    }

    fn try_start(port: u16, keys: &[&Key], redirect_uri: &str) -> Option<Provider> {
        ensure_npm_packages();
        let keys: Vec<String> = keys.iter().map(|k| k.path.display().to_string()).collect();
        let mut child = Command::new("node")
            .arg("provider.mjs")
            .current_dir(provider_dir())
            .env("PORT", port.to_string())
            .env("KEYS", keys.join(","))
            .env("REDIRECT_URI", redirect_uri)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the OpenID provider");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let provider = Provider { child, port };
        loop {
            match lines.next() {
                Some(Ok(l)) if l.contains("listening") => break,
                Some(Ok(_)) => continue,
                // Dropping it kills and reaps the child.
                _ => return None,
            }
        }
        std::thread::spawn(move || for _ in lines.by_ref() {});
        Some(provider)
    }

    pub(crate) fn issuer(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// A body `roma` that accepts the provider for its operators, its SAP connector and citizens.
pub(crate) async fn setup(backend: Backend) -> (TestApp, Provider, Key, tempfile::TempDir) {
    let app = TestApp::spawn(backend).await;
    let keys = tempfile::tempdir().expect("tmp");
    let key = genkey(keys.path(), "k1.json");
    let provider = Provider::start(free_port(), &[&key], &app.url("/auth/callback"));
    app.onboard("roma").await;
    let body = app
        .gql(
            &app.admin_of("roma"),
            "mutation($i: RegisterIdentityProviderInput!) { registerIdentityProvider(input: $i) { id issuer hasClientSecret } }",
            json!({ "i": { "issuer": provider.issuer(), "audiences": ["civitas"], "clientId": "civitas-web",
                           "clientSecret": "web-secret", "serviceClients": ["sap-connector"] } }),
        )
        .await;
    assert_no_errors(&body);
    assert_eq!(
        body["data"]["registerIdentityProvider"]["hasClientSecret"],
        true
    );
    (app, provider, key, keys)
}

/// A platform administrator lets roma's provider assert citizens' fiscal codes.
pub(crate) async fn trust_for_citizens(app: &TestApp) {
    let admin = app.admin_of("roma");
    let list = app
        .gql(&admin, "{ identityProviders { id } }", json!({}))
        .await;
    let id = list["data"]["identityProviders"][0]["id"].clone();
    let body = app
        .gql(
            &app.platform_admin(),
            "mutation($id: ID!) { setIdentityProviderCitizenTrust(id: $id, trusted: true) { citizenIdentities } }",
            json!({ "id": id }),
        )
        .await;
    assert_no_errors(&body);
}

pub(crate) async fn client_credentials(provider: &Provider) -> String {
    let resp: Value = reqwest::Client::new()
        .post(format!("{}/token", provider.issuer()))
        .basic_auth("sap-connector", Some("sap-secret"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "api"),
            ("resource", "urn:civitas"),
        ])
        .send()
        .await
        .expect("token request")
        .json()
        .await
        .expect("token json");
    resp["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no token: {resp}"))
        .to_owned()
}

const ME: &str = "{ me { subject kind roles tenant { slug } } }";

#[rstest]
#[tokio::test]
async fn a_service_account_is_its_bodys_integrator(#[values(Sqlite, Postgres)] backend: Backend) {
    let (app, provider, _key, _keys) = setup(backend).await;
    let token = client_credentials(&provider).await;
    let me = app.gql(&token, ME, json!({})).await;
    assert_eq!(
        me["data"]["me"],
        json!({ "subject": "client:sap-connector", "kind": "SERVICE", "roles": ["INTEGRATOR"], "tenant": { "slug": "roma" } })
    );
    let reg = app
        .gql(
            &token,
            "mutation { registerCitizen(input: { givenName: \"A\", familyName: \"B\" }) { id } }",
            json!({}),
        )
        .await;
    assert_no_errors(&reg);
    let forbidden = app.gql(&token, "{ members { subject } }", json!({})).await;
    assert_eq!(error_code(&forbidden), "FORBIDDEN");

    // Removed: refused from the next request.
    let admin = app.admin_of("roma");
    let list = app
        .gql(&admin, "{ identityProviders { id } }", json!({}))
        .await;
    let id = list["data"]["identityProviders"][0]["id"].clone();
    let rm = app
        .gql(
            &admin,
            "mutation($id: ID!) { removeIdentityProvider(id: $id) }",
            json!({ "id": id }),
        )
        .await;
    assert_no_errors(&rm);
    let (status, body) = app.post(Some(&token), None, ME, json!({})).await;
    assert_eq!((status, error_code(&body)), (401, "UNAUTHENTICATED"));
}

pub(crate) fn b64(v: &Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}

pub(crate) fn sign(key: &Key, alg: jsonwebtoken::Algorithm, claims: &Value) -> String {
    let mut header = jsonwebtoken::Header::new(alg);
    header.kid = Some(key.kid.clone());
    header.typ = Some("at+jwt".into());
    let enc = match alg {
        jsonwebtoken::Algorithm::HS256 => {
            jsonwebtoken::EncodingKey::from_secret(key.pem.as_bytes())
        }
        _ => jsonwebtoken::EncodingKey::from_rsa_pem(key.pem.as_bytes()).expect("rsa pem"),
    };
    jsonwebtoken::encode(&header, claims, &enc).expect("sign")
}

#[rstest]
#[tokio::test]
async fn bad_tokens_are_refused(#[values(Sqlite, Postgres)] backend: Backend) {
    let (app, provider, key, keys) = setup(backend).await;
    let now = chrono::Utc::now().timestamp();
    let claims = |f: &dyn Fn(&mut Value)| {
        let mut c = json!({ "iss": provider.issuer(), "aud": "civitas", "sub": "sap-connector", "client_id": "sap-connector",
                            "iat": now, "exp": now + 300, "jti": "x", "scope": "api" });
        f(&mut c);
        c
    };
    // The forging works: a token made with the provider's key and right claims is accepted.
    let good = sign(&key, jsonwebtoken::Algorithm::RS256, &claims(&|_| {}));
    assert_no_errors(&app.gql(&good, ME, json!({})).await);

    let stranger = genkey(keys.path(), "stranger.json");
    let parts: Vec<&str> = good.split('.').collect();
    let cases = vec![
        (
            "expired",
            sign(
                &key,
                jsonwebtoken::Algorithm::RS256,
                &claims(&|c| {
                    c["exp"] = json!(now - 600);
                    c["iat"] = json!(now - 900);
                }),
            ),
        ),
        (
            "not yet valid",
            sign(
                &key,
                jsonwebtoken::Algorithm::RS256,
                &claims(&|c| c["nbf"] = json!(now + 3600)),
            ),
        ),
        (
            "wrong audience",
            sign(
                &key,
                jsonwebtoken::Algorithm::RS256,
                &claims(&|c| c["aud"] = json!("someone-else")),
            ),
        ),
        (
            "unknown issuer",
            sign(
                &key,
                jsonwebtoken::Algorithm::RS256,
                &claims(&|c| c["iss"] = json!("http://127.0.0.1:1")),
            ),
        ),
        (
            "another key",
            sign(&stranger, jsonwebtoken::Algorithm::RS256, &claims(&|_| {})),
        ),
        (
            "tampered",
            format!(
                "{}.{}.{}",
                parts[0],
                b64(&claims(&|c| c["sub"] = json!("mallory"))),
                parts[2]
            ),
        ),
        (
            "alg none",
            format!(
                "{}.{}.",
                b64(&json!({ "alg": "none", "typ": "at+jwt", "kid": key.kid })),
                parts[1]
            ),
        ),
        (
            "key confusion",
            sign(&key, jsonwebtoken::Algorithm::HS256, &claims(&|_| {})),
        ),
    ];
    for (what, token) in cases {
        let (status, body) = app.post(Some(&token), None, ME, json!({})).await;
        assert_eq!(
            (status, error_code(&body)),
            (401, "UNAUTHENTICATED"),
            "{what}"
        );
    }

    // The good token was verified a moment ago (and is remembered); once it expires it is
    // refused all the same.
    assert_no_errors(&app.gql(&good, ME, json!({})).await);
    app.clock.advance(chrono::Duration::seconds(301));
    let (status, body) = app.post(Some(&good), None, ME, json!({})).await;
    assert_eq!((status, error_code(&body)), (401, "UNAUTHENTICATED"));
}

#[rstest]
#[tokio::test]
async fn a_key_rotation_at_the_provider_is_picked_up_without_restart() {
    let (app, provider, k1, keys) = setup(Sqlite).await;
    assert_no_errors(
        &app.gql(&client_credentials(&provider).await, ME, json!({}))
            .await,
    );
    let port = provider.port;
    drop(provider);
    let k2 = genkey(keys.path(), "k2.json");
    let provider = Provider::start(port, &[&k2, &k1], &app.url("/auth/callback"));
    // Past the refresh rate limit since the first fetch.
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let token = client_credentials(&provider).await;
    let header: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token.split('.').next().unwrap_or(""))
            .expect("header"),
    )
    .expect("json");
    assert_eq!(header["kid"], json!(k2.kid), "signed with the new key");
    let me = app.gql(&token, ME, json!({})).await;
    assert_no_errors(&me);
}

/// Drives the browser sign-in with an HTTP client that keeps cookies, through the
/// provider's own login page. Returns the client, now holding the session cookie.
async fn browser_sign_in(app: &TestApp, login: &str) -> reqwest::Client {
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("client");
    let page = browser
        .get(app.url("/auth/login?tenant=roma&return_to=/healthz"))
        .send()
        .await
        .expect("login")
        .text()
        .await
        .expect("login page");
    let action = page
        .split("action=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no login form: {page}"))
        .to_owned();
    let done = browser
        .post(action)
        .form(&[("prompt", "login"), ("login", login), ("password", "any")])
        .send()
        .await
        .expect("submit login");
    assert_eq!(
        done.url().path(),
        "/healthz",
        "back at Civitas after the callback"
    );
    assert_eq!(done.status().as_u16(), 200);
    browser
}

async fn me_with(app: &TestApp, browser: &reqwest::Client, query: &str) -> (u16, Value) {
    let resp = browser
        .post(app.url("/graphql"))
        .json(&json!({ "query": query }))
        .send()
        .await
        .expect("graphql");
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("json"))
}

#[rstest]
#[tokio::test]
async fn the_browser_flow_signs_in_citizens_and_operators(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let (app, _provider, _key, _keys) = setup(backend).await;
    trust_for_citizens(&app).await;
    let op = app.member("roma", "roma-op", Role::Operator).await;
    app.register(&op, Some("RSSMRA85T10A562S"), "Mario", "Rossi", &[])
        .await;

    let citizen = browser_sign_in(&app, "mario").await;
    let (_, me) = me_with(
        &app,
        &citizen,
        "{ me { kind citizen { profiles { tenant { slug } } } } }",
    )
    .await;
    assert_eq!(me["data"]["me"]["kind"], "CITIZEN", "{me}");
    assert_eq!(
        me["data"]["me"]["citizen"]["profiles"][0]["tenant"]["slug"],
        "roma"
    );

    let operator = browser_sign_in(&app, "op1").await;
    let (_, me) = me_with(&app, &operator, ME).await;
    assert_eq!(
        me["data"]["me"],
        json!({ "subject": "op1", "kind": "OPERATOR", "roles": ["SUPERVISOR", "OPERATOR"], "tenant": { "slug": "roma" } })
    );

    let out = operator
        .get(app.url("/auth/logout"))
        .send()
        .await
        .expect("logout");
    assert_eq!(out.status().as_u16(), 200);
    let (status, body) = me_with(&app, &operator, ME).await;
    assert_eq!(
        (status, error_code(&body)),
        (200, "UNAUTHENTICATED"),
        "no cookie left: anonymous"
    );
}

#[rstest]
#[tokio::test]
async fn a_callback_not_started_by_this_browser_is_refused() {
    let (app, _provider, _key, _keys) = setup(Sqlite).await;
    let stranger = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let resp = stranger
        .get(app.url("/auth/callback?code=abc&state=forged"))
        .send()
        .await
        .expect("callback");
    assert_eq!(resp.status().as_u16(), 400);
    let (_, body) = app.post(None, None, ME, json!({})).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
}
