//! Use cases of consent receipts: a citizen downloads the signed receipt of a consent of
//! theirs (privacy or sharing), of its grant or of its withdrawal.

use civitas_tenants::{TenantId, registry};
use serde_json::Value;
use uuid::Uuid;

use super::{App, Caller, me};
use crate::privacy::PrivacyConsent;
use crate::receipts::{self, Common, Controller, Event};
use crate::sharing::SharingConsent;
use crate::{Error, Result};

/// Which kind of consent a receipt is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Privacy,
    Sharing,
}

/// A receipt and its signed form.
#[derive(Clone, Debug)]
pub struct Receipt {
    pub receipt: Value,
    /// The receipt as a compact JWS, verifiable with the published key set.
    pub jws: String,
}

async fn controller(app: &App, id: TenantId) -> Result<Controller> {
    let t = registry::cached_by_ids(&app.db, &[id])
        .await?
        .pop()
        .ok_or(Error::NotFound("body"))?;
    Ok(Controller {
        policy_url: t
            .settings
            .get("privacyPolicyUrl")
            .and_then(Value::as_str)
            .map(str::to_owned),
        name: t.display_name,
        slug: t.slug.to_string(),
    })
}

/// The signed-in citizen's codice fiscale, which every receipt names.
fn principal_of(caller: &Caller) -> Result<String> {
    caller
        .principal()?
        .fiscal_code
        .clone()
        .ok_or(Error::Forbidden(
            "a receipt names the citizen's codice fiscale".into(),
        ))
}

fn common<'a>(
    consent_id: Uuid,
    event: Event,
    at: chrono::DateTime<chrono::Utc>,
    principal: &'a str,
    language: &'a str,
    channel: &'a str,
) -> Common<'a> {
    Common {
        consent_id,
        event,
        at,
        principal,
        language,
        channel,
    }
}

/// When `event` happened: the grant, or the withdrawal if there was one.
fn when(
    event: Event,
    given: chrono::DateTime<chrono::Utc>,
    withdrawn: Option<chrono::DateTime<chrono::Utc>>,
) -> Option<chrono::DateTime<chrono::Utc>> {
    match event {
        Event::Granted => Some(given),
        Event::Withdrawn => withdrawn,
    }
}

/// The receipt of privacy consent `c` for `event`; `None` for the withdrawal of a consent
/// still in force.
async fn privacy_receipt(
    app: &App,
    principal: &str,
    c: &PrivacyConsent,
    event: Event,
    language: &str,
) -> Result<Option<Receipt>> {
    let Some(at) = when(event, c.given_at, c.withdrawn_at) else {
        return Ok(None);
    };
    let body = controller(app, c.tenant_id).await?;
    let receipt = receipts::privacy(
        &common(c.id, event, at, principal, language, &c.channel),
        &body,
        &c.purpose,
        &c.text_version,
    );
    let jws = app.receipts.sign(&receipt);
    Ok(Some(Receipt { receipt, jws }))
}

/// The receipt of sharing consent `c` for `event`; `None` for the withdrawal of a consent
/// still in force.
async fn sharing_receipt(
    app: &App,
    principal: &str,
    c: &SharingConsent,
    event: Event,
    language: &str,
) -> Result<Option<Receipt>> {
    let Some(at) = when(event, c.granted_at, c.revoked_at) else {
        return Ok(None);
    };
    let source = match c.source_tenant_id {
        Some(s) => Some(controller(app, s).await?),
        None => None,
    };
    let grantee = controller(app, c.grantee_tenant_id).await?;
    let scopes: Vec<&str> = c.scopes.iter().map(|s| s.as_str()).collect();
    let receipt = receipts::sharing(
        &common(c.id, event, at, principal, language, &c.channel),
        source.as_ref(),
        &grantee,
        &scopes,
        &c.purpose,
        c.expires_at,
    );
    let jws = app.receipts.sign(&receipt);
    Ok(Some(Receipt { receipt, jws }))
}

/// The receipt of the signed-in citizen's consent `id` for `event`, in `language` (`it`
/// or `en`). NOT_FOUND when the consent is not theirs, or for the withdrawal of a consent
/// still in force.
pub async fn mine(
    app: &App,
    caller: &Caller,
    kind: Kind,
    id: Uuid,
    event: Event,
    language: &str,
) -> Result<Receipt> {
    let principal = principal_of(caller)?;
    let found = match kind {
        Kind::Privacy => {
            let c = me::privacy_consents(app, caller)
                .await?
                .into_iter()
                .find(|c| c.id == id)
                .ok_or(Error::NotFound("consent"))?;
            privacy_receipt(app, &principal, &c, event, language).await?
        }
        Kind::Sharing => {
            let c = me::sharing_consents(app, caller)
                .await?
                .into_iter()
                .find(|c| c.id == id)
                .ok_or(Error::NotFound("consent"))?;
            sharing_receipt(app, &principal, &c, event, language).await?
        }
    };
    found.ok_or(Error::NotFound("withdrawal"))
}

/// One receipt in the export: which consent, which kind, which event, and the signed form.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ExportedReceipt {
    pub consent_id: Uuid,
    pub kind: &'static str,
    pub event: &'static str,
    pub jws: String,
}

/// Every receipt of the signed-in citizen's consents, privacy and sharing, of each grant
/// and of each withdrawal, in `language`.
pub async fn all_mine(app: &App, caller: &Caller, language: &str) -> Result<Vec<ExportedReceipt>> {
    let principal = principal_of(caller)?;
    let privacy = me::privacy_consents(app, caller).await?;
    let sharing = me::sharing_consents(app, caller).await?;
    let mut out = Vec::new();
    for event in [Event::Granted, Event::Withdrawn] {
        for c in &privacy {
            if let Some(r) = privacy_receipt(app, &principal, c, event, language).await? {
                out.push(ExportedReceipt {
                    consent_id: c.id,
                    kind: "privacy",
                    event: event.as_str(),
                    jws: r.jws,
                });
            }
        }
        for c in &sharing {
            if let Some(r) = sharing_receipt(app, &principal, c, event, language).await? {
                out.push(ExportedReceipt {
                    consent_id: c.id,
                    kind: "sharing",
                    event: event.as_str(),
                    jws: r.jws,
                });
            }
        }
    }
    Ok(out)
}
