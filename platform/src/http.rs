//! The HTTP shell: `POST /graphql`, GraphiQL, health and readiness.

use std::{sync::Arc, time::Instant};

use async_graphql::{ErrorExtensionValues, Response as GqlResponse, ServerError};
use axum::{
    Router,
    body::{Body, to_bytes},
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use civitas_graphql::{ApiError, Caller, Code};
use tracing::{Instrument, field::Empty};

use crate::app::App;
use crate::document::Inspected;
use crate::idempotency;
use crate::identity::{Refused, browser, sessions};

pub const TENANT_HEADER: &str = "x-civitas-tenant";
const REQUEST_ID_HEADER: &str = "x-request-id";
/// How long a RATE_LIMITED answer is held back (well within the Retry-After it carries).
const REFUSAL_PAUSE: std::time::Duration = std::time::Duration::from_millis(200);

pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/graphql", get(graphiql).post(graphql))
        .route("/graphql/ws", get(subscriptions))
        .route("/graphql/assets/{name}", get(graphiql_asset))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route(
            "/unsubscribe",
            get(crate::unsubscribe::confirm).post(crate::unsubscribe::apply),
        )
        .route(
            "/attachments",
            axum::routing::post(crate::files::upload).layer(axum::extract::DefaultBodyLimit::max(
                app.config.attachment_max_bytes as usize + 64 * 1024,
            )),
        )
        .route("/attachments/{id}", get(crate::files::download))
        .route("/receipts/jwks.json", get(receipt_keys))
        .route("/export/my-data.json", get(crate::files::my_data))
        .route(
            "/schemas/personal-data-v1.json",
            get(crate::files::personal_data_schema),
        )
        .route(
            "/branding/logo",
            axum::routing::put(crate::logo::put)
                .delete(crate::logo::delete)
                .layer(axum::extract::DefaultBodyLimit::max(
                    civitas_crm::branding::MAX_LOGO + 1,
                )),
        )
        .route("/auth/login", get(browser::login))
        .route("/auth/callback", get(browser::callback))
        .route("/auth/logout", get(browser::logout).post(browser::logout))
        .with_state(app.clone())
        .merge(crate::open311::router(app.clone()))
        .merge(crate::portal::router(app))
}

async fn graphiql(State(app): State<Arc<App>>) -> Response {
    if !app.config.dev {
        return (
            StatusCode::NOT_FOUND,
            "GraphiQL is enabled only in development (--dev); POST GraphQL requests here",
        )
            .into_response();
    }
    crate::graphiql::page().into_response()
}

async fn graphiql_asset(
    State(app): State<Arc<App>>,
    name: axum::extract::Path<String>,
) -> Response {
    if !app.config.dev {
        return StatusCode::NOT_FOUND.into_response();
    }
    crate::graphiql::asset(name).await
}

/// GraphQL subscriptions over WebSocket (graphql-transport-ws, and the older graphql-ws).
/// The `connection_init` payload carries `{"authorization": "Bearer …", "tenant": "slug"}`.
async fn subscriptions(
    State(app): State<Arc<App>>,
    protocol: async_graphql_axum::GraphQLProtocol,
    upgrade: axum::extract::ws::WebSocketUpgrade,
) -> Response {
    upgrade
        .protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| {
            let schema = app.schema.clone();
            async_graphql_axum::GraphQLWebSocket::new(socket, schema, protocol)
                .on_connection_init(
                    move |payload| async move { connection_data(&app, payload).await },
                )
                .serve()
        })
}

async fn connection_data(
    app: &App,
    payload: serde_json::Value,
) -> async_graphql::Result<async_graphql::Data> {
    let mut headers = HeaderMap::new();
    for (name, key) in [
        (header::AUTHORIZATION.as_str(), "authorization"),
        (TENANT_HEADER, "tenant"),
    ] {
        if let Some(v) = payload[key]
            .as_str()
            .and_then(|v| HeaderValue::from_str(v).ok())
        {
            headers.insert(name, v);
        }
    }
    let caller = identify(app, &headers)
        .await
        .map_err(|e| e.into_graphql())?;
    if caller.principal.is_none() {
        return Err(ApiError::new(
            Code::Unauthenticated,
            "send a bearer token in connection_init",
        )
        .into_graphql());
    }
    Ok(civitas_graphql::connection_data(&app.state, caller))
}

/// Prometheus exposition. Scrape it from inside the cluster; it names tenants.
async fn metrics(State(app): State<Arc<App>>) -> Response {
    let body = app.metrics.render(
        app.gate.stats(),
        app.db.pool_stats(),
        app.consents.hit_counts(),
    );
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

/// How long readiness waits for the database: a load balancer wants an answer, not a
/// connection attempt that hangs until its own timeout.
const READY_WAIT: std::time::Duration = std::time::Duration::from_millis(800);

async fn readyz(State(app): State<Arc<App>>) -> Response {
    match tokio::time::timeout(READY_WAIT, app.db.ping()).await {
        Ok(Ok(())) => (StatusCode::OK, "ready").into_response(),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "database not answering");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
        Err(_) => {
            tracing::warn!("database did not answer the readiness check in time");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

/// Whether the request's document or variables hold a NUL character. The raw body is
/// searched first, so a request without the escape costs one scan.
fn has_nul(bytes: &[u8], request: &async_graphql::Request) -> bool {
    fn in_value(v: &serde_json::Value) -> bool {
        match v {
            serde_json::Value::String(s) => s.contains('\0'),
            serde_json::Value::Array(a) => a.iter().any(in_value),
            serde_json::Value::Object(o) => o.iter().any(|(k, v)| k.contains('\0') || in_value(v)),
            _ => false,
        }
    }
    let escaped = bytes.windows(6).any(|w| w.eq_ignore_ascii_case(b"\\u0000"));
    if !escaped && !bytes.contains(&0) {
        return false;
    }
    request.query.contains('\0')
        || serde_json::to_value(&request.variables).is_ok_and(|v| in_value(&v))
}

fn request_id(headers: &HeaderMap) -> String {
    headers
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

async fn graphql(State(app): State<Arc<App>>, headers: HeaderMap, body: Body) -> Response {
    let rid = request_id(&headers);
    let span = tracing::info_span!("request", request_id = %rid, tenant = Empty, principal = Empty, operation = Empty);
    let started = Instant::now();
    let mut seen = Seen::default();
    let mut response = execute(&app, &headers, body, &span, &mut seen)
        .instrument(span.clone())
        .await;
    let status = response.status();
    let ok = seen.ok && status.is_success();
    app.metrics.observe_request(
        seen.operation.as_deref(),
        seen.tenant.as_deref(),
        ok,
        started.elapsed(),
    );
    span.in_scope(|| {
        tracing::info!(
            status = status.as_u16(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "graphql request"
        )
    });
    if let Ok(v) = HeaderValue::from_str(&rid) {
        response.headers_mut().insert(REQUEST_ID_HEADER, v);
    }
    response
}

/// What a request turned out to be, for the metrics.
#[derive(Default)]
struct Seen {
    operation: Option<String>,
    tenant: Option<String>,
    ok: bool,
}

async fn execute(
    app: &App,
    headers: &HeaderMap,
    body: Body,
    span: &tracing::Span,
    seen: &mut Seen,
) -> Response {
    let caller = match identify(app, headers).await {
        Ok(c) => c,
        Err(e) => return reject(e),
    };
    // Held until the response is ready: one of the tenant's (or the public's) places in
    // flight.
    let _permit = match admit(app, &caller).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    // The body is read and parsed only for a caller the limits let through: a refusal costs
    // a cached token look-up, no parsing, and a bad token no body buffering.
    let bytes = match to_bytes(body, app.config.body_limit_bytes).await {
        Ok(b) => b,
        Err(_) => {
            return reject(ApiError::new(
                Code::PayloadTooLarge,
                format!("request body exceeds {} bytes", app.config.body_limit_bytes),
            ));
        }
    };
    let mut request: async_graphql::Request = match serde_json::from_slice(&bytes) {
        Ok(r) => r,
        Err(e) => {
            return reject(ApiError::new(
                Code::BadRequest,
                format!("malformed GraphQL request: {e}"),
            ));
        }
    };
    if has_nul(&bytes, &request) {
        // PostgreSQL cannot store NUL in text (SQLite would): refused alike on both.
        return reject(ApiError::new(
            Code::Validation,
            "text may not contain the NUL character",
        ));
    }
    let doc = Inspected::of_request(&mut request, &app.documents);
    seen.operation = doc.operation.clone();
    if let Some(op) = &seen.operation {
        span.record("operation", op.as_str());
    }
    if doc.aliases > app.config.graphql_max_aliases {
        return reject(ApiError::new(
            Code::GraphqlValidation,
            format!(
                "at most {} aliases per document",
                app.config.graphql_max_aliases
            ),
        ));
    }
    // After the tenant's limits, so that a flood refused there never queues ahead of others.
    let _place = match enter(app).await {
        Ok(place) => place,
        Err(r) => return r,
    };
    if let Some(p) = &caller.principal {
        span.record("principal", p.subject.as_str());
    }
    if let Some(t) = &caller.tenant {
        span.record("tenant", t.tenant.slug.as_str());
        seen.tenant = Some(t.tenant.slug.to_string());
    }
    let key = match headers.get(idempotency::HEADER) {
        Some(v) => match v.to_str().ok().filter(|k| idempotency::valid_key(k)) {
            Some(k) => Some(k.to_owned()),
            None => {
                return reject(ApiError::new(
                    Code::BadRequest,
                    "Idempotency-Key must be 1 to 200 visible characters",
                ));
            }
        },
        None => None,
    };
    // Keys apply to mutations made in a tenant; anything else simply runs.
    let keyed = match (&key, &caller.tenant) {
        (Some(k), Some(tc)) if doc.mutation => Some((k.clone(), tc.clone())),
        _ => None,
    };
    let mut held = None;
    if let Some((k, tc)) = &keyed {
        match idempotency::claim(&app.db, tc, k, &idempotency::hash(&bytes)).await {
            Ok(idempotency::Claim::Run) => held = Some(idempotency::Held::new(&app.db, tc, k)),
            Ok(idempotency::Claim::Replay(stored, checks)) => {
                // The answer may hold what only those permissions show (a webhook's
                // secret): the caller must hold them still.
                match caller.still_granted(&app.state, &checks).await {
                    Ok(true) => {}
                    Ok(false) => return reject(ApiError::forbidden()),
                    Err(e) => return reject(e.into()),
                }
                let mut r = (
                    StatusCode::OK,
                    [(header::CONTENT_TYPE, "application/json")],
                    stored.to_string(),
                )
                    .into_response();
                r.headers_mut()
                    .insert("idempotent-replayed", HeaderValue::from_static("true"));
                return r;
            }
            Ok(idempotency::Claim::InProgress) => {
                return reject(ApiError::new(
                    Code::Conflict,
                    "a request with this Idempotency-Key is in progress",
                ));
            }
            Ok(idempotency::Claim::Mismatch) => {
                return reject(ApiError::new(
                    Code::Conflict,
                    "this Idempotency-Key was used for a different request",
                ));
            }
            Err(e) => return reject(ApiError::internal(&e)),
        }
    }
    let granted = caller.granted.clone();
    let request = civitas_graphql::prepare(request, &app.state, caller);
    let mut resp = app.schema.execute(request).await;
    label_uncoded_errors(&mut resp);
    if let Some(held) = held {
        // Only a complete success is remembered: a failed mutation wrote nothing, and the
        // client may fix and retry it under the same key.
        let success = match resp.errors.is_empty() {
            true => serde_json::to_value(&resp)
                .ok()
                .map(|v| (v, granted.list())),
            false => None,
        };
        held.finish(success).await;
    }
    seen.ok = resp.errors.is_empty();
    json_response(StatusCode::OK, &resp)
}

/// One of the places in flight of the caller's tenant (or of the public), under its rate
/// limits; the refusal, held back a moment, when there is none.
pub(crate) async fn admit(
    app: &App,
    caller: &Caller,
) -> Result<tokio::sync::OwnedSemaphorePermit, Response> {
    let admitted = match &caller.tenant {
        Some(tc) => app.limiter.admit(tc),
        None => app.limiter.admit_public(caller.principal.as_ref()),
    };
    match admitted {
        Ok(p) => Ok(p),
        Err(l) => {
            tracing::info!(limit = l.what, "request rate-limited");
            let r = refuse(
                ApiError::new(
                    Code::RateLimited,
                    format!("too many requests ({} limit); retry later", l.what),
                ),
                &l,
            );
            // A client that retries at once, ignoring Retry-After, would otherwise turn
            // the refusals themselves into load on the cores other bodies share; a pause
            // costs a timer, not CPU.
            tokio::time::sleep(REFUSAL_PAUSE).await;
            Err(r)
        }
    }
}

/// One of the server's places, after the tenant's limits, so that a flood refused there
/// never queues ahead of others.
pub(crate) async fn enter(
    app: &App,
) -> Result<Option<tokio::sync::OwnedSemaphorePermit>, Response> {
    app.gate.enter().await.map_err(|l| {
        tracing::warn!(limit = l.what, "no place to serve the request in time");
        refuse(
            ApiError::new(Code::Overloaded, "the server is busy; retry later"),
            &l,
        )
    })
}

/// The principal behind the bearer token (if any) and the tenant it acts in.
pub(crate) async fn identify(app: &App, headers: &HeaderMap) -> Result<Caller, ApiError> {
    let unauthenticated = |m: &str| ApiError::new(Code::Unauthenticated, m);
    let (principal, expires_at) = match headers.get(header::AUTHORIZATION) {
        Some(auth) => {
            let token = auth
                .to_str()
                .ok()
                .and_then(|v| {
                    v.strip_prefix("Bearer ")
                        .or_else(|| v.strip_prefix("bearer "))
                })
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .ok_or_else(|| {
                    unauthenticated("the Authorization header must be 'Bearer <token>'")
                })?;
            app.auth.bearer(token).await.map_err(|Refused(why)| {
                tracing::info!(reason = %why, "token refused");
                unauthenticated("invalid or expired token")
            })?
        }
        None => match sessions::cookie(headers, sessions::COOKIE) {
            Some(token) => sessions::principal(&app.db, token)
                .await
                .map_err(|e| ApiError::internal(&e))?
                // What the session allows ends with it (a live stream too).
                .map(|(p, expires)| (p, Some(expires)))
                .ok_or_else(|| unauthenticated("the session has ended; sign in again"))?,
            None => return Ok(Caller::default()),
        },
    };
    let requested = match headers.get(TENANT_HEADER) {
        Some(v) => Some(
            v.to_str()
                .map_err(|_| ApiError::new(Code::BadRequest, "X-Civitas-Tenant is not text"))?,
        ),
        None => None,
    };
    civitas_graphql::identify(&app.state, Some(principal), requested)
        .await
        .map(|c| Caller { expires_at, ..c })
        .map_err(ApiError::from)
}

/// Parse and validation errors come from async-graphql without a code; give them one so
/// that every error a client sees has `extensions.code`.
fn label_uncoded_errors(resp: &mut GqlResponse) {
    for e in &mut resp.errors {
        let ext = e
            .extensions
            .get_or_insert_with(ErrorExtensionValues::default);
        if ext.get("code").is_none() {
            ext.set("code", Code::GraphqlValidation.as_str());
        }
    }
}

/// A refusal by a limit, with the `Retry-After` (whole seconds, at least one) it calls for.
pub(crate) fn refuse(e: ApiError, limit: &crate::limits::Limited) -> Response {
    let mut r = reject(e);
    let secs = limit.retry_after.as_secs().max(1).to_string();
    if let Ok(v) = HeaderValue::from_str(&secs) {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

/// A refusal before GraphQL runs, with the status its code maps to.
pub(crate) fn reject(e: ApiError) -> Response {
    let status =
        StatusCode::from_u16(e.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut err = ServerError::new(e.message, None);
    let mut ext = ErrorExtensionValues::default();
    ext.set("code", e.code.as_str());
    err.extensions = Some(ext);
    json_response(status, &GqlResponse::from_errors(vec![err]))
}

fn json_response(status: StatusCode, resp: &GqlResponse) -> Response {
    match serde_json::to_vec(resp) {
        Ok(body) => (status, [(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "serialising a GraphQL response");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// The key set that verifies consent receipts (RFC 7517).
async fn receipt_keys(State(app): State<Arc<App>>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/jwk-set+json"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        app.state.receipts.jwks().to_string(),
    )
        .into_response()
}
