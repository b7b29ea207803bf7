//! Open311 GeoReport v2 (<http://wiki.open311.org/GeoReport_v2>) under `/open311/v2/`, with
//! `jurisdiction_id` the body's slug, and its discovery document. Each handler reads the
//! spec's parameters, calls one use case of `civitas_crm::app::open311` and writes the
//! answer in the format the path names (`.json` or `.xml`).

mod render;

use std::sync::Arc;

use axum::{
    Router,
    body::Bytes,
    extract::{DefaultBodyLimit, Path, RawQuery, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use chrono::{DateTime, SecondsFormat, Utc};
use civitas_crm::app::open311::{
    self as use_case, Offered, PublicReport, Report, ReportQuery, Reporter,
};
use civitas_crm::catalogue::{self, FieldType};
use civitas_graphql::Grant;
use civitas_graphql::{ApiError, Code};
use civitas_policies::Permission;
use civitas_tenants::Tenant;

use crate::app::App;
use crate::idempotency;
use render::{Format, Node, error, respond};

/// A report's form without its picture (which the body's attachment limit bounds).
const MAX_BODY: usize = 64 * 1024;

pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/open311/discovery.json", get(discovery))
        .route("/open311/v2/{file}", get(list).post(post_request))
        .route("/open311/v2/services/{file}", get(service_definition))
        .route("/open311/v2/requests/{file}", get(one_request))
        .route("/open311/v2/tokens/{file}", get(token))
        .route("/open311/v2/media/{id}", get(media))
        .layer(DefaultBodyLimit::max(
            MAX_BODY + app.config.attachment_max_bytes as usize,
        ))
        .with_state(app)
}

type Params = Vec<(String, String)>;

fn params(raw: Option<&str>) -> Result<Params, String> {
    serde_urlencoded::from_str(raw.unwrap_or_default())
        .map_err(|_| "the query string is not valid form encoding".to_owned())
}

fn params_of(form: &str) -> Result<Params, String> {
    serde_urlencoded::from_str(form).map_err(|_| "the form is not valid form encoding".to_owned())
}

fn param<'a>(p: &'a Params, name: &str) -> Option<&'a str> {
    p.iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.trim().is_empty())
}

fn datetime(d: DateTime<Utc>) -> Node {
    Node::text(d.to_rfc3339_opts(SecondsFormat::Secs, true))
}

/// The spec's status for a domain refusal: 400 bad input, 403 a bad or missing key, 404
/// an unknown service or request; a fault is logged and told as 500.
fn refusal_of(e: civitas_crm::Error) -> (StatusCode, String) {
    let api = ApiError::from(e);
    let status = match api.code {
        Code::Unauthenticated | Code::Forbidden | Code::TenantSuspended => StatusCode::FORBIDDEN,
        code => {
            StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
        }
    };
    (status, api.message)
}

fn refusal(format: Format, e: civitas_crm::Error) -> Response {
    let (status, m) = refusal_of(e);
    error(status, format, &m)
}

/// A refusal before any use case runs, in the spec's error shape.
struct Refused {
    status: StatusCode,
    format: Format,
    message: String,
    retry_after: Option<u64>,
}

impl Refused {
    fn new(status: StatusCode, format: Format, message: impl Into<String>) -> Self {
        Refused {
            status,
            format,
            message: message.into(),
            retry_after: None,
        }
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        let mut r = error(self.status, self.format, &self.message);
        if let Some(secs) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.max(1).to_string())
        {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        r
    }
}

/// A call that passed the spec's checks: what it asks for, in which format, with which
/// parameters, of which jurisdiction; it holds its place under the limits.
struct Call {
    stem: String,
    format: Format,
    params: Params,
    slug: String,
    body: Tenant,
    /// The picture a report's multipart form carried.
    media: Option<(String, Vec<u8>)>,
    _held: Box<dyn Send>,
}

/// The checks every call goes through: a known resource and format; a place among the
/// public's requests (Open311 callers share the anonymous bucket: a key is only known
/// once checked); the query string (and a POST's form, which wins); an active
/// jurisdiction, told as not found otherwise.
async fn begin(
    app: &App,
    file: &str,
    expected: Option<&str>,
    raw: Option<&str>,
    form: Option<(&HeaderMap, &Bytes)>,
) -> Result<Call, Refused> {
    let not_found = || Refused::new(StatusCode::NOT_FOUND, Format::Json, "no such resource");
    let (stem, format) = Format::split(file).ok_or_else(not_found)?;
    if expected.is_some_and(|e| e != stem) {
        return Err(not_found());
    }
    let refuse = |status, m: String| Refused::new(status, format, m);
    let permit = app.limiter.admit_public(None).map_err(|l| Refused {
        retry_after: Some(l.retry_after.as_secs()),
        ..refuse(
            StatusCode::TOO_MANY_REQUESTS,
            format!("too many requests ({}); retry later", l.what),
        )
    })?;
    let place = app.gate.enter().await.map_err(|_| Refused {
        retry_after: Some(1),
        ..refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "the server is busy; retry later".into(),
        )
    })?;
    let mut params = params(raw).map_err(|m| refuse(StatusCode::BAD_REQUEST, m))?;
    let mut media = None;
    if let Some((headers, body)) = form {
        let (mut fields, file) = form_fields(headers, body)
            .await
            .map_err(|m| refuse(StatusCode::BAD_REQUEST, m))?;
        params.append(&mut fields);
        media = file;
    }
    let slug = param(&params, "jurisdiction_id")
        .map(str::to_owned)
        .ok_or_else(|| {
            refuse(
                StatusCode::BAD_REQUEST,
                "jurisdiction_id is required: the slug of the body (see /open311/discovery.json)"
                    .into(),
            )
        })?;
    let body = match use_case::jurisdiction(&app.state, &slug).await {
        Ok(b) => b,
        Err(e) => {
            return Err(match e {
                civitas_crm::Error::Validation(_) | civitas_crm::Error::Tenancy(_) => refuse(
                    StatusCode::NOT_FOUND,
                    format!("jurisdiction_id {slug} not found"),
                ),
                other => {
                    let (status, m) = refusal_of(other);
                    refuse(status, m)
                }
            });
        }
    };
    Ok(Call {
        stem: stem.to_owned(),
        format,
        params,
        slug,
        body,
        media,
        _held: Box::new((permit, place)),
    })
}

/// The fields of a report's form, and the picture a multipart form carries as `media`
/// (as FixMyStreet's apps send it).
async fn form_fields(
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<(Params, Option<(String, Vec<u8>)>), String> {
    let kind = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/x-www-form-urlencoded");
    if kind.starts_with("application/x-www-form-urlencoded") {
        let text = std::str::from_utf8(body).map_err(|_| "the form is not UTF-8".to_owned())?;
        return Ok((params_of(text)?, None));
    }
    let boundary = multer::parse_boundary(kind).map_err(|_| {
        "send the report as application/x-www-form-urlencoded or multipart/form-data".to_owned()
    })?;
    let bytes = body.clone();
    let stream = futures::stream::once(async move { Ok::<_, std::convert::Infallible>(bytes) });
    let mut parts = multer::Multipart::new(stream, boundary);
    let (mut fields, mut media) = (Params::new(), None);
    let bad = |_| "the multipart form is malformed".to_owned();
    while let Some(part) = parts.next_field().await.map_err(bad)? {
        let name = part.name().unwrap_or_default().to_owned();
        if name == "media" {
            let file = part.file_name().unwrap_or("media").to_owned();
            media = Some((file, part.bytes().await.map_err(bad)?.to_vec()));
        } else {
            fields.push((name, part.text().await.map_err(bad)?));
        }
    }
    Ok((fields, media))
}

fn datatype(kind: FieldType) -> &'static str {
    match kind {
        FieldType::String => "string",
        FieldType::Text => "text",
        FieldType::Number => "number",
        FieldType::Datetime => "datetime",
        FieldType::Select => "singlevaluelist",
        FieldType::MultiSelect => "multivaluelist",
    }
}

fn service_node(o: &Offered) -> Node {
    let s = &o.service;
    Node::Object(vec![
        ("service_code", Node::text(&s.code)),
        ("service_name", Node::text(&s.name)),
        ("description", Node::text(&s.description)),
        ("metadata", Node::Bool(!catalogue::field_defs(s).is_empty())),
        ("type", Node::text("realtime")),
        ("keywords", Node::Text(None)),
        ("group", Node::text(&s.area)),
    ])
}

fn definition_node(o: &Offered) -> Node {
    let attributes = catalogue::field_defs(&o.service)
        .into_iter()
        .enumerate()
        .map(|(i, d)| {
            let values = d
                .options
                .iter()
                .map(|v| Node::Object(vec![("key", Node::text(v)), ("name", Node::text(v))]))
                .collect();
            Node::Object(vec![
                ("variable", Node::Bool(true)),
                ("code", Node::text(&d.key)),
                ("datatype", Node::text(datatype(d.kind))),
                ("required", Node::Bool(d.required)),
                ("datatype_description", Node::Text(None)),
                ("order", Node::Number(i as f64 + 1.0)),
                ("description", Node::text(&d.label)),
                ("values", Node::List("value", values)),
            ])
        })
        .collect();
    Node::Object(vec![
        ("service_code", Node::text(&o.service.code)),
        ("attributes", Node::List("attribute", attributes)),
    ])
}

fn request_node(r: &PublicReport, base: &str) -> Node {
    let media = r
        .media_attachment
        .map(|id| format!("{base}/open311/v2/media/{id}"))
        .or_else(|| r.media_url.clone());
    let coordinate = |v: Option<f64>| v.map(Node::Number).unwrap_or(Node::Text(None));
    Node::Object(vec![
        ("service_request_id", Node::text(r.id.to_string())),
        ("status", Node::text(if r.open { "open" } else { "closed" })),
        ("status_notes", Node::maybe(r.status_notes.clone())),
        ("service_name", Node::text(&r.service_name)),
        ("service_code", Node::text(&r.service_code)),
        ("description", Node::text(&r.description)),
        ("agency_responsible", Node::text(&r.agency)),
        ("service_notice", Node::Text(None)),
        ("requested_datetime", datetime(r.requested_at)),
        ("updated_datetime", datetime(r.updated_at)),
        ("expected_datetime", datetime(r.expected_at)),
        (
            "address",
            Node::maybe(r.place.as_ref().and_then(|p| p.address.clone())),
        ),
        ("address_id", Node::Text(None)),
        ("zipcode", Node::Text(None)),
        ("lat", coordinate(r.place.as_ref().map(|p| p.latitude))),
        ("long", coordinate(r.place.as_ref().map(|p| p.longitude))),
        ("media_url", Node::maybe(media)),
    ])
}

/// `GET services.{fmt}` and `GET requests.{fmt}`.
async fn list(
    State(app): State<Arc<App>>,
    Path(file): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let base = base_url(&app, &headers);
    let call = match begin(&app, &file, None, raw.as_deref(), None).await {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    let format = call.format;
    match call.stem.as_str() {
        "services" => match use_case::services(&app.state, &call.slug).await {
            Ok(found) => respond(
                StatusCode::OK,
                format,
                "services",
                &Node::List("service", found.iter().map(service_node).collect()),
            ),
            Err(e) => refusal(format, e),
        },
        "requests" => {
            let q = match report_query(&call.params) {
                Ok(q) => q,
                Err(m) => return error(StatusCode::BAD_REQUEST, format, &m),
            };
            match use_case::reports(&app.state, &call.slug, q).await {
                Ok(found) => respond(
                    StatusCode::OK,
                    format,
                    "service_requests",
                    &Node::List(
                        "request",
                        found.iter().map(|r| request_node(r, &base)).collect(),
                    ),
                ),
                Err(e) => refusal(format, e),
            }
        }
        _ => error(StatusCode::NOT_FOUND, format, "no such resource"),
    }
}

fn w3c(name: &str, v: Option<&str>) -> Result<Option<DateTime<Utc>>, String> {
    v.map(|s| {
        DateTime::parse_from_rfc3339(s.trim())
            .map(|d| d.with_timezone(&Utc))
            .map_err(|_| format!("{name} must be a W3C datetime, such as 2026-12-01T00:00:00Z"))
    })
    .transpose()
}

fn number(name: &str, v: Option<&str>) -> Result<Option<f64>, String> {
    v.map(|s| {
        s.trim()
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .ok_or_else(|| format!("{name} must be a number, not {s:?}"))
    })
    .transpose()
}

fn list_param(p: &Params, name: &str) -> Vec<String> {
    p.iter()
        .filter(|(k, _)| k == name)
        .flat_map(|(_, v)| v.split(','))
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

fn report_query(p: &Params) -> Result<ReportQuery, String> {
    let ids = list_param(p, "service_request_id")
        .iter()
        .map(|s| {
            uuid::Uuid::parse_str(s)
                .map_err(|_| format!("service_request_id {s:?} is not one of ours"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let start = w3c("start_date", param(p, "start_date"))?;
    let end = w3c("end_date", param(p, "end_date"))?;
    if let (Some(s), Some(e)) = (start, end)
        && (e < s || e - s > chrono::Duration::days(90))
    {
        return Err("end_date must follow start_date by at most 90 days".into());
    }
    let statuses = list_param(p, "status")
        .iter()
        .map(|s| use_case::status_word(s).map_err(|e| e.to_string()))
        .collect::<Result<Vec<bool>, _>>()?;
    let open = match (statuses.contains(&true), statuses.contains(&false)) {
        (true, false) => Some(true),
        (false, true) => Some(false),
        _ => None,
    };
    let lat = number("lat", param(p, "lat"))?;
    let long = number("long", param(p, "long"))?;
    let radius = number("radius", param(p, "radius"))?.unwrap_or(1_000.0);
    if !(1.0..=use_case::MAX_RADIUS_M).contains(&radius) {
        return Err(format!(
            "radius must be from 1 to {} metres",
            use_case::MAX_RADIUS_M
        ));
    }
    let near = match (lat, long) {
        (Some(la), Some(lo)) => {
            let (la, lo) = civitas_crm::places::coordinates(la, lo).map_err(|e| e.to_string())?;
            Some((la, lo, radius))
        }
        (None, None) => None,
        _ => return Err("lat and long come together".into()),
    };
    Ok(ReportQuery {
        ids,
        service_codes: list_param(p, "service_code"),
        start,
        end,
        open,
        near,
    })
}

/// `GET services/{code}.{fmt}`: the service's attributes.
async fn service_definition(
    State(app): State<Arc<App>>,
    Path(file): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let call = match begin(&app, &file, None, raw.as_deref(), None).await {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    let (code, format, slug) = (&call.stem, call.format, &call.slug);
    match use_case::service(&app.state, slug, code).await {
        Ok(o) => respond(
            StatusCode::OK,
            format,
            "service_definition",
            &definition_node(&o),
        ),
        Err(civitas_crm::Error::NotFound(_)) => error(
            StatusCode::NOT_FOUND,
            format,
            &format!("service_code {code} not found in jurisdiction {slug}"),
        ),
        Err(e) => refusal(format, e),
    }
}

/// `GET requests/{id}.{fmt}`.
async fn one_request(
    State(app): State<Arc<App>>,
    Path(file): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let base = base_url(&app, &headers);
    by_id(app, file, raw, false, base).await
}

/// `GET tokens/{token}.{fmt}`: reports are taken at once, so a token is the request's id.
async fn token(
    State(app): State<Arc<App>>,
    Path(file): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    by_id(app, file, raw, true, String::new()).await
}

async fn by_id(
    app: Arc<App>,
    file: String,
    raw: Option<String>,
    token: bool,
    base: String,
) -> Response {
    let call = match begin(&app, &file, None, raw.as_deref(), None).await {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    let (id, format) = (&call.stem, call.format);
    let what = if token { "token" } else { "service_request_id" };
    let not_found = || {
        error(
            StatusCode::NOT_FOUND,
            format,
            &format!("{what} {id} not found"),
        )
    };
    let Ok(uuid) = uuid::Uuid::parse_str(id) else {
        return not_found();
    };
    match use_case::report(&app.state, &call.slug, uuid).await {
        Ok(r) if token => respond(
            StatusCode::OK,
            format,
            "service_requests",
            &Node::List(
                "request",
                vec![Node::Object(vec![
                    ("service_request_id", Node::text(r.id.to_string())),
                    ("token", Node::text(id.clone())),
                ])],
            ),
        ),
        Ok(r) => respond(
            StatusCode::OK,
            format,
            "service_requests",
            &Node::List("request", vec![request_node(&r, &base)]),
        ),
        Err(civitas_crm::Error::NotFound(_)) => not_found(),
        Err(e) => refusal(format, e),
    }
}

/// The report's fields: the query string's and the form body's (the body wins).
fn report_of(p: &Params) -> Result<Report, String> {
    let mut attributes: Vec<(String, Vec<String>)> = vec![];
    for (k, v) in p {
        let Some(rest) = k.strip_prefix("attribute[") else {
            continue;
        };
        let code = rest
            .strip_suffix("][]")
            .or_else(|| rest.strip_suffix(']'))
            .filter(|c| !c.is_empty() && !c.contains(['[', ']']))
            .ok_or_else(|| format!("{k} is not an attribute[code] parameter"))?;
        match attributes.iter_mut().find(|(c, _)| c == code) {
            Some((_, vs)) => vs.push(v.clone()),
            None => attributes.push((code.to_owned(), vec![v.clone()])),
        }
    }
    Ok(Report {
        service_code: param(p, "service_code")
            .map(str::to_owned)
            .ok_or("service_code is required")?,
        latitude: number("lat", param(p, "lat"))?,
        longitude: number("long", param(p, "long"))?,
        address: param(p, "address_string").map(str::to_owned),
        description: param(p, "description").unwrap_or_default().to_owned(),
        media_url: param(p, "media_url").map(str::to_owned),
        attributes,
        media: None,
    })
}

/// `POST requests.{fmt}`: a report, with the body's `api_key` or anonymously where the
/// body allows it.
async fn post_request(
    State(app): State<Arc<App>>,
    Path(file): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    form: Bytes,
) -> Response {
    let framed = Some((&headers, &form));
    let mut call = match begin(&app, &file, Some("requests"), raw.as_deref(), framed).await {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    let (format, slug) = (call.format, &call.slug);
    let mut report = match report_of(&call.params) {
        Ok(r) => r,
        Err(m) => return error(StatusCode::BAD_REQUEST, format, &m),
    };
    let media = call.media.take();
    // What the report says, whatever the form's encoding (a multipart boundary differs on
    // every retry).
    let said = format!(
        "{}|{}",
        serde_urlencoded::to_string(&call.params).unwrap_or_default(),
        media
            .as_ref()
            .map(|(n, b)| format!("{n}:{}", idempotency::hash(b)))
            .unwrap_or_default()
    );
    report.media = media;
    let reporter =
        match use_case::reporter(&app.state, &call.body, param(&call.params, "api_key")).await {
            Ok(r) => r,
            Err(e) => return refusal(format, e),
        };
    // A keyed report with an Idempotency-Key is taken once: a retry gets the first answer.
    let key = match headers.get(idempotency::HEADER) {
        Some(v) => match v.to_str().ok().filter(|k| idempotency::valid_key(k)) {
            Some(k) => Some(k.to_owned()),
            None => {
                let m = "Idempotency-Key must be 1 to 200 visible characters";
                return error(StatusCode::BAD_REQUEST, format, m);
            }
        },
        None => None,
    };
    let keyed = match (&key, &reporter) {
        (Some(k), Reporter::Key(c)) => c.tenant.clone().map(|tc| (k.clone(), tc)),
        _ => None,
    };
    let mut held = None;
    if let Some((k, tc)) = &keyed {
        let digest = idempotency::hash(said.as_bytes());
        match idempotency::claim(&app.db, tc, k, &digest).await {
            Ok(idempotency::Claim::Run) => held = Some(idempotency::Held::new(&app.db, tc, k)),
            Ok(idempotency::Claim::Replay(stored, _)) => {
                let mut r = taken(format, &stored);
                r.headers_mut()
                    .insert("idempotent-replayed", HeaderValue::from_static("true"));
                return r;
            }
            Ok(idempotency::Claim::InProgress) => {
                let m = "a report with this Idempotency-Key is in progress";
                return error(StatusCode::CONFLICT, format, m);
            }
            Ok(idempotency::Claim::Mismatch) => {
                let m = "this Idempotency-Key was used for a different report";
                return error(StatusCode::CONFLICT, format, m);
            }
            Err(e) => return refusal(format, civitas_crm::Error::from(e)),
        }
    }
    let code = report.service_code.clone();
    let done = use_case::submit(&app.state, &call.body, &reporter, report).await;
    let answer = done.as_ref().ok().map(|done| {
        serde_json::json!({
            "service_request_id": done.case.id.to_string(),
            "service_notice": format!(
                "{} {}: {}",
                done.body.display_name, done.case.number, done.decision.explanation
            ),
        })
    });
    if let Some(held) = held {
        let grants = vec![Grant::from(Permission::CaseCreate)];
        held.finish(answer.clone().map(|a| (a, grants))).await;
    }
    match (done, answer) {
        (Ok(done), Some(answer)) => {
            tracing::info!(jurisdiction = %slug, body = %done.body.slug, case = %done.case.id,
                reason = ?done.decision.reason, "open311 report taken");
            taken(format, &answer)
        }
        (Err(civitas_crm::Error::NotFound("service")), _) => error(
            StatusCode::NOT_FOUND,
            format,
            &format!("service_code {code} not found in jurisdiction {slug}"),
        ),
        (Err(e), _) => refusal(format, e),
        (Ok(_), None) => error(StatusCode::INTERNAL_SERVER_ERROR, format, "internal error"),
    }
}

/// The answer to a report taken: its id and who took it.
fn taken(format: Format, answer: &serde_json::Value) -> Response {
    let text = |k: &str| Node::maybe(answer[k].as_str().map(str::to_owned));
    respond(
        StatusCode::CREATED,
        format,
        "service_requests",
        &Node::List(
            "request",
            vec![Node::Object(vec![
                ("service_request_id", text("service_request_id")),
                ("service_notice", text("service_notice")),
                ("account_id", Node::Text(None)),
            ])],
        ),
    )
}

/// Where callers reach this server: the configured public URL, else the Host they used.
fn base_url(app: &App, headers: &HeaderMap) -> String {
    app.state.public_url.clone().unwrap_or_else(|| {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .filter(|h| {
                h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
            })
            .unwrap_or("localhost");
        format!("http://{host}")
    })
}

/// `GET media/{id}`: the picture uploaded with a published report.
async fn media(State(app): State<Arc<App>>, Path(id): Path<String>) -> Response {
    let not_found = || error(StatusCode::NOT_FOUND, Format::Json, "media not found");
    let Ok(id) = uuid::Uuid::parse_str(&id) else {
        return not_found();
    };
    let (a, bytes) = match use_case::media(&app.state, id).await {
        Ok(found) => found,
        Err(civitas_crm::Error::NotFound(_)) => return not_found(),
        Err(e) => return refusal(Format::Json, e),
    };
    let mut r = (StatusCode::OK, bytes).into_response();
    let h = r.headers_mut();
    for (name, value) in [
        (header::CONTENT_TYPE, a.media_type.clone()),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff".into()),
        (header::CACHE_CONTROL, "public, max-age=300".into()),
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

/// `GET /open311/discovery.json`: where the endpoint is and what it speaks.
async fn discovery(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let base = base_url(&app, &headers);
    let doc = serde_json::json!({
        "changeset": "2026-12-01T00:00:00Z",
        "contact": "The body named by jurisdiction_id; each body publishes its own contacts",
        "key_service": "A body's tenant administrators issue keys (GraphQL issueApiKey)",
        "endpoints": [{
            "specification": "http://wiki.open311.org/GeoReport_v2",
            "url": format!("{base}/open311/v2"),
            "changeset": "2026-12-01T00:00:00Z",
            "type": "production",
            "formats": ["application/json", "text/xml"],
        }],
    });
    (
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        doc.to_string(),
    )
        .into_response()
}
