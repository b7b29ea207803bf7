//! How each body reaches the citizen: their contact data and their channel choices.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::Response;
use civitas_crm::app::me::{self, MyContacts};
use civitas_crm::app::{Page, notify};
use civitas_crm::channels::Channel;
use minijinja::context;

use super::bodies;
use crate::Portal;
use crate::posted::{Citizen, CitizenPosted, Posted};

/// The channels a citizen may allow or refuse a body (besides the inbox, always there).
const CHOOSABLE: [&str; 4] = ["email", "sms", "whatsapp", "app"];

pub async fn show(Citizen(visit): Citizen, State(portal): State<Arc<Portal>>) -> Response {
    let (app, caller) = (&portal.app, &visit.caller);
    let profiles = match me::profiles(app, caller).await {
        Ok(p) => p,
        Err(e) => return visit.problem(&portal, e),
    };
    let page = Page {
        first: civitas_crm::app::MAX_PAGE,
        after: None,
    };
    let choices = match notify::my_channels(app, caller, page).await {
        Ok((c, _)) => c,
        Err(e) => return visit.problem(&portal, e),
    };
    let ids: Vec<_> = profiles.iter().map(|p| p.tenant_id).collect();
    let names = bodies(&portal, &ids).await;
    let rows: Vec<_> = profiles
        .iter()
        .filter_map(|p| names.get(&p.tenant_id).map(|b| (p, b)))
        .map(|(p, body)| {
            let channels: Vec<_> = CHOOSABLE
                .iter()
                .map(|ch| {
                    let refused = choices
                        .iter()
                        .any(|c| c.tenant_id == p.tenant_id && c.channel == *ch && !c.allowed);
                    context! { name => ch, allowed => !refused }
                })
                .collect();
            context! {
                body,
                given_name => p.given_name,
                family_name => p.family_name,
                emails => p.emails.join("\n"),
                phones => p.phones.join("\n"),
                preferred_channel => p.preferred_channel,
                channels,
            }
        })
        .collect();
    visit.page(
        &portal,
        "profile.html",
        context! { profiles => rows, choosable => CHOOSABLE },
    )
}

fn lines(text: &str) -> Vec<String> {
    text.split(['\n', ','])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

pub async fn contacts(
    State(portal): State<Arc<Portal>>,
    Path(body): Path<String>,
    CitizenPosted(Posted {
        visit,
        fields: form,
        ..
    }): CitizenPosted,
) -> Response {
    let contacts = MyContacts {
        emails: Some(lines(&form.text("emails"))),
        phones: Some(lines(&form.text("phones"))),
        preferred_channel: Some(form.text("preferred_channel")).filter(|c| !c.is_empty()),
        language: None,
    };
    match me::correct_contacts(&portal.app, &visit.caller, &body, contacts).await {
        Ok(_) => visit.redirect("/profile"),
        Err(e) => visit.problem(&portal, e),
    }
}

/// Allows the channels ticked and refuses the others, at one body.
pub async fn channels(
    State(portal): State<Arc<Portal>>,
    Path(body): Path<String>,
    CitizenPosted(Posted {
        visit,
        fields: form,
        ..
    }): CitizenPosted,
) -> Response {
    let allowed = form.all("allowed");
    for name in CHOOSABLE {
        let Ok(channel) = name.parse::<Channel>() else {
            continue;
        };
        let allow = allowed.contains(&name);
        if let Err(e) =
            notify::set_my_channel(&portal.app, &visit.caller, &body, channel, allow).await
        {
            return visit.problem(&portal, e);
        }
    }
    visit.redirect("/profile")
}
