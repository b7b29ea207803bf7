//! A tenant's authorization policies, which its administrators may edit, and its audit
//! log: a translation of [`civitas_crm::app::policies`].

use async_graphql::{Context, Object};
use civitas_crm::app::Page;
use civitas_crm::app::policies as uc;
use civitas_policies::PolicyRule as Rule;

use crate::caller::{caller, state};
use crate::connections::{Conn, connection, page};
use crate::error::{ApiError, ApiResult, Code};
use crate::types::{AuditEvent, PolicyRule};

#[derive(Default)]
pub struct PolicyQuery;

#[Object]
impl PolicyQuery {
    /// The policy rules of the caller's tenant.
    async fn policies(&self, ctx: &Context<'_>) -> ApiResult<Vec<PolicyRule>> {
        let rules = uc::rules(state(ctx), caller(ctx)).await?;
        Ok(rules.into_iter().map(Into::into).collect())
    }

    /// The caller's tenant's audit log, newest first, as a Relay connection.
    async fn audit_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: i32,
        after: Option<String>,
    ) -> ApiResult<Conn<AuditEvent>> {
        let page = page(first, after)?;
        let (rows, more) = uc::audit_log(state(ctx), caller(ctx), page).await?;
        Ok(connection(
            rows,
            page.after.is_some(),
            more,
            |e| e.id.to_string(),
            AuditEvent::from,
        ))
    }

    /// The caller's tenant's audit log, newest first.
    #[graphql(
        deprecation = "Use `auditEvents`, a Relay connection; this field goes in the next release."
    )]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 50)] limit: i32,
        before: Option<async_graphql::ID>,
    ) -> ApiResult<Vec<AuditEvent>> {
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
        // The old field's larger pages, read as one page of the new use case.
        let page = Page {
            first: limit as u64,
            after: before,
        };
        let (rows, _) = uc::audit_log(state(ctx), caller(ctx), page).await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }
}

#[derive(Default)]
pub struct PolicyMutation;

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
        let rule = Rule {
            role,
            object,
            action,
        };
        let rules = uc::change(state(ctx), caller(ctx), rule, true).await?;
        Ok(rules.into_iter().map(Into::into).collect())
    }

    /// Removes a rule of the caller's tenant, from the next request.
    async fn remove_policy(
        &self,
        ctx: &Context<'_>,
        role: String,
        object: String,
        action: String,
    ) -> ApiResult<Vec<PolicyRule>> {
        let rule = Rule {
            role,
            object,
            action,
        };
        let rules = uc::change(state(ctx), caller(ctx), rule, false).await?;
        Ok(rules.into_iter().map(Into::into).collect())
    }
}
