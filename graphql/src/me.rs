//! A citizen's own records: a translation of [`civitas_crm::app::me`] (the reads are in
//! `consents.rs`, on `me { citizen }`).

use async_graphql::{ComplexObject, Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use civitas_crm::app::me::{self as uc, MyContacts};
use civitas_crm::notifications::{self, Language};
use civitas_tenants::TenantId;

use crate::caller::{caller, state};
use crate::citizen_types::Profile;
use crate::connections::{Conn, connection, page};
use crate::error::ApiResult;
use crate::ids::parse;
use crate::loaders::{TenantRef, tenant_ref};

/// How a body reaches the citizen. Lists given replace the body's; left out, they stay.
#[derive(InputObject)]
pub struct MyContactsInput {
    pub emails: Option<Vec<String>>,
    /// In any format; stored as E.164 (national numbers are taken as Italian).
    pub phones: Option<Vec<String>>,
    pub preferred_channel: Option<String>,
    /// Such as `it` or `en-GB`.
    pub language: Option<String>,
}

#[derive(Default)]
pub struct MeMutation;

#[Object]
impl MeMutation {
    /// The signed-in citizen corrects how one body reaches them (e-mails, phones, preferred
    /// channel, language); the other bodies' records stay as they are.
    async fn correct_my_contacts(
        &self,
        ctx: &Context<'_>,
        tenant: String,
        input: MyContactsInput,
    ) -> ApiResult<Profile> {
        let contacts = MyContacts {
            emails: input.emails,
            phones: input.phones,
            preferred_channel: input.preferred_channel,
            language: input.language,
        };
        let p = uc::correct_contacts(state(ctx), caller(ctx), &tenant, contacts).await?;
        Ok(p.into())
    }

    /// Marks the signed-in citizen's notifications read; returns how many were unread.
    async fn mark_notifications_read(&self, ctx: &Context<'_>, ids: Vec<ID>) -> ApiResult<i32> {
        let ids = ids
            .iter()
            .map(|i| parse("ids", i))
            .collect::<ApiResult<Vec<uuid::Uuid>>>()?;
        Ok(uc::mark_notifications_read(state(ctx), caller(ctx), &ids).await? as i32)
    }

    /// Archives the signed-in citizen's notifications (out of the inbox, kept and listed
    /// with `myNotifications(archived: true)`), or with `archived: false` brings them back;
    /// returns how many changed. Another person's are left alone.
    async fn archive_notifications(
        &self,
        ctx: &Context<'_>,
        ids: Vec<ID>,
        #[graphql(default = true)] archived: bool,
    ) -> ApiResult<i32> {
        let ids = ids
            .iter()
            .map(|i| parse("ids", i))
            .collect::<ApiResult<Vec<uuid::Uuid>>>()?;
        Ok(uc::archive_notifications(state(ctx), caller(ctx), &ids, archived).await? as i32)
    }
}

/// Something a body told the citizen.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Notification {
    pub id: ID,
    /// `case.created`, `case.status_changed`, `case.reopened`, `case.assigned`, `case.synced`,
    /// `case.message`, `case.escalated`, `initiative.seat`, `survey.invitation`.
    pub kind: String,
    pub case_id: Option<ID>,
    pub case_number: Option<String>,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
    pub archived_at: Option<DateTime<Utc>>,
    /// In the language the query asked for.
    pub title: String,
    /// What an operator wrote to the citizen (kind `case.message`).
    pub message: Option<String>,
    /// The survey a `survey.invitation` asks to answer: `answerSurvey(invitationId:)`.
    pub invitation_id: Option<ID>,
    #[graphql(skip)]
    pub tenant_id: TenantId,
}

#[ComplexObject]
impl Notification {
    /// The body that sent it.
    async fn tenant(&self, ctx: &Context<'_>) -> ApiResult<TenantRef> {
        tenant_ref(ctx, self.tenant_id).await
    }
}

impl Notification {
    pub(crate) fn of(n: notifications::Notification, lang: Language) -> Self {
        Notification {
            id: ID(n.id.to_string()),
            title: n.title(lang),
            kind: n.kind,
            case_id: n.case_id.map(|c| ID(c.to_string())),
            case_number: n.case_number,
            created_at: n.created_at,
            read_at: n.read_at,
            archived_at: n.archived_at,
            message: n.message,
            invitation_id: n.invitation_id.map(|i| ID(i.to_string())),
            tenant_id: n.tenant_id,
        }
    }
}

#[derive(Default)]
pub struct MeQuery;

#[Object]
impl MeQuery {
    /// What every body told the signed-in citizen, newest first, as a Relay connection;
    /// titles in `language` (`it` by default, or `en`). The inbox, or with `archived` the
    /// notifications the citizen archived.
    async fn my_notifications(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = false)] unread_only: bool,
        #[graphql(default = false)] archived: bool,
        language: Option<String>,
        #[graphql(default = 20)] first: i32,
        after: Option<String>,
    ) -> ApiResult<Conn<Notification>> {
        let page = page(first, after)?;
        let lang = Language::from_tag(language.as_deref());
        let shown = civitas_crm::notifications::Shown {
            unread: unread_only,
            archived,
        };
        let (rows, more) = uc::notifications(state(ctx), caller(ctx), shown, page).await?;
        Ok(connection(
            rows,
            page.after.is_some(),
            more,
            |n| n.id.to_string(),
            |n| Notification::of(n, lang),
        ))
    }
}
