//! Real-time events of the domain: what subscribers learn when a case changes. A change is
//! announced inside the transaction that makes it (PostgreSQL `NOTIFY`, delivered to every
//! replica at commit and never for a rolled-back change); on SQLite, where there is one
//! replica, the use case hands it to the local bus after the commit.

use std::pin::Pin;

use chrono::{DateTime, Utc};
use civitas_tenants::{Notice, Scope};
use futures::{Stream, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use uuid::Uuid;

use crate::Result;

/// The `NOTIFY` channel of case changes.
pub const CASE_CHANNEL: &str = "civitas_cases";

/// What happened to a case; the word is the history event's kind and the webhook's
/// `case.<kind>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseEventKind {
    Created,
    StatusChanged,
    Reopened,
    Assigned,
    Escalated,
    Synced,
}

impl CaseEventKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            CaseEventKind::Created => "created",
            CaseEventKind::StatusChanged => "status_changed",
            CaseEventKind::Reopened => "reopened",
            CaseEventKind::Assigned => "assigned",
            CaseEventKind::Escalated => "escalated",
            CaseEventKind::Synced => "synced",
        }
    }
}

/// What subscribers learn of a change: enough to refresh a view, nothing more.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CaseChange {
    pub tenant_id: Uuid,
    pub case_id: Uuid,
    pub person_id: Option<Uuid>,
    pub number: String,
    pub status: String,
    pub kind: String,
    pub at: DateTime<Utc>,
}

/// Announces `change` with the scope's transaction: every replica hears of it once the
/// transaction commits (see [`civitas_tenants::Scope::notify`]).
pub(crate) async fn announce(scope: &Scope, change: &CaseChange) -> Result<()> {
    let payload = serde_json::to_string(change).unwrap_or_default();
    scope.notify(CASE_CHANNEL, payload).await?;
    Ok(())
}

/// The local fan-out of changes; every replica has one.
#[derive(Clone)]
pub struct EventBus {
    tx: broadcast::Sender<CaseChange>,
}

impl Default for EventBus {
    fn default() -> Self {
        EventBus {
            tx: broadcast::channel(1024).0,
        }
    }
}

impl EventBus {
    /// Hands a change to this replica's subscribers.
    pub fn deliver_local(&self, change: CaseChange) {
        // No subscriber is not an error.
        let _ = self.tx.send(change);
    }

    /// Delivers the case changes among the notices a commit handed back (SQLite's: on
    /// PostgreSQL the listener delivers them).
    pub fn committed(&self, notices: Vec<Notice>) {
        for n in notices {
            if n.channel == CASE_CHANNEL {
                match serde_json::from_str(&n.payload) {
                    Ok(change) => self.deliver_local(change),
                    Err(e) => tracing::warn!(error = %e, "an unreadable case change"),
                }
            }
        }
    }

    /// The changes `keep` accepts, from now on. A slow subscriber misses changes rather
    /// than blocking everyone.
    pub fn stream(
        &self,
        keep: impl Fn(&CaseChange) -> bool + Send + 'static,
    ) -> Pin<Box<dyn Stream<Item = CaseChange> + Send>> {
        let rx = self.tx.subscribe();
        let changes = futures::stream::unfold(rx, |mut rx| async move {
            loop {
                match rx.recv().await {
                    Ok(c) => return Some((c, rx)),
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        });
        Box::pin(changes.filter(move |c| futures::future::ready(keep(c))))
    }
}
