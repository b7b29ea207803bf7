//! Links the platform signs, so that a click needs no sign-in: the unsubscribe link of
//! every e-mail (`/unsubscribe?t=…`), which names a body, a person and a channel, and the
//! link to a survey (`/surveys/<token>`), which names a body and an invitation.

use std::sync::Arc;

use ring::hmac;
use uuid::Uuid;

use crate::channels::Channel;

/// Signs and checks link tokens with the platform's secret (HMAC-SHA256).
#[derive(Clone)]
pub struct LinkSigner(Arc<hmac::Key>);

/// What an unsubscribe link asks: that `tenant` stop using `channel` for `person`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unsubscribe {
    pub tenant: Uuid,
    pub person: Uuid,
    pub channel: Channel,
}

impl LinkSigner {
    pub fn new(secret: &[u8]) -> Self {
        LinkSigner(Arc::new(hmac::Key::new(hmac::HMAC_SHA256, secret)))
    }

    fn mac(&self, text: &str) -> String {
        hmac::sign(&self.0, text.as_bytes())
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// `<tenant>.<person>.<channel>.<hex mac>`: URL-safe as it is.
    pub fn unsubscribe_token(&self, u: Unsubscribe) -> String {
        let text = format!("{}.{}.{}", u.tenant, u.person, u.channel);
        let mac = self.mac(&format!("unsubscribe:{text}"));
        format!("{text}.{mac}")
    }

    /// The text of a token signed for `purpose`, if this platform signed it.
    fn checked<'t>(&self, purpose: &str, token: &'t str) -> Option<&'t str> {
        let (text, mac) = token.rsplit_once('.')?;
        let mac = (0..mac.len())
            .step_by(2)
            .map(|i| {
                mac.get(i..i + 2)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
            })
            .collect::<Option<Vec<u8>>>()?;
        hmac::verify(&self.0, format!("{purpose}:{text}").as_bytes(), &mac).ok()?;
        Some(text)
    }

    /// `<tenant>.<invitation>.<hex mac>`: whoever holds it answers that survey.
    pub fn survey_token(&self, tenant: Uuid, invitation: Uuid) -> String {
        let text = format!("{tenant}.{invitation}");
        let mac = self.mac(&format!("survey:{text}"));
        format!("{text}.{mac}")
    }

    /// The body and invitation a survey token names, if this platform signed it.
    pub fn check_survey(&self, token: &str) -> Option<(Uuid, Uuid)> {
        let text = self.checked("survey", token)?;
        let (tenant, invitation) = text.split_once('.')?;
        Some((tenant.parse().ok()?, invitation.parse().ok()?))
    }

    /// The request a token carries, if this platform signed it.
    pub fn check_unsubscribe(&self, token: &str) -> Option<Unsubscribe> {
        let text = self.checked("unsubscribe", token)?;
        let mut parts = text.split('.');
        let tenant = parts.next()?.parse().ok()?;
        let person = parts.next()?.parse().ok()?;
        let channel = parts.next()?.parse().ok()?;
        parts.next().is_none().then_some(Unsubscribe {
            tenant,
            person,
            channel,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_says_what_it_was_signed_for_and_nothing_else() {
        let s = LinkSigner::new(b"secret");
        let u = Unsubscribe {
            tenant: Uuid::now_v7(),
            person: Uuid::now_v7(),
            channel: Channel::Email,
        };
        let t = s.unsubscribe_token(u);
        assert_eq!(s.check_unsubscribe(&t), Some(u));
        assert_eq!(LinkSigner::new(b"other").check_unsubscribe(&t), None);
        let forged = t.replacen(&u.person.to_string(), &Uuid::now_v7().to_string(), 1);
        assert_eq!(s.check_unsubscribe(&forged), None);
        assert_eq!(s.check_unsubscribe("x"), None);
        assert_eq!(s.check_unsubscribe(""), None);
    }

    #[test]
    fn a_survey_link_is_not_an_unsubscribe_link() {
        let s = LinkSigner::new(b"secret");
        let (t, i) = (Uuid::now_v7(), Uuid::now_v7());
        let token = s.survey_token(t, i);
        assert_eq!(s.check_survey(&token), Some((t, i)));
        assert_eq!(s.check_unsubscribe(&token), None);
        assert_eq!(LinkSigner::new(b"other").check_survey(&token), None);
        let other = token.replacen(&i.to_string(), &Uuid::now_v7().to_string(), 1);
        assert_eq!(s.check_survey(&other), None);
    }
}
