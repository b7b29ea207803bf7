//! The register of processing activities: a translation of [`civitas_crm::app::register`].

use async_graphql::{Context, Json, Object, SimpleObject};
use civitas_crm::app::register as uc;
use serde_json::Value;

use crate::caller::{caller, state};
use crate::error::ApiResult;
use crate::sheets::SheetLanguage;

/// A body's register of processing activities (GDPR art. 30), generated from its
/// configuration: the document and the same as Markdown.
#[derive(SimpleObject)]
pub struct ProcessingRegister {
    /// `controller`, `language`, `generatedAt`, `activities` (each with `id`, `name`,
    /// `purpose`, `legalBasis`, `dataSubjects`, `dataCategories`, `recipients`,
    /// `retention`) and `securityMeasures`.
    pub document: Json<Value>,
    pub markdown: String,
}

#[derive(Default)]
pub struct RegisterQuery;

#[Object]
impl RegisterQuery {
    /// The register of the body named by `X-Civitas-Tenant`, for its data protection
    /// officer (permission `tenant report`: tenant administrators by default).
    async fn processing_register(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "SheetLanguage::It")] language: SheetLanguage,
    ) -> ApiResult<ProcessingRegister> {
        let language = match language {
            SheetLanguage::It => "it",
            SheetLanguage::En => "en",
        };
        let r = uc::of_body(state(ctx), caller(ctx), language).await?;
        Ok(ProcessingRegister {
            document: Json(r.document),
            markdown: r.markdown,
        })
    }
}
