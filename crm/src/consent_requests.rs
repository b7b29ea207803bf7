//! Sharing consents collected by an operator that wait for the citizen. An operator at a
//! counter may record what a citizen says, but on that word alone it opens only what the
//! operator's own body holds, or what a source body has chosen to accept from the
//! collecting body (its setting `acceptCounterConsentsFrom`, a list of slugs; empty by
//! default). Anything else becomes a request the citizen confirms or declines once signed
//! in; until then it opens nothing.

use chrono::{DateTime, Utc};
use civitas_tenants::{Identity, Tenant, TenantId};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

use crate::entity::consent_request;
use crate::sharing::{self, Collector, NewSharingConsent, SharingConsent, Visibility};
use crate::{Error, Result};

pub use consent_request::Model as ConsentRequest;

/// The source body's setting that lists the bodies whose counter-collected consents it
/// accepts without the citizen's confirmation.
pub const ACCEPT_SETTING: &str = "acceptCounterConsentsFrom";

/// Whether a consent that an operator of `collecting` recorded takes effect at once:
/// when it opens only the collecting body's own records, or when the source body accepts
/// that body's counter consents. A consent over every body never does.
pub fn takes_effect_at_once(source: Option<&Tenant>, collecting: &Tenant) -> bool {
    let Some(source) = source else {
        return false;
    };
    source.id == collecting.id
        || source.settings[ACCEPT_SETTING].as_array().is_some_and(|l| {
            l.iter()
                .any(|s| s.as_str() == Some(collecting.slug.as_str()))
        })
}

/// The request as the consent it would become (its id is the request's).
pub fn as_consent(r: &ConsentRequest) -> SharingConsent {
    SharingConsent {
        id: r.id,
        person_id: r.person_id,
        source_tenant_id: r.source_tenant_id.map(TenantId),
        grantee_tenant_id: TenantId(r.grantee_tenant_id),
        scopes: r.scopes.split(',').filter_map(|s| s.parse().ok()).collect(),
        purpose: r.purpose.clone(),
        expires_at: r.expires_at,
        channel: r.channel.clone(),
        collected_by: r.collected_by.clone(),
        collector_kind: "operator".into(),
        collected_in_tenant_id: Some(TenantId(r.collected_in_tenant_id)),
        granted_at: r.requested_at,
        revoked_at: None,
        revoked_by: None,
    }
}

/// Records a request. `conn` is a scope of the collecting body.
pub async fn request<C: ConnectionTrait>(
    conn: &C,
    operator: &Identity,
    collecting: TenantId,
    new: NewSharingConsent,
    now: DateTime<Utc>,
) -> Result<ConsentRequest> {
    let (scopes, channel) = sharing::validate(&new, now)?;
    let row = consent_request::ActiveModel {
        id: Set(Uuid::now_v7()),
        person_id: Set(new.person_id),
        source_tenant_id: Set(new.source.map(|t| t.0)),
        grantee_tenant_id: Set(new.grantee.0),
        scopes: Set(sharing::join_scopes(&scopes)),
        purpose: Set(new.purpose.trim().to_owned()),
        expires_at: Set(new.expires_at),
        channel: Set(channel),
        collected_by: Set(operator.subject.clone()),
        collected_by_issuer: Set(operator.issuer.clone()),
        collected_in_tenant_id: Set(collecting.0),
        requested_at: Set(now),
        status: Set("pending".into()),
        decided_at: Set(None),
        consent_id: Set(None),
    };
    Ok(consent_request::Entity::insert(row)
        .exec_with_returning(conn)
        .await?)
}

/// A page of the requests `visible_to` may see (the person's own, or those a body is party
/// to), newest first, older than `after` when given; only pending ones unless `all`. Also
/// whether more follow.
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    visible_to: Visibility<'_>,
    all: bool,
    first: u64,
    after: Option<Uuid>,
) -> Result<(Vec<ConsentRequest>, bool)> {
    let mut q = consent_request::Entity::find()
        .order_by_desc(consent_request::Column::Id)
        .limit(first + 1);
    if let Some(a) = after {
        q = q.filter(consent_request::Column::Id.lt(a));
    }
    q = match visible_to {
        Visibility::Person(ids) => {
            q.filter(consent_request::Column::PersonId.is_in(ids.iter().copied()))
        }
        Visibility::Tenant(t) => q.filter(
            sea_orm::Condition::any()
                .add(consent_request::Column::CollectedInTenantId.eq(t.0))
                .add(consent_request::Column::GranteeTenantId.eq(t.0))
                .add(consent_request::Column::SourceTenantId.eq(t.0)),
        ),
    };
    if !all {
        q = q.filter(consent_request::Column::Status.eq("pending"));
    }
    let mut rows: Vec<ConsentRequest> = q
        .all(conn)
        .await?
        .into_iter()
        .filter(|r| visible_to.allows(&as_consent(r)))
        .collect();
    let more = rows.len() as u64 > first;
    rows.truncate(first as usize);
    Ok((rows, more))
}

/// The citizen's answer to a pending request: confirmed, it becomes a consent (collected by
/// the operator, confirmed by the citizen); declined, it opens nothing. `conn` is the
/// person's scope; `family` the person's records.
pub async fn decide<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    family: &[Uuid],
    confirm: bool,
    now: DateTime<Utc>,
) -> Result<(ConsentRequest, Option<SharingConsent>)> {
    let found = consent_request::Entity::find_by_id(id)
        .one(conn)
        .await?
        .filter(|r| family.contains(&r.person_id))
        .ok_or(Error::NotFound("consent request"))?;
    if found.status != "pending" {
        return Err(Error::Conflict(format!(
            "this request is already {}",
            found.status
        )));
    }
    let consent = if confirm {
        let r = &found;
        let new = NewSharingConsent {
            person_id: r.person_id,
            source: r.source_tenant_id.map(TenantId),
            grantee: TenantId(r.grantee_tenant_id),
            scopes: as_consent(r).scopes,
            purpose: r.purpose.clone(),
            expires_at: r.expires_at,
            channel: r.channel.clone(),
        };
        let collector = Collector::Operator {
            subject: r.collected_by.clone(),
            tenant: TenantId(r.collected_in_tenant_id),
        };
        Some(sharing::grant(conn, &collector, new, now).await?)
    } else {
        None
    };
    let row = consent_request::ActiveModel {
        id: Set(id),
        status: Set(if confirm { "confirmed" } else { "declined" }.into()),
        decided_at: Set(Some(now)),
        consent_id: Set(consent.as_ref().map(|c| c.id)),
        ..Default::default()
    };
    let saved = consent_request::Entity::update(row).exec(conn).await?;
    Ok((saved, consent))
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use civitas_tenants::{Tenant, TenantId, TenantKind, TenantSlug, TenantStatus};
    use serde_json::json;
    use uuid::Uuid;

    use super::takes_effect_at_once;

    fn body(slug: &str, settings: serde_json::Value) -> Tenant {
        Tenant {
            id: TenantId(Uuid::now_v7()),
            slug: TenantSlug::parse(slug).expect("slug"),
            display_name: slug.into(),
            kind: TenantKind::Municipio,
            parent_id: None,
            status: TenantStatus::Active,
            settings,
            created_at: Utc::now(),
        }
    }

    #[test]
    fn an_operators_consent_opens_at_once_only_what_its_body_or_the_source_allows() {
        let beta = body("beta", json!({}));
        let alfa = body("alfa", json!({}));
        let trusting = body("gamma", json!({ "acceptCounterConsentsFrom": ["beta"] }));
        let other = body("delta", json!({ "acceptCounterConsentsFrom": ["alfa"] }));
        assert!(takes_effect_at_once(Some(&beta), &beta), "its own records");
        assert!(
            !takes_effect_at_once(Some(&alfa), &beta),
            "another body, by default"
        );
        assert!(
            takes_effect_at_once(Some(&trusting), &beta),
            "a source that accepts beta"
        );
        assert!(
            !takes_effect_at_once(Some(&other), &beta),
            "a source that accepts another"
        );
        assert!(!takes_effect_at_once(None, &beta), "every body: never");
    }
}
