//! Tenancy: the registry of bodies, who acts in them, and the one scoped unit of work through
//! which every read or write of tenant-owned rows goes.

pub mod access;
pub mod audit;
mod clock;
mod db;
pub mod entity;
mod error;
pub mod identity_providers;
mod ids;
pub mod members;
mod principal;
pub mod registry;
mod role;
mod scope;
mod slug;
mod tenant;

pub use access::TenantContext;
pub use clock::Clock;
pub use db::{Backend, Db};
pub use error::{Error, Result};
pub use ids::{MemberId, TenantId};
pub use principal::{Principal, PrincipalKind};
pub use role::Role;
pub use scope::{PersonOwned, PersonScope, Scope, Sources, TenantOwned};
pub use slug::TenantSlug;
pub use tenant::{Tenant, TenantKind, TenantStatus};
