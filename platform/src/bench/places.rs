//! The generated city's geography, for the Open311 scenario: body 0 is the capital, the
//! next (up to) 15 are its municipi. The capital's area is the city's box; each municipio's
//! is a wavy ring of thousands of vertices inside one cell of a 5 x 3 grid over it (a real
//! border at survey detail has thousands), with gaps between them that only the capital
//! covers. The capital has an Open311 key whose secret the load driver knows.

use std::time::Instant;

use civitas_crm::areas::{self, NewArea};
use civitas_crm::entity::service_area;
use civitas_crm::places::BBox;
use civitas_crm::{api_keys, routing};
use civitas_tenants::{Db, TenantContext, TenantSlug, registry};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Statement};
use serde::Serialize;

use super::driver::Rng;
use super::layout::tenant_slug;

pub const MUNICIPI: u32 = 15;
pub const VERTICES: usize = 4_000;
/// The city's box, in degrees.
pub const WEST: f64 = 12.30;
pub const EAST: f64 = 12.65;
pub const SOUTH: f64 = 41.78;
pub const NORTH: f64 = 42.00;
/// The capital's Open311 key.
pub const API_KEY: &str = "c311_bench-capital-0000000000000000000000000000";
/// What the load driver reports: a category every generated body offers.
pub const SERVICE: &str = super::layout::SERVICES[2].0;

fn polygon(ring: Vec<[f64; 2]>) -> String {
    serde_json::json!({ "type": "Polygon", "coordinates": [ring] }).to_string()
}

/// Municipio `i`'s border: star-shaped around its cell's centre, so never self-crossing.
pub fn municipio_area(i: u32) -> String {
    let (cols, rows) = (5.0, 3.0);
    let (cw, ch) = ((EAST - WEST) / cols, (NORTH - SOUTH) / rows);
    let (cx, cy) = (
        WEST + cw * (f64::from(i % 5) + 0.5),
        SOUTH + ch * (f64::from(i / 5) + 0.5),
    );
    let r = 0.40 * cw.min(ch);
    let mut ring: Vec<[f64; 2]> = (0..VERTICES)
        .map(|k| {
            let t = std::f64::consts::TAU * k as f64 / VERTICES as f64;
            let wave = 1.0 + 0.08 * (23.0 * t + f64::from(i)).sin() + 0.04 * (71.0 * t).sin();
            [cx + r * wave * t.cos(), cy + r * wave * t.sin()]
        })
        .collect();
    ring.push(ring[0]);
    polygon(ring)
}

fn capital_area() -> String {
    polygon(vec![
        [WEST, SOUTH],
        [EAST, SOUTH],
        [EAST, NORTH],
        [WEST, NORTH],
        [WEST, SOUTH],
    ])
}

/// Makes bodies 1..=15 the capital's municipi, gives each its area and the capital its own
/// and its key. Run again, it changes nothing.
pub async fn set_up(owner_url: &str, tenants: u32) -> anyhow::Result<()> {
    let db = Db::connect(owner_url, 2, std::time::Duration::ZERO).await?;
    let find = |i: u32| {
        let db = db.clone();
        async move {
            registry::find_by_slug(&db, &TenantSlug::parse(&tenant_slug(i))?)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no body {}", tenant_slug(i)))
        }
    };
    let capital = find(0).await?;
    let now = chrono::Utc::now();
    let municipi = MUNICIPI.min(tenants.saturating_sub(1));
    for i in 0..=municipi {
        let body = find(i).await?;
        if i > 0 {
            db.global()
                .execute_raw(Statement::from_sql_and_values(
                    db.global().get_database_backend(),
                    "UPDATE tenants SET parent_id = $1 WHERE id = $2",
                    [capital.id.0.into(), body.id.0.into()],
                ))
                .await?;
        }
        let scope = db.scope(&TenantContext::system(body, "bench")).await?;
        if areas::list(&scope).await?.is_empty() {
            let geojson = if i == 0 {
                capital_area()
            } else {
                municipio_area(i - 1)
            };
            let name = format!("Area {i}");
            areas::define(&scope, NewArea { name, geojson }, "system:bench", now).await?;
        }
        if i == 0 && api_keys::find(&scope, API_KEY).await?.is_none() {
            api_keys::store(&scope, "bench", API_KEY, "system:bench", now).await?;
        }
        scope.commit().await?;
    }
    Ok(())
}

/// A point in the city's box.
pub fn point(rng: &mut Rng) -> (f64, f64) {
    let f = |rng: &mut Rng| rng.below(1_000_000) as f64 / 1_000_000.0;
    (
        SOUTH + (NORTH - SOUTH) * f(rng),
        WEST + (EAST - WEST) * f(rng),
    )
}

/// What one routing costs, in microseconds: the whole decision (the registry, the areas'
/// boxes and the catalogue read from the database, the polygons from the cache) and the
/// geometry alone (box filter and point-in-polygon over every area of the city).
#[derive(Debug, Serialize)]
pub struct RouteCost {
    pub reports: usize,
    pub route_p50_us: f64,
    pub route_p99_us: f64,
    pub polygons_p50_us: f64,
    pub polygons_p99_us: f64,
    /// How many went to a municipio (the rest to the capital).
    pub to_municipi: usize,
}

fn pct(v: &mut [f64], q: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * q).round() as usize]
}

/// Routes `reports` random points sent to the capital, one after another, in process.
pub async fn route_cost(
    database_url: &str,
    reports: usize,
    seed: u64,
) -> anyhow::Result<RouteCost> {
    let db = Db::connect(database_url, 2, std::time::Duration::ZERO).await?;
    let capital = registry::find_by_slug(&db, &TenantSlug::parse(&tenant_slug(0))?)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no generated capital: run `civitas bench generate`"))?;
    let all = registry::list(&db).await?;
    let bodies: Vec<uuid::Uuid> = all
        .iter()
        .filter(|t| t.id == capital.id || t.parent_id == Some(capital.id))
        .map(|t| t.id.0)
        .collect();
    let public = db.public_scope().await?;
    let stored = service_area::Entity::find()
        .filter(service_area::Column::TenantId.is_in(bodies))
        .all(public.conn())
        .await?;
    public.commit().await?;
    let mut shapes = vec![];
    for a in stored {
        let b = BBox {
            min_lat: a.min_lat,
            min_lon: a.min_lon,
            max_lat: a.max_lat,
            max_lon: a.max_lon,
        };
        shapes.push((b, areas::shape(a.id, &a.geojson)?));
    }
    let mut rng = Rng::new(seed);
    let (mut route, mut polygons, mut to_municipi) = (vec![], vec![], 0);
    for n in 0..reports + 50 {
        let (lat, lon) = point(&mut rng);
        let t0 = Instant::now();
        let d = routing::route(&db, &all, &capital, SERVICE, (lat, lon), &[]).await?;
        let routed = t0.elapsed().as_secs_f64() * 1e6;
        let t1 = Instant::now();
        let hits = shapes
            .iter()
            .filter(|(b, s)| b.contains(lat, lon) && areas::holds(s, lat, lon))
            .count();
        let geometry = t1.elapsed().as_secs_f64() * 1e6;
        std::hint::black_box(hits);
        // The first 50 warm the polygon cache and the pool.
        if n >= 50 {
            route.push(routed);
            polygons.push(geometry);
            to_municipi += usize::from(d.target.id != capital.id);
        }
    }
    Ok(RouteCost {
        reports,
        route_p50_us: pct(&mut route, 0.5),
        route_p99_us: pct(&mut route, 0.99),
        polygons_p50_us: pct(&mut polygons, 0.5),
        polygons_p99_us: pct(&mut polygons, 0.99),
        to_municipi,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_municipio_area_is_valid_and_inside_the_city() {
        for i in 0..MUNICIPI {
            let c = areas::check(&municipio_area(i)).expect("valid");
            assert_eq!(c.vertices, VERTICES + 1);
            assert!(c.bbox.min_lon > WEST && c.bbox.max_lon < EAST);
            assert!(c.bbox.min_lat > SOUTH && c.bbox.max_lat < NORTH);
        }
        areas::check(&capital_area()).expect("valid");
    }
}
