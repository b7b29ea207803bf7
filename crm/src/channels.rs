//! Where a citizen and a body meet: the channels a contact, a case or a consent comes in on,
//! and the kinds of contact data a profile holds.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::Error;

/// A channel of contact. Stored and sent as its lower-case word.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Counter,
    Phone,
    Email,
    Web,
    App,
    Whatsapp,
    Sms,
    Chatbot,
    Social,
    Post,
    Pec,
}

impl Channel {
    pub const ALL: [Channel; 11] = [
        Channel::Counter,
        Channel::Phone,
        Channel::Email,
        Channel::Web,
        Channel::App,
        Channel::Whatsapp,
        Channel::Sms,
        Channel::Chatbot,
        Channel::Social,
        Channel::Post,
        Channel::Pec,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Channel::Counter => "counter",
            Channel::Phone => "phone",
            Channel::Email => "email",
            Channel::Web => "web",
            Channel::App => "app",
            Channel::Whatsapp => "whatsapp",
            Channel::Sms => "sms",
            Channel::Chatbot => "chatbot",
            Channel::Social => "social",
            Channel::Post => "post",
            Channel::Pec => "pec",
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Channel {
    type Err = Error;

    /// Case and surrounding blanks do not matter; an unknown word is a VALIDATION error
    /// that lists the known ones.
    fn from_str(s: &str) -> Result<Self, Error> {
        let word = s.trim().to_lowercase();
        Channel::ALL
            .into_iter()
            .find(|c| c.as_str() == word)
            .ok_or_else(|| {
                let known: Vec<&str> = Channel::ALL.iter().map(|c| c.as_str()).collect();
                Error::Validation(format!("channel must be one of {}", known.join(", ")))
            })
    }
}

/// The kinds of contact data a profile holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactKind {
    Email,
    Phone,
}

impl ContactKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            ContactKind::Email => "email",
            ContactKind::Phone => "phone",
        }
    }
}

impl fmt::Display for ContactKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_channel_reads_back_from_its_word() {
        for c in Channel::ALL {
            assert_eq!(c.as_str().parse::<Channel>().expect("its own word"), c);
            assert_eq!(serde_json::to_value(c).expect("serialisable"), c.as_str());
        }
        assert_eq!(
            " WhatsApp ".parse::<Channel>().expect("trimmed, any case"),
            Channel::Whatsapp
        );
    }

    #[test]
    fn an_unknown_channel_is_a_validation_error_naming_the_known_ones() {
        match "fax".parse::<Channel>() {
            Err(Error::Validation(m)) => assert!(m.contains("counter") && m.contains("pec"), "{m}"),
            other => panic!("{other:?}"),
        }
    }
}
