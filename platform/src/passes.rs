//! One task per body for the outbox workers (webhooks, notifications): a body's pass runs
//! on its own, so one body's slow receiver or server holds up only that body's next pass.

use std::collections::HashSet;
use std::future::Future;
use std::sync::{Arc, Mutex};

use civitas_tenants::{Db, Tenant, TenantStatus, registry};
use uuid::Uuid;

/// The bodies whose pass is under way.
#[derive(Clone, Default)]
pub struct Passes(Arc<Mutex<HashSet<Uuid>>>);

impl Passes {
    /// Starts `pass` for every active body that has none under way; returns how many it
    /// started. A pass that fails is logged as `what`.
    pub async fn start<F, Fut>(&self, db: &Db, what: &'static str, pass: F) -> anyhow::Result<usize>
    where
        F: Fn(Tenant) -> Fut,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let mut started = 0;
        for tenant in registry::list(db).await? {
            if tenant.status != TenantStatus::Active {
                continue;
            }
            let id = tenant.id.0;
            if !self.0.lock().map(|mut b| b.insert(id)).unwrap_or(false) {
                continue;
            }
            started += 1;
            let run = pass(tenant);
            let busy = self.0.clone();
            tokio::spawn(async move {
                if let Err(e) = run.await {
                    tracing::error!(error = %e, tenant = %id, "{what} failed");
                }
                if let Ok(mut b) = busy.lock() {
                    b.remove(&id);
                }
            });
        }
        Ok(started)
    }
}
