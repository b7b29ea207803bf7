//! Use cases of a body's members and their roles.

use civitas_policies::Permission;
use civitas_tenants::members::{self, Member, MemberProfile};
use civitas_tenants::{Identity, MemberId, Role, TenantContext, audit};
use serde_json::json;

use super::{App, Caller, Page};
use crate::Result;

/// The members of the caller's body with their roles, oldest first.
pub async fn list(app: &App, caller: &Caller, page: Page<MemberId>) -> Result<(Vec<Member>, bool)> {
    let tc = caller.authorize(app, Permission::MemberRead).await?;
    let scope = app.db.scope(tc).await?;
    let found = members::page(&scope, page.first, page.after).await?;
    app.commit(scope).await?;
    Ok(found)
}

/// Every member of the caller's body, by name.
pub async fn all(app: &App, caller: &Caller) -> Result<Vec<Member>> {
    let tc = caller.authorize(app, Permission::MemberRead).await?;
    let scope = app.db.scope(tc).await?;
    let found = members::list(&scope).await?;
    app.commit(scope).await?;
    Ok(found)
}

/// The member an administrator names: by default at the administrator's own issuer.
fn named(tc: &TenantContext, issuer: Option<String>, subject: String) -> Identity {
    Identity::new(
        issuer.unwrap_or_else(|| tc.principal.issuer.clone()),
        subject,
    )
}

/// Grants `role` in the caller's body to (issuer, subject), adding them as a member if
/// they are new. Granting a role already held changes nothing.
pub async fn grant_role(
    app: &App,
    caller: &Caller,
    issuer: Option<String>,
    subject: String,
    role: Role,
    profile: MemberProfile,
) -> Result<Member> {
    let tc = caller.authorize(app, Permission::MemberManage).await?;
    let scope = app.db.scope(tc).await?;
    let who = named(tc, issuer, subject);
    let m = members::grant(&scope, &tc.actor(), &who, role, &profile).await?;
    audit::record(
        &scope,
        &tc.identity(),
        "role.granted",
        Some(&m.subject),
        json!({ "role": role, "issuer": m.issuer }),
    )
    .await?;
    app.commit(scope).await?;
    Ok(m)
}

/// Revokes a role in the caller's body, effective on the member's next request.
pub async fn revoke_role(
    app: &App,
    caller: &Caller,
    issuer: Option<String>,
    subject: String,
    role: Role,
) -> Result<Member> {
    let tc = caller.authorize(app, Permission::MemberManage).await?;
    let scope = app.db.scope(tc).await?;
    let m = members::revoke(&scope, &named(tc, issuer, subject), role).await?;
    audit::record(
        &scope,
        &tc.identity(),
        "role.revoked",
        Some(&m.subject),
        json!({ "role": role, "issuer": m.issuer }),
    )
    .await?;
    app.commit(scope).await?;
    Ok(m)
}
