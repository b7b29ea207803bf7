//! The home page, signing in and out, and the language.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use civitas_crm::app::{Page, me};
use civitas_crm::cases::CaseStatus;
use civitas_crm::notifications::Shown;
use minijinja::context;

use super::bodies;
use crate::Portal;
use crate::i18n::Lang;
use crate::pages::requests::RequestRow;
use crate::posted::Posted;
use crate::visit::Visit;
use crate::visit::safe_return_to;

/// How many open requests and unread notifications the home page shows.
const HOME_ROWS: i64 = 10;

pub async fn home(visit: Visit, State(portal): State<Arc<Portal>>) -> Response {
    if !visit.signed_in() {
        return visit.page(&portal, "home.html", context! {});
    }
    let app = &portal.app;
    let caller = &visit.caller;
    let cases = match me::cases_page(
        app,
        caller,
        Page {
            first: 50,
            after: None,
        },
    )
    .await
    {
        Ok((c, _)) => c,
        Err(e) => return visit.problem(&portal, e),
    };
    let open: Vec<_> = cases
        .into_iter()
        .filter(|c| !matches!(c.status, CaseStatus::Resolved | CaseStatus::Closed))
        .take(HOME_ROWS as usize)
        .collect();
    let unread = Shown {
        unread: true,
        archived: false,
    };
    let page = Page {
        first: HOME_ROWS as u64,
        after: None,
    };
    let (notes, more_notes) = match me::notifications(app, caller, unread, page).await {
        Ok(n) => n,
        Err(e) => return visit.problem(&portal, e),
    };
    let ids: Vec<_> = open
        .iter()
        .map(|c| c.tenant_id)
        .chain(notes.iter().map(|n| n.tenant_id))
        .collect();
    let names = bodies(&portal, &ids).await;
    let requests: Vec<RequestRow> = open.iter().map(|c| RequestRow::of(c, &names)).collect();
    let notes = crate::pages::inbox::rows(&portal, &notes, &names);
    visit.page(
        &portal,
        "home.html",
        context! { requests, notes, more_notes },
    )
}

pub async fn sign_in(
    visit: Visit,
    State(portal): State<Arc<Portal>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let return_to = safe_return_to(q.get("return_to").map(String::as_str));
    let citizens: Vec<_> = if portal.settings.dev {
        portal
            .host
            .dev_citizens()
            .into_iter()
            .map(|(fiscal_code, name)| context! { fiscal_code, name })
            .collect()
    } else {
        vec![]
    };
    visit.page(
        &portal,
        "sign_in.html",
        context! {
            return_to,
            login_url => portal.host.browser_sign_in().then(|| format!(
                "/auth/login?return_to={}", crate::visit::encode(&return_to)
            )),
            citizens,
            ended => q.contains_key("ended"),
        },
    )
}

pub async fn dev_sign_in(
    State(portal): State<Arc<Portal>>,
    Posted {
        mut visit,
        fields: form,
        ..
    }: Posted,
) -> Response {
    if !portal.settings.dev {
        return visit.status_page(&portal, StatusCode::NOT_FOUND);
    }
    let fiscal_code = form.text("fiscal_code").to_uppercase();
    let name = form.text("name");
    let Some(session) = portal.host.dev_session(&fiscal_code, &name).await else {
        return visit.status_page(&portal, StatusCode::BAD_REQUEST);
    };
    visit.start_session(&session);
    visit.redirect(&safe_return_to(form.get("return_to")))
}

pub async fn sign_out(
    State(portal): State<Arc<Portal>>,
    Posted { mut visit, .. }: Posted,
) -> Response {
    if let Some(token) = visit.session.clone() {
        portal.host.end_session(&token).await;
    }
    visit.end_session();
    visit.redirect("/")
}

/// The citizen picks the language: kept in a cookie, and told to every body that knows
/// them (their profiles), so that messages come in it too.
pub async fn language(
    State(portal): State<Arc<Portal>>,
    Posted {
        mut visit,
        fields: form,
        ..
    }: Posted,
) -> Response {
    let Some(lang) = Lang::from_tag(&form.text("lang")) else {
        return visit.status_page(&portal, StatusCode::BAD_REQUEST);
    };
    visit.choose_language(lang);
    if visit.signed_in()
        && let Err(e) = me::set_language(&portal.app, &visit.caller, lang.tag()).await
    {
        return visit.problem(&portal, e);
    }
    visit.redirect(&safe_return_to(form.get("return_to")))
}
