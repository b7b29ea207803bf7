//! sea-orm entities of the domain, kept apart from the behaviour written around them.

pub mod access_log;
pub mod access_purpose;
pub mod api_key;
pub mod attachment;
pub mod case;
pub mod case_event;
pub mod channel_choice;
pub mod consent_request;
pub mod contact;
pub mod delegation;
pub mod erasure_request;
pub mod erasure_step;
pub mod initiative;
pub mod interaction;
pub mod notification;
pub mod notification_attempt;
pub mod notification_delivery;
pub mod outbox;
pub mod participation;
pub mod person;
pub mod person_identity;
pub mod person_source;
pub mod preference;
pub mod privacy_consent;
pub mod profile;
pub mod questionnaire;
pub mod questionnaire_version;
pub mod quiet_hours;
pub mod restriction;
pub mod retention_rule;
pub mod routing_rule;
pub mod service;
pub mod service_area;
pub mod service_sheet;
pub mod sharing_consent;
pub mod survey_answer;
pub mod survey_invitation;
pub mod webhook;
pub mod webhook_delivery;

/// Implements the ownership traits the scoped layer needs.
macro_rules! owned_by {
    (tenant) => {
        impl civitas_tenants::TenantOwned for Entity {
            fn tenant_column() -> Column {
                Column::TenantId
            }
        }
    };
    (person) => {
        impl civitas_tenants::PersonOwned for Entity {
            fn person_column() -> Column {
                Column::PersonId
            }
        }
    };
}
pub(crate) use owned_by;
