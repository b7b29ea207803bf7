//! The policies a tenant starts with. Tenant administrators may edit them afterwards.

use sea_orm::{ConnectionTrait, EntityTrait};

use crate::{Error, adapter::row, entity::Entity};

/// The domain of platform-wide rules, such as onboarding tenants.
pub const PLATFORM_DOMAIN: &str = "platform";

/// `(role, object, action)` granted in every new tenant. `*` stands for any action.
const TENANT_GRANTS: &[(&str, &str, &str)] = &[
    ("tenant_admin", "tenant", "*"),
    ("tenant_admin", "member", "*"),
    ("tenant_admin", "policy", "*"),
    ("supervisor", "audit", "read"),
    ("supervisor", "service", "*"),
    ("supervisor", "member", "read"),
    ("operator", "tenant", "read"),
    ("operator", "service", "read"),
    ("tutor", "tenant", "read"),
    ("tutor", "service", "read"),
    ("integrator", "tenant", "read"),
    ("integrator", "service", "read"),
    ("citizen", "tenant", "read"),
    ("citizen", "service", "read"),
    ("operator", "citizen", "read"),
    ("operator", "citizen", "register"),
    ("operator", "citizen", "update"),
    ("operator", "citizen_view", "read"),
    ("operator", "consent", "*"),
    ("operator", "privacy", "*"),
    ("supervisor", "citizen", "merge"),
    ("supervisor", "access_log", "read"),
    ("tutor", "citizen", "read"),
    ("tutor", "citizen_view", "read"),
    ("integrator", "citizen", "read"),
    ("integrator", "citizen", "register"),
    ("integrator", "citizen", "update"),
    ("operator", "case", "read"),
    ("operator", "case", "create"),
    ("operator", "case", "update"),
    ("operator", "case", "assign"),
    ("operator", "interaction", "*"),
    ("operator", "contact_centre", "identify"),
    ("supervisor", "case", "escalate"),
    ("supervisor", "case", "stats"),
    ("supervisor", "delegation", "*"),
    ("supervisor", "catalogue", "import"),
    ("tutor", "case", "read"),
    ("tutor", "case", "create"),
    ("tutor", "interaction", "create"),
    ("integrator", "case", "read"),
    ("integrator", "case", "create"),
    ("integrator", "case", "update"),
    ("integrator", "case", "upsert"),
    ("integrator", "interaction", "create"),
];

/// Role inheritance inside a tenant: a tenant administrator can do what a supervisor can,
/// who can do what an operator can.
const INHERITS: &[(&str, &str)] = &[("tenant_admin", "supervisor"), ("supervisor", "operator")];

/// Rules in every domain: the platform administrator may do anything anywhere.
pub(crate) fn platform_rules() -> Vec<(&'static str, Vec<String>)> {
    vec![(
        "p",
        vec!["platform_admin".into(), "*".into(), "*".into(), "*".into()],
    )]
}

/// The default `p` and `g` rules for a tenant whose domain is `domain`.
pub fn default_tenant_rules(domain: &str) -> Vec<(&'static str, Vec<String>)> {
    let p = TENANT_GRANTS.iter().map(|(r, o, a)| {
        (
            "p",
            vec![r.to_string(), domain.into(), o.to_string(), a.to_string()],
        )
    });
    let g = INHERITS
        .iter()
        .map(|(a, b)| ("g", vec![a.to_string(), b.to_string(), domain.into()]));
    p.chain(g).collect()
}

/// Writes a new tenant's default rules on the caller's connection, so that onboarding can
/// do it in the same transaction as the tenant row. Call [`crate::Authorizer::reload`] after
/// the commit.
pub async fn install_tenant_defaults<C: ConnectionTrait>(
    conn: &C,
    domain: &str,
) -> Result<(), Error> {
    let rows = default_tenant_rules(domain)
        .into_iter()
        .map(|(ptype, rule)| row(ptype, &rule));
    Entity::insert_many(rows)
        .exec_without_returning(conn)
        .await?;
    Ok(())
}
