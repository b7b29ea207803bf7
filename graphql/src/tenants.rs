//! Tenants: onboarding, listing, status and settings; and `me`. A translation of
//! [`civitas_crm::app::tenants`].

use async_graphql::{Context, InputObject, Json, Object, SimpleObject};
use civitas_crm::app::tenants::{self as uc, Onboard};
use civitas_tenants::TenantSlug;
use civitas_tenants::members::MemberProfile;
use civitas_tenants::registry::NewTenant;
use serde_json::json;

use crate::caller::{caller, principal, state, tenant_opt};
use crate::error::ApiResult;
use crate::types::{Me, Member, Role, Tenant, TenantKind, TenantStatus};

#[derive(Default)]
pub struct TenantQuery;

#[Object]
impl TenantQuery {
    /// The caller: who they are, the tenant they act in and their roles there.
    async fn me(&self, ctx: &Context<'_>) -> ApiResult<Me> {
        let p = principal(ctx)?;
        let tc = tenant_opt(ctx);
        let roles = match tc {
            Some(tc) => tc.roles.iter().copied().map(Role::from).collect(),
            None => p.token_roles.iter().copied().map(Role::from).collect(),
        };
        Ok(Me {
            subject: p.subject.clone(),
            issuer: p.issuer.clone(),
            kind: p.kind.into(),
            name: p.name.clone(),
            tenant: tc.map(|tc| tc.tenant.clone().into()),
            roles,
            member_id: tc.and_then(|tc| tc.member_id).map(|m| m.to_string().into()),
        })
    }

    /// Every tenant of the deployment (platform administrators).
    async fn tenants(&self, ctx: &Context<'_>) -> ApiResult<Vec<Tenant>> {
        let list = uc::list(state(ctx), caller(ctx)).await?;
        Ok(list.into_iter().map(Into::into).collect())
    }

    /// One tenant by slug: any, for platform administrators; otherwise only the tenant the
    /// caller acts in.
    async fn tenant(&self, ctx: &Context<'_>, slug: String) -> ApiResult<Tenant> {
        let slug = TenantSlug::parse(&slug)?;
        Ok(uc::get(state(ctx), caller(ctx), &slug).await?.into())
    }
}

#[derive(InputObject)]
pub struct FirstAdminInput {
    /// The subject their identity provider will present for them.
    pub subject: String,
    /// That provider's issuer; by default the onboarding administrator's own.
    pub issuer: Option<String>,
    pub display_name: Option<String>,
    pub email: Option<String>,
}

#[derive(InputObject)]
pub struct OnboardTenantInput {
    pub slug: String,
    pub display_name: String,
    pub kind: TenantKind,
    /// The slug of the body this one belongs to (a municipio's capitale).
    pub parent_slug: Option<String>,
    pub settings: Option<Json<serde_json::Value>>,
    pub admin: FirstAdminInput,
}

#[derive(SimpleObject)]
pub struct OnboardTenantPayload {
    pub tenant: Tenant,
    pub admin: Member,
}

#[derive(Default)]
pub struct TenantMutation;

#[Object]
impl TenantMutation {
    /// Creates a body with its default roles and policies and its first tenant
    /// administrator, all or nothing (platform administrators).
    async fn onboard_tenant(
        &self,
        ctx: &Context<'_>,
        input: OnboardTenantInput,
    ) -> ApiResult<OnboardTenantPayload> {
        let onboard = Onboard {
            tenant: NewTenant {
                slug: TenantSlug::parse(&input.slug)?,
                display_name: input.display_name,
                kind: input.kind.into(),
                parent: input
                    .parent_slug
                    .as_deref()
                    .map(TenantSlug::parse)
                    .transpose()?,
                settings: input.settings.map(|j| j.0).unwrap_or_else(|| json!({})),
            },
            admin_issuer: input.admin.issuer,
            admin_subject: input.admin.subject,
            admin_profile: MemberProfile {
                display_name: input.admin.display_name,
                email: input.admin.email,
            },
        };
        let done = uc::onboard(state(ctx), caller(ctx), onboard).await?;
        Ok(OnboardTenantPayload {
            tenant: done.tenant.into(),
            admin: done.admin.into(),
        })
    }

    /// Suspends or reactivates a tenant (platform administrators). A suspended tenant's
    /// calls are refused with TENANT_SUSPENDED; its data is kept.
    async fn set_tenant_status(
        &self,
        ctx: &Context<'_>,
        slug: String,
        status: TenantStatus,
    ) -> ApiResult<Tenant> {
        let slug = TenantSlug::parse(&slug)?;
        let t = uc::set_status(state(ctx), caller(ctx), &slug, status.into()).await?;
        Ok(t.into())
    }

    /// Replaces the settings of the caller's tenant (a JSON object).
    async fn update_tenant_settings(
        &self,
        ctx: &Context<'_>,
        settings: Json<serde_json::Value>,
    ) -> ApiResult<Tenant> {
        let t = uc::update_settings(state(ctx), caller(ctx), settings.0).await?;
        Ok(t.into())
    }
}
