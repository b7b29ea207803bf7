//! Cross-replica invalidation: every replica listens on PostgreSQL's `NOTIFY` channel and
//! drops the cache entries (consents) or reloads the policies another replica changed, and
//! hands case changes to its subscribers.

use std::{sync::Arc, time::Duration};

use civitas_crm::events::EventBus;
use civitas_crm::sharing::ConsentCache;
use civitas_policies::{Authorizer, INVALIDATION_CHANNEL, POLICY_CHANGED};
use civitas_tenants::{ACCESS_CHANGED, Backend, Db};
use sea_orm::sqlx::postgres::PgListener;
use tokio::task::JoinHandle;

/// How often a server on SQLite looks for changes another process committed.
const SQLITE_POLL: Duration = Duration::from_millis(250);

/// Starts the listener on PostgreSQL; on SQLite, a watcher of the database file's version,
/// so that what another process (the CLI) commits, such as a tenant onboarded with its
/// rules, is seen within a second.
pub fn spawn(
    db: &Db,
    consents: ConsentCache,
    authorizer: Arc<Authorizer>,
    events: EventBus,
) -> Option<JoinHandle<()>> {
    if db.backend() != Backend::Postgres {
        return Some(spawn_sqlite_watch(db, consents, authorizer));
    }
    let pool = db.global().get_postgres_connection_pool().clone();
    let access = db.access().clone();
    Some(tokio::spawn(async move {
        loop {
            match PgListener::connect_with(&pool).await {
                Ok(mut listener) => {
                    if let Err(e) = listener
                        .listen_all(std::iter::once(INVALIDATION_CHANNEL).chain(EventBus::CHANNELS))
                        .await
                    {
                        tracing::warn!(error = %e, "cannot LISTEN for invalidations");
                    } else {
                        // Anything may have changed while no one was listening.
                        consents.invalidate_all();
                        access.invalidate_all();
                        if let Err(e) = authorizer.reload().await {
                            tracing::warn!(error = %e, "reloading policies");
                        }
                        loop {
                            match listener.recv().await {
                                Ok(n) if EventBus::CHANNELS.contains(&n.channel()) => {
                                    events.deliver_notice(n.channel(), n.payload())
                                }
                                Ok(n) if n.payload() == ACCESS_CHANGED => access.invalidate_all(),
                                Ok(n) if n.payload() == POLICY_CHANGED => {
                                    if let Err(e) = authorizer.reload().await {
                                        tracing::warn!(error = %e, "reloading policies");
                                    }
                                    // Subscriptions check their rights again.
                                    access.invalidate_all();
                                }
                                Ok(n) => consents.apply_notification(n.payload()).await,
                                Err(e) => {
                                    tracing::warn!(error = %e, "invalidation listener lost its connection");
                                    break;
                                }
                            }
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "cannot connect the invalidation listener"),
            }
            consents.invalidate_all();
            access.invalidate_all();
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }))
}

/// `PRAGMA data_version` changes on a connection whenever another connection commits. A
/// connection of its own (not one of the pool's, whose own writes would go unseen) asks it
/// every [`SQLITE_POLL`]; a change drops the caches and reloads the rules. The server's own
/// writes count as changes too: a reload more, on the embedded single-process default.
fn spawn_sqlite_watch(
    db: &Db,
    consents: ConsentCache,
    authorizer: Arc<Authorizer>,
) -> JoinHandle<()> {
    use sea_orm::sqlx::{ConnectOptions, Connection};
    let options = db.global().get_sqlite_connection_pool().connect_options();
    let access = db.access().clone();
    tokio::spawn(async move {
        let mut seen: Option<i64> = None;
        let mut conn = None;
        let mut first = true;
        loop {
            // The first version is read at once: a change committed before it would be missed.
            if !std::mem::take(&mut first) {
                tokio::time::sleep(SQLITE_POLL).await;
            }
            if conn.is_none() {
                conn = options.connect().await.ok();
            }
            let Some(c) = conn.as_mut() else { continue };
            // Stepped to its end (fetch_one would leave the statement open, and with it a read
            // transaction whose snapshot never sees another commit).
            // The pragma reports what the connection last saw when it read: read first.
            let _ = sea_orm::sqlx::query("SELECT 1 FROM sqlite_master LIMIT 1")
                .fetch_all(&mut *c)
                .await;
            let version: Result<(i64,), _> = sea_orm::sqlx::query_as("PRAGMA data_version")
                .persistent(false)
                .fetch_all(&mut *c)
                .await
                .and_then(|rows: Vec<(i64,)>| {
                    rows.into_iter()
                        .next()
                        .ok_or(sea_orm::sqlx::Error::RowNotFound)
                });
            match version {
                // The first reading counts as a change too: anything committed between the
                // rules' loading and that reading would otherwise go unseen.
                Ok((v,)) if seen != Some(v) => {
                    seen = Some(v);
                    access.invalidate_all();
                    consents.invalidate_all();
                    if let Err(e) = authorizer.reload().await {
                        tracing::warn!(error = %e, "reloading policies");
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "watching the SQLite database for changes");
                    if let Some(c) = conn.take() {
                        let _ = c.close().await;
                    }
                }
            }
        }
    })
}
