//! The service catalogue.

use async_graphql::{Context, InputObject, Object};
use civitas_crm::catalogue::{self, NewService};
use civitas_tenants::audit;
use serde_json::json;

use crate::caller::{authorize, state};
use crate::error::ApiResult;
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
}

#[derive(Default)]
pub struct CatalogueMutation;

#[Object]
impl CatalogueMutation {
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
            },
        )
        .await?;
        audit::record(
            &scope,
            &tc.actor(),
            "service.created",
            Some(&s.code),
            json!({}),
        )
        .await?;
        scope.commit().await?;
        Ok(s.into())
    }
}
