//! `/metrics` in the Prometheus text format: requests and latency per GraphQL operation and
//! tenant, requests served and waiting for a place, database pool use, consent-cache hit
//! rate, webhook outbox depth, overdue cases.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// A bound on label combinations: operation names come from clients.
const MAX_SERIES: usize = 2000;

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

#[derive(Default)]
pub struct Metrics {
    requests: Mutex<HashMap<(String, String, &'static str), u64>>,
    latency: Mutex<HashMap<(String, String), Histogram>>,
    /// Per tenant slug, refreshed by the webhook worker and the SLA job.
    outbox_pending: Mutex<BTreeMap<String, u64>>,
    overdue_cases: Mutex<BTreeMap<String, u64>>,
    /// Per tenant slug, refreshed by the notification worker.
    notifications_pending: Mutex<BTreeMap<String, u64>>,
    notifications_sent: std::sync::atomic::AtomicU64,
    notifications_failed: std::sync::atomic::AtomicU64,
}

/// An operation name as a label: its own name when it is a plain identifier, else `other`.
fn operation_label(op: Option<&str>) -> String {
    match op {
        Some(o)
            if !o.is_empty()
                && o.len() <= 64
                && o.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') =>
        {
            o.to_owned()
        }
        Some(_) => "other".into(),
        None => "anonymous".into(),
    }
}

/// A metric with fixed labels: its HELP and TYPE lines, then one line per sample.
fn family(out: &mut String, name: &str, kind: &str, help: &str, samples: &[(&str, u64)]) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
    for (labels, value) in samples {
        let _ = writeln!(out, "{name}{labels} {value}");
    }
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Metrics {
    pub fn observe_request(
        &self,
        operation: Option<&str>,
        tenant: Option<&str>,
        ok: bool,
        elapsed: Duration,
    ) {
        let op = operation_label(operation);
        let tenant = tenant.unwrap_or("-").to_owned();
        let outcome = if ok { "ok" } else { "error" };
        if let Ok(mut r) = self.requests.lock() {
            let key = (op.clone(), tenant.clone(), outcome);
            if r.len() < MAX_SERIES || r.contains_key(&key) {
                *r.entry(key).or_default() += 1;
            }
        }
        if let Ok(mut l) = self.latency.lock() {
            let key = (op, tenant);
            if l.len() < MAX_SERIES || l.contains_key(&key) {
                let h = l.entry(key).or_default();
                let secs = elapsed.as_secs_f64();
                for (i, b) in BUCKETS.iter().enumerate() {
                    if secs <= *b {
                        h.counts[i] += 1;
                    }
                }
                h.sum += secs;
                h.count += 1;
            }
        }
    }

    pub fn set_outbox_pending(&self, by_tenant: BTreeMap<String, u64>) {
        if let Ok(mut g) = self.outbox_pending.lock() {
            *g = by_tenant;
        }
    }

    /// One body's count, leaving the others' as they are.
    pub fn set_outbox_pending_of(&self, tenant: &str, pending: u64) {
        if let Ok(mut g) = self.outbox_pending.lock() {
            g.insert(tenant.to_owned(), pending);
        }
    }

    pub fn set_notifications_pending_of(&self, tenant: &str, pending: u64) {
        if let Ok(mut g) = self.notifications_pending.lock() {
            g.insert(tenant.to_owned(), pending);
        }
    }

    /// One attempt at sending a notification, and whether it went.
    pub fn count_notification(&self, sent: bool) {
        use std::sync::atomic::Ordering::Relaxed;
        if sent {
            self.notifications_sent.fetch_add(1, Relaxed);
        } else {
            self.notifications_failed.fetch_add(1, Relaxed);
        }
    }

    pub fn set_overdue(&self, by_tenant: BTreeMap<String, u64>) {
        if let Ok(mut g) = self.overdue_cases.lock() {
            *g = by_tenant;
        }
    }

    /// The exposition, with the gauges read at scrape time passed in.
    pub fn render(
        &self,
        gate: crate::limits::GateStats,
        pool: (u32, u32),
        consent_cache: (u64, u64),
    ) -> String {
        let mut out = String::new();
        family(
            &mut out,
            "civitas_requests_in_flight",
            "gauge",
            "GraphQL requests being served, and waiting for a place (max_in_flight).",
            &[
                ("{state=\"serving\"}", gate.serving as u64),
                ("{state=\"waiting\"}", gate.waiting as u64),
            ],
        );
        family(
            &mut out,
            "civitas_requests_overloaded_total",
            "counter",
            "Requests turned away with OVERLOADED after waiting in_flight_wait_ms.",
            &[("", gate.turned_away)],
        );
        let _ = writeln!(
            out,
            "# HELP civitas_graphql_requests_total GraphQL requests by operation, tenant and outcome."
        );
        let _ = writeln!(out, "# TYPE civitas_graphql_requests_total counter");
        if let Ok(r) = self.requests.lock() {
            let mut rows: Vec<_> = r.iter().collect();
            rows.sort();
            for ((op, tenant, outcome), n) in rows {
                let _ = writeln!(
                    out,
                    "civitas_graphql_requests_total{{operation=\"{}\",tenant=\"{}\",outcome=\"{outcome}\"}} {n}",
                    escape(op),
                    escape(tenant)
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP civitas_graphql_request_duration_seconds GraphQL request latency by operation and tenant."
        );
        let _ = writeln!(
            out,
            "# TYPE civitas_graphql_request_duration_seconds histogram"
        );
        if let Ok(l) = self.latency.lock() {
            let mut rows: Vec<_> = l.iter().collect();
            rows.sort_by(|a, b| a.0.cmp(b.0));
            for ((op, tenant), h) in rows {
                let labels = format!("operation=\"{}\",tenant=\"{}\"", escape(op), escape(tenant));
                for (i, b) in BUCKETS.iter().enumerate() {
                    let _ = writeln!(
                        out,
                        "civitas_graphql_request_duration_seconds_bucket{{{labels},le=\"{b}\"}} {}",
                        h.counts[i]
                    );
                }
                let _ = writeln!(
                    out,
                    "civitas_graphql_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                    h.count
                );
                let _ = writeln!(
                    out,
                    "civitas_graphql_request_duration_seconds_sum{{{labels}}} {}",
                    h.sum
                );
                let _ = writeln!(
                    out,
                    "civitas_graphql_request_duration_seconds_count{{{labels}}} {}",
                    h.count
                );
            }
        }
        family(
            &mut out,
            "civitas_db_pool_connections",
            "gauge",
            "Database pool connections by state.",
            &[
                ("{state=\"open\"}", u64::from(pool.0)),
                ("{state=\"idle\"}", u64::from(pool.1)),
            ],
        );
        family(
            &mut out,
            "civitas_consent_cache_requests_total",
            "counter",
            "Consent cache look-ups by result.",
            &[
                ("{result=\"hit\"}", consent_cache.0),
                ("{result=\"miss\"}", consent_cache.1),
            ],
        );
        {
            use std::sync::atomic::Ordering::Relaxed;
            family(
                &mut out,
                "civitas_notification_attempts_total",
                "counter",
                "Attempts at sending a notification (e-mail), by result.",
                &[
                    ("{result=\"sent\"}", self.notifications_sent.load(Relaxed)),
                    (
                        "{result=\"failed\"}",
                        self.notifications_failed.load(Relaxed),
                    ),
                ],
            );
        }
        for (name, help, gauge) in [
            (
                "civitas_notifications_pending",
                "Notifications waiting to be sent (e-mail), by tenant.",
                &self.notifications_pending,
            ),
            (
                "civitas_webhook_outbox_pending",
                "Webhook deliveries waiting to be sent, by tenant.",
                &self.outbox_pending,
            ),
            (
                "civitas_cases_overdue",
                "Open cases past their due time, by tenant.",
                &self.overdue_cases,
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} gauge");
            if let Ok(g) = gauge.lock() {
                for (tenant, n) in g.iter() {
                    let _ = writeln!(out, "{name}{{tenant=\"{}\"}} {n}", escape(tenant));
                }
            }
        }
        out
    }
}
