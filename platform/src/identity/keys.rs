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

const MIN_REFRESH_INTERVAL: Duration = Duration::from_secs(2);

pub struct IssuerKeys {
    pub metadata: CoreProviderMetadata,
    pub jwks: CoreJsonWebKeySet,
}

pub struct KeyCache {
    http: reqwest::Client,
    entries: Cache<String, Arc<IssuerKeys>>,
    last_fetch: Mutex<HashMap<String, Instant>>,
}

impl KeyCache {
    pub fn new(http: reqwest::Client) -> Self {
        KeyCache {
            http,
            entries: Cache::builder()
                .max_capacity(1000)
                .time_to_live(Duration::from_secs(3600))
                .build(),
            last_fetch: Mutex::new(HashMap::new()),
        }
    }

    pub async fn get(&self, issuer: &IssuerUrl) -> Result<Arc<IssuerKeys>, Refused> {
        if let Some(hit) = self.entries.get(issuer.as_str()).await {
            return Ok(hit);
        }
        self.fetch(issuer).await
    }

    /// Fetches again, unless the last fetch was moments ago (then the cached keys stand).
    pub async fn refresh(&self, issuer: &IssuerUrl) -> Result<Arc<IssuerKeys>, Refused> {
        let recent = self
            .last_fetch
            .lock()
            .await
            .get(issuer.as_str())
            .is_some_and(|t| t.elapsed() < MIN_REFRESH_INTERVAL);
        if recent && let Some(hit) = self.entries.get(issuer.as_str()).await {
            return Ok(hit);
        }
        self.fetch(issuer).await
    }

    async fn fetch(&self, issuer: &IssuerUrl) -> Result<Arc<IssuerKeys>, Refused> {
        self.last_fetch
            .lock()
            .await
            .insert(issuer.as_str().to_owned(), Instant::now());
        let metadata = CoreProviderMetadata::discover_async(issuer.clone(), &self.http)
            .await
            .map_err(|e| Refused(format!("discovery of {} failed: {e}", issuer.as_str())))?;
        let jwks = metadata.jwks().clone();
        let keys = Arc::new(IssuerKeys { metadata, jwks });
        self.entries
            .insert(issuer.as_str().to_owned(), keys.clone())
            .await;
        tracing::info!(issuer = issuer.as_str(), "identity provider keys fetched");
        Ok(keys)
    }
}
