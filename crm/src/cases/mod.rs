//! Cases: typed lifecycle, assignment, custom fields, history, SLA and escalation.

mod lifecycle;
pub mod sla;
pub mod stats;
mod store;

pub use lifecycle::{CaseStatus, Priority};
pub use store::*;
