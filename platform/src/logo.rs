//! A body's logo over HTTP: `PUT /branding/logo` (the image as the request body) and
//! `DELETE /branding/logo`, for its administrators, with the same token, tenant header,
//! limits and error shape as `/graphql`. The portal serves the logo it names.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use civitas_crm::app::branding as uc;
use civitas_crm::branding::MAX_LOGO;
use civitas_graphql::{ApiError, Code};
use serde_json::json;

use crate::app::App;
use crate::files::admitted;
use crate::http::reject;

pub async fn put(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let (caller, _held) = match admitted(&app, &headers).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let Ok(body) = body else {
        return reject(ApiError::new(
            Code::Validation,
            format!("logo: at most {MAX_LOGO} bytes"),
        ));
    };
    match uc::set_logo(&app.state, &caller, body.to_vec()).await {
        Ok(logo) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            json!({ "sha256": logo.sha256, "mediaType": logo.media_type }).to_string(),
        )
            .into_response(),
        Err(e) => reject(e.into()),
    }
}

pub async fn delete(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let (caller, _held) = match admitted(&app, &headers).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    match uc::remove_logo(&app.state, &caller).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => reject(e.into()),
    }
}
