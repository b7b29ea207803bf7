//! The server-rendered web front end: MY RHOME, the citizens' portal. An adapter over the
//! same use cases as GraphQL (`civitas_crm::app`): a handler reads the form, calls one use
//! case and renders the result; it never checks a permission or opens a scope.
//!
//! Pages are HTML rendered on the server (minijinja templates, Bootstrap Italia), usable
//! without JavaScript; htmx and its SSE extension only add live updates. Every string comes
//! from the Fluent catalogues in `locales/`.

mod assets;
mod brand;
mod forms;
mod i18n;
mod pages;
mod posted;
mod views;
mod visit;

use std::sync::Arc;

use axum::Router;
use axum::http::HeaderMap;
use civitas_crm::app::{App, Caller};

pub use assets::Assets;
pub use i18n::Lang;
pub use visit::{SESSION_COOKIE, cookie, random_token, safe_return_to};

/// What the portal needs from the server that hosts it: who the browser is (its session
/// cookie, under the server's limits) and the sign-in and sign-out it offers.
#[async_trait::async_trait]
pub trait Host: Send + Sync + 'static {
    /// The caller behind the request's session cookie (an anonymous caller without one),
    /// admitted under the server's limits; what `Admitted::held` keeps is released when the
    /// page is done.
    async fn admit(&self, headers: &HeaderMap) -> Result<Admitted, Refusal>;
    /// Whether an OpenID Connect provider is set up for citizens' browser sign-in
    /// (`/auth/login`).
    fn browser_sign_in(&self) -> bool;
    /// Development only (`--dev`): starts a session for the citizen with this codice
    /// fiscale, as if SPID had vouched for it. `None` outside development.
    async fn dev_session(&self, fiscal_code: &str, name: &str) -> Option<Session>;
    /// Development only: the demo citizens to offer on the sign-in page, `(codice fiscale,
    /// name)`.
    fn dev_citizens(&self) -> Vec<(String, String)>;
    /// Ends the session with this token (sign-out).
    async fn end_session(&self, token: &str);
    /// Whether the session with this token is still live (not signed out, not expired).
    async fn session_live(&self, token: &str) -> bool;
}

/// A session the host started: the token for the cookie, and how long it lasts.
pub struct Session {
    pub token: String,
    pub seconds: i64,
}

pub struct Admitted {
    pub caller: Caller,
    /// The places in flight this request holds, released when it is dropped.
    pub held: Box<dyn Send + Sync>,
}

/// Why a page cannot be served to this browser.
pub enum Refusal {
    /// The session cookie names a session that has ended.
    SessionEnded,
    /// Too many requests; retry after this many seconds.
    Busy(u64),
    /// Logged by the host.
    Internal,
}

/// How the portal is set up.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The name shown in the header (the deployment's: "Roma Capitale").
    pub site_name: String,
    /// Cookies are `Secure` and HSTS is sent (the public URL is https).
    pub https: bool,
    /// The development sign-in is offered.
    pub dev: bool,
    /// The body (slug) whose logo and colour the portal wears.
    pub body: Option<String>,
}

/// The portal: the use cases, the host, and what renders pages.
pub struct Portal {
    pub(crate) app: App,
    pub(crate) host: Arc<dyn Host>,
    pub(crate) settings: Settings,
    pub(crate) assets: &'static Assets,
    pub(crate) views: views::Views,
}

impl Portal {
    pub fn new(
        app: App,
        host: Arc<dyn Host>,
        settings: Settings,
    ) -> Result<Self, minijinja::Error> {
        let assets = Assets::shared();
        let views = views::Views::new(assets)?;
        Ok(Portal {
            app,
            host,
            settings,
            assets,
            views,
        })
    }
}

/// The portal's routes (`/`, `/requests`…, and its static assets under `/static`).
/// A JSON download written as it is produced: the chunks of `rx`, then the end.
pub fn streamed_json(
    name: &str,
    rx: tokio::sync::mpsc::Receiver<bytes::Bytes>,
) -> axum::response::Response {
    use axum::http::header;
    use axum::response::IntoResponse;
    let chunks = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|chunk| (Ok::<_, std::convert::Infallible>(chunk), rx))
    });
    (
        [
            (header::CONTENT_TYPE, "application/json".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        axum::body::Body::from_stream(chunks),
    )
        .into_response()
}

pub fn router(portal: Arc<Portal>) -> Router {
    let hsts = visit::hsts(portal.settings.https);
    pages::routes()
        .with_state(portal)
        .layer(axum::middleware::map_response(
            move |mut r: axum::response::Response| {
                let hsts = hsts.clone();
                async move {
                    if let Some(v) = hsts {
                        r.headers_mut()
                            .insert(axum::http::header::STRICT_TRANSPORT_SECURITY, v);
                    }
                    r
                }
            },
        ))
}
