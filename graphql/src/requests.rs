//! A citizen's own requests: a translation of [`civitas_crm::app::requests`].

use async_graphql::{Context, InputObject, Json, Object};
use civitas_crm::app::requests::{self as uc, FileRequest};

use crate::caller::{caller, state};
use crate::cases::{Case, channel};
use crate::error::ApiResult;

#[derive(InputObject)]
pub struct FileRequestInput {
    /// The body, by slug; or name it with the `X-Civitas-Tenant` header (needed for an
    /// `Idempotency-Key` to apply).
    pub tenant: Option<String>,
    pub service_code: String,
    pub title: String,
    #[graphql(default)]
    pub description: String,
    pub custom_fields: Option<Json<serde_json::Value>>,
    /// `web` or `app`.
    #[graphql(default = "web")]
    pub channel: String,
    /// The version of the privacy notice shown to the citizen: recorded with their consent
    /// to the handling of the request.
    pub privacy_notice: String,
    /// Needed only when the body does not know the citizen yet.
    pub given_name: Option<String>,
    pub family_name: Option<String>,
}

#[derive(Default)]
pub struct RequestMutation;

#[Object]
impl RequestMutation {
    /// The signed-in citizen files a request with a body, on the web or an app. A body that
    /// does not know them registers them, with their consent to the handling of the
    /// request, in the same transaction.
    async fn file_request(&self, ctx: &Context<'_>, input: FileRequestInput) -> ApiResult<Case> {
        let request = FileRequest {
            tenant: input.tenant,
            service_code: input.service_code,
            title: input.title,
            description: input.description,
            custom_fields: input
                .custom_fields
                .map(|j| j.0)
                .unwrap_or(serde_json::Value::Null),
            channel: channel(&input.channel)?,
            privacy_notice: input.privacy_notice,
            given_name: input.given_name,
            family_name: input.family_name,
        };
        Ok(uc::file(state(ctx), caller(ctx), request).await?.into())
    }
}
