//! The request's caller and the shared use-case state, as resolvers reach them. Resolvers
//! check no permission themselves: the use cases do ([`civitas_crm::app::Caller`]).

use async_graphql::Context;
use civitas_crm::app::{App, Caller, CitizenIdentity};
use civitas_tenants::{Principal, TenantContext};

use crate::error::ApiResult;

pub(crate) fn state<'a>(ctx: &Context<'a>) -> &'a App {
    ctx.data_unchecked::<App>()
}

pub(crate) fn caller<'a>(ctx: &Context<'a>) -> &'a Caller {
    static ANONYMOUS: std::sync::OnceLock<Caller> = std::sync::OnceLock::new();
    ctx.data_opt::<Caller>()
        .unwrap_or_else(|| ANONYMOUS.get_or_init(Caller::default))
}

/// The signed-in citizen; FORBIDDEN for any other principal.
pub(crate) fn citizen<'a>(ctx: &Context<'a>) -> ApiResult<&'a CitizenIdentity> {
    Ok(caller(ctx).citizen()?)
}

pub(crate) fn principal<'a>(ctx: &Context<'a>) -> ApiResult<&'a Principal> {
    Ok(caller(ctx).principal()?)
}

pub(crate) fn tenant_opt<'a>(ctx: &Context<'a>) -> Option<&'a TenantContext> {
    caller(ctx).tenant.as_ref()
}
