//! `/unsubscribe?t=…`, the link in every e-mail: GET shows what it will do and a button
//! (mail scanners follow links, and must not unsubscribe anyone); POST does it, and is
//! also the RFC 8058 one-click request a mail client sends. A translation of
//! [`civitas_crm::app::notify::unsubscribe`], in Italian and English.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use civitas_crm::Error;
use serde::Deserialize;

use crate::app::App;

#[derive(Deserialize)]
pub struct Link {
    #[serde(default)]
    t: String,
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html>\n<html lang=\"it\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title></head><body><main>{body}</main></body></html>\n"
    );
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        html,
    )
        .into_response()
}

fn unknown() -> Response {
    page(
        StatusCode::NOT_FOUND,
        "Link non valido / Invalid link",
        "<h1>Link non valido</h1><p>Questo link non è stato emesso da questa piattaforma.</p>\
         <h2 lang=\"en\">Invalid link</h2><p lang=\"en\">This link was not issued by this platform.</p>",
    )
}

pub async fn confirm(State(app): State<Arc<App>>, Query(link): Query<Link>) -> Response {
    if app.state.links.check_unsubscribe(&link.t).is_none() {
        return unknown();
    }
    let t = escape(&link.t);
    page(
        StatusCode::OK,
        "Non ricevere più e-mail / Stop e-mails",
        &format!(
            "<h1>Non ricevere più e-mail da questo ente</h1>\
             <form method=\"post\" action=\"/unsubscribe?t={t}\">\
             <button type=\"submit\">Conferma / Confirm</button></form>\
             <p lang=\"en\">Stop e-mails from this body: confirm above.</p>"
        ),
    )
}

pub async fn apply(State(app): State<Arc<App>>, Query(link): Query<Link>) -> Response {
    match civitas_crm::app::notify::unsubscribe(&app.state, &link.t).await {
        Ok(body) => {
            let body = escape(&body);
            page(
                StatusCode::OK,
                "Fatto / Done",
                &format!(
                    "<h1>Fatto</h1><p>{body} non le invierà più e-mail.</p>\
                     <p lang=\"en\">{body} will send you no more e-mails.</p>"
                ),
            )
        }
        Err(Error::NotFound(_)) => unknown(),
        Err(e) => {
            tracing::error!(error = %e, "unsubscribe failed");
            page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Riprova / Try again",
                "<h1>Riprova più tardi</h1><p lang=\"en\">Please try again later.</p>",
            )
        }
    }
}
