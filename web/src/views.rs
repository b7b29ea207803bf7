//! The templates (minijinja, HTML auto-escaped) and what they may call: `t(key, …)` for
//! words from the catalogue in the page's language, `asset(path)` for a static file's URL,
//! and the `when` filter for a time in Italy's zone.

use std::sync::Arc;

use minijinja::value::Kwargs;
use minijinja::{Environment, Error, ErrorKind, State, Value};

use crate::assets::Assets;
use crate::i18n::{Catalogue, Lang};

/// Every template, by name; embedded so that the binary is the whole portal.
pub const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../templates/base.html")),
    ("macros.html", include_str!("../templates/macros.html")),
    ("home.html", include_str!("../templates/home.html")),
    ("sign_in.html", include_str!("../templates/sign_in.html")),
    ("services.html", include_str!("../templates/services.html")),
    ("service.html", include_str!("../templates/service.html")),
    (
        "request_form.html",
        include_str!("../templates/request_form.html"),
    ),
    ("requests.html", include_str!("../templates/requests.html")),
    ("request.html", include_str!("../templates/request.html")),
    (
        "notifications.html",
        include_str!("../templates/notifications.html"),
    ),
    ("consents.html", include_str!("../templates/consents.html")),
    (
        "access_log.html",
        include_str!("../templates/access_log.html"),
    ),
    ("erasure.html", include_str!("../templates/erasure.html")),
    (
        "restrictions.html",
        include_str!("../templates/restrictions.html"),
    ),
    (
        "delegations.html",
        include_str!("../templates/delegations.html"),
    ),
    ("profile.html", include_str!("../templates/profile.html")),
    ("problem.html", include_str!("../templates/problem.html")),
    ("status.html", include_str!("../templates/status.html")),
    ("survey.html", include_str!("../templates/survey.html")),
];

pub struct Views {
    env: Environment<'static>,
}

/// Italy's clock: the portal's citizens read times there.
const ZONE: chrono_tz::Tz = chrono_tz::Europe::Rome;

fn when(value: Value) -> String {
    let Some(s) = value.as_str() else {
        return String::new();
    };
    match chrono::DateTime::parse_from_rfc3339(s) {
        Ok(t) => t.with_timezone(&ZONE).format("%d/%m/%Y %H:%M").to_string(),
        Err(_) => s.to_owned(),
    }
}

impl Views {
    pub fn new(assets: &Assets) -> Result<Self, Error> {
        let catalogue =
            Arc::new(Catalogue::load().map_err(|e| Error::new(ErrorKind::InvalidOperation, e))?);
        let mut env = Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
        for (name, source) in TEMPLATES {
            env.add_template(name, source)?;
        }
        let words = catalogue.clone();
        env.add_function(
            "t",
            move |state: &State, key: &str, kwargs: Kwargs| -> Result<String, Error> {
                let lang = state
                    .lookup("lang")
                    .and_then(|l| l.as_str().and_then(Lang::from_tag))
                    .unwrap_or(Lang::It);
                let mut args = vec![];
                for k in kwargs.args() {
                    let v: Value = kwargs.get(k)?;
                    args.push((k, v.to_string()));
                }
                Ok(words.text(lang, key, &args))
            },
        );
        let urls: Vec<(String, String)> = TEMPLATES
            .iter()
            .flat_map(|(_, s)| s.split("asset(\"").skip(1))
            .filter_map(|p| p.split('"').next())
            .map(|p| (p.to_owned(), assets.url(p)))
            .collect();
        env.add_function("asset", move |path: &str| -> Value {
            // Our own URL: nothing in it to escape.
            Value::from_safe_string(
                urls.iter()
                    .find(|(p, _)| p == path)
                    .map(|(_, u)| u.clone())
                    .unwrap_or_default(),
            )
        });
        env.add_filter("when", when);
        Ok(Views { env })
    }

    pub fn render(&self, name: &str, ctx: Value) -> Result<String, Error> {
        self.env.get_template(name)?.render(ctx)
    }
}
