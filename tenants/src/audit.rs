//! The append-only audit log of a tenant.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use crate::entity::audit_event;
use crate::{Identity, Result, Scope};

#[derive(Clone, Debug, PartialEq)]
pub struct AuditEvent {
    pub id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub actor: String,
    pub actor_issuer: Option<String>,
    pub action: String,
    pub target: Option<String>,
    pub detail: serde_json::Value,
}

/// Who an audit entry names: an identity (issuer and subject) or, where the domain was
/// handed only a subject, that subject.
pub trait Actor {
    fn subject(&self) -> &str;
    fn issuer(&self) -> Option<&str>;
}

impl Actor for &str {
    fn subject(&self) -> &str {
        self
    }
    fn issuer(&self) -> Option<&str> {
        None
    }
}

impl Actor for &String {
    fn subject(&self) -> &str {
        self
    }
    fn issuer(&self) -> Option<&str> {
        None
    }
}

impl Actor for &Identity {
    fn subject(&self) -> &str {
        &self.subject
    }
    fn issuer(&self) -> Option<&str> {
        Some(&self.issuer)
    }
}

pub async fn record(
    scope: &Scope,
    actor: impl Actor,
    action: &str,
    target: Option<&str>,
    detail: serde_json::Value,
) -> Result<()> {
    let row = audit_event::ActiveModel {
        id: Set(Uuid::now_v7()),
        occurred_at: Set(Utc::now()),
        actor: Set(actor.subject().to_owned()),
        actor_issuer: Set(actor.issuer().map(str::to_owned)),
        action: Set(action.to_owned()),
        target: Set(target.map(str::to_owned)),
        detail: Set(detail),
        ..Default::default()
    };
    scope.insert(row).await?;
    Ok(())
}

/// The newest events first, at most `limit`, older than `before` when given.
pub async fn list(scope: &Scope, limit: u64, before: Option<Uuid>) -> Result<Vec<AuditEvent>> {
    let mut q = scope
        .find::<audit_event::Entity>()
        .order_by_desc(audit_event::Column::Id)
        .limit(limit);
    if let Some(b) = before {
        q = q.filter(audit_event::Column::Id.lt(b));
    }
    Ok(q.all(scope.conn())
        .await?
        .into_iter()
        .map(|e| AuditEvent {
            id: e.id,
            occurred_at: e.occurred_at,
            actor: e.actor,
            actor_issuer: e.actor_issuer,
            action: e.action,
            target: e.target,
            detail: e.detail,
        })
        .collect())
}
