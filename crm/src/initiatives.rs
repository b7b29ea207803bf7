//! A body's initiatives (events, meetings, courses, consultations) and citizens'
//! participation in them: seats, a waiting list promoted in order, check-in.
//!
//! Every registration and cancellation locks its initiative's row first (PostgreSQL
//! `FOR UPDATE`; SQLite's write transactions are serial), so the seat count and the queue
//! move one change at a time however many arrive together: never more confirmed than
//! seats.

use chrono::{DateTime, Utc};
use civitas_tenants::{PersonScope, Scope};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DbBackend, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use crate::entity::{initiative, participation};
use crate::places::Place;
use crate::{Error, Result};

pub use initiative::Model as Initiative;
pub use participation::Model as Participation;

fn invalid(m: impl Into<String>) -> Error {
    Error::Validation(m.into())
}

macro_rules! words {
    ($(#[$m:meta])* $ty:ident { $($v:ident => $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum $ty { $($v),+ }
        impl $ty {
            pub const ALL: &'static [$ty] = &[$($ty::$v),+];
            pub const fn as_str(self) -> &'static str {
                match self { $($ty::$v => $s),+ }
            }
        }
        impl std::str::FromStr for $ty {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self> {
                $ty::ALL.iter().copied().find(|v| v.as_str() == s).ok_or_else(|| {
                    let known: Vec<&str> = $ty::ALL.iter().map(|v| v.as_str()).collect();
                    invalid(format!("{s:?} is not one of {}", known.join(", ")))
                })
            }
        }
    };
}

words!(
    /// What kind of initiative.
    Kind { Event => "event", Meeting => "meeting", Course => "course", Consultation => "consultation" }
);
words!(
    /// Where an initiative is in its life.
    Status { Draft => "draft", Published => "published", Closed => "closed", Cancelled => "cancelled" }
);
words!(
    /// Who may see and join it: the body's own citizens (those it knows), or everyone.
    Visibility { Own => "own", Everyone => "everyone" }
);
words!(
    /// Where a citizen stands.
    Standing { Confirmed => "confirmed", Waiting => "waiting", Cancelled => "cancelled", Attended => "attended" }
);

#[derive(Clone, Debug)]
pub struct NewInitiative {
    pub kind: Kind,
    pub title: String,
    pub description: String,
    pub area: String,
    pub place: Option<Place>,
    pub online_url: Option<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// None: as many as come.
    pub capacity: Option<i32>,
    pub waiting_list: bool,
    pub registration_opens_at: Option<DateTime<Utc>>,
    pub registration_closes_at: Option<DateTime<Utc>>,
    pub visibility: Visibility,
}

fn text(field: &str, v: &str, max: usize, required: bool) -> Result<String> {
    let v = v.trim();
    if (required && v.is_empty()) || v.chars().count() > max {
        return Err(invalid(format!(
            "{field} must be {} to {max} characters",
            usize::from(required)
        )));
    }
    Ok(v.to_owned())
}

impl NewInitiative {
    fn check(&self) -> Result<()> {
        if self.ends_at <= self.starts_at {
            return Err(invalid("endsAt must come after startsAt"));
        }
        if self.capacity.is_some_and(|c| c < 1) {
            return Err(invalid(
                "capacity must be at least 1 (or none, for no limit)",
            ));
        }
        if let (Some(o), Some(c)) = (self.registration_opens_at, self.registration_closes_at)
            && c <= o
        {
            return Err(invalid(
                "registrationClosesAt must come after registrationOpensAt",
            ));
        }
        if self
            .registration_closes_at
            .is_some_and(|c| c > self.ends_at)
        {
            return Err(invalid("registrationClosesAt must not come after endsAt"));
        }
        if let Some(u) = &self.online_url {
            let ok = (u.starts_with("https://") || u.starts_with("http://"))
                && u.len() <= 2_000
                && !u.chars().any(char::is_whitespace);
            if !ok {
                return Err(invalid("onlineUrl must be an http or https URL"));
            }
        }
        Ok(())
    }
}

/// Creates an initiative of the scope's body, as a draft.
pub async fn create(
    scope: &Scope,
    new: NewInitiative,
    by: &str,
    now: DateTime<Utc>,
) -> Result<Initiative> {
    new.check()?;
    let row = initiative::ActiveModel {
        id: Set(Uuid::now_v7()),
        kind: Set(new.kind.as_str().to_owned()),
        title: Set(text("title", &new.title, 200, true)?),
        description: Set(text("description", &new.description, 10_000, false)?),
        area: Set(text("area", &new.area, 200, true)?),
        address: Set(new.place.as_ref().and_then(|p| p.address.clone())),
        latitude: Set(new.place.as_ref().map(|p| p.latitude)),
        longitude: Set(new.place.as_ref().map(|p| p.longitude)),
        online_url: Set(new.online_url),
        starts_at: Set(new.starts_at),
        ends_at: Set(new.ends_at),
        capacity: Set(new.capacity),
        waiting_list: Set(new.waiting_list),
        registration_opens_at: Set(new.registration_opens_at),
        registration_closes_at: Set(new.registration_closes_at),
        status: Set(Status::Draft.as_str().to_owned()),
        visibility: Set(new.visibility.as_str().to_owned()),
        confirmed: Set(0),
        waiting: Set(0),
        created_by: Set(by.to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    Ok(scope.insert(row).await?)
}

/// The initiative, locked for the rest of the transaction when `lock` (PostgreSQL).
pub async fn get(scope: &Scope, id: Uuid, lock: bool) -> Result<Initiative> {
    let mut q = scope
        .find::<initiative::Entity>()
        .filter(initiative::Column::Id.eq(id));
    if lock && scope.conn().get_database_backend() == DbBackend::Postgres {
        q = q.lock_exclusive();
    }
    q.one(scope.conn())
        .await?
        .ok_or(Error::NotFound("initiative"))
}

/// Moves an initiative: a draft is published or cancelled, a published one closed (no
/// more registrations) or cancelled.
pub async fn set_status(
    scope: &Scope,
    id: Uuid,
    to: Status,
    now: DateTime<Utc>,
) -> Result<Initiative> {
    let i = get(scope, id, true).await?;
    let from: Status = i.status.parse()?;
    let allowed = matches!(
        (from, to),
        (Status::Draft, Status::Published)
            | (Status::Draft, Status::Cancelled)
            | (Status::Published, Status::Closed)
            | (Status::Published, Status::Cancelled)
    );
    if !allowed {
        return Err(invalid(format!(
            "status: a {} initiative cannot become {}",
            from.as_str(),
            to.as_str()
        )));
    }
    scope
        .update_many::<initiative::Entity>()
        .col_expr(initiative::Column::Status, to.as_str().into())
        .col_expr(initiative::Column::UpdatedAt, now.into())
        .filter(initiative::Column::Id.eq(id))
        .exec(scope.conn())
        .await?;
    Ok(Initiative {
        status: to.as_str().to_owned(),
        updated_at: now,
        ..i
    })
}

/// The initiatives among `ids` of the scope's body.
pub async fn by_ids(scope: &Scope, ids: &[Uuid]) -> Result<Vec<Initiative>> {
    Ok(scope
        .find::<initiative::Entity>()
        .filter(initiative::Column::Id.is_in(ids.iter().copied()))
        .all(scope.conn())
        .await?)
}

/// The body's initiatives of the given statuses (all when empty), soonest first.
pub async fn list(scope: &Scope, statuses: &[Status]) -> Result<Vec<Initiative>> {
    let mut q = scope.find::<initiative::Entity>();
    if !statuses.is_empty() {
        q = q.filter(initiative::Column::Status.is_in(statuses.iter().map(|s| s.as_str())));
    }
    Ok(q.order_by_asc(initiative::Column::StartsAt)
        .order_by_asc(initiative::Column::Id)
        .all(scope.conn())
        .await?)
}

/// Who registers a citizen, and through which channel.
pub struct Registrar<'a> {
    pub by: &'a str,
    pub channel: &'a str,
}

/// Registers `person` for the initiative: a seat while there are seats and no one waits,
/// else a place in the waiting list, else CONFLICT.
pub async fn register(
    scope: &Scope,
    id: Uuid,
    person: Uuid,
    who: Registrar<'_>,
    now: DateTime<Utc>,
) -> Result<Participation> {
    let i = get(scope, id, true).await?;
    if i.status != Status::Published.as_str() {
        return Err(invalid(format!(
            "initiative: registrations are open only while it is published (it is {})",
            i.status
        )));
    }
    let closes = i.registration_closes_at.unwrap_or(i.starts_at);
    if i.registration_opens_at.is_some_and(|o| now < o) || now >= closes {
        return Err(invalid("initiative: its registration window is closed"));
    }
    let existing = scope
        .find::<participation::Entity>()
        .filter(participation::Column::InitiativeId.eq(id))
        .filter(participation::Column::PersonId.eq(person))
        .one(scope.conn())
        .await?;
    if existing
        .as_ref()
        .is_some_and(|p| p.status != Standing::Cancelled.as_str())
    {
        return Err(Error::Conflict(
            "this citizen is already registered for the initiative".into(),
        ));
    }
    let someone_waits = scope
        .find::<participation::Entity>()
        .filter(participation::Column::InitiativeId.eq(id))
        .filter(participation::Column::Status.eq(Standing::Waiting.as_str()))
        .one(scope.conn())
        .await?
        .is_some();
    let seat = i.capacity.is_none_or(|c| i.confirmed < c) && !someone_waits;
    let (standing, position) = if seat {
        bump(scope, id, initiative::Column::Confirmed, 1, now).await?;
        (Standing::Confirmed, None)
    } else if i.waiting_list {
        bump(scope, id, initiative::Column::Waiting, 1, now).await?;
        (Standing::Waiting, Some(i64::from(i.waiting) + 1))
    } else {
        return Err(Error::Conflict(
            "the initiative is full and has no waiting list".into(),
        ));
    };
    let fields = participation::ActiveModel {
        status: Set(standing.as_str().to_owned()),
        queue_position: Set(position),
        registered_by: Set(who.by.to_owned()),
        channel: Set(who.channel.to_owned()),
        registered_at: Set(now),
        confirmed_at: Set(seat.then_some(now)),
        cancelled_at: Set(None),
        checked_in_at: Set(None),
        ..Default::default()
    };
    let p = match existing {
        // Registering again after a cancellation takes the same row.
        Some(old) => {
            scope
                .update_many::<participation::Entity>()
                .set(fields)
                .filter(participation::Column::Id.eq(old.id))
                .exec(scope.conn())
                .await?;
            one(scope, old.id).await?
        }
        None => {
            let row = participation::ActiveModel {
                id: Set(Uuid::now_v7()),
                initiative_id: Set(id),
                person_id: Set(person),
                ..fields
            };
            scope.insert(row).await?
        }
    };
    let source = crate::preferences::Source::Participation;
    crate::preferences::derive(scope, person, &i.area, source, i.id, now).await?;
    Ok(p)
}

async fn bump(
    scope: &Scope,
    id: Uuid,
    column: initiative::Column,
    by: i32,
    now: DateTime<Utc>,
) -> Result<()> {
    scope
        .update_many::<initiative::Entity>()
        .col_expr(column, Expr::col(column).add(by))
        .col_expr(initiative::Column::UpdatedAt, now.into())
        .filter(initiative::Column::Id.eq(id))
        .exec(scope.conn())
        .await?;
    Ok(())
}

pub async fn one(scope: &Scope, id: Uuid) -> Result<Participation> {
    scope
        .find::<participation::Entity>()
        .filter(participation::Column::Id.eq(id))
        .one(scope.conn())
        .await?
        .ok_or(Error::NotFound("participation"))
}

/// The citizen's participation in the initiative.
pub async fn of(scope: &Scope, initiative: Uuid, person: Uuid) -> Result<Participation> {
    scope
        .find::<participation::Entity>()
        .filter(participation::Column::InitiativeId.eq(initiative))
        .filter(participation::Column::PersonId.eq(person))
        .one(scope.conn())
        .await?
        .ok_or(Error::NotFound("participation"))
}

/// Cancels a participation, up to the start. A seat it frees goes to the first in the
/// waiting list, who is returned to be told.
pub async fn cancel(
    scope: &Scope,
    p: Participation,
    now: DateTime<Utc>,
) -> Result<(Participation, Option<Participation>)> {
    let i = get(scope, p.initiative_id, true).await?;
    // Read again under the initiative's lock: a concurrent change may have moved it.
    let p = one(scope, p.id).await?;
    let standing: Standing = p.status.parse()?;
    if !matches!(standing, Standing::Confirmed | Standing::Waiting) {
        return Err(invalid(format!(
            "participation: a {} participation cannot be cancelled",
            standing.as_str()
        )));
    }
    if now >= i.starts_at {
        return Err(invalid(
            "participation: cancellations end when the initiative starts",
        ));
    }
    scope
        .update_many::<participation::Entity>()
        .col_expr(
            participation::Column::Status,
            Standing::Cancelled.as_str().into(),
        )
        .col_expr(participation::Column::CancelledAt, now.into())
        .col_expr(
            participation::Column::QueuePosition,
            Expr::value(Option::<i64>::None),
        )
        .filter(participation::Column::Id.eq(p.id))
        .exec(scope.conn())
        .await?;
    let mut promoted = None;
    if standing == Standing::Confirmed {
        let next = scope
            .find::<participation::Entity>()
            .filter(participation::Column::InitiativeId.eq(i.id))
            .filter(participation::Column::Status.eq(Standing::Waiting.as_str()))
            .order_by_asc(participation::Column::QueuePosition)
            .one(scope.conn())
            .await?;
        match next {
            Some(n) => {
                scope
                    .update_many::<participation::Entity>()
                    .col_expr(
                        participation::Column::Status,
                        Standing::Confirmed.as_str().into(),
                    )
                    .col_expr(participation::Column::ConfirmedAt, now.into())
                    .col_expr(
                        participation::Column::QueuePosition,
                        Expr::value(Option::<i64>::None),
                    )
                    .filter(participation::Column::Id.eq(n.id))
                    .exec(scope.conn())
                    .await?;
                promoted = Some(one(scope, n.id).await?);
            }
            None => bump(scope, i.id, initiative::Column::Confirmed, -1, now).await?,
        }
    }
    Ok((one(scope, p.id).await?, promoted))
}

/// Records that a confirmed participant came.
pub async fn check_in(scope: &Scope, id: Uuid, now: DateTime<Utc>) -> Result<Participation> {
    let p = one(scope, id).await?;
    if p.status != Standing::Confirmed.as_str() {
        return Err(invalid(format!(
            "participation: only a confirmed participant checks in (this one is {})",
            p.status
        )));
    }
    scope
        .update_many::<participation::Entity>()
        .col_expr(
            participation::Column::Status,
            Standing::Attended.as_str().into(),
        )
        .col_expr(participation::Column::CheckedInAt, now.into())
        .filter(participation::Column::Id.eq(id))
        .exec(scope.conn())
        .await?;
    one(scope, id).await
}

/// The initiative's participants: confirmed and attended first, then the waiting list in
/// order, then the cancelled.
pub async fn participants(scope: &Scope, initiative: Uuid) -> Result<Vec<Participation>> {
    let mut rows = scope
        .find::<participation::Entity>()
        .filter(participation::Column::InitiativeId.eq(initiative))
        .order_by_asc(participation::Column::RegisteredAt)
        .order_by_asc(participation::Column::Id)
        .all(scope.conn())
        .await?;
    let rank = |p: &Participation| match p.status.as_str() {
        "confirmed" | "attended" => 0,
        "waiting" => 1,
        _ => 2,
    };
    rows.sort_by_key(|p| (rank(p), p.queue_position.unwrap_or(0)));
    Ok(rows)
}

/// A citizen's participations in every body, newest first.
pub async fn of_person(scope: &PersonScope) -> Result<Vec<Participation>> {
    Ok(scope
        .find::<participation::Entity>()
        .order_by_desc(participation::Column::RegisteredAt)
        .all(scope.conn())
        .await?)
}
