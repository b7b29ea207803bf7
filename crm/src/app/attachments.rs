//! Use cases of files attached to cases. Staff of the case's body attach, list and download
//! as they update and read its cases; the case's citizen does the same for their own case,
//! with no tenant named (the case names its body). Either way a case another body holds, or
//! another citizen's, is NOT_FOUND.

use std::collections::HashMap;

use civitas_policies::Permission;
use civitas_tenants::{TenantContext, TenantStatus, registry};

use super::{App, Caller, Page};
use crate::attachments::{self, Attachment, AttachmentSettings, Reader};
use crate::entity::case;
use crate::ids::{AttachmentId, CaseId};
use crate::{Error, Result};
use sea_orm::{ColumnTrait, QueryFilter};

/// Who attaches: the case's body and context, and the citizen the case is about.
pub(super) struct Target {
    pub(super) tc: TenantContext,
    pub(super) person: Option<uuid::Uuid>,
}

/// Case `c` as the reader sees it; NOT_FOUND when it is another body's or person's.
async fn case_of(reader: Reader<'_>, c: CaseId) -> Result<case::Model> {
    let staff = matches!(reader, Reader::Body(_));
    let (q, conn) = reader.find::<case::Entity>();
    let row = q
        .filter(case::Column::Id.eq(c.0))
        .one(conn)
        .await?
        .ok_or(Error::NotFound("case"))?;
    if let (true, Reader::Body(scope)) = (staff, reader) {
        let restricted = match row.person_id {
            Some(p) => crate::restrictions::handling_restricted(scope, p).await?,
            None => false,
        };
        if row.erase_after.is_some() || restricted {
            return Err(Error::Restricted("this case"));
        }
    }
    Ok(row)
}

/// Runs `read` where `caller` reads cases: staff in their body's scope once `permission`
/// is granted, a citizen in their own scope (every body, their records only).
async fn reading<T>(
    app: &App,
    caller: &Caller,
    permission: Permission,
    read: impl for<'r> AsyncFnOnce(Reader<'r>) -> Result<T>,
) -> Result<T> {
    if caller.tenant.is_some() {
        let tc = caller.authorize(app, permission).await?;
        let scope = app.db.scope(tc).await?;
        let found = read(Reader::Body(&scope)).await?;
        scope.commit().await?;
        return Ok(found);
    }
    let me = caller.citizen()?;
    let scope = app.db.person_scope(me.person_id, &me.merged).await?;
    let found = read(Reader::Person(&scope)).await?;
    scope.commit().await?;
    Ok(found)
}

/// The body and context in which `caller` may add to case `c`: staff who may update cases
/// of their body, or the citizen whose case it is (at a body still active).
pub(super) async fn target(app: &App, caller: &Caller, c: CaseId) -> Result<Target> {
    let found = reading(app, caller, Permission::CaseUpdate, async |r| {
        case_of(r, c).await
    })
    .await?;
    let tc = match &caller.tenant {
        Some(tc) => tc.clone(),
        None => {
            let body = registry::find_by_id(&app.db, civitas_tenants::TenantId(found.tenant_id))
                .await?
                .filter(|t| t.status == TenantStatus::Active)
                .ok_or(Error::NotFound("case"))?;
            TenantContext::for_citizen(body, caller.principal()?.clone())
        }
    };
    Ok(Target {
        tc,
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
    let mut upload = attachments::check(file_name, bytes, limit)?;
    let key = attachments::key(t.tc.tenant.id, &upload.sha256);
    app.files
        .store
        .put(&key, std::mem::take(&mut upload.bytes))
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

/// Whether the body `body` (by slug) would accept this file on a case: its type and the
/// body's size limit. Lets a form that files a request and its files together refuse a
/// file before the request is filed.
pub async fn admissible(app: &App, body: &str, file_name: &str, bytes: &[u8]) -> Result<()> {
    let tenant = app.active_body("tenant", body).await?;
    let ceiling = app.files.ceiling;
    let limit = AttachmentSettings::of(&tenant.settings, ceiling)
        .unwrap_or_default()
        .limit(ceiling);
    attachments::check(file_name, bytes.to_vec(), limit).map(|_| ())
}

/// A page of one case's files: what a response asks of each case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CasePage {
    pub case: CaseId,
    pub first: u64,
    pub after: Option<AttachmentId>,
}

/// The files of each case of `pages`, oldest first, a page each and whether more follow,
/// for its body's staff or its citizen: one read for all of them.
pub async fn lists(
    app: &App,
    caller: &Caller,
    pages: &[CasePage],
) -> Result<HashMap<CasePage, (Vec<Attachment>, bool)>> {
    let cases: Vec<CaseId> = pages.iter().map(|p| p.case).collect();
    let by_case = reading(app, caller, Permission::CaseRead, async |r| {
        attachments::of_cases(r, &cases).await
    })
    .await?;
    Ok(pages
        .iter()
        .map(|p| {
            let rows = by_case.get(&p.case).map(Vec::as_slice).unwrap_or_default();
            let after: Vec<Attachment> = rows
                .iter()
                .filter(|a| p.after.is_none_or(|c| a.id > c))
                .cloned()
                .collect();
            (
                *p,
                Page {
                    first: p.first,
                    after: None,
                }
                .of_positions(after),
            )
        })
        .collect())
}

/// A file and its bytes, for whoever may read its case.
pub async fn download(
    app: &App,
    caller: &Caller,
    id: AttachmentId,
) -> Result<(Attachment, Vec<u8>)> {
    let a = reading(app, caller, Permission::CaseRead, async |r| {
        attachments::find(r, id.0).await
    })
    .await?;
    let key = attachments::key(a.tenant_id, &a.sha256);
    let bytes = app.files.store.get(&key).await.map_err(|e| {
        tracing::error!(attachment = %a.id, error = %e, "attachment not read from the store");
        Error::Internal(format!("attachment store: {e}"))
    })?;
    Ok((a, bytes))
}
