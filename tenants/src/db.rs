use std::sync::Arc;
use std::time::Duration;

use crate::call_pool::CallPool;
use crate::{AccessCache, Clock};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbBackend, DbErr};

/// Which engine holds the data. SQLite has no row-level security, so there the scoped layer's
/// own `tenant_id` filters are the only wall; on PostgreSQL they are the second one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The connection pool. Tenant-owned rows are reached only through [`Db::scope`].
#[derive(Clone, Debug)]
pub struct Db {
    conn: DatabaseConnection,
    /// PostgreSQL only: the pool of [`Db::call_in_tenant`].
    calls: Option<Arc<CallPool>>,
    backend: Backend,
    clock: Clock,
    access: AccessCache,
    /// Seals and opens the secrets stored in rows (`sealed`).
    keyring: Arc<crate::sealed::Keyring>,
}

impl Db {
    /// `statement_timeout` (PostgreSQL only; zero: none) stops a runaway query from holding a
    /// connection that other tenants' requests need.
    pub async fn connect(
        url: &str,
        max_connections: u32,
        statement_timeout: Duration,
    ) -> Result<Self, DbErr> {
        let mut opts = ConnectOptions::new(url.to_owned());
        if !statement_timeout.is_zero() && url.starts_with("postgres") {
            opts.statement_timeout(statement_timeout);
        }
        // Every query here is a short one. JIT compiles a plan whose estimated cost passes a
        // threshold, whether or not its costly part runs: a gated scan of a big table once
        // cost a citizen view 300-450 ms of compiling (migration 9).
        opts.map_sqlx_postgres_opts(|o| o.options([("jit", "off")]));
        opts.max_connections(max_connections)
            .min_connections(1)
            .connect_timeout(Duration::from_secs(10))
            .acquire_timeout(Duration::from_secs(10))
            // A ping on every checkout is one more round trip per request (a citizen view
            // makes eight); a connection idle this long may have been cut, so ping that one.
            .test_before_acquire_if_idle_for(Duration::from_secs(30))
            .sqlx_logging(false);
        let conn = Database::connect(opts).await?;
        Ok(Self::from_connection(conn))
    }

    pub fn from_connection(conn: DatabaseConnection) -> Self {
        let backend = match conn.get_database_backend() {
            DbBackend::Postgres => Backend::Postgres,
            _ => Backend::Sqlite,
        };
        // The calls' pool opens its connections exactly as the main pool does (statement
        // timeout, session settings) and holds as many at most.
        let calls = (backend == Backend::Postgres).then(|| {
            let pool = conn.get_postgres_connection_pool();
            Arc::new(CallPool::new(
                pool.connect_options().as_ref().clone(),
                pool.options().get_max_connections(),
            ))
        });
        Self {
            conn,
            calls,
            backend,
            clock: Clock::default(),
            access: AccessCache::default(),
            keyring: Arc::default(),
        }
    }

    /// The same pool with another clock (tests).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The same pool sealing secrets with `keyring` (the server's, from its configuration;
    /// without one, a key that dies with the process).
    pub fn with_keyring(mut self, keyring: crate::sealed::Keyring) -> Self {
        self.keyring = Arc::new(keyring);
        self
    }

    pub fn keyring(&self) -> &crate::sealed::Keyring {
        &self.keyring
    }

    /// The cache of tenants and memberships every request looks up.
    pub fn access(&self) -> &AccessCache {
        &self.access
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The pool, for global tables (tenants, persons, policies) only.
    pub fn global(&self) -> &DatabaseConnection {
        &self.conn
    }

    pub(crate) fn calls(&self) -> Option<&CallPool> {
        self.calls.as_deref()
    }

    /// Connections open in the pools, and how many of them are idle.
    pub fn pool_stats(&self) -> (u32, u32) {
        let (open, idle) = self.calls.as_ref().map_or((0, 0), |c| c.stats());
        let (main_open, main_idle) = match self.backend {
            Backend::Postgres => {
                let p = self.conn.get_postgres_connection_pool();
                (p.size(), p.num_idle() as u32)
            }
            Backend::Sqlite => {
                let p = self.conn.get_sqlite_connection_pool();
                (p.size(), p.num_idle() as u32)
            }
        };
        (open + main_open, idle + main_idle)
    }

    pub async fn ping(&self) -> Result<(), DbErr> {
        self.conn.ping().await
    }
}
