//! sea-orm entities, kept apart from the behaviour written around them.

pub mod audit_event;
pub mod identity_provider;
pub mod member;
pub mod role_assignment;
pub mod tenant;
