//! Sharing consents: a person lets a grantee body read what a source body (or every body)
//! holds about them, for some scopes, a purpose, until an expiry or a revocation.

use std::{fmt, str::FromStr, sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use civitas_tenants::TenantId;
use moka::future::Cache;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Statement,
};
use serde::Serialize;
use uuid::Uuid;

use crate::entity::sharing_consent;
use crate::{Error, Result};

/// What a consent covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentScope {
    Profile,
    Cases,
    Interactions,
}

impl ConsentScope {
    pub const ALL: [ConsentScope; 3] = [
        ConsentScope::Profile,
        ConsentScope::Cases,
        ConsentScope::Interactions,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ConsentScope::Profile => "profile",
            ConsentScope::Cases => "cases",
            ConsentScope::Interactions => "interactions",
        }
    }
}

impl fmt::Display for ConsentScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ConsentScope {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        ConsentScope::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| Error::Validation(format!("unknown scope {s:?}")))
    }
}

/// Who collected a consent: the citizen themselves, or an operator on their behalf.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Collector {
    Citizen { subject: String },
    Operator { subject: String, tenant: TenantId },
}

impl Collector {
    pub fn subject(&self) -> &str {
        match self {
            Collector::Citizen { subject } | Collector::Operator { subject, .. } => subject,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Collector::Citizen { .. } => "citizen",
            Collector::Operator { .. } => "operator",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SharingConsent {
    pub id: Uuid,
    pub person_id: Uuid,
    /// `None`: every body.
    pub source_tenant_id: Option<TenantId>,
    pub grantee_tenant_id: TenantId,
    pub scopes: Vec<ConsentScope>,
    pub purpose: String,
    pub expires_at: Option<DateTime<Utc>>,
    pub channel: String,
    pub collected_by: String,
    pub collector_kind: String,
    pub collected_in_tenant_id: Option<TenantId>,
    pub granted_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_by: Option<String>,
}

impl SharingConsent {
    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|e| e > now)
    }

    /// Whether this consent lets its grantee read `scope` data held by `source`.
    pub fn covers(&self, source: TenantId, scope: ConsentScope, now: DateTime<Utc>) -> bool {
        self.is_active(now)
            && source != self.grantee_tenant_id
            && self.source_tenant_id.is_none_or(|s| s == source)
            && self.scopes.contains(&scope)
    }
}

impl From<sharing_consent::Model> for SharingConsent {
    fn from(m: sharing_consent::Model) -> Self {
        SharingConsent {
            id: m.id,
            person_id: m.person_id,
            source_tenant_id: m.source_tenant_id.map(TenantId),
            grantee_tenant_id: TenantId(m.grantee_tenant_id),
            scopes: m.scopes.split(',').filter_map(|s| s.parse().ok()).collect(),
            purpose: m.purpose,
            expires_at: m.expires_at,
            channel: m.channel,
            collected_by: m.collected_by,
            collector_kind: m.collector_kind,
            collected_in_tenant_id: m.collected_in_tenant_id.map(TenantId),
            granted_at: m.granted_at,
            revoked_at: m.revoked_at,
            revoked_by: m.revoked_by,
        }
    }
}

#[derive(Clone, Debug)]
pub struct NewSharingConsent {
    /// The person (root record).
    pub person_id: Uuid,
    pub source: Option<TenantId>,
    pub grantee: TenantId,
    pub scopes: Vec<ConsentScope>,
    pub purpose: String,
    pub expires_at: Option<DateTime<Utc>>,
    pub channel: String,
}

fn validation(m: impl Into<String>) -> Error {
    Error::Validation(m.into())
}

/// The channel on which the citizen was met (or acted), as the consent receipt records it.
pub fn validate_channel(channel: &str) -> Result<String> {
    Ok(channel
        .parse::<crate::channels::Channel>()?
        .as_str()
        .to_owned())
}

/// Checks a new consent: what it names, its purpose and expiry, its channel. Returns its
/// scopes sorted and without repeats, and its channel as recorded.
pub(crate) fn validate(
    new: &NewSharingConsent,
    now: DateTime<Utc>,
) -> Result<(Vec<ConsentScope>, String)> {
    if new.scopes.is_empty() {
        return Err(validation("scopes must name at least one scope"));
    }
    if new.source == Some(new.grantee) {
        return Err(validation(
            "a body does not need consent to read its own records",
        ));
    }
    let purpose = new.purpose.trim();
    if purpose.is_empty() || purpose.chars().count() > 500 {
        return Err(validation("purpose must be 1 to 500 characters"));
    }
    if new.expires_at.is_some_and(|e| e <= now) {
        return Err(validation("expiresAt must be in the future"));
    }
    let mut scopes = new.scopes.clone();
    scopes.sort();
    scopes.dedup();
    Ok((scopes, validate_channel(&new.channel)?))
}

pub(crate) fn join_scopes(scopes: &[ConsentScope]) -> String {
    scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// Records a consent. `conn` is a scope of the collecting tenant (operator) or of the
/// person (citizen), so that on PostgreSQL the row passes the table's policy.
pub async fn grant<C: ConnectionTrait>(
    conn: &C,
    collector: &Collector,
    new: NewSharingConsent,
    now: DateTime<Utc>,
) -> Result<SharingConsent> {
    let (scopes, channel) = validate(&new, now)?;
    let row = sharing_consent::ActiveModel {
        id: Set(Uuid::now_v7()),
        person_id: Set(new.person_id),
        source_tenant_id: Set(new.source.map(|t| t.0)),
        grantee_tenant_id: Set(new.grantee.0),
        scopes: Set(join_scopes(&scopes)),
        purpose: Set(new.purpose.trim().to_owned()),
        expires_at: Set(new.expires_at),
        channel: Set(channel),
        collected_by: Set(collector.subject().to_owned()),
        collector_kind: Set(collector.kind().to_owned()),
        collected_in_tenant_id: Set(match collector {
            Collector::Operator { tenant, .. } => Some(tenant.0),
            Collector::Citizen { .. } => None,
        }),
        granted_at: Set(now),
        revoked_at: Set(None),
        revoked_by: Set(None),
    };
    let model = sharing_consent::Entity::insert(row)
        .exec_with_returning(conn)
        .await?;
    notify_change(conn, model.grantee_tenant_id, model.person_id).await?;
    Ok(model.into())
}

/// Revokes a consent visible on `conn`: the citizen's own, or one whose party the
/// operator's body is. Revoking twice is a CONFLICT.
pub async fn revoke<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    visible_to: Visibility<'_>,
    by: &str,
    now: DateTime<Utc>,
) -> Result<SharingConsent> {
    let found = sharing_consent::Entity::find_by_id(id)
        .one(conn)
        .await?
        .map(SharingConsent::from)
        .filter(|c| visible_to.allows(c))
        .ok_or(Error::NotFound("sharing consent"))?;
    if found.revoked_at.is_some() {
        return Err(Error::Conflict("this consent is already revoked".into()));
    }
    let row = sharing_consent::ActiveModel {
        id: Set(id),
        revoked_at: Set(Some(now)),
        revoked_by: Set(Some(by.to_owned())),
        ..Default::default()
    };
    let model = sharing_consent::Entity::update(row).exec(conn).await?;
    notify_change(conn, model.grantee_tenant_id, model.person_id).await?;
    Ok(model.into())
}

/// Which consents a caller may see: the application's own wall, the same rule as the
/// PostgreSQL policy on the table.
#[derive(Clone, Copy, Debug)]
pub enum Visibility<'a> {
    Person(&'a [Uuid]),
    Tenant(TenantId),
}

impl Visibility<'_> {
    pub fn allows(&self, c: &SharingConsent) -> bool {
        match self {
            Visibility::Person(ids) => ids.contains(&c.person_id),
            Visibility::Tenant(t) => {
                c.grantee_tenant_id == *t
                    || c.source_tenant_id == Some(*t)
                    || c.collected_in_tenant_id == Some(*t)
            }
        }
    }
}

/// Every consent about `persons` that `visible_to` may see, newest first.
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    persons: &[Uuid],
    visible_to: Visibility<'_>,
) -> Result<Vec<SharingConsent>> {
    Ok(sharing_consent::Entity::find()
        .filter(sharing_consent::Column::PersonId.is_in(persons.iter().copied()))
        .order_by_desc(sharing_consent::Column::GrantedAt)
        .all(conn)
        .await?
        .into_iter()
        .map(SharingConsent::from)
        .filter(|c| visible_to.allows(c))
        .collect())
}

use civitas_policies::INVALIDATION_CHANNEL;

/// Tells every replica (PostgreSQL `NOTIFY`, delivered at commit) that the consents of
/// this grantee about this person changed.
async fn notify_change<C: ConnectionTrait>(conn: &C, grantee: Uuid, person: Uuid) -> Result<()> {
    if conn.get_database_backend() == sea_orm::DbBackend::Postgres {
        conn.execute_raw(Statement::from_sql_and_values(
            conn.get_database_backend(),
            "SELECT pg_notify($1, $2)",
            [
                INVALIDATION_CHANNEL.into(),
                format!("consent:{grantee}:{person}").into(),
            ],
        ))
        .await?;
    }
    Ok(())
}

/// Active-consent look-ups, cached per (grantee, person). A grant or revocation
/// invalidates the entry here at once and on other replicas through `NOTIFY`; expiry needs
/// no invalidation because it is checked against the clock at every use. On PostgreSQL the
/// RLS policies check the consent again in the database, so a late invalidation can hide
/// rows for a moment but never show a revoked one.
#[derive(Clone)]
pub struct ConsentCache {
    entries: Cache<(Uuid, Uuid), Arc<Vec<SharingConsent>>>,
    hits: Arc<std::sync::atomic::AtomicU64>,
    misses: Arc<std::sync::atomic::AtomicU64>,
}

impl Default for ConsentCache {
    fn default() -> Self {
        ConsentCache {
            entries: Cache::builder()
                .max_capacity(100_000)
                .time_to_live(Duration::from_secs(300))
                .build(),
            hits: Arc::default(),
            misses: Arc::default(),
        }
    }
}

impl ConsentCache {
    /// Consents whose grantee is `grantee`, about `persons` (a person and its merged records;
    /// the first is the key).
    pub async fn for_grantee<C: ConnectionTrait>(
        &self,
        conn: &C,
        grantee: TenantId,
        persons: &[Uuid],
    ) -> Result<Arc<Vec<SharingConsent>>> {
        if let Some(hit) = self.cached(grantee, persons[0]).await {
            return Ok(hit);
        }
        let rows = sharing_consent::Entity::find()
            .filter(sharing_consent::Column::PersonId.is_in(persons.iter().copied()))
            .filter(sharing_consent::Column::GranteeTenantId.eq(grantee.0))
            .filter(sharing_consent::Column::RevokedAt.is_null())
            .all(conn)
            .await?;
        Ok(self.remember(grantee, persons[0], rows).await)
    }

    /// The cached consents of `person` (the first of a family) whose grantee is `grantee`.
    pub async fn cached(
        &self,
        grantee: TenantId,
        person: Uuid,
    ) -> Option<Arc<Vec<SharingConsent>>> {
        use std::sync::atomic::Ordering::Relaxed;
        let hit = self.entries.get(&(grantee.0, person)).await;
        match hit {
            Some(_) => self.hits.fetch_add(1, Relaxed),
            None => self.misses.fetch_add(1, Relaxed),
        };
        hit
    }

    /// Caches the active consents just read for `person` (the first of a family).
    pub async fn remember(
        &self,
        grantee: TenantId,
        person: Uuid,
        rows: Vec<sharing_consent::Model>,
    ) -> Arc<Vec<SharingConsent>> {
        let value = Arc::new(
            rows.into_iter()
                .map(SharingConsent::from)
                .collect::<Vec<_>>(),
        );
        self.entries
            .insert((grantee.0, person), value.clone())
            .await;
        value
    }

    /// Look-ups answered from the cache, and those that went to the database.
    pub fn hit_counts(&self) -> (u64, u64) {
        use std::sync::atomic::Ordering::Relaxed;
        (self.hits.load(Relaxed), self.misses.load(Relaxed))
    }

    pub async fn invalidate(&self, grantee: Uuid, person: Uuid) {
        self.entries.invalidate(&(grantee, person)).await;
    }

    pub fn invalidate_all(&self) {
        self.entries.invalidate_all();
    }

    /// Applies a `NOTIFY` payload from another replica.
    pub async fn apply_notification(&self, payload: &str) {
        let mut parts = payload.split(':');
        if let (Some("consent"), Some(Ok(g)), Some(Ok(p))) = (
            parts.next(),
            parts.next().map(str::parse),
            parts.next().map(str::parse),
        ) {
            self.invalidate(g, p).await;
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use chrono::{Duration, Utc};
    use civitas_tenants::TenantId;
    use uuid::Uuid;

    use super::{ConsentScope, SharingConsent, Visibility};

    fn consent(source: Option<TenantId>, grantee: TenantId) -> SharingConsent {
        consent_for(source, grantee, ConsentScope::Profile)
    }

    /// An active consent of a new person, from `source` to `grantee`, for `scope`.
    pub(crate) fn consent_for(
        source: Option<TenantId>,
        grantee: TenantId,
        scope: ConsentScope,
    ) -> SharingConsent {
        SharingConsent {
            id: Uuid::now_v7(),
            person_id: Uuid::now_v7(),
            source_tenant_id: source,
            grantee_tenant_id: grantee,
            scopes: vec![scope],
            purpose: "p".into(),
            expires_at: None,
            channel: "counter".into(),
            collected_by: "op".into(),
            collector_kind: "operator".into(),
            collected_in_tenant_id: Some(grantee),
            granted_at: Utc::now(),
            revoked_at: None,
            revoked_by: None,
        }
    }

    #[test]
    fn a_consent_covers_its_source_scopes_and_time_only() {
        let (a, b, c) = (
            TenantId(Uuid::now_v7()),
            TenantId(Uuid::now_v7()),
            TenantId(Uuid::now_v7()),
        );
        let now = Utc::now();
        let from_a = consent(Some(a), b);
        assert!(from_a.covers(a, ConsentScope::Profile, now));
        assert!(
            !from_a.covers(c, ConsentScope::Profile, now),
            "another source"
        );
        assert!(!from_a.covers(a, ConsentScope::Cases, now), "another scope");
        let every = consent(None, b);
        assert!(
            every.covers(a, ConsentScope::Profile, now)
                && every.covers(c, ConsentScope::Profile, now)
        );
        assert!(
            !every.covers(b, ConsentScope::Profile, now),
            "the grantee's own records need none"
        );

        let mut expiring = consent(Some(a), b);
        expiring.expires_at = Some(now + Duration::hours(1));
        assert!(expiring.covers(a, ConsentScope::Profile, now));
        assert!(
            !expiring.covers(a, ConsentScope::Profile, now + Duration::hours(2)),
            "expired"
        );
        let mut revoked = consent(Some(a), b);
        revoked.revoked_at = Some(now);
        assert!(!revoked.covers(a, ConsentScope::Profile, now), "revoked");
    }

    #[test]
    fn a_consent_is_visible_to_its_parties_only() {
        let (a, b, c) = (
            TenantId(Uuid::now_v7()),
            TenantId(Uuid::now_v7()),
            TenantId(Uuid::now_v7()),
        );
        let x = consent(Some(a), b);
        assert!(Visibility::Tenant(a).allows(&x) && Visibility::Tenant(b).allows(&x));
        assert!(!Visibility::Tenant(c).allows(&x));
        assert!(Visibility::Person(&[x.person_id]).allows(&x));
        assert!(!Visibility::Person(&[Uuid::now_v7()]).allows(&x));
    }
}
