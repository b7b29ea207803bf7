//! The policies a tenant starts with. Tenant administrators may edit them afterwards.

use sea_orm::{ConnectionTrait, EntityTrait};

use crate::permission::{Action, Object};
use crate::{Error, adapter::row, entity::Entity};

/// The domain of platform-wide rules, such as onboarding tenants.
pub const PLATFORM_DOMAIN: &str = "platform";

/// `(role, object, action)` granted in every new tenant. `*` stands for any action.
const TENANT_GRANTS: &[(&str, Object, Action)] = &[
    ("tenant_admin", Object::Tenant, Action::Any),
    ("tenant_admin", Object::Member, Action::Any),
    ("tenant_admin", Object::Policy, Action::Any),
    ("tenant_admin", Object::Retention, Action::Any),
    ("supervisor", Object::Retention, Action::Read),
    ("supervisor", Object::Erasure, Action::Record),
    ("tenant_admin", Object::AccessPurpose, Action::Any),
    ("operator", Object::AccessPurpose, Action::Read),
    ("tutor", Object::AccessPurpose, Action::Read),
    ("tenant_admin", Object::ServiceArea, Action::Any),
    ("operator", Object::ServiceArea, Action::Read),
    ("integrator", Object::ServiceArea, Action::Read),
    ("tenant_admin", Object::RoutingRule, Action::Any),
    ("operator", Object::RoutingRule, Action::Read),
    ("tenant_admin", Object::ApiKey, Action::Any),
    ("supervisor", Object::Initiative, Action::Any),
    ("operator", Object::Initiative, Action::Read),
    ("tutor", Object::Initiative, Action::Read),
    ("operator", Object::Participation, Action::Any),
    ("tutor", Object::Participation, Action::Record),
    ("supervisor", Object::Questionnaire, Action::Any),
    ("operator", Object::Questionnaire, Action::Read),
    ("supervisor", Object::Audit, Action::Read),
    ("supervisor", Object::Service, Action::Any),
    ("supervisor", Object::Member, Action::Read),
    ("operator", Object::Tenant, Action::Read),
    ("operator", Object::Service, Action::Read),
    ("tutor", Object::Tenant, Action::Read),
    ("tutor", Object::Service, Action::Read),
    ("integrator", Object::Tenant, Action::Read),
    ("integrator", Object::Service, Action::Read),
    ("citizen", Object::Tenant, Action::Read),
    ("citizen", Object::Service, Action::Read),
    ("operator", Object::Citizen, Action::Read),
    ("operator", Object::Citizen, Action::Register),
    ("operator", Object::Citizen, Action::Update),
    ("operator", Object::CitizenView, Action::Read),
    ("operator", Object::Consent, Action::Any),
    ("operator", Object::Privacy, Action::Any),
    ("supervisor", Object::Citizen, Action::Merge),
    ("supervisor", Object::AccessLog, Action::Read),
    ("tutor", Object::Citizen, Action::Read),
    ("tutor", Object::CitizenView, Action::Read),
    ("integrator", Object::Citizen, Action::Read),
    ("integrator", Object::Citizen, Action::Register),
    ("integrator", Object::Citizen, Action::Update),
    ("integrator", Object::Citizen, Action::Upsert),
    ("operator", Object::Case, Action::Read),
    ("operator", Object::Case, Action::Create),
    ("operator", Object::Case, Action::Update),
    ("operator", Object::Case, Action::Assign),
    ("operator", Object::Interaction, Action::Any),
    ("operator", Object::ContactCentre, Action::Identify),
    ("supervisor", Object::Case, Action::Escalate),
    ("supervisor", Object::Case, Action::Stats),
    ("supervisor", Object::Delegation, Action::Any),
    ("supervisor", Object::Catalogue, Action::Import),
    ("tutor", Object::Case, Action::Read),
    ("tutor", Object::Case, Action::Create),
    ("tutor", Object::Interaction, Action::Create),
    ("integrator", Object::Case, Action::Read),
    ("integrator", Object::Case, Action::Create),
    ("integrator", Object::Case, Action::Update),
    ("integrator", Object::Case, Action::Upsert),
    ("integrator", Object::Interaction, Action::Create),
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
