//! The citizen view: what the reader's body holds about a person, plus what other bodies
//! hold that an active sharing consent lets it read, each labelled with its owner and the
//! consent. The reader declares why (one of the body's purposes, or a case); every read,
//! of the body's own records as of other bodies', is written to the access log.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use civitas_tenants::{Db, PersonOwned, Scope, Sources, TenantContext, TenantId, TenantOwned};
use sea_orm::{ColumnTrait, ConnectionTrait, IntoActiveModel, QueryFilter};
use serde::Serialize;
use uuid::Uuid;

use crate::Result;
use crate::access_log::{Access, Action};
use crate::access_purposes::{self, Declared, Reason};
use crate::cases::Case;
use crate::entity::{access_log, case, contact, interaction, profile};
use crate::interactions::Interaction;
use crate::lookup::{Lookup, not_found, person_id};
use crate::persons;
use crate::privacy::{self, PrivacyConsent};
use crate::profiles::{self, Profile};
use crate::sharing::{self, ConsentCache, ConsentScope, SharingConsent, Visibility};

mod one_call;

/// The database function behind a citizen view on PostgreSQL (the benchmark's pgbench
/// script calls it too).
pub use one_call::FUNCTION as VIEW_FUNCTION;

/// A record and where it comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Labelled<T> {
    /// The body that holds the record.
    pub tenant_id: TenantId,
    /// The consent that allowed reading it; `None` for the reader's own body.
    pub consent_id: Option<Uuid>,
    pub record: T,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CitizenView {
    pub person_id: Uuid,
    pub fiscal_code: Option<String>,
    pub profiles: Vec<Labelled<Profile>>,
    pub cases: Vec<Labelled<Case>>,
    pub interactions: Vec<Labelled<Interaction>>,
    /// The reader's body's privacy consents of this person.
    pub privacy_consents: Vec<PrivacyConsent>,
    /// Sharing consents of this person that involve the reader's body.
    pub sharing_consents: Vec<SharingConsent>,
}

/// Which parts of the view the caller wants. Profiles are always read (a citizen of whom the
/// body sees no profile is NOT_FOUND); the other parts are read, and written to the access
/// log, only when asked for, so the log records what was disclosed and nothing more.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Parts {
    pub cases: bool,
    pub interactions: bool,
    pub privacy_consents: bool,
    pub sharing_consents: bool,
}

/// The active consents that cover `what`, and the bodies they open.
fn covering(
    consents: &[SharingConsent],
    what: ConsentScope,
    now: DateTime<Utc>,
) -> (Vec<&SharingConsent>, Sources) {
    let covering: Vec<&SharingConsent> = consents
        .iter()
        .filter(|c| c.is_active(now) && c.scopes.contains(&what))
        .collect();
    let sources = if covering.iter().any(|c| c.source_tenant_id.is_none()) {
        Sources::Any
    } else {
        Sources::Only(covering.iter().filter_map(|c| c.source_tenant_id).collect())
    };
    (covering, sources)
}

/// Pairs each row with the consent that allowed it (`None`: the reader's own body); a row
/// no active consent for `what` covers is dropped (on PostgreSQL the policy kept it out
/// already: this is the application's own wall).
fn label<R>(
    rows: Vec<R>,
    tenant_of: impl Fn(&R) -> Uuid,
    own: TenantId,
    consents: &[SharingConsent],
    what: ConsentScope,
    now: DateTime<Utc>,
) -> Vec<(R, Option<Uuid>)> {
    let (covering, _) = covering(consents, what, now);
    rows.into_iter()
        .filter_map(|row| {
            let tenant = TenantId(tenant_of(&row));
            if tenant == own {
                return Some((row, None));
            }
            covering
                .iter()
                .find(|c| c.covers(tenant, what, now))
                .map(|c| (row, Some(c.id)))
        })
        .collect()
}

/// What a view is built from: the person's records, their active consents to the reader's
/// body, and the rows of the bodies the reader may see (not yet labelled).
#[derive(Default)]
struct Rows {
    /// The person first, then the records merged into it; empty: no such person.
    members: Vec<persons::Person>,
    consents: Arc<Vec<SharingConsent>>,
    profiles: Vec<profile::Model>,
    /// Contacts of those profiles; a profile's are found by its key when the view is built.
    contacts: Vec<contact::Model>,
    cases: Vec<case::Model>,
    interactions: Vec<interaction::Model>,
}

/// The family of person record `id` with its active consents to the scope's body: from the
/// cache, or else read in the same statement as the family.
async fn family_and_consents(
    scope: &Scope,
    cache: &ConsentCache,
    id: Uuid,
) -> Result<Option<(Vec<persons::Person>, Arc<Vec<SharingConsent>>)>> {
    let own = scope.tenant_id();
    if let Some(consents) = cache.cached(own, id).await {
        let family = persons::with_family(scope.conn(), id).await?;
        return Ok(family.map(|f| (f, consents)));
    }
    let Some((family, read)) = persons::with_family_and_consents(scope.conn(), id, own.0).await?
    else {
        return Ok(None);
    };
    let ids: Vec<Uuid> = family.iter().map(|p| p.id).collect();
    let consents = match read {
        Some(rows) => cache.remember(own, ids[0], rows).await,
        None => cache.for_grantee(scope.conn(), own, &ids).await?,
    };
    Ok(Some((family, consents)))
}

/// The view's rows in separate reads, each asking only for the bodies that an active consent
/// for its part names (SQLite, and a record merged into another person).
async fn read_apart(
    scope: &Scope,
    cache: &ConsentCache,
    id: Uuid,
    parts: Parts,
    now: DateTime<Utc>,
) -> Result<Rows> {
    let Some((members, consents)) = family_and_consents(scope, cache, id).await? else {
        return Ok(Rows::default());
    };
    let family: Vec<Uuid> = members.iter().map(|p| p.id).collect();
    let sources = |what| covering(&consents, what, now).1;
    let conn = scope.conn();
    let select = scope
        .find_shared::<profile::Entity>(&family, &sources(ConsentScope::Profile))
        .filter(profile::Column::MergedInto.is_null());
    let (profiles, contacts): (Vec<_>, Vec<_>) = profiles::with_contacts(conn, select)
        .await?
        .into_iter()
        .unzip();
    // Nothing more is read about a person of whom the body sees no profile.
    let wanted = |part: bool| part && !profiles.is_empty();
    let cases = if wanted(parts.cases) {
        shared::<case::Entity>(scope, &family, &sources(ConsentScope::Cases)).await?
    } else {
        vec![]
    };
    let interactions = if wanted(parts.interactions) {
        shared::<interaction::Entity>(scope, &family, &sources(ConsentScope::Interactions)).await?
    } else {
        vec![]
    };
    Ok(Rows {
        members,
        consents,
        profiles,
        contacts: contacts.concat(),
        cases,
        interactions,
    })
}

/// Rows about `family` held by the scope's body or by `sources`.
async fn shared<E: TenantOwned + PersonOwned>(
    scope: &Scope,
    family: &[Uuid],
    sources: &Sources,
) -> Result<Vec<E::Model>> {
    Ok(scope
        .find_shared::<E>(family, sources)
        .all(scope.conn())
        .await?)
}

/// Builds the view for the body of `ctx`, read for `reason`; parts not in `parts` are left
/// empty. A person of whom the body can see nothing is NOT_FOUND, exactly like a person who
/// does not exist; a purpose the body does not have, or a case not the person's, is
/// VALIDATION and nothing is read. On PostgreSQL the reads and the entry for the body's own
/// records are one call (`one_call`), and the entries for other bodies' records, when there
/// are some, a second; elsewhere, and for the consent lists, the reads and the log share one
/// scope.
pub async fn view(
    db: &Db,
    ctx: &TenantContext,
    cache: &ConsentCache,
    now: DateTime<Utc>,
    lookup: Lookup,
    parts: Parts,
    reason: &Reason,
) -> Result<CitizenView> {
    let id = person_id(db.global(), lookup)
        .await?
        .ok_or_else(not_found)?;
    // Who read, as issuer and subject: a subject alone may name someone else elsewhere.
    let reader = ctx.identity().stored();
    let own_entry = Uuid::now_v7();
    if let Some((read, declared)) =
        one_call::read(db, ctx, id, parts, reason, own_entry, &reader).await?
    {
        let declared = declared.ok_or_else(|| reason.refused())?;
        let why = Why::new(&reader, &declared, reason);
        let (view, log) = build(db.global(), read, ctx.tenant.id, &why, parts, now).await?;
        // The function wrote the entry for the body's own records; the log is written before
        // anything is returned: no log, no disclosure.
        let others: Vec<_> = log.into_iter().filter(|e| e.consent_id.is_some()).collect();
        if !others.is_empty() {
            one_call::log(db, ctx, &others).await?;
        }
        return Ok(view);
    }
    let scope = db.scope(ctx).await?;
    let read = read_apart(&scope, cache, id, parts, now).await?;
    let family: Vec<Uuid> = read.members.iter().map(|p| p.id).collect();
    let declared = access_purposes::declare(&scope, reason, &family).await?;
    let why = Why::new(&reader, &declared, reason);
    let (mut view, log) = build(scope.conn(), read, ctx.tenant.id, &why, parts, now).await?;
    write_log(&scope, log).await?;
    if parts.privacy_consents {
        view.privacy_consents = privacy::history(&scope, &family).await?;
    }
    if parts.sharing_consents {
        let visible = Visibility::Tenant(ctx.tenant.id);
        view.sharing_consents = sharing::list(scope.conn(), &family, visible).await?;
    }
    scope.commit().await?;
    Ok(view)
}

/// Who reads and why, for the view's access-log entries.
struct Why<'a> {
    reader: &'a str,
    declared: &'a Declared,
    case: Option<Uuid>,
}

impl<'a> Why<'a> {
    fn new(reader: &'a str, declared: &'a Declared, reason: &Reason) -> Self {
        let case = match reason {
            Reason::Case(c) => Some(c.0),
            Reason::Purpose(_) => None,
        };
        Why {
            reader,
            declared,
            case,
        }
    }
}

async fn write_log(scope: &Scope, log: Vec<access_log::Model>) -> Result<()> {
    for row in log {
        scope.insert(row.into_active_model()).await?;
    }
    Ok(())
}

/// Labels the rows of `read` for the reader's body `own`, drops what no active consent
/// covers, and gives the view (without its consent lists) and the access-log entries its
/// disclosure calls for: one for the body's own records, naming the parts asked for (as
/// `civitas_citizen_view` writes it), and one per other body and consent, naming the
/// scopes read.
async fn build<C: ConnectionTrait>(
    conn: &C,
    read: Rows,
    own: TenantId,
    why: &Why<'_>,
    parts: Parts,
    now: DateTime<Utc>,
) -> Result<(CitizenView, Vec<access_log::Model>)> {
    let Some(person) = read.members.first().cloned() else {
        return Err(not_found());
    };
    let consents = read.consents.as_slice();
    // A body whose handling the citizen restricted shows nothing of them: its own staff
    // are refused, another body's reader does not see its records.
    let restricted: BTreeSet<Uuid> = read
        .profiles
        .iter()
        .filter(|p| p.restricted_at.is_some())
        .map(|p| p.tenant_id)
        .collect();
    if restricted.contains(&own.0) {
        return Err(crate::Error::Restricted(
            "this citizen's records at your body",
        ));
    }
    let usable = |t: &Uuid| !restricted.contains(t);
    let profiles: Vec<_> = read
        .profiles
        .into_iter()
        .filter(|p| usable(&p.tenant_id))
        .collect();
    let profile_rows = label(
        profiles,
        |p| p.tenant_id,
        own,
        consents,
        ConsentScope::Profile,
        now,
    );
    if profile_rows.is_empty() {
        return Err(not_found());
    }
    // A case restricted after an erasure request is kept, never shown.
    let open_cases = read
        .cases
        .into_iter()
        .filter(|c| c.erase_after.is_none() && usable(&c.tenant_id))
        .collect();
    let case_rows = label(
        open_cases,
        |r| r.tenant_id,
        own,
        consents,
        ConsentScope::Cases,
        now,
    );
    let interactions = read
        .interactions
        .into_iter()
        .filter(|i| usable(&i.tenant_id))
        .collect();
    let interaction_rows = label(
        interactions,
        |r| r.tenant_id,
        own,
        consents,
        ConsentScope::Interactions,
        now,
    );

    let mut reads: BTreeMap<(Uuid, Uuid), BTreeSet<&'static str>> = BTreeMap::new();
    let mut note = |tenant: Uuid, consent: Option<Uuid>, what: ConsentScope| {
        if let Some(c) = consent {
            reads.entry((tenant, c)).or_default().insert(what.as_str());
        }
    };
    profile_rows
        .iter()
        .for_each(|(r, c)| note(r.tenant_id, *c, ConsentScope::Profile));
    case_rows
        .iter()
        .for_each(|(r, c)| note(r.tenant_id, *c, ConsentScope::Cases));
    interaction_rows
        .iter()
        .for_each(|(r, c)| note(r.tenant_id, *c, ConsentScope::Interactions));
    let access = Access {
        reader_tenant: own,
        reader: why.reader,
        person_id: person.id,
        action: Action::CitizenView,
        purpose: &why.declared.label,
        case_id: why.case,
        at: now,
    };
    let mut log = Vec::new();
    if profile_rows.iter().any(|(_, c)| c.is_none()) {
        let mut scopes = vec![ConsentScope::Profile.as_str()];
        if parts.cases {
            scopes.push(ConsentScope::Cases.as_str());
        }
        if parts.interactions {
            scopes.push(ConsentScope::Interactions.as_str());
        }
        let basis = Some(why.declared.legal_basis.as_str());
        log.push(access.entry(Uuid::now_v7(), own.0, &scopes, None, basis));
    }
    for ((tenant, consent_id), scopes) in reads {
        let scopes: Vec<&str> = scopes.into_iter().collect();
        log.push(access.entry(Uuid::now_v7(), tenant, &scopes, Some(consent_id), None));
    }

    let (rows, labels): (Vec<_>, Vec<_>) = profile_rows
        .into_iter()
        .map(|(p, c)| {
            let tenant = TenantId(p.tenant_id);
            (p, (tenant, c))
        })
        .unzip();
    // Only the labelled profiles' contacts are looked up: those of a dropped profile stay out.
    let views = profiles::assemble(conn, rows, read.contacts, &read.members).await?;
    let mut cases = Vec::new();
    for (row, consent_id) in case_rows {
        cases.push(Labelled {
            tenant_id: TenantId(row.tenant_id),
            consent_id,
            record: Case::try_from(row)?,
        });
    }
    let interactions = interaction_rows
        .into_iter()
        .map(|(row, consent_id)| Labelled {
            tenant_id: TenantId(row.tenant_id),
            consent_id,
            record: Interaction::from(row),
        })
        .collect();
    let view = CitizenView {
        person_id: person.id,
        fiscal_code: person.fiscal_code,
        profiles: labels
            .into_iter()
            .zip(views)
            .map(|((tenant_id, consent_id), record)| Labelled {
                tenant_id,
                consent_id,
                record,
            })
            .collect(),
        cases,
        interactions,
        privacy_consents: vec![],
        sharing_consents: vec![],
    };
    Ok((view, log))
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, Utc};
    use civitas_tenants::TenantId;
    use uuid::Uuid;

    use super::label;
    use crate::sharing::ConsentScope;
    use crate::sharing::tests::consent_for as consent;

    #[test]
    fn each_row_is_labelled_with_the_consent_that_opens_it_or_dropped() {
        let (own, a, b) = (
            TenantId(Uuid::now_v7()),
            TenantId(Uuid::now_v7()),
            TenantId(Uuid::now_v7()),
        );
        let now = Utc::now();
        let profiles_of_a = consent(Some(a), own, ConsentScope::Profile);
        let cases_of_b = consent(Some(b), own, ConsentScope::Cases);
        let mut expired = consent(Some(b), own, ConsentScope::Profile);
        expired.expires_at = Some(now - Duration::minutes(1));
        let consents = vec![profiles_of_a.clone(), cases_of_b, expired];
        let rows = vec![("own", own.0), ("a", a.0), ("b", b.0)];

        let profiles = label(
            rows.clone(),
            |r| r.1,
            own,
            &consents,
            ConsentScope::Profile,
            now,
        );
        assert_eq!(
            profiles.iter().map(|(r, c)| (r.0, *c)).collect::<Vec<_>>(),
            [("own", None), ("a", Some(profiles_of_a.id))],
            "the body's own row needs no consent; b's profile consent has expired"
        );
        let interactions = label(
            rows,
            |r| r.1,
            own,
            &consents,
            ConsentScope::Interactions,
            now,
        );
        assert_eq!(
            interactions.iter().map(|(r, _)| r.0).collect::<Vec<_>>(),
            ["own"],
            "no consent covers interactions"
        );
    }
}
