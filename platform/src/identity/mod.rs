//! Authentication: bearer tokens from each body's OpenID providers (and, in development
//! only, from the local development issuer), and browser sessions from the authorization
//! code flow.

pub mod browser;
mod claims;
mod keys;
pub mod sessions;

use std::str::FromStr;

use civitas_tenants::identity_providers::{self, ProviderRegistration};
use civitas_tenants::{Db, Principal, PrincipalKind, Role, registry};
use openidconnect::core::{CoreIdToken, CoreIdTokenVerifier, CoreJwsSigningAlgorithm};
use openidconnect::{
    ClaimsVerificationError, ClientId, IssuerUrl, JsonWebTokenType, Nonce,
    SignatureVerificationError,
};

use crate::dev_issuer::{self, DevIssuer};
use crate::outbound::Outbound;
pub use keys::IssuerKeys;

/// Why a token was refused. The detail is logged; clients only learn that it was.
#[derive(Debug)]
pub struct Refused(pub String);

pub struct Authenticator {
    db: Db,
    dev: Option<DevIssuer>,
    /// Platform-wide providers from the configuration file.
    configured: Vec<ProviderRegistration>,
    keys: keys::KeyCache,
    http: Outbound,
}

/// Asymmetric algorithms only: an HMAC-signed token would have to share a secret with the
/// provider, and `none` signs nothing.
const ALGS: [CoreJwsSigningAlgorithm; 10] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::RsaSsaPssSha384,
    CoreJwsSigningAlgorithm::RsaSsaPssSha512,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EcdsaP384Sha384,
    CoreJwsSigningAlgorithm::EcdsaP521Sha512,
    CoreJwsSigningAlgorithm::EdDsa,
];

impl Authenticator {
    pub fn new(
        db: Db,
        dev: Option<DevIssuer>,
        configured: Vec<ProviderRegistration>,
        http: Outbound,
    ) -> anyhow::Result<Self> {
        Ok(Authenticator {
            db,
            dev,
            configured,
            keys: keys::KeyCache::new(http.clone()),
            http,
        })
    }

    pub fn dev_issuer(&self) -> Option<&DevIssuer> {
        self.dev.as_ref()
    }

    pub(crate) fn http(&self) -> &Outbound {
        &self.http
    }

    pub(crate) fn keys(&self) -> &keys::KeyCache {
        &self.keys
    }

    /// Every registration of `issuer`: the configuration file's and the bodies'.
    pub(crate) async fn registrations(
        &self,
        issuer: &str,
    ) -> Result<Vec<ProviderRegistration>, Refused> {
        let issuer = issuer.trim_end_matches('/');
        let mut regs: Vec<ProviderRegistration> = self
            .configured
            .iter()
            .filter(|r| r.issuer.trim_end_matches('/') == issuer)
            .cloned()
            .collect();
        regs.extend(
            identity_providers::by_issuer(&self.db, issuer)
                .await
                .map_err(|e| Refused(format!("reading identity providers: {e}")))?,
        );
        Ok(regs)
    }

    pub(crate) async fn registration(&self, id: uuid::Uuid) -> Option<ProviderRegistration> {
        if let Some(r) = self.configured.iter().find(|r| r.id == id) {
            return Some(r.clone());
        }
        identity_providers::find(&self.db, id).await.ok().flatten()
    }

    /// The principal behind a bearer token. A token verified in the last few seconds is
    /// taken from the access cache (dropped whenever a registration, a tenant or a
    /// membership changes), until it expires: signature checks are a large share of a
    /// request's CPU, and clients send the same token many times.
    pub async fn bearer(
        &self,
        token: &str,
    ) -> Result<(Principal, Option<chrono::DateTime<chrono::Utc>>), Refused> {
        let now = self.db.clock().now();
        if let Some((p, expires)) = self.db.access().principal(token, now).await {
            return Ok((p, Some(expires)));
        }
        let payload = claims::unverified_payload(token)?;
        let principal = self.verify_bearer(token, &payload).await?;
        let expires = payload["exp"]
            .as_i64()
            .and_then(|s| chrono::DateTime::from_timestamp(s, 0));
        if let Some(expires) = expires {
            self.db
                .access()
                .remember_principal(token, principal.clone(), expires)
                .await;
        }
        Ok((principal, expires))
    }

    async fn verify_bearer(
        &self,
        token: &str,
        payload: &serde_json::Value,
    ) -> Result<Principal, Refused> {
        let issuer = payload["iss"]
            .as_str()
            .ok_or_else(|| Refused("no iss claim".into()))?
            .to_owned();
        if issuer == dev_issuer::ISSUER {
            let dev = self
                .dev
                .as_ref()
                .ok_or_else(|| Refused("the development issuer is off".into()))?;
            return dev.verify(token).map_err(|e| Refused(e.to_string()));
        }
        let regs = self.registrations(&issuer).await?;
        if regs.is_empty() {
            return Err(Refused(format!("no body registered issuer {issuer}")));
        }
        let mut matched = Vec::new();
        for reg in &regs {
            if self.verify(reg, token, None).await.is_ok() {
                matched.push(reg);
            }
        }
        // A registration trusted for citizens speaks first: its fiscal code names the citizen
        // even where another body shares the issuer without that trust.
        matched.sort_by_key(|r| !r.citizen_identities);
        let Some(first) = matched.first() else {
            // Report the first registration's reason.
            return Err(self
                .verify(&regs[0], token, None)
                .await
                .err()
                .unwrap_or(Refused("unverifiable".into())));
        };
        let mut principal = self.principal(first, payload).await?;
        for reg in &matched[1..] {
            if self.principal(reg, payload).await.ok().as_ref() != Some(&principal) {
                // An issuer a platform administrator let several bodies share: its token
                // does not say which body it is for, so it carries no body and no roles of
                // its own; the memberships each body granted to (issuer, subject) decide.
                principal.home_tenant = None;
                principal.token_roles.retain(|r| *r == Role::PlatformAdmin);
                if principal.kind == PrincipalKind::Service {
                    return Err(Refused(format!(
                        "service client of issuer {issuer} is registered by several bodies"
                    )));
                }
            }
        }
        Ok(principal)
    }

    /// Checks a JWT against a registration: signature with the issuer's published keys
    /// (fetched again once when the key id is unknown), issuer, audience, expiry, not-before,
    /// algorithm. `nonce` for ID tokens from the browser flow.
    pub(crate) async fn verify(
        &self,
        reg: &ProviderRegistration,
        token: &str,
        nonce: Option<&Nonce>,
    ) -> Result<(), Refused> {
        let parsed =
            CoreIdToken::from_str(token).map_err(|e| Refused(format!("malformed token: {e}")))?;
        let issuer =
            IssuerUrl::new(reg.issuer.clone()).map_err(|e| Refused(format!("issuer URL: {e}")))?;
        for attempt in 0..2 {
            let keys = if attempt == 0 {
                self.keys.get(&issuer).await?
            } else {
                self.keys.refresh(&issuer).await?
            };
            let mut last = None;
            for aud in audiences(reg, nonce.is_some()) {
                let clock = self.db.clock().clone();
                let verifier = CoreIdTokenVerifier::new_public_client(
                    ClientId::new(aud),
                    issuer.clone(),
                    keys.jwks.clone(),
                )
                .set_allowed_algs(ALGS)
                .set_allowed_jose_types(jose_types())
                .set_other_audience_verifier_fn(|_| true)
                .set_time_fn(move || clock.now());
                let result = match nonce {
                    Some(n) => parsed.claims(&verifier, n).map(|_| ()),
                    None => parsed
                        .claims(&verifier, |_: Option<&Nonce>| Ok(()))
                        .map(|_| ()),
                };
                match result {
                    Ok(()) => return claims::check_not_before(token, self.db.clock().now()),
                    Err(e) => last = Some(e),
                }
            }
            match last {
                Some(ClaimsVerificationError::SignatureVerification(
                    SignatureVerificationError::NoMatchingKey,
                )) if attempt == 0 => continue,
                Some(e) => return Err(Refused(e.to_string())),
                None => return Err(Refused("no audience accepted".into())),
            }
        }
        Err(Refused("no key of the issuer verifies this token".into()))
    }

    async fn principal(
        &self,
        reg: &ProviderRegistration,
        payload: &serde_json::Value,
    ) -> Result<Principal, Refused> {
        let slug = match reg.tenant {
            Some(t) => Some(
                registry::find_by_id(&self.db, t)
                    .await
                    .map_err(|e| Refused(format!("reading tenant: {e}")))?
                    .ok_or_else(|| Refused("the registering body no longer exists".into()))?
                    .slug
                    .to_string(),
            ),
            None => None,
        };
        claims::principal(reg, payload, slug)
    }
}

/// For access tokens, any accepted audience; for ID tokens, the client itself.
fn audiences(reg: &ProviderRegistration, id_token: bool) -> Vec<String> {
    match (&reg.client_id, id_token) {
        (Some(c), true) => vec![c.clone()],
        _ => reg.audiences.clone(),
    }
}

fn jose_types() -> Vec<openidconnect::NormalizedJsonWebTokenType> {
    ["JWT", "at+jwt", "application/at+jwt"]
        .into_iter()
        .filter_map(|t| JsonWebTokenType::new(t.to_owned()).normalize().ok())
        .collect()
}
