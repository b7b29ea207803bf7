//! Notifications leaving the platform: a translation of [`civitas_crm::app::notify`].

use async_graphql::{ComplexObject, Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use civitas_crm::app::notify as uc;
use civitas_crm::channels::Channel;
use civitas_crm::entity::{notification_attempt, notification_delivery};
use civitas_crm::notify::quiet::QuietHours;
use civitas_tenants::TenantId;

use crate::caller::{caller, state};
use crate::connections::{Conn, connection, page, position_page, positioned};
use crate::error::ApiResult;
use crate::loaders::{TenantRef, tenant_ref};

#[derive(Default)]
pub struct DeliveryQuery;

#[Object]
impl DeliveryQuery {
    /// The body's notifications on their way out (e-mail), newest first, each with every
    /// attempt at sending it. Status: `pending`, `sent`, `failed` (given up after its
    /// attempts, or refused by the receiving server), `skipped` (nowhere to send it).
    async fn notification_deliveries(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: i32,
        after: Option<String>,
    ) -> ApiResult<Conn<NotificationDelivery>> {
        let page = page(first, after)?;
        let (rows, more) = uc::deliveries(state(ctx), caller(ctx), page).await?;
        Ok(connection(
            rows,
            page.after.is_some(),
            more,
            |(d, _)| d.id.to_string(),
            |(d, a)| NotificationDelivery::of(d, a),
        ))
    }

    /// The signed-in citizen's choices of which body may reach them on which channel
    /// (a body and channel not listed: allowed), as a Relay connection; cursors are
    /// positions in the list.
    async fn my_channel_choices(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: i32,
        after: Option<String>,
    ) -> ApiResult<Conn<ChannelChoice>> {
        let page = position_page(first, after.as_deref())?;
        let (rows, more) = uc::my_channels(state(ctx), caller(ctx), page).await?;
        Ok(positioned(rows, page, more, |c| ChannelChoice {
            tenant_id: c.tenant_id,
            channel: c.channel,
            allowed: c.allowed,
        }))
    }

    /// The signed-in citizen's quiet hours at each body where they set some, as a Relay
    /// connection; cursors are positions in the list.
    async fn my_quiet_hours(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: i32,
        after: Option<String>,
    ) -> ApiResult<Conn<QuietHoursAt>> {
        let page = position_page(first, after.as_deref())?;
        let (rows, more) = uc::my_quiet_hours(state(ctx), caller(ctx), page).await?;
        Ok(positioned(rows, page, more, |(tenant_id, q)| {
            QuietHoursAt::of(tenant_id, q)
        }))
    }
}

#[derive(Default)]
pub struct DeliveryMutation;

#[Object]
impl DeliveryMutation {
    /// The signed-in citizen lets the body `tenant` reach them on `channel` (`email`,
    /// `sms`, `whatsapp`, `app`), or stops it: what is already queued on it is not sent. Every e-mail also
    /// carries a signed link that stops it in one click.
    async fn set_my_channel(
        &self,
        ctx: &Context<'_>,
        tenant: String,
        channel: String,
        allowed: bool,
    ) -> ApiResult<bool> {
        let channel: Channel = channel.parse()?;
        uc::set_my_channel(state(ctx), caller(ctx), &tenant, channel, allowed).await?;
        Ok(allowed)
    }

    /// The signed-in citizen's quiet hours at the body `tenant`, times of day as `HH:MM` in
    /// the body's time zone (`22:00` to `07:00` spans the night): an SMS, WhatsApp message,
    /// push or e-mail due meanwhile waits for the end; the inbox gets it at once. Without
    /// `start` and `end`, the quiet hours are removed.
    async fn set_my_quiet_hours(
        &self,
        ctx: &Context<'_>,
        tenant: String,
        start: Option<String>,
        end: Option<String>,
    ) -> ApiResult<Option<QuietHoursAt>> {
        let hours = match (start.as_deref(), end.as_deref()) {
            (None, None) => None,
            (Some(s), Some(e)) => Some(QuietHours::parse(s, e)?),
            (None, Some(_)) => Err(civitas_crm::Error::Validation(
                "start: quiet hours need a start and an end".into(),
            ))?,
            (Some(_), None) => Err(civitas_crm::Error::Validation(
                "end: quiet hours need a start and an end".into(),
            ))?,
        };
        let body = uc::set_my_quiet_hours(state(ctx), caller(ctx), &tenant, hours).await?;
        Ok(hours.map(|q| QuietHoursAt::of(body, q)))
    }
}

#[derive(SimpleObject)]
#[graphql(complex)]
pub struct ChannelChoice {
    #[graphql(skip)]
    pub tenant_id: TenantId,
    pub channel: String,
    pub allowed: bool,
}

#[ComplexObject]
impl ChannelChoice {
    async fn tenant(&self, ctx: &Context<'_>) -> ApiResult<TenantRef> {
        tenant_ref(ctx, self.tenant_id).await
    }
}

/// A citizen's quiet hours at one body.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct QuietHoursAt {
    #[graphql(skip)]
    pub tenant_id: TenantId,
    /// `HH:MM`, the body's time zone.
    pub start: String,
    /// `HH:MM`; earlier than `start` when the window spans midnight.
    pub end: String,
}

impl QuietHoursAt {
    fn of(tenant_id: TenantId, q: QuietHours) -> Self {
        let hm = |m: u16| format!("{:02}:{:02}", m / 60, m % 60);
        QuietHoursAt {
            tenant_id,
            start: hm(q.start),
            end: hm(q.end),
        }
    }
}

#[ComplexObject]
impl QuietHoursAt {
    async fn tenant(&self, ctx: &Context<'_>) -> ApiResult<TenantRef> {
        tenant_ref(ctx, self.tenant_id).await
    }
}

/// One notification on its way to a citizen on one channel.
#[derive(SimpleObject)]
pub struct NotificationDelivery {
    pub id: ID,
    pub notification_id: ID,
    pub person_id: ID,
    pub channel: String,
    pub address: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// Every attempt, oldest first.
    pub attempt_log: Vec<DeliveryAttempt>,
}

#[derive(SimpleObject)]
pub struct DeliveryAttempt {
    pub attempted_at: DateTime<Utc>,
    pub ok: bool,
    pub error: Option<String>,
}

impl NotificationDelivery {
    fn of(d: notification_delivery::Model, a: Vec<notification_attempt::Model>) -> Self {
        NotificationDelivery {
            id: ID(d.id.to_string()),
            notification_id: ID(d.notification_id.to_string()),
            person_id: ID(d.person_id.to_string()),
            channel: d.channel,
            address: d.address,
            status: d.status,
            attempts: d.attempts,
            next_attempt_at: d.next_attempt_at,
            last_error: d.last_error,
            sent_at: d.sent_at,
            created_at: d.created_at,
            attempt_log: a
                .into_iter()
                .map(|a| DeliveryAttempt {
                    attempted_at: a.attempted_at,
                    ok: a.ok,
                    error: a.error,
                })
                .collect(),
        }
    }
}
