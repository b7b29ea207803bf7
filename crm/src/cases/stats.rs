//! Supervisors' dashboard figures: where open cases are, how many are late, how long
//! resolution takes.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use civitas_tenants::Scope;
use sea_orm::{ColumnTrait, QueryFilter, QuerySelect};
use serde::Serialize;

use super::CaseStatus;
use crate::Result;
use crate::entity::case;

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CaseStats {
    pub open_by_status: BTreeMap<String, u64>,
    /// By service id.
    pub open_by_service: BTreeMap<uuid::Uuid, u64>,
    /// By team; `""` for cases without a team.
    pub open_by_team: BTreeMap<String, u64>,
    pub overdue: u64,
    /// Median hours from opening to resolution, of resolved and closed cases.
    pub median_hours_to_resolution: Option<f64>,
}

/// status, service, team, due, created, resolved
type Row = (
    String,
    uuid::Uuid,
    Option<String>,
    DateTime<Utc>,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
);

/// The figures of the scope's body. Reads only the columns it needs.
pub async fn compute(scope: &Scope, now: DateTime<Utc>) -> Result<CaseStats> {
    let rows: Vec<Row> = scope
        .find::<case::Entity>()
        .select_only()
        .column(case::Column::Status)
        .column(case::Column::ServiceId)
        .column(case::Column::AssignedTeam)
        .column(case::Column::DueAt)
        .column(case::Column::CreatedAt)
        .column(case::Column::ResolvedAt)
        .filter(case::Column::Status.is_not_null())
        .into_tuple()
        .all(scope.conn())
        .await?;
    let mut stats = CaseStats::default();
    let mut durations = Vec::new();
    for (status, service, team, due, created, resolved) in rows {
        let open = status
            .parse::<CaseStatus>()
            .map(|s| s.is_open())
            .unwrap_or(false);
        if open {
            *stats.open_by_status.entry(status).or_default() += 1;
            *stats.open_by_service.entry(service).or_default() += 1;
            *stats
                .open_by_team
                .entry(team.unwrap_or_default())
                .or_default() += 1;
            if due < now {
                stats.overdue += 1;
            }
        } else if let Some(r) = resolved {
            durations.push((r - created).num_seconds() as f64 / 3600.0);
        }
    }
    durations.sort_by(|a, b| a.total_cmp(b));
    stats.median_hours_to_resolution = match durations.len() {
        0 => None,
        n if n % 2 == 1 => Some(durations[n / 2]),
        n => Some((durations[n / 2 - 1] + durations[n / 2]) / 2.0),
    };
    Ok(stats)
}
