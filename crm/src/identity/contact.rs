//! Contact details, normalised so that the same phone or email always matches.

use std::fmt;

/// A phone number in E.164 (`+393331234567`). National Italian numbers (no prefix) are
/// taken as +39, the country every body of this deployment serves.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Phone(String);

impl Phone {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let trimmed = raw.trim();
        let mut digits = String::new();
        for c in trimmed.chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' | '.' | '/' | '(' | ')' | '+' => {}
                _ => return Err(format!("phone {raw:?} has a character that is not a digit")),
            }
        }
        let e164 = if trimmed.starts_with('+') {
            digits
        } else if let Some(rest) = digits.strip_prefix("00") {
            rest.to_owned()
        } else if digits.starts_with('3') || digits.starts_with('0') {
            format!("39{digits}")
        } else {
            return Err(format!(
                "phone {raw:?} needs its country prefix (such as +39)"
            ));
        };
        if !(8..=15).contains(&e164.len()) || e164.starts_with('0') {
            return Err(format!("phone {raw:?} is not a valid international number"));
        }
        Ok(Phone(format!("+{e164}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An email address, trimmed and lower-cased.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let s = raw.trim().to_lowercase();
        let valid = s.len() <= 254
            && s.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !s.contains(char::is_whitespace)
                    && s.matches('@').count() == 1
            });
        if valid {
            Ok(Email(s))
        } else {
            Err(format!("{raw:?} is not an email address"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The form of a name that search compares: lower case, accents and punctuation removed,
/// spaces single. "D'Àngelo  Núñez" becomes "d angelo nunez".
pub fn search_key(name: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let folded: String = name
        .nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::{Email, Phone, search_key};

    #[rstest]
    #[case("333 123 4567", "+393331234567")]
    #[case("+39 333-123-4567", "+393331234567")]
    #[case("0039 333 1234567", "+393331234567")]
    #[case("06 6710 1", "+390667101")]
    #[case("+44 20 7946 0958", "+442079460958")]
    fn phones(#[case] raw: &str, #[case] e164: &str) {
        assert_eq!(
            Phone::parse(raw).map(|p| p.to_string()),
            Ok(e164.to_owned())
        );
    }

    #[rstest]
    #[case("12")]
    #[case("call me")]
    #[case("555 1234")]
    #[case("+0 333")]
    fn bad_phones(#[case] raw: &str) {
        assert!(Phone::parse(raw).is_err());
    }

    #[rstest]
    #[case(" Mario.Rossi@Example.IT ", Some("mario.rossi@example.it"))]
    #[case("no-at-sign", None)]
    #[case("a@b", None)]
    #[case("a@@b.it", None)]
    fn emails(#[case] raw: &str, #[case] want: Option<&str>) {
        assert_eq!(
            Email::parse(raw)
                .ok()
                .map(|e| e.as_str().to_owned())
                .as_deref(),
            want
        );
    }

    #[test]
    fn names_fold_case_and_accents() {
        assert_eq!(search_key("  D'Àngelo   Núñez "), "d angelo nunez");
        assert_eq!(search_key("NICCOLÒ"), "niccolo");
    }
}
