//! The citizen-relationship domain: persons and their profiles in each body, privacy and
//! sharing consents, the citizen view, the service catalogue, and onboarding of new bodies.
//! Every read or write of tenant-owned rows goes through a [`civitas_tenants::Scope`] (or,
//! for a citizen reading about themselves, a [`civitas_tenants::PersonScope`]).

pub mod access_log;
pub mod access_purposes;
pub mod api_keys;
pub mod app;
pub mod areas;
pub mod attachments;
pub mod branding;
pub mod cases;
pub mod catalogue;
pub mod channels;
pub mod citizen_view;
pub mod consent_requests;
pub mod delegations;
pub mod entity;
pub mod erasure;
mod error;
pub mod events;
pub mod export;
pub mod export_stream;
pub mod identity;
pub mod ids;
pub mod initiatives;
pub mod interactions;
pub mod lookup;
pub mod merge;
pub mod notifications;
pub mod notify;
pub mod onboarding;
pub mod paging;
pub mod persons;
pub mod places;
pub mod preferences;
pub mod privacy;
pub mod profiles;
pub mod public_catalogue;
pub mod questionnaires;
pub mod receipts;
pub mod register;
pub mod restrictions;
pub mod retention;
pub mod routing;
pub mod routing_rules;
pub mod sharing;
pub mod sheets;
pub mod sources;
pub mod webhooks;

pub use error::{Error, Result};
