//! Notifications leaving the platform: a translation of [`civitas_crm::app::notify`].

use async_graphql::{ComplexObject, Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use civitas_crm::app::notify as uc;
use civitas_crm::channels::Channel;
use civitas_crm::entity::{notification_attempt, notification_delivery};
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
}

#[derive(Default)]
pub struct DeliveryMutation;

#[Object]
impl DeliveryMutation {
    /// The signed-in citizen lets the body `tenant` reach them on `channel` (today
    /// `email`), or stops it: what is already queued on it is not sent. Every e-mail also
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
