//! The citizen's restrictions and objections: in force or lifted, and the form to ask one
//! of a body that holds their records.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::Response;
use civitas_crm::app::{me, restrictions};
use civitas_crm::restrictions::{Kind, Purpose};
use minijinja::context;
use uuid::Uuid;

use super::bodies;
use crate::Portal;
use crate::posted::{Citizen, CitizenPosted, Posted};

pub async fn show(Citizen(visit): Citizen, State(portal): State<Arc<Portal>>) -> Response {
    let (app, caller) = (&portal.app, &visit.caller);
    let found = match restrictions::mine(app, caller).await {
        Ok(r) => r,
        Err(e) => return visit.problem(&portal, e),
    };
    // Only a body that holds a record of the citizen can be asked.
    let holding = match me::profiles(app, caller).await {
        Ok(p) => p,
        Err(e) => return visit.problem(&portal, e),
    };
    let ids: Vec<_> = found
        .iter()
        .map(|r| r.tenant_id)
        .chain(holding.iter().map(|p| p.tenant_id))
        .collect();
    let names = bodies(&portal, &ids).await;
    let rows: Vec<_> = found
        .iter()
        .map(|r| {
            context! {
                id => r.id,
                body => names.get(&r.tenant_id),
                purpose => r.purpose.as_str(),
                kind => r.kind.as_str(),
                requested_at => r.requested_at.to_rfc3339(),
                lifted_at => r.lifted_at.map(|l| l.to_rfc3339()),
            }
        })
        .collect();
    let mut choices: Vec<_> = holding
        .iter()
        .filter_map(|p| names.get(&p.tenant_id))
        .collect();
    choices.sort_by(|a, b| a.name.cmp(&b.name));
    choices.dedup_by(|a, b| a.slug == b.slug);
    visit.page(
        &portal,
        "restrictions.html",
        context! { restrictions => rows, bodies => choices },
    )
}

pub async fn ask(
    State(portal): State<Arc<Portal>>,
    CitizenPosted(Posted {
        visit,
        fields: form,
        ..
    }): CitizenPosted,
) -> Response {
    let parsed = form.text("purpose").parse::<Purpose>().and_then(|p| {
        let kind = match form.get("kind") {
            None | Some("") => Ok(Kind::Restriction),
            Some(k) => k.parse::<Kind>(),
        }?;
        Ok((p, kind))
    });
    let (purpose, kind) = match parsed {
        Ok(pk) => pk,
        Err(e) => return visit.problem(&portal, e),
    };
    let body = form.text("body");
    let reason = form.text("reason");
    match restrictions::restrict_mine(&portal.app, &visit.caller, &body, purpose, kind, &reason)
        .await
    {
        Ok(_) => visit.redirect("/restrictions"),
        Err(e) => visit.problem(&portal, e),
    }
}

pub async fn lift(
    State(portal): State<Arc<Portal>>,
    Path(id): Path<Uuid>,
    CitizenPosted(Posted { visit, .. }): CitizenPosted,
) -> Response {
    match restrictions::lift_mine(&portal.app, &visit.caller, id).await {
        Ok(_) => visit.redirect("/restrictions"),
        Err(e) => visit.problem(&portal, e),
    }
}
