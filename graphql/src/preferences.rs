//! A citizen's preferences: a translation of [`civitas_crm::app::preferences`].

use async_graphql::{ComplexObject, Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use civitas_crm::app::preferences as uc;
use civitas_crm::preferences as domain;
use civitas_tenants::TenantId;

use crate::caller::{caller, state};
use crate::connections::Conn;
use crate::erasure::paged;
use crate::error::ApiResult;
use crate::ids::parse_id;
use crate::loaders::{TenantRef, tenant_ref};

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum PreferenceSource {
    /// The citizen's own choice.
    Explicit,
    /// Derived from an initiative they joined.
    Participation,
    /// Derived from the questionnaire of an initiative they answered.
    Questionnaire,
}

/// An interest in an area (and category) a body holds of the citizen.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Preference {
    pub id: ID,
    pub area: String,
    /// Empty: the whole area.
    pub category: String,
    pub source: PreferenceSource,
    pub interested: bool,
    /// The initiative a derived preference comes from.
    pub origin_id: Option<ID>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[graphql(skip)]
    pub tenant_id: TenantId,
}

#[ComplexObject]
impl Preference {
    /// The body that holds it.
    async fn tenant(&self, ctx: &Context<'_>) -> ApiResult<TenantRef> {
        tenant_ref(ctx, self.tenant_id).await
    }
}

impl From<domain::Preference> for Preference {
    fn from(p: domain::Preference) -> Self {
        Preference {
            id: ID(p.id.to_string()),
            area: p.area,
            category: p.category,
            source: match p.source.as_str() {
                "participation" => PreferenceSource::Participation,
                "questionnaire" => PreferenceSource::Questionnaire,
                _ => PreferenceSource::Explicit,
            },
            interested: p.interested,
            origin_id: p.origin_id.map(|o| ID(o.to_string())),
            created_at: p.created_at,
            updated_at: p.updated_at,
            tenant_id: TenantId(p.tenant_id),
        }
    }
}

#[derive(Default)]
pub struct PreferenceQuery;

#[Object]
impl PreferenceQuery {
    /// Every preference every body holds of the signed-in citizen, with its source.
    async fn my_preferences(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 50)] first: i32,
        after: Option<String>,
    ) -> ApiResult<Conn<Preference>> {
        let found = uc::mine(state(ctx), caller(ctx)).await?;
        paged(found, first, after, Preference::from)
    }
}

#[derive(Default)]
pub struct PreferenceMutation;

#[Object]
impl PreferenceMutation {
    /// The signed-in citizen says whether `area` (and `category`; empty for the whole area)
    /// interests them at the body `body`, which must know them.
    async fn set_my_preference(
        &self,
        ctx: &Context<'_>,
        body: String,
        area: String,
        #[graphql(default)] category: String,
        #[graphql(default = true)] interested: bool,
    ) -> ApiResult<Preference> {
        let p = uc::set_mine(
            state(ctx),
            caller(ctx),
            &body,
            (&area, &category),
            interested,
        )
        .await?;
        Ok(p.into())
    }

    /// The signed-in citizen deletes one of their preferences, whatever its source.
    async fn delete_my_preference(&self, ctx: &Context<'_>, id: ID) -> ApiResult<bool> {
        let id = parse_id("id", &id)?;
        uc::delete_mine(state(ctx), caller(ctx), id).await?;
        Ok(true)
    }
}
