//! The Italian codice fiscale: parsed and validated once, then carried as a type.

use std::fmt;

/// Letters that stand for digits in an omocodia-adjusted code, 0 to 9.
const OMOCODIA: &[u8; 10] = b"LMNPQRSTUV";
const MONTHS: &[u8; 12] = b"ABCDEHLMPRST";
/// The check-character weights of characters in odd (1st, 3rd...) positions, for `0-9` and `A-Z`.
const ODD: [u32; 26] = [
    1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23,
];
/// Positions that hold digits, which omocodia may replace with letters.
const NUMERIC: [usize; 7] = [6, 7, 9, 10, 12, 13, 14];

/// A valid codice fiscale, upper case, as issued (omocodia letters kept).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FiscalCode(String);

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FiscalCodeError {
    #[error("a codice fiscale has 16 characters, not {0}")]
    Length(usize),
    #[error("character {position} of the codice fiscale must be {expected}")]
    Character {
        position: usize,
        expected: &'static str,
    },
    #[error("{0:?} is not a month code of the codice fiscale")]
    Month(char),
    #[error("day {0} is not a valid day of birth (1-31, or 41-71 for women)")]
    Day(u32),
    #[error("the check character should be {expected}, not {found}")]
    Check { expected: char, found: char },
}

fn digit_value(c: u8) -> Option<u32> {
    match c {
        b'0'..=b'9' => Some(u32::from(c - b'0')),
        _ => OMOCODIA.iter().position(|&l| l == c).map(|p| p as u32),
    }
}

fn check_character(first15: &[u8]) -> char {
    let sum: u32 = first15
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let idx = if c.is_ascii_digit() {
                c - b'0'
            } else {
                c - b'A'
            } as usize;
            if i % 2 == 0 { ODD[idx] } else { idx as u32 }
        })
        .sum();
    char::from(b'A' + (sum % 26) as u8)
}

impl FiscalCode {
    /// Checks format, month and day codes, omocodia substitutions and the check character.
    /// Spaces are ignored and letters may be lower case.
    pub fn parse(raw: &str) -> Result<Self, FiscalCodeError> {
        let s: String = raw
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_uppercase();
        if s.chars().count() != 16 {
            return Err(FiscalCodeError::Length(s.chars().count()));
        }
        if let Some(i) = s.chars().position(|c| !c.is_ascii_alphanumeric()) {
            return Err(FiscalCodeError::Character {
                position: i + 1,
                expected: "an unaccented letter or digit",
            });
        }
        let b = s.as_bytes();
        let letter = |i: usize| {
            if b[i].is_ascii_uppercase() {
                Ok(())
            } else {
                Err(FiscalCodeError::Character {
                    position: i + 1,
                    expected: "a letter",
                })
            }
        };
        for i in (0..6).chain([8, 11, 15]) {
            letter(i)?;
        }
        for i in NUMERIC {
            if digit_value(b[i]).is_none() {
                return Err(FiscalCodeError::Character {
                    position: i + 1,
                    expected: "a digit or one of LMNPQRSTUV",
                });
            }
        }
        if !MONTHS.contains(&b[8]) {
            return Err(FiscalCodeError::Month(char::from(b[8])));
        }
        let day = digit_value(b[9]).unwrap_or(0) * 10 + digit_value(b[10]).unwrap_or(0);
        if !(1..=31).contains(&day) && !(41..=71).contains(&day) {
            return Err(FiscalCodeError::Day(day));
        }
        let expected = check_character(&b[..15]);
        if char::from(b[15]) != expected {
            return Err(FiscalCodeError::Check {
                expected,
                found: char::from(b[15]),
            });
        }
        Ok(FiscalCode(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The `n`th of a family of distinct, valid codes (n below 26^6), born in Rome: for
    /// generated data sets, where the codes must pass the same checks as real ones.
    pub fn synthetic(n: u64) -> FiscalCode {
        let mut b = [b'A'; 16];
        let mut rest = n;
        for slot in b[..6].iter_mut().rev() {
            *slot = b'A' + (rest % 26) as u8;
            rest /= 26;
        }
        let year = 20 + n % 80;
        let day = 1 + (n / 12) % 28 + if n % 2 == 1 { 40 } else { 0 };
        let tail = format!(
            "{year:02}{}{day:02}H501",
            char::from(MONTHS[(n % 12) as usize])
        );
        b[6..15].copy_from_slice(tail.as_bytes());
        b[15] = check_character(&b[..15]) as u8;
        FiscalCode(String::from_utf8_lossy(&b).into_owned())
    }
}

impl fmt::Display for FiscalCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    #[rstest]
    #[case(0)]
    #[case(1)]
    #[case(999_999)]
    #[case(308_915_775)]
    fn synthetic_codes_are_valid(#[case] n: u64) {
        let code = FiscalCode::synthetic(n);
        assert_eq!(FiscalCode::parse(code.as_str()), Ok(code));
    }

    #[test]
    fn synthetic_codes_are_distinct() {
        let codes: std::collections::BTreeSet<_> = (0..5000).map(FiscalCode::synthetic).collect();
        assert_eq!(codes.len(), 5000);
    }

    use super::{FiscalCode, FiscalCodeError};

    #[rstest]
    #[case::classic("RSSMRA85T10A562S")]
    #[case::lower_case_and_spaces("rssmra 85t10 a562s")]
    #[case::woman("BNCLRA90D45F205B")]
    #[case::born_abroad("MRNLCU75C22Z330F")]
    #[case::omocodia_one("RSSMRA85T10A56NH")]
    #[case::omocodia_two("RSSMRA85T10A5SNT")]
    #[case::omocodia_everywhere("RSSMRAURTMLALRNG")]
    fn valid(#[case] raw: &str) {
        let fc = FiscalCode::parse(raw).expect("valid");
        assert_eq!(fc.as_str().len(), 16);
        assert!(
            fc.as_str()
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        );
    }

    #[rstest]
    #[case::short("RSSMRA85T10A562", FiscalCodeError::Length(15))]
    #[case::long("RSSMRA85T10A562SX", FiscalCodeError::Length(17))]
    #[case::digit_in_surname("R5SMRA85T10A562S", FiscalCodeError::Character { position: 2, expected: "a letter" })]
    #[case::bad_year("RSSMRA8XT10A562S", FiscalCodeError::Character { position: 8, expected: "a digit or one of LMNPQRSTUV" })]
    #[case::bad_month("RSSMRA85F10A562S", FiscalCodeError::Month('F'))]
    #[case::day_zero("RSSMRA85T00A562S", FiscalCodeError::Day(0))]
    #[case::day_32("RSSMRA85T32A562S", FiscalCodeError::Day(32))]
    #[case::day_72("RSSMRA85T72A562S", FiscalCodeError::Day(72))]
    #[case::place_not_letter("RSSMRA85T101562S", FiscalCodeError::Character { position: 12, expected: "a letter" })]
    #[case::check_digit("RSSMRA85T10A5621", FiscalCodeError::Character { position: 16, expected: "a letter" })]
    #[case::wrong_check("RSSMRA85T10A562T", FiscalCodeError::Check { expected: 'S', found: 'T' })]
    #[case::non_ascii("RSSMRÀ85T10A562S", FiscalCodeError::Character { position: 6, expected: "an unaccented letter or digit" })]
    fn invalid(#[case] raw: &str, #[case] err: FiscalCodeError) {
        assert_eq!(FiscalCode::parse(raw), Err(err));
    }
}
