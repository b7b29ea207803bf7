//! Tenants: onboarding, listing, status and settings; and `me`.

use async_graphql::{Context, InputObject, Json, Object, SimpleObject};
use civitas_crm::onboarding::{self, FirstAdmin};
use civitas_tenants::members::MemberProfile;
use civitas_tenants::registry::{self, NewTenant};
use civitas_tenants::{TenantSlug, audit};
use serde_json::json;

use crate::caller::{authorize, authorize_platform, principal, state, tenant_opt};
use crate::error::{ApiError, ApiResult};
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
        authorize_platform(ctx, "tenant", "list").await?;
        let db = &state(ctx).db;
        Ok(registry::list(db)
            .await?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// One tenant by slug: any, for platform administrators; otherwise only the tenant the
    /// caller acts in.
    async fn tenant(&self, ctx: &Context<'_>, slug: String) -> ApiResult<Tenant> {
        let slug = TenantSlug::parse(&slug)?;
        if authorize_platform(ctx, "tenant", "read").await.is_ok() {
            let db = &state(ctx).db;
            let t = registry::find_by_slug(db, &slug).await?;
            return t
                .map(Into::into)
                .ok_or_else(|| civitas_tenants::Error::NotFound("tenant").into());
        }
        let tc = authorize(ctx, "tenant", "read").await?;
        if tc.tenant.slug != slug {
            return Err(ApiError::forbidden());
        }
        Ok(tc.tenant.clone().into())
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
        let p = authorize_platform(ctx, "tenant", "onboard").await?;
        let new = NewTenant {
            slug: TenantSlug::parse(&input.slug)?,
            display_name: input.display_name,
            kind: input.kind.into(),
            parent: input
                .parent_slug
                .as_deref()
                .map(TenantSlug::parse)
                .transpose()?,
            settings: input.settings.map(|j| j.0).unwrap_or_else(|| json!({})),
        };
        let admin = FirstAdmin {
            identity: civitas_tenants::Identity::new(
                input.admin.issuer.unwrap_or_else(|| p.issuer.clone()),
                input.admin.subject,
            ),
            profile: MemberProfile {
                display_name: input.admin.display_name,
                email: input.admin.email,
            },
        };
        let s = state(ctx);
        let done = onboarding::onboard(&s.db, &s.authorizer, &p.identity(), new, admin).await?;
        tracing::info!(tenant = %done.tenant.slug, "tenant onboarded");
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
        let p = authorize_platform(ctx, "tenant", "suspend").await?;
        let db = &state(ctx).db;
        let slug = TenantSlug::parse(&slug)?;
        let t = registry::set_status(db, &slug, status.into()).await?;
        tracing::info!(tenant = %slug, status = %t.status, by = %p.subject, "tenant status changed");
        Ok(t.into())
    }

    /// Replaces the settings of the caller's tenant (a JSON object).
    async fn update_tenant_settings(
        &self,
        ctx: &Context<'_>,
        settings: Json<serde_json::Value>,
    ) -> ApiResult<Tenant> {
        let tc = authorize(ctx, "tenant", "update").await?;
        let db = &state(ctx).db;
        // Rate limits live in the settings but are the platform's to set: a body's
        // administrators keep whatever limits their body has, and are told so when they try.
        let mut settings = settings.0;
        if !tc.has_role(civitas_tenants::Role::PlatformAdmin)
            && let Some(obj) = settings.as_object_mut()
        {
            let current = tc.tenant.settings.get("limits");
            if obj.get("limits").is_some() && obj.get("limits") != current {
                return Err(ApiError::new(
                    crate::error::Code::Forbidden,
                    "a body's rate limits are set by a platform administrator",
                ));
            }
            match current {
                Some(l) => obj.insert("limits".into(), l.clone()),
                None => obj.remove("limits"),
            };
        }
        let scope = db.scope(tc).await?;
        let t = registry::set_settings(&scope, tc.tenant.id, settings).await?;
        audit::record(
            &scope,
            &tc.identity(),
            "tenant.settings_updated",
            None,
            json!({}),
        )
        .await?;
        scope.commit().await?;
        Ok(t.into())
    }
}
