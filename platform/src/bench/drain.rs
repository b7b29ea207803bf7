//! A status change told to many citizens at once: `count` e-mails of one body, queued in
//! one transaction as a fan-out writes them, drained from the outbox to an SMTP sink
//! (tests/smtp-sink/sink.py --count-only), while the other bodies' operators open citizen
//! views. Reports messages/s, the server's memory during the drain, and the others' p99
//! with and without it, measured in the same invocation.

use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use serde::Serialize;

use super::driver::{self, LoadResult};
use super::fairness::{FLOODER, set_flooder_settings};
use super::layout::{Layout, tenant_slug};
use super::scenarios::{Bodies, Scenario, workload};
use super::{RunArgs, load_options, tokens};
use crate::config::Config;

#[derive(clap::Args, Clone, Debug)]
pub struct DrainArgs {
    #[command(flatten)]
    pub run: RunArgs,
    /// E-mails to queue, each to its own address.
    #[arg(long, default_value_t = 100_000)]
    pub count: u64,
    /// The SMTP sink's port on 127.0.0.1 (the server needs `outbound_allow` for it).
    #[arg(long, default_value_t = 2525)]
    pub smtp_port: u16,
    /// The server's process id, to sample its resident memory.
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// The schema owner's database URL: the messages are queued as the fan-out would write
    /// them, outside the server, so that only the drain is measured.
    #[arg(long)]
    pub owner_url: String,
    /// Give up waiting for the drain after this many seconds.
    #[arg(long, default_value_t = 1800.0)]
    pub timeout: f64,
}

#[derive(Debug, Serialize)]
pub struct DrainOutcome {
    pub layout: Layout,
    pub count: u64,
    pub sent: u64,
    pub failed_or_skipped: u64,
    pub drain_seconds: f64,
    pub messages_per_second: f64,
    pub rss_before_mb: Option<f64>,
    pub rss_peak_mb: Option<f64>,
    /// The other bodies' citizen views, alone, then while the outbox drains.
    pub baseline: LoadResult,
    pub under_drain: LoadResult,
    pub p99_degradation_pct: f64,
}

fn rss_mb(pid: Option<u32>) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{}/status", pid?)).ok()?;
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

async fn exec(db: &DatabaseConnection, sql: String) -> anyhow::Result<u64> {
    Ok(db
        .execute_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?
        .rows_affected())
}

async fn counts(db: &DatabaseConnection, slug: &str) -> anyhow::Result<(u64, u64, u64)> {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            format!(
                "SELECT count(*) FILTER (WHERE status = 'pending') AS pending, \
                 count(*) FILTER (WHERE status = 'sent') AS sent, \
                 count(*) FILTER (WHERE status IN ('failed', 'skipped')) AS other \
                 FROM notification_deliveries WHERE tenant_id = (SELECT id FROM tenants WHERE slug = '{slug}')"
            ),
        ))
        .await?
        .ok_or_else(|| anyhow::anyhow!("no counts"))?;
    let get = |c: &str| row.try_get::<i64>("", c).map(|n| n as u64);
    Ok((get("pending")?, get("sent")?, get("other")?))
}

/// Clears the body's earlier runs, then queues `count` notifications of a status change of
/// its cases, each with its e-mail delivery, in one statement.
async fn queue(db: &DatabaseConnection, slug: &str, count: u64) -> anyhow::Result<()> {
    let t = format!("(SELECT id FROM tenants WHERE slug = '{slug}')");
    for table in [
        "notification_attempts",
        "notification_deliveries",
        "notifications",
    ] {
        exec(db, format!("DELETE FROM {table} WHERE tenant_id = {t}")).await?;
    }
    let n = exec(
        db,
        format!(
            "WITH c AS (SELECT id, number, person_id, row_number() OVER (ORDER BY id) - 1 AS i \
               FROM cases WHERE tenant_id = {t} AND person_id IS NOT NULL LIMIT 10000), \
             k AS (SELECT count(*) AS k FROM c), \
             ins AS (INSERT INTO notifications (tenant_id, id, person_id, kind, case_id, case_number, status, created_at) \
               SELECT {t}, gen_random_uuid(), c.person_id, 'case.status_changed', c.id, c.number, 'in_progress', now() \
               FROM generate_series(0, {count} - 1) g JOIN c ON c.i = g % (SELECT k FROM k) \
               RETURNING id, person_id) \
             INSERT INTO notification_deliveries (tenant_id, id, notification_id, person_id, channel, address, \
               status, attempts, next_attempt_at, created_at) \
             SELECT {t}, gen_random_uuid(), id, person_id, 'email', 'p' || replace(id::text, '-', '') || '@bench.example', \
               'pending', 0, now(), now() FROM ins"
        ),
    )
    .await?;
    anyhow::ensure!(
        n == count,
        "queued {n} of {count}: does the body have cases?"
    );
    Ok(())
}

pub async fn run(config: &Config, a: &DrainArgs) -> anyhow::Result<DrainOutcome> {
    let slug = tenant_slug(FLOODER);
    let server = serde_json::json!({ "notifications": { "email": {
        "host": "127.0.0.1", "port": a.smtp_port, "security": "none",
        "fromAddress": "noreply@bench.example", "fromName": "Bench" } } });
    set_flooder_settings(config, &a.run.url, server).await?;
    let outcome = measure(config, a, &slug).await;
    set_flooder_settings(config, &a.run.url, serde_json::json!({})).await?;
    outcome
}

async fn measure(config: &Config, a: &DrainArgs, slug: &str) -> anyhow::Result<DrainOutcome> {
    let layout = Layout::load(&config.data_dir)?;
    let tokens = tokens(config, &layout, a.run.seed)?;
    let others = workload(
        Scenario::CitizenView,
        layout,
        tokens,
        Bodies::AllBut(FLOODER),
        a.run.seed,
    );
    let opts = load_options(&a.run);
    let baseline = driver::run(others.clone(), &opts).await?;
    let db = Database::connect(&a.owner_url).await?;
    let rss_before_mb = rss_mb(a.server_pid);
    queue(&db, slug, a.count).await?;
    let start = Instant::now();
    let watch = async {
        let mut peak = rss_before_mb;
        loop {
            if let Some(m) = rss_mb(a.server_pid) {
                peak = Some(peak.map_or(m, |p: f64| p.max(m)));
            }
            let (pending, sent, other) = counts(&db, slug).await?;
            if pending == 0 {
                return anyhow::Ok((start.elapsed().as_secs_f64(), sent, other, peak));
            }
            anyhow::ensure!(
                start.elapsed().as_secs_f64() < a.timeout,
                "{pending} still pending after {} s",
                a.timeout
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    let (under_drain, drained) = tokio::join!(driver::run(others, &opts), watch);
    let (drain_seconds, sent, other, rss_peak_mb) = drained?;
    let under_drain = under_drain?;
    Ok(DrainOutcome {
        layout,
        count: a.count,
        sent,
        failed_or_skipped: other,
        drain_seconds,
        messages_per_second: a.count as f64 / drain_seconds.max(1e-9),
        rss_before_mb,
        rss_peak_mb,
        p99_degradation_pct: (under_drain.p99_ms / baseline.p99_ms.max(1e-9) - 1.0) * 100.0,
        baseline,
        under_drain,
    })
}
