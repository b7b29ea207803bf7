//! `/surveys/<token>`: the questionnaire a message asked the citizen to answer, opened
//! from its link with no sign-in (the platform's signature vouches for the link), and its
//! answers sent back. Once answered, the same link thanks them.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use civitas_crm::Error;
use civitas_crm::app::surveys::{self, Survey};
use civitas_crm::questionnaires::{QuestionKind, questions_of};
use minijinja::context;

use crate::Portal;
use crate::forms::Fields;
use crate::posted::Posted;
use crate::visit::Visit;

fn kind(k: QuestionKind) -> &'static str {
    match k {
        QuestionKind::Single => "single",
        QuestionKind::Multiple => "multiple",
        QuestionKind::Scale => "scale",
        QuestionKind::Nps => "nps",
        QuestionKind::Text => "text",
        QuestionKind::Date => "date",
    }
}

/// What went wrong, next to its question when the rule names one (`answers.<key> …`).
#[derive(Default)]
struct Sent {
    fields: Fields,
    problems: HashMap<String, String>,
    error: Option<String>,
}

fn render(visit: &Visit, portal: &Portal, token: &str, s: &Survey, sent: Sent) -> Response {
    let questions = questions_of(&s.version.questions);
    let values: HashMap<String, Vec<String>> = questions
        .iter()
        .map(|q| {
            let v = sent.fields.all(&format!("q.{}", q.key));
            (q.key.clone(), v.into_iter().map(str::to_owned).collect())
        })
        .collect();
    let questions: Vec<_> = questions
        .iter()
        .map(|q| {
            context! { key => q.key, text => q.text, kind => kind(q.kind), required => q.required, options => q.options }
        })
        .collect();
    let status = if sent.problems.is_empty() && sent.error.is_none() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    visit.page_with(
        portal,
        status,
        "survey.html",
        context! {
            token, questions, values,
            title => s.questionnaire.title,
            body => s.body.display_name,
            anonymous => s.questionnaire.anonymous,
            problems => sent.problems,
            error => sent.error,
            done => false,
        },
    )
}

fn thanks(visit: &Visit, portal: &Portal) -> Response {
    visit.page(
        portal,
        "survey.html",
        context! { done => true, problems => context! {} },
    )
}

pub async fn show(
    visit: Visit,
    State(portal): State<Arc<Portal>>,
    Path(token): Path<String>,
) -> Response {
    match surveys::by_link(&portal.app, &token).await {
        Ok(s) => render(&visit, &portal, &token, &s, Sent::default()),
        Err(Error::Conflict(_)) => thanks(&visit, &portal),
        Err(e) => visit.problem(&portal, e),
    }
}

pub async fn answer(
    State(portal): State<Arc<Portal>>,
    Path(token): Path<String>,
    Posted { visit, fields, .. }: Posted,
) -> Response {
    let s = match surveys::by_link(&portal.app, &token).await {
        Ok(s) => s,
        Err(Error::Conflict(_)) => return thanks(&visit, &portal),
        Err(e) => return visit.problem(&portal, e),
    };
    let given: Vec<(String, Vec<String>)> = questions_of(&s.version.questions)
        .iter()
        .map(|q| {
            let v = fields.all(&format!("q.{}", q.key));
            (q.key.clone(), v.into_iter().map(str::to_owned).collect())
        })
        .collect();
    match surveys::answer_by_link(&portal.app, &token, &given).await {
        Ok(_) => visit.redirect(&format!("/surveys/{token}")),
        Err(Error::Conflict(_)) => thanks(&visit, &portal),
        Err(Error::Validation(m)) => {
            let mut sent = Sent {
                fields,
                ..Default::default()
            };
            let key = m
                .strip_prefix("answers.")
                .and_then(|rest| rest.split([' ', ':']).next())
                .map(str::to_owned);
            match key {
                Some(k) => {
                    sent.problems.insert(k, m);
                }
                None => sent.error = Some(m),
            }
            render(&visit, &portal, &token, &s, sent)
        }
        Err(e) => visit.problem(&portal, e),
    }
}
