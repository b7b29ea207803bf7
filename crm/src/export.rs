//! The citizen's own view and the GDPR data export: everything every body holds about them.

use civitas_tenants::{PersonScope, TenantId};
use sea_orm::{QueryFilter, QueryOrder};
use serde::Serialize;

use crate::Result;
use crate::access_log::{self, AccessEntry};
use crate::attachments::Attachment;
use crate::cases::Case;
use crate::entity::{attachment, case, interaction, notification, profile};
use crate::interactions::Interaction;
use crate::notifications::Notification;
use crate::privacy::{self, PrivacyConsent};
use crate::profiles::{self, Profile};
use crate::sharing::{self, SharingConsent, Visibility};

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PersonalData {
    pub person_id: uuid::Uuid,
    pub profiles: Vec<Profile>,
    pub privacy_consents: Vec<PrivacyConsent>,
    pub sharing_consents: Vec<SharingConsent>,
    pub access_log: Vec<AccessEntry>,
    pub cases: Vec<Case>,
    pub interactions: Vec<Interaction>,
    /// The files on their cases (what they are; the bytes are downloaded one by one).
    pub attachments: Vec<Attachment>,
    pub notifications: Vec<Notification>,
    /// Which body may use which channel, as they chose.
    pub channel_choices: Vec<ChannelChoice>,
    pub quiet_hours: Vec<QuietHoursAt>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ChannelChoice {
    pub tenant_id: TenantId,
    pub channel: String,
    pub allowed: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QuietHoursAt {
    pub tenant_id: TenantId,
    /// `HH:MM-HH:MM`, the body's time zone.
    pub hours: String,
}

/// Reads, in the person's scope, every record about them in every body.
pub async fn personal_data(scope: &PersonScope) -> Result<PersonalData> {
    Ok(PersonalData {
        person_id: scope.person_id(),
        profiles: profiles_of(scope).await?,
        privacy_consents: privacy::all_for_person(scope).await?,
        sharing_consents: sharing_consents_of(scope).await?,
        access_log: access_log::every_access_to_person(scope).await?,
        cases: cases_of(scope).await?,
        interactions: interactions_of(scope).await?,
        attachments: scope
            .find::<attachment::Entity>()
            .order_by_asc(attachment::Column::Id)
            .all(scope.conn())
            .await?
            .into_iter()
            .map(Attachment::from)
            .collect(),
        notifications: scope
            .find::<notification::Entity>()
            .order_by_asc(notification::Column::Id)
            .all(scope.conn())
            .await?
            .into_iter()
            .map(Notification::from)
            .collect(),
        channel_choices: crate::notify::choices::of_person(scope)
            .await?
            .into_iter()
            .map(|c| ChannelChoice {
                tenant_id: TenantId(c.tenant_id),
                channel: c.channel,
                allowed: c.allowed,
            })
            .collect(),
        quiet_hours: crate::notify::quiet::of_person(scope)
            .await?
            .into_iter()
            .map(|(t, q)| QuietHoursAt {
                tenant_id: TenantId(t),
                hours: q.to_string(),
            })
            .collect(),
    })
}

/// The person's profiles in every body, oldest first.
pub async fn profiles_of(scope: &PersonScope) -> Result<Vec<Profile>> {
    use sea_orm::ColumnTrait;
    let rows = scope
        .find::<profile::Entity>()
        .filter(profile::Column::MergedInto.is_null())
        .order_by_asc(profile::Column::CreatedAt)
        .all(scope.conn())
        .await?;
    profiles::views(scope.conn(), rows).await
}

pub async fn sharing_consents_of(scope: &PersonScope) -> Result<Vec<SharingConsent>> {
    sharing::list(
        scope.conn(),
        scope.persons(),
        Visibility::Person(scope.persons()),
    )
    .await
}

/// The person's cases in every body, newest first.
pub async fn cases_of(scope: &PersonScope) -> Result<Vec<Case>> {
    scope
        .find::<case::Entity>()
        .order_by_desc(case::Column::CreatedAt)
        .all(scope.conn())
        .await?
        .into_iter()
        .map(Case::try_from)
        .collect()
}

pub async fn interactions_of(scope: &PersonScope) -> Result<Vec<Interaction>> {
    Ok(scope
        .find::<interaction::Entity>()
        .order_by_desc(interaction::Column::OccurredAt)
        .all(scope.conn())
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
}
