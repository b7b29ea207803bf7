//! Authorization: a Casbin RBAC-with-domains model (the tenant is the domain), the default
//! policies every new tenant starts with, a sea-orm storage adapter and the enforcer.

mod adapter;
mod authorizer;
mod defaults;
pub mod entity;
mod permission;

pub use adapter::SeaOrmAdapter;
pub use authorizer::{Authorizer, INVALIDATION_CHANNEL, POLICY_CHANGED, PolicyRule};
pub use defaults::{PLATFORM_DOMAIN, default_tenant_rules, install_tenant_defaults};
pub use permission::{Action, Level, Object, Permission};

/// Checks are (role, tenant, object, action). `g` gives role inheritance inside a domain;
/// a policy in domain `*` holds in every domain.
pub const MODEL: &str = r#"
[request_definition]
r = sub, dom, obj, act

[policy_definition]
p = sub, dom, obj, act

[role_definition]
g = _, _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub, r.dom) && (p.dom == r.dom || p.dom == "*") && (p.obj == r.obj || p.obj == "*") && (p.act == r.act || p.act == "*")
"#;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Validation(String),
    #[error("policy store: {0}")]
    Internal(String),
}

impl From<casbin::Error> for Error {
    fn from(e: casbin::Error) -> Self {
        Error::Internal(e.to_string())
    }
}

impl From<sea_orm::DbErr> for Error {
    fn from(e: sea_orm::DbErr) -> Self {
        Error::Internal(e.to_string())
    }
}
