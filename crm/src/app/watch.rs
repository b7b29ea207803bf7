//! Use cases of real time: following case changes as they happen, for as long as the
//! caller may (their token's life, and their rights: any change of a role, membership,
//! policy or the body's status is re-checked).

use std::pin::Pin;

use chrono::{DateTime, Utc};
use civitas_policies::Permission;
use futures::{Stream, StreamExt};

use super::{App, Caller, Grant};
use crate::Result;
use crate::events::CaseChange;
use crate::notifications::Notification;

pub type Changes = Pin<Box<dyn Stream<Item = CaseChange> + Send>>;

/// Every change to the caller's body's cases (operators, supervisors, integrators).
pub async fn body_cases(app: &App, caller: &Caller) -> Result<Changes> {
    let tc = caller.authorize(app, Permission::CaseRead).await?;
    let tenant = tc.tenant.id.0;
    let changes = app.events.stream(move |c| c.tenant_id == tenant);
    let (principal, slug) = (tc.principal.clone(), tc.tenant.slug.to_string());
    let again = app.clone();
    Ok(guarded(app, changes, caller.expires_at, move || {
        let (app, principal, slug) = (again.clone(), principal.clone(), slug.clone());
        async move {
            let Ok(tenant) =
                civitas_tenants::access::resolve(&app.db, &principal, Some(&slug)).await
            else {
                return false;
            };
            let now = Caller {
                principal: Some(principal),
                tenant,
                ..Caller::default()
            };
            now.holds(&app, &Grant::from(Permission::CaseRead))
                .await
                .unwrap_or(false)
        }
    }))
}

/// Changes to the signed-in citizen's own cases, in every body. A citizen's rights over
/// their own cases do not hang on roles: only the token's expiry ends it.
pub async fn own_cases(app: &App, caller: &Caller) -> Result<Changes> {
    let family = caller.citizen()?.family();
    let changes = app
        .events
        .stream(move |c| c.person_id.is_some_and(|p| family.contains(&p)));
    Ok(guarded(app, changes, caller.expires_at, || async { true }))
}

/// Ends `changes` when the caller's token expires, and when `still_allowed` says no after
/// anything their rights depend on changed (every replica's access cache hears of such a
/// change and bumps its epoch).
fn guarded<F, Fut>(
    app: &App,
    changes: Changes,
    expires_at: Option<DateTime<Utc>>,
    still_allowed: F,
) -> Changes
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let left = expires_at.map(|e| (e - app.now()).to_std().unwrap_or_default());
    let deadline =
        tokio::time::Instant::now() + left.unwrap_or(std::time::Duration::from_secs(86_400 * 365));
    let epoch = app.db.access().changes();
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

pub type Notifications = Pin<Box<dyn Stream<Item = Notification> + Send>>;

/// The signed-in citizen's new notifications, from every body, until their token expires.
pub async fn own_notifications(app: &App, caller: &Caller) -> Result<Notifications> {
    let family = caller.citizen()?.family();
    let events = app
        .events
        .notification_stream(move |n| family.contains(&n.person_id));
    let left = caller
        .expires_at
        .map(|e| (e - app.now()).to_std().unwrap_or_default())
        .unwrap_or(std::time::Duration::from_secs(86_400 * 365));
    let deadline = tokio::time::Instant::now() + left;
    let until_expiry = futures::StreamExt::take_until(
        events.map(Notification::from),
        tokio::time::sleep_until(deadline),
    );
    Ok(Box::pin(until_expiry))
}
