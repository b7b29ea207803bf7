//! The one way out: every request the server makes to an address a tenant or a token chose
//! (webhooks, OpenID discovery and keys, the code exchange) goes through [`Outbound`].
//!
//! Addresses are checked after DNS resolution, inside the resolver the HTTP client connects
//! with, so the address checked is the address connected to (no window for DNS rebinding);
//! IP literals in URLs, which skip the resolver, are checked before the request. Loopback,
//! private, link-local, shared, multicast, reserved and unspecified addresses are refused
//! unless the configuration's allow-list names them. No redirects are followed, every request
//! has a timeout, responses are read up to a size limit, and errors say only "refused",
//! "timed out", "HTTP nnn", "connection failed" or "response too large": never a socket
//! detail another body could use to map the network.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// What a guarded request came to, as a stored error or a log line may say it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutboundError {
    #[error("refused")]
    Refused,
    #[error("timed out")]
    TimedOut,
    #[error("HTTP {0}")]
    Status(u16),
    #[error("connection failed")]
    Failed,
    #[error("response too large")]
    TooLarge,
}

/// An address range of the allow-list, such as `127.0.0.1/32` or `fd00::/8`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl std::str::FromStr for Cidr {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (a, p) = s.split_once('/').unwrap_or((s, ""));
        let addr: IpAddr = a
            .trim()
            .parse()
            .map_err(|_| format!("{s:?} is not an address range"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = if p.is_empty() {
            max
        } else {
            p.trim()
                .parse()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{s:?}: bad prefix"))?
        };
        Ok(Cidr { addr, prefix })
    }
}

impl Cidr {
    fn contains(&self, ip: IpAddr) -> bool {
        fn bits(ip: IpAddr) -> (u128, u32) {
            match ip {
                IpAddr::V4(v) => (u32::from(v) as u128, 32),
                IpAddr::V6(v) => (u128::from(v), 128),
            }
        }
        let ((net, width), (x, w)) = (bits(self.addr), bits(ip));
        if width != w {
            return false;
        }
        let shift = width - self.prefix as u32;
        shift >= width || (net >> shift) == (x >> shift)
    }
}

/// Which addresses a request may reach.
#[derive(Clone, Debug, Default)]
pub struct Policy {
    /// Production: `https` only.
    pub https_only: bool,
    /// Ranges allowed although they are not public (tests, an in-cluster receiver).
    pub allow: Vec<Cidr>,
}

fn public_v4(v: Ipv4Addr) -> bool {
    let [a, b, c, _] = v.octets();
    !(v.is_unspecified()
        || v.is_loopback()
        || v.is_private()
        || v.is_link_local()
        || v.is_multicast()
        || v.is_broadcast()
        || v.is_documentation()
        || a == 0
        || a >= 240
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (b == 18 || b == 19)))
}

fn public_v6(v: Ipv6Addr) -> bool {
    if let Some(v4) = v.to_ipv4_mapped() {
        return public_v4(v4);
    }
    let s = v.segments();
    // NAT64 (64:ff9b::/96) reaches the IPv4 address it embeds.
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        let o = v.octets();
        return public_v4(Ipv4Addr::new(o[12], o[13], o[14], o[15]));
    }
    !(v.is_unspecified()
        || v.is_loopback()
        || v.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00
        || (s[0] & 0xffc0) == 0xfe80
        || (s[0] & 0xffc0) == 0xfec0
        || (s[0] == 0x2001 && s[1] == 0xdb8)
        || s[0..6] == [0, 0, 0, 0, 0, 0])
}

impl Policy {
    pub fn permits(&self, ip: IpAddr) -> bool {
        let public = match ip {
            IpAddr::V4(v) => public_v4(v),
            IpAddr::V6(v) => public_v6(v),
        };
        public || self.allow.iter().any(|c| c.contains(ip))
    }

    /// The URL, if its scheme and (for an IP literal) its address may be requested. Names
    /// are checked when they are resolved.
    pub fn check_url(&self, raw: &str) -> Result<reqwest::Url, OutboundError> {
        let url = reqwest::Url::parse(raw).map_err(|_| OutboundError::Refused)?;
        match url.scheme() {
            "https" => {}
            "http" if !self.https_only => {}
            _ => return Err(OutboundError::Refused),
        }
        match url.host() {
            Some(url::Host::Ipv4(v)) if !self.permits(IpAddr::V4(v)) => Err(OutboundError::Refused),
            Some(url::Host::Ipv6(v)) if !self.permits(IpAddr::V6(v)) => Err(OutboundError::Refused),
            None => Err(OutboundError::Refused),
            _ => Ok(url),
        }
    }
}

impl civitas_tenants::UrlPolicy for Policy {
    fn refuses(&self, url: &str) -> Option<String> {
        self.check_url(url).err().map(|_| {
            if self.https_only {
                "only https URLs to public addresses are allowed".to_owned()
            } else {
                "only http(s) URLs to public addresses are allowed".to_owned()
            }
        })
    }
}

/// The resolver error that marks a refusal, found again in the client's error chain.
#[derive(Debug)]
struct Blocked;

impl std::fmt::Display for Blocked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("address refused by the outbound policy")
    }
}

impl std::error::Error for Blocked {}

struct GuardedResolver(Arc<Policy>);

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.0.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| policy.permits(a.ip()))
                .collect();
            if allowed.is_empty() || allowed.len() < found.len() {
                // A name with any forbidden address is refused whole: a receiver that also
                // answers on an internal address is not one to post a signed event to.
                tracing::info!(host = %host, "outbound request refused: forbidden address");
                return Err(Box::new(Blocked) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

/// The guarded HTTP client, shared by every outbound caller.
#[derive(Clone)]
pub struct Outbound {
    client: reqwest::Client,
    policy: Arc<Policy>,
    max_body: usize,
}

/// The largest response read (a discovery document or a key set is a few kilobytes).
const MAX_BODY: usize = 1 << 20;

impl Outbound {
    pub fn new(policy: Policy, timeout: Duration) -> anyhow::Result<Self> {
        let policy = Arc::new(policy);
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .dns_resolver(Arc::new(GuardedResolver(policy.clone())))
            .no_proxy()
            .build()?;
        Ok(Outbound {
            client,
            policy,
            max_body: MAX_BODY,
        })
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    fn classify(e: &reqwest::Error) -> OutboundError {
        if e.is_timeout() {
            return OutboundError::TimedOut;
        }
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
        while let Some(s) = source {
            if s.is::<Blocked>() {
                return OutboundError::Refused;
            }
            source = s.source();
        }
        OutboundError::Failed
    }

    /// Posts `body` with `headers`; the answer's status when it is a success.
    pub async fn post(
        &self,
        url: &str,
        headers: &[(&str, String)],
        body: Vec<u8>,
    ) -> Result<u16, OutboundError> {
        let url = self.policy.check_url(url)?;
        let mut req = self.client.post(url).body(body);
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        let resp = req.send().await.map_err(|e| Self::classify(&e))?;
        let status = resp.status().as_u16();
        if resp.status().is_success() {
            Ok(status)
        } else {
            Err(OutboundError::Status(status))
        }
    }

    /// Puts `body` at `url` (an object store's signed URL).
    pub async fn put(&self, url: &str, body: Vec<u8>) -> Result<(), OutboundError> {
        let url = self.policy.check_url(url)?;
        let resp = self
            .client
            .put(url)
            .body(body)
            .send()
            .await
            .map_err(|e| Self::classify(&e))?;
        if resp.status().is_success() {
            Ok(())
        } else {
            Err(OutboundError::Status(resp.status().as_u16()))
        }
    }

    /// Deletes `url` (an object store's signed URL); an object already gone is no error
    /// (S3 answers 204 either way, others 404).
    pub async fn delete(&self, url: &str) -> Result<(), OutboundError> {
        let url = self.policy.check_url(url)?;
        let resp = self
            .client
            .delete(url)
            .send()
            .await
            .map_err(|e| Self::classify(&e))?;
        if resp.status().is_success() || resp.status() == reqwest::StatusCode::NOT_FOUND {
            Ok(())
        } else {
            Err(OutboundError::Status(resp.status().as_u16()))
        }
    }

    /// Gets `url` and reads its answer, up to `max` bytes.
    pub async fn get(&self, url: &str, max: usize) -> Result<Vec<u8>, OutboundError> {
        let url = self.policy.check_url(url)?;
        let mut resp = self
            .client
            .get(url)
            .send()
            .await
            .map_err(|e| Self::classify(&e))?;
        if !resp.status().is_success() {
            return Err(OutboundError::Status(resp.status().as_u16()));
        }
        if resp.content_length().is_some_and(|n| n > max as u64) {
            return Err(OutboundError::TooLarge);
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| Self::classify(&e))? {
            if body.len() + chunk.len() > max {
                return Err(OutboundError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    /// Sends an OpenID request (discovery, keys, token) and reads its answer, size-limited.
    pub async fn send(
        &self,
        request: openidconnect::HttpRequest,
    ) -> Result<openidconnect::HttpResponse, OutboundError> {
        let (parts, body) = request.into_parts();
        let url = self.policy.check_url(&parts.uri.to_string())?;
        let mut req = self.client.request(parts.method, url).body(body);
        for (k, v) in &parts.headers {
            req = req.header(k, v);
        }
        let mut resp = req.send().await.map_err(|e| Self::classify(&e))?;
        if resp
            .content_length()
            .is_some_and(|n| n > self.max_body as u64)
        {
            return Err(OutboundError::TooLarge);
        }
        let mut builder = http::Response::builder().status(resp.status());
        for (k, v) in resp.headers() {
            builder = builder.header(k, v);
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| Self::classify(&e))? {
            if body.len() + chunk.len() > self.max_body {
                return Err(OutboundError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        builder.body(body).map_err(|_| OutboundError::Failed)
    }
}

impl<'c> openidconnect::AsyncHttpClient<'c> for Outbound {
    type Error = OutboundError;
    type Future = Pin<
        Box<dyn Future<Output = Result<openidconnect::HttpResponse, OutboundError>> + Send + 'c>,
    >;

    fn call(&'c self, request: openidconnect::HttpRequest) -> Self::Future {
        Box::pin(self.send(request))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_refused_and_public_ones_pass() {
        let p = Policy::default();
        for bad in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "64:ff9b::a9fe:a9fe",
        ] {
            assert!(!p.permits(bad.parse().expect("ip")), "{bad}");
        }
        for good in [
            "93.184.216.34",
            "2a00:1450:4002:402::200e",
            "64:ff9b::5db8:d822",
        ] {
            assert!(p.permits(good.parse().expect("ip")), "{good}");
        }
    }

    #[test]
    fn urls_with_internal_literals_or_other_schemes_are_refused() {
        let p = Policy::default();
        for bad in [
            "http://127.0.0.1:8080/x",
            "http://2130706433/",
            "http://0x7f.1/",
            "http://[::1]/",
            "http://[::ffff:10.0.0.1]/",
            "file:///etc/passwd",
            "gopher://example.org/",
        ] {
            assert_eq!(
                p.check_url(bad).err(),
                Some(OutboundError::Refused),
                "{bad}"
            );
        }
        assert!(p.check_url("http://example.org/hook").is_ok());
        let prod = Policy {
            https_only: true,
            ..Policy::default()
        };
        assert!(prod.check_url("http://example.org/hook").is_err());
        assert!(prod.check_url("https://example.org/hook").is_ok());
    }

    #[test]
    fn the_allow_list_opens_exactly_its_ranges() {
        let p = Policy {
            https_only: false,
            allow: vec![
                "127.0.0.1/32".parse().expect("cidr"),
                "fd00::/8".parse().expect("cidr"),
            ],
        };
        assert!(p.permits("127.0.0.1".parse().expect("ip")));
        assert!(!p.permits("127.0.0.2".parse().expect("ip")));
        assert!(p.permits("fd12::1".parse().expect("ip")));
        assert!(p.check_url("http://127.0.0.1:9/").is_ok());
        assert!("10.0.0.0/33".parse::<Cidr>().is_err());
    }
}
