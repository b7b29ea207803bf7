//! Consent receipts: a translation of [`civitas_crm::app::receipts`].

use async_graphql::{Context, Enum, ID, Json, Object, SimpleObject};
use civitas_crm::app::receipts as uc;
use civitas_crm::receipts::Event;
use serde_json::Value;

use crate::caller::{caller, state};
use crate::error::{ApiError, ApiResult, Code};

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "civitas_crm::app::receipts::Kind")]
pub enum ConsentKind {
    /// A consent that one body may read what another holds.
    Sharing,
    /// A consent to one body for one purpose.
    Privacy,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "civitas_crm::receipts::Event")]
pub enum ReceiptEvent {
    Granted,
    Withdrawn,
}

/// A consent receipt (Kantara Consent Receipt v1.1) and the same receipt signed by the
/// platform as a compact JWS (EdDSA), verifiable with the key set at `/receipts/jwks.json`.
#[derive(SimpleObject)]
pub struct ConsentReceipt {
    pub receipt: Json<Value>,
    pub jws: String,
}

#[derive(Default)]
pub struct ReceiptQuery;

#[Object]
impl ReceiptQuery {
    /// The signed receipt of one of the signed-in citizen's consents: of its grant, or of
    /// its withdrawal. NOT_FOUND for another person's consent or a withdrawal that did not
    /// happen.
    async fn my_consent_receipt(
        &self,
        ctx: &Context<'_>,
        kind: ConsentKind,
        consent_id: ID,
        #[graphql(default_with = "ReceiptEvent::Granted")] event: ReceiptEvent,
        #[graphql(default_with = "String::from(\"it\")")] language: String,
    ) -> ApiResult<ConsentReceipt> {
        let id = consent_id
            .parse()
            .map_err(|_| ApiError::new(Code::Validation, "consentId: not a consent id"))?;
        let lang = if language.starts_with("en") {
            "en"
        } else {
            "it"
        };
        let event: Event = event.into();
        let r = uc::mine(state(ctx), caller(ctx), kind.into(), id, event, lang).await?;
        Ok(ConsentReceipt {
            receipt: Json(r.receipt),
            jws: r.jws,
        })
    }
}
