//! The portal's host: the server's sessions, limits and sign-in, for the web front end.

use std::sync::Arc;

use axum::http::HeaderMap;
use civitas_graphql::Code;
use civitas_tenants::PrincipalKind;
use civitas_web::{Admitted, Host, Portal, Refusal, Session, Settings};

use crate::app::App;
use crate::dev_issuer::TokenRequest;
use crate::http::{enter, identify};
use crate::identity::sessions;

pub struct PortalHost {
    pub app: Arc<App>,
}

#[async_trait::async_trait]
impl Host for PortalHost {
    async fn admit(&self, headers: &HeaderMap) -> Result<Admitted, Refusal> {
        // A page is not an API call: a bearer token or a tenant header do not apply here.
        let mut cookies_only = HeaderMap::new();
        for v in headers.get_all(axum::http::header::COOKIE) {
            cookies_only.append(axum::http::header::COOKIE, v.clone());
        }
        let caller = match identify(&self.app, &cookies_only).await {
            Ok(c) => c,
            Err(e) if e.code == Code::Unauthenticated => return Err(Refusal::SessionEnded),
            Err(_) => return Err(Refusal::Internal),
        };
        let admitted = match &caller.tenant {
            Some(tc) => self.app.limiter.admit(tc),
            None => self.app.limiter.admit_public(caller.principal.as_ref()),
        };
        let permit = admitted.map_err(|l| Refusal::Busy(l.retry_after.as_secs().max(1)))?;
        let place = enter(&self.app).await.map_err(|_| Refusal::Busy(1))?;
        Ok(Admitted {
            caller,
            held: Box::new((permit, place)),
        })
    }

    fn browser_sign_in(&self) -> bool {
        self.app
            .config
            .identity_providers
            .iter()
            .any(|r| r.client_id.is_some())
    }

    async fn dev_session(&self, fiscal_code: &str, name: &str) -> Option<Session> {
        if !self.app.config.dev {
            return None;
        }
        let issuer = self.app.auth.dev_issuer()?;
        let code = civitas_crm::persons::parse_fiscal_code(fiscal_code)
            .ok()?
            .as_str()
            .to_owned();
        let token = issuer
            .mint(&TokenRequest {
                subject: format!("spid-{code}"),
                kind: PrincipalKind::Citizen,
                name: Some(name.trim().to_owned()).filter(|n| !n.is_empty()),
                tenant: None,
                roles: vec![],
                fiscal_code: Some(code),
                ttl: chrono::Duration::minutes(5),
            })
            .ok()?;
        // Verified as any token would be, so that the session holds what SPID would give.
        let (principal, _) = self.app.auth.bearer(&token).await.ok()?;
        match sessions::create(&self.app.db, &principal).await {
            Ok((token, _)) => Some(Session {
                token,
                seconds: sessions::TTL_HOURS * 3600,
            }),
            Err(e) => {
                tracing::error!(error = %e, "starting a development session");
                None
            }
        }
    }

    fn dev_citizens(&self) -> Vec<(String, String)> {
        if self.app.config.dev {
            crate::demo::citizens()
        } else {
            vec![]
        }
    }

    async fn end_session(&self, token: &str) {
        if let Err(e) = sessions::end(&self.app.db, token).await {
            tracing::error!(error = %e, "ending a session");
        }
    }

    async fn session_live(&self, token: &str) -> bool {
        match sessions::principal(&self.app.db, token).await {
            Ok(found) => found.is_some(),
            // A database that does not answer does not end a citizen's stream.
            Err(e) => {
                tracing::warn!(error = %e, "checking a session");
                true
            }
        }
    }
}

/// The portal's routes over this server's use cases and sessions.
pub fn router(app: Arc<App>) -> axum::Router {
    let settings = Settings {
        site_name: app.config.site_name.clone(),
        https: app
            .config
            .public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://")),
        dev: app.config.dev,
        body: app.config.portal_body.clone(),
    };
    let host = Arc::new(PortalHost { app: app.clone() });
    // The templates are embedded: one that does not parse fails every test at once.
    let portal = Portal::new(app.state.clone(), host, settings).expect("the portal's templates");
    civitas_web::router(Arc::new(portal))
}
