//! Each issuer's discovery document and published keys, cached; fetched again when a token
//! names a key we do not know (a rotation), at most once every few seconds per issuer.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use moka::future::Cache;
use openidconnect::IssuerUrl;
use openidconnect::core::{CoreJsonWebKeySet, CoreProviderMetadata};
use tokio::sync::Mutex;

use super::Refused;
use crate::outbound::Outbound;

const MIN_REFRESH_INTERVAL: Duration = Duration::from_secs(2);
/// How long an issuer whose discovery failed is not asked again: a flood of forged tokens
/// naming it must not become a flood of requests to it.
const NEGATIVE_TTL: Duration = Duration::from_secs(10);

pub struct IssuerKeys {
    pub metadata: CoreProviderMetadata,
    pub jwks: CoreJsonWebKeySet,
}

pub struct KeyCache {
    http: Outbound,
    entries: Cache<String, Arc<IssuerKeys>>,
    failed: Cache<String, ()>,
    last_fetch: Mutex<HashMap<String, Instant>>,
}

impl KeyCache {
    pub fn new(http: Outbound) -> Self {
        KeyCache {
            http,
            entries: Cache::builder()
                .max_capacity(1000)
                .time_to_live(Duration::from_secs(3600))
                .build(),
            failed: Cache::builder()
                .max_capacity(1000)
                .time_to_live(NEGATIVE_TTL)
                .build(),
            last_fetch: Mutex::new(HashMap::new()),
        }
    }

    /// The issuer's keys; concurrent misses share one fetch.
    pub async fn get(&self, issuer: &IssuerUrl) -> Result<Arc<IssuerKeys>, Refused> {
        if let Some(hit) = self.entries.get(issuer.as_str()).await {
            return Ok(hit);
        }
        self.entries
            .try_get_with(issuer.as_str().to_owned(), self.fetch(issuer))
            .await
            .map_err(|e| Refused(e.0.clone()))
    }

    /// Fetches again, unless the last fetch was moments ago (then the cached keys stand).
    pub async fn refresh(&self, issuer: &IssuerUrl) -> Result<Arc<IssuerKeys>, Refused> {
        let recent = self
            .last_fetch
            .lock()
            .await
            .get(issuer.as_str())
            .is_some_and(|t| t.elapsed() < MIN_REFRESH_INTERVAL);
        if recent {
            return self.get(issuer).await;
        }
        self.entries.invalidate(issuer.as_str()).await;
        self.get(issuer).await
    }

    async fn fetch(&self, issuer: &IssuerUrl) -> Result<Arc<IssuerKeys>, Refused> {
        if self.failed.contains_key(issuer.as_str()) {
            return Err(Refused(format!(
                "discovery of {} failed moments ago; not asked again yet",
                issuer.as_str()
            )));
        }
        {
            let mut last = self.last_fetch.lock().await;
            if last
                .get(issuer.as_str())
                .is_some_and(|t| t.elapsed() < MIN_REFRESH_INTERVAL)
            {
                return Err(Refused(format!(
                    "keys of {} fetched moments ago; not again yet",
                    issuer.as_str()
                )));
            }
            last.insert(issuer.as_str().to_owned(), Instant::now());
        }
        let metadata = match CoreProviderMetadata::discover_async(issuer.clone(), &self.http).await
        {
            Ok(m) => m,
            Err(e) => {
                self.failed.insert(issuer.as_str().to_owned(), ()).await;
                return Err(Refused(format!(
                    "discovery of {} failed: {e}",
                    issuer.as_str()
                )));
            }
        };
        let jwks = metadata.jwks().clone();
        tracing::info!(issuer = issuer.as_str(), "identity provider keys fetched");
        Ok(Arc::new(IssuerKeys { metadata, jwks }))
    }
}
