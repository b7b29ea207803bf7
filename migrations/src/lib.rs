//! Schema of Civitas: tables, indexes and, on PostgreSQL, the application role and the
//! row-level security policies. Migrations run as the owner; the server connects as
//! [`APP_ROLE`], which owns nothing and cannot bypass RLS.

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_tenancy;
mod m20261122_000002_catalogue;
mod m20261122_000003_citizens;
mod m20261123_000004_identity;
mod m20261123_000005_cases;
mod m20261123_000006_webhooks;
mod m20261129_000007_plpgsql_policies;
mod m20261129_000008_citizen_view_function;
mod m20261129_000009_citizen_view_parts;
mod m20261130_000010_citizen_view_generic_plan;
mod m20261130_000011_current_person_check;
mod m20261130_000012_issuer_bound_identity;
mod m20261130_000013_consent_requests;
mod m20261130_000014_person_sources;
mod m20261130_000015_notifications;
mod m20261201_000016_public_catalogue;
mod m20261201_000017_notification_delivery;
mod m20261201_000018_quiet_hours;
mod m20261201_000019_attachments;
mod m20261201_000020_notification_archive;
mod m20261201_000021_service_sheets;
mod m20261201_000022_persons_wall;
mod m20261201_000023_erasure;
mod m20261201_000024_restrictions;
mod m20261201_000025_access_purposes;
mod m20261201_000026_places;
mod m20261201_000027_initiatives;
mod m20261201_000028_questionnaires;
mod m20261201_000029_preferences;
mod rls;

pub use rls::{APP_ROLE, CONSENT_TABLES, TENANT_OWNED_TABLES};

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_tenancy::Migration),
            Box::new(m20261122_000002_catalogue::Migration),
            Box::new(m20261122_000003_citizens::Migration),
            Box::new(m20261123_000004_identity::Migration),
            Box::new(m20261123_000005_cases::Migration),
            Box::new(m20261123_000006_webhooks::Migration),
            Box::new(m20261129_000007_plpgsql_policies::Migration),
            Box::new(m20261129_000008_citizen_view_function::Migration),
            Box::new(m20261129_000009_citizen_view_parts::Migration),
            Box::new(m20261130_000010_citizen_view_generic_plan::Migration),
            Box::new(m20261130_000011_current_person_check::Migration),
            Box::new(m20261130_000012_issuer_bound_identity::Migration),
            Box::new(m20261130_000013_consent_requests::Migration),
            Box::new(m20261130_000014_person_sources::Migration),
            Box::new(m20261130_000015_notifications::Migration),
            Box::new(m20261201_000016_public_catalogue::Migration),
            Box::new(m20261201_000017_notification_delivery::Migration),
            Box::new(m20261201_000018_quiet_hours::Migration),
            Box::new(m20261201_000019_attachments::Migration),
            Box::new(m20261201_000020_notification_archive::Migration),
            Box::new(m20261201_000021_service_sheets::Migration),
            Box::new(m20261201_000022_persons_wall::Migration),
            Box::new(m20261201_000023_erasure::Migration),
            Box::new(m20261201_000024_restrictions::Migration),
            Box::new(m20261201_000025_access_purposes::Migration),
            Box::new(m20261201_000026_places::Migration),
            Box::new(m20261201_000027_initiatives::Migration),
            Box::new(m20261201_000028_questionnaires::Migration),
            Box::new(m20261201_000029_preferences::Migration),
        ]
    }
}
