//! Places on cases, a body's areas of competence, its routing rules and its Open311 keys:
//! a translation of [`civitas_crm::app::places`].

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use civitas_crm::api_keys::ApiKey as KeyRow;
use civitas_crm::app::places as uc;
use civitas_crm::areas::{Area, NewArea};
use civitas_crm::places::Place;
use civitas_crm::routing_rules::RoutingRule as RuleRow;
use civitas_tenants::Tenant;

use crate::caller::{caller, state};
use crate::connections::Conn;
use crate::erasure::paged;
use crate::error::ApiResult;
use crate::ids::parse_id;

/// Where a case is: a point in WGS84, an address and a description of the spot.
#[derive(SimpleObject, Clone)]
pub struct Location {
    pub latitude: f64,
    pub longitude: f64,
    pub address: Option<String>,
    /// "In front of number 12, by the bus stop".
    pub description: Option<String>,
}

impl From<Place> for Location {
    fn from(p: Place) -> Self {
        Location {
            latitude: p.latitude,
            longitude: p.longitude,
            address: p.address,
            description: p.note,
        }
    }
}

#[derive(InputObject)]
pub struct LocationInput {
    /// -90 to 90 (WGS84); kept to 7 decimal places.
    pub latitude: f64,
    /// -180 to 180 (WGS84).
    pub longitude: f64,
    pub address: Option<String>,
    pub description: Option<String>,
}

impl LocationInput {
    pub fn place(self) -> ApiResult<Place> {
        Ok(Place::new(
            self.latitude,
            self.longitude,
            self.address,
            self.description,
        )?)
    }
}

/// An area of competence: where the body's services are offered, and what routing of
/// reports sent to a parent body looks at.
#[derive(SimpleObject)]
pub struct ServiceArea {
    pub id: ID,
    pub name: String,
    /// The GeoJSON geometry (a MultiPolygon, as stored).
    pub geojson: String,
    pub vertices: i32,
    /// The bounding box: south, west, north, east.
    pub bbox: Vec<f64>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

impl From<Area> for ServiceArea {
    fn from(a: Area) -> Self {
        ServiceArea {
            id: ID(a.id.to_string()),
            name: a.name,
            geojson: a.geojson,
            vertices: a.vertices,
            bbox: vec![a.min_lat, a.min_lon, a.max_lat, a.max_lon],
            created_by: a.created_by,
            created_at: a.created_at,
        }
    }
}

/// Reports of `serviceCode` that no body under this one covering the point, and not this
/// body, takes go to `bodySlug`; the lowest `position` first.
#[derive(SimpleObject)]
pub struct RoutingRule {
    pub id: ID,
    pub service_code: String,
    pub body_slug: String,
    pub body_name: String,
    pub position: i32,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

fn rule((r, t): (RuleRow, Tenant)) -> RoutingRule {
    RoutingRule {
        id: ID(r.id.to_string()),
        service_code: r.service_code,
        body_slug: t.slug.to_string(),
        body_name: t.display_name,
        position: r.position,
        created_by: r.created_by,
        created_at: r.created_at,
    }
}

/// An Open311 key of the body (its secret is shown only when issued).
#[derive(SimpleObject)]
pub struct ApiKey {
    pub id: ID,
    pub name: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<KeyRow> for ApiKey {
    fn from(k: KeyRow) -> Self {
        ApiKey {
            id: ID(k.id.to_string()),
            name: k.name,
            created_by: k.created_by,
            created_at: k.created_at,
            revoked_at: k.revoked_at,
        }
    }
}

/// A key just issued, with its secret: give it to the app or kiosk as `api_key`. It is
/// not shown again.
#[derive(SimpleObject)]
pub struct IssuedApiKey {
    pub key: ApiKey,
    pub secret: String,
}

#[derive(InputObject)]
pub struct ServiceAreaInput {
    pub name: String,
    /// A GeoJSON Polygon or MultiPolygon (or a Feature holding one), [longitude, latitude]
    /// in WGS84: closed rings, no self-intersection, at most 100,000 vertices and 2 MB.
    pub geojson: String,
}

#[derive(InputObject)]
pub struct RoutingRuleInput {
    pub service_code: String,
    /// The body that takes the reports.
    pub body_slug: String,
    #[graphql(default = 0)]
    pub position: i32,
}

#[derive(Default)]
pub struct PlacesQuery;

#[Object]
impl PlacesQuery {
    /// The body's areas of competence (permission `service_area read`: operators,
    /// integrators).
    async fn service_areas(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 50)] first: i32,
        after: Option<String>,
    ) -> ApiResult<Conn<ServiceArea>> {
        let found = uc::areas(state(ctx), caller(ctx)).await?;
        paged(found, first, after, ServiceArea::from)
    }

    /// The body's routing rules for reports sent to it (permission `routing_rule read`).
    async fn routing_rules(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 50)] first: i32,
        after: Option<String>,
    ) -> ApiResult<Conn<RoutingRule>> {
        let found = uc::routing_rules(state(ctx), caller(ctx)).await?;
        paged(found, first, after, rule)
    }

    /// The body's Open311 keys (permission `api_key manage`: tenant administrators).
    async fn api_keys(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 50)] first: i32,
        after: Option<String>,
    ) -> ApiResult<Conn<ApiKey>> {
        let found = uc::api_keys(state(ctx), caller(ctx)).await?;
        paged(found, first, after, ApiKey::from)
    }
}

#[derive(Default)]
pub struct PlacesMutation;

#[Object]
impl PlacesMutation {
    /// Adds an area of competence (permission `service_area manage`: tenant
    /// administrators). A bad geometry is VALIDATION with the reason.
    async fn define_service_area(
        &self,
        ctx: &Context<'_>,
        input: ServiceAreaInput,
    ) -> ApiResult<ServiceArea> {
        let new = NewArea {
            name: input.name,
            geojson: input.geojson,
        };
        Ok(uc::define_area(state(ctx), caller(ctx), new).await?.into())
    }

    async fn remove_service_area(&self, ctx: &Context<'_>, id: ID) -> ApiResult<ServiceArea> {
        let id = parse_id("id", &id)?;
        Ok(uc::remove_area(state(ctx), caller(ctx), id).await?.into())
    }

    /// Adds a routing rule (permission `routing_rule manage`: tenant administrators).
    async fn add_routing_rule(
        &self,
        ctx: &Context<'_>,
        input: RoutingRuleInput,
    ) -> ApiResult<RoutingRule> {
        let found = uc::add_routing_rule(
            state(ctx),
            caller(ctx),
            &input.service_code,
            &input.body_slug,
            input.position,
        )
        .await?;
        Ok(rule(found))
    }

    async fn remove_routing_rule(&self, ctx: &Context<'_>, id: ID) -> ApiResult<ID> {
        let id = parse_id("id", &id)?;
        let r = uc::remove_routing_rule(state(ctx), caller(ctx), id).await?;
        Ok(ID(r.id.to_string()))
    }

    /// Issues an Open311 key (permission `api_key manage`); reports sent with it act with
    /// the integrator role.
    async fn issue_api_key(&self, ctx: &Context<'_>, name: String) -> ApiResult<IssuedApiKey> {
        let (k, secret) = uc::issue_api_key(state(ctx), caller(ctx), &name).await?;
        Ok(IssuedApiKey {
            key: k.into(),
            secret,
        })
    }

    async fn revoke_api_key(&self, ctx: &Context<'_>, id: ID) -> ApiResult<ApiKey> {
        let id = parse_id("id", &id)?;
        Ok(uc::revoke_api_key(state(ctx), caller(ctx), id)
            .await?
            .into())
    }
}
