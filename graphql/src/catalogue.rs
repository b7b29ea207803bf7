//! The service catalogue: a translation of [`civitas_crm::app::catalogue`].

use async_graphql::ID;
use async_graphql::{Context, Enum, InputObject, Object, SimpleObject};
use civitas_crm::app::catalogue as uc;
use civitas_crm::catalogue::{self, FieldDef, NewService};

use civitas_crm::public_catalogue::{PublicFilter, PublicService};

use crate::caller::{caller, state};
use crate::connections::{Conn, position_page, positioned};
use crate::error::ApiResult;

#[derive(Default)]
pub struct CatalogueQuery;

#[Object]
impl CatalogueQuery {
    /// The services of the caller's tenant, by area and code.
    async fn services(&self, ctx: &Context<'_>) -> ApiResult<Vec<Service>> {
        let list = uc::list(state(ctx), caller(ctx)).await?;
        Ok(list.into_iter().map(Into::into).collect())
    }

    /// The public catalogue: the services of every active body, for anyone (no sign-in
    /// needed). Filters: a body's slug, a thematic area, a channel the service accepts
    /// (`web` for what a citizen can ask for online); `search`: words every service found
    /// contains, in any form (Italian stemming), most relevant first. Otherwise by body,
    /// area and name.
    #[allow(clippy::too_many_arguments)]
    async fn catalogue(
        &self,
        ctx: &Context<'_>,
        body: Option<String>,
        area: Option<String>,
        channel: Option<String>,
        search: Option<String>,
        #[graphql(default = 20)] first: i32,
        after: Option<String>,
    ) -> ApiResult<Conn<CatalogueEntry>> {
        let page = position_page(first, after.as_deref())?;
        let filter = PublicFilter {
            body,
            area,
            channel: channel.as_deref().map(str::parse).transpose()?,
            words: search,
            code: None,
        };
        let (rows, more) = uc::public(state(ctx), filter, page).await?;
        Ok(positioned(rows, page, more, |s: PublicService| {
            CatalogueEntry {
                body: PublicBody {
                    slug: s.body_slug,
                    name: s.body_name,
                },
                service: s.service.into(),
            }
        }))
    }
}

/// A body as the public sees it.
#[derive(SimpleObject)]
pub struct PublicBody {
    pub slug: String,
    pub name: String,
}

/// A service of the public catalogue and the body that offers it.
#[derive(SimpleObject)]
pub struct CatalogueEntry {
    pub body: PublicBody,
    pub service: Service,
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
        Ok(uc::import_parent(state(ctx), caller(ctx)).await? as i32)
    }

    async fn create_service(
        &self,
        ctx: &Context<'_>,
        input: CreateServiceInput,
    ) -> ApiResult<Service> {
        let new = NewService {
            code: input.code,
            name: input.name,
            area: input.area,
            description: input.description,
            channels: input.channels,
            sla_hours: input.sla_hours,
            custom_fields: input.custom_fields.into_iter().map(Into::into).collect(),
        };
        Ok(uc::create_service(state(ctx), caller(ctx), new)
            .await?
            .into())
    }
}

/// Something a body offers citizens.
#[derive(SimpleObject)]
pub struct Service {
    pub id: ID,
    pub code: String,
    pub name: String,
    pub area: String,
    pub description: String,
    /// Channels it accepts; empty: every channel.
    pub channels: Vec<String>,
    pub sla_hours: i32,
    pub custom_fields: Vec<FieldDefInput>,
}

impl From<catalogue::Service> for Service {
    fn from(s: catalogue::Service) -> Self {
        let channels = catalogue::channels(&s);
        let custom_fields = catalogue::field_defs(&s)
            .into_iter()
            .map(Into::into)
            .collect();
        Service {
            id: ID(s.id.to_string()),
            code: s.code,
            name: s.name,
            channels,
            custom_fields,
            sla_hours: s.sla_hours,
            area: s.area,
            description: s.description,
        }
    }
}
