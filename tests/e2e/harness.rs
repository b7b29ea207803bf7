//! `TestApp::spawn`: a fresh database and a server on a random port, per test.

use std::{net::SocketAddr, path::PathBuf, process::Command, sync::Arc, sync::OnceLock};

use civitas::dev_issuer::TokenRequest;
use civitas::{App, Config, Environment};
use civitas_tenants::{Clock, PrincipalKind, Role};
use serde_json::{Value, json};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub use Backend::{Postgres, Sqlite};

pub const PG_HOST: &str = "127.0.0.1:5432";

pub fn pg_url(user: &str, db: &str) -> String {
    format!("postgres://{user}@{PG_HOST}/{db}")
}

/// Makes sure PostgreSQL answers, starting the local cluster if it is down. A test that
/// needs it fails when it cannot be had: it never skips.
pub fn ensure_postgres() {
    static READY: OnceLock<Result<(), String>> = OnceLock::new();
    let r = READY.get_or_init(|| {
        let up = || std::net::TcpStream::connect(PG_HOST).is_ok();
        if up() {
            return Ok(());
        }
        let _ = Command::new("sh")
            .args([
                "-c",
                "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
            ])
            .status();
        for _ in 0..50 {
            if up() {
                return Ok(());
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        Err(format!(
            "PostgreSQL is not reachable on {PG_HOST}; run scripts/test, which starts it"
        ))
    });
    if let Err(e) = r {
        panic!("{e}");
    }
}

async fn admin_exec(sql: &str) {
    use sea_orm::{ConnectionTrait, Database};
    let conn = Database::connect(pg_url("postgres", "postgres"))
        .await
        .expect("connect as postgres");
    conn.execute_unprepared(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    conn.close().await.ok();
}

/// A PostgreSQL database that is dropped when the test ends.
pub struct PgDatabase {
    pub name: String,
}

impl PgDatabase {
    pub async fn create() -> Self {
        ensure_postgres();
        let name = format!("civitas_t_{}", uuid::Uuid::new_v4().simple());
        admin_exec(&format!("CREATE DATABASE {name}")).await;
        PgDatabase { name }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        // Drop runs outside async; a thread of its own gets a runtime of its own.
        let _ = std::thread::spawn(move || {
            if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                rt.block_on(admin_exec(&sql));
            }
        })
        .join();
    }
}

pub struct TestApp {
    pub addr: SocketAddr,
    pub clock: Clock,
    pub config: Config,
    pub app: Arc<App>,
    pub client: reqwest::Client,
    pub data_dir: PathBuf,
    pub pg: Option<PgDatabase>,
    _dir: tempfile::TempDir,
}

/// The settings of a test server: development mode, a private data directory.
pub fn test_config(backend: Backend, dir: &std::path::Path, pg: Option<&PgDatabase>) -> Config {
    let (database_url, migration_database_url) = match (backend, pg) {
        (Backend::Postgres, Some(db)) => (
            pg_url(civitas_migrations::APP_ROLE, &db.name),
            Some(pg_url("postgres", &db.name)),
        ),
        _ => (
            format!("sqlite://{}?mode=rwc", dir.join("civitas.db").display()),
            None,
        ),
    };
    Config {
        environment: Environment::Development,
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        data_dir: dir.to_path_buf(),
        database_url,
        migration_database_url,
        max_connections: 8,
        dev: true,
        demo: false,
        body_limit_bytes: 64 * 1024,
        graphql_limits: civitas_graphql::Limits::default(),
        public_url: None,
        identity_providers: vec![],
        sla_check_seconds: 0,
        erasure_run_seconds: 0,
        webhook_poll_ms: 200,
        notify_poll_ms: 200,
        signing_secret: Some("test-signing-secret".into()),
        receipt_key: None,
        receipt_old_keys: vec![],
        secrets_key: None,
        secrets_old_keys: vec![],
        shutdown_grace_seconds: 5,
        graphql_max_aliases: 50,
        statement_timeout_ms: 10_000,
        default_limits: civitas::limits::Limits::default(),
        max_in_flight: 8,
        in_flight_wait_ms: 10_000,
        // The tests' receivers and OpenID provider listen on loopback.
        outbound_allow: vec!["127.0.0.1/32".parse().expect("cidr")],
        attachment_max_bytes: 1 << 20,
        attachment_store: civitas::config::AttachmentStore::Disk,
        site_name: "Civitas".into(),
        portal_body: None,
    }
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, |_| {}).await
    }

    pub async fn spawn_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let pg = match backend {
            Backend::Postgres => Some(PgDatabase::create().await),
            Backend::Sqlite => None,
        };
        let mut config = test_config(backend, dir.path(), pg.as_ref());
        tweak(&mut config);
        let clock = Clock::default();
        let (app, addr) = serve(config.clone(), clock.clone()).await;
        TestApp {
            addr,
            clock,
            config,
            app,
            client: reqwest::Client::new(),
            data_dir: dir.path().to_path_buf(),
            pg,
            _dir: dir,
        }
    }

    /// Another server on the same database and data directory (the same dev issuer key),
    /// as a second replica behind a load balancer would be.
    pub async fn replica(&self) -> Replica {
        self.replica_with(|_| {}).await
    }

    pub async fn replica_with(&self, tweak: impl FnOnce(&mut Config)) -> Replica {
        let mut config = self.config.clone();
        config.migration_database_url = None;
        tweak(&mut config);
        let (app, addr) = serve(config, self.clock.clone()).await;
        Replica { app, addr }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// The Prometheus exposition at `/metrics`.
    pub async fn metrics_text(&self) -> String {
        self.client
            .get(self.url("/metrics"))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text")
    }

    /// A connection to this test's PostgreSQL database as its owner (no row-level security).
    pub async fn owner(&self) -> sea_orm::DatabaseConnection {
        let name = &self.pg.as_ref().expect("a PostgreSQL test").name;
        sea_orm::Database::connect(pg_url("postgres", name))
            .await
            .expect("connect as owner")
    }

    /// A connection that reads and writes past row-level security: the owner on
    /// PostgreSQL, the one database on SQLite.
    pub async fn unrestricted(&self) -> sea_orm::DatabaseConnection {
        match self.pg {
            Some(_) => self.owner().await,
            None => self.app.db.global().clone(),
        }
    }

    /// The `n` of `sql` (`SELECT COUNT(*) AS n …`), read past row-level security.
    pub async fn count(&self, sql: &str) -> i64 {
        use sea_orm::{ConnectionTrait, Statement};
        let conn = self.unrestricted().await;
        conn.query_one_raw(Statement::from_string(conn.get_database_backend(), sql))
            .await
            .expect("count")
            .expect("row")
            .try_get::<i64>("", "n")
            .expect("n")
    }

    /// The personal-data export of the citizen whose token this is.
    pub async fn my_data(&self, token: &str) -> Value {
        let r = self
            .client
            .get(self.url("/export/my-data.json"))
            .bearer_auth(token)
            .send()
            .await
            .expect("export");
        assert_eq!(r.status(), 200);
        r.json().await.expect("json")
    }

    /// A development token for an operator-like principal.
    pub fn token(&self, subject: &str, tenant: Option<&str>, roles: &[Role]) -> String {
        self.token_with(TokenRequest {
            subject: subject.into(),
            kind: PrincipalKind::Operator,
            name: None,
            tenant: tenant.map(str::to_owned),
            roles: roles.to_vec(),
            fiscal_code: None,
            ttl: chrono_minutes(30),
        })
    }

    pub fn token_with(&self, req: TokenRequest) -> String {
        self.app
            .auth
            .dev_issuer()
            .expect("dev issuer")
            .mint(&req)
            .expect("mint")
    }

    /// A citizen's token, as SPID would vouch for their codice fiscale.
    pub fn citizen(&self, fiscal_code: &str) -> String {
        self.token_with(TokenRequest {
            subject: format!("spid-{fiscal_code}"),
            kind: PrincipalKind::Citizen,
            name: None,
            tenant: None,
            roles: vec![],
            fiscal_code: Some(fiscal_code.to_owned()),
            ttl: chrono_minutes(30),
        })
    }

    /// Registers a citizen in `slug` through its operator `op`; returns the profile.
    pub async fn register(
        &self,
        op: &str,
        fiscal_code: Option<&str>,
        given: &str,
        family: &str,
        phones: &[&str],
    ) -> Value {
        let body = self
            .gql(
                op,
                "mutation($i: RegisterCitizenInput!) { registerCitizen(input: $i) { id personId fiscalCode givenName familyName phones emails tenant { slug } } }",
                json!({ "i": { "fiscalCode": fiscal_code, "givenName": given, "familyName": family, "phones": phones } }),
            )
            .await;
        assert_no_errors(&body);
        body["data"]["registerCitizen"].clone()
    }

    pub fn platform_admin(&self) -> String {
        self.token("platform-admin", None, &[Role::PlatformAdmin])
    }

    /// Posts a GraphQL document; returns the HTTP status and the JSON body.
    pub async fn post(
        &self,
        token: Option<&str>,
        tenant: Option<&str>,
        query: &str,
        vars: Value,
    ) -> (u16, Value) {
        let mut req = self
            .client
            .post(self.url("/graphql"))
            .json(&json!({ "query": query, "variables": vars }));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(t) = tenant {
            req = req.header("X-Civitas-Tenant", t);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        (status, resp.json().await.expect("json body"))
    }

    pub async fn gql(&self, token: &str, query: &str, vars: Value) -> Value {
        self.post(Some(token), None, query, vars).await.1
    }

    /// Onboards a tenant with an administrator whose subject is `<slug>-admin`.
    pub async fn onboard(&self, slug: &str) -> Value {
        let body = self
            .gql(
                &self.platform_admin(),
                ONBOARD,
                json!({ "input": {
                    "slug": slug, "displayName": format!("Ente {slug}"), "kind": "MUNICIPIO",
                    "admin": { "subject": format!("{slug}-admin"), "displayName": "Admin" }
                }}),
            )
            .await;
        assert_no_errors(&body);
        body
    }

    /// Onboards `slug` with a CERT service and `notifications` as its notification
    /// settings; returns the token of an operator of it.
    pub async fn body_with_notifications(&self, slug: &str, notifications: Value) -> String {
        self.onboard(slug).await;
        let admin = self.admin_of(slug);
        let s = self
            .gql(
                &admin,
                "mutation($s: JSON!) { updateTenantSettings(settings: $s) { settings } }",
                json!({ "s": { "notifications": notifications } }),
            )
            .await;
        assert_no_errors(&s);
        let svc = self.gql(&admin, "mutation { createService(input: { code: \"CERT\", name: \"Certificato\", area: \"Anagrafe\" }) { code } }", json!({})).await;
        assert_no_errors(&svc);
        self.member(slug, &format!("{slug}-op"), Role::Operator)
            .await
    }

    /// The administrator token of a tenant made by [`TestApp::onboard`].
    pub fn admin_of(&self, slug: &str) -> String {
        self.token(&format!("{slug}-admin"), Some(slug), &[])
    }

    /// Grants `role` in `slug` to `subject` and returns a token for them.
    pub async fn member(&self, slug: &str, subject: &str, role: Role) -> String {
        let body = self
            .gql(
                &self.admin_of(slug),
                "mutation($s: String!, $r: Role!) { grantRole(subject: $s, role: $r) { subject } }",
                json!({ "s": subject, "r": role_enum(role) }),
            )
            .await;
        assert_no_errors(&body);
        self.token(subject, Some(slug), &[])
    }
}

pub struct Replica {
    pub app: Arc<App>,
    pub addr: SocketAddr,
}

async fn serve(config: Config, clock: Clock) -> (Arc<App>, SocketAddr) {
    let app = Arc::new(
        civitas::build_with_clock(config, clock)
            .await
            .expect("build app"),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let router = civitas::router(app.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (app, addr)
}

/// Posts a document with an `Idempotency-Key`; the status, the `Idempotent-Replayed`
/// header and the body.
pub async fn post_keyed(
    app: &TestApp,
    token: &str,
    key: &str,
    query: &str,
) -> (u16, Option<String>, Value) {
    let resp = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(&json!({ "query": query }))
        .send()
        .await
        .expect("send");
    let status = resp.status().as_u16();
    let replayed = resp
        .headers()
        .get("idempotent-replayed")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (status, replayed, resp.json().await.expect("json"))
}

pub fn chrono_minutes(m: i64) -> chrono::Duration {
    chrono::Duration::minutes(m)
}

pub fn role_enum(r: Role) -> String {
    r.as_str().to_uppercase()
}

pub const ONBOARD: &str = "mutation($input: OnboardTenantInput!) { onboardTenant(input: $input) { tenant { id slug status kind } admin { subject roles } } }";

/// The nodes of a Relay connection's edges, in order.
pub fn nodes(connection: &Value) -> Vec<Value> {
    connection["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

pub fn assert_no_errors(body: &Value) {
    assert!(body.get("errors").is_none(), "unexpected errors: {body:#}");
}

/// The `extensions.code` of the first error.
pub fn error_code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("expected an error with a code: {body:#}"))
}
