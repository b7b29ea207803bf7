//! Use cases of files attached to cases. Staff of the case's body attach, list and download
//! as they update and read its cases; the case's citizen does the same for their own case,
//! with no tenant named (the case names its body). Either way a case another body holds, or
//! another citizen's, is NOT_FOUND.

use civitas_policies::Permission;
use civitas_tenants::{TenantContext, TenantStatus, registry};

use super::{App, Caller, Page};
use crate::attachments::{self, Attachment, AttachmentSettings, Reader};
use crate::entity::case;
use crate::ids::{AttachmentId, CaseId};
use crate::{Error, Result};
use sea_orm::{ColumnTrait, QueryFilter};

/// Who attaches: the case's body and context, and the citizen the case is about.
struct Target {
    tc: TenantContext,
    person: Option<uuid::Uuid>,
}

/// Case `c` as the reader sees it; NOT_FOUND when it is another body's or person's.
async fn case_of(reader: Reader<'_>, c: CaseId) -> Result<case::Model> {
    let (q, conn) = reader.find::<case::Entity>();
    q.filter(case::Column::Id.eq(c.0))
        .one(conn)
        .await?
        .ok_or(Error::NotFound("case"))
}

/// The body and context in which `caller` may add to case `c`: staff who may update cases
/// of their body, or the citizen whose case it is (at a body still active).
async fn target(app: &App, caller: &Caller, c: CaseId) -> Result<Target> {
    if caller.tenant.is_some() {
        let tc = caller.authorize(app, Permission::CaseUpdate).await?;
        let scope = app.db.scope(tc).await?;
        let found = case_of(Reader::Body(&scope), c).await?;
        scope.commit().await?;
        return Ok(Target {
            tc: tc.clone(),
            person: found.person_id,
        });
    }
    let me = caller.citizen()?;
    let principal = caller.principal()?;
    let scope = app.db.person_scope(me.person_id, &me.merged).await?;
    let found = case_of(Reader::Person(&scope), c).await?;
    scope.commit().await?;
    let body = registry::find_by_id(&app.db, civitas_tenants::TenantId(found.tenant_id))
        .await?
        .filter(|t| t.status == TenantStatus::Active)
        .ok_or(Error::NotFound("case"))?;
    Ok(Target {
        tc: TenantContext::for_citizen(body, principal.clone()),
        person: found.person_id,
    })
}

/// Attaches a file to case `c`. The file is checked whole (type by content, the body's size
/// limit) before anything is stored; its bytes go to the store first, then the row is
/// written, so that a row never names bytes that are not there.
pub async fn attach(
    app: &App,
    caller: &Caller,
    c: CaseId,
    file_name: &str,
    bytes: Vec<u8>,
) -> Result<Attachment> {
    let t = target(app, caller, c).await?;
    let ceiling = app.files.ceiling;
    let limit = AttachmentSettings::of(&t.tc.tenant.settings, ceiling)
        .unwrap_or_default()
        .limit(ceiling);
    let upload = attachments::check(file_name, bytes, limit)?;
    let key = attachments::key(t.tc.tenant.id, &upload.sha256);
    app.files
        .store
        .put(&key, upload.bytes.clone())
        .await
        .map_err(|e| {
            tracing::error!(tenant = %t.tc.tenant.slug, error = %e, "attachment not stored");
            Error::Internal(format!("attachment store: {e}"))
        })?;
    let scope = app.db.scope(&t.tc).await?;
    let a = attachments::record(&scope, c, t.person, &upload, &t.tc.identity(), app.now()).await?;
    app.commit(scope).await?;
    Ok(a)
}

/// The files of case `c`, oldest first, for its body's staff or its citizen.
pub async fn list(
    app: &App,
    caller: &Caller,
    c: CaseId,
    page: Page<AttachmentId>,
) -> Result<(Vec<Attachment>, bool)> {
    let after = page.after.map(|a| a.0);
    if caller.tenant.is_some() {
        let tc = caller.authorize(app, Permission::CaseRead).await?;
        let scope = app.db.scope(tc).await?;
        let found = attachments::of_case(Reader::Body(&scope), c, page.first, after).await?;
        scope.commit().await?;
        return Ok(found);
    }
    let me = caller.citizen()?;
    let scope = app.db.person_scope(me.person_id, &me.merged).await?;
    let found = attachments::of_case(Reader::Person(&scope), c, page.first, after).await?;
    scope.commit().await?;
    Ok(found)
}

/// A file and its bytes, for whoever may read its case.
pub async fn download(
    app: &App,
    caller: &Caller,
    id: AttachmentId,
) -> Result<(Attachment, Vec<u8>)> {
    let a = if caller.tenant.is_some() {
        let tc = caller.authorize(app, Permission::CaseRead).await?;
        let scope = app.db.scope(tc).await?;
        let a = attachments::find(Reader::Body(&scope), id.0).await?;
        scope.commit().await?;
        a
    } else {
        let me = caller.citizen()?;
        let scope = app.db.person_scope(me.person_id, &me.merged).await?;
        let a = attachments::find(Reader::Person(&scope), id.0).await?;
        scope.commit().await?;
        a
    };
    let key = attachments::key(a.tenant_id, &a.sha256);
    let bytes = app.files.store.get(&key).await.map_err(|e| {
        tracing::error!(attachment = %a.id, error = %e, "attachment not read from the store");
        Error::Internal(format!("attachment store: {e}"))
    })?;
    Ok((a, bytes))
}
