//! A citizen's quiet hours at a body: a window of the day, in the body's time zone, when
//! nothing reaches them outside the inbox. A delivery that falls due inside it waits for
//! its end; it is not an attempt and counts against no retry.

use std::collections::HashMap;
use std::fmt;

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use civitas_tenants::{PersonScope, Scope};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::entity::quiet_hours;
use crate::{Error, Result};

/// From `start` up to (not including) `end`, minutes of the day; past midnight when
/// `end` is earlier than `start` (22:00 to 07:00).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuietHours {
    pub start: u16,
    pub end: u16,
}

fn minute(field: &str, v: &str) -> Result<u16> {
    let t = NaiveTime::parse_from_str(v.trim(), "%H:%M").map_err(|_| {
        Error::Validation(format!("{field}: a time of day as HH:MM, such as 22:00"))
    })?;
    Ok((t.hour() * 60 + t.minute()) as u16)
}

impl QuietHours {
    /// Parses `22:00` and `07:00`; an empty window is a VALIDATION error.
    pub fn parse(start: &str, end: &str) -> Result<Self> {
        let q = QuietHours {
            start: minute("start", start)?,
            end: minute("end", end)?,
        };
        if q.start == q.end {
            return Err(Error::Validation(
                "end: quiet hours must end at another time than they start".into(),
            ));
        }
        Ok(q)
    }

    fn contains(&self, m: u16) -> bool {
        if self.start < self.end {
            (self.start..self.end).contains(&m)
        } else {
            m >= self.start || m < self.end
        }
    }

    /// When a delivery due at `now` may leave: `now` outside the window, else the window's
    /// end in `zone` (on a day when the clock skips that minute, the first instant after).
    pub fn release(&self, now: DateTime<Utc>, zone: Tz) -> DateTime<Utc> {
        let local = now.with_timezone(&zone);
        let m = (local.hour() * 60 + local.minute()) as u16;
        if !self.contains(m) {
            return now;
        }
        let ahead = (self.end as i64 - m as i64).rem_euclid(24 * 60);
        let naive = local.naive_local() + Duration::minutes(ahead);
        let naive = naive
            .with_second(0)
            .and_then(|n| n.with_nanosecond(0))
            .unwrap_or(naive);
        zone.from_local_datetime(&naive)
            .earliest()
            .or_else(|| {
                zone.from_local_datetime(&(naive + Duration::hours(1)))
                    .earliest()
            })
            .map_or(now + Duration::minutes(ahead), |t| t.with_timezone(&Utc))
    }
}

impl fmt::Display for QuietHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hm = |m: u16| format!("{:02}:{:02}", m / 60, m % 60);
        write!(f, "{}-{}", hm(self.start), hm(self.end))
    }
}

/// Sets (or with `None` clears) `person`'s quiet hours at the scope's body.
pub async fn set(
    scope: &Scope,
    person: Uuid,
    hours: Option<QuietHours>,
    now: DateTime<Utc>,
) -> Result<()> {
    let Some(q) = hours else {
        scope
            .delete_many::<quiet_hours::Entity>()
            .filter(quiet_hours::Column::PersonId.eq(person))
            .exec(scope.conn())
            .await?;
        return Ok(());
    };
    let row = quiet_hours::ActiveModel {
        tenant_id: Set(scope.tenant_id().0),
        person_id: Set(person),
        start_minute: Set(q.start as i32),
        end_minute: Set(q.end as i32),
        updated_at: Set(now),
    };
    quiet_hours::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([quiet_hours::Column::TenantId, quiet_hours::Column::PersonId])
                .update_columns([
                    quiet_hours::Column::StartMinute,
                    quiet_hours::Column::EndMinute,
                    quiet_hours::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(scope.conn())
        .await?;
    Ok(())
}

fn of_row(r: &quiet_hours::Model) -> QuietHours {
    QuietHours {
        start: r.start_minute as u16,
        end: r.end_minute as u16,
    }
}

/// The quiet hours of `persons` at the scope's body.
pub async fn of(scope: &Scope, persons: &[Uuid]) -> Result<HashMap<Uuid, QuietHours>> {
    Ok(scope
        .find::<quiet_hours::Entity>()
        .filter(quiet_hours::Column::PersonId.is_in(persons.iter().copied()))
        .all(scope.conn())
        .await?
        .iter()
        .map(|r| (r.person_id, of_row(r)))
        .collect())
}

/// The scope's person's quiet hours at every body, by body.
pub async fn of_person(scope: &PersonScope) -> Result<Vec<(Uuid, QuietHours)>> {
    Ok(scope
        .find::<quiet_hours::Entity>()
        .order_by_asc(quiet_hours::Column::TenantId)
        .all(scope.conn())
        .await?
        .iter()
        .map(|r| (r.tenant_id, of_row(r)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().expect("an instant")
    }

    #[test]
    fn a_night_window_holds_until_its_end_in_the_bodys_zone() {
        let q = QuietHours::parse("22:00", "07:00").expect("valid");
        let rome = chrono_tz::Europe::Rome;
        // 23:30 in Rome (UTC+1 in winter): held until 07:00 Rome, 06:00 UTC.
        assert_eq!(
            q.release(at("2026-12-01T22:30:00Z"), rome),
            at("2026-12-02T06:00:00Z")
        );
        // 03:00 in Rome: the same morning.
        assert_eq!(
            q.release(at("2026-12-02T02:00:00Z"), rome),
            at("2026-12-02T06:00:00Z")
        );
        // 12:00 in Rome: not held.
        let noon = at("2026-12-02T11:00:00Z");
        assert_eq!(q.release(noon, rome), noon);
        // Summer time: 07:00 in Rome is 05:00 UTC.
        assert_eq!(
            q.release(at("2026-07-01T21:00:00Z"), rome),
            at("2026-07-02T05:00:00Z")
        );
    }

    #[test]
    fn a_day_window_and_bad_times() {
        let q = QuietHours::parse("13:00", "15:30").expect("valid");
        assert_eq!(q.to_string(), "13:00-15:30");
        let rome = chrono_tz::Europe::Rome;
        assert_eq!(
            q.release(at("2026-12-02T12:10:00Z"), rome),
            at("2026-12-02T14:30:00Z")
        );
        for (a, b) in [("25:00", "07:00"), ("22:00", "7"), ("08:00", "08:00")] {
            assert!(matches!(QuietHours::parse(a, b), Err(Error::Validation(_))));
        }
    }
}
