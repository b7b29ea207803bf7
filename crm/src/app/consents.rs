//! Use cases of consents, from both sides: operators collecting them on a citizen's behalf,
//! and citizens giving, confirming and withdrawing their own.

use chrono::{DateTime, Utc};
use civitas_policies::Permission;
use civitas_tenants::{Tenant, TenantContext, TenantSlug, audit, registry};
use serde_json::json;
use uuid::Uuid;

use super::{App, Caller, Page};
use crate::consent_requests::{self, ConsentRequest};
use crate::ids::ConsentId;
use crate::lookup::{Lookup, registered_person};
use crate::privacy::{self, PrivacyConsent};
use crate::sharing::{
    self, Collector, ConsentScope, NewSharingConsent, SharingConsent, Visibility,
};
use crate::{Error, Result};

/// The body named `slug` in the argument `field`; VALIDATION when there is none.
pub(super) async fn body(app: &App, field: &str, slug: &str) -> Result<Tenant> {
    let slug = TenantSlug::parse(slug)?;
    registry::find_by_slug(&app.db, &slug)
        .await?
        .ok_or_else(|| Error::Validation(format!("{field}: there is no body {slug}")))
}

/// A consent as it stands after a grant or a citizen's decision: in force, or waiting for
/// (or refused by) the citizen.
pub enum Outcome {
    Consent(SharingConsent),
    Request(ConsentRequest),
}

/// Consent requests: the signed-in citizen's (`mine`), or those the caller's body is party
/// to. Newest first; pending ones only unless `all`.
pub async fn requests(
    app: &App,
    caller: &Caller,
    mine: bool,
    all: bool,
    page: Page<Uuid>,
) -> Result<(Vec<ConsentRequest>, bool)> {
    if mine {
        let me = caller.citizen()?;
        let family = me.family();
        let scope = app.db.person_scope(me.person_id, &me.merged).await?;
        let found = consent_requests::list(
            scope.conn(),
            Visibility::Person(&family),
            all,
            page.first,
            page.after,
        )
        .await?;
        scope.commit().await?;
        return Ok(found);
    }
    let tc = caller.authorize(app, Permission::ConsentRead).await?;
    let scope = app.db.scope(tc).await?;
    let found = consent_requests::list(
        scope.conn(),
        Visibility::Tenant(tc.tenant.id),
        all,
        page.first,
        page.after,
    )
    .await?;
    app.commit(scope).await?;
    Ok(found)
}

/// The signed-in citizen confirms (it takes effect now, recorded as collected by the
/// operator) or declines a consent an operator collected for them.
pub async fn decide(app: &App, caller: &Caller, id: Uuid, confirm: bool) -> Result<Outcome> {
    let me = caller.citizen()?;
    let scope = app.db.person_scope(me.person_id, &me.merged).await?;
    let (request, consent) =
        consent_requests::decide(scope.conn(), id, &me.family(), confirm, app.now()).await?;
    scope.commit().await?;
    Ok(match consent {
        Some(c) => {
            app.consents
                .invalidate(c.grantee_tenant_id.0, c.person_id)
                .await;
            Outcome::Consent(c)
        }
        None => Outcome::Request(request),
    })
}

pub struct GrantSharing {
    /// The citizen, when an operator collects the consent; `None` for a citizen's own.
    pub person: Option<Lookup>,
    /// The body whose records may be read, by slug; `None` for every body.
    pub source: Option<String>,
    /// The body that may read them, by slug.
    pub grantee: String,
    pub scopes: Vec<ConsentScope>,
    pub purpose: String,
    pub expires_at: Option<DateTime<Utc>>,
    pub channel: String,
}

/// Records a sharing consent: given by the signed-in citizen, or collected by an operator
/// on the citizen's behalf. An operator's word about another body's records waits for the
/// citizen's confirmation, unless that body accepts this one's counter consents.
pub async fn grant_sharing(app: &App, caller: &Caller, input: GrantSharing) -> Result<Outcome> {
    let now = app.now();
    let grantee = body(app, "grantee", &input.grantee).await?.id;
    let source_tenant = match input.source.as_deref() {
        Some(slug) => Some(body(app, "source", slug).await?),
        None => None,
    };
    let new = |person_id| NewSharingConsent {
        person_id,
        source: source_tenant.as_ref().map(|t| t.id),
        grantee,
        scopes: input.scopes.clone(),
        purpose: input.purpose.clone(),
        expires_at: input.expires_at,
        channel: input.channel.clone(),
    };
    let consent = if let Ok(me) = caller.citizen() {
        let p = caller.principal()?;
        let scope = app.db.person_scope(me.person_id, &me.merged).await?;
        let collector = Collector::Citizen {
            subject: p.subject.clone(),
        };
        let c = sharing::grant(scope.conn(), &collector, new(me.person_id), now).await?;
        scope.commit().await?;
        c
    } else {
        let tc = caller.authorize(app, Permission::ConsentGrant).await?;
        let lookup = input.person.clone().ok_or_else(|| {
            Error::Validation("give exactly one of fiscalCode and personId".into())
        })?;
        let scope = app.db.scope(tc).await?;
        let (person, _) = registered_person(&scope, lookup).await?;
        if !consent_requests::takes_effect_at_once(source_tenant.as_ref(), &tc.tenant) {
            let r = consent_requests::request(
                scope.conn(),
                &tc.identity(),
                tc.tenant.id,
                new(person),
                now,
            )
            .await?;
            audit::record(
                &scope,
                &tc.identity(),
                "consent.sharing_requested",
                Some(&r.id.to_string()),
                json!({ "person": person }),
            )
            .await?;
            app.commit(scope).await?;
            return Ok(Outcome::Request(r));
        }
        let collector = Collector::Operator {
            subject: tc.actor(),
            tenant: tc.tenant.id,
        };
        let c = sharing::grant(scope.conn(), &collector, new(person), now).await?;
        audit::record(
            &scope,
            &tc.identity(),
            "consent.sharing_collected",
            Some(&c.id.to_string()),
            json!({ "person": person }),
        )
        .await?;
        app.commit(scope).await?;
        c
    };
    app.consents
        .invalidate(consent.grantee_tenant_id.0, consent.person_id)
        .await;
    Ok(Outcome::Consent(consent))
}

/// Revokes a sharing consent, effective on the very next request: the citizen's own, or,
/// for an operator, one that involves their body.
pub async fn revoke_sharing(app: &App, caller: &Caller, id: ConsentId) -> Result<SharingConsent> {
    let now = app.now();
    let consent = if let Ok(me) = caller.citizen() {
        let p = caller.principal()?;
        let family = me.family();
        let scope = app.db.person_scope(me.person_id, &me.merged).await?;
        let c = sharing::revoke(
            scope.conn(),
            id.0,
            Visibility::Person(&family),
            &p.subject,
            now,
        )
        .await?;
        scope.commit().await?;
        c
    } else {
        let tc = caller.authorize(app, Permission::ConsentRevoke).await?;
        let scope = app.db.scope(tc).await?;
        let c = sharing::revoke(
            scope.conn(),
            id.0,
            Visibility::Tenant(tc.tenant.id),
            &tc.actor(),
            now,
        )
        .await?;
        audit::record(
            &scope,
            &tc.identity(),
            "consent.sharing_revoked",
            Some(&id.to_string()),
            json!({ "person": c.person_id }),
        )
        .await?;
        app.commit(scope).await?;
        c
    };
    app.consents
        .invalidate(consent.grantee_tenant_id.0, consent.person_id)
        .await;
    Ok(consent)
}

pub struct RecordPrivacy {
    /// The citizen, when an operator records the consent; `None` for a citizen's own.
    pub person: Option<Lookup>,
    /// The body a citizen gives the consent to, by slug (an operator's is their own).
    pub tenant: Option<String>,
    pub purpose: String,
    pub text_version: String,
    pub channel: String,
}

/// Records a privacy consent for a purpose: given by the signed-in citizen to the body
/// they name, or collected by an operator for their own body.
pub async fn record_privacy(
    app: &App,
    caller: &Caller,
    input: RecordPrivacy,
) -> Result<PrivacyConsent> {
    let now = app.now();
    let (tc, person, collector);
    let own;
    if let Ok(me) = caller.citizen() {
        let p = caller.principal()?;
        let slug = input
            .tenant
            .as_deref()
            .ok_or_else(|| Error::Validation("tenant: name the body you give consent to".into()))?;
        own = TenantContext::for_citizen(body(app, "tenant", slug).await?, p.clone());
        tc = &own;
        person = Some(me.person_id);
        collector = Collector::Citizen {
            subject: p.subject.clone(),
        };
    } else {
        tc = caller.authorize(app, Permission::PrivacyRecord).await?;
        person = None;
        collector = Collector::Operator {
            subject: tc.actor(),
            tenant: tc.tenant.id,
        };
    }
    let scope = app.db.scope(tc).await?;
    let person = match person {
        Some(p) => p,
        None => {
            let lookup = input.person.clone().ok_or_else(|| {
                Error::Validation("give exactly one of fiscalCode and personId".into())
            })?;
            registered_person(&scope, lookup).await?.0
        }
    };
    let c = privacy::record(
        &scope,
        &collector,
        person,
        &input.purpose,
        &input.text_version,
        &input.channel,
        now,
    )
    .await?;
    app.commit(scope).await?;
    Ok(c)
}

/// Withdraws a privacy consent: the citizen's own, or one of the operator's body.
pub async fn withdraw_privacy(app: &App, caller: &Caller, id: ConsentId) -> Result<PrivacyConsent> {
    let now = app.now();
    if let Ok(me) = caller.citizen() {
        let p = caller.principal()?;
        let scope = app.db.person_scope(me.person_id, &me.merged).await?;
        let found = privacy::find_for_person(&scope, id.0).await?;
        scope.commit().await?;
        let found = found.ok_or(Error::NotFound("privacy consent"))?;
        let tenant = registry::find_by_id(&app.db, found.tenant_id)
            .await?
            .ok_or(Error::NotFound("privacy consent"))?;
        let tc = TenantContext::for_citizen(tenant, p.clone());
        let scope = app.db.scope(&tc).await?;
        let c = privacy::withdraw(&scope, &p.subject, id.0, now).await?;
        app.commit(scope).await?;
        return Ok(c);
    }
    let tc = caller.authorize(app, Permission::PrivacyWithdraw).await?;
    let scope = app.db.scope(tc).await?;
    let c = privacy::withdraw(&scope, &tc.actor(), id.0, now).await?;
    app.commit(scope).await?;
    Ok(c)
}
