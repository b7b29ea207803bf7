use std::fmt;

use crate::Error;

/// A tenant's URL-safe short name, such as `roma` or `municipio-i`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TenantSlug(String);

/// Names that would be confusing or collide with routes and the platform domain.
const RESERVED: &[&str] = &["platform", "admin", "api", "graphql", "system", "www"];

impl TenantSlug {
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let s = raw.trim();
        let invalid = |why: &str| Err(Error::Validation(format!("invalid slug {s:?}: {why}")));
        if s.len() < 2 || s.len() > 63 {
            return invalid("must be 2 to 63 characters long");
        }
        if !s
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return invalid("only lowercase letters, digits and '-' are allowed");
        }
        if !s.as_bytes()[0].is_ascii_lowercase() {
            return invalid("must start with a letter");
        }
        if s.ends_with('-') || s.contains("--") {
            return invalid("'-' may not end the slug or be doubled");
        }
        if RESERVED.contains(&s) {
            return invalid("this name is reserved");
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TenantSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::TenantSlug;

    #[rstest]
    #[case("roma")]
    #[case("municipio-xv")]
    #[case("comune-di-tivoli2")]
    #[case("ab")]
    fn valid(#[case] s: &str) {
        assert_eq!(
            TenantSlug::parse(s).map(|t| t.to_string()).ok().as_deref(),
            Some(s)
        );
    }

    #[rstest]
    #[case::too_short("a")]
    #[case::too_long(&"a".repeat(64))]
    #[case::upper("Roma")]
    #[case::space("roma capitale")]
    #[case::leading_digit("1roma")]
    #[case::trailing_hyphen("roma-")]
    #[case::double_hyphen("roma--i")]
    #[case::reserved("platform")]
    #[case::accent("città")]
    fn invalid(#[case] s: &str) {
        assert!(TenantSlug::parse(s).is_err(), "{s:?} should be refused");
    }
}
