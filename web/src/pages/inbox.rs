//! The notifications inbox: what every body told the citizen, read, archived.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use civitas_crm::app::{Page, me};
use civitas_crm::notifications::{Notification, Shown};
use civitas_tenants::TenantId;
use minijinja::{Value, context};
use uuid::Uuid;

use super::{BodyName, PAGE, after, bodies};
use crate::Portal;
use crate::posted::{Citizen, CitizenPosted, Posted};

pub fn rows(
    portal: &Portal,
    notes: &[Notification],
    names: &HashMap<TenantId, BodyName>,
) -> Vec<Value> {
    notes
        .iter()
        .map(|n| {
            // A survey's link is the one its message carried: signed, so that it opens
            // the same page from the inbox and from the e-mail.
            let survey = n
                .invitation_id
                .map(|i| portal.app.links.survey_token(n.tenant_id.0, i));
            context! {
                survey,
                id => n.id,
                kind => n.kind,
                body => names.get(&n.tenant_id),
                case_id => n.case_id.map(|c| c.0),
                case_number => n.case_number,
                status => n.status.map(|s| s.to_string()),
                message => n.message,
                at => n.created_at.to_rfc3339(),
                unread => n.read_at.is_none(),
            }
        })
        .collect()
}

pub async fn list(
    Citizen(visit): Citizen,
    State(portal): State<Arc<Portal>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let archived = q.get("archived").is_some_and(|v| v == "1");
    let shown = Shown {
        unread: false,
        archived,
    };
    let page = Page {
        first: PAGE as u64,
        after: after::<Uuid>(&q),
    };
    let (notes, more) = match me::notifications(&portal.app, &visit.caller, shown, page).await {
        Ok(found) => found,
        Err(e) => return visit.problem(&portal, e),
    };
    let ids: Vec<_> = notes.iter().map(|n| n.tenant_id).collect();
    let names = bodies(&portal, &ids).await;
    let next = more.then(|| notes.last().map(|n| n.id)).flatten();
    visit.page(
        &portal,
        "notifications.html",
        context! { notes => rows(&portal, &notes, &names), archived, next },
    )
}

/// Marks the chosen notifications read, archives them or brings them back.
pub async fn change(
    State(portal): State<Arc<Portal>>,
    CitizenPosted(Posted {
        visit,
        fields: form,
        ..
    }): CitizenPosted,
) -> Response {
    let ids: Vec<Uuid> = form
        .all("id")
        .into_iter()
        .filter_map(|i| i.parse().ok())
        .collect();
    let (app, caller) = (&portal.app, &visit.caller);
    let done = match form.text("action").as_str() {
        "read" => me::mark_notifications_read(app, caller, &ids).await,
        "archive" => me::archive_notifications(app, caller, &ids, true).await,
        "restore" => me::archive_notifications(app, caller, &ids, false).await,
        _ => return visit.status_page(&portal, StatusCode::BAD_REQUEST),
    };
    match done {
        Ok(_) if form.text("archived") == "1" => visit.redirect("/notifications?archived=1"),
        Ok(_) => visit.redirect("/notifications"),
        Err(e) => visit.problem(&portal, e),
    }
}
