//! The browser sign-in: authorization code flow with PKCE and nonce, ending in an HTTP-only
//! session cookie that `POST /graphql` accepts; and sign-out.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Duration;
use civitas_tenants::identity_providers::ProviderRegistration;
use civitas_tenants::{TenantSlug, registry};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet,
    EndpointSet, IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
};
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, QueryFilter};
use serde::{Deserialize, Serialize};

use super::{Refused, claims, sessions};
use crate::app::App;

const STATE_COOKIE: &str = "civitas_auth_state";
const FLOW_MINUTES: i64 = 10;

pub mod flow_entity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "auth_flows")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub state: String,
        #[sea_orm(column_type = "JsonBinary")]
        pub payload: Json,
        pub expires_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// What the callback needs from the login that started the flow.
#[derive(Serialize, Deserialize)]
struct Pending {
    registration: uuid::Uuid,
    nonce: String,
    pkce_verifier: String,
    redirect_uri: String,
    return_to: String,
}

#[derive(Deserialize)]
pub struct LoginParams {
    /// The body whose provider to sign in with; omitted, the platform-wide provider.
    tenant: Option<String>,
    return_to: Option<String>,
}

#[derive(Deserialize)]
pub struct CallbackParams {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

fn fail(status: StatusCode, what: &str) -> Response {
    (status, what.to_owned()).into_response()
}

/// Where the provider sends the browser back: the configured public URL, or this request's
/// own host.
fn redirect_uri(app: &App, headers: &HeaderMap) -> String {
    let base = app.config.public_url.clone().unwrap_or_else(|| {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("127.0.0.1");
        format!("http://{host}")
    });
    format!("{}/auth/callback", base.trim_end_matches('/'))
}

fn secure_cookies(app: &App) -> &'static str {
    if app
        .config
        .public_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://"))
    {
        "; Secure"
    } else {
        ""
    }
}

/// A client with the endpoints discovery gives: authorization set, token and userinfo
/// maybe.
type WebClient = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

async fn client_for(
    app: &App,
    reg: &ProviderRegistration,
    redirect: &str,
) -> Result<WebClient, Refused> {
    let issuer = IssuerUrl::new(reg.issuer.clone()).map_err(|e| Refused(e.to_string()))?;
    let keys = app.auth.keys().get(&issuer).await?;
    let client_id = reg
        .client_id
        .clone()
        .ok_or_else(|| Refused("provider has no client id".into()))?;
    let client = CoreClient::from_provider_metadata(
        keys.metadata.clone(),
        ClientId::new(client_id),
        reg.client_secret.clone().map(ClientSecret::new),
    )
    .set_redirect_uri(RedirectUrl::new(redirect.to_owned()).map_err(|e| Refused(e.to_string()))?);
    Ok(client)
}

pub async fn login(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(p): Query<LoginParams>,
) -> Response {
    let reg = match &p.tenant {
        Some(slug) => {
            let Ok(slug) = TenantSlug::parse(slug) else {
                return fail(StatusCode::BAD_REQUEST, "invalid tenant");
            };
            let Ok(Some(tenant)) = registry::find_by_slug(&app.db, &slug).await else {
                return fail(StatusCode::NOT_FOUND, "no such body");
            };
            civitas_tenants::identity_providers::of_tenant(&app.db, tenant.id)
                .await
                .ok()
                .and_then(|l| l.into_iter().find(|r| r.client_id.is_some()))
        }
        None => app
            .config
            .identity_providers
            .iter()
            .find(|r| r.client_id.is_some())
            .cloned(),
    };
    let Some(reg) = reg else {
        return fail(
            StatusCode::NOT_FOUND,
            "no identity provider for browser sign-in",
        );
    };
    let redirect = redirect_uri(&app, &headers);
    let client = match client_for(&app, &reg, &redirect).await {
        Ok(c) => c,
        Err(Refused(why)) => {
            tracing::warn!(reason = %why, "sign-in unavailable");
            return fail(
                StatusCode::BAD_GATEWAY,
                "the identity provider is unavailable",
            );
        }
    };
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge)
        .url();
    let pending = Pending {
        registration: reg.id,
        nonce: nonce.secret().clone(),
        pkce_verifier: verifier.secret().clone(),
        redirect_uri: redirect,
        return_to: civitas_web::safe_return_to(p.return_to.as_deref()),
    };
    let row = flow_entity::ActiveModel {
        state: Set(state.secret().clone()),
        payload: Set(serde_json::to_value(&pending).unwrap_or_default()),
        expires_at: Set(app.db.clock().now() + Duration::minutes(FLOW_MINUTES)),
    };
    if let Err(e) = flow_entity::Entity::insert(row)
        .exec_without_returning(app.db.global())
        .await
    {
        tracing::error!(error = %e, "storing a sign-in flow");
        return fail(StatusCode::INTERNAL_SERVER_ERROR, "internal error");
    }
    let cookie = format!(
        "{STATE_COOKIE}={}; HttpOnly; SameSite=Lax; Path=/auth; Max-Age={}{}",
        state.secret(),
        FLOW_MINUTES * 60,
        secure_cookies(&app)
    );
    ([(header::SET_COOKIE, cookie)], Redirect::to(url.as_str())).into_response()
}

pub async fn callback(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(p): Query<CallbackParams>,
) -> Response {
    if let Some(e) = p.error {
        return fail(
            StatusCode::UNAUTHORIZED,
            &format!("sign-in refused by the identity provider: {e}"),
        );
    }
    let (Some(code), Some(state)) = (p.code, p.state) else {
        return fail(StatusCode::BAD_REQUEST, "missing code or state");
    };
    // The state must be the one this browser started with (login CSRF).
    if sessions::cookie(&headers, STATE_COOKIE) != Some(state.as_str()) {
        return fail(
            StatusCode::BAD_REQUEST,
            "this sign-in was not started from this browser",
        );
    }
    let flow = flow_entity::Entity::find_by_id(state.clone())
        .one(app.db.global())
        .await
        .ok()
        .flatten();
    let _ = flow_entity::Entity::delete_many()
        .filter(flow_entity::Column::State.eq(state))
        .exec(app.db.global())
        .await;
    let Some(flow) = flow.filter(|f| f.expires_at > app.db.clock().now()) else {
        return fail(StatusCode::BAD_REQUEST, "unknown or expired sign-in");
    };
    let Ok(pending) = serde_json::from_value::<Pending>(flow.payload) else {
        return fail(StatusCode::BAD_REQUEST, "corrupt sign-in");
    };
    match finish(&app, pending, code).await {
        Ok((token, return_to)) => {
            let cookie = format!(
                "{}={token}; HttpOnly; SameSite=Lax; Path=/; Max-Age={}{}",
                sessions::COOKIE,
                sessions::TTL_HOURS * 3600,
                secure_cookies(&app)
            );
            let clear = format!("{STATE_COOKIE}=; HttpOnly; SameSite=Lax; Path=/auth; Max-Age=0");
            let mut resp = Redirect::to(&return_to).into_response();
            resp.headers_mut()
                .append(header::SET_COOKIE, cookie.parse().expect("cookie header"));
            resp.headers_mut()
                .append(header::SET_COOKIE, clear.parse().expect("cookie header"));
            resp
        }
        Err(Refused(why)) => {
            tracing::info!(reason = %why, "sign-in refused");
            fail(StatusCode::UNAUTHORIZED, "sign-in failed")
        }
    }
}

async fn finish(app: &App, pending: Pending, code: String) -> Result<(String, String), Refused> {
    let reg = app
        .auth
        .registration(pending.registration)
        .await
        .ok_or_else(|| Refused("provider removed".into()))?;
    let client = client_for(app, &reg, &pending.redirect_uri).await?;
    let response = client
        .exchange_code(AuthorizationCode::new(code))
        .map_err(|e| Refused(e.to_string()))?
        .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier))
        .request_async(app.auth.http())
        .await
        .map_err(|e| Refused(format!("code exchange: {e}")))?;
    use openidconnect::TokenResponse;
    let id_token = response
        .id_token()
        .ok_or_else(|| Refused("no ID token".into()))?
        .to_string();
    app.auth
        .verify(&reg, &id_token, Some(&Nonce::new(pending.nonce)))
        .await?;
    let payload = claims::unverified_payload(&id_token)?;
    let slug = match reg.tenant {
        Some(t) => registry::find_by_id(&app.db, t)
            .await
            .ok()
            .flatten()
            .map(|t| t.slug.to_string()),
        None => None,
    };
    let principal = claims::principal(&reg, &payload, slug)?;
    let (token, _) = sessions::create(&app.db, &principal)
        .await
        .map_err(|e| Refused(e.to_string()))?;
    tracing::info!(subject = %principal.subject, kind = ?principal.kind, "signed in");
    Ok((token, pending.return_to))
}

pub async fn logout(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    if let Some(token) = sessions::cookie(&headers, sessions::COOKIE)
        && let Err(e) = sessions::end(&app.db, token).await
    {
        tracing::error!(error = %e, "ending a session");
    }
    let clear = format!(
        "{}=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0{}",
        sessions::COOKIE,
        secure_cookies(&app)
    );
    ([(header::SET_COOKIE, clear)], "signed out").into_response()
}
