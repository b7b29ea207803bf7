//! Attachments over HTTP: `POST /attachments` (multipart: `case`, `file`) and
//! `GET /attachments/{id}`. The same token, tenant header, limits and error shape as
//! `/graphql`; the use cases (`civitas_crm::app::attachments`) decide everything else.

use std::sync::Arc;

use axum::{
    extract::{Multipart, Path, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use civitas_crm::app::attachments as uc;
use civitas_crm::attachments::Attachment;
use civitas_crm::ids::{AttachmentId, CaseId};
use civitas_graphql::{ApiError, Caller, Code};
use serde_json::json;

use crate::app::App;
use crate::http::{admit, enter, identify, reject};

/// Identifies the caller and takes their places (the tenant's or the public's, then the
/// server's), as `/graphql` does; the places are held while the guard lives.
pub(crate) async fn admitted<'a>(
    app: &'a App,
    headers: &HeaderMap,
) -> Result<(Caller, impl Sized + 'a), Response> {
    let caller = identify(app, headers).await.map_err(reject)?;
    let permit = admit(app, &caller).await?;
    let place = enter(app).await?;
    Ok((caller, (permit, place)))
}

fn invalid(m: impl Into<String>) -> Response {
    reject(ApiError::new(Code::Validation, m))
}

fn json_of(a: &Attachment) -> serde_json::Value {
    json!({
        "id": a.id.0,
        "caseId": a.case_id.0,
        "fileName": a.file_name,
        "mediaType": a.media_type,
        "size": a.size,
        "sha256": a.sha256,
        "uploadedBy": a.uploaded_by,
        "createdAt": a.created_at,
        "downloadUrl": format!("/attachments/{}", a.id.0),
    })
}

/// `POST /attachments`: a multipart form with the case's id (`case`) and the file (`file`).
pub async fn upload(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    mut form: Multipart,
) -> Response {
    let (caller, _held) = match admitted(&app, &headers).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let ceiling = app.config.attachment_max_bytes as usize;
    let too_big = || invalid(format!("file: at most {ceiling} bytes"));
    let mut case = None;
    let mut file: Option<(String, Vec<u8>)> = None;
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return too_big(),
            Err(e) => {
                return reject(ApiError::new(
                    Code::BadRequest,
                    format!("malformed multipart form: {}", e.body_text()),
                ));
            }
        };
        match field.name() {
            Some("case") => match field.text().await {
                Ok(t) => case = Some(t),
                Err(_) => return invalid("case: the id of a case"),
            },
            Some("file") => {
                let name = field.file_name().unwrap_or_default().to_owned();
                let mut field = field;
                let mut bytes = Vec::new();
                loop {
                    match field.chunk().await {
                        Ok(Some(c)) if bytes.len() + c.len() > ceiling => return too_big(),
                        Ok(Some(c)) => bytes.extend_from_slice(&c),
                        Ok(None) => break,
                        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                            return too_big();
                        }
                        Err(_) => {
                            return reject(ApiError::new(
                                Code::BadRequest,
                                "the file was cut short",
                            ));
                        }
                    }
                }
                file = Some((name, bytes));
            }
            Some(other) => {
                return invalid(format!("{other}: unknown field (case, file)"));
            }
            None => return invalid("every field of the form needs a name (case, file)"),
        }
    }
    let Some(case) = case.and_then(|c| c.trim().parse().ok()).map(CaseId) else {
        return invalid("case: the id of a case");
    };
    let Some((name, bytes)) = file else {
        return invalid("file: a file is required");
    };
    match uc::attach(&app.state, &caller, case, &name, bytes).await {
        Ok(a) => (
            StatusCode::CREATED,
            [(header::CONTENT_TYPE, "application/json")],
            json_of(&a).to_string(),
        )
            .into_response(),
        Err(e) => reject(e.into()),
    }
}

/// Characters a `filename*` value may carry as they are (RFC 8187 attr-char).
fn attr_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b)
}

/// `attachment`, with the name as plain ASCII and in full (RFC 6266).
fn disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if attr_char(b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// `GET /attachments/{id}`: the file, for whoever may read its case. Always a download,
/// never rendered in the platform's origin.
pub async fn download(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let (caller, _held) = match admitted(&app, &headers).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let Ok(id) = id.parse().map(AttachmentId) else {
        return reject(ApiError::new(Code::NotFound, "attachment not found"));
    };
    let (a, bytes) = match uc::download(&app.state, &caller, id).await {
        Ok(found) => found,
        Err(e) => return reject(e.into()),
    };
    let mut r = (StatusCode::OK, bytes).into_response();
    let h = r.headers_mut();
    for (name, value) in [
        (header::CONTENT_TYPE, a.media_type.clone()),
        (header::CONTENT_DISPOSITION, disposition(&a.file_name)),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff".into()),
        (header::CACHE_CONTROL, "private, no-store".into()),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; sandbox".into(),
        ),
        (header::ETAG, format!("\"{}\"", a.sha256)),
    ] {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(name, v);
        }
    }
    r
}

/// `GET /export/my-data.json` with a citizen's bearer token: everything every body holds about
/// them, streamed (the document `/schemas/personal-data-v1.json` describes).
pub async fn my_data(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let (caller, _held) = match admitted(&app, &headers).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    match civitas_crm::app::me::export_stream(&app.state, &caller).await {
        Ok(rx) => civitas_web::streamed_json("my-data.json", rx),
        Err(e) => reject(e.into()),
    }
}

/// `GET /schemas/personal-data-v1.json`: the JSON Schema of the export.
pub async fn personal_data_schema() -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/schema+json"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        civitas_crm::export_stream::SCHEMA,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_travels_whole_and_safe() {
        assert_eq!(
            disposition("certificato di nascita.pdf"),
            "attachment; filename=\"certificato di nascita.pdf\"; filename*=UTF-8''certificato%20di%20nascita.pdf"
        );
        assert_eq!(
            disposition("perché \"sì\".pdf"),
            "attachment; filename=\"perch_ _s__.pdf\"; filename*=UTF-8''perch%C3%A9%20%22s%C3%AC%22.pdf"
        );
    }
}
