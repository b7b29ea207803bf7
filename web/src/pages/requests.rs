//! The citizen's requests at every body: the list, one request with its history, the
//! body's messages, a reply box and attachments, and their status live.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use civitas_crm::app::attachments::{self, CasePage};
use civitas_crm::app::{Page, catalogue, me, requests, watch};
use civitas_crm::cases::Case;
use civitas_crm::catalogue::{FieldType, field_defs};
use civitas_crm::channels::Channel;
use civitas_crm::ids::CaseId;
use civitas_tenants::TenantId;
use futures::StreamExt;
use minijinja::context;
use serde::Serialize;
use uuid::Uuid;

use super::{BodyName, PAGE, after, bodies};
use crate::Portal;
use crate::posted::{Citizen, CitizenPosted, Posted};
use crate::visit::{Visit, problem_of};

/// A request as lists show it.
#[derive(Serialize)]
pub struct RequestRow {
    pub id: Uuid,
    pub number: String,
    pub title: String,
    pub status: String,
    pub body: Option<BodyName>,
    pub created_at: String,
    pub updated_at: String,
    pub due_at: String,
}

impl RequestRow {
    pub fn of(c: &Case, names: &HashMap<TenantId, BodyName>) -> Self {
        RequestRow {
            id: c.id.0,
            number: c.number.clone(),
            title: c.title.clone(),
            status: c.status.to_string(),
            body: names.get(&c.tenant_id).cloned(),
            created_at: c.created_at.to_rfc3339(),
            updated_at: c.updated_at.to_rfc3339(),
            due_at: c.due_at.to_rfc3339(),
        }
    }
}

pub async fn list(
    Citizen(visit): Citizen,
    State(portal): State<Arc<Portal>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let page = Page {
        first: PAGE as u64,
        after: after::<Uuid>(&q),
    };
    let (cases, more) = match me::cases_page(&portal.app, &visit.caller, page).await {
        Ok(found) => found,
        Err(e) => return visit.problem(&portal, e),
    };
    let ids: Vec<_> = cases.iter().map(|c| c.tenant_id).collect();
    let names = bodies(&portal, &ids).await;
    let rows: Vec<RequestRow> = cases.iter().map(|c| RequestRow::of(c, &names)).collect();
    let next = more.then(|| rows.last().map(|r| r.id)).flatten();
    visit.page(
        &portal,
        "requests.html",
        context! { requests => rows, next },
    )
}

/// What one request's page may show besides the request: a message left unsent.
#[derive(Default)]
struct Unsent {
    reply: Option<String>,
    reply_error: Option<String>,
    attach_error: Option<String>,
}

async fn show(visit: &Visit, portal: &Portal, id: CaseId, unsent: Unsent) -> Response {
    let app = &portal.app;
    let caller = &visit.caller;
    let c = match me::case(app, caller, id).await {
        Ok(c) => c,
        Err(e) => return visit.problem(portal, e),
    };
    let history = match me::case_histories(app, caller, &[id]).await {
        Ok(mut h) => h.remove(&id).unwrap_or_default(),
        Err(e) => return visit.problem(portal, e),
    };
    let page = CasePage {
        case: id,
        first: 100,
        after: None,
    };
    let attached = match attachments::lists(app, caller, &[page]).await {
        Ok(mut l) => l.remove(&page).map(|(a, _)| a).unwrap_or_default(),
        Err(e) => return visit.problem(portal, e),
    };
    let me_subject = caller.principal.as_ref().map(|p| p.subject.clone());
    let history: Vec<_> = history
        .iter()
        .map(|e| {
            context! {
                kind => e.kind,
                at => e.occurred_at.to_rfc3339(),
                from => e.from_status,
                to => e.to_status,
                message => e.detail.get("message").and_then(|m| m.as_str()),
                mine => me_subject.as_deref() == Some(e.actor.as_str()),
                on_behalf => e.on_behalf_of.is_some(),
            }
        })
        .collect();
    let attachments: Vec<_> = attached
        .iter()
        .map(|a| {
            context! {
                id => a.id.0,
                file_name => a.file_name,
                media_type => a.media_type,
                kib => (a.size + 1023) / 1024,
                at => a.created_at.to_rfc3339(),
            }
        })
        .collect();
    let names = bodies(portal, &[c.tenant_id]).await;
    // The values under the labels the form showed (the service's definitions), in order.
    let defs = catalogue::public_service_by_id(app, c.tenant_id, c.service_id)
        .await
        .ok()
        .flatten()
        .map(|s| field_defs(&s))
        .unwrap_or_default();
    let custom_fields: Vec<_> = match c.custom_fields.as_object() {
        Some(values) => defs
            .iter()
            .filter_map(|d| values.get(&d.key).map(|v| (d, v)))
            .map(|(d, v)| {
                let text = match v {
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Array(a) => a
                        .iter()
                        .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_owned))
                        .collect::<Vec<_>>()
                        .join(", "),
                    other => other.to_string(),
                };
                let datetime = d.kind == FieldType::Datetime;
                context! { label => d.label, text, datetime }
            })
            .collect(),
        None => Vec::new(),
    };
    visit.page(
        portal,
        "request.html",
        context! {
            request => RequestRow::of(&c, &names),
            description => c.description,
            custom_fields,
            resolution_note => c.resolution_note,
            history,
            attachments,
            reply => unsent.reply,
            reply_error => unsent.reply_error,
            attach_error => unsent.attach_error,
        },
    )
}

pub async fn detail(
    Citizen(visit): Citizen,
    State(portal): State<Arc<Portal>>,
    Path(id): Path<Uuid>,
) -> Response {
    show(&visit, &portal, CaseId(id), Unsent::default()).await
}

pub async fn reply(
    State(portal): State<Arc<Portal>>,
    Path(id): Path<Uuid>,
    CitizenPosted(Posted {
        visit,
        fields: form,
        ..
    }): CitizenPosted,
) -> Response {
    let text = form.text("text");
    match requests::reply(&portal.app, &visit.caller, CaseId(id), &text, Channel::Web).await {
        Ok(_) => visit.redirect(&format!("/requests/{id}#history")),
        Err(civitas_crm::Error::Validation(m)) => {
            let unsent = Unsent {
                reply: Some(text),
                reply_error: Some(m),
                ..Unsent::default()
            };
            show(&visit, &portal, CaseId(id), unsent).await
        }
        Err(e) => visit.problem(&portal, e),
    }
}

pub async fn attach(
    State(portal): State<Arc<Portal>>,
    Path(id): Path<Uuid>,
    CitizenPosted(Posted { visit, files, .. }): CitizenPosted,
) -> Response {
    let Some(file) = files.into_iter().find(|f| f.field == "file") else {
        let unsent = Unsent {
            attach_error: Some(String::new()),
            ..Unsent::default()
        };
        return show(&visit, &portal, CaseId(id), unsent).await;
    };
    match attachments::attach(
        &portal.app,
        &visit.caller,
        CaseId(id),
        &file.file_name,
        file.bytes,
    )
    .await
    {
        Ok(_) => visit.redirect(&format!("/requests/{id}#attachments")),
        Err(civitas_crm::Error::Validation(m)) => {
            let unsent = Unsent {
                attach_error: Some(m),
                ..Unsent::default()
            };
            show(&visit, &portal, CaseId(id), unsent).await
        }
        Err(e) => visit.problem(&portal, e),
    }
}

/// The status of the citizen's requests as it changes, for htmx's SSE extension: an event
/// `case-<id>` whose data is the new status badge. Without JavaScript nothing asks for it.
/// How often an open live stream looks at its session again.
const SESSION_CHECK: std::time::Duration = std::time::Duration::from_secs(10);

pub async fn live(Citizen(visit): Citizen, State(portal): State<Arc<Portal>>) -> Response {
    let changes = match watch::own_cases(&portal.app, &visit.caller).await {
        Ok(c) => c,
        Err(e) => return problem_of(e).0.into_response(),
    };
    // Signing out in another tab ends this stream too: the session is looked at again
    // every SESSION_CHECK (its expiry already ends the stream in `watch`).
    let ended = {
        let (host, token) = (portal.host.clone(), visit.session.clone());
        async move {
            let Some(token) = token else {
                return;
            };
            loop {
                tokio::time::sleep(SESSION_CHECK).await;
                if !host.session_live(&token).await {
                    return;
                }
            }
        }
    };
    let changes = changes.take_until(Box::pin(ended));
    let lang = visit.lang;
    let views = portal.clone();
    let events = changes.map(move |change| {
        let html = views
            .views
            .render(
                "status.html",
                context! { lang => lang.tag(), status => change.status },
            )
            .unwrap_or_default();
        Ok::<_, Infallible>(
            Event::default()
                .event(format!("case-{}", change.case_id))
                .data(html.replace('\n', "")),
        )
    });
    Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response()
}
