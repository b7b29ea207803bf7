//! Use cases of consent receipts: a citizen downloads the signed receipt of a consent of
//! theirs (privacy or sharing), of its grant or of its withdrawal.

use civitas_tenants::{TenantId, registry};
use serde_json::Value;
use uuid::Uuid;

use super::{App, Caller, me};
use crate::receipts::{self, Common, Controller, Event};
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
    let principal = caller
        .principal()?
        .fiscal_code
        .clone()
        .ok_or(Error::Forbidden(
            "a receipt names the citizen's codice fiscale".into(),
        ))?;
    // When the event happened: the grant, or the withdrawal if there was one.
    let when = |given, withdrawn: Option<_>| match event {
        Event::Granted => Some(given),
        Event::Withdrawn => withdrawn,
    };
    let common = |consent_id, at, channel| Common {
        consent_id,
        event,
        at,
        principal: &principal,
        language,
        channel,
    };
    let receipt = match kind {
        Kind::Privacy => {
            let c = me::privacy_consents(app, caller)
                .await?
                .into_iter()
                .find(|c| c.id == id)
                .ok_or(Error::NotFound("consent"))?;
            let at = when(c.given_at, c.withdrawn_at).ok_or(Error::NotFound("withdrawal"))?;
            let body = controller(app, c.tenant_id).await?;
            receipts::privacy(
                &common(c.id, at, &c.channel),
                &body,
                &c.purpose,
                &c.text_version,
            )
        }
        Kind::Sharing => {
            let c = me::sharing_consents(app, caller)
                .await?
                .into_iter()
                .find(|c| c.id == id)
                .ok_or(Error::NotFound("consent"))?;
            let at = when(c.granted_at, c.revoked_at).ok_or(Error::NotFound("withdrawal"))?;
            let source = match c.source_tenant_id {
                Some(s) => Some(controller(app, s).await?),
                None => None,
            };
            let grantee = controller(app, c.grantee_tenant_id).await?;
            let scopes: Vec<&str> = c.scopes.iter().map(|s| s.as_str()).collect();
            receipts::sharing(
                &common(c.id, at, &c.channel),
                source.as_ref(),
                &grantee,
                &scopes,
                &c.purpose,
                c.expires_at,
            )
        }
    };
    let jws = app.receipts.sign(&receipt);
    Ok(Receipt { receipt, jws })
}
