//! The citizen-relationship domain: the service catalogue, and onboarding of new bodies.
//! Every read or write of tenant-owned rows goes through a [`civitas_tenants::Scope`].

pub mod catalogue;
pub mod entity;
mod error;
pub mod identity;
pub mod onboarding;

pub use error::{Error, Result};
