//! Notifications leaving the platform. A notification written to a citizen's inbox
//! (`crate::notifications`) is also queued, in the same transaction, for each channel that
//! reaches them (today e-mail): the outbox. A worker of the server sends what is due, in the
//! body's own words (templates per body, kind and language), and records every attempt.

pub mod choices;
pub mod links;
pub mod outbox;
pub mod quiet;
pub mod settings;
pub mod templates;

pub use links::LinkSigner;
pub use settings::NotificationSettings;
