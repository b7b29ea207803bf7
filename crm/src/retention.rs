//! Retention schedules: how many years a body keeps the cases of a service after they
//! close once their citizen asked for erasure (the records of an administrative procedure
//! are kept as the law and the body's schedule require), and the legal minimum its
//! administrators may not go below.

use std::collections::BTreeMap;

use chrono::{DateTime, Months, Utc};
use civitas_tenants::{Identity, Scope};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, sea_query::OnConflict,
};

use crate::entity::retention_rule;
use crate::{Error, Result};

/// The years a body keeps a case when it set no rule for its service nor a default: ten,
/// the span Italian bodies' conservation plans give most case files.
pub const DEFAULT_KEEP_YEARS: u32 = 10;

/// The longest schedule a body may set.
pub const MAX_YEARS: u32 = 100;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// `None`: the body's default, for every service without a rule of its own.
    pub service_code: Option<String>,
    pub keep_years: u32,
    pub minimum_years: u32,
    pub updated_by: String,
    pub updated_at: DateTime<Utc>,
}

impl From<retention_rule::Model> for Rule {
    fn from(m: retention_rule::Model) -> Self {
        Rule {
            service_code: (!m.service_code.is_empty()).then_some(m.service_code),
            keep_years: m.keep_years.max(0) as u32,
            minimum_years: m.minimum_years.max(0) as u32,
            updated_by: m.updated_by,
            updated_at: m.updated_at,
        }
    }
}

/// The body's rules, its default first, then by service code.
pub async fn rules(scope: &Scope) -> Result<Vec<Rule>> {
    Ok(scope
        .find::<retention_rule::Entity>()
        .order_by_asc(retention_rule::Column::ServiceCode)
        .all(scope.conn())
        .await?
        .into_iter()
        .map(Rule::from)
        .collect())
}

/// The body's schedule, to look services up in.
pub struct Schedule {
    default: u32,
    by_service: BTreeMap<String, u32>,
}

impl Schedule {
    pub async fn of(scope: &Scope) -> Result<Self> {
        let mut s = Schedule {
            default: DEFAULT_KEEP_YEARS,
            by_service: BTreeMap::new(),
        };
        for r in rules(scope).await? {
            match r.service_code {
                Some(code) => {
                    s.by_service.insert(code, r.keep_years);
                }
                None => s.default = r.keep_years,
            }
        }
        Ok(s)
    }

    /// The years the cases of `service_code` are kept.
    pub fn years(&self, service_code: &str) -> u32 {
        self.by_service
            .get(service_code)
            .copied()
            .unwrap_or(self.default)
    }
}

/// The day a case closed (or, still open, `now`) plus `years`.
pub fn kept_until(closed: Option<DateTime<Utc>>, now: DateTime<Utc>, years: u32) -> DateTime<Utc> {
    let from = closed.unwrap_or(now);
    from.checked_add_months(Months::new(years * 12))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Sets the rule of `service_code` (`None`: the body's default). `minimum_years` `None`
/// keeps the minimum already set (none: 0). VALIDATION when `keep_years` is below the
/// minimum or either is above [`MAX_YEARS`]; NOT_FOUND for a service the body does not
/// offer.
pub async fn set(
    scope: &Scope,
    by: &Identity,
    service_code: Option<&str>,
    keep_years: u32,
    minimum_years: Option<u32>,
    now: DateTime<Utc>,
) -> Result<Rule> {
    let code = service_code.unwrap_or("");
    if let Some(c) = service_code {
        crate::catalogue::by_code(scope, c).await?;
    }
    let current = scope
        .find::<retention_rule::Entity>()
        .filter(retention_rule::Column::ServiceCode.eq(code))
        .one(scope.conn())
        .await?;
    let minimum = minimum_years
        .or(current.map(|c| c.minimum_years.max(0) as u32))
        .unwrap_or(0);
    if keep_years > MAX_YEARS || minimum > MAX_YEARS {
        return Err(Error::Validation(format!(
            "keepYears and minimumYears are at most {MAX_YEARS}"
        )));
    }
    if keep_years < minimum {
        return Err(Error::Validation(format!(
            "keepYears {keep_years} is below the legal minimum of {minimum} years \
             set for this service"
        )));
    }
    let row = retention_rule::ActiveModel {
        tenant_id: Set(scope.tenant_id().0),
        service_code: Set(code.to_owned()),
        keep_years: Set(keep_years as i32),
        minimum_years: Set(minimum as i32),
        updated_by: Set(by.stored()),
        updated_at: Set(now),
    };
    retention_rule::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([
                retention_rule::Column::TenantId,
                retention_rule::Column::ServiceCode,
            ])
            .update_columns([
                retention_rule::Column::KeepYears,
                retention_rule::Column::MinimumYears,
                retention_rule::Column::UpdatedBy,
                retention_rule::Column::UpdatedAt,
            ])
            .to_owned(),
        )
        .exec(scope.conn())
        .await?;
    let saved = scope
        .find::<retention_rule::Entity>()
        .filter(retention_rule::Column::ServiceCode.eq(code))
        .one(scope.conn())
        .await?
        .ok_or(Error::NotFound("retention rule"))?;
    Ok(saved.into())
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn a_case_is_kept_for_whole_years_from_the_day_it_closed() {
        let closed = Utc
            .with_ymd_and_hms(2024, 2, 29, 12, 0, 0)
            .single()
            .expect("d");
        let now = Utc
            .with_ymd_and_hms(2026, 12, 1, 0, 0, 0)
            .single()
            .expect("d");
        assert_eq!(
            kept_until(Some(closed), now, 10),
            Utc.with_ymd_and_hms(2034, 2, 28, 12, 0, 0)
                .single()
                .expect("d")
        );
        assert_eq!(kept_until(None, now, 0), now, "open: from now");
    }
}
