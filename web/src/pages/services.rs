//! The services of every body: the catalogue with search, a service's sheet, and the
//! request form generated from its custom fields.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use civitas_crm::app::attachments as files;
use civitas_crm::app::requests::{self, FileRequest};
use civitas_crm::app::{Page, catalogue, me, sheets};
use civitas_crm::catalogue::{FieldDef, FieldProblem, field_defs, field_problems};
use civitas_crm::channels::Channel;
use civitas_crm::notifications::Language;
use civitas_crm::public_catalogue::{PublicFilter, PublicService};
use minijinja::{Value, context};

use super::PAGE;
use crate::Portal;
use crate::forms::{Fields, custom_values};
use crate::posted::{Citizen, CitizenPosted, Posted};
use crate::visit::Visit;

/// The version of the privacy notice the request form shows.
pub const PRIVACY_NOTICE: &str = "portal-2026-12";

fn service_view(s: &PublicService) -> Value {
    let channels: Vec<&str> = s
        .service
        .channels
        .split(',')
        .filter(|c| !c.is_empty())
        .collect();
    context! {
        body => context! { slug => s.body_slug, name => s.body_name },
        code => s.service.code,
        name => s.service.name,
        area => s.service.area,
        description => s.service.description,
        sla_hours => s.service.sla_hours,
        channels,
        web => channels.is_empty() || channels.contains(&"web"),
        fields => field_defs(&s.service),
    }
}

pub async fn list(
    visit: Visit,
    State(portal): State<Arc<Portal>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let get = |k: &str| {
        q.get(k)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let filter = PublicFilter {
        body: get("body"),
        area: get("area"),
        words: get("q"),
        ..PublicFilter::default()
    };
    let offset: u64 = q.get("after").and_then(|a| a.parse().ok()).unwrap_or(0);
    let page = Page {
        first: PAGE as u64,
        after: Some(offset),
    };
    let (found, more) = match catalogue::public(&portal.app, filter.clone(), page).await {
        Ok(f) => f,
        Err(e) => return visit.problem(&portal, e),
    };
    let next = more.then_some(offset + found.len() as u64);
    let services: Vec<Value> = found.iter().map(service_view).collect();
    let query = [
        ("q", &filter.words),
        ("body", &filter.body),
        ("area", &filter.area),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.as_ref().map(|v| (k, v.clone())))
    .collect::<Vec<_>>();
    let query = serde_urlencoded::to_string(&query).unwrap_or_default();
    visit.page(
        &portal,
        "services.html",
        context! { services, next, q => filter.words, body => filter.body, area => filter.area, query },
    )
}

pub async fn sheet(
    visit: Visit,
    State(portal): State<Arc<Portal>>,
    Path((body, code)): Path<(String, String)>,
) -> Response {
    let s = match catalogue::public_service(&portal.app, &body, &code).await {
        Ok(s) => s,
        Err(e) => return visit.problem(&portal, e),
    };
    let lang = Language::from_tag(Some(visit.lang.tag()));
    let sheet = match sheets::public(&portal.app, &body, &code, lang).await {
        Ok(sheet) => sheet,
        Err(e) => return visit.problem(&portal, e),
    };
    // Each written section by its key, as paragraphs of lines, and who wrote it when it
    // is an ancestor of the service's body.
    let sections: HashMap<&str, Value> = sheet
        .iter()
        .flat_map(|sh| &sh.sections)
        .map(|p| {
            let paragraphs: Vec<Vec<&str>> = p
                .text
                .split("\n\n")
                .map(|para| para.lines().collect::<Vec<_>>())
                .filter(|lines| !lines.is_empty())
                .collect();
            let from = (p.body_slug != s.body_slug).then_some(&p.body_name);
            (p.section.key(), context! { paragraphs, from })
        })
        .collect();
    let written_in = sheet
        .as_ref()
        .map(|sh| sh.language.tag())
        .filter(|tag| *tag != visit.lang.tag());
    let body_logo = crate::brand::logo_url(&portal, &s.body_slug).await;
    visit.page(
        &portal,
        "service.html",
        context! { service => service_view(&s), sections, written_in, body_logo },
    )
}

/// What the form showed, and what was wrong with it.
#[derive(Default)]
struct Sent {
    fields: Fields,
    problems: HashMap<String, &'static str>,
    error: Option<String>,
}

fn problem_key(p: FieldProblem) -> &'static str {
    match p {
        FieldProblem::Required => "field-required",
        FieldProblem::Invalid => "field-invalid",
        FieldProblem::Unknown => "field-unknown",
    }
}

async fn render_form(visit: &Visit, portal: &Portal, s: &PublicService, sent: Sent) -> Response {
    // The citizen's names as a body already knows them, for a body that does not yet.
    let known = me::profiles(&portal.app, &visit.caller)
        .await
        .ok()
        .and_then(|p| p.into_iter().next());
    let defs: Vec<FieldDef> = field_defs(&s.service);
    let values: HashMap<String, Vec<String>> = defs
        .iter()
        .map(|d| {
            let name = format!("cf.{}", d.key);
            let v = sent
                .fields
                .all(&name)
                .into_iter()
                .map(str::to_owned)
                .collect();
            (d.key.clone(), v)
        })
        .collect();
    let status = if sent.problems.is_empty() && sent.error.is_none() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let given = sent
        .fields
        .get("given_name")
        .map(str::to_owned)
        .or_else(|| known.as_ref().map(|p| p.given_name.clone()));
    let family = sent
        .fields
        .get("family_name")
        .map(str::to_owned)
        .or_else(|| known.as_ref().map(|p| p.family_name.clone()));
    visit.page_with(
        portal,
        status,
        "request_form.html",
        context! {
            service => service_view(s),
            values,
            problems => sent.problems,
            error => sent.error,
            title => sent.fields.text("title"),
            description => sent.fields.text("description"),
            privacy => sent.fields.get("privacy").is_some(),
            given_name => given,
            family_name => family,
            privacy_notice => PRIVACY_NOTICE,
        },
    )
}

pub async fn form(
    Citizen(visit): Citizen,
    State(portal): State<Arc<Portal>>,
    Path((body, code)): Path<(String, String)>,
) -> Response {
    match catalogue::public_service(&portal.app, &body, &code).await {
        Ok(s) => render_form(&visit, &portal, &s, Sent::default()).await,
        Err(e) => visit.problem(&portal, e),
    }
}

pub async fn submit(
    State(portal): State<Arc<Portal>>,
    Path((body, code)): Path<(String, String)>,
    CitizenPosted(Posted {
        visit,
        fields,
        files: uploads,
    }): CitizenPosted,
) -> Response {
    let s = match catalogue::public_service(&portal.app, &body, &code).await {
        Ok(s) => s,
        Err(e) => return visit.problem(&portal, e),
    };
    let defs = field_defs(&s.service);
    let values = custom_values(&defs, &fields);
    let mut sent = Sent {
        problems: field_problems(&defs, &values)
            .unwrap_or_default()
            .into_iter()
            .map(|(k, p)| (k, problem_key(p)))
            .collect(),
        ..Sent::default()
    };
    if fields.text("title").is_empty() {
        sent.problems.insert("title".into(), "field-required");
    }
    if fields.get("privacy").is_none() {
        sent.problems.insert("privacy".into(), "privacy-required");
    }
    let uploads: Vec<_> = uploads.into_iter().filter(|f| f.field == "files").collect();
    // Every file is checked before the request is filed: a refused file files nothing.
    for f in &uploads {
        if let Err(e) = files::admissible(&portal.app, &body, &f.file_name, &f.bytes).await {
            match e {
                civitas_crm::Error::Validation(m) => {
                    sent.problems.insert("files".into(), "file-refused");
                    sent.error = Some(m);
                }
                other => return visit.problem(&portal, other),
            }
        }
    }
    if !sent.problems.is_empty() {
        sent.fields = fields;
        return render_form(&visit, &portal, &s, sent).await;
    }
    let input = FileRequest {
        tenant: Some(body.clone()),
        service_code: code,
        title: fields.text("title"),
        description: fields.text("description"),
        custom_fields: values,
        channel: Channel::Web,
        privacy_notice: PRIVACY_NOTICE.into(),
        given_name: Some(fields.text("given_name")).filter(|n| !n.is_empty()),
        family_name: Some(fields.text("family_name")).filter(|n| !n.is_empty()),
    };
    let filed = match requests::file(&portal.app, &visit.caller, input).await {
        Ok(c) => c,
        Err(civitas_crm::Error::Validation(m)) => {
            sent.error = Some(m);
            sent.fields = fields;
            return render_form(&visit, &portal, &s, sent).await;
        }
        Err(e) => return visit.problem(&portal, e),
    };
    for f in uploads {
        if let Err(e) =
            files::attach(&portal.app, &visit.caller, filed.id, &f.file_name, f.bytes).await
        {
            // Checked above; only a fault of the store can get here, and the request
            // stands: its page offers the upload again.
            tracing::error!(error = %e, "attaching a file to a new request");
        }
    }
    visit.redirect(&format!("/requests/{}?filed=1", filed.id.0))
}
