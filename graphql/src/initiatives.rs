//! Initiatives and participation: a translation of [`civitas_crm::app::initiatives`].

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use civitas_crm::app::initiatives as uc;
use civitas_crm::initiatives::{self as domain, NewInitiative};

use crate::caller::{caller, state};
use crate::cases::channel;
use crate::connections::Conn;
use crate::erasure::paged;
use crate::error::ApiResult;
use crate::ids::parse_id;
use crate::places::{Location, LocationInput};

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum InitiativeKind {
    Event,
    Meeting,
    Course,
    Consultation,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum InitiativeStatus {
    Draft,
    Published,
    Closed,
    Cancelled,
}

/// Who may see and join: the citizens the body knows (`OWN`), or everyone.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum InitiativeVisibility {
    Own,
    Everyone,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum ParticipationStatus {
    Confirmed,
    Waiting,
    Cancelled,
    Attended,
}

fn kind(k: InitiativeKind) -> domain::Kind {
    match k {
        InitiativeKind::Event => domain::Kind::Event,
        InitiativeKind::Meeting => domain::Kind::Meeting,
        InitiativeKind::Course => domain::Kind::Course,
        InitiativeKind::Consultation => domain::Kind::Consultation,
    }
}

fn status(s: InitiativeStatus) -> domain::Status {
    match s {
        InitiativeStatus::Draft => domain::Status::Draft,
        InitiativeStatus::Published => domain::Status::Published,
        InitiativeStatus::Closed => domain::Status::Closed,
        InitiativeStatus::Cancelled => domain::Status::Cancelled,
    }
}

fn status_of(s: &str) -> InitiativeStatus {
    match s {
        "published" => InitiativeStatus::Published,
        "closed" => InitiativeStatus::Closed,
        "cancelled" => InitiativeStatus::Cancelled,
        _ => InitiativeStatus::Draft,
    }
}

fn standing(s: &str) -> ParticipationStatus {
    match s {
        "confirmed" => ParticipationStatus::Confirmed,
        "waiting" => ParticipationStatus::Waiting,
        "attended" => ParticipationStatus::Attended,
        _ => ParticipationStatus::Cancelled,
    }
}

/// An event, meeting, course or consultation of a body.
#[derive(SimpleObject, Clone)]
pub struct Initiative {
    pub id: ID,
    pub kind: String,
    pub title: String,
    pub description: String,
    pub area: String,
    pub location: Option<Location>,
    pub online_url: Option<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// None: no limit.
    pub capacity: Option<i32>,
    pub waiting_list: bool,
    pub registration_opens_at: Option<DateTime<Utc>>,
    pub registration_closes_at: Option<DateTime<Utc>>,
    pub status: InitiativeStatus,
    pub visibility: InitiativeVisibility,
    /// Seats taken.
    pub confirmed: i32,
    /// Seats left (none when there is no limit).
    pub seats_left: Option<i32>,
}

impl From<domain::Initiative> for Initiative {
    fn from(i: domain::Initiative) -> Self {
        let location = match (i.latitude, i.longitude) {
            (Some(latitude), Some(longitude)) => Some(Location {
                latitude,
                longitude,
                address: i.address.clone(),
                description: None,
            }),
            _ => None,
        };
        Initiative {
            id: ID(i.id.to_string()),
            kind: i.kind,
            title: i.title,
            description: i.description,
            area: i.area,
            location,
            online_url: i.online_url,
            starts_at: i.starts_at,
            ends_at: i.ends_at,
            seats_left: i.capacity.map(|c| (c - i.confirmed).max(0)),
            capacity: i.capacity,
            waiting_list: i.waiting_list,
            registration_opens_at: i.registration_opens_at,
            registration_closes_at: i.registration_closes_at,
            status: status_of(&i.status),
            visibility: match i.visibility.as_str() {
                "everyone" => InitiativeVisibility::Everyone,
                _ => InitiativeVisibility::Own,
            },
            confirmed: i.confirmed,
        }
    }
}

/// A citizen's place at an initiative.
#[derive(SimpleObject, Clone)]
pub struct Participation {
    pub id: ID,
    pub initiative_id: ID,
    pub person_id: ID,
    pub status: ParticipationStatus,
    /// The place in the waiting list, while waiting.
    pub queue_position: Option<i64>,
    /// Who registered them (`issuer|subject`) and through which channel.
    pub registered_by: String,
    pub channel: String,
    pub registered_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub checked_in_at: Option<DateTime<Utc>>,
}

impl From<domain::Participation> for Participation {
    fn from(p: domain::Participation) -> Self {
        Participation {
            id: ID(p.id.to_string()),
            initiative_id: ID(p.initiative_id.to_string()),
            person_id: ID(p.person_id.to_string()),
            status: standing(&p.status),
            queue_position: p.queue_position,
            registered_by: p.registered_by,
            channel: p.channel,
            registered_at: p.registered_at,
            confirmed_at: p.confirmed_at,
            cancelled_at: p.cancelled_at,
            checked_in_at: p.checked_in_at,
        }
    }
}

/// A citizen's participation with its initiative (their own view, across bodies).
#[derive(SimpleObject)]
pub struct MyParticipation {
    pub participation: Participation,
    pub initiative: Initiative,
}

#[derive(InputObject)]
pub struct InitiativeInput {
    pub kind: InitiativeKind,
    pub title: String,
    #[graphql(default)]
    pub description: String,
    /// The thematic area, such as Cultura or Ambiente.
    pub area: String,
    pub location: Option<LocationInput>,
    pub online_url: Option<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// At least 1; none for no limit.
    pub capacity: Option<i32>,
    #[graphql(default = true)]
    pub waiting_list: bool,
    pub registration_opens_at: Option<DateTime<Utc>>,
    /// By default, registrations close when the initiative starts.
    pub registration_closes_at: Option<DateTime<Utc>>,
    #[graphql(default_with = "InitiativeVisibility::Own")]
    pub visibility: InitiativeVisibility,
}

#[derive(Default)]
pub struct InitiativeQuery;

#[Object]
impl InitiativeQuery {
    /// The body's initiatives, soonest first (permission `initiative read`).
    async fn initiatives(
        &self,
        ctx: &Context<'_>,
        #[graphql(default)] statuses: Vec<InitiativeStatus>,
        #[graphql(default = 20)] first: i32,
        after: Option<String>,
    ) -> ApiResult<Conn<Initiative>> {
        let statuses: Vec<_> = statuses.into_iter().map(status).collect();
        let found = uc::list(state(ctx), caller(ctx), &statuses).await?;
        paged(found, first, after, Initiative::from)
    }

    /// What the body `body` offers the signed-in citizen: published initiatives open to
    /// everyone, and those for its own citizens when it knows them.
    async fn open_initiatives(
        &self,
        ctx: &Context<'_>,
        body: String,
        #[graphql(default = 20)] first: i32,
        after: Option<String>,
    ) -> ApiResult<Conn<Initiative>> {
        let found = uc::open_to_me(state(ctx), caller(ctx), &body).await?;
        paged(found, first, after, Initiative::from)
    }

    /// An initiative's participants: confirmed and attended, then the waiting list in
    /// order, then the cancelled (permission `participation read`).
    async fn participants(
        &self,
        ctx: &Context<'_>,
        initiative_id: ID,
        #[graphql(default = 50)] first: i32,
        after: Option<String>,
    ) -> ApiResult<Conn<Participation>> {
        let id = parse_id("initiativeId", &initiative_id)?;
        let (_, found) = uc::participants(state(ctx), caller(ctx), id).await?;
        paged(found, first, after, Participation::from)
    }

    /// The signed-in citizen's participations in every body, newest first.
    async fn my_participations(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: i32,
        after: Option<String>,
    ) -> ApiResult<Conn<MyParticipation>> {
        let found = uc::mine(state(ctx), caller(ctx)).await?;
        paged(found, first, after, |(p, i)| MyParticipation {
            participation: p.into(),
            initiative: i.into(),
        })
    }
}

#[derive(Default)]
pub struct InitiativeMutation;

#[Object]
impl InitiativeMutation {
    /// Creates a draft initiative (permission `initiative manage`: supervisors).
    async fn create_initiative(
        &self,
        ctx: &Context<'_>,
        input: InitiativeInput,
    ) -> ApiResult<Initiative> {
        let new = NewInitiative {
            kind: kind(input.kind),
            title: input.title,
            description: input.description,
            area: input.area,
            place: input.location.map(LocationInput::place).transpose()?,
            online_url: input.online_url,
            starts_at: input.starts_at,
            ends_at: input.ends_at,
            capacity: input.capacity,
            waiting_list: input.waiting_list,
            registration_opens_at: input.registration_opens_at,
            registration_closes_at: input.registration_closes_at,
            visibility: match input.visibility {
                InitiativeVisibility::Own => domain::Visibility::Own,
                InitiativeVisibility::Everyone => domain::Visibility::Everyone,
            },
        };
        Ok(uc::create(state(ctx), caller(ctx), new).await?.into())
    }

    /// Publishes (opens registrations), closes (ends them) or cancels an initiative.
    async fn set_initiative_status(
        &self,
        ctx: &Context<'_>,
        id: ID,
        status: InitiativeStatus,
    ) -> ApiResult<Initiative> {
        let id = parse_id("id", &id)?;
        Ok(
            uc::set_status(state(ctx), caller(ctx), id, self::status(status))
                .await?
                .into(),
        )
    }

    /// An operator registers a citizen the body knows (permission `participation record`).
    async fn register_participant(
        &self,
        ctx: &Context<'_>,
        initiative_id: ID,
        person_id: ID,
        #[graphql(default = "counter")] channel: String,
    ) -> ApiResult<Participation> {
        let (i, p) = (
            parse_id("initiativeId", &initiative_id)?,
            parse_id("personId", &person_id)?,
        );
        let ch = self::channel(&channel)?;
        Ok(uc::register(state(ctx), caller(ctx), i, p, ch)
            .await?
            .into())
    }

    /// Cancels a participation; a seat freed goes to the first waiting, who is told.
    async fn cancel_participation(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Participation> {
        let id = parse_id("id", &id)?;
        Ok(uc::cancel(state(ctx), caller(ctx), id).await?.into())
    }

    /// Records that a confirmed participant came (permission `participation check_in`).
    async fn check_in_participant(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Participation> {
        let id = parse_id("id", &id)?;
        Ok(uc::check_in(state(ctx), caller(ctx), id).await?.into())
    }

    /// The signed-in citizen registers for an initiative of the body `body`. A body that
    /// does not know them registers them (an initiative open to everyone): their names are
    /// needed then, unless their identity provider gives them.
    async fn register_for_initiative(
        &self,
        ctx: &Context<'_>,
        body: String,
        initiative_id: ID,
        #[graphql(default = "web")] channel: String,
        given_name: Option<String>,
        family_name: Option<String>,
    ) -> ApiResult<Participation> {
        let i = parse_id("initiativeId", &initiative_id)?;
        let ch = self::channel(&channel)?;
        let names = (given_name, family_name);
        Ok(
            uc::register_me(state(ctx), caller(ctx), &body, i, ch, names)
                .await?
                .into(),
        )
    }

    /// The signed-in citizen cancels their participation, up to the start.
    async fn cancel_my_participation(
        &self,
        ctx: &Context<'_>,
        body: String,
        initiative_id: ID,
    ) -> ApiResult<Participation> {
        let i = parse_id("initiativeId", &initiative_id)?;
        Ok(uc::cancel_mine(state(ctx), caller(ctx), &body, i)
            .await?
            .into())
    }
}
