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
/// The `NOTIFY` channel of citizens' new notifications.
pub const NOTIFICATION_CHANNEL: &str = "civitas_notifications";

/// A notification just written, for the citizen's open subscriptions.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NotificationEvent {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub person_id: Uuid,
    pub kind: String,
    pub case_id: Option<Uuid>,
    pub case_number: Option<String>,
    pub status: Option<String>,
    pub message: Option<String>,
    #[serde(default)]
    pub invitation_id: Option<Uuid>,
    pub at: DateTime<Utc>,
}

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
    /// An operator wrote to the case's citizen.
    Messaged,
    /// The case's citizen wrote to the body.
    CitizenReplied,
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
            CaseEventKind::Messaged => "message",
            CaseEventKind::CitizenReplied => "citizen_reply",
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
    notes: broadcast::Sender<NotificationEvent>,
}

impl Default for EventBus {
    fn default() -> Self {
        EventBus {
            tx: broadcast::channel(1024).0,
            notes: broadcast::channel(1024).0,
        }
    }
}

impl EventBus {
    /// Hands a change to this replica's subscribers.
    pub fn deliver_local(&self, change: CaseChange) {
        // No subscriber is not an error.
        let _ = self.tx.send(change);
    }

    /// The channels this bus carries (the PostgreSQL listener LISTENs on them).
    pub const CHANNELS: [&'static str; 2] = [CASE_CHANNEL, NOTIFICATION_CHANNEL];

    /// Hands a notice of one of [`Self::CHANNELS`] to this replica's subscribers.
    pub fn deliver_notice(&self, channel: &str, payload: &str) {
        let read = match channel {
            CASE_CHANNEL => serde_json::from_str(payload).map(|c| self.deliver_local(c)),
            NOTIFICATION_CHANNEL => serde_json::from_str(payload).map(|n| {
                // No subscriber is not an error.
                let _ = self.notes.send(n);
            }),
            _ => return,
        };
        if let Err(e) = read {
            tracing::warn!(error = %e, channel, "an unreadable event");
        }
    }

    /// Delivers the events among the notices a commit handed back (SQLite's: on PostgreSQL
    /// the listener delivers them).
    pub fn committed(&self, notices: Vec<Notice>) {
        for n in notices {
            self.deliver_notice(n.channel, &n.payload);
        }
    }

    /// New notifications `keep` accepts, from now on.
    pub fn notification_stream(
        &self,
        keep: impl Fn(&NotificationEvent) -> bool + Send + 'static,
    ) -> Pin<Box<dyn Stream<Item = NotificationEvent> + Send>> {
        let rx = self.notes.subscribe();
        let events = futures::stream::unfold(rx, |mut rx| async move {
            loop {
                match rx.recv().await {
                    Ok(n) => return Some((n, rx)),
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        });
        Box::pin(events.filter(move |n| futures::future::ready(keep(n))))
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
