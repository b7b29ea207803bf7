//! Which body takes a report sent to a jurisdiction: the deepest body under it whose area
//! holds the point and whose catalogue offers the category (a municipio before its
//! parent), else the jurisdiction itself, else a partecipata its administrators named for
//! the category in their routing rules. A point outside every area is refused.

use std::collections::{HashMap, HashSet};

use civitas_tenants::{Db, Scope, Tenant, TenantId, TenantKind, TenantStatus};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;
use uuid::Uuid;

use crate::areas;
use crate::entity::{routing_rule, service};
use crate::{Error, Result};

/// Why a body was chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// One of its areas holds the point and it offers the category.
    Area,
    /// The jurisdiction itself: no body under it covering the point offers the category.
    Jurisdiction,
    /// A rule of the jurisdiction's table.
    Rule,
}

#[derive(Clone, Debug)]
pub struct Decision {
    pub target: Tenant,
    pub reason: Reason,
    /// The area that holds the point, when one decided.
    pub area: Option<String>,
    /// The routing rule that decided, when one did.
    pub rule_id: Option<Uuid>,
    /// The decision in words, for the case's history.
    pub explanation: String,
}

fn invalid(m: impl Into<String>) -> Error {
    Error::Validation(m.into())
}

/// The active bodies under `root` (not `root`), each with its depth below it.
pub fn descendants(all: &[Tenant], root: TenantId) -> Vec<(Tenant, usize)> {
    let mut out = vec![];
    let mut level = vec![root];
    let mut depth = 0;
    let mut seen = HashSet::from([root]);
    while !level.is_empty() {
        depth += 1;
        let next: Vec<&Tenant> = all
            .iter()
            .filter(|t| t.parent_id.is_some_and(|p| level.contains(&p)) && seen.insert(t.id))
            .collect();
        level = next.iter().map(|t| t.id).collect();
        out.extend(
            next.into_iter()
                .filter(|t| t.status == TenantStatus::Active)
                .map(|t| (t.clone(), depth)),
        );
    }
    out
}

/// The jurisdiction's rules for a category, first first.
pub async fn rules_for(scope: &Scope, service_code: &str) -> Result<Vec<routing_rule::Model>> {
    Ok(scope
        .find::<routing_rule::Entity>()
        .filter(routing_rule::Column::ServiceCode.eq(service_code))
        .order_by_asc(routing_rule::Column::Position)
        .order_by_asc(routing_rule::Column::CreatedAt)
        .all(scope.conn())
        .await?)
}

/// Decides where a report of `service_code` at `(lat, lon)` sent to `jurisdiction` goes.
/// `all` is every body of the registry; `rules` are the jurisdiction's rules for the
/// category ([`rules_for`]).
pub async fn route(
    db: &Db,
    all: &[Tenant],
    jurisdiction: &Tenant,
    service_code: &str,
    (lat, lon): (f64, f64),
    rules: &[routing_rule::Model],
) -> Result<Decision> {
    let below = descendants(all, jurisdiction.id);
    let by_id: HashMap<TenantId, &Tenant> = all.iter().map(|t| (t.id, t)).collect();
    let mut ids: Vec<Uuid> = std::iter::once(jurisdiction.id.0)
        .chain(below.iter().map(|(t, _)| t.id.0))
        .collect();
    ids.extend(rules.iter().map(|r| r.target_tenant_id));

    let public = db.public_scope().await?;
    let (with_areas, holding) = areas::holding(&public, &ids, lat, lon).await?;
    let offering: HashSet<Uuid> = service::Entity::find()
        .select_only()
        .column(service::Column::TenantId)
        .filter(service::Column::Code.eq(service_code))
        .filter(service::Column::TenantId.is_in(ids.iter().copied()))
        .into_tuple::<Uuid>()
        .all(public.conn())
        .await?
        .into_iter()
        .collect();
    public.commit().await?;
    if offering.is_empty() {
        return Err(Error::NotFound("service"));
    }

    let area_of = |t: TenantId| holding.iter().find(|a| a.tenant_id == t);
    let point = format!("({lat}, {lon})");
    // The deepest body below that covers the point and offers the category; partecipate
    // take reports only by rule.
    let mut covering: Vec<&(Tenant, usize)> = below
        .iter()
        .filter(|(t, _)| t.kind != TenantKind::Partecipata)
        .filter(|(t, _)| offering.contains(&t.id.0) && area_of(t.id).is_some())
        .collect();
    covering.sort_by(|a, b| {
        b.1.cmp(&a.1)
            .then_with(|| a.0.slug.as_str().cmp(b.0.slug.as_str()))
    });
    if let Some((t, _)) = covering.first() {
        let area = area_of(t.id).map(|a| a.name.clone());
        return Ok(Decision {
            explanation: format!(
                "the area {} of {} holds the point {point} and {} offers {service_code}",
                area.as_deref().unwrap_or_default(),
                t.display_name,
                t.display_name
            ),
            target: t.clone(),
            reason: Reason::Area,
            area,
            rule_id: None,
        });
    }

    // The jurisdiction's territory: its own areas, or, when it has none, its bodies'.
    let inside = match area_of(jurisdiction.id) {
        Some(_) => true,
        None if with_areas.contains(&jurisdiction.id) => false,
        None => {
            let tree: HashSet<TenantId> = below.iter().map(|(t, _)| t.id).collect();
            holding.iter().any(|a| tree.contains(&a.tenant_id))
                || !with_areas.iter().any(|t| tree.contains(t))
        }
    };
    if !inside {
        return Err(invalid(format!(
            "the point {point} is outside every area of {} and of the bodies under it",
            jurisdiction.display_name
        )));
    }
    if offering.contains(&jurisdiction.id.0) {
        return Ok(Decision {
            explanation: format!(
                "no body under {} whose area holds the point {point} offers {service_code}; {} does",
                jurisdiction.display_name, jurisdiction.display_name
            ),
            target: jurisdiction.clone(),
            reason: Reason::Jurisdiction,
            area: area_of(jurisdiction.id).map(|a| a.name.clone()),
            rule_id: None,
        });
    }
    for (n, r) in rules.iter().enumerate() {
        let Some(t) = by_id.get(&TenantId(r.target_tenant_id)) else {
            continue;
        };
        if t.status != TenantStatus::Active || !offering.contains(&t.id.0) {
            continue;
        }
        return Ok(Decision {
            explanation: format!(
                "rule {} of {}: reports of {service_code} go to {}",
                n + 1,
                jurisdiction.display_name,
                t.display_name
            ),
            target: (*t).clone(),
            reason: Reason::Rule,
            area: None,
            rule_id: Some(r.id),
        });
    }
    Err(invalid(format!(
        "no body of {} takes reports of {service_code} at the point {point}",
        jurisdiction.display_name
    )))
}
