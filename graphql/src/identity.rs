//! A body's identity providers, registered by its administrators: a translation of
//! [`civitas_crm::app::identity`].

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use civitas_crm::app::identity as uc;
use civitas_tenants::identity_providers::ProviderRegistration;

use crate::caller::{caller, state};
use crate::error::ApiResult;
use crate::ids::parse_id;

/// An OpenID provider this body accepts. The client secret is never returned.
#[derive(SimpleObject)]
pub struct IdentityProvider {
    pub id: ID,
    pub issuer: String,
    pub audiences: Vec<String>,
    pub client_id: Option<String>,
    pub has_client_secret: bool,
    pub fiscal_number_claim: String,
    pub roles_claim: String,
    pub service_clients: Vec<String>,
    /// Whether a platform administrator lets its tokens assert citizens' fiscal codes.
    pub citizen_identities: bool,
}

impl From<ProviderRegistration> for IdentityProvider {
    fn from(r: ProviderRegistration) -> Self {
        IdentityProvider {
            id: ID(r.id.to_string()),
            issuer: r.issuer,
            audiences: r.audiences,
            client_id: r.client_id,
            has_client_secret: r.client_secret.is_some(),
            fiscal_number_claim: r.fiscal_number_claim,
            roles_claim: r.roles_claim,
            service_clients: r.service_clients,
            citizen_identities: r.citizen_identities,
        }
    }
}

#[derive(InputObject)]
pub struct RegisterIdentityProviderInput {
    /// The issuer URL, as in the provider's discovery document.
    pub issuer: String,
    /// Accepted `aud` values of bearer tokens.
    pub audiences: Vec<String>,
    /// For the browser sign-in: this body's client at the provider.
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    #[graphql(default = "fiscalNumber")]
    pub fiscal_number_claim: String,
    #[graphql(default = "groups")]
    pub roles_claim: String,
    /// Client ids whose client-credentials tokens are this body's integrators.
    #[graphql(default)]
    pub service_clients: Vec<String>,
}

#[derive(Default)]
pub struct IdentityQuery;

#[Object]
impl IdentityQuery {
    async fn identity_providers(&self, ctx: &Context<'_>) -> ApiResult<Vec<IdentityProvider>> {
        let list = uc::list(state(ctx), caller(ctx)).await?;
        Ok(list.into_iter().map(Into::into).collect())
    }
}

#[derive(Default)]
pub struct IdentityMutation;

#[Object]
impl IdentityMutation {
    /// Accepts tokens from an OpenID provider for this body: its operators (roles from
    /// `rolesClaim`) and its integrators (`serviceClients`). Citizens' fiscal codes
    /// (`fiscalNumberClaim`) count only once a platform administrator trusts the provider
    /// for citizens. An issuer another body registered is a CONFLICT (a platform
    /// administrator may share it).
    async fn register_identity_provider(
        &self,
        ctx: &Context<'_>,
        input: RegisterIdentityProviderInput,
    ) -> ApiResult<IdentityProvider> {
        let reg = ProviderRegistration {
            id: uuid::Uuid::nil(),
            tenant: None,
            issuer: input.issuer,
            audiences: input.audiences,
            client_id: input.client_id,
            client_secret: input.client_secret,
            fiscal_number_claim: input.fiscal_number_claim,
            roles_claim: input.roles_claim,
            service_clients: input.service_clients,
            citizen_identities: false,
        };
        Ok(uc::register(state(ctx), caller(ctx), reg).await?.into())
    }

    /// Lets a provider's tokens assert citizens' fiscal codes (the SPID/CIE broker, CIE
    /// OIDC), or stops them (platform administrators). A provider not so marked
    /// authenticates its body's staff and integrators only.
    async fn set_identity_provider_citizen_trust(
        &self,
        ctx: &Context<'_>,
        id: ID,
        trusted: bool,
    ) -> ApiResult<IdentityProvider> {
        let id = parse_id("id", &id)?;
        Ok(uc::set_citizen_trust(state(ctx), caller(ctx), id, trusted)
            .await?
            .into())
    }

    /// Stops accepting a provider's tokens, from the next request.
    async fn remove_identity_provider(&self, ctx: &Context<'_>, id: ID) -> ApiResult<bool> {
        uc::remove(state(ctx), caller(ctx), parse_id("id", &id)?).await?;
        Ok(true)
    }
}
