//! What a questionnaire's answers say: per question, how many answered, the distribution
//! of choices and scores, averages and NPS; the response rate against the invitations;
//! the free text listed; everything as CSV. Answers are grouped by question key, so a key
//! kept across versions adds up; naming a version limits the results to it.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use civitas_tenants::Scope;
use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, QuerySelect, Select};
use serde_json::Value;
use uuid::Uuid;

use super::store::{self, Questionnaire};
use super::{Question, QuestionKind, questions_of};
use crate::Result;
use crate::entity::{survey_answer, survey_invitation};

/// Which answers count.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub version: Option<i32>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub service: Option<Uuid>,
    pub channel: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct QuestionResult {
    pub question: Question,
    pub answered: u64,
    /// Option (or score, as text) → how many chose it, in the question's order.
    pub counts: Vec<(String, u64)>,
    /// Of a scale or NPS question.
    pub average: Option<f64>,
    /// Of an NPS question: % promoters (9-10) − % detractors (0-6).
    pub nps: Option<f64>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Results {
    pub invited: u64,
    pub answered: u64,
    /// Answers per invitation, when there were invitations.
    pub response_rate: Option<f64>,
    pub questions: Vec<QuestionResult>,
}

fn answers_query(scope: &Scope, q: Uuid, f: &Filter) -> Select<survey_answer::Entity> {
    use survey_answer::Column as A;
    let mut s = scope
        .find::<survey_answer::Entity>()
        .filter(A::QuestionnaireId.eq(q));
    if let Some(v) = f.version {
        s = s.filter(A::Version.eq(v));
    }
    if let Some(t) = f.from {
        s = s.filter(A::SubmittedAt.gte(t));
    }
    if let Some(t) = f.to {
        s = s.filter(A::SubmittedAt.lt(t));
    }
    if let Some(sv) = f.service {
        s = s.filter(A::ServiceId.eq(sv));
    }
    if let Some(c) = &f.channel {
        s = s.filter(A::Channel.eq(c.clone()));
    }
    s
}

async fn invited(scope: &Scope, q: Uuid, f: &Filter) -> Result<u64> {
    use sea_orm::PaginatorTrait;
    use survey_invitation::Column as I;
    let mut s = scope
        .find::<survey_invitation::Entity>()
        .filter(I::QuestionnaireId.eq(q));
    if let Some(t) = f.from {
        s = s.filter(I::CreatedAt.gte(t));
    }
    if let Some(t) = f.to {
        s = s.filter(I::CreatedAt.lt(t));
    }
    if let Some(sv) = f.service {
        s = s.filter(I::ServiceId.eq(sv));
    }
    if let Some(c) = &f.channel {
        s = s.filter(I::Channel.eq(c.clone()));
    }
    Ok(s.count(scope.conn()).await?)
}

/// The questions results are about: the named version's, else the current (or latest).
async fn questions(scope: &Scope, q: &Questionnaire, f: &Filter) -> Result<Vec<Question>> {
    let versions = store::versions(scope, q.id).await?;
    let wanted = f.version.unwrap_or(q.current_version);
    let v = versions
        .iter()
        .find(|v| v.version == wanted)
        .or(versions.last());
    Ok(v.map(|v| questions_of(&v.questions)).unwrap_or_default())
}

fn score(v: &Value) -> Option<i64> {
    v.as_i64()
}

/// Tallies one question over the answers.
pub fn tally(q: &Question, answers: &[Value]) -> QuestionResult {
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    let (mut answered, mut sum, mut scored) = (0u64, 0i64, 0u64);
    let (mut promoters, mut detractors) = (0u64, 0u64);
    for a in answers {
        let Some(v) = a.get(&q.key) else { continue };
        answered += 1;
        match q.kind {
            QuestionKind::Single => {
                *counts.entry(v.as_str().unwrap_or("").into()).or_default() += 1
            }
            QuestionKind::Multiple => {
                for o in v.as_array().into_iter().flatten() {
                    *counts.entry(o.as_str().unwrap_or("").into()).or_default() += 1;
                }
            }
            QuestionKind::Scale | QuestionKind::Nps => {
                if let Some(n) = score(v) {
                    *counts.entry(n.to_string()).or_default() += 1;
                    sum += n;
                    scored += 1;
                    if n >= 9 {
                        promoters += 1;
                    } else if n <= 6 {
                        detractors += 1;
                    }
                }
            }
            QuestionKind::Text | QuestionKind::Date => {}
        }
    }
    let order: Vec<String> = match q.kind {
        QuestionKind::Single | QuestionKind::Multiple => q.options.clone(),
        QuestionKind::Scale => (1..=5).map(|n: i32| n.to_string()).collect(),
        QuestionKind::Nps => (0..=10).map(|n: i32| n.to_string()).collect(),
        _ => vec![],
    };
    let counts = order
        .into_iter()
        .map(|o| {
            let n = counts.get(&o).copied().unwrap_or(0);
            (o, n)
        })
        .collect();
    let is_score = matches!(q.kind, QuestionKind::Scale | QuestionKind::Nps);
    let average = (is_score && scored > 0).then(|| sum as f64 / scored as f64);
    let nps = (q.kind == QuestionKind::Nps && scored > 0)
        .then(|| 100.0 * (promoters as f64 - detractors as f64) / scored as f64);
    QuestionResult {
        question: q.clone(),
        answered,
        counts,
        average,
        nps,
    }
}

pub async fn results(scope: &Scope, id: Uuid, f: &Filter) -> Result<Results> {
    let q = store::get(scope, id).await?;
    let qs = questions(scope, &q, f).await?;
    let answers: Vec<Value> = answers_query(scope, id, f)
        .select_only()
        .column(survey_answer::Column::Answers)
        .into_tuple()
        .all(scope.conn())
        .await?;
    let invited = invited(scope, id, f).await?;
    let answered = answers.len() as u64;
    Ok(Results {
        invited,
        answered,
        response_rate: (invited > 0).then(|| answered as f64 / invited as f64),
        questions: qs.iter().map(|q| tally(q, &answers)).collect(),
    })
}

/// The free-text answers to the question `key`, newest first.
pub async fn texts(
    scope: &Scope,
    id: Uuid,
    key: &str,
    f: &Filter,
) -> Result<Vec<(DateTime<Utc>, String)>> {
    store::get(scope, id).await?;
    let rows: Vec<(DateTime<Utc>, Value)> = answers_query(scope, id, f)
        .select_only()
        .column(survey_answer::Column::SubmittedAt)
        .column(survey_answer::Column::Answers)
        .order_by_desc(survey_answer::Column::SubmittedAt)
        .into_tuple()
        .all(scope.conn())
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(at, a)| Some((at, a.get(key)?.as_str()?.to_owned())))
        .collect())
}

/// A CSV field: quoted, and a leading `=`, `+`, `-` or `@` defused so that a spreadsheet
/// does not run a citizen's text as a formula.
fn field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    format!("\"{}\"", s.replace('"', "\"\""))
}

fn cell(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join("; "),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// The answers as CSV: one row per answer, one column per question; the person only for
/// an identified questionnaire.
pub async fn csv(scope: &Scope, id: Uuid, f: &Filter) -> Result<String> {
    let q = store::get(scope, id).await?;
    let qs = questions(scope, &q, f).await?;
    let rows = answers_query(scope, id, f)
        .order_by_asc(survey_answer::Column::SubmittedAt)
        .order_by_asc(survey_answer::Column::Id)
        .all(scope.conn())
        .await?;
    let mut head = vec!["submitted_at", "version", "service_id", "channel"];
    if !q.anonymous {
        head.extend(["person_id", "case_id"]);
    }
    let mut out: Vec<String> = head.iter().map(|h| field(h)).collect();
    out.extend(qs.iter().map(|q| field(&q.key)));
    let mut text = out.join(",");
    text.push_str("\r\n");
    for r in rows {
        let mut line = vec![
            field(&r.submitted_at.to_rfc3339()),
            field(&r.version.to_string()),
            field(&r.service_id.map(|s| s.to_string()).unwrap_or_default()),
            field(&r.channel),
        ];
        if !q.anonymous {
            line.push(field(
                &r.person_id.map(|s| s.to_string()).unwrap_or_default(),
            ));
            line.push(field(&r.case_id.map(|s| s.to_string()).unwrap_or_default()));
        }
        line.extend(qs.iter().map(|q| field(&cell(r.answers.get(&q.key)))));
        text.push_str(&line.join(","));
        text.push_str("\r\n");
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nps_counts_promoters_against_detractors() {
        let q = Question {
            key: "nps".into(),
            text: "Consiglierebbe il servizio?".into(),
            kind: QuestionKind::Nps,
            required: true,
            options: vec![],
        };
        let answers: Vec<Value> = [10, 9, 8, 7, 6, 0]
            .iter()
            .map(|n| json!({ "nps": n }))
            .chain([json!({})])
            .collect();
        let r = tally(&q, &answers);
        assert_eq!(r.answered, 6);
        // 2 promoters, 2 detractors of 6.
        assert_eq!(r.nps, Some(0.0));
        assert_eq!(r.counts[10], ("10".into(), 1));
        assert_eq!(r.average, Some(40.0 / 6.0));
    }

    #[test]
    fn csv_fields_are_quoted_and_defused() {
        assert_eq!(field("a \"b\""), "\"a \"\"b\"\"\"");
        assert_eq!(field("=HYPERLINK(1)"), "\"'=HYPERLINK(1)\"");
        assert_eq!(cell(Some(&json!(["a", "b"]))), "a; b");
        assert_eq!(cell(Some(&json!(4))), "4");
    }
}
