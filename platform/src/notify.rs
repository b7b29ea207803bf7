//! The notification worker: sends each body's due notifications from the outbox, e-mail
//! through that body's own SMTP server and SMS, WhatsApp and push through its gateways
//! (`crate::gateways`), in the body's words and the citizen's language, and records every
//! attempt. Each body's pass runs in a task of its own, so a body whose server is
//! down or slow delays only its own mail.

use std::sync::Arc;
use std::time::Duration;

use civitas_crm::channels::Channel;
use civitas_crm::notify::links::Unsubscribe;
use civitas_crm::notify::outbox::{self, Due};
use civitas_crm::notify::{LinkSigner, NotificationSettings, templates};
use civitas_tenants::{Db, Tenant, TenantContext};
use futures::StreamExt;
use tokio::task::JoinHandle;

use crate::mailer::{Mailer, Outgoing};
use crate::metrics::Metrics;
use crate::outbound::Outbound;

/// Messages of one body sent at once.
const PER_TENANT: usize = 8;
/// Deliveries one pass takes from the outbox: memory stays bounded however many are due.
const BATCH: u64 = 200;

#[derive(Clone)]
pub struct Worker {
    db: Db,
    mailer: Mailer,
    /// SMS, WhatsApp and push leave through the outbound guard.
    out: Outbound,
    links: LinkSigner,
    /// Where the unsubscribe links point, without a final `/`.
    base_url: Arc<str>,
    metrics: Arc<Metrics>,
    passes: crate::passes::Passes,
}

impl Worker {
    pub fn new(
        db: &Db,
        mailer: Mailer,
        out: Outbound,
        links: LinkSigner,
        base_url: &str,
        metrics: Arc<Metrics>,
    ) -> Self {
        Worker {
            db: db.clone(),
            mailer,
            out,
            links,
            base_url: base_url.trim_end_matches('/').into(),
            metrics,
            passes: Default::default(),
        }
    }

    /// Starts a pass for every active body that has none under way.
    pub async fn tick(&self) -> anyhow::Result<usize> {
        self.passes
            .start(&self.db, "notification pass", |tenant| {
                let me = self.clone();
                async move { me.pass(tenant).await }
            })
            .await
    }

    /// Sends one body's due deliveries, batch after batch, until none is due.
    async fn pass(&self, tenant: Tenant) -> anyhow::Result<()> {
        let settings = NotificationSettings::saved(&tenant.settings);
        let slug = tenant.slug.to_string();
        let body_name = tenant.display_name.clone();
        let ctx = TenantContext::system(tenant, "notifications");
        loop {
            let now = self.db.clock().now();
            let scope = self.db.scope(&ctx).await?;
            let mut due = outbox::due(&scope, now, BATCH).await?;
            let n = due.len() as u64;
            let channels = settings.channels();
            for d in due.extract_if(.., |d| !channels.contains(&d.channel)) {
                let why = format!("the body no longer sends on {}", d.channel);
                outbox::skip(&scope, d.delivery_id, &why, now).await?;
            }
            scope.commit().await?;
            if n == 0 {
                break;
            }
            let results: Vec<anyhow::Result<()>> = futures::stream::iter(due)
                .map(|d| self.send(&ctx, &settings, &body_name, d))
                .buffer_unordered(PER_TENANT)
                .collect()
                .await;
            results.into_iter().collect::<anyhow::Result<Vec<()>>>()?;
            if n < BATCH {
                break;
            }
        }
        let scope = self.db.scope(&ctx).await?;
        self.metrics
            .set_notifications_pending_of(&slug, outbox::count_pending(&scope).await?);
        scope.commit().await?;
        Ok(())
    }

    async fn send(
        &self,
        ctx: &TenantContext,
        settings: &NotificationSettings,
        body_name: &str,
        mut d: Due,
    ) -> anyhow::Result<()> {
        d.facts.body_name = body_name.to_owned();
        if let Some(invitation) = d.facts.invitation {
            let token = self.links.survey_token(ctx.tenant.id.0, invitation);
            d.facts.survey_url = Some(format!("{}/surveys/{token}", self.base_url));
        }
        let result = match (d.channel, &settings.email) {
            (Channel::Email, Some(server)) => {
                let token = self.links.unsubscribe_token(Unsubscribe {
                    tenant: ctx.tenant.id.0,
                    person: d.person_id,
                    channel: Channel::Email,
                });
                let url = format!("{}/unsubscribe?t={token}", self.base_url);
                d.facts.unsubscribe_url = Some(url.clone());
                let words = templates::render(settings, d.language, &d.facts);
                let name = format!("{} {}", d.facts.given_name, d.facts.family_name);
                self.mailer
                    .send(
                        server,
                        Outgoing {
                            body: ctx.tenant.slug.as_str(),
                            to_name: name.trim(),
                            to_address: &d.to,
                            words: &words,
                            unsubscribe_url: &url,
                        },
                    )
                    .await
                    .map_err(|e| (e.permanent, e.message))
            }
            _ => {
                let words = templates::render(settings, d.language, &d.facts);
                let now = self.db.clock().now();
                let body = ctx.tenant.slug.as_str();
                crate::gateways::send(&self.out, settings, body, &d, &words, now).await
            }
        };
        if let Err((_, e)) = &result {
            tracing::info!(tenant = %ctx.tenant.slug, error = %e, attempt = d.attempts + 1, "notification not sent");
        }
        self.metrics.count_notification(result.is_ok());
        let scope = self.db.scope(ctx).await?;
        outbox::record(&scope, &d, result, self.db.clock().now()).await?;
        scope.commit().await?;
        Ok(())
    }
}

pub fn spawn(worker: Worker, poll_ms: u64) -> Option<JoinHandle<()>> {
    if poll_ms == 0 {
        return None;
    }
    Some(tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(poll_ms));
        loop {
            tick.tick().await;
            if let Err(e) = worker.tick().await {
                tracing::error!(error = %e, "notification run failed");
            }
        }
    }))
}
