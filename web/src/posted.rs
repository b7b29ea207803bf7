//! What a page handler is handed: the visit of a signed-in citizen, or a form whose token
//! has been checked (and, for a citizen's form, whose sender is one). Every check a page
//! needs before it calls its use case happens here, once.

use std::sync::Arc;

use axum::extract::{FromRequest, FromRequestParts, Multipart, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::Portal;
use crate::forms::Fields;
use crate::visit::Visit;

/// A file of a multipart form.
pub struct Upload {
    /// The form field that carried it.
    pub field: String,
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// The visit of a browser signed in as a citizen; anyone else is sent to sign in (or told
/// the page is not for them).
pub struct Citizen(pub Visit);

impl FromRequestParts<Arc<Portal>> for Citizen {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        portal: &Arc<Portal>,
    ) -> Result<Self, Self::Rejection> {
        let visit = Visit::from_request_parts(parts, portal).await?;
        match visit.not_citizen(portal) {
            Some(refused) => Err(refused),
            None => Ok(Citizen(visit)),
        }
    }
}

/// A form sent back with this browser's token: its fields, and its files when it was
/// multipart. Anyone may send one (signing in, the language).
pub struct Posted {
    pub visit: Visit,
    pub fields: Fields,
    pub files: Vec<Upload>,
}

/// A form of a signed-in citizen, with its token.
pub struct CitizenPosted(pub Posted);

impl FromRequest<Arc<Portal>> for Posted {
    type Rejection = Response;

    async fn from_request(req: Request, portal: &Arc<Portal>) -> Result<Self, Self::Rejection> {
        read(req, portal, false).await
    }
}

impl FromRequest<Arc<Portal>> for CitizenPosted {
    type Rejection = Response;

    async fn from_request(req: Request, portal: &Arc<Portal>) -> Result<Self, Self::Rejection> {
        read(req, portal, true).await.map(CitizenPosted)
    }
}

/// The visit first (who, and whether a citizen), then the body, then the token: a form
/// without this browser's token is refused before its contents are used.
async fn read(req: Request, portal: &Arc<Portal>, citizen: bool) -> Result<Posted, Response> {
    let (mut parts, body) = req.into_parts();
    let visit = Visit::from_request_parts(&mut parts, portal).await?;
    if citizen && let Some(refused) = visit.not_citizen(portal) {
        return Err(refused);
    }
    let multipart = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let req = Request::from_parts(parts, body);
    let (fields, files) = if multipart {
        let m = Multipart::from_request(req, portal)
            .await
            .map_err(IntoResponse::into_response)?;
        parts_of(m).await?
    } else {
        let axum::Form(pairs) = axum::Form::<Vec<(String, String)>>::from_request(req, portal)
            .await
            .map_err(IntoResponse::into_response)?;
        (Fields(pairs), vec![])
    };
    if !visit.check_form(&fields.text("csrf")) {
        return Err(visit.status_page(portal, StatusCode::FORBIDDEN));
    }
    Ok(Posted {
        visit,
        fields,
        files,
    })
}

async fn parts_of(mut m: Multipart) -> Result<(Fields, Vec<Upload>), Response> {
    let mut fields = vec![];
    let mut files = vec![];
    while let Some(part) = m.next_field().await.map_err(IntoResponse::into_response)? {
        let field = part.name().unwrap_or_default().to_owned();
        match part.file_name().map(str::to_owned) {
            Some(file_name) => {
                let bytes = part.bytes().await.map_err(IntoResponse::into_response)?;
                // A file input left empty still sends a part, with no name and no bytes.
                if !file_name.is_empty() || !bytes.is_empty() {
                    files.push(Upload {
                        field,
                        file_name,
                        bytes: bytes.to_vec(),
                    });
                }
            }
            None => {
                let text = part.text().await.map_err(IntoResponse::into_response)?;
                fields.push((field, text));
            }
        }
    }
    Ok((Fields(fields), files))
}
