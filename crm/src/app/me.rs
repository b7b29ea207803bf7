//! Use cases of a signed-in citizen reading what every body holds about them.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use civitas_tenants::{PersonScope, TenantContext, TenantId, registry};
use sea_orm::{ColumnTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

use uuid::Uuid;

use super::{App, Caller, Page};
use crate::access_log::{self, AccessEntry};
use crate::cases::{Case, CaseEvent};
use crate::entity::{case, case_event};
use crate::export;
use crate::ids::CaseId;
use crate::interactions::Interaction;
use crate::notifications::Notification;
use crate::privacy::{self, PrivacyConsent};
use crate::profiles::{self, Profile, ProfileInput};
use crate::sharing::SharingConsent;
use crate::{Error, Result};

/// The signed-in citizen's own scope: every body, only their records.
pub(super) async fn own_scope(app: &App, caller: &Caller) -> Result<PersonScope> {
    let me = caller.citizen()?;
    Ok(app.db.person_scope(me.person_id, &me.merged).await?)
}

/// Reads of the signed-in citizen's data by another body, newest first: a page, and
/// whether more follow.
pub async fn access_log(
    app: &App,
    caller: &Caller,
    page: Page<Uuid>,
) -> Result<(Vec<AccessEntry>, bool)> {
    access_log_filtered(app, caller, None, None, None, page).await
}

/// As [`access_log`], only reads by the body `reader` (a slug) and in `[from, to)`.
/// VALIDATION for a body that does not exist or a period that ends before it starts.
pub async fn access_log_filtered(
    app: &App,
    caller: &Caller,
    reader: Option<&str>,
    from: Option<chrono::DateTime<chrono::Utc>>,
    to: Option<chrono::DateTime<chrono::Utc>>,
    page: Page<Uuid>,
) -> Result<(Vec<AccessEntry>, bool)> {
    if let (Some(f), Some(t)) = (from, to)
        && t <= f
    {
        return Err(Error::Validation(
            "to: the period ends before it starts".into(),
        ));
    }
    let reader = match reader {
        Some(slug) => Some(super::consents::body(app, "body", slug).await?.id),
        None => None,
    };
    let filter = access_log::AccessFilter { reader, from, to };
    let scope = own_scope(app, caller).await?;
    let found = access_log::access_log_of_person(&scope, filter, page.first, page.after).await?;
    scope.commit().await?;
    Ok(found)
}

/// Everything every body holds about the signed-in citizen (GDPR art. 15), with the bodies
/// it mentions named by slug, and only those.
pub async fn export(app: &App, caller: &Caller) -> Result<Value> {
    let scope = own_scope(app, caller).await?;
    let data = export::personal_data(&scope).await?;
    scope.commit().await?;
    let mentioned: BTreeSet<TenantId> = data
        .profiles
        .iter()
        .map(|p| p.tenant_id)
        .chain(data.privacy_consents.iter().map(|c| c.tenant_id))
        .chain(
            data.sharing_consents
                .iter()
                .flat_map(|c| {
                    [
                        Some(c.grantee_tenant_id),
                        c.source_tenant_id,
                        c.collected_in_tenant_id,
                    ]
                })
                .flatten(),
        )
        .chain(
            data.access_log
                .iter()
                .flat_map(|e| [e.reader_tenant_id, e.source_tenant_id]),
        )
        .collect();
    let bodies: BTreeMap<String, String> = registry::list(&app.db)
        .await?
        .into_iter()
        .filter(|t| mentioned.contains(&t.id))
        .map(|t| (t.id.to_string(), t.slug.to_string()))
        .collect();
    let value = serde_json::to_value(&data).map_err(|e| Error::Internal(e.to_string()))?;
    Ok(json!({ "exportedAt": app.now(), "bodies": bodies, "data": value }))
}

/// Everything every body holds about the signed-in citizen, streamed as it is read (the
/// document `export_stream::SCHEMA` describes): chunks on the receiver, in bounded memory
/// however long the lists.
pub async fn export_stream(
    app: &App,
    caller: &Caller,
) -> Result<tokio::sync::mpsc::Receiver<bytes::Bytes>> {
    // A few per consent: signed before the stream starts, and written after the consents.
    let receipts = match super::receipts::all_mine(app, caller, "it").await {
        // A receipt names the codice fiscale: a citizen signed in without one gets none.
        Err(crate::Error::Forbidden(_)) => vec![],
        found => found?,
    };
    let scope = own_scope(app, caller).await?;
    Ok(crate::export_stream::start(
        app.db.clone(),
        scope,
        app.now(),
        receipts,
    ))
}

pub async fn profiles(app: &App, caller: &Caller) -> Result<Vec<Profile>> {
    let scope = own_scope(app, caller).await?;
    let v = export::profiles_of(&scope).await?;
    scope.commit().await?;
    Ok(v)
}

/// Their cases in every body, newest first.
pub async fn cases(app: &App, caller: &Caller) -> Result<Vec<Case>> {
    let scope = own_scope(app, caller).await?;
    let v = export::cases_of(&scope).await?;
    scope.commit().await?;
    Ok(v)
}

/// A page of their cases in every body, newest first, and whether more follow.
pub async fn cases_page(app: &App, caller: &Caller, page: Page<Uuid>) -> Result<(Vec<Case>, bool)> {
    let scope = own_scope(app, caller).await?;
    let q = scope.find::<case::Entity>();
    let (rows, more) =
        crate::paging::newest_first(scope.conn(), q, case::Column::Id, page.first, page.after)
            .await?;
    scope.commit().await?;
    let found = rows
        .into_iter()
        .map(Case::try_from)
        .collect::<Result<Vec<_>>>()?;
    Ok((found, more))
}

/// One of their cases, at any body; another person's is NOT_FOUND.
pub async fn case(app: &App, caller: &Caller, id: CaseId) -> Result<Case> {
    let scope = own_scope(app, caller).await?;
    let row = scope
        .find::<case::Entity>()
        .filter(case::Column::Id.eq(id.0))
        .one(scope.conn())
        .await?
        .ok_or(Error::NotFound("case"))?;
    scope.commit().await?;
    row.try_into()
}

/// The language every body that knows them should use with them (`it`, `en`…): each of
/// their records is changed in its own body. Returns how many bodies changed.
pub async fn set_language(app: &App, caller: &Caller, language: &str) -> Result<u64> {
    let mut changed = 0;
    for p in profiles(app, caller).await? {
        if p.language.as_deref() == Some(language) {
            continue;
        }
        let Some(body) = registry::by_id(&app.db, p.tenant_id).await? else {
            continue;
        };
        if body.status != civitas_tenants::TenantStatus::Active {
            continue;
        }
        let contacts = MyContacts {
            language: Some(language.to_owned()),
            ..Default::default()
        };
        correct_contacts(app, caller, body.slug.as_str(), contacts).await?;
        changed += 1;
    }
    Ok(changed)
}

pub async fn interactions(app: &App, caller: &Caller) -> Result<Vec<Interaction>> {
    let scope = own_scope(app, caller).await?;
    let v = export::interactions_of(&scope).await?;
    scope.commit().await?;
    Ok(v)
}

pub async fn privacy_consents(app: &App, caller: &Caller) -> Result<Vec<PrivacyConsent>> {
    let scope = own_scope(app, caller).await?;
    let v = privacy::all_for_person(&scope).await?;
    scope.commit().await?;
    Ok(v)
}

pub async fn sharing_consents(app: &App, caller: &Caller) -> Result<Vec<SharingConsent>> {
    let scope = own_scope(app, caller).await?;
    let v = export::sharing_consents_of(&scope).await?;
    scope.commit().await?;
    Ok(v)
}

/// The histories of the signed-in citizen's own cases among `ids`, oldest event first: who
/// acted, and on whose behalf when a tutor did. Another person's case has none.
pub async fn case_histories(
    app: &App,
    caller: &Caller,
    ids: &[CaseId],
) -> Result<HashMap<CaseId, Vec<CaseEvent>>> {
    let me = caller.citizen()?;
    let family = me.family();
    let scope = app.db.person_scope(me.person_id, &me.merged).await?;
    let rows = scope
        .find::<case_event::Entity>()
        .filter(case_event::Column::CaseId.is_in(ids.iter().map(|i| i.0)))
        .filter(case_event::Column::PersonId.is_in(family.iter().copied()))
        .order_by_asc(case_event::Column::Id)
        .all(scope.conn())
        .await?;
    scope.commit().await?;
    let mut out: HashMap<CaseId, Vec<CaseEvent>> = HashMap::new();
    for e in rows {
        out.entry(CaseId(e.case_id)).or_default().push(e.into());
    }
    Ok(out)
}

/// What a citizen may correct in a body's record of them: how to reach them. Their names
/// come from their identity and stay as the body recorded them.
#[derive(Clone, Debug, Default)]
pub struct MyContacts {
    /// Lists given replace the body's; left out, they stay.
    pub emails: Option<Vec<String>>,
    pub phones: Option<Vec<String>>,
    pub preferred_channel: Option<String>,
    pub language: Option<String>,
}

/// The signed-in citizen corrects how the body named `tenant` reaches them; another body's
/// record is untouched. A body that does not know them is NOT_FOUND.
pub async fn correct_contacts(
    app: &App,
    caller: &Caller,
    tenant: &str,
    contacts: MyContacts,
) -> Result<Profile> {
    let me = caller.citizen()?;
    let principal = caller.principal()?;
    let body = app.active_body("tenant", tenant).await?;
    let tc = TenantContext::for_citizen(body, principal.clone());
    let scope = app.db.scope(&tc).await?;
    let current = profiles::of_person(&scope, me.person_id)
        .await?
        .ok_or(Error::NotFound("citizen"))?;
    let fields = ProfileInput {
        emails: contacts.emails,
        phones: contacts.phones,
        preferred_channel: contacts.preferred_channel,
        language: contacts.language,
        ..Default::default()
    };
    let p = profiles::update(&scope, &principal.identity(), current.id, fields).await?;
    app.commit(scope).await?;
    Ok(p)
}

/// The signed-in citizen's notifications from every body, newest first (the inbox or the
/// archived ones, unread ones only if asked): a page, and whether more follow.
pub async fn notifications(
    app: &App,
    caller: &Caller,
    shown: crate::notifications::Shown,
    page: Page<Uuid>,
) -> Result<(Vec<Notification>, bool)> {
    let scope = own_scope(app, caller).await?;
    let found = crate::notifications::of_person(&scope, shown, page.first, page.after).await?;
    scope.commit().await?;
    Ok(found)
}

/// Archives the signed-in citizen's notifications among `ids` (or brings them back);
/// returns how many changed. Another person's are left alone.
pub async fn archive_notifications(
    app: &App,
    caller: &Caller,
    ids: &[Uuid],
    archived: bool,
) -> Result<u64> {
    let scope = own_scope(app, caller).await?;
    let n = crate::notifications::archive(&scope, ids, archived, app.now()).await?;
    scope.commit().await?;
    Ok(n)
}

/// Marks the signed-in citizen's notifications among `ids` read; returns how many were
/// unread. Another person's notifications are left alone.
pub async fn mark_notifications_read(app: &App, caller: &Caller, ids: &[Uuid]) -> Result<u64> {
    let scope = own_scope(app, caller).await?;
    let n = crate::notifications::mark_read(&scope, ids, app.now()).await?;
    scope.commit().await?;
    Ok(n)
}
