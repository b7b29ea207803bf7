//! The portal's pages, one module per area of the citizen's reserved area.

mod account;
mod erasure;
mod inbox;
mod privacy;
mod profile;
mod requests;
mod restrictions;
mod services;
mod surveys;

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use civitas_tenants::{Tenant, TenantId, registry};
use serde::Serialize;

use crate::Portal;
use crate::visit::Visit;

pub fn routes() -> Router<Arc<Portal>> {
    Router::new()
        .route("/", get(account::home))
        .route("/sign-in", get(account::sign_in))
        .route("/sign-in/dev", post(account::dev_sign_in))
        .route("/sign-out", post(account::sign_out))
        .route("/language", post(account::language))
        .route("/services", get(services::list))
        .route("/services/{body}/{code}", get(services::sheet))
        .route(
            "/services/{body}/{code}/request",
            get(services::form).post(services::submit),
        )
        .route("/requests", get(requests::list))
        .route("/requests/live", get(requests::live))
        .route("/requests/{id}", get(requests::detail))
        .route("/requests/{id}/reply", post(requests::reply))
        .route("/requests/{id}/attachments", post(requests::attach))
        .route("/notifications", get(inbox::list))
        .route("/notifications/change", post(inbox::change))
        .route("/consents", get(privacy::consents))
        .route("/consents/sharing", post(privacy::grant_sharing))
        .route(
            "/consents/sharing/{id}/revoke",
            post(privacy::revoke_sharing),
        )
        .route(
            "/consents/privacy/{id}/withdraw",
            post(privacy::withdraw_privacy),
        )
        .route("/consents/{kind}/{id}/receipt", get(privacy::receipt))
        .route(
            "/consents/requests/{id}/{action}",
            post(privacy::decide_request),
        )
        .route("/access-log", get(privacy::access_log))
        .route(
            "/delegations",
            get(privacy::delegations).post(privacy::grant_delegation),
        )
        .route("/delegations/{id}/revoke", post(privacy::revoke_delegation))
        .route("/my-data.json", get(privacy::export))
        .route("/erasure", get(erasure::show).post(erasure::ask))
        .route(
            "/restrictions",
            get(restrictions::show).post(restrictions::ask),
        )
        .route("/restrictions/{id}/lift", post(restrictions::lift))
        .route("/surveys/{token}", get(surveys::show).post(surveys::answer))
        .route("/profile", get(profile::show))
        .route("/profile/{body}/contacts", post(profile::contacts))
        .route("/profile/{body}/channels", post(profile::channels))
        .route("/static/{version}/{*path}", get(crate::assets::serve))
        .route("/bodies/{slug}/brand.css", get(crate::brand::css))
        .route("/bodies/{slug}/logo/{sha256}", get(crate::brand::logo))
        .fallback(not_found)
}

async fn not_found(
    visit: Visit,
    axum::extract::State(portal): axum::extract::State<Arc<Portal>>,
) -> Response {
    visit.status_page(&portal, axum::http::StatusCode::NOT_FOUND)
}

/// The bodies a page names, by id: their slug and name.
#[derive(Clone, Debug, Serialize)]
pub struct BodyName {
    pub slug: String,
    pub name: String,
}

pub async fn bodies(portal: &Portal, ids: &[TenantId]) -> HashMap<TenantId, BodyName> {
    let mut ids = ids.to_vec();
    ids.sort();
    ids.dedup();
    let found: Vec<Tenant> = registry::cached_by_ids(&portal.app.db, &ids)
        .await
        .unwrap_or_else(|e| {
            tracing::error!(error = %e, "reading body names");
            vec![]
        });
    found
        .into_iter()
        .map(|t| {
            (
                t.id,
                BodyName {
                    slug: t.slug.to_string(),
                    name: t.display_name,
                },
            )
        })
        .collect()
}

/// A cursor from the query string (`?after=`), ignored when it does not parse.
pub fn after<T: std::str::FromStr>(q: &HashMap<String, String>) -> Option<T> {
    q.get("after").and_then(|a| a.parse().ok())
}

/// How many rows a page of a list shows.
pub const PAGE: i64 = 20;

/// The JSON of a download, saved under `name`.
pub fn download_json(name: &str, body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/json".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response()
}
