//! The service catalogue.

use async_graphql::{Context, Enum, InputObject, Object, SimpleObject};
use civitas_crm::catalogue::{self, FieldDef, NewService};
use civitas_tenants::TenantContext;
use civitas_tenants::audit;
use serde_json::json;

use crate::caller::{authorize, state};
use crate::error::{ApiError, ApiResult, Code};
use crate::types::Service;

#[derive(Default)]
pub struct CatalogueQuery;

#[Object]
impl CatalogueQuery {
    /// The services of the caller's tenant, by area and code.
    async fn services(&self, ctx: &Context<'_>) -> ApiResult<Vec<Service>> {
        let tc = authorize(ctx, "service", "read").await?;
        let scope = state(ctx).db.scope(tc).await?;
        let list = catalogue::list(&scope).await?;
        scope.commit().await?;
        Ok(list.into_iter().map(Into::into).collect())
    }
}

#[derive(InputObject)]
pub struct CreateServiceInput {
    /// Upper-case code, unique in the tenant, such as `ANAG-CERT`.
    pub code: String,
    pub name: String,
    /// The thematic area, such as Anagrafe or Mobilità.
    pub area: String,
    #[graphql(default)]
    pub description: String,
    /// Channels the service accepts (counter, phone, email, web, app, whatsapp, chatbot,
    /// social, post, pec); none: every channel.
    #[graphql(default)]
    pub channels: Vec<String>,
    /// Hours from opening to the due time of its cases (default 72).
    pub sla_hours: Option<i32>,
    #[graphql(default)]
    pub custom_fields: Vec<FieldDefInput>,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "civitas_crm::catalogue::FieldType")]
pub enum FieldType {
    String,
    Text,
    Number,
    Datetime,
    Select,
    MultiSelect,
}

#[derive(InputObject, SimpleObject, Clone)]
#[graphql(name = "FieldDef", input_name = "FieldDefInput")]
pub struct FieldDefInput {
    pub key: String,
    pub label: String,
    #[graphql(name = "type")]
    pub kind: FieldType,
    #[graphql(default)]
    pub required: bool,
    #[graphql(default)]
    pub options: Vec<String>,
}

impl From<FieldDefInput> for FieldDef {
    fn from(f: FieldDefInput) -> Self {
        FieldDef {
            key: f.key,
            label: f.label,
            kind: f.kind.into(),
            required: f.required,
            options: f.options,
        }
    }
}

impl From<FieldDef> for FieldDefInput {
    fn from(f: FieldDef) -> Self {
        FieldDefInput {
            key: f.key,
            label: f.label,
            kind: f.kind.into(),
            required: f.required,
            options: f.options,
        }
    }
}

#[derive(Default)]
pub struct CatalogueMutation;

#[Object]
impl CatalogueMutation {
    /// Copies the parent body's services that this body does not have yet (by code).
    /// Returns how many were copied.
    async fn import_parent_catalogue(&self, ctx: &Context<'_>) -> ApiResult<i32> {
        let tc = authorize(ctx, "catalogue", "import").await?;
        let s = state(ctx);
        let parent_id = tc
            .tenant
            .parent_id
            .ok_or_else(|| ApiError::new(Code::Validation, "this body has no parent body"))?;
        let parent = civitas_tenants::registry::find_by_id(&s.db, parent_id)
            .await?
            .ok_or_else(|| ApiError::new(Code::NotFound, "parent body not found"))?;
        // The parent's catalogue is read in the parent's own scope, as the platform.
        let parent_ctx = TenantContext::system(parent, "catalogue-import");
        // One transaction at a time: SQLite allows a single writer.
        let parent_scope = s.db.scope(&parent_ctx).await?;
        let parents = catalogue::list(&parent_scope).await?;
        parent_scope.commit().await?;
        let scope = s.db.scope(tc).await?;
        let copied = catalogue::copy_from(parents, &scope).await?;
        audit::record(
            &scope,
            &tc.identity(),
            "catalogue.imported",
            None,
            json!({ "copied": copied }),
        )
        .await?;
        scope.commit().await?;
        Ok(copied as i32)
    }

    async fn create_service(
        &self,
        ctx: &Context<'_>,
        input: CreateServiceInput,
    ) -> ApiResult<Service> {
        let tc = authorize(ctx, "service", "create").await?;
        let scope = state(ctx).db.scope(tc).await?;
        let s = catalogue::create(
            &scope,
            NewService {
                code: input.code,
                name: input.name,
                area: input.area,
                description: input.description,
                channels: input.channels,
                sla_hours: input.sla_hours,
                custom_fields: input.custom_fields.into_iter().map(Into::into).collect(),
            },
        )
        .await?;
        audit::record(
            &scope,
            &tc.identity(),
            "service.created",
            Some(&s.code),
            json!({}),
        )
        .await?;
        scope.commit().await?;
        Ok(s.into())
    }
}
