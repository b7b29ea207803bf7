//! Wiring: the database, the schema, the authorizer and the token issuer of one process.

use std::sync::Arc;

use anyhow::{Context, bail};
use civitas_crm::events::EventBus;
use civitas_crm::sharing::ConsentCache;
use civitas_graphql::{AppState, CivitasSchema, build_schema};
use civitas_migrations::{Migrator, MigratorTrait};
use civitas_policies::Authorizer;
use civitas_tenants::sealed::Keyring;
use civitas_tenants::{Backend, Clock, Db};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};

use crate::config::{Config, redact};
use crate::dev_issuer::DevIssuer;
use crate::identity::Authenticator;

/// Everything a request handler needs.
pub struct App {
    pub config: Config,
    pub state: AppState,
    pub db: Db,
    pub authorizer: Arc<Authorizer>,
    pub consents: ConsentCache,
    pub schema: CivitasSchema,
    pub auth: Authenticator,
    pub metrics: Arc<crate::metrics::Metrics>,
    pub limiter: crate::limits::Limiter,
    pub gate: crate::limits::Gate,
    pub documents: crate::document::Documents,
    listener: Option<tokio::task::JoinHandle<()>>,
    sla_job: Option<tokio::task::JoinHandle<()>>,
    erasure_job: Option<tokio::task::JoinHandle<()>>,
    webhook_worker: Option<tokio::task::JoinHandle<()>>,
    notify_worker: Option<tokio::task::JoinHandle<()>>,
}

impl App {
    /// Stops the listener, the SLA job and the webhook and notification workers. Their state is in the
    /// database (a delivery interrupted mid-flight stays pending and is retried), so
    /// stopping loses nothing.
    pub fn stop_background_tasks(&self) {
        for task in [
            &self.listener,
            &self.sla_job,
            &self.erasure_job,
            &self.webhook_worker,
            &self.notify_worker,
        ]
        .into_iter()
        .flatten()
        {
            task.abort();
        }
    }
}

impl Drop for App {
    fn drop(&mut self) {
        self.stop_background_tasks();
    }
}

/// Escalates overdue cases every `seconds`, on every replica (escalation is idempotent).
fn spawn_sla_job(
    db: &Db,
    events: EventBus,
    metrics: Arc<crate::metrics::Metrics>,
    seconds: u64,
) -> Option<tokio::task::JoinHandle<()>> {
    if seconds == 0 {
        return None;
    }
    let db = db.clone();
    Some(tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(seconds));
        loop {
            tick.tick().await;
            match civitas_crm::cases::sla::escalate_and_count(&db, db.clock().now()).await {
                Ok((notices, overdue)) => {
                    metrics.set_overdue(overdue);
                    events.committed(notices);
                }
                Err(e) => tracing::error!(error = %e, "SLA escalation run failed"),
            }
        }
    }))
}

/// Acts on erasure requests and erases restricted cases whose retention ended, and sends
/// the questionnaires of initiatives that ended, every `seconds`, on every replica (a body's step is unique per request: a second replica's
/// attempt rolls back).
fn spawn_erasure_job(
    app: &civitas_crm::app::App,
    seconds: u64,
) -> Option<tokio::task::JoinHandle<()>> {
    if seconds == 0 {
        return None;
    }
    let app = app.clone();
    Some(tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(seconds));
        loop {
            tick.tick().await;
            if let Err(e) = civitas_crm::app::erasure::run(&app).await {
                tracing::error!(error = %e, "erasure run failed");
            }
            // The same housekeeping beat asks the participants of initiatives that ended.
            if let Err(e) = civitas_crm::app::surveys::send_due(&app).await {
                tracing::error!(error = %e, "sending the surveys of ended initiatives failed");
            }
        }
    }))
}

/// Applies pending migrations, as the schema owner.
/// The schema owner's connection of a one-shot command. No idle timeout and no maximum
/// lifetime: sqlx then starts no maintenance task, whose loop (sqlx-core 0.9.0) was seen
/// spinning on a closed SQLite pool, so that `civitas migrate` never exited (once in three
/// CI runs).
async fn owner_connection(url: &str) -> anyhow::Result<DatabaseConnection> {
    let mut options = sea_orm::ConnectOptions::new(url.to_owned());
    options
        .idle_timeout(None::<std::time::Duration>)
        .max_lifetime(None::<std::time::Duration>);
    Database::connect(options)
        .await
        .with_context(|| format!("connecting to {} to migrate", redact(url)))
}

pub async fn migrate(url: &str) -> anyhow::Result<()> {
    let conn = owner_connection(url).await?;
    Migrator::up(&conn, None)
        .await
        .context("applying migrations")?;
    conn.close().await?;
    Ok(())
}

/// Rolls back the newest `n` applied migrations; returns their names, newest first.
pub async fn migrate_down(url: &str, n: u32) -> anyhow::Result<Vec<String>> {
    let conn = owner_connection(url).await?;
    let applied = Migrator::get_applied_migrations(&conn)
        .await
        .context("reading applied migrations")?;
    let names = applied
        .iter()
        .rev()
        .take(n as usize)
        .map(|m| m.name().to_owned())
        .collect();
    Migrator::down(&conn, Some(n))
        .await
        .context("rolling back migrations")?;
    conn.close().await?;
    Ok(names)
}

/// Connects the request pool, migrating first where this process is the one that should.
pub async fn connect(config: &Config) -> anyhow::Result<Db> {
    if config.is_sqlite() {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("creating {}", config.data_dir.display()))?;
    }
    match (&config.migration_database_url, config.is_sqlite()) {
        (Some(owner), _) => migrate(owner).await?,
        (None, true) => migrate(&config.database_url).await?,
        (None, false) => {}
    }
    let db = Db::connect(
        &config.database_url,
        config.max_connections,
        std::time::Duration::from_millis(config.statement_timeout_ms),
    )
    .await
    .with_context(|| format!("connecting to {}", redact(&config.database_url)))?
    .with_keyring(keyring(config)?);
    if db.backend() == Backend::Postgres {
        refuse_privileged_role(&db).await?;
    }
    let pending = Migrator::get_pending_migrations_read_only(db.global())
        .await
        .context("reading the migration state")?;
    if !pending.is_empty() {
        bail!(
            "{} migration(s) pending: run `civitas migrate` with the owner's URL first",
            pending.len()
        );
    }
    Ok(db)
}

/// Row-level security does not bind a superuser, a role with BYPASSRLS, or the tables'
/// owner: serving requests as one of those would leave a single wall between tenants.
async fn refuse_privileged_role(db: &Db) -> anyhow::Result<()> {
    let row = db
        .global()
        .query_one_raw(Statement::from_string(
            db.global().get_database_backend(),
            "SELECT current_user::text AS who, (rolsuper OR rolbypassrls) AS privileged, \
             EXISTS (SELECT 1 FROM pg_tables WHERE tableowner = current_user AND tablename = 'tenants') AS owner \
             FROM pg_roles WHERE rolname = current_user",
        ))
        .await?
        .context("reading the current role")?;
    let who: String = row.try_get("", "who")?;
    let privileged: bool = row.try_get("", "privileged")?;
    let owner: bool = row.try_get("", "owner")?;
    if privileged || owner {
        bail!(
            "refusing to serve as PostgreSQL role {who:?}: it bypasses row-level security. \
             Connect CIVITAS_DATABASE_URL as {} and give the owner's URL in CIVITAS_MIGRATION_DATABASE_URL",
            civitas_migrations::APP_ROLE
        );
    }
    Ok(())
}

/// The secret of signed links: the configured one, else one kept in the data directory
/// (created at the first start).
fn signing_secret(config: &Config) -> anyhow::Result<Vec<u8>> {
    if let Some(s) = &config.signing_secret {
        if s.len() < 16 {
            bail!("CIVITAS_SIGNING_SECRET must be at least 16 characters");
        }
        return Ok(s.as_bytes().to_vec());
    }
    kept(config, "signing.key", || {
        Ok(format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        )
        .into_bytes())
    })
}

/// The consent receipts' key: the configured one (base64 of an Ed25519 PKCS#8 document),
/// else one kept in the data directory.
fn receipt_signer(config: &Config) -> anyhow::Result<civitas_crm::receipts::Signer> {
    use base64::Engine;
    use civitas_crm::receipts::Signer;
    let der = match &config.receipt_key {
        Some(k) => base64::engine::general_purpose::STANDARD
            .decode(k.trim())
            .context("CIVITAS_RECEIPT_KEY must be the base64 of an Ed25519 PKCS#8 key")?,
        None => kept(config, "receipt-key.pk8", || {
            Signer::generate().map_err(|e| anyhow::anyhow!("{e}"))
        })?,
    };
    let retired = config
        .receipt_old_keys
        .iter()
        .map(|k| base64::engine::general_purpose::STANDARD.decode(k))
        .collect::<Result<Vec<_>, _>>()
        .context("CIVITAS_RECEIPT_OLD_KEYS must be base64 Ed25519 PKCS#8 keys")?;
    Signer::from_pkcs8(&der)
        .and_then(|s| s.with_retired(&retired))
        .map_err(|e| anyhow::anyhow!("receipt key: {e}"))
}

/// Seals again, under the current key, every stored secret that is in plain text or under
/// an older key: identity providers' client secrets, then each body's webhook secrets.
/// How many of each.
pub async fn rewrap_secrets(db: &Db) -> anyhow::Result<(u64, u64)> {
    let providers = civitas_tenants::identity_providers::rewrap_secrets(db).await?;
    let mut hooks = 0;
    for tenant in civitas_tenants::registry::list(db).await? {
        let scope = db
            .scope(&civitas_tenants::TenantContext::system(tenant, "secrets"))
            .await?;
        hooks += civitas_crm::webhooks::rewrap_secrets(&scope, db.keyring()).await?;
        scope.commit().await?;
    }
    Ok((providers, hooks))
}

/// The keyring stored secrets are sealed with: the configured key (and the old ones, which
/// only open), else one kept in the data directory.
pub fn keyring(config: &Config) -> anyhow::Result<Keyring> {
    use civitas_tenants::sealed::decode_key;
    let current = match &config.secrets_key {
        Some(k) => decode_key(k).context("CIVITAS_SECRETS_KEY (or secrets_key_file)")?,
        None => {
            let text = kept(config, "secrets.key", || {
                Ok(Keyring::generate_key().into_bytes())
            })?;
            decode_key(&String::from_utf8_lossy(&text))
                .context("the data directory's secrets.key")?
        }
    };
    let older = config
        .secrets_old_keys
        .iter()
        .map(|k| decode_key(k))
        .collect::<Result<Vec<_>, _>>()
        .context("CIVITAS_SECRETS_OLD_KEYS (or secrets_old_key_files)")?;
    Ok(Keyring::new(&current, &older)?)
}

/// A secret kept in the data directory, readable by its owner only: read, or made by
/// `fresh` and written at the first start.
fn kept(
    config: &Config,
    name: &str,
    fresh: impl FnOnce() -> anyhow::Result<Vec<u8>>,
) -> anyhow::Result<Vec<u8>> {
    let path = config.data_dir.join(name);
    if let Ok(s) = std::fs::read(&path) {
        return Ok(s);
    }
    std::fs::create_dir_all(&config.data_dir)?;
    let fresh = fresh()?;
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .and_then(|mut f| f.write_all(&fresh))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(fresh)
}

pub async fn build(config: Config) -> anyhow::Result<App> {
    build_with_clock(config, Clock::default()).await
}

/// As [`build`], with a clock that tests can move.
pub async fn build_with_clock(config: Config, clock: Clock) -> anyhow::Result<App> {
    let db = connect(&config).await?.with_clock(clock);
    let authorizer = Arc::new(
        Authorizer::load(db.global().clone())
            .await
            .context("loading policies")?,
    );
    let dev_issuer = if config.dev {
        Some(DevIssuer::load_or_create(&config.data_dir)?)
    } else {
        None
    };
    if config.demo {
        crate::demo::load(&db, &authorizer).await?;
    }
    let consents = ConsentCache::default();
    let events = EventBus::default();
    let policy = crate::outbound::Policy {
        https_only: config.environment == crate::config::Environment::Production,
        allow: config.outbound_allow.clone(),
    };
    let state = AppState {
        db: db.clone(),
        authorizer: authorizer.clone(),
        consents: consents.clone(),
        events: events.clone(),
        reserved_issuers: config
            .identity_providers
            .iter()
            .map(|r| r.issuer.clone())
            .chain([crate::dev_issuer::ISSUER.to_owned()])
            .collect(),
        outbound: Arc::new(policy.clone()),
        links: civitas_crm::notify::LinkSigner::new(&signing_secret(&config)?),
        receipts: Arc::new(receipt_signer(&config)?),
        public_url: config
            .public_url
            .as_ref()
            .map(|u| u.trim_end_matches('/').to_owned()),
        files: civitas_crm::app::Files {
            store: match &config.attachment_store {
                crate::config::AttachmentStore::Disk => Arc::new(crate::blobs::DiskStore::new(
                    config.data_dir.join("attachments"),
                )),
                crate::config::AttachmentStore::S3(s3) => Arc::new(crate::blobs::S3Store::new(
                    s3,
                    crate::outbound::Outbound::new(
                        policy.clone(),
                        std::time::Duration::from_secs(60),
                    )?,
                    config.attachment_max_bytes,
                )?),
            },
            ceiling: config.attachment_max_bytes,
        },
    };
    let schema = build_schema(state.clone(), config.graphql_limits);
    let listener =
        crate::invalidation::spawn(&db, consents.clone(), authorizer.clone(), events.clone());
    let metrics = Arc::new(crate::metrics::Metrics::default());
    let sla_job = spawn_sla_job(&db, events, metrics.clone(), config.sla_check_seconds);
    let erasure_job = spawn_erasure_job(&state, config.erasure_run_seconds);
    let outbound = crate::outbound::Outbound::new(policy, std::time::Duration::from_secs(10))?;
    let webhook_worker = crate::webhooks::spawn(
        &db,
        metrics.clone(),
        config.webhook_poll_ms,
        outbound.clone(),
    )?;
    let mailer = crate::mailer::Mailer::new(
        crate::outbound::Policy {
            https_only: false,
            allow: config.outbound_allow.clone(),
        },
        std::time::Duration::from_secs(10),
    );
    let base_url = config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", config.listen));
    let notify_worker = crate::notify::spawn(
        crate::notify::Worker::new(
            &db,
            mailer,
            outbound.clone(),
            state.links.clone(),
            &base_url,
            metrics.clone(),
        ),
        config.notify_poll_ms,
    );
    let limiter = crate::limits::Limiter::new(config.default_limits);
    let gate = crate::limits::Gate::new(
        config.max_in_flight,
        std::time::Duration::from_millis(config.in_flight_wait_ms),
    );
    let auth = Authenticator::new(
        db.clone(),
        dev_issuer,
        config.identity_providers.clone(),
        outbound,
    )?;
    Ok(App {
        state,
        db,
        authorizer,
        consents,
        config,
        schema,
        auth,
        limiter,
        gate,
        documents: Default::default(),
        metrics,
        listener,
        sla_job,
        erasure_job,
        webhook_worker,
        notify_worker,
    })
}
