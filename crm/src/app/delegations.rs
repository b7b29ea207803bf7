//! Use cases of tutors' delegations.

use chrono::{DateTime, Utc};
use civitas_policies::Permission;
use civitas_tenants::Identity;

use super::{App, Caller};
use crate::Result;
use crate::delegations::{self, Delegation};
use crate::ids::{DelegationId, PersonId};

pub struct GrantDelegation {
    pub person_id: PersonId,
    pub tutor_subject: String,
    /// The tutor's issuer; by default the caller's own.
    pub tutor_issuer: Option<String>,
    pub scopes: Vec<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Records that a citizen delegates a tutor of the body (supervisors).
pub async fn grant(app: &App, caller: &Caller, input: GrantDelegation) -> Result<Delegation> {
    let tc = caller.authorize(app, Permission::DelegationGrant).await?;
    let tutor = Identity::new(
        input
            .tutor_issuer
            .unwrap_or_else(|| tc.principal.issuer.clone()),
        input.tutor_subject,
    );
    let scope = app.db.scope(tc).await?;
    let d = delegations::grant(
        &scope,
        &tc.identity(),
        input.person_id.0,
        &tutor,
        &input.scopes,
        input.expires_at,
        app.now(),
    )
    .await?;
    app.commit(scope).await?;
    Ok(d)
}

pub async fn revoke(app: &App, caller: &Caller, id: DelegationId) -> Result<()> {
    let tc = caller.authorize(app, Permission::DelegationRevoke).await?;
    let scope = app.db.scope(tc).await?;
    delegations::revoke(&scope, &tc.identity(), id.0, app.now()).await?;
    app.commit(scope).await
}
