//! One browser's request: who it is (the host admits its session), the language of the
//! page, and the token every form must carry back (CSRF). Answers are built here too, so
//! that every page gets the same headers and cookies.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use civitas_crm::app::Caller;
use minijinja::{Value, context};

use crate::i18n::Lang;
use crate::{Portal, Refusal};

pub const SESSION_COOKIE: &str = "civitas_session";
/// The seed of an anonymous browser's form token (before it signs in).
const SEED_COOKIE: &str = "civitas_form";
const LANG_COOKIE: &str = "civitas_lang";

pub struct Visit {
    pub caller: Caller,
    pub lang: Lang,
    /// The token this browser's forms carry.
    pub csrf: String,
    /// The session token, when signed in.
    pub session: Option<String>,
    /// The path asked for, to come back to after signing in.
    pub path: String,
    set_cookies: Vec<String>,
    https: bool,
    /// The look of the body the portal wears, if it wears one.
    brand: Option<Value>,
    _held: Box<dyn Send + Sync>,
}

/// A cookie value from the `Cookie` header.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The form token of a browser: an HMAC of its session (or anonymous seed) token, which
/// only that browser's cookie holds and no other site can read.
fn form_token(seed: &str) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, seed.as_bytes());
    let tag = ring::hmac::sign(&key, b"civitas-portal-form");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(tag.as_ref())
}

/// 256 random bits, URL-safe: a session token, a form seed.
pub fn random_token() -> String {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 32];
    // SystemRandom only fails when the OS has no entropy source at all.
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .expect("OS random source");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A request from another site (its `Origin` is not this host) is refused before any form
/// is read: the SameSite cookies already keep the session out of it, this keeps out the
/// anonymous forms too.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) else {
        return true;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    origin
        .split_once("://")
        .is_some_and(|(_, rest)| rest.trim_end_matches('/') == host)
}

impl FromRequestParts<Arc<Portal>> for Visit {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        portal: &Arc<Portal>,
    ) -> Result<Self, Self::Rejection> {
        let headers = &parts.headers;
        let path = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| "/".into());
        let lang_cookie = cookie(headers, LANG_COOKIE).and_then(Lang::from_tag);
        let lang = lang_cookie.unwrap_or_else(|| {
            Lang::negotiate(
                headers
                    .get(header::ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok()),
            )
        });
        if parts.method != Method::GET && !same_origin(headers) {
            return Err(bare_problem(portal, lang, StatusCode::FORBIDDEN));
        }
        let admitted = match portal.host.admit(headers).await {
            Ok(a) => a,
            Err(Refusal::SessionEnded) => {
                // The cookie is stale: drop it and ask to sign in again.
                let mut r = Redirect::to(&format!("/sign-in?ended=1&return_to={}", encode(&path)))
                    .into_response();
                let clear = format!(
                    "{SESSION_COOKIE}=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0{}",
                    secure(portal.settings.https)
                );
                if let Ok(v) = HeaderValue::from_str(&clear) {
                    r.headers_mut().append(header::SET_COOKIE, v);
                }
                return Err(r);
            }
            Err(Refusal::Busy(secs)) => {
                let mut r = bare_problem(portal, lang, StatusCode::TOO_MANY_REQUESTS);
                if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                    r.headers_mut().insert(header::RETRY_AFTER, v);
                }
                return Err(r);
            }
            Err(Refusal::Internal) => {
                return Err(bare_problem(
                    portal,
                    lang,
                    StatusCode::INTERNAL_SERVER_ERROR,
                ));
            }
        };
        let session = admitted
            .caller
            .principal
            .as_ref()
            .and_then(|_| cookie(headers, SESSION_COOKIE))
            .map(str::to_owned);
        let mut set_cookies = vec![];
        let seed = match (&session, cookie(headers, SEED_COOKIE)) {
            (Some(s), _) => s.clone(),
            (None, Some(seed)) if seed.len() >= 32 => seed.to_owned(),
            (None, _) => {
                let seed = random_token();
                set_cookies.push(format!(
                    "{SEED_COOKIE}={seed}; HttpOnly; SameSite=Strict; Path=/{}",
                    secure(portal.settings.https)
                ));
                seed
            }
        };
        let brand = match &portal.settings.body {
            Some(slug) => crate::brand::look(portal, slug).await,
            None => None,
        };
        Ok(Visit {
            brand,
            caller: admitted.caller,
            lang,
            csrf: form_token(&seed),
            session,
            path,
            set_cookies,
            https: portal.settings.https,
            _held: admitted.held,
        })
    }
}

fn secure(https: bool) -> &'static str {
    if https { "; Secure" } else { "" }
}

/// Only paths of this site: the sign-in must not bounce a browser elsewhere. Browsers
/// drop tabs and line breaks from URLs (`/\t/evil.example` is `//evil.example` to them),
/// and a header may not hold them: any control character or space refuses the path.
pub fn safe_return_to(r: Option<&str>) -> String {
    match r {
        Some(p)
            if p.starts_with('/')
                && !p.starts_with("//")
                && !p.contains('\\')
                && !p.chars().any(|c| c.is_control() || c.is_whitespace()) =>
        {
            p.to_owned()
        }
        _ => "/".into(),
    }
}

/// Percent-encodes a path for a query string.
pub fn encode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)])
        .map(|e| e.trim_start_matches('=').to_owned())
        .unwrap_or_default()
}

impl Visit {
    pub fn signed_in(&self) -> bool {
        self.caller.citizen.is_some()
    }

    /// A page for citizens: the answer for a browser that is not signed in as one (the
    /// sign-in page), `None` for a citizen.
    pub fn not_citizen(&self, portal: &Portal) -> Option<Response> {
        match (&self.caller.principal, &self.caller.citizen) {
            (_, Some(_)) => None,
            (None, _) => Some(
                Redirect::to(&format!("/sign-in?return_to={}", encode(&self.path))).into_response(),
            ),
            // Staff signed in through the browser: the portal is the citizens'.
            (Some(_), None) => Some(self.status_page(portal, StatusCode::FORBIDDEN)),
        }
    }

    /// Checks the token a form sent back.
    pub fn check_form(&self, token: &str) -> bool {
        // Compared in full whatever differs, so that timing tells nothing of the token.
        let (a, b) = (token.as_bytes(), self.csrf.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
    }

    /// The language chosen from now on (kept in a cookie for a year).
    pub fn choose_language(&mut self, lang: Lang) {
        self.lang = lang;
        self.set_cookies.push(format!(
            "{LANG_COOKIE}={}; SameSite=Lax; Path=/; Max-Age=31536000{}",
            lang.tag(),
            secure(self.https)
        ));
    }

    pub fn start_session(&mut self, session: &crate::Session) {
        self.set_cookies.push(format!(
            "{SESSION_COOKIE}={}; HttpOnly; SameSite=Lax; Path=/; Max-Age={}{}",
            session.token,
            session.seconds,
            secure(self.https)
        ));
    }

    pub fn end_session(&mut self) {
        self.set_cookies.push(format!(
            "{SESSION_COOKIE}=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0{}",
            secure(self.https)
        ));
    }

    fn finish(&self, mut r: Response) -> Response {
        for c in &self.set_cookies {
            if let Ok(v) = HeaderValue::from_str(c) {
                r.headers_mut().append(header::SET_COOKIE, v);
            }
        }
        r
    }

    /// The page `template` with `ctx`, and what every page shows (language, the signed-in
    /// citizen, the form token).
    pub fn page(&self, portal: &Portal, template: &str, ctx: Value) -> Response {
        self.page_with(portal, StatusCode::OK, template, ctx)
    }

    pub fn page_with(
        &self,
        portal: &Portal,
        status: StatusCode,
        template: &str,
        ctx: Value,
    ) -> Response {
        let name = self.caller.principal.as_ref().and_then(|p| p.name.clone());
        let common = context! {
            lang => self.lang.tag(),
            other_lang => match self.lang { Lang::It => "en", Lang::En => "it" },
            csrf => self.csrf,
            signed_in => self.signed_in(),
            user_name => name,
            path => self.path,
            site_name => portal.settings.site_name,
            dev => portal.settings.dev,
            brand => self.brand,
        };
        let ctx = context! { ..ctx, ..common };
        match portal.views.render(template, ctx) {
            Ok(html) => self.finish((status, html_headers(), html).into_response()),
            Err(e) => {
                tracing::error!(template, error = %e, "rendering a portal page");
                bare_problem(portal, self.lang, StatusCode::INTERNAL_SERVER_ERROR)
            }
        }
    }

    /// After a form: see `to` (303, so that a reload does not send the form again).
    pub fn redirect(&self, to: &str) -> Response {
        self.finish(Redirect::to(to).into_response())
    }

    /// The problem page for a use case's error.
    pub fn problem(&self, portal: &Portal, e: civitas_crm::Error) -> Response {
        let (status, detail) = problem_of(e);
        self.page_with(
            portal,
            status,
            "problem.html",
            context! { status => status.as_u16(), detail => detail },
        )
    }

    pub fn status_page(&self, portal: &Portal, status: StatusCode) -> Response {
        self.page_with(
            portal,
            status,
            "problem.html",
            context! { status => status.as_u16() },
        )
    }
}

/// What a use case's error means to the citizen: a status, and the words of a rule they
/// broke (never an internal cause, which is logged).
pub fn problem_of(e: civitas_crm::Error) -> (StatusCode, Option<String>) {
    use civitas_crm::Error as E;
    use civitas_tenants::Error as T;
    match e {
        E::Validation(m) | E::Tenancy(T::Validation(m)) => (StatusCode::BAD_REQUEST, Some(m)),
        E::Conflict(m) | E::Tenancy(T::Conflict(m)) => (StatusCode::CONFLICT, Some(m)),
        E::NotFound(_) | E::Tenancy(T::NotFound(_)) => (StatusCode::NOT_FOUND, None),
        E::Forbidden(_) | E::Restricted(_) | E::Tenancy(T::Forbidden) => {
            (StatusCode::FORBIDDEN, None)
        }
        E::Tenancy(T::TenantSuspended(_)) => (StatusCode::FORBIDDEN, None),
        E::Unauthenticated => (StatusCode::UNAUTHORIZED, None),
        E::NoTenant => (StatusCode::BAD_REQUEST, None),
        other => {
            tracing::error!(error = %other, "portal use case failed");
            (StatusCode::INTERNAL_SERVER_ERROR, None)
        }
    }
}

/// The headers of every HTML page: no caching (pages hold personal data), no framing, no
/// sniffing, no referrer beyond this site, and a policy that runs only this site's scripts.
fn html_headers() -> [(header::HeaderName, &'static str); 6] {
    [
        (header::CONTENT_TYPE, "text/html; charset=utf-8"),
        (header::CACHE_CONTROL, "no-store"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; \
             base-uri 'none'; object-src 'none'",
        ),
    ]
}

/// A problem page for a request that got no visit (refused before it was admitted).
fn bare_problem(portal: &Portal, lang: Lang, status: StatusCode) -> Response {
    let ctx = context! {
        lang => lang.tag(),
        status => status.as_u16(),
        site_name => portal.settings.site_name,
    };
    match portal.views.render("problem.html", ctx) {
        Ok(html) => (status, html_headers(), html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "rendering the problem page");
            status.into_response()
        }
    }
}

/// HSTS for a portal served over https (added by the router to every answer).
pub fn hsts(https: bool) -> Option<HeaderValue> {
    https.then(|| HeaderValue::from_static("max-age=31536000; includeSubDomains"))
}

#[cfg(test)]
mod tests {
    use super::safe_return_to;

    #[test]
    fn only_this_sites_paths_are_returned_to() {
        assert_eq!(
            safe_return_to(Some("/requests?after=x")),
            "/requests?after=x"
        );
        for bad in [
            "https://evil.example/",
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/ /evil.example",
            "requests",
        ] {
            assert_eq!(safe_return_to(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(safe_return_to(None), "/");
    }
}
