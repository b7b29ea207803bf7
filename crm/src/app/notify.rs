//! Use cases of notifications leaving the platform: the citizen's choice of channels per
//! body, the unsubscribe link, and the body's delivery log.

use civitas_policies::Permission;
use civitas_tenants::{TenantContext, TenantId, registry};
use uuid::Uuid;

use super::{App, Caller, Page};
use crate::channels::Channel;
use crate::entity::{notification_attempt, notification_delivery};
use crate::notify::quiet::{self, QuietHours};
use crate::notify::{choices, outbox};
use crate::{Error, Result};

/// The channels a body can reach a citizen on from the platform, beside the inbox.
const CHOOSABLE: [Channel; 4] = [
    Channel::Email,
    Channel::Sms,
    Channel::Whatsapp,
    Channel::App,
];

fn choosable(channel: Channel) -> Result<()> {
    if CHOOSABLE.contains(&channel) {
        Ok(())
    } else {
        Err(Error::Validation(format!(
            "channel: a body reaches citizens on {} only",
            CHOOSABLE.map(|c| c.as_str()).join(", ")
        )))
    }
}

/// The signed-in citizen lets the body `tenant` reach them on `channel`, or stops it.
/// Notifications already queued on that channel are not sent once it is refused.
pub async fn set_my_channel(
    app: &App,
    caller: &Caller,
    tenant: &str,
    channel: Channel,
    allowed: bool,
) -> Result<()> {
    choosable(channel)?;
    let me = caller.citizen()?;
    let principal = caller.principal()?;
    let body = app.active_body("tenant", tenant).await?;
    let tc = TenantContext::for_citizen(body, principal.clone());
    let scope = app.db.scope(&tc).await?;
    choices::set(&scope, me.person_id, channel, allowed, app.now()).await?;
    app.commit(scope).await
}

/// The signed-in citizen sets their quiet hours at the body `tenant` (`None`: none): what
/// would reach them outside the inbox meanwhile waits for the end. Returns the body's id.
pub async fn set_my_quiet_hours(
    app: &App,
    caller: &Caller,
    tenant: &str,
    hours: Option<QuietHours>,
) -> Result<TenantId> {
    let me = caller.citizen()?;
    let principal = caller.principal()?;
    let body = app.active_body("tenant", tenant).await?;
    let id = body.id;
    let tc = TenantContext::for_citizen(body, principal.clone());
    let scope = app.db.scope(&tc).await?;
    quiet::set(&scope, me.person_id, hours, app.now()).await?;
    app.commit(scope).await?;
    Ok(id)
}

/// The signed-in citizen's quiet hours at every body that has some, by body: a page after
/// the first `page.after`, and whether more follow.
pub async fn my_quiet_hours(
    app: &App,
    caller: &Caller,
    page: Page<u64>,
) -> Result<(Vec<(TenantId, QuietHours)>, bool)> {
    let me = caller.citizen()?;
    let scope = app.db.person_scope(me.person_id, &me.merged).await?;
    let rows = quiet::of_person(&scope).await?;
    scope.commit().await?;
    let (found, more) = page.of_positions(rows);
    Ok((
        found.into_iter().map(|(t, q)| (TenantId(t), q)).collect(),
        more,
    ))
}

/// A choice of the signed-in citizen: may this body use this channel.
#[derive(Clone, Debug)]
pub struct ChannelChoice {
    pub tenant_id: TenantId,
    pub channel: String,
    pub allowed: bool,
}

/// The choices the signed-in citizen made, at every body (no choice: allowed), by body
/// and channel: a page after the first `page.after`, and whether more follow.
pub async fn my_channels(
    app: &App,
    caller: &Caller,
    page: Page<u64>,
) -> Result<(Vec<ChannelChoice>, bool)> {
    let me = caller.citizen()?;
    let scope = app.db.person_scope(me.person_id, &me.merged).await?;
    let rows = choices::of_person(&scope).await?;
    scope.commit().await?;
    let (found, more) = page.of_positions(rows);
    let found = found
        .into_iter()
        .map(|c| ChannelChoice {
            tenant_id: TenantId(c.tenant_id),
            channel: c.channel,
            allowed: c.allowed,
        })
        .collect();
    Ok((found, more))
}

/// Follows an unsubscribe link: the body it names stops using its channel for the person
/// it names. No sign-in: the platform's signature vouches for the link. Returns the body's
/// name. A link that was not signed here, or names a body that is gone, is NOT_FOUND.
pub async fn unsubscribe(app: &App, token: &str) -> Result<String> {
    let u = app
        .links
        .check_unsubscribe(token)
        .ok_or(Error::NotFound("unsubscribe link"))?;
    let body = registry::find_by_id(&app.db, TenantId(u.tenant))
        .await?
        .ok_or(Error::NotFound("unsubscribe link"))?;
    let name = body.display_name.clone();
    let tc = TenantContext::system(body, "unsubscribe");
    let scope = app.db.scope(&tc).await?;
    choices::set(&scope, u.person, u.channel, false, app.now()).await?;
    civitas_tenants::audit::record(
        &scope,
        &tc.identity(),
        "notifications.unsubscribed",
        Some(u.channel.as_str()),
        serde_json::json!({ "person": u.person }),
    )
    .await?;
    app.commit(scope).await?;
    Ok(name)
}

/// The body's notification deliveries, newest first, each with its attempts.
pub async fn deliveries(
    app: &App,
    caller: &Caller,
    page: Page<Uuid>,
) -> Result<(
    Vec<(
        notification_delivery::Model,
        Vec<notification_attempt::Model>,
    )>,
    bool,
)> {
    let tc = caller.authorize(app, Permission::AuditRead).await?;
    let scope = app.db.scope(tc).await?;
    let (rows, more) = outbox::page(&scope, page.first, page.after).await?;
    let ids: Vec<Uuid> = rows.iter().map(|d| d.id).collect();
    let mut attempts = outbox::attempts(&scope, &ids).await?;
    scope.commit().await?;
    let out = rows
        .into_iter()
        .map(|d| {
            let mine = attempts.extract_if(.., |a| a.delivery_id == d.id).collect();
            (d, mine)
        })
        .collect();
    Ok((out, more))
}
