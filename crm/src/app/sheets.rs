//! Use cases of service sheets: editors write drafts, publishers publish them, anyone reads
//! what is published (with what the body's ancestors published filling the gaps).

use civitas_policies::Permission;
use civitas_tenants::{Tenant, TenantId, audit, registry};
use serde_json::json;

use super::{App, Caller};
use crate::Result;
use crate::notifications::Language;
use crate::sheets::{self, Section, Sections, Sheet, SheetState};

/// How far up the tree of bodies a sheet is inherited (a guard against a cycle).
const MAX_ANCESTORS: usize = 8;

/// A sheet as its editors see it: the draft they work on and what citizens read now.
#[derive(Clone, Debug, Default)]
pub struct Editing {
    pub draft: Option<Sheet>,
    pub published: Option<Sheet>,
}

pub async fn editing(app: &App, caller: &Caller, code: &str, lang: Language) -> Result<Editing> {
    let tc = caller.authorize(app, Permission::ServiceRead).await?;
    let scope = app.db.scope(tc).await?;
    crate::catalogue::by_code(&scope, code).await?;
    let draft = sheets::get(&scope, code, lang, SheetState::Draft).await?;
    let published = sheets::get(&scope, code, lang, SheetState::Published).await?;
    app.commit(scope).await?;
    Ok(Editing { draft, published })
}

pub async fn save_draft(
    app: &App,
    caller: &Caller,
    code: &str,
    lang: Language,
    sections: Sections,
) -> Result<Sheet> {
    let tc = caller.authorize(app, Permission::ServiceUpdate).await?;
    let scope = app.db.scope(tc).await?;
    let by = tc.identity();
    let sheet = sheets::save_draft(&scope, code, lang, sections, &by, app.now()).await?;
    audit::record(
        &scope,
        &by,
        "service_sheet.drafted",
        Some(code),
        json!({ "language": lang.tag() }),
    )
    .await?;
    app.commit(scope).await?;
    Ok(sheet)
}

pub async fn publish(app: &App, caller: &Caller, code: &str, lang: Language) -> Result<Sheet> {
    let tc = caller.authorize(app, Permission::ServicePublish).await?;
    let scope = app.db.scope(tc).await?;
    let by = tc.identity();
    let sheet = sheets::publish(&scope, code, lang, &by, app.now()).await?;
    audit::record(
        &scope,
        &by,
        "service_sheet.published",
        Some(code),
        json!({ "language": lang.tag() }),
    )
    .await?;
    app.commit(scope).await?;
    Ok(sheet)
}

pub async fn unpublish(app: &App, caller: &Caller, code: &str, lang: Language) -> Result<()> {
    let tc = caller.authorize(app, Permission::ServicePublish).await?;
    let scope = app.db.scope(tc).await?;
    sheets::unpublish(&scope, code, lang).await?;
    audit::record(
        &scope,
        &tc.identity(),
        "service_sheet.unpublished",
        Some(code),
        json!({ "language": lang.tag() }),
    )
    .await?;
    app.commit(scope).await?;
    Ok(())
}

/// The body and its ancestors, nearest first.
async fn chain(app: &App, body: Tenant) -> Result<Vec<Tenant>> {
    let mut chain = vec![body];
    while chain.len() <= MAX_ANCESTORS {
        let Some(parent_id) = chain.last().and_then(|t| t.parent_id) else {
            break;
        };
        if chain.iter().any(|t| t.id == parent_id) {
            break;
        }
        match registry::cached_by_ids(&app.db, &[parent_id]).await?.pop() {
            Some(parent) => chain.push(parent),
            None => break,
        }
    }
    Ok(chain)
}

/// A published section and the body that wrote it.
#[derive(Clone, Debug)]
pub struct PublicSection {
    pub section: Section,
    pub text: String,
    pub body_slug: String,
    pub body_name: String,
}

/// A service's sheet as citizens read it.
#[derive(Clone, Debug)]
pub struct PublicSheet {
    pub language: Language,
    pub sections: Vec<PublicSection>,
}

/// The published sheet of a body's service (by slug and code) for a reader of `lang`, for
/// anyone; `None` when no body of its chain published one. VALIDATION for a body that does
/// not exist or is not active.
pub async fn public(
    app: &App,
    body: &str,
    code: &str,
    lang: Language,
) -> Result<Option<PublicSheet>> {
    let tenant = app.active_body("body", body).await?;
    let chain = chain(app, tenant).await?;
    let ids: Vec<TenantId> = chain.iter().map(|t| t.id).collect();
    let scope = app.db.public_scope().await?;
    let published = sheets::published_along(&scope, &ids, code).await?;
    scope.commit().await?;
    Ok(
        sheets::resolve(&ids, &published, lang).map(|shown| PublicSheet {
            language: shown.language,
            sections: shown
                .sections
                .into_iter()
                .filter_map(|s| {
                    let body = chain.iter().find(|t| t.id == s.body)?;
                    Some(PublicSection {
                        section: s.section,
                        text: s.text,
                        body_slug: body.slug.to_string(),
                        body_name: body.display_name.clone(),
                    })
                })
                .collect(),
        }),
    )
}
