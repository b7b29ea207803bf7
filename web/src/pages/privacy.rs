//! What the citizen decides about their data: sharing between bodies and privacy consents,
//! who read their records, who may act for them, and the download of everything.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use civitas_crm::app::consents::{self, GrantSharing};
use civitas_crm::app::delegations::{self, GrantMine};
use civitas_crm::app::{Page, me, receipts};
use civitas_crm::ids::{ConsentId, DelegationId};
use civitas_crm::receipts::Event;
use civitas_crm::sharing::ConsentScope;
use civitas_tenants::{TenantId, TenantStatus, registry};
use minijinja::context;
use uuid::Uuid;

use super::{PAGE, after, bodies, download_json};
use crate::Portal;
use crate::posted::{Citizen, CitizenPosted, Posted};

/// Every active body, for the choices of a form.
async fn active_bodies(portal: &Portal) -> Vec<super::BodyName> {
    let mut all: Vec<_> = registry::list(&portal.app.db)
        .await
        .unwrap_or_else(|e| {
            tracing::error!(error = %e, "listing bodies");
            vec![]
        })
        .into_iter()
        .filter(|t| t.status == TenantStatus::Active)
        .map(|t| super::BodyName {
            slug: t.slug.to_string(),
            name: t.display_name,
        })
        .collect();
    all.sort_by(|a, b| a.name.cmp(&b.name));
    all
}

pub async fn consents(Citizen(visit): Citizen, State(portal): State<Arc<Portal>>) -> Response {
    let (app, caller) = (&portal.app, &visit.caller);
    let sharing = match me::sharing_consents(app, caller).await {
        Ok(s) => s,
        Err(e) => return visit.problem(&portal, e),
    };
    let privacy = match me::privacy_consents(app, caller).await {
        Ok(p) => p,
        Err(e) => return visit.problem(&portal, e),
    };
    // Consents an operator collected for the citizen, waiting for their word.
    let waiting = Page {
        first: PAGE as u64,
        after: None,
    };
    let pending = match consents::requests(app, caller, true, false, waiting).await {
        Ok((rows, _)) => rows,
        Err(e) => return visit.problem(&portal, e),
    };
    // Every body the page names, in one look-up.
    let ids: Vec<_> = sharing
        .iter()
        .flat_map(|c| [Some(c.grantee_tenant_id), c.source_tenant_id])
        .chain(pending.iter().flat_map(|r| {
            [
                Some(TenantId(r.grantee_tenant_id)),
                r.source_tenant_id.map(TenantId),
                Some(TenantId(r.collected_in_tenant_id)),
            ]
        }))
        .flatten()
        .chain(privacy.iter().map(|p| p.tenant_id))
        .collect();
    let names = bodies(&portal, &ids).await;
    let now = app.now();
    let sharing: Vec<_> = sharing
        .iter()
        .map(|c| {
            context! {
                id => c.id,
                grantee => names.get(&c.grantee_tenant_id),
                source => c.source_tenant_id.and_then(|s| names.get(&s)),
                scopes => c.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
                purpose => c.purpose,
                granted_at => c.granted_at.to_rfc3339(),
                expires_at => c.expires_at.map(|e| e.to_rfc3339()),
                revoked_at => c.revoked_at.map(|e| e.to_rfc3339()),
                active => c.is_active(now),
            }
        })
        .collect();
    let privacy: Vec<_> = privacy
        .iter()
        .map(|p| {
            context! {
                id => p.id,
                body => names.get(&p.tenant_id),
                purpose => p.purpose,
                given_at => p.given_at.to_rfc3339(),
                withdrawn_at => p.withdrawn_at.map(|e| e.to_rfc3339()),
            }
        })
        .collect();
    let pending: Vec<_> = pending
        .iter()
        .map(|r| {
            context! {
                id => r.id,
                grantee => names.get(&TenantId(r.grantee_tenant_id)),
                source => r.source_tenant_id.and_then(|s| names.get(&TenantId(s))),
                collected_in => names.get(&TenantId(r.collected_in_tenant_id)),
                scopes => r.scopes.split(',').filter(|s| !s.is_empty()).collect::<Vec<_>>(),
                purpose => r.purpose,
                requested_at => r.requested_at.to_rfc3339(),
            }
        })
        .collect();
    let choices = active_bodies(&portal).await;
    visit.page(
        &portal,
        "consents.html",
        context! { sharing, privacy, pending, bodies => choices },
    )
}

/// `POST /consents/requests/{id}/{confirm|decline}`: the citizen's word on a consent an
/// operator collected for them.
pub async fn decide_request(
    State(portal): State<Arc<Portal>>,
    Path((id, action)): Path<(Uuid, String)>,
    CitizenPosted(Posted { visit, .. }): CitizenPosted,
) -> Response {
    let confirm = match action.as_str() {
        "confirm" => true,
        "decline" => false,
        _ => return visit.status_page(&portal, StatusCode::NOT_FOUND),
    };
    match consents::decide(&portal.app, &visit.caller, id, confirm).await {
        Ok(_) => visit.redirect("/consents"),
        Err(e) => visit.problem(&portal, e),
    }
}

pub async fn grant_sharing(
    State(portal): State<Arc<Portal>>,
    CitizenPosted(Posted {
        visit,
        fields: form,
        ..
    }): CitizenPosted,
) -> Response {
    let mut scopes = vec![];
    for s in form.all("scope") {
        match s.parse::<ConsentScope>() {
            Ok(s) => scopes.push(s),
            Err(e) => return visit.problem(&portal, e),
        }
    }
    let source = Some(form.text("source")).filter(|s| !s.is_empty());
    let input = GrantSharing {
        person: None,
        source,
        grantee: form.text("grantee"),
        scopes,
        purpose: form.text("purpose"),
        expires_at: None,
        channel: "web".into(),
    };
    match consents::grant_sharing(&portal.app, &visit.caller, input).await {
        Ok(_) => visit.redirect("/consents#sharing"),
        Err(e) => visit.problem(&portal, e),
    }
}

pub async fn revoke_sharing(
    State(portal): State<Arc<Portal>>,
    Path(id): Path<Uuid>,
    CitizenPosted(Posted { visit, .. }): CitizenPosted,
) -> Response {
    match consents::revoke_sharing(&portal.app, &visit.caller, ConsentId(id)).await {
        Ok(_) => visit.redirect("/consents#sharing"),
        Err(e) => visit.problem(&portal, e),
    }
}

pub async fn withdraw_privacy(
    State(portal): State<Arc<Portal>>,
    Path(id): Path<Uuid>,
    CitizenPosted(Posted { visit, .. }): CitizenPosted,
) -> Response {
    match consents::withdraw_privacy(&portal.app, &visit.caller, ConsentId(id)).await {
        Ok(_) => visit.redirect("/consents#privacy"),
        Err(e) => visit.problem(&portal, e),
    }
}

pub async fn access_log(
    Citizen(visit): Citizen,
    State(portal): State<Arc<Portal>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let page = Page {
        first: PAGE as u64,
        after: after::<Uuid>(&q),
    };
    let (entries, more) = match me::access_log(&portal.app, &visit.caller, page).await {
        Ok(found) => found,
        Err(e) => return visit.problem(&portal, e),
    };
    let ids: Vec<_> = entries
        .iter()
        .flat_map(|e| [e.reader_tenant_id, e.source_tenant_id])
        .collect();
    let names = bodies(&portal, &ids).await;
    let rows: Vec<_> = entries
        .iter()
        .map(|e| {
            context! {
                at => e.occurred_at.to_rfc3339(),
                reader_body => names.get(&e.reader_tenant_id),
                // The subject, for reading; the export keeps the issuer too.
                reader => e.reader.rsplit('|').next().unwrap_or(&e.reader),
                source => names.get(&e.source_tenant_id),
                own => e.source_tenant_id == e.reader_tenant_id,
                scopes => e.scopes,
                action => e.action,
                purpose => e.purpose,
                basis => e.basis,
                legal_basis => e.legal_basis,
            }
        })
        .collect();
    let next = more.then(|| entries.last().map(|e| e.id)).flatten();
    visit.page(
        &portal,
        "access_log.html",
        context! { entries => rows, next },
    )
}

pub async fn delegations(
    Citizen(visit): Citizen,
    State(portal): State<Arc<Portal>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let page = Page {
        first: PAGE as u64,
        after: after::<Uuid>(&q),
    };
    let (found, more) = match delegations::mine(&portal.app, &visit.caller, page).await {
        Ok(found) => found,
        Err(e) => return visit.problem(&portal, e),
    };
    let ids: Vec<_> = found.iter().map(|d| d.tenant_id).collect();
    let names = bodies(&portal, &ids).await;
    let now = portal.app.now();
    let rows: Vec<_> = found
        .iter()
        .map(|d| {
            context! {
                id => d.id.0,
                body => names.get(&d.tenant_id),
                tutor => d.tutor_subject,
                scopes => d.scopes,
                created_at => d.created_at.to_rfc3339(),
                expires_at => d.expires_at.map(|e| e.to_rfc3339()),
                active => d.revoked_at.is_none() && d.expires_at.is_none_or(|e| e > now),
            }
        })
        .collect();
    let next = more.then(|| found.last().map(|d| d.id.0)).flatten();
    let choices = active_bodies(&portal).await;
    visit.page(
        &portal,
        "delegations.html",
        context! { delegations => rows, next, bodies => choices },
    )
}

pub async fn grant_delegation(
    State(portal): State<Arc<Portal>>,
    CitizenPosted(Posted {
        visit,
        fields: form,
        ..
    }): CitizenPosted,
) -> Response {
    let input = GrantMine {
        tenant: form.text("body"),
        tutor_subject: form.text("tutor"),
        tutor_issuer: form.text("issuer"),
        scopes: form.all("scope").into_iter().map(str::to_owned).collect(),
        expires_at: None,
    };
    match delegations::grant_mine(&portal.app, &visit.caller, input).await {
        Ok(_) => visit.redirect("/delegations"),
        Err(e) => visit.problem(&portal, e),
    }
}

pub async fn revoke_delegation(
    State(portal): State<Arc<Portal>>,
    Path(id): Path<Uuid>,
    CitizenPosted(Posted { visit, .. }): CitizenPosted,
) -> Response {
    match delegations::revoke_mine(&portal.app, &visit.caller, DelegationId(id)).await {
        Ok(_) => visit.redirect("/delegations"),
        Err(e) => visit.problem(&portal, e),
    }
}

/// Everything every body holds about the citizen, streamed (`/schemas/personal-data-v1.json`).
pub async fn export(Citizen(visit): Citizen, State(portal): State<Arc<Portal>>) -> Response {
    match me::export_stream(&portal.app, &visit.caller).await {
        Ok(rx) => crate::streamed_json("my-data.json", rx),
        Err(e) => visit.problem(&portal, e),
    }
}

/// `GET /consents/{sharing|privacy}/{id}/receipt?event=granted|withdrawn`: the signed
/// receipt of a consent of the citizen's, as a JSON file (the receipt and its JWS).
pub async fn receipt(
    Citizen(visit): Citizen,
    State(portal): State<Arc<Portal>>,
    Path((kind, id)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let kind = match kind.as_str() {
        "sharing" => receipts::Kind::Sharing,
        "privacy" => receipts::Kind::Privacy,
        _ => return visit.status_page(&portal, StatusCode::NOT_FOUND),
    };
    let event = match q.get("event").map(String::as_str) {
        None => Some(Event::Granted),
        Some(e) => Event::parse(e),
    };
    let (Some(event), Ok(id)) = (event, id.parse::<Uuid>()) else {
        return visit.status_page(&portal, StatusCode::NOT_FOUND);
    };
    let lang = visit.lang.tag();
    match receipts::mine(&portal.app, &visit.caller, kind, id, event, lang).await {
        Ok(r) => {
            let file = serde_json::json!({ "receipt": r.receipt, "jws": r.jws, "keys": "/receipts/jwks.json" });
            download_json(
                &format!("consent-receipt-{id}-{}.json", event.as_str()),
                serde_json::to_vec_pretty(&file).unwrap_or_default(),
            )
        }
        Err(e) => visit.problem(&portal, e),
    }
}
