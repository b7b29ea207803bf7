//! Cross-replica invalidation: every replica listens on PostgreSQL's `NOTIFY` channel and
//! drops the cache entries (consents) or reloads the policies another replica changed, and
//! hands case changes to its subscribers.

use std::{sync::Arc, time::Duration};

use civitas_crm::sharing::ConsentCache;
use civitas_graphql::events::{CASE_CHANNEL, EventBus};
use civitas_policies::{Authorizer, INVALIDATION_CHANNEL, POLICY_CHANGED};
use civitas_tenants::{ACCESS_CHANGED, Backend, Db};
use sea_orm::sqlx::postgres::PgListener;
use tokio::task::JoinHandle;

/// Starts the listener on PostgreSQL; SQLite serves one process and needs none.
pub fn spawn(
    db: &Db,
    consents: ConsentCache,
    authorizer: Arc<Authorizer>,
    events: EventBus,
) -> Option<JoinHandle<()>> {
    if db.backend() != Backend::Postgres {
        return None;
    }
    let pool = db.global().get_postgres_connection_pool().clone();
    let access = db.access().clone();
    Some(tokio::spawn(async move {
        loop {
            match PgListener::connect_with(&pool).await {
                Ok(mut listener) => {
                    if let Err(e) = listener
                        .listen_all([INVALIDATION_CHANNEL, CASE_CHANNEL])
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
                                Ok(n) if n.channel() == CASE_CHANNEL => {
                                    match serde_json::from_str(n.payload()) {
                                        Ok(change) => events.deliver_local(change),
                                        Err(e) => {
                                            tracing::warn!(error = %e, "unreadable case change")
                                        }
                                    }
                                }
                                Ok(n) if n.payload() == ACCESS_CHANGED => access.invalidate_all(),
                                Ok(n) if n.payload() == POLICY_CHANGED => {
                                    if let Err(e) = authorizer.reload().await {
                                        tracing::warn!(error = %e, "reloading policies");
                                    }
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
