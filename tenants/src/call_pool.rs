//! A pool of PostgreSQL connections for [`crate::Db::call_in_tenant`], the single-statement
//! calls of the hot paths (the citizen view).
//!
//! sqlx's pool sends a `Sync` and waits for the answer every time a connection goes back to
//! it, one more round trip per statement: 7% of the server's CPU in the citizen view
//! (`perf`: `return_to_pool`), and a wake-up of a PostgreSQL backend for nothing. Here a
//! connection whose statement finished goes straight back; one whose statement did not (the
//! request was dropped mid-flight, the socket failed) is closed instead, which is what that
//! `Sync` guarded against. A connection idle for a while is pinged before it is reused, as
//! the main pool does.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use sea_orm::sea_query::Values;
use sea_orm::sqlx::postgres::{PgConnectOptions, PgConnection, PgRow};
use sea_orm::sqlx::{self, ConnectOptions, Connection};
use sea_orm::{ConnAcquireErr, DbErr, QueryResult, RuntimeErr};
use sea_query_sqlx::SqlxValues;
use tokio::sync::Semaphore;

const PING_IF_IDLE_FOR: Duration = Duration::from_secs(30);
const CLOSE_IF_IDLE_FOR: Duration = Duration::from_secs(600);
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

pub(crate) struct CallPool {
    options: PgConnectOptions,
    max: u32,
    places: Semaphore,
    idle: Mutex<Vec<(PgConnection, Instant)>>,
}

impl std::fmt::Debug for CallPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (open, idle) = self.stats();
        f.debug_struct("CallPool")
            .field("open", &open)
            .field("idle", &idle)
            .finish()
    }
}

impl CallPool {
    pub(crate) fn new(options: PgConnectOptions, max: u32) -> Self {
        let max = max.max(1);
        Self {
            options,
            max,
            places: Semaphore::new(max as usize),
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Connections open (in use or idle) and idle.
    pub(crate) fn stats(&self) -> (u32, u32) {
        let idle = self.idle.lock().map(|v| v.len()).unwrap_or(0) as u32;
        let in_use = self.max - self.places.available_permits() as u32;
        (in_use + idle, idle)
    }

    /// Runs `sql` with `values`; its first row, if any.
    pub(crate) async fn fetch_optional(
        &self,
        sql: &str,
        values: Values,
    ) -> Result<Option<QueryResult>, DbErr> {
        let _place = tokio::time::timeout(ACQUIRE_TIMEOUT, self.places.acquire())
            .await
            .map_err(|_| DbErr::ConnectionAcquire(ConnAcquireErr::Timeout))?
            .map_err(|_| DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed))?;
        let mut conn = self.take().await?;
        // If this future is dropped while the statement runs, `conn` is dropped with it: a
        // connection in an unknown state is closed, never reused.
        let result = sqlx::query_with(sqlx::AssertSqlSafe(sql), SqlxValues(values))
            .fetch_optional(&mut conn)
            .await;
        match result {
            Ok(row) => {
                self.give_back(conn);
                Ok(row.map(PgRow::into))
            }
            // The server answered with an error: the connection is in step (its next
            // statement waits for the pending ReadyForQuery first).
            Err(sqlx::Error::Database(e)) => {
                self.give_back(conn);
                Err(DbErr::Query(RuntimeErr::SqlxError(
                    sqlx::Error::Database(e).into(),
                )))
            }
            Err(e) => Err(DbErr::Query(RuntimeErr::SqlxError(e.into()))),
        }
    }

    async fn take(&self) -> Result<PgConnection, DbErr> {
        loop {
            let (next, stale) = {
                let mut idle = self.idle.lock().map_err(|_| poisoned())?;
                // Oldest first (pushed in time order): those idle too long leave the pool.
                let fresh = idle.partition_point(|(_, since)| since.elapsed() >= CLOSE_IF_IDLE_FOR);
                let stale: Vec<_> = idle.drain(..fresh).collect();
                // The most recently used first, so that the others age out when load drops.
                (idle.pop(), stale)
            };
            for (conn, _) in stale {
                // Said goodbye to, so that PostgreSQL does not log a lost client.
                tokio::spawn(conn.close());
            }
            match next {
                Some((mut conn, since)) => {
                    if since.elapsed() < PING_IF_IDLE_FOR || conn.ping().await.is_ok() {
                        return Ok(conn);
                    }
                }
                None => {
                    return self
                        .options
                        .connect()
                        .await
                        .map_err(|e| DbErr::Conn(RuntimeErr::SqlxError(e.into())));
                }
            }
        }
    }

    fn give_back(&self, conn: PgConnection) {
        if let Ok(mut idle) = self.idle.lock() {
            idle.push((conn, Instant::now()));
        }
    }
}

fn poisoned() -> DbErr {
    DbErr::Custom("the call pool's lock was poisoned".into())
}
