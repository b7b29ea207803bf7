//! A body's notification settings, kept under `notifications` in its settings: its e-mail
//! server, and its own words (templates per kind and language, words per case status).
//! Checked whole when an administrator saves them, so that the worker never meets a
//! template that does not compile or an address that does not parse.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use super::templates;
use crate::cases::CaseStatus;
use crate::identity::Email;
use crate::{Error, Result};

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NotificationSettings {
    /// Without it the body sends no e-mail (its notifications stay in the inbox).
    pub email: Option<EmailServer>,
    /// By notification kind (`case.status_changed`…, or `*` for every kind), then language.
    #[serde(default)]
    pub templates: BTreeMap<String, BTreeMap<String, Template>>,
    /// By language, then status (`in_progress`…): how the body names each status.
    #[serde(default)]
    pub status_words: BTreeMap<String, BTreeMap<String, String>>,
}

/// How the connection to the SMTP server is protected.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// Plain, then STARTTLS, which must succeed.
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: a relay on the same host or network only, and never with credentials.
    None,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EmailServer {
    pub host: String,
    pub port: u16,
    #[serde(default)]
    pub security: Security,
    pub username: Option<String>,
    /// The name of the environment variable that holds the password (a Kubernetes secret
    /// mounted as one): the password itself is never stored in the settings.
    pub password_env: Option<String>,
    pub from_address: String,
    pub from_name: Option<String>,
}

/// A body's own words for one kind and language; a part left out keeps the default.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Template {
    pub subject: Option<String>,
    pub text: Option<String>,
    pub html: Option<String>,
}

pub const LANGUAGES: [&str; 2] = ["it", "en"];

fn invalid(m: impl Into<String>) -> Error {
    Error::Validation(m.into())
}

impl NotificationSettings {
    /// The settings under `notifications` of a body's settings, checked; the defaults when
    /// there are none.
    pub fn of(settings: &Value) -> Result<Self> {
        let Some(v) = settings.get("notifications") else {
            return Ok(Self::default());
        };
        let s: NotificationSettings = serde_json::from_value(v.clone())
            .map_err(|e| invalid(format!("notifications: {e}")))?;
        s.validate()?;
        Ok(s)
    }

    fn validate(&self) -> Result<()> {
        if let Some(e) = &self.email {
            e.validate()?;
        }
        for (kind, by_lang) in &self.templates {
            if kind != "*" && !crate::webhooks::EVENT_TYPES.contains(&kind.as_str()) {
                return Err(invalid(format!(
                    "notifications.templates: unknown kind {kind:?} (one of *, {})",
                    crate::webhooks::EVENT_TYPES.join(", ")
                )));
            }
            for (lang, t) in by_lang {
                check_language("notifications.templates", lang)?;
                for (part, src) in [
                    ("subject", &t.subject),
                    ("text", &t.text),
                    ("html", &t.html),
                ] {
                    if let Some(src) = src {
                        templates::check(part, src).map_err(|e| {
                            invalid(format!("notifications.templates.{kind}.{lang}.{part}: {e}"))
                        })?;
                    }
                }
            }
        }
        for (lang, words) in &self.status_words {
            check_language("notifications.statusWords", lang)?;
            for (status, w) in words {
                status.parse::<CaseStatus>().map_err(|_| {
                    invalid(format!(
                        "notifications.statusWords.{lang}: unknown status {status:?}"
                    ))
                })?;
                if w.trim().is_empty() || w.chars().count() > 100 {
                    return Err(invalid(format!(
                        "notifications.statusWords.{lang}.{status}: 1 to 100 characters"
                    )));
                }
            }
        }
        Ok(())
    }

    /// The body's words for `status` in `lang`, if it chose its own.
    pub fn status_words(&self, lang: &str, status: CaseStatus) -> Option<&str> {
        self.status_words
            .get(lang)
            .and_then(|w| w.get(status.as_str()))
            .map(String::as_str)
    }

    /// The body's template part for `kind` in `lang`: the kind's own, else its `*`.
    pub fn template(&self, kind: &str, lang: &str, part: &str) -> Option<&str> {
        [kind, "*"].iter().find_map(|k| {
            let t = self.templates.get(*k)?.get(lang)?;
            match part {
                "subject" => t.subject.as_deref(),
                "text" => t.text.as_deref(),
                _ => t.html.as_deref(),
            }
        })
    }
}

fn check_language(field: &str, lang: &str) -> Result<()> {
    if LANGUAGES.contains(&lang) {
        Ok(())
    } else {
        Err(invalid(format!(
            "{field}: unknown language {lang:?} (it, en)"
        )))
    }
}

impl EmailServer {
    fn validate(&self) -> Result<()> {
        let host_ok = !self.host.is_empty()
            && self.host.len() <= 253
            && self.host.bytes().all(|b| {
                b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']')
            });
        if !host_ok {
            return Err(invalid(
                "notifications.email.host: not a host name or address",
            ));
        }
        if self.port == 0 {
            return Err(invalid("notifications.email.port: 1 to 65535"));
        }
        Email::parse(&self.from_address)
            .map_err(|e| invalid(format!("notifications.email.fromAddress: {e}")))?;
        if let Some(n) = &self.from_name
            && (n.chars().count() > 100 || n.chars().any(char::is_control))
        {
            return Err(invalid(
                "notifications.email.fromName: at most 100 characters, one line",
            ));
        }
        match (&self.username, &self.password_env) {
            (Some(_), None) | (None, Some(_)) => {
                return Err(invalid(
                    "notifications.email: username and passwordEnv go together",
                ));
            }
            (Some(_), Some(_)) if self.security == Security::None => {
                return Err(invalid(
                    "notifications.email: credentials are never sent without TLS (security: starttls or tls)",
                ));
            }
            _ => {}
        }
        if let Some(env) = &self.password_env
            && (env.is_empty()
                || !env
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'))
        {
            return Err(invalid(
                "notifications.email.passwordEnv: the name of an environment variable (A-Z, 0-9, _)",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn of(v: Value) -> Result<NotificationSettings> {
        NotificationSettings::of(&json!({ "notifications": v }))
    }

    #[test]
    fn settings_are_checked_whole() {
        assert!(NotificationSettings::of(&json!({})).is_ok());
        let server = json!({ "host": "smtp.ama.example", "port": 587, "fromAddress": "noreply@ama.example" });
        assert!(of(json!({ "email": server })).is_ok());
        for bad in [
            json!({ "email": { "host": "smtp", "port": 25, "fromAddress": "not an address" } }),
            json!({ "email": { "host": "smtp", "port": 25, "fromAddress": "a@b.it", "security": "none", "username": "u", "passwordEnv": "P" } }),
            json!({ "email": { "host": "smtp", "port": 25, "fromAddress": "a@b.it", "username": "u" } }),
            json!({ "email": { "host": "bad host", "port": 25, "fromAddress": "a@b.it" } }),
            json!({ "templates": { "case.unknown": { "it": { "subject": "x" } } } }),
            json!({ "templates": { "*": { "fr": { "subject": "x" } } } }),
            json!({ "templates": { "*": { "it": { "subject": "{{ unclosed" } } } }),
            json!({ "statusWords": { "it": { "lost": "perduta" } } }),
            json!({ "surprise": true }),
        ] {
            assert!(
                matches!(of(bad.clone()), Err(Error::Validation(_))),
                "{bad}"
            );
        }
    }
}
