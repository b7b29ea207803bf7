//! End-to-end tests: the real router (and the real binary) against real SQLite and
//! PostgreSQL databases, one fresh database per test. One test binary, many modules.

mod authz;
mod bad_input;
mod bench;
mod call_pool;
mod cases;
mod citizens;
mod cli;
mod connections;
mod consent_model;
mod consents;
mod counter_consent;
mod database_functions;
mod doc_examples;
mod email;
mod fairness;
mod file_request;
mod gateways;
mod harness;
mod isolation;
mod legacy_citizens;
mod my_contacts;
mod my_delegations;
mod notifications;
mod oidc;
mod public_catalogue;
mod realtime;
mod schema_snapshot;
mod security_identity;
mod security_outbound;
mod security_requests;
mod shutdown;
mod smtp;
mod tenancy;
mod webhooks;
