//! A tenant's authorization policies, which its administrators may edit.

use async_graphql::{Context, Object};
use civitas_policies::PolicyRule as Rule;
use civitas_tenants::audit;
use serde_json::json;

use crate::caller::{authorize, state};
use crate::error::{ApiError, ApiResult, Code};
use crate::types::{AuditEvent, PolicyRule};

#[derive(Default)]
pub struct PolicyQuery;

#[Object]
impl PolicyQuery {
    /// The policy rules of the caller's tenant.
    async fn policies(&self, ctx: &Context<'_>) -> ApiResult<Vec<PolicyRule>> {
        let tc = authorize(ctx, "policy", "read").await?;
        let rules = state(ctx).authorizer.rules(&tc.tenant.id.to_string()).await;
        Ok(rules.into_iter().map(Into::into).collect())
    }

    /// The caller's tenant's audit log, newest first.
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 50)] limit: i32,
        before: Option<async_graphql::ID>,
    ) -> ApiResult<Vec<AuditEvent>> {
        let tc = authorize(ctx, "audit", "read").await?;
        if !(1..=500).contains(&limit) {
            return Err(ApiError::new(
                Code::Validation,
                "limit must be between 1 and 500",
            ));
        }
        let before = before
            .map(|b| b.parse::<uuid::Uuid>())
            .transpose()
            .map_err(|_| ApiError::new(Code::Validation, "before is not an audit event id"))?;
        let scope = state(ctx).db.scope(tc).await?;
        let events = audit::list(&scope, limit as u64, before).await?;
        scope.commit().await?;
        Ok(events.into_iter().map(Into::into).collect())
    }
}

#[derive(Default)]
pub struct PolicyMutation;

async fn change(ctx: &Context<'_>, rule: Rule, add: bool) -> ApiResult<Vec<PolicyRule>> {
    let tc = authorize(ctx, "policy", "manage").await?;
    let s = state(ctx);
    let domain = tc.tenant.id.to_string();
    let changed = if add {
        s.authorizer.add_rule(&domain, &rule).await?
    } else {
        s.authorizer.remove_rule(&domain, &rule).await?
    };
    if !changed && !add {
        return Err(ApiError::new(Code::NotFound, "policy rule not found"));
    }
    let scope = s.db.scope(tc).await?;
    let action = if add {
        "policy.added"
    } else {
        "policy.removed"
    };
    let detail = json!({ "role": rule.role, "object": rule.object, "action": rule.action });
    audit::record(&scope, &tc.identity(), action, None, detail).await?;
    scope.commit().await?;
    Ok(s.authorizer
        .rules(&domain)
        .await
        .into_iter()
        .map(Into::into)
        .collect())
}

#[Object]
impl PolicyMutation {
    /// Allows `role` to do `action` on `object` in the caller's tenant, from the next request.
    async fn add_policy(
        &self,
        ctx: &Context<'_>,
        role: String,
        object: String,
        action: String,
    ) -> ApiResult<Vec<PolicyRule>> {
        change(
            ctx,
            Rule {
                role,
                object,
                action,
            },
            true,
        )
        .await
    }

    /// Removes a rule of the caller's tenant, from the next request.
    async fn remove_policy(
        &self,
        ctx: &Context<'_>,
        role: String,
        object: String,
        action: String,
    ) -> ApiResult<Vec<PolicyRule>> {
        change(
            ctx,
            Rule {
                role,
                object,
                action,
            },
            false,
        )
        .await
    }
}
