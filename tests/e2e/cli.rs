//! The real `civitas` binary: its subcommands, its refusals, its logs.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use rstest::rstest;
use serde_json::{Value, json};

use crate::harness::*;

pub(crate) fn civitas(data_dir: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_civitas"));
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("CIVITAS_DATA_DIR", data_dir)
        .env("CIVITAS_LOG", "info");
    c
}

pub(crate) fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("run civitas")
}

pub(crate) fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Points the binary at a fresh database of `backend`: the owner for migrations, the
/// application role for everything else.
fn with_database(cmd: &mut Command, backend: Backend, pg: Option<&PgDatabase>) {
    if let (Backend::Postgres, Some(db)) = (backend, pg) {
        cmd.env(
            "CIVITAS_DATABASE_URL",
            pg_url(civitas_migrations::APP_ROLE, &db.name),
        );
        cmd.env(
            "CIVITAS_MIGRATION_DATABASE_URL",
            pg_url("postgres", &db.name),
        );
    }
}

#[test]
fn schema_prints_the_sdl() {
    let dir = tempfile::tempdir().expect("tmp");
    let o = run(civitas(dir.path()).arg("schema"));
    assert!(o.status.success(), "{}", stderr(&o));
    let sdl = stdout(&o);
    for op in [
        "onboardTenant",
        "grantRole",
        "revokeRole",
        "tenants",
        "me",
        "tenant(slug: String!)",
    ] {
        assert!(sdl.contains(op), "SDL lacks {op}");
    }
}

/// A data directory and, on PostgreSQL, a database of its own, for commands run one by one.
struct CliEnv {
    dir: tempfile::TempDir,
    backend: Backend,
    pg: Option<PgDatabase>,
}

impl CliEnv {
    async fn new(backend: Backend) -> Self {
        let pg = match backend {
            Backend::Postgres => Some(PgDatabase::create().await),
            Backend::Sqlite => None,
        };
        let dir = tempfile::tempdir().expect("tmp");
        CliEnv { dir, backend, pg }
    }

    fn run(&self, args: &[&str]) -> Output {
        let mut c = civitas(self.dir.path());
        with_database(&mut c, self.backend, self.pg.as_ref());
        c.args(args);
        run(&mut c)
    }
}

#[rstest]
#[tokio::test]
async fn migrate_rolls_back_the_newest_and_applies_it_again(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    use civitas_migrations::{Migrator, MigratorTrait};
    let env = CliEnv::new(backend).await;
    let cli = |args: &[&str]| env.run(args);
    let newest = Migrator::migrations()
        .last()
        .expect("migrations")
        .name()
        .to_owned();
    for (args, expected) in [
        (&["migrate"][..], "migrations applied".to_owned()),
        (
            &["migrate", "--down", "1"][..],
            format!("rolled back 1 migrations: {newest}"),
        ),
        (&["migrate"][..], "migrations applied".to_owned()),
    ] {
        let out = cli(args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        assert!(
            stdout(&out).contains(&expected),
            "{args:?}: {}",
            stdout(&out)
        );
    }
}

#[rstest]
#[tokio::test]
async fn tenant_onboard_and_list(#[values(Sqlite, Postgres)] backend: Backend) {
    let env = CliEnv::new(backend).await;
    let cli = |args: &[&str]| env.run(args);
    let m = cli(&["migrate"]);
    assert!(m.status.success(), "{}", stderr(&m));
    let onboard = [
        "tenant",
        "onboard",
        "--slug",
        "comune-tivoli",
        "--name",
        "Comune di Tivoli",
        "--kind",
        "comune_metropolitano",
        "--admin-subject",
        "tivoli-admin",
    ];
    let first = cli(&onboard);
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(stdout(&first).contains("onboarded comune-tivoli"));
    let second = cli(&onboard);
    assert!(!second.status.success());
    assert!(
        stderr(&second).contains("already exists"),
        "{}",
        stderr(&second)
    );
    let bad = cli(&[
        "tenant",
        "onboard",
        "--slug",
        "Bad Slug",
        "--name",
        "X",
        "--kind",
        "other",
        "--admin-subject",
        "a",
    ]);
    assert!(!bad.status.success());
    assert!(stderr(&bad).contains("invalid slug"), "{}", stderr(&bad));
    let list = cli(&["tenant", "list"]);
    assert_eq!(
        stdout(&list),
        "comune-tivoli\tcomune_metropolitano\tactive\tComune di Tivoli\n"
    );
}

#[test]
fn production_refuses_the_development_issuer() {
    let dir = tempfile::tempdir().expect("tmp");
    let o = run(civitas(dir.path())
        .env("CIVITAS_ENVIRONMENT", "production")
        .args(["serve", "--dev"]));
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("cannot be enabled in production"),
        "{}",
        stderr(&o)
    );
    let o = run(civitas(dir.path())
        .env("CIVITAS_ENVIRONMENT", "production")
        .args(["dev", "token", "--subject", "x", "--roles", "operator"]));
    assert!(!o.status.success());
    assert!(stderr(&o).contains("production"), "{}", stderr(&o));
    let o = run(civitas(dir.path()).args(["dev", "token", "--subject", "x", "--roles", "wizard"]));
    assert!(!o.status.success(), "an unknown role is refused");
}

#[test]
fn production_refuses_an_attachment_store_over_plain_http() {
    let dir = tempfile::tempdir().expect("tmp");
    let config = dir.path().join("civitas.toml");
    std::fs::write(
        &config,
        "attachment_store = \"s3\"\n\n[s3]\nendpoint = \"http://minio.storage:9000\"\n\
         bucket = \"civitas\"\naccess_key_id_env = \"S3_KEY\"\nsecret_access_key_env = \"S3_SECRET\"\n",
    )
    .expect("config");
    let o = run(civitas(dir.path())
        .env("CIVITAS_ENVIRONMENT", "production")
        .env("S3_KEY", "civitas")
        .env("S3_SECRET", "civitas-secret")
        .arg("--config")
        .arg(&config)
        .arg("serve"));
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("s3.endpoint must be an https:// URL in production"),
        "{}",
        stderr(&o)
    );
}

pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) addr: String,
    log: std::sync::mpsc::Receiver<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn start_server(dir: &std::path::Path) -> Server {
    start_server_with(civitas(dir))
}

/// Starts `cmd` (a [`civitas`] command, perhaps with more settings) serving the demo data.
pub(crate) fn start_server_with(mut cmd: Command) -> Server {
    let mut child = cmd
        .args(["serve", "--dev", "--demo", "--listen", "127.0.0.1:0"])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn serve");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    // Owned by `Server` from here on, so that a failed start still kills and reaps it.
    let mut server = Server {
        child,
        addr: String::new(),
        log: rx,
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while server.addr.is_empty() {
        let line = server
            .log
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("server did not start");
        let v: Value =
            serde_json::from_str(&line).unwrap_or_else(|_| panic!("log line is not JSON: {line}"));
        if v["fields"]["message"] == "civitas listening" {
            server.addr = v["fields"]["address"].as_str().expect("address").to_owned();
        }
    }
    server
}

#[tokio::test]
async fn serve_with_demo_data_logs_json_with_request_context_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut server = start_server(dir.path());
    let token = stdout(&run(civitas(dir.path()).args([
        "dev",
        "token",
        "--subject",
        "roma-op",
        "--tenant",
        "roma",
        "--roles",
        "operator",
    ])));
    let client = reqwest::Client::new();
    let resp: Value = client
        .post(format!("http://{}/graphql", server.addr))
        .bearer_auth(token.trim())
        .header("x-request-id", "req-e2e-1")
        .json(&json!({ "query": "query Catalogue { me { tenant { displayName } } services { code } }", "operationName": "Catalogue" }))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(resp["data"]["me"]["tenant"]["displayName"], "Roma Capitale");
    assert_eq!(resp["data"]["services"].as_array().map(Vec::len), Some(4));

    let admin = stdout(&run(civitas(dir.path()).args([
        "dev",
        "token",
        "--subject",
        "root",
        "--roles",
        "platform_admin",
    ])));
    let tenants: Value = client
        .post(format!("http://{}/graphql", server.addr))
        .bearer_auth(admin.trim())
        .json(&json!({ "query": "{ tenants { slug kind } }" }))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let slugs: Vec<_> = tenants["data"]["tenants"]
        .as_array()
        .expect("tenants")
        .iter()
        .map(|t| t["slug"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(slugs, ["ama", "municipio-i", "municipio-ii", "roma"]);

    // A citizen signs in with their codice fiscale and sees the demo's records of them.
    let citizen = stdout(&run(civitas(dir.path()).args([
        "dev",
        "token",
        "--subject",
        "spid-mario",
        "--fiscal-code",
        "RSSMRA85T10A562S",
    ])));
    let me: Value = client
        .post(format!("http://{}/graphql", server.addr))
        .bearer_auth(citizen.trim())
        .json(&json!({ "query": "{ me { kind citizen { profiles { tenant { slug } } sharingConsents { grantee { slug } } } } }" }))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(me["data"]["me"]["kind"], "CITIZEN");
    assert_eq!(
        me["data"]["me"]["citizen"]["profiles"]
            .as_array()
            .map(Vec::len),
        Some(2),
        "{me}"
    );
    assert_eq!(
        me["data"]["me"]["citizen"]["sharingConsents"][0]["grantee"]["slug"],
        "municipio-i"
    );

    // The request's log line carries its id, tenant, principal and operation.
    let deadline = Instant::now() + Duration::from_secs(10);
    let line = loop {
        let l = server
            .log
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("request log line");
        let v: Value = serde_json::from_str(&l).expect("json log");
        if v["span"]["request_id"] == "req-e2e-1" {
            break v;
        }
    };
    assert_eq!(line["span"]["tenant"], "roma");
    assert_eq!(line["span"]["principal"], "roma-op");
    assert_eq!(line["span"]["operation"], "Catalogue");

    let pid = server.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill")
            .success()
    );
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(s) = server.child.try_wait().expect("wait") {
            break s;
        }
        assert!(Instant::now() < deadline, "server did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "graceful stop exits 0");
}

#[test]
fn demo_is_idempotent() {
    let dir = tempfile::tempdir().expect("tmp");
    let first = run(civitas(dir.path()).arg("demo"));
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(stdout(&first).contains("demo data loaded"));
    let second = run(civitas(dir.path()).arg("demo"));
    assert!(stdout(&second).contains("already present"));
    let list = stdout(&run(civitas(dir.path()).args(["tenant", "list"])));
    assert_eq!(list.lines().count(), 4);
}

// Multi-threaded: the collector must answer while this test blocks waiting for the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traces_are_exported_over_otlp() {
    // A stand-in OTLP/HTTP collector that records what it is sent.
    // (content type, body) of each export.
    type Exports = std::sync::Arc<std::sync::Mutex<Vec<(String, Vec<u8>)>>>;
    let received: Exports = Default::default();
    let store = received.clone();
    let collector = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(
            move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let store = store.clone();
                async move {
                    let ct = headers
                        .get("content-type")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_owned();
                    store.lock().expect("lock").push((ct, body.to_vec()));
                    axum::http::StatusCode::OK
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        let _ = axum::serve(listener, collector).await;
    });

    let dir = tempfile::tempdir().expect("tmp");
    let mut child = civitas(dir.path())
        .env(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            format!("http://127.0.0.1:{port}"),
        )
        .args(["serve", "--dev", "--demo", "--listen", "127.0.0.1:0"])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let addr = loop {
        let line = lines.next().expect("server output").expect("line");
        let v: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
        if v["fields"]["message"] == "civitas listening" {
            break v["fields"]["address"].as_str().expect("address").to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines.by_ref() {});
    let token = stdout(&run(civitas(dir.path()).args([
        "dev",
        "token",
        "--subject",
        "roma-op",
        "--tenant",
        "roma",
        "--roles",
        "operator",
    ])));
    let body: Value = reqwest::Client::new()
        .post(format!("http://{addr}/graphql"))
        .bearer_auth(token.trim())
        .json(&json!({ "query": "query Catalogue { services { code } }" }))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert!(body.get("errors").is_none(), "{body}");
    // Stopping flushes the batch of spans.
    assert!(
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("kill")
            .success()
    );
    let status = child.wait().expect("wait");
    assert!(status.success());
    let got = received.lock().expect("lock").clone();
    assert!(!got.is_empty(), "no traces reached the collector");
    let (content_type, payload) = &got[0];
    assert_eq!(content_type, "application/x-protobuf");
    let all: Vec<u8> = got.iter().flat_map(|(_, b)| b.clone()).collect();
    let contains = |needle: &[u8]| all.windows(needle.len()).any(|w| w == needle);
    assert!(
        contains(b"civitas"),
        "the service name is in the export ({} bytes)",
        payload.len()
    );
    assert!(contains(b"request"), "the request span is exported");
    assert!(
        contains(b"validation"),
        "and async-graphql's own spans, installed because traces are exported"
    );
    assert!(contains(b"Catalogue"), "with the operation name");
}

#[rstest]
#[tokio::test]
async fn secrets_keys_are_generated_and_rewrapped(#[values(Sqlite, Postgres)] backend: Backend) {
    let dir = tempfile::tempdir().expect("tmp");
    let o = run(civitas(dir.path()).args(["secrets", "generate-key"]));
    assert!(o.status.success(), "{}", stderr(&o));
    let key = stdout(&o).trim().to_owned();
    assert_eq!(
        civitas_tenants::sealed::decode_key(&key)
            .expect("base64")
            .len(),
        32
    );
    let pg = match backend {
        Backend::Postgres => Some(PgDatabase::create().await),
        Backend::Sqlite => None,
    };
    let mut cmd = civitas(dir.path());
    with_database(&mut cmd, backend, pg.as_ref());
    let o = run(cmd
        .env("CIVITAS_SECRETS_KEY", &key)
        .args(["secrets", "rewrap"]));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).ends_with(": 0 client secret(s), 0 webhook secret(s)\n"),
        "{}",
        stdout(&o)
    );
    let mut cmd = civitas(dir.path());
    with_database(&mut cmd, backend, pg.as_ref());
    let o = run(cmd
        .env("CIVITAS_SECRETS_OLD_KEYS", "not a key")
        .args(["secrets", "rewrap"]));
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("CIVITAS_SECRETS_OLD_KEYS"),
        "{}",
        stderr(&o)
    );
}
