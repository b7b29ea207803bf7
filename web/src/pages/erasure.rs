//! The citizen's erasure requests: what each body erased and kept, and the form to ask.

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use civitas_crm::app::erasure;
use minijinja::context;

use super::bodies;
use crate::Portal;
use crate::posted::{Citizen, CitizenPosted, Posted};

pub async fn show(Citizen(visit): Citizen, State(portal): State<Arc<Portal>>) -> Response {
    let requests = match erasure::mine(&portal.app, &visit.caller).await {
        Ok(r) => r,
        Err(e) => return visit.problem(&portal, e),
    };
    let ids: Vec<_> = requests
        .iter()
        .flat_map(|r| {
            r.pending
                .iter()
                .copied()
                .chain(r.steps.iter().map(|s| s.tenant_id))
        })
        .collect();
    let names = bodies(&portal, &ids).await;
    let open = requests.iter().any(|r| !r.settled());
    let rows: Vec<_> = requests
        .iter()
        .map(|r| {
            let steps: Vec<_> = r
                .steps
                .iter()
                .map(|s| {
                    context! {
                        body => names.get(&s.tenant_id),
                        done_at => s.done_at.to_rfc3339(),
                        erased => s.erased.iter().map(|(kind, count)| context! { kind, count }).collect::<Vec<_>>(),
                        kept => s.kept.iter().map(|k| context! {
                            case => k.case, service => k.service, years => k.years,
                            until => k.until.to_rfc3339(),
                        }).collect::<Vec<_>>(),
                    }
                })
                .collect();
            context! {
                requested_at => r.requested_at.to_rfc3339(),
                settled => r.settled(),
                forgotten_at => r.forgotten_at.map(|f| f.to_rfc3339()),
                pending => r.pending.iter().filter_map(|t| names.get(t)).collect::<Vec<_>>(),
                steps,
            }
        })
        .collect();
    visit.page(&portal, "erasure.html", context! { requests => rows, open })
}

/// Files the request once the citizen ticked the confirmation; without it, the form again.
pub async fn ask(
    State(portal): State<Arc<Portal>>,
    CitizenPosted(Posted {
        visit,
        fields: form,
        ..
    }): CitizenPosted,
) -> Response {
    if form.get("confirm") != Some("yes") {
        return visit.redirect("/erasure");
    }
    match erasure::request_mine(&portal.app, &visit.caller).await {
        Ok(_) => visit.redirect("/erasure"),
        Err(e) => visit.problem(&portal, e),
    }
}
