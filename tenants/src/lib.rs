//! Tenancy: the registry of bodies, who acts in them, and the one scoped unit of work through
//! which every read or write of tenant-owned rows goes.

pub mod access;
mod access_cache;
pub mod audit;
mod call_pool;
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
pub mod sealed;
mod slug;
mod tenant;

/// Gives an enum of unit variants its stored names: `ALL`, `as_str`, `Display`, and a
/// `FromStr` whose error is a VALIDATION naming the unknown value.
#[macro_export]
macro_rules! string_enum {
    ($ty:ident { $($v:ident => $s:literal),* $(,)? }) => {
        impl $ty {
            pub const ALL: &'static [$ty] = &[$($ty::$v),*];
            pub fn as_str(self) -> &'static str {
                match self { $($ty::$v => $s),* }
            }
        }
        impl ::std::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl ::std::str::FromStr for $ty {
            type Err = $crate::Error;
            fn from_str(s: &str) -> ::std::result::Result<Self, $crate::Error> {
                match s {
                    $($s => Ok($ty::$v),)*
                    _ => Err($crate::Error::Validation(format!("unknown {} {s:?}", stringify!($ty)))),
                }
            }
        }
    };
}

pub use access::TenantContext;

/// Where the platform may send requests to (webhooks, identity providers): the server's
/// outbound guard, asked when a tenant names a URL so that a refusal comes at once.
pub trait UrlPolicy: Send + Sync {
    /// Why `url` may not be requested, if it may not (scheme, or an internal address
    /// written in it; names are checked again when resolved).
    fn refuses(&self, url: &str) -> Option<String>;
}
pub use access_cache::{ACCESS_CHANGED, AccessCache, INVALIDATION_CHANNEL};
pub use clock::Clock;
pub use db::{Backend, Db};
pub use error::{Error, Result};
pub use ids::{MemberId, TenantId};
pub use principal::{Identity, Principal, PrincipalKind};
pub use role::Role;
pub use scope::{Notice, PersonOwned, PersonScope, PublicScope, Scope, Sources, TenantOwned};
pub use slug::TenantSlug;
pub use tenant::{Tenant, TenantKind, TenantStatus};
