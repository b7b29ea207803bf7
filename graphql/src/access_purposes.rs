//! A body's access purposes: a translation of [`civitas_crm::app::access_purposes`].

use async_graphql::{Context, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use civitas_crm::access_purposes::Purpose;
use civitas_crm::app::access_purposes as uc;

use crate::caller::{caller, state};
use crate::connections::Conn;
use crate::erasure::paged;
use crate::error::ApiResult;

/// Why the body's staff may open a citizen's records, and the law that allows it. A
/// reader declares one (by `code`) in `citizenView(purpose:)`; the citizen sees its label
/// and legal basis in their access log.
#[derive(SimpleObject)]
pub struct AccessPurpose {
    pub code: String,
    pub label: String,
    pub legal_basis: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Set: staff can no longer declare it.
    pub retired_at: Option<DateTime<Utc>>,
}

impl From<Purpose> for AccessPurpose {
    fn from(p: Purpose) -> Self {
        AccessPurpose {
            code: p.code,
            label: p.label,
            legal_basis: p.legal_basis,
            created_by: p.created_by,
            created_at: p.created_at,
            updated_at: p.updated_at,
            retired_at: p.retired_at,
        }
    }
}

#[derive(InputObject)]
pub struct AccessPurposeInput {
    /// 2-40 characters: a-z, 0-9 and `_`, starting with a letter.
    pub code: String,
    /// As the citizen reads it in their access log.
    pub label: String,
    /// The article or law that allows the read, e.g. "Art. 6(1)(e) GDPR".
    pub legal_basis: String,
}

#[derive(Default)]
pub struct AccessPurposeQuery;

#[Object]
impl AccessPurposeQuery {
    /// The body's access purposes, those in use first (permission `access_purpose read`:
    /// operators and tutors).
    async fn access_purposes(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = false)] include_retired: bool,
        #[graphql(default = 50)] first: i32,
        after: Option<String>,
    ) -> ApiResult<Conn<AccessPurpose>> {
        let found = uc::list(state(ctx), caller(ctx), include_retired).await?;
        paged(found, first, after, AccessPurpose::from)
    }
}

#[derive(Default)]
pub struct AccessPurposeMutation;

#[Object]
impl AccessPurposeMutation {
    /// Creates a purpose, or changes its label and legal basis and puts it back in use
    /// (permission `access_purpose manage`: tenant administrators).
    async fn define_access_purpose(
        &self,
        ctx: &Context<'_>,
        input: AccessPurposeInput,
    ) -> ApiResult<AccessPurpose> {
        let p = uc::define(
            state(ctx),
            caller(ctx),
            &input.code,
            &input.label,
            &input.legal_basis,
        )
        .await?;
        Ok(p.into())
    }

    /// Takes a purpose out of use; entries that name it keep their label.
    async fn retire_access_purpose(
        &self,
        ctx: &Context<'_>,
        code: String,
    ) -> ApiResult<AccessPurpose> {
        Ok(uc::retire(state(ctx), caller(ctx), &code).await?.into())
    }
}
