//! The channels beside e-mail, each a provider's own request posted through the outbound
//! guard: a generic SMS HTTP gateway, the WhatsApp Business Cloud API, and the body's app
//! backend (a push, signed as webhooks are). Secrets are read at send time from the
//! environment variable the body's settings name, only if it is one of the body's own.

use civitas_crm::channels::Channel;
use civitas_crm::notify::NotificationSettings;
use civitas_crm::notify::outbox::Due;
use civitas_crm::notify::settings::body_secret;
use civitas_crm::notify::templates::Message;
use serde_json::{Value, json};

use crate::outbound::{Outbound, OutboundError};

/// Why a send failed, and whether trying again could help.
pub type Failure = (bool, String);

/// A refusal of the request itself (4xx but time-out and rate limit) or of its address is
/// final; anything else may pass later.
fn failure(e: OutboundError) -> Failure {
    let permanent = match e {
        OutboundError::Refused => true,
        OutboundError::Status(s) => (400..500).contains(&s) && s != 408 && s != 429,
        _ => false,
    };
    (permanent, e.to_string())
}

/// One line: WhatsApp refuses template parameters with new lines, tabs or runs of spaces.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Where a request goes, its headers and its body.
pub type Request = (String, Vec<(&'static str, String)>, Vec<u8>);

/// The request a provider receives for `d`: where, which headers, which JSON body.
pub fn request(
    settings: &NotificationSettings,
    body: &str,
    d: &Due,
    words: &Message,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Request, Failure> {
    let json_type = ("content-type", "application/json".to_owned());
    let none = |what: &str| (true, format!("the body sends no {what}"));
    let (url, mut headers, body): (String, Vec<(&'static str, String)>, Value) = match d.channel {
        Channel::Sms => {
            let g = settings.sms.as_ref().ok_or_else(|| none("SMS"))?;
            let auth = format!("Bearer {}", body_secret(body, &g.token_env)?);
            let body = json!({
                "from": g.sender,
                "to": d.to,
                "text": words.text.trim(),
                "reference": d.delivery_id,
            });
            (g.url.clone(), vec![("authorization", auth)], body)
        }
        Channel::Whatsapp => {
            let g = settings
                .whatsapp
                .as_ref()
                .ok_or_else(|| none("WhatsApp message"))?;
            let auth = format!("Bearer {}", body_secret(body, &g.token_env)?);
            let to = d.to.trim_start_matches('+');
            let body = match &g.template {
                Some(name) => json!({
                    "messaging_product": "whatsapp",
                    "recipient_type": "individual",
                    "to": to,
                    "type": "template",
                    "template": {
                        "name": name,
                        "language": { "code": d.language.tag() },
                        "components": [{
                            "type": "body",
                            "parameters": [{ "type": "text", "text": one_line(&words.text) }],
                        }],
                    },
                }),
                None => json!({
                    "messaging_product": "whatsapp",
                    "recipient_type": "individual",
                    "to": to,
                    "type": "text",
                    "text": { "preview_url": false, "body": words.text.trim() },
                }),
            };
            (g.messages_url(), vec![("authorization", auth)], body)
        }
        Channel::App => {
            let p = settings.push.as_ref().ok_or_else(|| none("push"))?;
            let key = body_secret(body, &p.secret_env)?;
            let body = json!({
                "notification": d.notification_id,
                "person": d.person_id,
                "kind": d.facts.kind,
                "language": d.language.tag(),
                "title": words.subject,
                "body": words.text.trim(),
                "case": d.facts.case_number.as_ref().map(|n| json!({ "number": n })),
            });
            let bytes = serde_json::to_vec(&body).map_err(|e| (true, e.to_string()))?;
            let signed = crate::webhooks::signature(&key, now.timestamp(), &bytes);
            let headers = vec![
                json_type,
                ("x-civitas-notification-id", d.notification_id.to_string()),
                ("x-civitas-signature", signed),
            ];
            return Ok((p.url.clone(), headers, bytes));
        }
        other => return Err((true, format!("the body cannot send on {other}"))),
    };
    headers.push(json_type);
    let bytes = serde_json::to_vec(&body).map_err(|e| (true, e.to_string()))?;
    Ok((url, headers, bytes))
}

/// Sends `d` on its gateway.
pub async fn send(
    out: &Outbound,
    settings: &NotificationSettings,
    body: &str,
    d: &Due,
    words: &Message,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), Failure> {
    let (url, headers, payload) = request(settings, body, d, words, now)?;
    out.post(&url, &headers, payload)
        .await
        .map(|_| ())
        .map_err(failure)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_request_is_final_and_a_busy_provider_is_tried_again() {
        assert!(failure(OutboundError::Status(400)).0);
        assert!(failure(OutboundError::Status(401)).0);
        assert!(failure(OutboundError::Refused).0);
        assert!(!failure(OutboundError::Status(429)).0);
        assert!(!failure(OutboundError::Status(503)).0);
        assert!(!failure(OutboundError::TimedOut).0);
        assert_eq!(one_line("a\n\n b\tc   d"), "a b c d");
    }
}
