//! GraphQL views of domain values.

use async_graphql::{Enum, ID, Json, SimpleObject};
use chrono::{DateTime, Utc};

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "civitas_tenants::Role")]
pub enum Role {
    PlatformAdmin,
    TenantAdmin,
    Supervisor,
    Operator,
    Tutor,
    Integrator,
    Citizen,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "civitas_tenants::TenantKind")]
pub enum TenantKind {
    Capitale,
    Municipio,
    Partecipata,
    ComuneMetropolitano,
    Other,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "civitas_tenants::TenantStatus")]
pub enum TenantStatus {
    Active,
    Suspended,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "civitas_tenants::PrincipalKind")]
pub enum PrincipalKind {
    Operator,
    Citizen,
    Service,
    System,
}

/// A body served by this deployment.
#[derive(SimpleObject)]
pub struct Tenant {
    pub id: ID,
    pub slug: String,
    pub display_name: String,
    pub kind: TenantKind,
    pub parent_id: Option<ID>,
    pub status: TenantStatus,
    pub settings: Json<serde_json::Value>,
    pub created_at: DateTime<Utc>,
}

impl From<civitas_tenants::Tenant> for Tenant {
    fn from(t: civitas_tenants::Tenant) -> Self {
        Tenant {
            id: ID(t.id.to_string()),
            slug: t.slug.to_string(),
            display_name: t.display_name,
            kind: t.kind.into(),
            parent_id: t.parent_id.map(|p| ID(p.to_string())),
            status: t.status.into(),
            settings: Json(t.settings),
            created_at: t.created_at,
        }
    }
}

/// An operator, administrator or service account of one tenant.
#[derive(SimpleObject)]
pub struct Member {
    pub id: ID,
    /// The issuer that vouches for this member: a token counts as them only when both its
    /// issuer and its subject match.
    pub issuer: String,
    pub subject: String,
    pub display_name: String,
    pub email: Option<String>,
    pub roles: Vec<Role>,
    pub created_at: DateTime<Utc>,
}

impl From<civitas_tenants::members::Member> for Member {
    fn from(m: civitas_tenants::members::Member) -> Self {
        Member {
            id: ID(m.id.to_string()),
            issuer: m.issuer,
            subject: m.subject,
            display_name: m.display_name,
            email: m.email,
            roles: m.roles.into_iter().map(Into::into).collect(),
            created_at: m.created_at,
        }
    }
}

/// The caller as Civitas sees them.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Me {
    pub subject: String,
    pub issuer: String,
    pub kind: PrincipalKind,
    pub name: Option<String>,
    /// The tenant this request acts in, if any.
    pub tenant: Option<Tenant>,
    /// The caller's roles in that tenant (or their platform roles when there is none).
    pub roles: Vec<Role>,
    pub member_id: Option<ID>,
}

/// `role` may do `action` on `object` in this tenant. `*` matches anything.
#[derive(SimpleObject)]
pub struct PolicyRule {
    pub role: String,
    pub object: String,
    pub action: String,
}

impl From<civitas_policies::PolicyRule> for PolicyRule {
    fn from(r: civitas_policies::PolicyRule) -> Self {
        PolicyRule {
            role: r.role,
            object: r.object,
            action: r.action,
        }
    }
}

#[derive(SimpleObject)]
pub struct AuditEvent {
    pub id: ID,
    pub occurred_at: DateTime<Utc>,
    pub actor: String,
    /// The issuer that vouched for the actor, when the entry was written with one.
    pub actor_issuer: Option<String>,
    pub action: String,
    pub target: Option<String>,
    pub detail: Json<serde_json::Value>,
}

impl From<civitas_tenants::audit::AuditEvent> for AuditEvent {
    fn from(e: civitas_tenants::audit::AuditEvent) -> Self {
        AuditEvent {
            id: ID(e.id.to_string()),
            occurred_at: e.occurred_at,
            actor: e.actor,
            actor_issuer: e.actor_issuer,
            action: e.action,
            target: e.target,
            detail: Json(e.detail),
        }
    }
}
