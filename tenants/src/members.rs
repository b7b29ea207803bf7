//! The people and systems that act inside a tenant, and the roles granted to them there.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::entity::{member, role_assignment};
use crate::{Error, Identity, MemberId, Result, Role, Scope};

#[derive(Clone, Debug, PartialEq)]
pub struct Member {
    pub id: MemberId,
    pub issuer: String,
    pub subject: String,
    pub display_name: String,
    pub email: Option<String>,
    pub roles: Vec<Role>,
    pub created_at: DateTime<Utc>,
}

fn roles_of(rows: &[role_assignment::Model]) -> Vec<Role> {
    // A role string this build does not know (written by a newer version) is skipped rather
    // than failing the whole request.
    rows.iter().filter_map(|r| r.role.parse().ok()).collect()
}

fn named(scope: &Scope, who: &Identity) -> sea_orm::Select<member::Entity> {
    scope
        .find::<member::Entity>()
        .filter(member::Column::Issuer.eq(who.issuer.as_str()))
        .filter(member::Column::Subject.eq(who.subject.as_str()))
}

/// The member with this identity in the scope's tenant, and the roles granted to them.
pub async fn membership(scope: &Scope, who: &Identity) -> Result<Option<(MemberId, Vec<Role>)>> {
    let Some(m) = named(scope, who).one(scope.conn()).await? else {
        return Ok(None);
    };
    let grants = scope
        .find::<role_assignment::Entity>()
        .filter(role_assignment::Column::MemberId.eq(m.id))
        .all(scope.conn())
        .await?;
    Ok(Some((MemberId(m.id), roles_of(&grants))))
}

/// What is known of a new member when they are first named.
#[derive(Clone, Debug, Default)]
pub struct MemberProfile {
    pub display_name: Option<String>,
    pub email: Option<String>,
}

fn validate(who: &Identity) -> Result<Identity> {
    let s = who.subject.trim();
    if s.is_empty() || s.len() > 255 || s.chars().any(char::is_control) {
        return Err(Error::Validation(
            "subject must be 1 to 255 printable characters".into(),
        ));
    }
    let i = who.issuer.trim().trim_end_matches('/');
    if i.is_empty() || i.len() > 500 || i.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(Error::Validation(
            "issuer must be 1 to 500 printable characters without spaces".into(),
        ));
    }
    Ok(Identity::new(i, s))
}

async fn find_or_create(
    scope: &Scope,
    who: &Identity,
    profile: &MemberProfile,
) -> Result<member::Model> {
    if let Some(m) = named(scope, who).one(scope.conn()).await? {
        return Ok(m);
    }
    let subject = &who.subject;
    let row = member::ActiveModel {
        id: Set(MemberId::new().0),
        issuer: Set(who.issuer.clone()),
        subject: Set(subject.to_owned()),
        display_name: Set(profile
            .display_name
            .clone()
            .unwrap_or_else(|| subject.to_owned())),
        email: Set(profile.email.clone()),
        created_at: Set(Utc::now()),
        ..Default::default()
    };
    Ok(scope.insert(row).await?)
}

/// Grants `role` to the member with identity `who`, creating the member if needed. Granting
/// a role already held changes nothing. Returns the member as it now is.
pub async fn grant(
    scope: &Scope,
    granted_by: &str,
    who: &Identity,
    role: Role,
    profile: &MemberProfile,
) -> Result<Member> {
    if role == Role::PlatformAdmin {
        return Err(Error::Validation(
            "platform_admin is not granted inside a tenant".into(),
        ));
    }
    let who = validate(who)?;
    let m = find_or_create(scope, &who, profile).await?;
    let exists = scope
        .find::<role_assignment::Entity>()
        .filter(role_assignment::Column::MemberId.eq(m.id))
        .filter(role_assignment::Column::Role.eq(role.as_str()))
        .one(scope.conn())
        .await?
        .is_some();
    if !exists {
        let row = role_assignment::ActiveModel {
            member_id: Set(m.id),
            role: Set(role.as_str().to_owned()),
            granted_by: Set(granted_by.to_owned()),
            granted_at: Set(Utc::now()),
            ..Default::default()
        };
        scope.insert(row).await?;
        scope.access_changed().await?;
    }
    get(scope, &who).await?.ok_or(Error::NotFound("member"))
}

/// Revokes `role` from the member `who`. Revoking a role not held is NOT_FOUND, so that a
/// typo does not look like success.
pub async fn revoke(scope: &Scope, who: &Identity, role: Role) -> Result<Member> {
    let m = named(scope, who)
        .one(scope.conn())
        .await?
        .ok_or(Error::NotFound("member"))?;
    let res = scope
        .delete_many::<role_assignment::Entity>()
        .filter(role_assignment::Column::MemberId.eq(m.id))
        .filter(role_assignment::Column::Role.eq(role.as_str()))
        .exec(scope.conn())
        .await?;
    if res.rows_affected == 0 {
        return Err(Error::NotFound("role assignment"));
    }
    scope.access_changed().await?;
    get(scope, who).await?.ok_or(Error::NotFound("member"))
}

pub async fn get(scope: &Scope, who: &Identity) -> Result<Option<Member>> {
    Ok(list_where(scope, Some(who)).await?.pop())
}

pub async fn list(scope: &Scope) -> Result<Vec<Member>> {
    list_where(scope, None).await
}

/// A page of the members, oldest first, after the member `after`; and whether more follow.
pub async fn page(
    scope: &Scope,
    first: u64,
    after: Option<MemberId>,
) -> Result<(Vec<Member>, bool)> {
    let mut q = scope
        .find::<member::Entity>()
        .order_by_asc(member::Column::Id)
        .limit(first + 1);
    if let Some(a) = after {
        q = q.filter(member::Column::Id.gt(a.0));
    }
    let mut found = members_of(scope, q).await?;
    let more = found.len() as u64 > first;
    found.truncate(first as usize);
    Ok((found, more))
}

/// Members with this subject, whichever their issuer (names stored by subject, such as a
/// case's owner, are checked against these).
pub async fn with_subject(scope: &Scope, subject: &str) -> Result<Vec<Member>> {
    let q = scope
        .find::<member::Entity>()
        .filter(member::Column::Subject.eq(subject));
    members_of(scope, q).await
}

async fn list_where(scope: &Scope, who: Option<&Identity>) -> Result<Vec<Member>> {
    let q = match who {
        Some(w) => named(scope, w),
        None => scope.find::<member::Entity>(),
    };
    members_of(scope, q).await
}

async fn members_of(scope: &Scope, q: sea_orm::Select<member::Entity>) -> Result<Vec<Member>> {
    let q = q.order_by_asc(member::Column::DisplayName);
    let members = q.all(scope.conn()).await?;
    // One query for every member's grants, not one per member.
    let ids: Vec<_> = members.iter().map(|m| m.id).collect();
    let mut grants: BTreeMap<_, Vec<_>> = BTreeMap::new();
    for g in scope
        .find::<role_assignment::Entity>()
        .filter(role_assignment::Column::MemberId.is_in(ids))
        .all(scope.conn())
        .await?
    {
        grants.entry(g.member_id).or_default().push(g);
    }
    Ok(members
        .into_iter()
        .map(|m| Member {
            roles: roles_of(grants.get(&m.id).map(Vec::as_slice).unwrap_or(&[])),
            id: MemberId(m.id),
            issuer: m.issuer,
            subject: m.subject,
            display_name: m.display_name,
            email: m.email,
            created_at: m.created_at,
        })
        .collect())
}
