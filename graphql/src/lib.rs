//! The GraphQL API: a thin adapter over the use cases of [`civitas_crm::app`]. A resolver
//! reads its arguments, calls one use case with the request's caller, and maps the result.

mod access_purposes;
mod caller;
mod cases;
mod catalogue;
mod citizen_types;
mod citizens;
mod connections;
mod consents;
mod delegations;
mod deliveries;
mod erasure;
mod error;
pub mod events;
mod identity;
mod ids;
mod initiatives;
mod interactions;
mod loaders;
mod me;
mod members;
mod places;
mod policies;
mod preferences;
mod questionnaires;
mod receipts;
mod register;
mod requests;
mod restrictions;
mod sheets;
mod tenants;
mod types;
mod webhooks;

use async_graphql::{MergedObject, Schema};

pub use civitas_crm::app::{App as AppState, Caller, CitizenIdentity, Grant, Granted, identify};
pub use error::{ApiError, Code};

#[derive(MergedObject, Default)]
pub struct Query(
    tenants::TenantQuery,
    members::MemberQuery,
    policies::PolicyQuery,
    catalogue::CatalogueQuery,
    sheets::SheetQuery,
    receipts::ReceiptQuery,
    register::RegisterQuery,
    erasure::ErasureQuery,
    restrictions::RestrictionQuery,
    citizens::CitizenQuery,
    access_purposes::AccessPurposeQuery,
    places::PlacesQuery,
    initiatives::InitiativeQuery,
    questionnaires::QuestionnaireQuery,
    preferences::PreferenceQuery,
    consents::ConsentQuery,
    identity::IdentityQuery,
    cases::CaseQuery,
    interactions::InteractionQuery,
    delegations::DelegationQuery,
    me::MeQuery,
    webhooks::WebhookQuery,
    deliveries::DeliveryQuery,
);

#[derive(MergedObject, Default)]
pub struct Mutation(
    tenants::TenantMutation,
    members::MemberMutation,
    policies::PolicyMutation,
    catalogue::CatalogueMutation,
    sheets::SheetMutation,
    citizens::CitizenMutation,
    access_purposes::AccessPurposeMutation,
    places::PlacesMutation,
    initiatives::InitiativeMutation,
    questionnaires::QuestionnaireMutation,
    preferences::PreferenceMutation,
    consents::ConsentMutation,
    identity::IdentityMutation,
    cases::CaseMutation,
    interactions::InteractionMutation,
    delegations::DelegationMutation,
    requests::RequestMutation,
    me::MeMutation,
    erasure::ErasureMutation,
    restrictions::RestrictionMutation,
    webhooks::WebhookMutation,
    deliveries::DeliveryMutation,
);

pub type CivitasSchema = Schema<Query, Mutation, events::Subscription>;

/// Limits that keep one request from costing the server more than a request should.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub depth: usize,
    pub complexity: usize,
    pub recursive_depth: usize,
    pub directives: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            depth: 12,
            complexity: 1000,
            recursive_depth: 32,
            directives: 20,
        }
    }
}

pub fn build_schema(state: AppState, limits: Limits) -> CivitasSchema {
    let builder = Schema::build(Query::default(), Mutation::default(), events::Subscription)
        .data(state)
        .limit_depth(limits.depth)
        .limit_complexity(limits.complexity)
        .limit_recursive_depth(limits.recursive_depth)
        .limit_directives(limits.directives);
    // A tracing span around parsing, validation and every resolver, when something records
    // them (traces are exported, or the log filter asks for them): any extension sends every
    // field of every response through a boxed chain of calls.
    if tracing::enabled!(target: "async_graphql::graphql", tracing::Level::INFO) {
        builder
            .extension(async_graphql::extensions::Tracing)
            .finish()
    } else {
        builder.finish()
    }
}

/// Attaches what a request needs besides the shared state: its caller and its own
/// DataLoaders (never shared between requests, so never between tenants).
pub fn prepare(
    request: async_graphql::Request,
    state: &AppState,
    caller: Caller,
) -> async_graphql::Request {
    let histories = loaders::case_history_loader(state, &caller);
    let attachments = loaders::attachment_loader(state, &caller);
    request
        .data(caller)
        .data(loaders::tenant_loader(&state.db))
        .data(histories)
        .data(attachments)
}

/// The same, for a WebSocket connection: the data every subscription on it sees.
pub fn connection_data(state: &AppState, caller: Caller) -> async_graphql::Data {
    let mut data = async_graphql::Data::default();
    data.insert(loaders::case_history_loader(state, &caller));
    data.insert(loaders::attachment_loader(state, &caller));
    data.insert(caller);
    data.insert(loaders::tenant_loader(&state.db));
    data
}

/// The schema in SDL, as `civitas schema` prints it.
pub fn sdl() -> String {
    Schema::build(Query::default(), Mutation::default(), events::Subscription)
        .finish()
        .sdl()
}
