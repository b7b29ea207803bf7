//! Use cases of a body's authorization policies and its audit log.

use civitas_policies::{Permission, PolicyRule};
use civitas_tenants::audit::{self, AuditEvent};
use serde_json::json;
use uuid::Uuid;

use super::{App, Caller, Page};
use crate::{Error, Result};

/// The policy rules of the caller's body.
pub async fn rules(app: &App, caller: &Caller) -> Result<Vec<PolicyRule>> {
    let tc = caller.authorize(app, Permission::PolicyRead).await?;
    Ok(app.authorizer.rules(&tc.tenant.id.to_string()).await)
}

/// Adds (`add`) or removes a rule of the caller's body, effective from the next request;
/// returns the body's rules. Removing a rule that is not there is NOT_FOUND.
pub async fn change(
    app: &App,
    caller: &Caller,
    rule: PolicyRule,
    add: bool,
) -> Result<Vec<PolicyRule>> {
    let tc = caller.authorize(app, Permission::PolicyManage).await?;
    let domain = tc.tenant.id.to_string();
    let changed = if add {
        app.authorizer.add_rule(&domain, &rule).await?
    } else {
        app.authorizer.remove_rule(&domain, &rule).await?
    };
    if !changed && !add {
        return Err(Error::NotFound("policy rule"));
    }
    let scope = app.db.scope(tc).await?;
    let action = if add {
        "policy.added"
    } else {
        "policy.removed"
    };
    let detail = json!({ "role": rule.role, "object": rule.object, "action": rule.action });
    audit::record(&scope, &tc.identity(), action, None, detail).await?;
    app.commit(scope).await?;
    Ok(app.authorizer.rules(&domain).await)
}

/// The caller's body's audit log, newest first: a page, and whether more follow.
pub async fn audit_log(
    app: &App,
    caller: &Caller,
    page: Page<Uuid>,
) -> Result<(Vec<AuditEvent>, bool)> {
    let tc = caller.authorize(app, Permission::AuditRead).await?;
    let scope = app.db.scope(tc).await?;
    let mut found = audit::list(&scope, page.first + 1, page.after).await?;
    app.commit(scope).await?;
    let more = found.len() as u64 > page.first;
    found.truncate(page.first as usize);
    Ok((found, more))
}
