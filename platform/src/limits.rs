//! Fairness between tenants: request-rate limits per tenant and per principal (token
//! buckets), a cap on each tenant's requests in flight, and the server's own places for
//! requests being served, taken in arrival order.
//! A tenant's own limits come from its settings (`{"limits": {...}}`), else the defaults.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use civitas_tenants::{Principal, PrincipalKind, TenantContext};
use moka::sync::Cache;
use serde::Deserialize;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The limits of one tenant; every field may be overridden in the tenant's settings.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Limits {
    /// Sustained requests per second for the whole tenant.
    pub tenant_rps: f64,
    pub tenant_burst: f64,
    /// Sustained requests per second for one principal of the tenant.
    pub principal_rps: f64,
    pub principal_burst: f64,
    /// Requests of the tenant being served at once.
    pub max_concurrent: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            tenant_rps: 500.0,
            tenant_burst: 1000.0,
            principal_rps: 100.0,
            principal_burst: 200.0,
            max_concurrent: 64,
        }
    }
}

impl Limits {
    fn for_tenant(defaults: Limits, ctx: &TenantContext) -> Limits {
        let mut merged = serde_json::to_value(PlainLimits::from(defaults)).unwrap_or_default();
        if let (Some(m), Some(own)) = (
            merged.as_object_mut(),
            ctx.tenant
                .settings
                .get("limits")
                .and_then(|l| l.as_object()),
        ) {
            for (k, v) in own {
                m.insert(k.clone(), v.clone());
            }
        }
        serde_json::from_value::<Limits>(merged).unwrap_or(defaults)
    }
}

/// The same fields, serialisable, to merge a tenant's overrides over the defaults.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct PlainLimits {
    tenant_rps: f64,
    tenant_burst: f64,
    principal_rps: f64,
    principal_burst: f64,
    max_concurrent: usize,
}

impl From<Limits> for PlainLimits {
    fn from(l: Limits) -> Self {
        PlainLimits {
            tenant_rps: l.tenant_rps,
            tenant_burst: l.tenant_burst,
            principal_rps: l.principal_rps,
            principal_burst: l.principal_burst,
            max_concurrent: l.max_concurrent,
        }
    }
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    /// Takes a token, or says how long until one is there.
    fn take(&mut self, rate: f64, burst: f64, now: Instant) -> Result<(), Duration> {
        let elapsed = now.duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * rate).min(burst);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64(
                ((1.0 - self.tokens) / rate.max(0.001)).max(0.001),
            ))
        }
    }
}

/// Why a request was turned away, and when to try again.
#[derive(Debug)]
pub struct Limited {
    pub retry_after: Duration,
    pub what: &'static str,
}

pub struct Limiter {
    defaults: Limits,
    buckets: Cache<String, Arc<Mutex<Bucket>>>,
    /// Keyed by tenant and its current cap, so that a changed cap takes effect at once.
    in_flight: Cache<(uuid::Uuid, usize), Arc<Semaphore>>,
}

impl Limiter {
    pub fn new(defaults: Limits) -> Self {
        Limiter {
            defaults,
            buckets: Cache::builder()
                .max_capacity(100_000)
                .time_to_idle(Duration::from_secs(600))
                .build(),
            in_flight: Cache::builder().max_capacity(10_000).build(),
        }
    }

    fn take(&self, key: String, rate: f64, burst: f64, what: &'static str) -> Result<(), Limited> {
        let bucket = self.buckets.get_with(key, || {
            Arc::new(Mutex::new(Bucket {
                tokens: burst,
                at: Instant::now(),
            }))
        });
        let mut b = bucket.lock().map_err(|_| Limited {
            retry_after: Duration::from_secs(1),
            what,
        })?;
        b.take(rate, burst, Instant::now())
            .map_err(|retry_after| Limited { retry_after, what })
    }

    /// Admits a request of `ctx`, or says why not. The permit holds its place among the
    /// tenant's requests in flight until dropped.
    pub fn admit(&self, ctx: &TenantContext) -> Result<OwnedSemaphorePermit, Limited> {
        if ctx.principal.kind == PrincipalKind::Citizen {
            return self.admit_public(Some(&ctx.principal));
        }
        let l = Limits::for_tenant(self.defaults, ctx);
        let tenant = ctx.tenant.id.0;
        self.take(
            format!("t:{tenant}"),
            l.tenant_rps,
            l.tenant_burst,
            "tenant",
        )?;
        self.take(
            format!(
                "p:{tenant}:{}|{}",
                ctx.principal.issuer, ctx.principal.subject
            ),
            l.principal_rps,
            l.principal_burst,
            "principal",
        )?;
        let max = l.max_concurrent.max(1);
        let sem = self
            .in_flight
            .get_with((tenant, max), || Arc::new(Semaphore::new(max)));
        sem.try_acquire_owned().map_err(|_| Limited {
            retry_after: Duration::from_millis(100),
            what: "concurrency",
        })
    }

    /// Admits a request that names no body (a citizen's own data, the public catalogue, a
    /// caller with no token) or a citizen's that names one. The public, not a body's staff: a signed-in caller spends their own bucket (one
    /// across every body, at the default principal rate), callers with no token share one
    /// bucket (at the default tenant rate); all take a place among the public's requests in
    /// flight, never a body's own budget, so that neither citizens nor anonymous floods
    /// starve a body's operators.
    pub fn admit_public(
        &self,
        principal: Option<&Principal>,
    ) -> Result<OwnedSemaphorePermit, Limited> {
        let l = self.defaults;
        match principal {
            Some(p) => self.take(
                format!("c:{}|{}", p.issuer, p.subject),
                l.principal_rps,
                l.principal_burst,
                "principal",
            )?,
            None => self.take(
                "anonymous".into(),
                l.tenant_rps,
                l.tenant_burst,
                "anonymous",
            )?,
        }
        let max = l.max_concurrent.max(1);
        let sem = self
            .in_flight
            .get_with((uuid::Uuid::nil(), max), || Arc::new(Semaphore::new(max)));
        sem.try_acquire_owned().map_err(|_| Limited {
            retry_after: Duration::from_millis(100),
            what: "concurrency",
        })
    }
}

/// The server's places for requests being served at once. A request the limits above let
/// through waits here for a place, in arrival order (tokio's semaphore is fair), for at most
/// `wait`. Without it every admitted request is served at once: on a few cores they then
/// share the CPU and the database pool in no particular order, and the slowest of them
/// wait far longer than the rest (docs/performance.md: p99 22-25 ms → 18 ms, same
/// throughput, with as many places as database connections).
pub struct Gate {
    places: Option<Arc<Semaphore>>,
    size: usize,
    wait: Duration,
    waiting: AtomicUsize,
    turned_away: AtomicU64,
}

/// What the gate holds at one moment, for `/metrics`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct GateStats {
    pub serving: usize,
    pub waiting: usize,
    pub turned_away: u64,
}

impl Gate {
    /// `max_in_flight` zero: no gate.
    pub fn new(max_in_flight: usize, wait: Duration) -> Self {
        Gate {
            places: (max_in_flight > 0).then(|| Arc::new(Semaphore::new(max_in_flight))),
            size: max_in_flight,
            wait,
            waiting: AtomicUsize::new(0),
            turned_away: AtomicU64::new(0),
        }
    }

    pub fn stats(&self) -> GateStats {
        GateStats {
            serving: self
                .places
                .as_ref()
                .map_or(0, |p| self.size.saturating_sub(p.available_permits())),
            waiting: self.waiting.load(Ordering::Relaxed),
            turned_away: self.turned_away.load(Ordering::Relaxed),
        }
    }

    /// A place, held until dropped; `None` when there is no gate.
    pub async fn enter(&self) -> Result<Option<OwnedSemaphorePermit>, Limited> {
        let Some(places) = &self.places else {
            return Ok(None);
        };
        if let Ok(permit) = places.clone().try_acquire_owned() {
            return Ok(Some(permit));
        }
        self.waiting.fetch_add(1, Ordering::Relaxed);
        let waited = tokio::time::timeout(self.wait, places.clone().acquire_owned()).await;
        self.waiting.fetch_sub(1, Ordering::Relaxed);
        match waited {
            Ok(Ok(permit)) => Ok(Some(permit)),
            _ => {
                self.turned_away.fetch_add(1, Ordering::Relaxed);
                Err(Limited {
                    retry_after: Duration::from_secs(1),
                    what: "server",
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::Bucket;

    #[test]
    fn a_bucket_allows_its_burst_then_its_rate() {
        let t0 = Instant::now();
        let mut b = Bucket {
            tokens: 3.0,
            at: t0,
        };
        assert!((0..3).all(|_| b.take(1.0, 3.0, t0).is_ok()));
        let wait = b.take(1.0, 3.0, t0).expect_err("empty");
        assert!(wait <= Duration::from_secs(1));
        assert!(
            b.take(1.0, 3.0, t0 + Duration::from_millis(1100)).is_ok(),
            "refilled"
        );
    }

    #[tokio::test]
    async fn the_gate_serves_in_arrival_order_and_turns_away_after_its_wait() {
        let gate = std::sync::Arc::new(super::Gate::new(1, Duration::from_millis(50)));
        let first = gate.enter().await.expect("a free place");
        assert!(gate.enter().await.is_err(), "no place within the wait");

        let patient = std::sync::Arc::new(super::Gate::new(1, Duration::from_secs(10)));
        let held = patient.enter().await.expect("place");
        let order = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut waiters = Vec::new();
        for i in 0..3 {
            let (gate, order) = (patient.clone(), order.clone());
            waiters.push(tokio::spawn(async move {
                let _place = gate.enter().await.expect("place");
                order.lock().expect("order").push(i);
            }));
            // Each waiter queues before the next one is spawned.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        drop(held);
        for w in waiters {
            w.await.expect("waiter");
        }
        assert_eq!(*order.lock().expect("order"), [0, 1, 2]);
        drop(first);
        assert!(
            super::Gate::new(0, Duration::ZERO)
                .enter()
                .await
                .expect("no gate")
                .is_none()
        );
    }
}
