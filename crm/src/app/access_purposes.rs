//! Use cases of a body's access purposes: its staff read the list (to declare one when they
//! open a citizen's records); its administrators define and retire purposes.

use civitas_policies::Permission;
use civitas_tenants::audit;
use serde_json::json;

use super::{App, Caller};
use crate::Result;
use crate::access_purposes::{self, Purpose};

/// The body's purposes, those in use first; retired ones only when asked for.
pub async fn list(app: &App, caller: &Caller, with_retired: bool) -> Result<Vec<Purpose>> {
    let tc = caller.authorize(app, Permission::AccessPurposeRead).await?;
    let scope = app.db.scope(tc).await?;
    let found = access_purposes::list(&scope, with_retired).await?;
    app.commit(scope).await?;
    Ok(found)
}

/// Creates purpose `code`, or changes its label and legal basis (and puts it back in use).
pub async fn define(
    app: &App,
    caller: &Caller,
    code: &str,
    label: &str,
    legal_basis: &str,
) -> Result<Purpose> {
    let tc = caller
        .authorize(app, Permission::AccessPurposeManage)
        .await?;
    let scope = app.db.scope(tc).await?;
    let by = tc.identity();
    let p = access_purposes::define(&scope, &by, code, label, legal_basis, app.now()).await?;
    audit::record(
        &scope,
        &by,
        "access_purpose.defined",
        Some(code),
        json!({ "label": p.label, "legalBasis": p.legal_basis }),
    )
    .await?;
    app.commit(scope).await?;
    Ok(p)
}

/// Takes purpose `code` out of use: staff can no longer declare it.
pub async fn retire(app: &App, caller: &Caller, code: &str) -> Result<Purpose> {
    let tc = caller
        .authorize(app, Permission::AccessPurposeManage)
        .await?;
    let scope = app.db.scope(tc).await?;
    let p = access_purposes::retire(&scope, code, app.now()).await?;
    audit::record(
        &scope,
        &tc.identity(),
        "access_purpose.retired",
        Some(code),
        json!({}),
    )
    .await?;
    app.commit(scope).await?;
    Ok(p)
}
