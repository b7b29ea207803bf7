//! SLA escalation: overdue open cases climb one level at a time (operator, supervisor,
//! head of office), one more level for each further SLA period overdue.

use chrono::{DateTime, Utc};
use civitas_tenants::{Db, Notice, TenantContext, TenantStatus, registry};
use sea_orm::{ColumnTrait, QueryFilter};

use super::{Actor, Case, CaseStatus, ESCALATION_OWNERS, escalate};
use crate::Result;
use crate::entity::case;
use crate::ids::CaseId;

/// The level an open case opened at `created_at`, due at `due_at`, should have reached by
/// `now`: none until it is due, then one more for each SLA period it runs late, up to the
/// head of office.
fn due_level(created_at: DateTime<Utc>, due_at: DateTime<Utc>, now: DateTime<Utc>) -> i32 {
    if now <= due_at {
        return 0;
    }
    let period = (due_at - created_at).num_seconds().max(1);
    let overdue = (now - due_at).num_seconds();
    let level = 1 + overdue / period;
    level.min(ESCALATION_OWNERS.len() as i64 - 1) as i32
}

/// Escalates every overdue case of every active body by one level where it is behind.
/// Returns the escalated cases. Safe to run on several replicas at once: each
/// case's level only ever grows to its due level.
pub async fn escalate_overdue(db: &Db, now: DateTime<Utc>) -> Result<Vec<Case>> {
    Ok(run(db, now).await?.0)
}

/// As [`escalate_overdue`], returning the notices of the escalations for the caller to
/// deliver (see [`crate::events::EventBus::committed`]) and each active body's overdue
/// count (for metrics).
pub async fn escalate_and_count(
    db: &Db,
    now: DateTime<Utc>,
) -> Result<(Vec<Notice>, OverdueByTenant)> {
    let (_, notices, overdue) = run(db, now).await?;
    Ok((notices, overdue))
}

type OverdueByTenant = std::collections::BTreeMap<String, u64>;

async fn run(db: &Db, now: DateTime<Utc>) -> Result<(Vec<Case>, Vec<Notice>, OverdueByTenant)> {
    let mut overdue_by_tenant = std::collections::BTreeMap::new();
    let actor = Actor {
        subject: "system:sla".into(),
        on_behalf_of: None,
        channel: crate::channels::Channel::Web,
    };
    let mut escalated = Vec::new();
    let mut notices = Vec::new();
    for tenant in registry::list(db).await? {
        if tenant.status != TenantStatus::Active {
            continue;
        }
        let ctx = TenantContext::system(tenant, "sla");
        let scope = db.scope(&ctx).await?;
        let open = [CaseStatus::Resolved, CaseStatus::Closed].map(|s| s.to_string());
        let overdue = scope
            .find::<case::Entity>()
            .filter(case::Column::DueAt.lt(now))
            .filter(case::Column::Status.is_not_in(open))
            .filter(super::store::usable(&scope))
            .all(scope.conn())
            .await?;
        overdue_by_tenant.insert(ctx.tenant.slug.to_string(), overdue.len() as u64);
        for c in overdue {
            if c.escalation_level < due_level(c.created_at, c.due_at, now) {
                let reason = format!("overdue since {}", c.due_at.to_rfc3339());
                escalated.push(escalate(&scope, &actor, CaseId(c.id), &reason, now).await?);
            }
        }
        notices.extend(scope.commit_notices().await?);
    }
    if !escalated.is_empty() {
        tracing::info!(escalated = escalated.len(), "overdue cases escalated");
    }
    Ok((escalated, notices, overdue_by_tenant))
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone, Utc};

    use super::due_level;

    #[test]
    fn a_late_case_climbs_one_level_per_sla_period_up_to_the_head_of_office() {
        let opened = Utc
            .with_ymd_and_hms(2026, 3, 2, 9, 0, 0)
            .single()
            .expect("a date");
        let due = opened + Duration::hours(24);
        let at = |h: i64| due_level(opened, due, due + Duration::hours(h));
        assert_eq!(due_level(opened, due, opened), 0, "not yet due");
        assert_eq!(at(0), 0, "due this instant is not late");
        assert_eq!(at(1), 1, "late: the supervisors");
        assert_eq!(at(23), 1);
        assert_eq!(at(24), 2, "a whole period late: the head of office");
        assert_eq!(at(24 * 30), 2, "no level above the head of office");
    }

    #[test]
    fn a_case_due_when_opened_escalates_without_dividing_by_zero() {
        let now = Utc
            .with_ymd_and_hms(2026, 3, 2, 9, 0, 0)
            .single()
            .expect("a date");
        assert_eq!(due_level(now, now, now + Duration::seconds(1)), 2);
    }
}
