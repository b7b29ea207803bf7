//! The load driver: a fixed number of clients, each sending its next request as soon as the
//! previous one is answered (a closed loop), for a warm-up and then a measured period.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE, HeaderValue};
use serde::Serialize;

use super::scenarios::{Request, Workload};

/// A small, fast generator: the driver must not spend the cores it is measuring.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    pub fn next_u64(&mut self) -> u64 {
        // SplitMix64.
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

#[derive(Clone, Debug)]
pub struct LoadOptions {
    pub base_url: String,
    pub clients: usize,
    pub warmup: Duration,
    pub duration: Duration,
    pub seed: u64,
}

/// What one run measured.
#[derive(Clone, Debug, Default, Serialize)]
pub struct LoadResult {
    pub requests: u64,
    pub ok: u64,
    /// Failed requests by `extensions.code` (or HTTP status, or transport error).
    pub errors: BTreeMap<String, u64>,
    pub seconds: f64,
    pub throughput: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
}

impl LoadResult {
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }
}

#[derive(Default)]
struct Tally {
    latencies_us: Vec<u32>,
    ok: u64,
    errors: BTreeMap<String, u64>,
}

/// Runs `workload` with `opts.clients` clients.
pub async fn run(workload: Arc<dyn Workload>, opts: &LoadOptions) -> anyhow::Result<LoadResult> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(opts.clients)
        .timeout(Duration::from_secs(30))
        .build()?;
    let url = opts.base_url.trim_end_matches('/').to_owned();
    let start = Instant::now();
    let measure_from = start + opts.warmup;
    let end = measure_from + opts.duration;
    let mut tasks = Vec::new();
    for c in 0..opts.clients {
        let (http, url, workload) = (http.clone(), url.clone(), workload.clone());
        let mut rng = Rng::new(opts.seed.wrapping_mul(1_000_003).wrapping_add(c as u64));
        tasks.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            loop {
                let sent = Instant::now();
                if sent >= end {
                    break;
                }
                let req = workload.next(&mut rng);
                let outcome = send(&http, &url, &req).await;
                if sent < measure_from {
                    continue;
                }
                let us = sent.elapsed().as_micros().min(u128::from(u32::MAX)) as u32;
                tally.latencies_us.push(us);
                match outcome {
                    Ok(()) => tally.ok += 1,
                    Err(code) => *tally.errors.entry(code).or_default() += 1,
                }
            }
            tally
        }));
    }
    let mut all = Tally::default();
    for t in tasks {
        let t = t.await?;
        all.latencies_us.extend(t.latencies_us);
        all.ok += t.ok;
        for (k, v) in t.errors {
            *all.errors.entry(k).or_default() += v;
        }
    }
    Ok(summarize(all, opts.duration))
}

/// The nearest-rank `q` quantile of latencies sorted ascending, in µs, as milliseconds.
pub fn percentile_ms<T: Copy + Into<f64>>(sorted_us: &[T], q: f64) -> f64 {
    if sorted_us.is_empty() {
        return 0.0;
    }
    let i = ((sorted_us.len() as f64 * q).ceil() as usize).clamp(1, sorted_us.len());
    sorted_us[i - 1].into() / 1000.0
}

fn summarize(mut t: Tally, duration: Duration) -> LoadResult {
    t.latencies_us.sort_unstable();
    let pct = |q: f64| percentile_ms(&t.latencies_us, q);
    let requests = t.latencies_us.len() as u64;
    let seconds = duration.as_secs_f64();
    LoadResult {
        requests,
        ok: t.ok,
        seconds,
        throughput: requests as f64 / seconds,
        p50_ms: pct(0.50),
        p95_ms: pct(0.95),
        p99_ms: pct(0.99),
        errors: t.errors,
    }
}

/// Sends one request; `Err` names why it failed.
async fn send(http: &reqwest::Client, url: &str, req: &Request) -> Result<(), String> {
    let (name, auth) = if req.session {
        (
            COOKIE,
            format!("{}={}", civitas_web::SESSION_COOKIE, req.token),
        )
    } else {
        (AUTHORIZATION, format!("Bearer {}", req.token))
    };
    let auth = HeaderValue::from_str(&auth).map_err(|_| "token")?;
    let sent = match (&req.get, &req.form) {
        (Some(path), _) => http.get(format!("{url}{path}")),
        (None, Some((path, form))) => http
            .post(format!("{url}{path}"))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(form.clone()),
        (None, None) => http
            .post(format!("{url}/graphql"))
            .header(CONTENT_TYPE, "application/json")
            .body(req.body.clone()),
    };
    let resp = sent
        .header(name, auth)
        .send()
        .await
        .map_err(|e| format!("transport: {}", short(&e)))?;
    let status = resp.status();
    let body = resp
        .bytes()
        .await
        .map_err(|e| format!("transport: {}", short(&e)))?;
    // A file is the answer itself; a GraphQL answer may carry errors with 200.
    let graphql_errors = req.get.is_none() && req.form.is_none() && contains(&body, b"\"errors\"");
    if !graphql_errors && status.is_success() {
        return Ok(());
    }
    let code = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| {
            v["errors"][0]["extensions"]["code"]
                .as_str()
                .map(str::to_owned)
        })
        .unwrap_or_else(|| format!("HTTP {}", status.as_u16()));
    Err(code)
}

fn short(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connect"
    } else {
        "other"
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_take_the_nearest_rank() {
        let t = Tally {
            latencies_us: (1..=100).map(|i| i * 1000).collect(),
            ok: 100,
            errors: BTreeMap::new(),
        };
        let r = summarize(t, Duration::from_secs(2));
        assert_eq!((r.p50_ms, r.p95_ms, r.p99_ms), (50.0, 95.0, 99.0));
        assert_eq!(r.throughput, 50.0);
    }

    #[test]
    fn the_generator_spreads_values() {
        let mut rng = Rng::new(7);
        let mut seen = [0u32; 10];
        for _ in 0..10_000 {
            seen[rng.below(10) as usize] += 1;
        }
        assert!(seen.iter().all(|n| (800..1200).contains(n)), "{seen:?}");
    }
}
