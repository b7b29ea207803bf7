//! The static assets (Bootstrap Italia, htmx, the portal's own CSS), embedded in the binary
//! and served under `/static/<hash>/…`: the hash of every asset together, so that a new
//! build changes every URL and a browser may keep each one for a year. Text assets are
//! also kept gzip-compressed, made once at start.

use std::collections::HashMap;
use std::io::Write;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "assets/"]
#[exclude = "*/LICENSE*"]
#[exclude = "vendor/VERSIONS"]
struct Files;

struct Asset {
    bytes: Bytes,
    gzip: Option<Bytes>,
    content_type: &'static str,
}

pub struct Assets {
    /// The first 16 hex digits of the SHA-256 of every asset's path and bytes.
    version: String,
    files: HashMap<String, Asset>,
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or_default() {
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "svg" => "image/svg+xml",
        "woff2" => "font/woff2",
        "png" => "image/png",
        "ico" => "image/x-icon",
        _ => "application/octet-stream",
    }
}

fn gzip(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes).ok()?;
    enc.finish().ok()
}

impl Assets {
    /// The assets of this process, loaded (and compressed) once.
    pub fn shared() -> &'static Assets {
        static ASSETS: std::sync::OnceLock<Assets> = std::sync::OnceLock::new();
        ASSETS.get_or_init(Assets::load)
    }

    fn load() -> Self {
        let mut names: Vec<String> = Files::iter().map(|n| n.into_owned()).collect();
        names.sort();
        let mut digest = ring::digest::Context::new(&ring::digest::SHA256);
        let mut files = HashMap::new();
        for name in names {
            let Some(file) = Files::get(&name) else {
                continue;
            };
            let bytes = file.data.into_owned();
            digest.update(name.as_bytes());
            digest.update(&bytes);
            let content_type = content_type(&name);
            // Fonts are compressed already.
            let gzip = (!name.ends_with(".woff2"))
                .then(|| gzip(&bytes))
                .flatten()
                .map(Bytes::from);
            files.insert(
                name,
                Asset {
                    bytes: Bytes::from(bytes),
                    gzip,
                    content_type,
                },
            );
        }
        let version = digest
            .finish()
            .as_ref()
            .iter()
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect();
        Assets { version, files }
    }

    /// The URL of an asset, for templates.
    pub fn url(&self, path: &str) -> String {
        format!("/static/{}/{path}", self.version)
    }

    pub fn version(&self) -> &str {
        &self.version
    }

    fn serve(&self, version: &str, path: &str, headers: &HeaderMap) -> Response {
        let Some(asset) = self.files.get(path) else {
            return StatusCode::NOT_FOUND.into_response();
        };
        // An old page may still name an old build's URL: it gets today's file, not cached.
        let cache = if version == self.version {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        let accepts_gzip = headers
            .get_all(header::ACCEPT_ENCODING)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.split(',').any(|e| e.trim().starts_with("gzip")));
        let mut r = match (&asset.gzip, accepts_gzip) {
            (Some(z), true) => {
                let mut r = Body::from(z.clone()).into_response();
                r.headers_mut()
                    .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
                r
            }
            _ => Body::from(asset.bytes.clone()).into_response(),
        };
        let h = r.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(asset.content_type),
        );
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
        h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        r
    }
}

pub async fn serve(
    State(portal): State<std::sync::Arc<crate::Portal>>,
    Path((version, path)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    portal.assets.serve(&version, &path, &headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vendored_assets_are_embedded_and_text_is_compressed() {
        let a = Assets::load();
        for path in [
            "vendor/bootstrap-italia/css/bootstrap-italia.min.css",
            "vendor/bootstrap-italia/js/bootstrap-italia.bundle.min.js",
            "vendor/bootstrap-italia/svg/sprites.svg",
            "vendor/htmx/htmx.min.js",
            "vendor/htmx/sse.min.js",
            "portal/fonts.css",
        ] {
            let f = a
                .files
                .get(path)
                .unwrap_or_else(|| panic!("{path} embedded"));
            let z = f.gzip.as_ref().expect("compressed");
            assert!(z.len() < f.bytes.len() / 2, "{path} compresses");
        }
        assert!(a.files.contains_key("portal/portal.css"));
        assert_eq!(a.version.len(), 16);
    }
}
