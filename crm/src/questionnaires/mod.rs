//! Questionnaires: typed questions in versions (a published version never changes), and
//! answers checked against the version they answer. Satisfaction surveys are
//! questionnaires attached to a service; their first 1-5 scale question is the CSAT
//! question and their first 0-10 question the NPS one.

pub mod invitations;
pub mod kpis;
pub mod results;
pub mod store;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{Error, Result};

fn invalid(m: impl Into<String>) -> Error {
    Error::Validation(m.into())
}

/// What a question asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionKind {
    /// One of the options.
    Single,
    /// One or more of the options.
    Multiple,
    /// 1 (worst) to 5 (best).
    Scale,
    /// 0 to 10: how likely the citizen is to recommend the service.
    Nps,
    Text,
    Date,
}

impl QuestionKind {
    fn has_options(self) -> bool {
        matches!(self, QuestionKind::Single | QuestionKind::Multiple)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    /// Names the question in answers and results: letters, digits, `_`, `-`.
    pub key: String,
    pub text: String,
    pub kind: QuestionKind,
    pub required: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
}

const MAX_QUESTIONS: usize = 50;
const MAX_OPTIONS: usize = 20;
const MAX_TEXT_ANSWER: usize = 2_000;

fn key_ok(k: &str) -> bool {
    !k.is_empty()
        && k.len() <= 40
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Checks a version's questions: 1 to 50, keys unique, options where a choice needs them
/// (2 to 20, distinct) and nowhere else. Trims the texts.
pub fn check_questions(mut qs: Vec<Question>) -> Result<Vec<Question>> {
    if qs.is_empty() || qs.len() > MAX_QUESTIONS {
        return Err(invalid(format!(
            "questions: a questionnaire has 1 to {MAX_QUESTIONS} questions"
        )));
    }
    let mut keys = std::collections::HashSet::new();
    for (n, q) in qs.iter_mut().enumerate() {
        let at = format!("questions[{n}]");
        q.key = q.key.trim().to_owned();
        if !key_ok(&q.key) {
            return Err(invalid(format!(
                "{at}.key must be 1 to 40 letters, digits, '_' or '-'"
            )));
        }
        if !keys.insert(q.key.clone()) {
            return Err(invalid(format!("{at}.key: {:?} is used twice", q.key)));
        }
        q.text = q.text.trim().to_owned();
        if q.text.is_empty() || q.text.chars().count() > 500 {
            return Err(invalid(format!("{at}.text must be 1 to 500 characters")));
        }
        q.options = q.options.iter().map(|o| o.trim().to_owned()).collect();
        if q.kind.has_options() {
            let distinct: std::collections::HashSet<&String> = q.options.iter().collect();
            let ok = (2..=MAX_OPTIONS).contains(&q.options.len())
                && distinct.len() == q.options.len()
                && q.options
                    .iter()
                    .all(|o| !o.is_empty() && o.chars().count() <= 200);
            if !ok {
                return Err(invalid(format!(
                    "{at}.options: a choice has 2 to {MAX_OPTIONS} distinct options of 1 to 200 characters"
                )));
            }
        } else if !q.options.is_empty() {
            return Err(invalid(format!(
                "{at}.options: only a choice question has options"
            )));
        }
    }
    Ok(qs)
}

/// The questions stored in a version.
pub fn questions_of(v: &Value) -> Vec<Question> {
    serde_json::from_value(v.clone()).unwrap_or_default()
}

/// Checks a citizen's answers (question key → the values given) against `questions`:
/// every key names a question, every required question is answered, every value fits its
/// kind. Returns what is stored: numbers for scales, a list for multiple choices, text
/// otherwise.
pub fn check_answers(questions: &[Question], given: &[(String, Vec<String>)]) -> Result<Value> {
    let mut out = Map::new();
    for (key, values) in given {
        let Some(q) = questions.iter().find(|q| &q.key == key) else {
            return Err(invalid(format!("answers.{key}: no such question")));
        };
        if out.contains_key(key) {
            return Err(invalid(format!("answers.{key} is answered twice")));
        }
        let values: Vec<&str> = values
            .iter()
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
            .collect();
        if values.is_empty() {
            continue;
        }
        let one = || -> Result<&str> {
            match values.as_slice() {
                [v] => Ok(v),
                _ => Err(invalid(format!("answers.{key} takes one value"))),
            }
        };
        let value = match q.kind {
            QuestionKind::Single => {
                let v = one()?;
                if !q.options.iter().any(|o| o == v) {
                    return Err(invalid(format!("answers.{key}: {v:?} is not an option")));
                }
                Value::from(v)
            }
            QuestionKind::Multiple => {
                let mut chosen: Vec<&str> = vec![];
                for v in &values {
                    if !q.options.iter().any(|o| o == v) {
                        return Err(invalid(format!("answers.{key}: {v:?} is not an option")));
                    }
                    if !chosen.contains(v) {
                        chosen.push(v);
                    }
                }
                Value::from(chosen)
            }
            QuestionKind::Scale | QuestionKind::Nps => {
                let (lo, hi) = if q.kind == QuestionKind::Scale {
                    (1, 5)
                } else {
                    (0, 10)
                };
                match one()?.parse::<i64>() {
                    Ok(n) if (lo..=hi).contains(&n) => Value::from(n),
                    _ => {
                        return Err(invalid(format!(
                            "answers.{key} must be a whole number from {lo} to {hi}"
                        )));
                    }
                }
            }
            QuestionKind::Text => {
                let v = one()?;
                if v.chars().count() > MAX_TEXT_ANSWER {
                    return Err(invalid(format!(
                        "answers.{key} must be at most {MAX_TEXT_ANSWER} characters"
                    )));
                }
                Value::from(v)
            }
            QuestionKind::Date => {
                let v = one()?;
                if chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").is_err() {
                    return Err(invalid(format!(
                        "answers.{key} must be a date (YYYY-MM-DD)"
                    )));
                }
                Value::from(v)
            }
        };
        out.insert(key.clone(), value);
    }
    if let Some(q) = questions
        .iter()
        .find(|q| q.required && !out.contains_key(&q.key))
    {
        return Err(invalid(format!("answers.{} is required", q.key)));
    }
    Ok(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(key: &str, kind: QuestionKind, options: &[&str]) -> Question {
        Question {
            key: key.into(),
            text: "Domanda".into(),
            kind,
            required: true,
            options: options.iter().map(|o| o.to_string()).collect(),
        }
    }

    fn given(pairs: &[(&str, &[&str])]) -> Vec<(String, Vec<String>)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
            .collect()
    }

    #[test]
    fn questions_are_checked_and_named() {
        use QuestionKind::*;
        assert!(check_questions(vec![]).is_err());
        let e = check_questions(vec![q("a", Scale, &[]), q("a", Text, &[])]).expect_err("refused");
        assert!(e.to_string().contains("questions[1].key"), "{e}");
        let e = check_questions(vec![q("a", Single, &["sì"])]).expect_err("refused");
        assert!(e.to_string().contains("questions[0].options"), "{e}");
        let e = check_questions(vec![q("a", Single, &["sì", "sì"])]).expect_err("refused");
        assert!(e.to_string().contains("distinct"), "{e}");
        let e = check_questions(vec![q("a", Nps, &["x", "y"])]).expect_err("refused");
        assert!(e.to_string().contains("only a choice"), "{e}");
        let e = check_questions(vec![q("a b", Text, &[])]).expect_err("refused");
        assert!(e.to_string().contains("key"), "{e}");
        assert!(check_questions(vec![q("a", Single, &["sì", "no"]), q("b", Date, &[])]).is_ok());
    }

    #[test]
    fn answers_fit_their_question() {
        use QuestionKind::*;
        let qs = vec![
            q("voto", Scale, &[]),
            q("nps", Nps, &[]),
            q("canale", Single, &["web", "sportello"]),
            q("cosa", Multiple, &["tempi", "cortesia", "chiarezza"]),
            Question {
                required: false,
                ..q("note", Text, &[])
            },
            Question {
                required: false,
                ..q("quando", Date, &[])
            },
        ];
        let ok = check_answers(
            &qs,
            &given(&[
                ("voto", &["4"]),
                ("nps", &["10"]),
                ("canale", &["web"]),
                ("cosa", &["tempi", "cortesia", "tempi"]),
                ("quando", &["2026-11-30"]),
            ]),
        )
        .expect("valid");
        assert_eq!(ok["voto"], 4);
        assert_eq!(ok["cosa"], serde_json::json!(["tempi", "cortesia"]));
        assert!(ok.get("note").is_none());
        let bad = |pairs: &[(&str, &[&str])], says: &str| {
            let mut all = given(&[
                ("voto", &["4"]),
                ("nps", &["9"]),
                ("canale", &["web"]),
                ("cosa", &["tempi"]),
            ]);
            for (k, v) in given(pairs) {
                all.retain(|(key, _)| key != &k);
                all.push((k, v));
            }
            let e = check_answers(&qs, &all).expect_err("refused").to_string();
            assert!(e.contains(says), "{e} should say {says}");
        };
        bad(
            &[("voto", &["6"])],
            "answers.voto must be a whole number from 1 to 5",
        );
        bad(&[("voto", &["0"])], "answers.voto");
        bad(&[("nps", &["11"])], "answers.nps");
        bad(&[("nps", &["dieci"])], "answers.nps");
        bad(&[("canale", &["posta"])], "not an option");
        bad(&[("canale", &["web", "sportello"])], "takes one value");
        bad(&[("cosa", &["altro"])], "answers.cosa");
        bad(
            &[("quando", &["30/11/2026"])],
            "answers.quando must be a date",
        );
        bad(&[("chi", &["x"])], "answers.chi: no such question");
        bad(&[("voto", &[])], "answers.voto is required");
        bad(
            &[("note", &[&"x".repeat(2_001)])],
            "answers.note must be at most",
        );
    }
}
