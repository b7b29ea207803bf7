//! Configuration: command-line flags, then `CIVITAS_*` environment variables, then the
//! configuration file, then defaults. Documented in `docs/configuration.md`.

use std::{
    fmt,
    net::SocketAddr,
    path::{Path, PathBuf},
};

use anyhow::{Context, bail};
use civitas_tenants::identity_providers::ProviderRegistration;
use serde::Deserialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Development,
    Production,
}

/// The settings of one `civitas` process.
#[derive(Clone)]
pub struct Config {
    pub environment: Environment,
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// What requests use. On PostgreSQL: the application role, never the owner.
    pub database_url: String,
    /// What migrations use (the schema owner). When unset, `database_url`.
    pub migration_database_url: Option<String>,
    pub max_connections: u32,
    /// The development token issuer and GraphiQL; refused in production.
    pub dev: bool,
    pub demo: bool,
    pub body_limit_bytes: usize,
    pub graphql_limits: civitas_graphql::Limits,
    /// The URL browsers reach this server at (for the sign-in redirect); when unset, the
    /// request's own host over http.
    pub public_url: Option<String>,
    /// Platform-wide identity providers (citizens' SPID/CIE broker, platform administrators).
    pub identity_providers: Vec<ProviderRegistration>,
    /// How often overdue cases are escalated; 0 turns the job off.
    pub sla_check_seconds: u64,
    /// How often erasure requests are acted on and expired retention erased; 0: off.
    pub erasure_run_seconds: u64,
    /// How often the webhook worker looks for due deliveries; 0 turns it off.
    pub webhook_poll_ms: u64,
    /// How often the notification worker looks for due e-mails; 0 turns it off.
    pub notify_poll_ms: u64,
    /// The secret links the platform signs (unsubscribe) are signed with. When unset, one
    /// is generated into the data directory: set it (the same on every replica) otherwise.
    pub signing_secret: Option<String>,
    /// The consent receipts' Ed25519 key (base64 of its PKCS#8 document); none: one kept in
    /// the data directory (`receipt-key.pk8`).
    pub receipt_key: Option<String>,
    /// Receipt keys replaced by `receipt_key` (base64 PKCS#8, `CIVITAS_RECEIPT_OLD_KEYS`,
    /// comma-separated): published in the key set, never used to sign.
    pub receipt_old_keys: Vec<String>,
    /// The key stored secrets are sealed with (base64 of 32 bytes): `CIVITAS_SECRETS_KEY`,
    /// else the file `secrets_key_file` names; none: one kept in the data directory
    /// (`secrets.key`).
    pub secrets_key: Option<String>,
    /// Keys that sealed secrets before a rotation: they open, never seal
    /// (`CIVITAS_SECRETS_OLD_KEYS`, comma-separated, and the files `secrets_old_key_files`).
    pub secrets_old_keys: Vec<String>,
    /// How long requests in flight may run after SIGTERM.
    pub shutdown_grace_seconds: u64,
    /// Aliased fields allowed in one GraphQL document.
    pub graphql_max_aliases: usize,
    /// PostgreSQL aborts a statement that runs longer (0: no limit).
    pub statement_timeout_ms: u64,
    /// Rate and concurrency limits of a tenant that has none of its own.
    pub default_limits: crate::limits::Limits,
    /// Requests served at once by this process (zero: no limit); the rest wait their turn.
    pub max_in_flight: usize,
    /// How long a request may wait for its turn before OVERLOADED.
    pub in_flight_wait_ms: u64,
    /// Address ranges outbound requests (webhooks, OpenID discovery) may reach although
    /// they are not public: loopback, private, link-local... Empty by default.
    pub outbound_allow: Vec<crate::outbound::Cidr>,
    /// The largest attachment any body takes (a body may set a lower limit).
    pub attachment_max_bytes: u64,
    /// Where attachments' bytes are kept.
    pub attachment_store: AttachmentStore,
    /// The name the citizens' portal shows in its header ("Roma Capitale").
    pub site_name: String,
    /// The body (slug) whose logo and colour the portal wears; none: Bootstrap Italia's.
    pub portal_body: Option<String>,
}

/// Where attachments' bytes are kept.
#[derive(Clone, Debug, Default)]
pub enum AttachmentStore {
    /// `<data dir>/attachments`.
    #[default]
    Disk,
    S3(S3Store),
}

/// An S3-compatible bucket (AWS S3, MinIO, Ceph RGW…).
#[derive(Clone)]
pub struct S3Store {
    pub endpoint: String,
    pub bucket: String,
    pub region: String,
    /// Before the tenant id in every key (such as `attachments/`).
    pub prefix: String,
    /// Bucket in the path (`https://host/bucket/key`), as MinIO wants; else in the host name.
    pub path_style: bool,
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl fmt::Debug for S3Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Store")
            .field("endpoint", &self.endpoint)
            .field("bucket", &self.bucket)
            .finish_non_exhaustive()
    }
}

/// The `[s3]` table of the configuration file. Credentials are named by environment
/// variable, never written in the file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileS3 {
    pub endpoint: String,
    pub bucket: String,
    #[serde(default = "default_region")]
    pub region: String,
    #[serde(default)]
    pub prefix: String,
    #[serde(default = "yes")]
    pub path_style: bool,
    pub access_key_id_env: String,
    pub secret_access_key_env: String,
}

fn default_region() -> String {
    "us-east-1".into()
}

impl FileS3 {
    fn store(&self) -> anyhow::Result<S3Store> {
        let var =
            |name: &str| std::env::var(name).with_context(|| format!("s3: {name} is not set"));
        Ok(S3Store {
            endpoint: self.endpoint.clone(),
            bucket: self.bucket.clone(),
            region: self.region.clone(),
            prefix: self.prefix.clone(),
            path_style: self.path_style,
            access_key_id: var(&self.access_key_id_env)?,
            secret_access_key: var(&self.secret_access_key_env)?,
        })
    }
}

impl fmt::Debug for Config {
    // Database URLs may carry passwords: never print them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("environment", &self.environment)
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field("database", &redact(&self.database_url))
            .field("dev", &self.dev)
            .field("demo", &self.demo)
            .finish_non_exhaustive()
    }
}

/// The URL without its password, for logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            let user = creds.split(':').next().unwrap_or("");
            format!("{}://{}:***@{}", &url[..s], user, &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

/// What the configuration file may hold; every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub environment: Option<Environment>,
    pub listen: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub migration_database_url: Option<String>,
    pub max_connections: Option<u32>,
    pub body_limit_bytes: Option<usize>,
    pub graphql_max_depth: Option<usize>,
    pub graphql_max_complexity: Option<usize>,
    pub public_url: Option<String>,
    #[serde(default)]
    pub identity_providers: Vec<FileProvider>,
    pub sla_check_seconds: Option<u64>,
    pub erasure_run_seconds: Option<u64>,
    pub webhook_poll_ms: Option<u64>,
    pub notify_poll_ms: Option<u64>,
    pub shutdown_grace_seconds: Option<u64>,
    pub graphql_max_aliases: Option<usize>,
    pub statement_timeout_ms: Option<u64>,
    pub tenant_rps: Option<f64>,
    pub tenant_burst: Option<f64>,
    pub principal_rps: Option<f64>,
    pub principal_burst: Option<f64>,
    pub tenant_max_concurrent: Option<usize>,
    pub max_in_flight: Option<usize>,
    pub in_flight_wait_ms: Option<u64>,
    #[serde(default)]
    pub outbound_allow: Vec<String>,
    pub attachment_max_bytes: Option<u64>,
    /// `disk` (the default) or `s3` (then the `[s3]` table).
    pub attachment_store: Option<String>,
    pub site_name: Option<String>,
    pub portal_body: Option<String>,
    pub s3: Option<FileS3>,
    /// A file holding the secrets key (a mounted Kubernetes Secret).
    pub secrets_key_file: Option<PathBuf>,
    #[serde(default)]
    pub secrets_old_key_files: Vec<PathBuf>,
}

/// A key file's text (the key itself is checked where it is used).
fn read_key_file(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

/// A platform-wide identity provider in the configuration file. Bodies register their own
/// through GraphQL (`registerIdentityProvider`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileProvider {
    pub issuer: String,
    pub audiences: Vec<String>,
    pub client_id: Option<String>,
    /// The name of the environment variable holding the client secret: secrets stay out of
    /// the file.
    pub client_secret_env: Option<String>,
    #[serde(default = "default_fiscal_claim")]
    pub fiscal_number_claim: String,
    #[serde(default = "default_roles_claim")]
    pub roles_claim: String,
    /// Whether its tokens may assert a citizen's fiscal code (the SPID/CIE broker: yes).
    #[serde(default = "yes")]
    pub citizen_identities: bool,
}

fn yes() -> bool {
    true
}

fn default_fiscal_claim() -> String {
    "fiscalNumber".into()
}

fn default_roles_claim() -> String {
    "groups".into()
}

impl FileProvider {
    fn registration(&self, index: usize) -> anyhow::Result<ProviderRegistration> {
        let client_secret =
            match &self.client_secret_env {
                Some(var) => Some(std::env::var(var).with_context(|| {
                    format!("identity provider {}: {var} is not set", self.issuer)
                })?),
                None => None,
            };
        Ok(ProviderRegistration {
            // Stable across restarts and replicas, so that a sign-in started on one replica
            // finishes on another.
            id: uuid::Uuid::from_u128(index as u128 + 1),
            tenant: None,
            issuer: self.issuer.trim_end_matches('/').to_owned(),
            audiences: self.audiences.clone(),
            client_id: self.client_id.clone(),
            client_secret,
            fiscal_number_claim: self.fiscal_number_claim.clone(),
            roles_claim: self.roles_claim.clone(),
            service_clients: vec![],
            citizen_identities: self.citizen_identities,
        })
    }
}

impl FileConfig {
    pub fn read(path: &std::path::Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading configuration file {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    }
}

/// The global flags, each also readable from its `CIVITAS_*` variable.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct GlobalArgs {
    /// Configuration file (TOML).
    #[arg(long, env = "CIVITAS_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// development or production.
    #[arg(long, env = "CIVITAS_ENVIRONMENT", global = true)]
    pub environment: Option<Environment>,
    /// Where the embedded database and the development issuer's key live.
    #[arg(long, env = "CIVITAS_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// Database for requests (default: SQLite in the data directory).
    #[arg(
        long,
        env = "CIVITAS_DATABASE_URL",
        global = true,
        hide_env_values = true
    )]
    pub database_url: Option<String>,
    /// Database for migrations, as the schema owner (default: the database URL).
    #[arg(
        long,
        env = "CIVITAS_MIGRATION_DATABASE_URL",
        global = true,
        hide_env_values = true
    )]
    pub migration_database_url: Option<String>,
}

/// Flags of `serve` only.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "CIVITAS_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Enable the development token issuer and GraphiQL (never in production).
    #[arg(long, env = "CIVITAS_DEV")]
    pub dev: bool,
    /// Load the demo data set if it is absent.
    #[arg(long, env = "CIVITAS_DEMO")]
    pub demo: bool,
}

impl Config {
    pub fn resolve(global: &GlobalArgs, serve: &ServeArgs) -> anyhow::Result<Self> {
        let file = match &global.config {
            Some(p) => FileConfig::read(p)?,
            None => FileConfig::default(),
        };
        let environment = global
            .environment
            .or(file.environment)
            .unwrap_or(Environment::Development);
        let data_dir = global
            .data_dir
            .clone()
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("./data"));
        let database_url = match global.database_url.clone().or(file.database_url) {
            Some(u) => u,
            None => format!(
                "sqlite://{}?mode=rwc",
                data_dir.join("civitas.db").display()
            ),
        };
        let default_limits = civitas_graphql::Limits::default();
        let max_connections = file.max_connections.unwrap_or(16);
        let config = Config {
            environment,
            listen: serve
                .listen
                .or(file.listen)
                .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080))),
            data_dir,
            database_url,
            migration_database_url: global
                .migration_database_url
                .clone()
                .or(file.migration_database_url),
            max_connections,
            max_in_flight: file.max_in_flight.unwrap_or(max_connections as usize),
            in_flight_wait_ms: file.in_flight_wait_ms.unwrap_or(10_000),
            dev: serve.dev,
            demo: serve.demo,
            body_limit_bytes: file.body_limit_bytes.unwrap_or(256 * 1024),
            graphql_limits: civitas_graphql::Limits {
                depth: file.graphql_max_depth.unwrap_or(default_limits.depth),
                complexity: file
                    .graphql_max_complexity
                    .unwrap_or(default_limits.complexity),
                ..default_limits
            },
            public_url: std::env::var("CIVITAS_PUBLIC_URL").ok().or(file.public_url),
            sla_check_seconds: file.sla_check_seconds.unwrap_or(60),
            erasure_run_seconds: file.erasure_run_seconds.unwrap_or(300),
            webhook_poll_ms: file.webhook_poll_ms.unwrap_or(1000),
            notify_poll_ms: file.notify_poll_ms.unwrap_or(1000),
            signing_secret: std::env::var("CIVITAS_SIGNING_SECRET").ok(),
            receipt_key: std::env::var("CIVITAS_RECEIPT_KEY").ok(),
            receipt_old_keys: std::env::var("CIVITAS_RECEIPT_OLD_KEYS")
                .map(|v| {
                    v.split(',')
                        .map(str::trim)
                        .filter(|k| !k.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
            secrets_key: match std::env::var("CIVITAS_SECRETS_KEY") {
                Ok(k) => Some(k),
                Err(_) => file
                    .secrets_key_file
                    .as_deref()
                    .map(read_key_file)
                    .transpose()?,
            },
            secrets_old_keys: std::env::var("CIVITAS_SECRETS_OLD_KEYS")
                .ok()
                .into_iter()
                .flat_map(|v| v.split(',').map(str::to_owned).collect::<Vec<_>>())
                .filter(|k| !k.trim().is_empty())
                .map(Ok)
                .chain(file.secrets_old_key_files.iter().map(|p| read_key_file(p)))
                .collect::<anyhow::Result<_>>()?,
            shutdown_grace_seconds: file.shutdown_grace_seconds.unwrap_or(25),
            graphql_max_aliases: file.graphql_max_aliases.unwrap_or(50),
            statement_timeout_ms: file.statement_timeout_ms.unwrap_or(10_000),
            default_limits: {
                let d = crate::limits::Limits::default();
                crate::limits::Limits {
                    tenant_rps: file.tenant_rps.unwrap_or(d.tenant_rps),
                    tenant_burst: file.tenant_burst.unwrap_or(d.tenant_burst),
                    principal_rps: file.principal_rps.unwrap_or(d.principal_rps),
                    principal_burst: file.principal_burst.unwrap_or(d.principal_burst),
                    max_concurrent: file.tenant_max_concurrent.unwrap_or(d.max_concurrent),
                }
            },
            identity_providers: file
                .identity_providers
                .iter()
                .enumerate()
                .map(|(i, p)| p.registration(i))
                .collect::<anyhow::Result<_>>()?,
            outbound_allow: file
                .outbound_allow
                .iter()
                .map(|c| {
                    c.parse()
                        .map_err(|e: String| anyhow::anyhow!("outbound_allow: {e}"))
                })
                .collect::<anyhow::Result<_>>()?,
            attachment_max_bytes: file.attachment_max_bytes.unwrap_or(25 << 20),
            attachment_store: match (file.attachment_store.as_deref(), &file.s3) {
                (None | Some("disk"), _) => AttachmentStore::Disk,
                (Some("s3"), Some(s3)) => AttachmentStore::S3(s3.store()?),
                (Some("s3"), None) => bail!("attachment_store = \"s3\" needs an [s3] table"),
                (Some(other), _) => bail!("attachment_store: {other:?} is neither disk nor s3"),
            },
            site_name: file.site_name.unwrap_or_else(|| "Civitas".to_owned()),
            portal_body: file.portal_body,
        };
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> anyhow::Result<()> {
        if self.dev && self.environment == Environment::Production {
            bail!(
                "the development issuer cannot be enabled in production (drop --dev or CIVITAS_DEV)"
            );
        }
        if !(self.database_url.starts_with("sqlite:") || self.database_url.starts_with("postgres"))
        {
            bail!("database URL must start with sqlite: or postgres://");
        }
        // The outbound guard sends nothing but https in production: say so at start, not
        // at every upload.
        if let AttachmentStore::S3(s3) = &self.attachment_store
            && self.environment == Environment::Production
            && !s3.endpoint.starts_with("https://")
        {
            bail!("s3.endpoint must be an https:// URL in production");
        }
        Ok(())
    }

    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::redact;

    #[rstest]
    #[case(
        "postgres://app:s3cret@db:5432/civitas",
        "postgres://app:***@db:5432/civitas"
    )]
    #[case("postgres://app@db/civitas", "postgres://app:***@db/civitas")]
    #[case(
        "sqlite://data/civitas.db?mode=rwc",
        "sqlite://data/civitas.db?mode=rwc"
    )]
    fn urls_lose_their_password(#[case] url: &str, #[case] shown: &str) {
        assert_eq!(redact(url), shown);
    }
}
