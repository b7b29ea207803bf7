//! A body's look in the portal: its style sheet (the primary colour) and its logo, served
//! by the portal, and what a page needs to show them.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use civitas_crm::Error;
use civitas_crm::app::branding;
use civitas_crm::branding::Branding;
use minijinja::{Value, context};

use crate::Portal;
use crate::visit::Visit;

/// Where a page finds a body's style sheet and logo.
fn urls(slug: &str, b: &Branding) -> (Option<String>, Option<String>) {
    let css = b
        .colour
        .map(|c| format!("/bodies/{slug}/brand.css?v={}", &c.hex()[1..]));
    let logo = b
        .logo
        .as_ref()
        .map(|l| format!("/bodies/{slug}/logo/{}", l.sha256));
    (css, logo)
}

/// The look of body `slug` for a page: its name, style sheet and logo; `None` when it is
/// not an active body (the portal then wears its default look).
pub async fn look(portal: &Portal, slug: &str) -> Option<Value> {
    match branding::public(&portal.app, slug).await {
        Ok((name, b)) => {
            // Built of a body's slug (a-z, 0-9, '-') and hex digits: nothing to escape.
            let (css, logo) = urls(slug, &b);
            let css = css.map(Value::from_safe_string);
            let logo = logo.map(Value::from_safe_string);
            Some(context! { name, css, logo })
        }
        Err(e) => {
            tracing::warn!(body = slug, error = %e, "the portal's body has no look");
            None
        }
    }
}

/// The logo of a body as a page shows it next to its name.
pub async fn logo_url(portal: &Portal, slug: &str) -> Option<Value> {
    let (_, b) = branding::public(&portal.app, slug).await.ok()?;
    urls(slug, &b).1.map(Value::from_safe_string)
}

/// `GET /bodies/{slug}/brand.css`: the body's colour on the header, links and buttons.
pub async fn css(
    visit: Visit,
    State(portal): State<Arc<Portal>>,
    Path(slug): Path<String>,
) -> Response {
    match branding::public(&portal.app, &slug).await {
        Ok((_, b)) => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/css; charset=utf-8"),
                ),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=86400"),
                ),
                (
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ),
            ],
            b.css(),
        )
            .into_response(),
        Err(_) => visit.status_page(&portal, StatusCode::NOT_FOUND),
    }
}

/// `GET /bodies/{slug}/logo/{sha256}`: the body's current logo (a new logo has a new URL,
/// so it is cached for good); any other digest is NOT_FOUND.
pub async fn logo(
    visit: Visit,
    State(portal): State<Arc<Portal>>,
    Path((slug, sha)): Path<(String, String)>,
) -> Response {
    match branding::logo(&portal.app, &slug, &sha).await {
        Ok((media_type, bytes)) => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_str(&media_type)
                        .unwrap_or(HeaderValue::from_static("application/octet-stream")),
                ),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=31536000, immutable"),
                ),
                (
                    header::CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static("default-src 'none'; sandbox"),
                ),
                (
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(Error::NotFound(_)) => visit.status_page(&portal, StatusCode::NOT_FOUND),
        Err(e) => visit.problem(&portal, e),
    }
}
