//! From a verified token's claims to a principal.

use base64::Engine;
use chrono::{DateTime, Utc};
use civitas_tenants::identity_providers::ProviderRegistration;
use civitas_tenants::{Principal, PrincipalKind, Role};
use serde_json::Value;

use super::Refused;

/// The payload of a JWT, not yet verified: only to pick the issuer's registrations, and,
/// once the signature is verified, to read the claims.
pub fn unverified_payload(token: &str) -> Result<Value, Refused> {
    let mut parts = token.split('.');
    let (Some(_), Some(payload), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Refused("not a compact JWS".into()));
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| Refused("payload is not base64url".into()))?;
    serde_json::from_slice(&bytes).map_err(|_| Refused("payload is not JSON".into()))
}

pub fn check_not_before(token: &str, now: DateTime<Utc>) -> Result<(), Refused> {
    const LEEWAY_SECS: i64 = 30;
    match unverified_payload(token)?["nbf"].as_i64() {
        Some(nbf) if nbf > now.timestamp() + LEEWAY_SECS => {
            Err(Refused("token not yet valid".into()))
        }
        _ => Ok(()),
    }
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::Array(a) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_owned))
            .collect(),
        Value::String(s) => s.split_whitespace().map(str::to_owned).collect(),
        _ => vec![],
    }
}

/// Maps claims to a principal: a fiscal number from a provider trusted for citizens makes a
/// citizen; a client of the body's service clients acting for itself makes an integrator;
/// anyone else is an operator whose roles come from the roles claim and apply in the
/// registering body only. `platform_admin` is honoured only from a platform-wide provider of
/// the configuration file; anyone else such a provider vouches for has no body of their own
/// and acts only where a body made them a member under that issuer.
pub fn principal(
    reg: &ProviderRegistration,
    claims: &Value,
    tenant: Option<String>,
) -> Result<Principal, Refused> {
    let sub = claims["sub"]
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Refused("no sub claim".into()))?;
    let name = claims["name"].as_str().map(str::to_owned);
    let issuer = reg.issuer.clone();
    let fiscal = claims[&reg.fiscal_number_claim].as_str();
    if fiscal.is_some() && !reg.citizen_identities {
        // Only a provider a platform administrator trusts for citizens may say who a citizen
        // is; anyone else's say-so would make its holder that citizen in every body.
        tracing::warn!(issuer = %reg.issuer, subject = sub,
            "fiscal code asserted by a provider not trusted for citizens; ignored");
    }
    if let Some(fiscal) = fiscal.filter(|_| reg.citizen_identities) {
        let code = fiscal.strip_prefix("TINIT-").unwrap_or(fiscal).to_owned();
        return Ok(Principal {
            subject: sub.to_owned(),
            issuer,
            kind: PrincipalKind::Citizen,
            name,
            fiscal_code: Some(code),
            home_tenant: None,
            token_roles: vec![],
        });
    }
    let client = claims["client_id"].as_str().or(claims["azp"].as_str());
    if let Some(c) = client.filter(|c| *c == sub && reg.service_clients.iter().any(|s| s == c)) {
        let tenant =
            tenant.ok_or_else(|| Refused("service accounts need a body's provider".into()))?;
        return Ok(Principal {
            subject: format!("client:{c}"),
            issuer,
            kind: PrincipalKind::Service,
            name: Some(c.to_owned()),
            fiscal_code: None,
            home_tenant: Some(tenant),
            token_roles: vec![Role::Integrator],
        });
    }
    let platform_wide = reg.tenant.is_none();
    let roles: Vec<Role> = strings(&claims[&reg.roles_claim])
        .iter()
        .filter_map(|r| r.parse::<Role>().ok())
        .filter(|r| (*r == Role::PlatformAdmin) == platform_wide && *r != Role::Citizen)
        .collect();
    Ok(Principal {
        subject: sub.to_owned(),
        issuer,
        kind: PrincipalKind::Operator,
        name,
        fiscal_code: None,
        home_tenant: tenant,
        token_roles: roles,
    })
}
