//! Satisfaction KPIs of a body: per service, area, channel or for the whole body, over a
//! period. From the satisfaction surveys (questionnaires attached to a service): CSAT (%
//! of 4 and 5 on the first 1-5 question), NPS (first 0-10 question), response rate; from
//! the cases resolved in the period: time to resolution and the share within the SLA.
//! Only counts and rates leave this module: no person, no case, no free text.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use civitas_tenants::Scope;
use sea_orm::{ColumnTrait, QueryFilter, QuerySelect};
use serde_json::Value;
use uuid::Uuid;

use super::{QuestionKind, questions_of};
use crate::Result;
use crate::entity::{
    case, questionnaire, questionnaire_version, service, survey_answer, survey_invitation,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupBy {
    Service,
    Area,
    Channel,
    Body,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Kpi {
    /// The service code, area, channel, or the body's slug.
    pub group: String,
    /// A name for people: the service's name, or the group itself.
    pub label: String,
    pub invited: u64,
    pub answered: u64,
    pub response_rate: Option<f64>,
    /// % of CSAT answers that are 4 or 5.
    pub csat: Option<f64>,
    /// Mean of the CSAT answers (1-5).
    pub average_score: Option<f64>,
    pub nps: Option<f64>,
    pub resolved: u64,
    pub median_hours_to_resolution: Option<f64>,
    /// Share of the resolved cases resolved by their due time.
    pub within_sla: Option<f64>,
}

/// service, channel, created, due, resolved
type Resolved = (
    Uuid,
    String,
    DateTime<Utc>,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
);

#[derive(Default)]
struct Acc {
    invited: u64,
    answered: u64,
    csat: Vec<i64>,
    nps: Vec<i64>,
    hours: Vec<f64>,
    on_time: u64,
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    Some(if v.len().is_multiple_of(2) {
        (v[m - 1] + v[m]) / 2.0
    } else {
        v[m]
    })
}

fn pct(part: usize, whole: usize) -> Option<f64> {
    (whole > 0).then(|| 100.0 * part as f64 / whole as f64)
}

/// The figures of the scope's body between `from` and `to`, grouped.
pub async fn compute(
    scope: &Scope,
    by: GroupBy,
    body: &str,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
) -> Result<Vec<Kpi>> {
    let services: HashMap<Uuid, service::Model> = scope
        .find::<service::Entity>()
        .all(scope.conn())
        .await?
        .into_iter()
        .map(|s| (s.id, s))
        .collect();
    let group = |svc: Option<Uuid>, channel: &str| -> (String, String) {
        let s = svc.and_then(|id| services.get(&id));
        match by {
            GroupBy::Service => match s {
                Some(s) => (s.code.clone(), s.name.clone()),
                None => (String::new(), String::new()),
            },
            GroupBy::Area => {
                let a = s.map(|s| s.area.clone()).unwrap_or_default();
                (a.clone(), a)
            }
            GroupBy::Channel => (channel.to_owned(), channel.to_owned()),
            GroupBy::Body => (body.to_owned(), body.to_owned()),
        }
    };
    // Which question of each satisfaction survey version is the CSAT one and which NPS.
    let surveys: Vec<Uuid> = scope
        .find::<questionnaire::Entity>()
        .filter(questionnaire::Column::ServiceId.is_not_null())
        .select_only()
        .column(questionnaire::Column::Id)
        .into_tuple()
        .all(scope.conn())
        .await?;
    let keys: HashMap<Uuid, (Option<String>, Option<String>)> = scope
        .find::<questionnaire_version::Entity>()
        .filter(questionnaire_version::Column::QuestionnaireId.is_in(surveys.clone()))
        .all(scope.conn())
        .await?
        .into_iter()
        .map(|v| {
            let qs = questions_of(&v.questions);
            let first = |k: QuestionKind| qs.iter().find(|q| q.kind == k).map(|q| q.key.clone());
            (v.id, (first(QuestionKind::Scale), first(QuestionKind::Nps)))
        })
        .collect();
    let mut acc: BTreeMap<(String, String), Acc> = BTreeMap::new();

    let invited: Vec<(Option<Uuid>, String)> = scope
        .find::<survey_invitation::Entity>()
        .filter(survey_invitation::Column::QuestionnaireId.is_in(surveys.clone()))
        .filter(survey_invitation::Column::CreatedAt.gte(from))
        .filter(survey_invitation::Column::CreatedAt.lt(to))
        .select_only()
        .column(survey_invitation::Column::ServiceId)
        .column(survey_invitation::Column::Channel)
        .into_tuple()
        .all(scope.conn())
        .await?;
    for (svc, ch) in invited {
        acc.entry(group(svc, &ch)).or_default().invited += 1;
    }

    let answers: Vec<(Uuid, Option<Uuid>, String, Value)> = scope
        .find::<survey_answer::Entity>()
        .filter(survey_answer::Column::QuestionnaireId.is_in(surveys))
        .filter(survey_answer::Column::SubmittedAt.gte(from))
        .filter(survey_answer::Column::SubmittedAt.lt(to))
        .select_only()
        .column(survey_answer::Column::VersionId)
        .column(survey_answer::Column::ServiceId)
        .column(survey_answer::Column::Channel)
        .column(survey_answer::Column::Answers)
        .into_tuple()
        .all(scope.conn())
        .await?;
    for (version, svc, ch, a) in answers {
        let e = acc.entry(group(svc, &ch)).or_default();
        e.answered += 1;
        let (csat, nps) = keys.get(&version).cloned().unwrap_or_default();
        if let Some(n) = csat.and_then(|k| a.get(&k)?.as_i64()) {
            e.csat.push(n);
        }
        if let Some(n) = nps.and_then(|k| a.get(&k)?.as_i64()) {
            e.nps.push(n);
        }
    }

    let resolved: Vec<Resolved> = scope
        .find::<case::Entity>()
        .filter(case::Column::ResolvedAt.gte(from))
        .filter(case::Column::ResolvedAt.lt(to))
        .select_only()
        .column(case::Column::ServiceId)
        .column(case::Column::Channel)
        .column(case::Column::CreatedAt)
        .column(case::Column::DueAt)
        .column(case::Column::ResolvedAt)
        .into_tuple()
        .all(scope.conn())
        .await?;
    for (svc, ch, created, due, done) in resolved {
        let Some(done) = done else { continue };
        let e = acc.entry(group(Some(svc), &ch)).or_default();
        e.hours.push((done - created).num_seconds() as f64 / 3600.0);
        if done <= due {
            e.on_time += 1;
        }
    }

    Ok(acc
        .into_iter()
        .map(|((group, label), a)| {
            let good = a.csat.iter().filter(|n| **n >= 4).count();
            let promoters = a.nps.iter().filter(|n| **n >= 9).count();
            let detractors = a.nps.iter().filter(|n| **n <= 6).count();
            let resolved = a.hours.len();
            Kpi {
                group,
                label,
                invited: a.invited,
                answered: a.answered,
                response_rate: (a.invited > 0).then(|| a.answered as f64 / a.invited as f64),
                csat: pct(good, a.csat.len()),
                average_score: (!a.csat.is_empty())
                    .then(|| a.csat.iter().sum::<i64>() as f64 / a.csat.len() as f64),
                nps: pct(promoters, a.nps.len())
                    .zip(pct(detractors, a.nps.len()))
                    .map(|(p, d)| p - d),
                resolved: resolved as u64,
                median_hours_to_resolution: median(a.hours),
                within_sla: pct(a.on_time as usize, resolved),
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_and_percentages() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(pct(1, 4), Some(25.0));
        assert_eq!(pct(0, 0), None);
    }
}
