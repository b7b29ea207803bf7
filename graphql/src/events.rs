//! Real time: case changes fanned out to GraphQL subscriptions, across replicas through
//! PostgreSQL `NOTIFY` (in process on SQLite).

use std::pin::Pin;

use async_graphql::{Context, ID, SimpleObject, Subscription};
use chrono::{DateTime, Utc};
use civitas_tenants::{Backend, Db, TenantId};
use futures::{Stream, StreamExt};
use sea_orm::{ConnectionTrait, Statement};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use uuid::Uuid;

use crate::AppState;
use crate::caller::{Caller, Grant, authorize, citizen, state};
use crate::error::ApiResult;
use crate::loaders::{TenantRef, tenant_ref};

/// The `NOTIFY` channel of case changes.
pub const CASE_CHANNEL: &str = "civitas_cases";

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

impl CaseChange {
    pub fn of(c: &civitas_crm::cases::Case, kind: &str, at: DateTime<Utc>) -> Self {
        CaseChange {
            tenant_id: c.tenant_id.0,
            case_id: c.id,
            person_id: c.person_id,
            number: c.number.clone(),
            status: c.status.to_string(),
            kind: kind.to_owned(),
            at,
        }
    }
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

    /// Publishes a committed change to every replica: through `NOTIFY` on PostgreSQL (each
    /// replica's listener, this one's included, delivers it locally), directly on SQLite.
    pub async fn publish(&self, db: &Db, change: CaseChange) {
        if db.backend() != Backend::Postgres {
            return self.deliver_local(change);
        }
        let payload = serde_json::to_string(&change).unwrap_or_default();
        let sent = db
            .global()
            .execute_raw(Statement::from_sql_and_values(
                db.global().get_database_backend(),
                "SELECT pg_notify($1, $2)",
                [CASE_CHANNEL.into(), payload.into()],
            ))
            .await;
        if let Err(e) = sent {
            tracing::warn!(error = %e, "publishing a case change; delivering locally only");
            self.deliver_local(change);
        }
    }

    fn stream(
        &self,
        keep: impl Fn(&CaseChange) -> bool + Send + 'static,
    ) -> Pin<Box<dyn Stream<Item = CaseChange> + Send>> {
        let rx = self.tx.subscribe();
        let changes = futures::stream::unfold(rx, |mut rx| async move {
            loop {
                match rx.recv().await {
                    Ok(c) => return Some((c, rx)),
                    // A slow subscriber misses changes rather than blocking everyone.
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        });
        Box::pin(changes.filter(move |c| futures::future::ready(keep(c))))
    }
}

#[derive(SimpleObject)]
#[graphql(complex)]
pub struct CaseChanged {
    pub case_id: ID,
    pub number: String,
    pub status: String,
    /// created, assigned, status_changed, reopened, escalated, synced
    pub kind: String,
    pub at: DateTime<Utc>,
    #[graphql(skip)]
    pub tenant_id: TenantId,
}

#[async_graphql::ComplexObject]
impl CaseChanged {
    async fn tenant(&self, ctx: &Context<'_>) -> ApiResult<TenantRef> {
        tenant_ref(ctx, self.tenant_id).await
    }
}

impl From<CaseChange> for CaseChanged {
    fn from(c: CaseChange) -> Self {
        CaseChanged {
            case_id: ID(c.case_id.to_string()),
            number: c.number,
            status: c.status,
            kind: c.kind,
            at: c.at,
            tenant_id: TenantId(c.tenant_id),
        }
    }
}

type Changes = Pin<Box<dyn Stream<Item = CaseChanged> + Send>>;

/// Ends `changes` when the caller's token expires, and when `still_allowed` says no after
/// anything their rights depend on changed (a role, a membership, a policy, the tenant's
/// status: every replica's access cache hears of it and bumps its epoch).
fn guarded<F, Fut>(
    state: &AppState,
    changes: Changes,
    expires_at: Option<DateTime<Utc>>,
    still_allowed: F,
) -> Changes
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let left = expires_at.map(|e| (e - state.db.clock().now()).to_std().unwrap_or_default());
    let deadline =
        tokio::time::Instant::now() + left.unwrap_or(std::time::Duration::from_secs(86_400 * 365));
    let epoch = state.db.access().changes();
    let st = (changes, epoch, still_allowed);
    Box::pin(futures::stream::unfold(
        st,
        move |(mut changes, mut epoch, allowed)| async move {
            loop {
                tokio::select! {
                    c = changes.next() => return c.map(|c| (c, (changes, epoch, allowed))),
                    r = epoch.changed() => {
                        if r.is_err() || !allowed().await {
                            tracing::info!("subscription closed: the caller's rights changed");
                            return None;
                        }
                    }
                    _ = tokio::time::sleep_until(deadline) => {
                        tracing::info!("subscription closed: the token expired");
                        return None;
                    }
                }
            }
        },
    ))
}

#[derive(Default)]
pub struct Subscription;

#[Subscription]
impl Subscription {
    /// Every change to the caller's body's cases (operators, supervisors, integrators).
    async fn case_changed(&self, ctx: &Context<'_>) -> async_graphql::Result<Changes> {
        let tc = authorize(ctx, "case", "read").await?;
        let tenant = tc.tenant.id.0;
        let s = state(ctx).clone();
        let changes: Changes = Box::pin(
            s.events
                .stream(move |c| c.tenant_id == tenant)
                .map(CaseChanged::from),
        );
        let (principal, slug) = (tc.principal.clone(), tc.tenant.slug.to_string());
        let st = s.clone();
        let expires = crate::caller::expires_at(ctx);
        Ok(guarded(&s, changes, expires, move || {
            let (st, principal, slug) = (st.clone(), principal.clone(), slug.clone());
            async move {
                let Ok(tenant) =
                    civitas_tenants::access::resolve(&st.db, &principal, Some(&slug)).await
                else {
                    return false;
                };
                let now = Caller {
                    principal: Some(principal),
                    tenant,
                    ..Caller::default()
                };
                now.holds(&st, &Grant::tenant("case", "read"))
                    .await
                    .unwrap_or(false)
            }
        }))
    }

    /// Changes to the signed-in citizen's own cases, in every body.
    async fn my_case_changed(&self, ctx: &Context<'_>) -> async_graphql::Result<Changes> {
        let family = citizen(ctx)?.family();
        let s = state(ctx);
        let changes: Changes = Box::pin(
            s.events
                .stream(move |c| c.person_id.is_some_and(|p| family.contains(&p)))
                .map(CaseChanged::from),
        );
        // A citizen's rights over their own cases do not hang on roles: only the token's
        // expiry ends it.
        Ok(guarded(
            s,
            changes,
            crate::caller::expires_at(ctx),
            || async { true },
        ))
    }
}
