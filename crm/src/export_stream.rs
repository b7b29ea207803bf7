//! The complete export of a citizen's data (GDPR arts. 15, 20), written as it is read: the
//! long lists (cases with their history and files, interactions, notifications, the access
//! log) a page at a time, each page sent before the next is read, through a bounded
//! channel. However many cases a citizen has, the server holds one page and one buffer.
//! The consents' signed receipts are made before the stream starts (a few per consent).
//! The document's shape is published as a JSON Schema (`SCHEMA`).

use std::collections::BTreeSet;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use civitas_tenants::{Db, PersonScope, TenantId, registry};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::access_log::AccessEntry;
use crate::app::receipts::ExportedReceipt;
use crate::attachments::Attachment;
use crate::cases::{Case, CaseEvent};
use crate::delegations::Delegation;
use crate::entity::{
    access_log, attachment, case, case_event, delegation, interaction, notification, participation,
    preference, survey_answer, survey_invitation,
};
use crate::interactions::Interaction;
use crate::notifications::Notification;
use crate::{Error, Result};

/// The JSON Schema (draft 2020-12) of the document.
pub const SCHEMA: &str = include_str!("../../docs/schemas/personal-data-v1.json");

/// The value of the document's `format`.
pub const FORMAT: &str = "civitas.personal-data.v1";

/// Rows read per page of a long list.
const PAGE: u64 = 200;

/// Bytes gathered before they are sent.
const CHUNK: usize = 64 * 1024;

/// Where the document goes: a buffer, sent on the channel when it is full. A send waits
/// while the reader is behind, so a slow download slows the reads.
struct Out {
    tx: mpsc::Sender<Bytes>,
    buf: Vec<u8>,
    bodies: BTreeSet<TenantId>,
    /// No item written yet in the open list.
    first: bool,
}

impl Out {
    fn raw(&mut self, s: &str) {
        self.buf.extend_from_slice(s.as_bytes());
    }

    fn value<T: Serialize>(&mut self, v: &T) -> Result<()> {
        serde_json::to_writer(&mut self.buf, v).map_err(|e| Error::Internal(e.to_string()))
    }

    async fn flush(&mut self, always: bool) -> Result<()> {
        if self.buf.is_empty() || (!always && self.buf.len() < CHUNK) {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::take(&mut self.buf));
        self.tx
            .send(chunk)
            .await
            .map_err(|_| Error::Internal("the export's reader went away".into()))
    }

    /// Opens the list `name`.
    fn open(&mut self, name: &str) {
        self.raw(&format!(",\"{name}\":["));
        self.first = true;
    }

    /// Writes the rows of one page of the open list, and sends what has gathered.
    async fn items<T: Serialize>(&mut self, rows: &[T]) -> Result<()> {
        for r in rows {
            if !self.first {
                self.raw(",");
            }
            self.first = false;
            self.value(r)?;
        }
        self.flush(false).await
    }
}

/// Starts writing the export of the scope's person; the chunks come on the receiver. An
/// error ends the stream early (the document is then incomplete JSON) and is logged.
pub fn start(
    db: Db,
    scope: PersonScope,
    now: DateTime<Utc>,
    receipts: Vec<ExportedReceipt>,
) -> mpsc::Receiver<Bytes> {
    let (tx, rx) = mpsc::channel(4);
    tokio::spawn(async move {
        let mut out = Out {
            tx,
            buf: Vec::with_capacity(CHUNK * 2),
            bodies: BTreeSet::new(),
            first: true,
        };
        match write(&db, &scope, now, &receipts, &mut out).await {
            Ok(()) => {
                if let Err(e) = scope.commit().await {
                    tracing::warn!(error = %e, "ending the export's transaction");
                }
            }
            Err(e) => tracing::error!(error = %e, "the export stopped"),
        }
    });
    rx
}

async fn write(
    db: &Db,
    scope: &PersonScope,
    now: DateTime<Utc>,
    receipts: &[ExportedReceipt],
    out: &mut Out,
) -> Result<()> {
    out.raw(&format!(
        "{{\"format\":\"{FORMAT}\",\"schema\":\"/schemas/personal-data-v1.json\",\"exportedAt\":"
    ));
    out.value(&now)?;
    out.raw(",\"data\":{\"person_id\":");
    out.value(&scope.person_id())?;

    let profiles = crate::export::profiles_of(scope).await?;
    out.bodies.extend(profiles.iter().map(|p| p.tenant_id));
    out.raw(",\"profiles\":");
    out.value(&profiles)?;
    let privacy = crate::privacy::all_for_person(scope).await?;
    out.bodies.extend(privacy.iter().map(|p| p.tenant_id));
    out.raw(",\"privacy_consents\":");
    out.value(&privacy)?;
    let sharing = crate::export::sharing_consents_of(scope).await?;
    for c in &sharing {
        out.bodies.insert(c.grantee_tenant_id);
        out.bodies.extend(c.source_tenant_id);
        out.bodies.extend(c.collected_in_tenant_id);
    }
    out.raw(",\"sharing_consents\":");
    out.value(&sharing)?;
    // Each grant and withdrawal, signed: verifiable with /receipts/jwks.json.
    out.raw(",\"consent_receipts\":");
    out.value(&receipts)?;
    let delegations: Vec<Delegation> = scope
        .find::<delegation::Entity>()
        .order_by_asc(delegation::Column::Id)
        .all(scope.conn())
        .await?
        .into_iter()
        .map(Delegation::from)
        .collect();
    out.bodies.extend(delegations.iter().map(|d| d.tenant_id));
    out.raw(",\"delegations_given\":");
    out.value(&delegations)?;
    let restrictions: Vec<Value> = crate::restrictions::of_person(scope)
        .await?
        .into_iter()
        .map(|r| {
            out.bodies.insert(r.tenant_id);
            json!({
                "id": r.id, "tenant_id": r.tenant_id, "purpose": r.purpose.as_str(),
                "kind": r.kind.as_str(), "reason": r.reason,
                "requested_at": r.requested_at, "lifted_at": r.lifted_at,
            })
        })
        .collect();
    out.raw(",\"restrictions\":");
    out.value(&restrictions)?;
    let erasures: Vec<Value> = crate::erasure::of_person(scope)
        .await?
        .into_iter()
        .map(|r| {
            json!({
                "id": r.id, "requested_at": r.requested_at, "settled": r.settled(),
                "forgotten_at": r.forgotten_at,
                "steps": r.steps.iter().map(|s| json!({
                    "tenant_id": s.tenant_id, "done_at": s.done_at,
                    "erased": s.erased, "kept": s.kept,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    out.raw(",\"erasure_requests\":");
    out.value(&erasures)?;
    out.flush(false).await?;

    let mut seen = BTreeSet::new();
    out.open("cases");
    let mut after = None;
    loop {
        let (rows, last) = cases_page(scope, after, &mut seen).await?;
        out.items(&rows).await?;
        if rows.len() < PAGE as usize {
            break;
        }
        after = last;
    }
    out.raw("]");
    list_of::<interaction::Entity, _>(
        out,
        scope,
        ("interactions", interaction::Column::Id),
        |r| r.id,
        Interaction::from,
    )
    .await?;
    list_of::<participation::Entity, _>(
        out,
        scope,
        ("participations", participation::Column::Id),
        |r| r.id,
        |p| {
            json!({
                "id": p.id, "tenant_id": p.tenant_id, "initiative_id": p.initiative_id,
                "status": p.status, "queue_position": p.queue_position,
                "registered_by": p.registered_by, "channel": p.channel,
                "registered_at": p.registered_at, "confirmed_at": p.confirmed_at,
                "cancelled_at": p.cancelled_at, "checked_in_at": p.checked_in_at,
            })
        },
    )
    .await?;
    list_of::<preference::Entity, _>(
        out,
        scope,
        ("preferences", preference::Column::Id),
        |r| r.id,
        |p| {
            json!({
                "id": p.id, "tenant_id": p.tenant_id, "area": p.area, "category": p.category,
                "source": p.source, "interested": p.interested, "origin_id": p.origin_id,
                "created_at": p.created_at, "updated_at": p.updated_at,
            })
        },
    )
    .await?;
    list_of::<survey_invitation::Entity, _>(
        out,
        scope,
        ("survey_invitations", survey_invitation::Column::Id),
        |r| r.id,
        |v| {
            json!({
                "id": v.id, "tenant_id": v.tenant_id, "questionnaire_id": v.questionnaire_id,
                "case_id": v.case_id, "initiative_id": v.initiative_id, "channel": v.channel,
                "created_at": v.created_at, "answered_at": v.answered_at,
            })
        },
    )
    .await?;
    list_of::<survey_answer::Entity, _>(
        out,
        scope,
        ("survey_answers", survey_answer::Column::Id),
        |r| r.id,
        |a| {
            json!({
                "id": a.id, "tenant_id": a.tenant_id, "questionnaire_id": a.questionnaire_id,
                "version": a.version, "case_id": a.case_id, "initiative_id": a.initiative_id,
                "channel": a.channel, "answers": a.answers, "submitted_at": a.submitted_at,
            })
        },
    )
    .await?;
    list_of::<notification::Entity, _>(
        out,
        scope,
        ("notifications", notification::Column::Id),
        |r| r.id,
        Notification::from,
    )
    .await?;
    list_of::<access_log::Entity, _>(
        out,
        scope,
        ("access_log", access_log::Column::Id),
        |r| r.id,
        |r| {
            let e = AccessEntry::from(r);
            seen.extend([e.reader_tenant_id, e.source_tenant_id]);
            e
        },
    )
    .await?;
    out.bodies.extend(seen);

    let choices: Vec<Value> = crate::notify::choices::of_person(scope)
        .await?
        .into_iter()
        .map(|c| json!({ "tenant_id": c.tenant_id, "channel": c.channel, "allowed": c.allowed }))
        .collect();
    out.raw(",\"channel_choices\":");
    out.value(&choices)?;
    let quiet: Vec<Value> = crate::notify::quiet::of_person(scope)
        .await?
        .into_iter()
        .map(|(t, q)| json!({ "tenant_id": t, "hours": q.to_string() }))
        .collect();
    out.raw(",\"quiet_hours\":");
    out.value(&quiet)?;
    out.raw("}");

    // Every body the document names, by slug, and only those.
    let ids: Vec<TenantId> = out.bodies.iter().copied().collect();
    let bodies: serde_json::Map<String, Value> = registry::cached_by_ids(db, &ids)
        .await?
        .into_iter()
        .map(|t| (t.id.to_string(), Value::String(t.slug.to_string())))
        .collect();
    out.raw(",\"bodies\":");
    out.value(&bodies)?;
    out.raw("}");
    out.flush(true).await
}

/// A page of the person's rows of `E`, oldest first, after `after`.
async fn page_of<E>(
    scope: &PersonScope,
    id: E::Column,
    after: Option<Uuid>,
) -> Result<Vec<E::Model>>
where
    E: EntityTrait + civitas_tenants::PersonOwned,
{
    let mut q = scope.find::<E>();
    if let Some(a) = after {
        q = q.filter(id.gt(a));
    }
    Ok(q.order_by_asc(id).limit(PAGE).all(scope.conn()).await?)
}

/// Writes the list `name`: every row of `E` the person may read, a page at a time, each
/// as `item` makes it.
async fn list_of<E, T>(
    out: &mut Out,
    scope: &PersonScope,
    (name, id): (&str, E::Column),
    id_of: impl Fn(&E::Model) -> Uuid,
    mut item: impl FnMut(E::Model) -> T,
) -> Result<()>
where
    E: EntityTrait + civitas_tenants::PersonOwned,
    T: Serialize,
{
    out.open(name);
    let mut after = None;
    loop {
        let rows = page_of::<E>(scope, id, after).await?;
        let (n, last) = (rows.len(), rows.last().map(&id_of));
        let rows: Vec<T> = rows.into_iter().map(&mut item).collect();
        out.items(&rows).await?;
        if n < PAGE as usize {
            break;
        }
        after = last;
    }
    out.raw("]");
    Ok(())
}

/// A page of cases, each with its history and the files on it.
async fn cases_page(
    scope: &PersonScope,
    after: Option<Uuid>,
    bodies: &mut BTreeSet<TenantId>,
) -> Result<(Vec<Value>, Option<Uuid>)> {
    let rows = page_of::<case::Entity>(scope, case::Column::Id, after).await?;
    let last = rows.last().map(|c| c.id);
    let ids: Vec<Uuid> = rows.iter().map(|c| c.id).collect();
    let events = scope
        .find::<case_event::Entity>()
        .filter(case_event::Column::CaseId.is_in(ids.clone()))
        .order_by_asc(case_event::Column::Id)
        .all(scope.conn())
        .await?;
    let files = scope
        .find::<attachment::Entity>()
        .filter(attachment::Column::CaseId.is_in(ids))
        .order_by_asc(attachment::Column::Id)
        .all(scope.conn())
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let id = row.id;
        bodies.insert(TenantId(row.tenant_id));
        let mut v = serde_json::to_value(Case::try_from(row)?)
            .map_err(|e| Error::Internal(e.to_string()))?;
        let history: Vec<CaseEvent> = events
            .iter()
            .filter(|e| e.case_id == id)
            .cloned()
            .map(CaseEvent::from)
            .collect();
        let attached: Vec<Attachment> = files
            .iter()
            .filter(|a| a.case_id == id)
            .cloned()
            .map(Attachment::from)
            .collect();
        v["history"] = serde_json::to_value(history).map_err(|e| Error::Internal(e.to_string()))?;
        v["attachments"] =
            serde_json::to_value(attached).map_err(|e| Error::Internal(e.to_string()))?;
        out.push(v);
    }
    Ok((out, last))
}
