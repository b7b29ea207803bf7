//! Consent receipts: what a citizen keeps of each consent they gave or withdrew, in the
//! Kantara Consent Receipt v1.1 shape (the base of ISO/IEC 27560), signed by the platform
//! as a JWS (EdDSA, Ed25519) that anyone verifies with the published key set.
//!
//! A receipt is made from the consent's record, which never changes once written (a
//! withdrawal only adds its time): the same consent and event always give the same
//! receipt, with an id derived from both.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chrono::{DateTime, Utc};
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{Error, Result};

/// The Kantara version the receipts follow.
pub const VERSION: &str = "KI-CR-v1.1.0";

/// What a receipt records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    Granted,
    Withdrawn,
}

impl Event {
    pub const fn as_str(self) -> &'static str {
        match self {
            Event::Granted => "granted",
            Event::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<Event> {
        match s {
            "granted" => Some(Event::Granted),
            "withdrawn" => Some(Event::Withdrawn),
            _ => None,
        }
    }
}

/// The platform's receipt key.
pub struct Signer {
    key: Ed25519KeyPair,
    kid: String,
    /// Keys that signed receipts before a rotation: published so that those receipts still
    /// verify, never used to sign.
    retired: Vec<Value>,
}

/// The published form (JWK) of an Ed25519 public key, and its RFC 7638 thumbprint.
fn public_jwk(public: &[u8]) -> (String, Value) {
    let x = B64.encode(public);
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
    let kid = B64.encode(ring::digest::digest(
        &ring::digest::SHA256,
        canonical.as_bytes(),
    ));
    let jwk =
        json!({ "kty": "OKP", "crv": "Ed25519", "use": "sig", "alg": "EdDSA", "kid": kid, "x": x });
    (kid, jwk)
}

fn key_pair(der: &[u8]) -> Result<Ed25519KeyPair> {
    Ed25519KeyPair::from_pkcs8(der)
        .or_else(|_| Ed25519KeyPair::from_pkcs8_maybe_unchecked(der))
        .map_err(|_| Error::Internal("the receipt key is not an Ed25519 PKCS#8 key".into()))
}

impl Signer {
    /// A key from its PKCS#8 document.
    pub fn from_pkcs8(der: &[u8]) -> Result<Signer> {
        let key = key_pair(der)?;
        // The key id is the JWK thumbprint (RFC 7638) of the public key.
        let (kid, _) = public_jwk(key.public_key().as_ref());
        Ok(Signer {
            key,
            kid,
            retired: Vec::new(),
        })
    }

    /// The same signer publishing also the public halves of `retired` (PKCS#8 documents of
    /// keys it replaced), so that the receipts they signed still verify.
    pub fn with_retired(mut self, retired: &[Vec<u8>]) -> Result<Signer> {
        for der in retired {
            let (kid, jwk) = public_jwk(key_pair(der)?.public_key().as_ref());
            if kid != self.kid && !self.retired.iter().any(|j| j["kid"] == kid.as_str()) {
                self.retired.push(jwk);
            }
        }
        Ok(self)
    }

    /// A new PKCS#8 document for [`Signer::from_pkcs8`].
    pub fn generate() -> Result<Vec<u8>> {
        let rng = ring::rand::SystemRandom::new();
        Ed25519KeyPair::generate_pkcs8(&rng)
            .map(|d| d.as_ref().to_vec())
            .map_err(|_| Error::Internal("generating a receipt key".into()))
    }

    /// The published key set (RFC 7517) that verifies receipts.
    pub fn jwks(&self) -> Value {
        let (_, current) = public_jwk(self.key.public_key().as_ref());
        let keys: Vec<Value> = std::iter::once(current)
            .chain(self.retired.iter().cloned())
            .collect();
        json!({ "keys": keys })
    }

    /// `receipt` as a compact JWS.
    pub fn sign(&self, receipt: &Value) -> String {
        let header = json!({ "alg": "EdDSA", "typ": "JWT", "kid": self.kid });
        let input = format!(
            "{}.{}",
            B64.encode(header.to_string()),
            B64.encode(receipt.to_string())
        );
        let sig = self.key.sign(input.as_bytes());
        format!("{input}.{}", B64.encode(sig.as_ref()))
    }
}

/// A controller of the data a consent is about: a body.
#[derive(Clone, Debug)]
pub struct Controller {
    pub name: String,
    pub slug: String,
    /// Where its privacy notice is (`privacyPolicyUrl` in its settings), if it said.
    pub policy_url: Option<String>,
}

impl Controller {
    fn json(&self) -> Value {
        json!({ "piiController": self.name, "civitas:body": self.slug, "policyUrl": self.policy_url })
    }
}

/// What every receipt holds.
pub struct Common<'a> {
    pub consent_id: Uuid,
    pub event: Event,
    /// When it was given, or withdrawn.
    pub at: DateTime<Utc>,
    /// The citizen's codice fiscale.
    pub principal: &'a str,
    pub language: &'a str,
    /// Where it was collected: `web`, `counter`, `phone`…
    pub channel: &'a str,
}

fn receipt_id(consent: Uuid, event: Event) -> Uuid {
    Uuid::new_v5(&consent, event.as_str().as_bytes())
}

fn base(c: &Common<'_>, controllers: &[&Controller], services: Value) -> Value {
    json!({
        "version": VERSION,
        "jurisdiction": "IT",
        "consentTimestamp": c.at.timestamp(),
        "collectionMethod": c.channel,
        "consentReceiptID": receipt_id(c.consent_id, c.event),
        "language": c.language,
        "piiPrincipalId": c.principal,
        "piiControllers": controllers.iter().map(|c| c.json()).collect::<Vec<_>>(),
        "policyUrl": controllers.iter().find_map(|c| c.policy_url.clone()),
        "services": services,
        "sensitive": false,
        "spiCat": [],
        "civitas:consentId": c.consent_id,
        "civitas:event": c.event.as_str(),
    })
}

/// The receipt of a privacy consent to `body` for `purpose`, under notice `notice`.
pub fn privacy(c: &Common<'_>, body: &Controller, purpose: &str, notice: &str) -> Value {
    base(
        c,
        &[body],
        json!([{
            "service": purpose,
            "purposes": [{
                "purpose": purpose,
                "purposeCategory": [purpose],
                "consentType": "EXPLICIT",
                "piiCategory": [],
                "primaryPurpose": true,
                "termination": "until withdrawn",
                "thirdPartyDisclosure": false,
                "civitas:noticeVersion": notice,
            }],
        }]),
    )
}

/// The receipt of a sharing consent: `grantee` may read what `source` (or every body)
/// holds, for `scopes`, until `expires`.
pub fn sharing(
    c: &Common<'_>,
    source: Option<&Controller>,
    grantee: &Controller,
    scopes: &[&str],
    purpose: &str,
    expires: Option<DateTime<Utc>>,
) -> Value {
    let controllers: Vec<&Controller> = source.into_iter().chain([grantee]).collect();
    let termination = match expires {
        Some(t) => format!("until withdrawn or {}", t.to_rfc3339()),
        None => "until withdrawn".to_owned(),
    };
    base(
        c,
        &controllers,
        json!([{
            "service": "sharing between bodies",
            "purposes": [{
                "purpose": purpose,
                "purposeCategory": ["sharing"],
                "consentType": "EXPLICIT",
                "piiCategory": scopes,
                "primaryPurpose": true,
                "termination": termination,
                "thirdPartyDisclosure": true,
                "thirdPartyName": grantee.name,
                "civitas:source": source.map(|s| s.slug.as_str()).unwrap_or("every body"),
            }],
        }]),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::{ED25519, UnparsedPublicKey};

    #[test]
    fn a_receipt_verifies_with_the_published_key_and_not_once_changed() {
        let signer = Signer::from_pkcs8(&Signer::generate().expect("key")).expect("signer");
        let roma = Controller {
            name: "Roma Capitale".into(),
            slug: "roma".into(),
            policy_url: Some("https://www.comune.roma.it/privacy".into()),
        };
        let c = Common {
            consent_id: Uuid::now_v7(),
            event: Event::Granted,
            at: Utc::now(),
            principal: "RSSMRA85T10A562S",
            language: "it",
            channel: "web",
        };
        let r = privacy(&c, &roma, "engagement", "v1");
        assert_eq!(r["version"], VERSION);
        assert_eq!(r["piiControllers"][0]["piiController"], "Roma Capitale");
        let jws = signer.sign(&r);
        let parts: Vec<&str> = jws.split('.').collect();
        let x = signer.jwks()["keys"][0]["x"]
            .as_str()
            .expect("x")
            .to_owned();
        let public = UnparsedPublicKey::new(&ED25519, B64.decode(x).expect("x"));
        let sig = B64.decode(parts[2]).expect("sig");
        let input = format!("{}.{}", parts[0], parts[1]);
        assert!(public.verify(input.as_bytes(), &sig).is_ok());
        let forged = format!("{}.{}", parts[0], B64.encode(r#"{"version":"x"}"#));
        assert!(public.verify(forged.as_bytes(), &sig).is_err());
        assert_eq!(
            receipt_id(c.consent_id, Event::Granted),
            receipt_id(c.consent_id, Event::Granted)
        );
        assert_ne!(
            receipt_id(c.consent_id, Event::Granted),
            receipt_id(c.consent_id, Event::Withdrawn)
        );
    }
}
