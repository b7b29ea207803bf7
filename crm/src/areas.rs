//! A body's areas of competence: GeoJSON polygons its administrator uploads, checked
//! (closed rings, no self-intersection, a size limit) and tested for "is this point
//! inside" with the georust crates. An area never changes once stored (a new version is a
//! new area), so its parsed polygon is cached by id for the process's life.

use std::sync::{Arc, LazyLock};

use chrono::{DateTime, Utc};
use civitas_tenants::{PublicScope, Scope, TenantId};
use geo::{BoundingRect, Intersects, MultiPolygon, Point, Validation};
use geojson::{GeoJson, GeometryValue};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

use crate::entity::service_area;
use crate::{Error, Result};

pub use service_area::Model as Area;

/// The largest GeoJSON text an area may be (a municipio's border at survey detail is
/// well under 1 MB).
pub const MAX_BYTES: usize = 2 * 1024 * 1024;
/// The most vertices an area may have, all rings together.
pub const MAX_VERTICES: usize = 100_000;
/// The most areas a body may have.
pub const MAX_AREAS: u64 = 50;

fn invalid(m: impl Into<String>) -> Error {
    Error::Validation(m.into())
}

/// An uploaded geometry, checked.
pub struct Checked {
    pub shape: MultiPolygon<f64>,
    pub geojson: String,
    pub vertices: usize,
    pub bbox: crate::places::BBox,
}

type Ring = Vec<geojson::Position>;

fn check_ring(ring: &Ring, which: &str) -> Result<()> {
    if ring.len() < 4 {
        return Err(invalid(format!(
            "geojson: {which} has {} positions; a ring needs at least 4",
            ring.len()
        )));
    }
    for p in ring {
        let p = p.as_slice();
        let ok = (2..=3).contains(&p.len())
            && p.iter().all(|v| v.is_finite())
            && (-180.0..=180.0).contains(&p[0])
            && (-90.0..=90.0).contains(&p[1]);
        if !ok {
            return Err(invalid(format!(
                "geojson: {which} has the position {p:?}; positions are [longitude, latitude] in WGS84"
            )));
        }
    }
    if ring.first().map(|p| &p.as_slice()[..2]) != ring.last().map(|p| &p.as_slice()[..2]) {
        return Err(invalid(format!(
            "geojson: {which} is not closed (its first and last positions differ)"
        )));
    }
    Ok(())
}

/// Parses and checks a GeoJSON Polygon or MultiPolygon (bare, or as the geometry of a
/// Feature).
pub fn check(text: &str) -> Result<Checked> {
    if text.len() > MAX_BYTES {
        return Err(invalid(format!(
            "geojson is {} bytes; an area may be at most {MAX_BYTES}",
            text.len()
        )));
    }
    let parsed: GeoJson = text
        .parse()
        .map_err(|e| invalid(format!("geojson: not valid GeoJSON ({e})")))?;
    let geometry = match parsed {
        GeoJson::Geometry(g) => g,
        GeoJson::Feature(f) => f
            .geometry
            .ok_or_else(|| invalid("geojson: the Feature has no geometry"))?,
        GeoJson::FeatureCollection(_) => {
            return Err(invalid(
                "geojson: send one Polygon or MultiPolygon (or one Feature), not a FeatureCollection",
            ));
        }
    };
    let polygons: Vec<&Vec<Ring>> = match &geometry.value {
        GeometryValue::Polygon { coordinates } => vec![coordinates],
        GeometryValue::MultiPolygon { coordinates } => coordinates.iter().collect(),
        other => {
            return Err(invalid(format!(
                "geojson: an area is a Polygon or a MultiPolygon, not a {}",
                other.type_name()
            )));
        }
    };
    if polygons.is_empty() {
        return Err(invalid("geojson: the MultiPolygon has no polygon"));
    }
    let mut vertices = 0;
    for (i, rings) in polygons.iter().enumerate() {
        if rings.is_empty() {
            return Err(invalid(format!("geojson: polygon {i} has no ring")));
        }
        for (j, ring) in rings.iter().enumerate() {
            let which = match j {
                0 => format!("the exterior ring of polygon {i}"),
                _ => format!("interior ring {j} of polygon {i}"),
            };
            check_ring(ring, &which)?;
            vertices += ring.len();
        }
    }
    if vertices > MAX_VERTICES {
        return Err(invalid(format!(
            "geojson has {vertices} vertices; an area may have at most {MAX_VERTICES}"
        )));
    }
    let shape: MultiPolygon<f64> = match geometry.value {
        GeometryValue::Polygon { .. } => MultiPolygon(vec![
            geometry
                .clone()
                .try_into()
                .map_err(|e| invalid(format!("geojson: {e}")))?,
        ]),
        _ => geometry
            .clone()
            .try_into()
            .map_err(|e| invalid(format!("geojson: {e}")))?,
    };
    if let Err(e) = shape.check_validation() {
        return Err(invalid(format!("geojson: {e}")));
    }
    let rect = shape
        .bounding_rect()
        .ok_or_else(|| invalid("geojson: the area is empty"))?;
    let normalised = geojson::Geometry::from(GeometryValue::from(&shape));
    Ok(Checked {
        geojson: serde_json::to_string(&normalised).unwrap_or_default(),
        shape,
        vertices,
        bbox: crate::places::BBox {
            min_lat: rect.min().y,
            min_lon: rect.min().x,
            max_lat: rect.max().y,
            max_lon: rect.max().x,
        },
    })
}

/// Parsed areas by id: stored areas never change, so an entry never goes stale. Weighed by
/// vertices, so that a few huge areas cannot hold the memory of many.
static SHAPES: LazyLock<moka::sync::Cache<Uuid, Arc<MultiPolygon<f64>>>> = LazyLock::new(|| {
    moka::sync::Cache::builder()
        .weigher(|_, s: &Arc<MultiPolygon<f64>>| {
            u32::try_from(s.0.iter().map(|p| p.exterior().0.len()).sum::<usize>())
                .unwrap_or(u32::MAX)
        })
        // About 80 MB of coordinates.
        .max_capacity(5_000_000)
        .build()
});

/// The polygon of a stored area.
pub fn shape(id: Uuid, geojson: &str) -> Result<Arc<MultiPolygon<f64>>> {
    if let Some(s) = SHAPES.get(&id) {
        return Ok(s);
    }
    // Checked when it was stored: only parsed here.
    let g: geojson::Geometry = geojson
        .parse()
        .map_err(|e| invalid(format!("stored area {id}: {e}")))?;
    let s: Arc<MultiPolygon<f64>> = Arc::new(
        g.try_into()
            .map_err(|e| invalid(format!("stored area {id}: {e}")))?,
    );
    SHAPES.insert(id, s.clone());
    Ok(s)
}

/// Whether `(lat, lon)` is in the area (its border counts as inside).
pub fn holds(shape: &MultiPolygon<f64>, lat: f64, lon: f64) -> bool {
    shape.intersects(&Point::new(lon, lat))
}

pub struct NewArea {
    pub name: String,
    pub geojson: String,
}

/// Stores an area of the scope's body.
pub async fn define(scope: &Scope, new: NewArea, by: &str, now: DateTime<Utc>) -> Result<Area> {
    let name = new.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(invalid("name must be 1 to 200 characters"));
    }
    let checked = check(&new.geojson)?;
    let count = scope
        .find::<service_area::Entity>()
        .count(scope.conn())
        .await?;
    if count >= MAX_AREAS {
        return Err(invalid(format!(
            "a body may have at most {MAX_AREAS} areas"
        )));
    }
    let id = Uuid::now_v7();
    let row = service_area::ActiveModel {
        id: Set(id),
        name: Set(name.clone()),
        geojson: Set(checked.geojson),
        min_lat: Set(checked.bbox.min_lat),
        min_lon: Set(checked.bbox.min_lon),
        max_lat: Set(checked.bbox.max_lat),
        max_lon: Set(checked.bbox.max_lon),
        vertices: Set(i32::try_from(checked.vertices).unwrap_or(i32::MAX)),
        created_by: Set(by.to_owned()),
        created_at: Set(now),
        ..Default::default()
    };
    let stored = scope.insert(row).await.map_err(|e| {
        Error::conflict_on_unique(e, format!("the body already has an area named {name}"))
    })?;
    SHAPES.insert(id, Arc::new(checked.shape));
    Ok(stored)
}

pub async fn remove(scope: &Scope, id: Uuid) -> Result<Area> {
    let found = scope
        .find::<service_area::Entity>()
        .filter(service_area::Column::Id.eq(id))
        .one(scope.conn())
        .await?
        .ok_or(Error::NotFound("area"))?;
    scope
        .delete_many::<service_area::Entity>()
        .filter(service_area::Column::Id.eq(id))
        .exec(scope.conn())
        .await?;
    Ok(found)
}

/// The body's areas, by name, without their geometry.
pub async fn list(scope: &Scope) -> Result<Vec<Area>> {
    Ok(scope
        .find::<service_area::Entity>()
        .order_by_asc(service_area::Column::Name)
        .all(scope.conn())
        .await?)
}

/// The body's areas whose box holds the point, geometry included.
pub async fn around(scope: &Scope, lat: f64, lon: f64) -> Result<(u64, Vec<Area>)> {
    let all = scope
        .find::<service_area::Entity>()
        .count(scope.conn())
        .await?;
    let near = scope
        .find::<service_area::Entity>()
        .filter(service_area::Column::MinLat.lte(lat))
        .filter(service_area::Column::MaxLat.gte(lat))
        .filter(service_area::Column::MinLon.lte(lon))
        .filter(service_area::Column::MaxLon.gte(lon))
        .all(scope.conn())
        .await?;
    Ok((all, near))
}

/// Whether the scope's body may serve a point: it has no areas, or one holds it.
pub async fn serves(scope: &Scope, lat: f64, lon: f64) -> Result<bool> {
    let (all, near) = around(scope, lat, lon).await?;
    if all == 0 {
        return Ok(true);
    }
    for a in near {
        if holds(&*shape(a.id, &a.geojson)?, lat, lon) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// One area as routing sees it: whose, which, and its box.
#[derive(Clone, Debug)]
pub struct Footprint {
    pub tenant_id: TenantId,
    pub id: Uuid,
    pub name: String,
}

/// Of `bodies`, those that have any area at all, and the areas (of any of them) that hold
/// the point. Read in the public scope: a body's territory is public.
pub async fn holding(
    public: &PublicScope,
    bodies: &[Uuid],
    lat: f64,
    lon: f64,
) -> Result<(Vec<TenantId>, Vec<Footprint>)> {
    use service_area::Column as C;
    // Every area of the bodies, without geometry, in one read: a city has tens of them.
    let all: Vec<(Uuid, Uuid, String, f64, f64, f64, f64)> = service_area::Entity::find()
        .select_only()
        .columns([
            C::TenantId,
            C::Id,
            C::Name,
            C::MinLat,
            C::MinLon,
            C::MaxLat,
            C::MaxLon,
        ])
        .filter(C::TenantId.is_in(bodies.iter().copied()))
        .into_tuple()
        .all(public.conn())
        .await?;
    let mut with_areas: Vec<Uuid> = all.iter().map(|a| a.0).collect();
    with_areas.sort();
    with_areas.dedup();
    let candidates = all.into_iter().filter(|a| {
        let b = crate::places::BBox {
            min_lat: a.3,
            min_lon: a.4,
            max_lat: a.5,
            max_lon: a.6,
        };
        b.contains(lat, lon)
    });
    let mut found = vec![];
    for (tenant, id, name, ..) in candidates {
        let s = match SHAPES.get(&id) {
            Some(s) => s,
            None => {
                let text: Option<String> = service_area::Entity::find()
                    .select_only()
                    .column(C::Geojson)
                    .filter(C::TenantId.eq(tenant))
                    .filter(C::Id.eq(id))
                    .into_tuple()
                    .one(public.conn())
                    .await?;
                let Some(text) = text else { continue };
                shape(id, &text)?
            }
        };
        if holds(&s, lat, lon) {
            found.push(Footprint {
                tenant_id: TenantId(tenant),
                id,
                name,
            });
        }
    }
    Ok((with_areas.into_iter().map(TenantId).collect(), found))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SQUARE: &str = r#"{"type":"Polygon","coordinates":[[[12.0,41.0],[13.0,41.0],[13.0,42.0],[12.0,42.0],[12.0,41.0]]]}"#;

    #[test]
    fn a_square_holds_its_inside_and_its_border() {
        let c = check(SQUARE).expect("valid");
        assert_eq!(c.vertices, 5);
        assert!(holds(&c.shape, 41.5, 12.5));
        assert!(holds(&c.shape, 41.0, 12.5));
        assert!(!holds(&c.shape, 42.5, 12.5));
        assert_eq!(c.bbox.max_lat, 42.0);
    }

    #[test]
    fn open_rings_bowties_and_points_are_refused_with_the_reason() {
        let open = r#"{"type":"Polygon","coordinates":[[[12,41],[13,41],[13,42],[12,42]]]}"#;
        let e = check(open).err().expect("refused").to_string();
        assert!(e.contains("not closed"), "{e}");
        let bowtie =
            r#"{"type":"Polygon","coordinates":[[[12,41],[13,42],[13,41],[12,42],[12,41]]]}"#;
        let e = check(bowtie).err().expect("refused").to_string();
        assert!(e.contains("self-intersection"), "{e}");
        let point = r#"{"type":"Point","coordinates":[12,41]}"#;
        let e = check(point).err().expect("refused").to_string();
        assert!(e.contains("Polygon or a MultiPolygon"), "{e}");
        let e = check("{").err().expect("refused").to_string();
        assert!(e.contains("not valid GeoJSON"), "{e}");
        let swapped = r#"{"type":"Polygon","coordinates":[[[41,120],[42,120],[42,121],[41,120]]]}"#;
        assert!(check(swapped).is_err());
    }
}
