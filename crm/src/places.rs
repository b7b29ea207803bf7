//! Where a report is: a point in WGS84 with an address and a description of the spot, and
//! the geometry that reads near a point need.

use serde::Serialize;

use crate::{Error, Result};

/// Coordinates are kept to 7 decimal places (about 1 cm): a phone's GPS is not better, and
/// a float's noise in the last digits would otherwise make equal points differ.
const DECIMALS: f64 = 1e7;
const EARTH_RADIUS_M: f64 = 6_371_008.8;
pub const MAX_ADDRESS: usize = 500;
pub const MAX_NOTE: usize = 1_000;

/// A point on a case, validated.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Place {
    pub latitude: f64,
    pub longitude: f64,
    pub address: Option<String>,
    /// "In front of number 12, by the bus stop".
    pub note: Option<String>,
}

fn invalid(m: impl Into<String>) -> Error {
    Error::Validation(m.into())
}

fn optional_text(field: &str, v: Option<String>, max: usize) -> Result<Option<String>> {
    let v = v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    if v.as_ref().is_some_and(|s| s.chars().count() > max) {
        return Err(invalid(format!("{field} must be at most {max} characters")));
    }
    Ok(v)
}

fn round(v: f64) -> f64 {
    (v * DECIMALS).round() / DECIMALS
}

/// Checks a latitude and a longitude: finite and in range.
pub fn coordinates(latitude: f64, longitude: f64) -> Result<(f64, f64)> {
    if !latitude.is_finite() || !(-90.0..=90.0).contains(&latitude) {
        return Err(invalid(format!(
            "latitude must be a number from -90 to 90 (WGS84), not {latitude}"
        )));
    }
    if !longitude.is_finite() || !(-180.0..=180.0).contains(&longitude) {
        return Err(invalid(format!(
            "longitude must be a number from -180 to 180 (WGS84), not {longitude}"
        )));
    }
    Ok((round(latitude), round(longitude)))
}

impl Place {
    pub fn new(
        latitude: f64,
        longitude: f64,
        address: Option<String>,
        note: Option<String>,
    ) -> Result<Place> {
        let (latitude, longitude) = coordinates(latitude, longitude)?;
        Ok(Place {
            latitude,
            longitude,
            address: optional_text("address", address, MAX_ADDRESS)?,
            note: optional_text("location description", note, MAX_NOTE)?,
        })
    }
}

/// The great-circle distance between two points, in metres (haversine; within 0.5% of the
/// ellipsoid's, which is plenty for "reports near here").
pub fn distance_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (la1, lo1) = (a.0.to_radians(), a.1.to_radians());
    let (la2, lo2) = (b.0.to_radians(), b.1.to_radians());
    let h = ((la2 - la1) / 2.0).sin().powi(2)
        + la1.cos() * la2.cos() * ((lo2 - lo1) / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * h.sqrt().asin()
}

/// A box in degrees, for an indexed read before an exact test.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BBox {
    pub min_lat: f64,
    pub min_lon: f64,
    pub max_lat: f64,
    pub max_lon: f64,
}

impl BBox {
    /// The box that holds every point within `radius_m` of `(lat, lon)`.
    pub fn around(lat: f64, lon: f64, radius_m: f64) -> BBox {
        let dlat = (radius_m / EARTH_RADIUS_M).to_degrees();
        // Near the poles a degree of longitude shrinks to nothing: take the whole circle.
        let cos = lat.to_radians().cos();
        let dlon = if cos < 1e-6 {
            180.0
        } else {
            (dlat / cos).min(180.0)
        };
        BBox {
            min_lat: (lat - dlat).max(-90.0),
            max_lat: (lat + dlat).min(90.0),
            min_lon: (lon - dlon).max(-180.0),
            max_lon: (lon + dlon).min(180.0),
        }
    }

    pub fn contains(&self, lat: f64, lon: f64) -> bool {
        (self.min_lat..=self.max_lat).contains(&lat) && (self.min_lon..=self.max_lon).contains(&lon)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coordinates_out_of_range_or_not_numbers_are_refused() {
        assert!(Place::new(91.0, 12.0, None, None).is_err());
        assert!(Place::new(41.0, -180.5, None, None).is_err());
        assert!(Place::new(f64::NAN, 12.0, None, None).is_err());
        let p = Place::new(
            41.890_251_123_456,
            12.492_373_987_654,
            Some("  ".into()),
            None,
        )
        .expect("valid");
        assert_eq!((p.latitude, p.longitude), (41.890_251_1, 12.492_374));
        assert_eq!(p.address, None);
    }

    #[test]
    fn a_kilometre_is_a_kilometre_and_the_box_holds_the_circle() {
        // Colosseo to Piazza Venezia: about 1.1 km.
        let d = distance_m((41.890_251, 12.492_373), (41.895_966, 12.482_618));
        assert!((1_000.0..1_100.0).contains(&d), "{d}");
        let b = BBox::around(41.9, 12.5, 1_000.0);
        assert!(b.contains(41.9 + 0.0089, 12.5));
        assert!(b.contains(41.9, 12.5 + 0.012));
        assert!(!b.contains(41.9 + 0.01, 12.5));
    }
}
