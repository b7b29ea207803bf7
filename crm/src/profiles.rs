//! Profiles: one body's record of a person, with its contacts.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use civitas_tenants::{Identity, Scope, TenantId, audit};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, JoinType, QueryFilter,
    QueryOrder, QuerySelect, RelationDef, Select,
};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use crate::channels::ContactKind;
use crate::entity::{contact, person, profile};
use crate::identity::{Email, Phone, search_key};
use crate::persons::{self, parse_fiscal_code};
use crate::sharing::validate_channel;
use crate::{Error, Result};

/// A profile as callers see it: the body's record plus the person's codice fiscale.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Profile {
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub person_id: Uuid,
    pub fiscal_code: Option<String>,
    pub given_name: String,
    pub family_name: String,
    pub emails: Vec<String>,
    pub phones: Vec<String>,
    pub preferred_channel: Option<String>,
    pub language: Option<String>,
    pub notes: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What an operator (or integrator) enters for a citizen.
#[derive(Clone, Debug, Default)]
pub struct ProfileInput {
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub emails: Option<Vec<String>>,
    pub phones: Option<Vec<String>>,
    pub preferred_channel: Option<String>,
    pub language: Option<String>,
    pub notes: Option<String>,
}

fn validation(m: impl Into<String>) -> Error {
    Error::Validation(m.into())
}

fn name(field: &str, v: &str) -> Result<String> {
    let v = v.trim();
    if v.is_empty() || v.chars().count() > 200 || v.chars().any(char::is_control) {
        return Err(validation(format!(
            "{field} must be 1 to 200 printable characters"
        )));
    }
    Ok(v.to_owned())
}

fn language(v: &str) -> Result<String> {
    let ok = match v.split_once('-') {
        None => v.len() == 2 && v.bytes().all(|b| b.is_ascii_lowercase()),
        Some((l, r)) => {
            l.len() == 2
                && l.bytes().all(|b| b.is_ascii_lowercase())
                && r.len() == 2
                && r.bytes().all(|b| b.is_ascii_uppercase())
        }
    };
    if ok {
        Ok(v.to_owned())
    } else {
        Err(validation(format!(
            "language {v:?} must look like it or it-IT"
        )))
    }
}

/// Contacts as they will be stored: normalised, de-duplicated, in the order given.
/// Normalised emails and phones, each `None` when not given.
type ContactLists = (Option<Vec<String>>, Option<Vec<String>>);

fn contacts(input: &ProfileInput) -> Result<ContactLists> {
    let emails = input
        .emails
        .as_ref()
        .map(|list| {
            list.iter()
                .map(|e| {
                    Email::parse(e)
                        .map(|e| e.as_str().to_owned())
                        .map_err(validation)
                })
                .collect::<Result<Vec<_>>>()
        })
        .transpose()?;
    let phones = input
        .phones
        .as_ref()
        .map(|list| {
            list.iter()
                .map(|p| Phone::parse(p).map(|p| p.to_string()).map_err(validation))
                .collect::<Result<Vec<_>>>()
        })
        .transpose()?;
    let dedup = |v: Vec<String>| {
        let mut seen = BTreeSet::new();
        v.into_iter()
            .filter(|x| seen.insert(x.clone()))
            .collect::<Vec<_>>()
    };
    Ok((emails.map(dedup), phones.map(dedup)))
}

async fn replace_contacts(
    scope: &Scope,
    p: &profile::Model,
    kind: ContactKind,
    values: &[String],
) -> Result<()> {
    scope
        .delete_many::<contact::Entity>()
        .filter(contact::Column::ProfileId.eq(p.id))
        .filter(contact::Column::Kind.eq(kind.as_str()))
        .exec(scope.conn())
        .await?;
    for v in values {
        let row = contact::ActiveModel {
            id: Set(Uuid::now_v7()),
            profile_id: Set(p.id),
            person_id: Set(p.person_id),
            kind: Set(kind.as_str().to_owned()),
            value: Set(v.clone()),
            created_at: Set(Utc::now()),
            ..Default::default()
        };
        scope.insert(row).await?;
    }
    Ok(())
}

/// Registers a citizen in the scope's body: finds or creates the person (by codice fiscale,
/// or as an unidentified person without one) and creates the body's profile, in the
/// scope's transaction. A person already registered here is a CONFLICT.
pub async fn register(
    scope: &Scope,
    actor: &Identity,
    fiscal_code: Option<&str>,
    input: ProfileInput,
) -> Result<Profile> {
    let given = name("givenName", input.given_name.as_deref().unwrap_or(""))?;
    let family = name("familyName", input.family_name.as_deref().unwrap_or(""))?;
    let (emails, phones) = contacts(&input)?;
    let channel = input
        .preferred_channel
        .as_deref()
        .map(validate_channel)
        .transpose()?;
    let lang = input.language.as_deref().map(language).transpose()?;
    let person = match fiscal_code {
        Some(raw) => persons::find_or_create(scope.conn(), &parse_fiscal_code(raw)?).await?,
        None => persons::create_unidentified(scope.conn()).await?,
    };
    let exists = scope
        .find::<profile::Entity>()
        .filter(profile::Column::PersonId.eq(person))
        .one(scope.conn())
        .await?
        .is_some();
    if exists {
        return Err(Error::Conflict(
            "this citizen is already registered in this body".into(),
        ));
    }
    let now = Utc::now();
    let row = profile::ActiveModel {
        id: Set(Uuid::now_v7()),
        person_id: Set(person),
        search_name: Set(search_key(&format!("{family} {given}"))),
        given_name: Set(given),
        family_name: Set(family),
        preferred_channel: Set(channel),
        language: Set(lang),
        notes: Set(input.notes.unwrap_or_default()),
        merged_into: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    let p = scope.insert(row).await.map_err(|e| {
        Error::conflict_on_unique(e, "this citizen is already registered in this body")
    })?;
    replace_contacts(scope, &p, ContactKind::Email, &emails.unwrap_or_default()).await?;
    replace_contacts(scope, &p, ContactKind::Phone, &phones.unwrap_or_default()).await?;
    audit::record(
        scope,
        actor,
        "citizen.registered",
        Some(&p.id.to_string()),
        json!({ "person": person }),
    )
    .await?;
    get(scope, p.id).await
}

/// Changes the fields given; lists given replace the previous ones.
pub async fn update(
    scope: &Scope,
    actor: &Identity,
    id: Uuid,
    input: ProfileInput,
) -> Result<Profile> {
    let current = own(scope, id).await?;
    let (emails, phones) = contacts(&input)?;
    let given = input
        .given_name
        .as_deref()
        .map(|v| name("givenName", v))
        .transpose()?
        .unwrap_or(current.given_name.clone());
    let family = input
        .family_name
        .as_deref()
        .map(|v| name("familyName", v))
        .transpose()?
        .unwrap_or(current.family_name.clone());
    let mut row = profile::ActiveModel {
        tenant_id: Set(current.tenant_id),
        id: Set(current.id),
        search_name: Set(search_key(&format!("{family} {given}"))),
        given_name: Set(given),
        family_name: Set(family),
        updated_at: Set(Utc::now()),
        ..Default::default()
    };
    if let Some(c) = input.preferred_channel.as_deref() {
        row.preferred_channel = Set(Some(validate_channel(c)?));
    }
    if let Some(l) = input.language.as_deref() {
        row.language = Set(Some(language(l)?));
    }
    if let Some(n) = input.notes {
        row.notes = Set(n);
    }
    scope
        .update_many::<profile::Entity>()
        .set(row)
        .filter(profile::Column::Id.eq(id))
        .exec(scope.conn())
        .await?;
    if let Some(e) = emails {
        replace_contacts(scope, &current, ContactKind::Email, &e).await?;
    }
    if let Some(p) = phones {
        replace_contacts(scope, &current, ContactKind::Phone, &p).await?;
    }
    audit::record(
        scope,
        actor,
        "citizen.updated",
        Some(&id.to_string()),
        json!({}),
    )
    .await?;
    get(scope, id).await
}

/// Whether `input` would change `current`: every field given is normalised as an update
/// would store it and compared; fields left out change nothing.
pub fn differs(current: &Profile, input: &ProfileInput) -> Result<bool> {
    let (emails, phones) = contacts(input)?;
    let given = input
        .given_name
        .as_deref()
        .map(|v| name("givenName", v))
        .transpose()?;
    let family = input
        .family_name
        .as_deref()
        .map(|v| name("familyName", v))
        .transpose()?;
    let channel = input
        .preferred_channel
        .as_deref()
        .map(validate_channel)
        .transpose()?;
    let lang = input.language.as_deref().map(language).transpose()?;
    let changes = |new: Option<&String>, old: &String| new.is_some_and(|n| n != old);
    let changes_opt =
        |new: Option<&String>, old: Option<&String>| new.is_some_and(|n| Some(n) != old);
    Ok(changes(given.as_ref(), &current.given_name)
        || changes(family.as_ref(), &current.family_name)
        || emails.is_some_and(|e| e != current.emails)
        || phones.is_some_and(|p| p != current.phones)
        || changes_opt(channel.as_ref(), current.preferred_channel.as_ref())
        || changes_opt(lang.as_ref(), current.language.as_ref())
        || changes(input.notes.as_ref(), &current.notes))
}

/// A live (not merged) profile of the scope's body.
pub async fn own(scope: &Scope, id: Uuid) -> Result<profile::Model> {
    scope
        .find::<profile::Entity>()
        .filter(profile::Column::Id.eq(id))
        .filter(profile::Column::MergedInto.is_null())
        .one(scope.conn())
        .await?
        .ok_or(Error::NotFound("profile"))
}

/// The scope's body's live profile of `person` (or of a record merged into it), if any.
pub async fn of_person(scope: &Scope, person: Uuid) -> Result<Option<Profile>> {
    let family = crate::persons::with_family(scope.conn(), person)
        .await?
        .map(|f| f.iter().map(|p| p.id).collect::<Vec<_>>())
        .unwrap_or_default();
    let found = scope
        .find::<profile::Entity>()
        .filter(profile::Column::PersonId.is_in(family))
        .filter(profile::Column::MergedInto.is_null())
        .one(scope.conn())
        .await?;
    match found {
        Some(p) => Ok(Some(views(scope.conn(), vec![p]).await?.remove(0))),
        None => Ok(None),
    }
}

pub async fn get(scope: &Scope, id: Uuid) -> Result<Profile> {
    let p = own(scope, id).await?;
    Ok(views(scope.conn(), vec![p]).await?.remove(0))
}

/// Turns profile rows into views with their contacts and codici fiscali, in three queries
/// whatever the number of rows. The contacts are read on the same connection, under the
/// same scope, so they are exactly as visible as the profiles.
pub(crate) async fn views<C: ConnectionTrait>(
    conn: &C,
    rows: Vec<profile::Model>,
) -> Result<Vec<Profile>> {
    let ids: Vec<Uuid> = rows.iter().map(|p| p.id).collect();
    let tenants: BTreeSet<Uuid> = rows.iter().map(|p| p.tenant_id).collect();
    let contacts = contact::Entity::find()
        .filter(contact::Column::TenantId.is_in(tenants))
        .filter(contact::Column::ProfileId.is_in(ids))
        .order_by_asc(contact::Column::Id)
        .all(conn)
        .await?;
    assemble(conn, rows, contacts, &[]).await
}

/// The join that reads profiles and their contacts in one statement (see
/// [`with_contacts`]): a contact belongs to the profile of its body with its `profile_id`.
fn contacts_of_profile() -> RelationDef {
    profile::Entity::belongs_to(contact::Entity)
        .from((profile::Column::TenantId, profile::Column::Id))
        .to((contact::Column::TenantId, contact::Column::ProfileId))
        .into()
}

/// Runs `select` with each profile's contacts joined, and turns the rows into views: one
/// round trip instead of two. Contacts are read under the same scope as the profiles (on
/// PostgreSQL their own policies apply inside the join).
pub(crate) async fn with_contacts<C: ConnectionTrait>(
    conn: &C,
    select: Select<profile::Entity>,
) -> Result<Vec<(profile::Model, Vec<contact::Model>)>> {
    let joined = select
        .join(JoinType::LeftJoin, contacts_of_profile())
        .select_also(contact::Entity)
        .order_by_asc(profile::Column::TenantId)
        .order_by_asc(profile::Column::Id)
        .order_by_asc(contact::Column::Id)
        .all(conn)
        .await?;
    let mut out: Vec<(profile::Model, Vec<contact::Model>)> = Vec::new();
    for (p, c) in joined {
        match out.last_mut() {
            Some((last, cs)) if last.tenant_id == p.tenant_id && last.id == p.id => {
                cs.extend(c);
            }
            _ => out.push((p, c.into_iter().collect())),
        }
    }
    Ok(out)
}

/// Builds views from profile rows and their contacts, reading the codici fiscali of the
/// persons not in `known`.
pub(crate) async fn assemble<C: ConnectionTrait>(
    conn: &C,
    rows: Vec<profile::Model>,
    contacts: Vec<contact::Model>,
    known: &[person::Model],
) -> Result<Vec<Profile>> {
    let person_ids: BTreeSet<Uuid> = rows
        .iter()
        .map(|p| p.person_id)
        .filter(|id| !known.iter().any(|k| k.id == *id))
        .collect();
    let mut by_profile: BTreeMap<(Uuid, Uuid), (Vec<String>, Vec<String>)> = BTreeMap::new();
    for c in contacts {
        let entry = by_profile.entry((c.tenant_id, c.profile_id)).or_default();
        if c.kind == ContactKind::Email.as_str() {
            entry.0.push(c.value)
        } else {
            entry.1.push(c.value)
        }
    }
    let fetched = if person_ids.is_empty() {
        vec![]
    } else {
        person::Entity::find()
            .filter(person::Column::Id.is_in(person_ids))
            .all(conn)
            .await?
    };
    let codes: BTreeMap<Uuid, Option<String>> = fetched
        .into_iter()
        .chain(known.iter().cloned())
        .map(|p| (p.id, p.fiscal_code))
        .collect();
    Ok(rows
        .into_iter()
        .map(|p| {
            let (emails, phones) = by_profile.remove(&(p.tenant_id, p.id)).unwrap_or_default();
            Profile {
                fiscal_code: codes.get(&p.person_id).cloned().flatten(),
                id: p.id,
                tenant_id: TenantId(p.tenant_id),
                person_id: p.person_id,
                given_name: p.given_name,
                family_name: p.family_name,
                emails,
                phones,
                preferred_channel: p.preferred_channel,
                language: p.language,
                notes: p.notes,
                created_at: p.created_at,
                updated_at: p.updated_at,
            }
        })
        .collect())
}

/// What to look for; every filter given must match.
#[derive(Clone, Debug, Default)]
pub struct SearchQuery {
    pub fiscal_code: Option<String>,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

pub struct Page {
    pub items: Vec<Profile>,
    /// Pass as `after` for the next page; `None` on the last page.
    pub next: Option<Uuid>,
}

fn by_contact(scope: &Scope, kind: ContactKind, value: String) -> Select<contact::Entity> {
    scope
        .find::<contact::Entity>()
        .filter(contact::Column::Kind.eq(kind.as_str()))
        .filter(contact::Column::Value.eq(value))
}

/// Searches the scope's body only. Names match accent- and case-insensitively on every word
/// given, anywhere in the name; phones in any format match on E.164.
pub async fn search(
    scope: &Scope,
    q: SearchQuery,
    first: u64,
    after: Option<Uuid>,
) -> Result<Page> {
    let mut query = scope
        .find::<profile::Entity>()
        .filter(profile::Column::MergedInto.is_null())
        .filter(profile::Column::RestrictedAt.is_null());
    if let Some(raw) = q.fiscal_code.as_deref() {
        let code = parse_fiscal_code(raw)?;
        let ids: Vec<Uuid> = match persons::id_by_fiscal_code(scope.conn(), &code).await? {
            Some(id) => persons::with_family(scope.conn(), id)
                .await?
                .unwrap_or_default()
                .into_iter()
                .map(|p| p.id)
                .collect(),
            None => vec![],
        };
        query = query.filter(profile::Column::PersonId.is_in(ids));
    }
    if let Some(n) = q.name.as_deref() {
        let key = search_key(n);
        if key.is_empty() {
            return Err(validation("name must contain a letter or digit"));
        }
        let words = key.split(' ').fold(Condition::all(), |c, w| {
            c.add(profile::Column::SearchName.contains(w))
        });
        query = query.filter(words);
    }
    let mut contact_filters = Vec::new();
    if let Some(p) = q.phone.as_deref() {
        contact_filters.push(by_contact(
            scope,
            ContactKind::Phone,
            Phone::parse(p).map_err(validation)?.to_string(),
        ));
    }
    if let Some(e) = q.email.as_deref() {
        contact_filters.push(by_contact(
            scope,
            ContactKind::Email,
            Email::parse(e).map_err(validation)?.as_str().to_owned(),
        ));
    }
    for f in contact_filters {
        let ids: Vec<Uuid> = f
            .all(scope.conn())
            .await?
            .into_iter()
            .map(|c| c.profile_id)
            .collect();
        query = query.filter(profile::Column::Id.is_in(ids));
    }
    if let Some(a) = after {
        query = query.filter(profile::Column::Id.gt(a));
    }
    let mut rows = query
        .order_by_asc(profile::Column::Id)
        .limit(first + 1)
        .all(scope.conn())
        .await?;
    let next = if rows.len() as u64 > first {
        rows.truncate(first as usize);
        rows.last().map(|p| p.id)
    } else {
        None
    };
    Ok(Page {
        items: views(scope.conn(), rows).await?,
        next,
    })
}
