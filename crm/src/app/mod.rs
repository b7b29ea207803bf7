//! The use cases: every operation the API offers, as one function that takes the caller and
//! a typed input and returns a typed result or a domain [`Error`](crate::Error).
//!
//! Each one authorizes (Casbin, through [`Caller::authorize`]), opens the tenant scope,
//! runs the domain's rules, commits with [`App::commit`] (which delivers the events the
//! transaction announced) and returns. A front end — GraphQL today, the server-rendered
//! pages next — reads its arguments, calls one use case and shows the result: it never
//! checks a permission, opens a scope or commits.

pub mod access_purposes;
pub mod attachments;
pub mod branding;
mod caller;
pub mod cases;
pub mod catalogue;
pub mod citizens;
pub mod consents;
pub mod delegations;
pub mod erasure;
pub mod identity;
pub mod initiatives;
pub mod interactions;
pub mod me;
pub mod members;
pub mod notify;
pub mod open311;
mod page;
pub mod places;
pub mod policies;
pub mod preferences;
pub mod questionnaires;
pub mod receipts;
pub mod register;
pub mod requests;
pub mod restrictions;
pub mod sheets;
pub mod surveys;
pub mod tenants;
pub mod watch;
pub mod webhooks;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use civitas_policies::Authorizer;
use civitas_tenants::{Db, Scope, Tenant, TenantSlug, TenantStatus, UrlPolicy, registry};

pub use caller::{Caller, CitizenIdentity, Grant, Granted, identify};
pub use page::{MAX_PAGE, Page};

use crate::Result;
use crate::events::EventBus;
use crate::sharing::ConsentCache;

/// What every use case may use, shared by every request.
#[derive(Clone)]
pub struct App {
    pub db: Db,
    pub authorizer: Arc<Authorizer>,
    pub consents: ConsentCache,
    pub events: EventBus,
    /// Issuers no body may register on its own: the platform-wide providers of the
    /// configuration file and the development issuer.
    pub reserved_issuers: Arc<[String]>,
    /// The outbound guard's rules, for URLs a tenant names.
    pub outbound: Arc<dyn UrlPolicy>,
    /// Signs and checks the links the platform sends (unsubscribe).
    pub links: crate::notify::LinkSigner,
    /// Where citizens reach this platform (for links in messages), without a final `/`.
    pub public_url: Option<String>,
    /// Where attachments' bytes are kept, and the platform's largest.
    pub files: Files,
    /// Signs consent receipts.
    pub receipts: Arc<crate::receipts::Signer>,
}

/// The attachment store and the platform's size ceiling (a body may set a lower limit).
#[derive(Clone)]
pub struct Files {
    pub store: Arc<dyn crate::attachments::BlobStore>,
    pub ceiling: u64,
}

impl App {
    pub fn now(&self) -> DateTime<Utc> {
        self.db.clock().now()
    }

    /// The active body a citizen names by `slug` (the argument `field`); VALIDATION when
    /// there is none, so that the answer does not tell a suspended body from a missing one.
    pub(crate) async fn active_body(&self, field: &str, slug: &str) -> Result<Tenant> {
        let slug = TenantSlug::parse(slug)?;
        // Through the access cache, which a change of status or settings invalidates on
        // every replica: pages that name a body (a service's sheet, the portal's look) ask
        // on every request.
        registry::cached_by_slug(&self.db, &slug)
            .await?
            .filter(|t| t.status == TenantStatus::Active)
            .ok_or_else(|| crate::Error::Validation(format!("{field}: there is no body {slug}")))
    }

    /// Commits a use case's unit of work and delivers the events it announced.
    pub async fn commit(&self, scope: Scope) -> Result<()> {
        let notices = scope.commit_notices().await?;
        self.events.committed(notices);
        Ok(())
    }
}
