//! The development token issuer: signs tokens with an Ed25519 key kept in the data
//! directory, so that the embedded default works with no identity provider. Only enabled
//! with `--dev`, never in production.

use std::{fs, path::Path};

use anyhow::Context;
use civitas_tenants::{Principal, PrincipalKind, Role};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde::{Deserialize, Serialize};

pub const ISSUER: &str = "civitas-dev";
pub const AUDIENCE: &str = "civitas";
const KEY_FILE: &str = "dev-issuer-ed25519.pk8";

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub kind: PrincipalKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    #[serde(default)]
    pub roles: Vec<Role>,
    /// As SPID presents it: `TINIT-<codice fiscale>`.
    #[serde(
        default,
        rename = "fiscalNumber",
        skip_serializing_if = "Option::is_none"
    )]
    pub fiscal_number: Option<String>,
}

/// What to put in a development token.
#[derive(Clone, Debug)]
pub struct TokenRequest {
    pub subject: String,
    pub kind: PrincipalKind,
    pub name: Option<String>,
    pub tenant: Option<String>,
    pub roles: Vec<Role>,
    pub fiscal_code: Option<String>,
    pub ttl: chrono::Duration,
}

pub struct DevIssuer {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl DevIssuer {
    /// Loads the key from the data directory, creating it on first use.
    pub fn load_or_create(data_dir: &Path) -> anyhow::Result<Self> {
        let path = data_dir.join(KEY_FILE);
        let pkcs8 = if path.exists() {
            fs::read(&path).with_context(|| format!("reading {}", path.display()))?
        } else {
            fs::create_dir_all(data_dir)
                .with_context(|| format!("creating {}", data_dir.display()))?;
            let doc = Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new())
                .map_err(|_| anyhow::anyhow!("generating the development key"))?;
            write_private(&path, doc.as_ref())?;
            doc.as_ref().to_vec()
        };
        let pair = Ed25519KeyPair::from_pkcs8(&pkcs8)
            .map_err(|_| anyhow::anyhow!("{} is not an Ed25519 PKCS#8 key", path.display()))?;
        Ok(DevIssuer {
            encoding: EncodingKey::from_ed_der(&pkcs8),
            decoding: DecodingKey::from_ed_der(pair.public_key().as_ref()),
        })
    }

    pub fn mint(&self, req: &TokenRequest) -> anyhow::Result<String> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            sub: req.subject.clone(),
            iat: now,
            nbf: now,
            exp: now + req.ttl.num_seconds(),
            kind: req.kind,
            name: req.name.clone(),
            tenant: req.tenant.clone(),
            roles: req.roles.clone(),
            fiscal_number: req.fiscal_code.as_ref().map(|c| format!("TINIT-{c}")),
        };
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::EdDSA),
            &claims,
            &self.encoding,
        )?)
    }

    /// The principal a valid token stands for. Only EdDSA with this issuer's key is
    /// accepted: `alg: none` and HMAC tokens fail here.
    pub fn verify(&self, token: &str) -> Result<Principal, jsonwebtoken::errors::Error> {
        let mut v = Validation::new(Algorithm::EdDSA);
        v.set_issuer(&[ISSUER]);
        v.set_audience(&[AUDIENCE]);
        v.set_required_spec_claims(&["exp", "iss", "aud", "sub", "nbf"]);
        v.validate_nbf = true;
        v.leeway = 5;
        let c = jsonwebtoken::decode::<Claims>(token, &self.decoding, &v)?.claims;
        Ok(Principal {
            subject: c.sub,
            issuer: c.iss,
            kind: c.kind,
            name: c.name,
            fiscal_code: c
                .fiscal_number
                .map(|f| f.strip_prefix("TINIT-").map(str::to_owned).unwrap_or(f)),
            home_tenant: c.tenant,
            token_roles: c.roles,
        })
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(bytes)?;
    Ok(())
}
