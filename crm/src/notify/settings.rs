//! A body's notification settings, kept under `notifications` in its settings: its e-mail
//! server, and its own words (templates per kind and language, words per case status).
//! Checked whole when an administrator saves them, so that the worker never meets a
//! template that does not compile or an address that does not parse.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use super::templates;
use crate::cases::CaseStatus;
use crate::channels::Channel;
use crate::identity::Email;
use crate::{Error, Result};

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NotificationSettings {
    /// Without it the body sends no e-mail (its notifications stay in the inbox).
    pub email: Option<EmailServer>,
    /// A generic SMS HTTP gateway; without it the body sends no SMS.
    pub sms: Option<SmsGateway>,
    /// The WhatsApp Business Cloud API; without it the body sends no WhatsApp message.
    pub whatsapp: Option<WhatsappGateway>,
    /// The body's app backend, which pushes to the citizen's devices; without it, no push.
    pub push: Option<PushEndpoint>,
    /// The zone the citizens' quiet hours are read in (IANA name); Europe/Rome by default.
    pub time_zone: Option<String>,
    /// Whether a citizen is told when their late request goes up to the office's managers
    /// (yes unless `false`).
    pub escalations: Option<bool>,
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

/// A generic SMS gateway: `POST url` with `{"from", "to", "text", "reference"}` as JSON and
/// the token as a bearer credential.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SmsGateway {
    pub url: String,
    /// The sender shown on the phone: an alphanumeric name (up to 11) or a number.
    pub sender: String,
    /// The environment variable that holds the gateway's token.
    pub token_env: String,
}

/// The WhatsApp Business Cloud API: `POST {baseUrl}/{apiVersion}/{phoneNumberId}/messages`.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WhatsappGateway {
    /// `https://graph.facebook.com` unless another is named (tests, a proxy).
    pub base_url: Option<String>,
    /// `v21.0` unless another is named.
    pub api_version: Option<String>,
    pub phone_number_id: String,
    /// The environment variable that holds the system user's access token.
    pub token_env: String,
    /// The approved message template to send, its one body parameter being the message: a
    /// business may start a conversation only with a template. Without it, a text message
    /// (delivered only inside the 24 hours after the citizen last wrote to the body).
    pub template: Option<String>,
}

/// The body's app backend: `POST url` with the notification as JSON, signed as webhooks are
/// (`X-Civitas-Signature`) with the secret held by the environment variable `secretEnv`.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PushEndpoint {
    pub url: String,
    pub secret_env: String,
}

impl WhatsappGateway {
    /// Where a message is posted.
    pub fn messages_url(&self) -> String {
        format!(
            "{}/{}/{}/messages",
            self.base_url
                .as_deref()
                .unwrap_or("https://graph.facebook.com")
                .trim_end_matches('/'),
            self.api_version.as_deref().unwrap_or("v21.0"),
            self.phone_number_id
        )
    }
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

    /// The settings as saved, which [`NotificationSettings::of`] checked then: read without
    /// checking again (templates are compiled and run to be checked), because every
    /// notification written and every worker pass reads them. Defaults if unreadable.
    pub fn saved(settings: &Value) -> Self {
        settings
            .get("notifications")
            .and_then(|v| Self::deserialize(v).ok())
            .unwrap_or_default()
    }

    fn validate(&self) -> Result<()> {
        if let Some(e) = &self.email {
            e.validate()?;
        }
        if let Some(g) = &self.sms {
            check_url("notifications.sms.url", &g.url)?;
            check_env("notifications.sms.tokenEnv", &g.token_env)?;
            let s = &g.sender;
            let name = s.len() <= 11 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b' ');
            let number = s.len() <= 16
                && s.strip_prefix('+')
                    .unwrap_or(s)
                    .bytes()
                    .all(|b| b.is_ascii_digit());
            if s.trim().is_empty() || !(name || number) {
                return Err(invalid(
                    "notifications.sms.sender: up to 11 letters and digits, or a phone number",
                ));
            }
        }
        if let Some(w) = &self.whatsapp {
            if let Some(u) = &w.base_url {
                check_url("notifications.whatsapp.baseUrl", u)?;
            }
            let word = |v: &str| {
                !v.is_empty()
                    && v.len() <= 64
                    && v.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_'))
            };
            if !w.api_version.as_deref().is_none_or(word) {
                return Err(invalid("notifications.whatsapp.apiVersion: like v21.0"));
            }
            if !word(&w.phone_number_id) {
                return Err(invalid(
                    "notifications.whatsapp.phoneNumberId: the number's id in the Cloud API",
                ));
            }
            if !w.template.as_deref().is_none_or(word) {
                return Err(invalid(
                    "notifications.whatsapp.template: a template name (letters, digits, _)",
                ));
            }
            check_env("notifications.whatsapp.tokenEnv", &w.token_env)?;
        }
        if let Some(p) = &self.push {
            check_url("notifications.push.url", &p.url)?;
            check_env("notifications.push.secretEnv", &p.secret_env)?;
        }
        if let Some(z) = &self.time_zone {
            z.parse::<chrono_tz::Tz>().map_err(|_| {
                invalid(format!(
                    "notifications.timeZone: {z:?} is not an IANA zone such as Europe/Rome"
                ))
            })?;
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

    /// The channels the body has the means to send on, beside the inbox.
    pub fn channels(&self) -> Vec<Channel> {
        [
            (self.email.is_some(), Channel::Email),
            (self.sms.is_some(), Channel::Sms),
            (self.whatsapp.is_some(), Channel::Whatsapp),
            (self.push.is_some(), Channel::App),
        ]
        .into_iter()
        .filter_map(|(on, c)| on.then_some(c))
        .collect()
    }

    /// Every secret the settings name must be one of the body `slug`'s own
    /// ([`secret_prefix`]); VALIDATION naming the setting otherwise.
    pub fn check_secrets(&self, slug: &str) -> Result<()> {
        let named = [
            (
                "email.passwordEnv",
                self.email.as_ref().and_then(|e| e.password_env.as_deref()),
            ),
            (
                "sms.tokenEnv",
                self.sms.as_ref().map(|g| g.token_env.as_str()),
            ),
            (
                "whatsapp.tokenEnv",
                self.whatsapp.as_ref().map(|w| w.token_env.as_str()),
            ),
            (
                "push.secretEnv",
                self.push.as_ref().map(|p| p.secret_env.as_str()),
            ),
        ];
        let prefix = secret_prefix(slug);
        for (field, name) in named {
            if let Some(name) = name
                && (!name.starts_with(&prefix) || name.len() == prefix.len())
            {
                return Err(invalid(format!(
                    "notifications.{field}: a secret of this body, named {prefix}…"
                )));
            }
        }
        Ok(())
    }

    /// The addresses of the body's gateways, by setting: the outbound guard is asked about
    /// them when they are saved, so that a refusal comes at once, not at the first message.
    pub fn gateway_urls(&self) -> Vec<(&'static str, &str)> {
        let mut urls = Vec::new();
        if let Some(g) = &self.sms {
            urls.push(("sms.url", g.url.as_str()));
        }
        if let Some(u) = self.whatsapp.as_ref().and_then(|w| w.base_url.as_deref()) {
            urls.push(("whatsapp.baseUrl", u));
        }
        if let Some(p) = &self.push {
            urls.push(("push.url", p.url.as_str()));
        }
        urls
    }

    /// Whether citizens hear of their requests' escalations.
    pub fn tell_escalations(&self) -> bool {
        self.escalations.unwrap_or(true)
    }

    /// The zone quiet hours are read in.
    pub fn zone(&self) -> chrono_tz::Tz {
        self.time_zone
            .as_deref()
            .and_then(|z| z.parse().ok())
            .unwrap_or(chrono_tz::Europe::Rome)
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

/// The start of every secret name a body may give: `CIVITAS_SECRET_<SLUG>__` (the slug
/// upper-cased, `-` as `_`). A slug has no `--` and no final `-`, so no body's prefix begins
/// another's; a body can name only the secrets the platform provisioned for it, never the
/// server's own (`CIVITAS_DATABASE_URL`) nor another body's.
pub fn secret_prefix(slug: &str) -> String {
    format!(
        "CIVITAS_SECRET_{}__",
        slug.to_ascii_uppercase().replace('-', "_")
    )
}

/// Why a secret the body `slug` names cannot be used, or its value: a name outside the
/// body's prefix is refused (permanently), one that is not set may be set later.
pub fn body_secret(slug: &str, name: &str) -> std::result::Result<String, (bool, String)> {
    let prefix = secret_prefix(slug);
    if !name.starts_with(&prefix) || name.len() == prefix.len() {
        return Err((
            true,
            format!("the secret {name} is not this body's (its names begin {prefix})"),
        ));
    }
    std::env::var(name).map_err(|_| (false, format!("the secret {name} is not set")))
}

/// An http(s) address with a host; whether it may be reached is the outbound guard's call
/// at send time.
fn check_url(field: &str, url: &str) -> Result<()> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    let ok = rest.is_some_and(|r| !r.is_empty() && !r.starts_with('/'))
        && url.len() <= 2000
        && !url.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(())
    } else {
        Err(invalid(format!("{field}: an http or https address")))
    }
}

/// Secrets are named, never stored: the name of an environment variable (a Kubernetes
/// secret mounted as one).
fn check_env(field: &str, name: &str) -> Result<()> {
    if !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
    {
        Ok(())
    } else {
        Err(invalid(format!(
            "{field}: the name of an environment variable (A-Z, 0-9, _)"
        )))
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
        if let Some(env) = &self.password_env {
            check_env("notifications.email.passwordEnv", env)?;
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
    fn a_body_names_only_its_own_secrets() {
        assert_eq!(secret_prefix("municipio-7"), "CIVITAS_SECRET_MUNICIPIO_7__");
        let s = of(
            json!({ "sms": { "url": "https://sms.example", "sender": "Roma",
            "tokenEnv": "CIVITAS_SECRET_ROMA__SMS" } }),
        )
        .expect("valid");
        assert!(s.check_secrets("roma").is_ok());
        for other in ["roma-ii", "ama"] {
            assert!(
                matches!(s.check_secrets(other), Err(Error::Validation(_))),
                "{other}"
            );
        }
        for stolen in [
            "CIVITAS_DATABASE_URL",
            "CIVITAS_SECRET_ROMA__",
            "CIVITAS_SECRET_ROMA_II__SMS",
        ] {
            assert!(
                matches!(body_secret("roma", stolen), Err((true, _))),
                "{stolen}"
            );
        }
        assert!(matches!(
            body_secret("roma", "CIVITAS_SECRET_ROMA__UNSET_IN_TESTS"),
            Err((false, _))
        ));
    }

    #[test]
    fn settings_are_checked_whole() {
        assert!(NotificationSettings::of(&json!({})).is_ok());
        let server = json!({ "host": "smtp.ama.example", "port": 587, "fromAddress": "noreply@ama.example" });
        assert!(of(json!({ "email": server })).is_ok());
        let all = of(json!({
            "sms": { "url": "https://sms.example/send", "sender": "RomaCap", "tokenEnv": "SMS_TOKEN" },
            "whatsapp": { "phoneNumberId": "106540352242922", "tokenEnv": "WA_TOKEN", "template": "aggiornamento_pratica" },
            "push": { "url": "https://app.example/push", "secretEnv": "PUSH_SECRET" },
            "timeZone": "Europe/Rome",
        }))
        .expect("valid");
        assert_eq!(
            all.channels(),
            [Channel::Sms, Channel::Whatsapp, Channel::App]
        );
        assert_eq!(
            all.whatsapp
                .as_ref()
                .map(WhatsappGateway::messages_url)
                .as_deref(),
            Some("https://graph.facebook.com/v21.0/106540352242922/messages")
        );
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
            json!({ "sms": { "url": "ftp://sms", "sender": "Comune", "tokenEnv": "T" } }),
            json!({ "sms": { "url": "https://sms", "sender": "Comune di Roma", "tokenEnv": "T" } }),
            json!({ "sms": { "url": "https://sms", "sender": "Comune", "tokenEnv": "lower" } }),
            json!({ "whatsapp": { "phoneNumberId": "1/2", "tokenEnv": "T" } }),
            json!({ "whatsapp": { "phoneNumberId": "12", "tokenEnv": "T", "template": "a b" } }),
            json!({ "push": { "url": "https://app.example", "secretEnv": "" } }),
            json!({ "timeZone": "Europe/Atlantis" }),
        ] {
            assert!(
                matches!(of(bad.clone()), Err(Error::Validation(_))),
                "{bad}"
            );
        }
    }
}
