//! Consents, from both sides: operators collecting them on a citizen's behalf, and citizens
//! giving, reading and withdrawing their own; plus the citizen's access log and data export.
//! A translation of [`civitas_crm::app::consents`] and [`civitas_crm::app::me`].

use async_graphql::connection::{Connection, Edge, EmptyFields};
use async_graphql::{ComplexObject, Context, ID, InputObject, Json, Object};
use chrono::{DateTime, Utc};
use civitas_crm::app::consents::{self as uc, GrantSharing, Outcome, RecordPrivacy};
use civitas_crm::app::me;
use civitas_crm::app::{MAX_PAGE, Page};
use civitas_crm::consent_requests;
use civitas_crm::lookup::Lookup;

use crate::caller::{caller, citizen, state};
use crate::citizen_types::{AccessEntry, ConsentScope, MyData, PrivacyConsent, SharingConsent};
use crate::connections::Conn;
use crate::error::{ApiError, ApiResult, Code};
use crate::ids::{parse, parse_id};
use crate::types::Me;

/// Who an operator names: exactly one of a fiscal code and a person id; `None` when
/// neither is given (a citizen acting for themselves).
fn lookup(fiscal_code: Option<String>, person_id: Option<ID>) -> ApiResult<Option<Lookup>> {
    match (fiscal_code, person_id) {
        (Some(fc), None) => Ok(Some(Lookup::FiscalCode(fc))),
        (None, Some(id)) => Ok(Some(Lookup::Person(parse_id("personId", &id)?))),
        (None, None) => Ok(None),
        _ => Err(ApiError::new(
            Code::Validation,
            "give exactly one of fiscalCode and personId",
        )),
    }
}

#[derive(InputObject)]
pub struct GrantSharingConsentInput {
    /// The citizen, when an operator collects the consent on their behalf (one of these two).
    pub fiscal_code: Option<String>,
    pub person_id: Option<ID>,
    /// The body whose records may be read, by slug; omit for every body.
    pub source: Option<String>,
    /// The body that may read them, by slug.
    pub grantee: String,
    pub scopes: Vec<ConsentScope>,
    pub purpose: String,
    pub expires_at: Option<DateTime<Utc>>,
    /// Where the citizen gave it: counter, phone, web, app...
    #[graphql(default = "web")]
    pub channel: String,
}

#[derive(InputObject)]
pub struct RecordPrivacyConsentInput {
    /// The citizen, when an operator records the consent (one of these two).
    pub fiscal_code: Option<String>,
    pub person_id: Option<ID>,
    /// The body the consent is given to, by slug: for citizens (an operator's is their own).
    pub tenant: Option<String>,
    /// Such as `caller_recognition`, `newsletter`.
    pub purpose: String,
    /// The version of the notice the citizen was shown.
    pub text_version: String,
    #[graphql(default = "web")]
    pub channel: String,
}

#[derive(Default)]
pub struct ConsentQuery;

#[Object]
impl ConsentQuery {
    /// Consents operators collected for the signed-in citizen that wait for them (all of
    /// them, decided ones too, with `all`), newest first.
    async fn my_consent_requests(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = false)] all: bool,
        #[graphql(default = 20)] first: i32,
        after: Option<String>,
    ) -> ApiResult<Requests> {
        let page = page_args(first, after)?;
        let (rows, more) = uc::requests(state(ctx), caller(ctx), true, all, page).await?;
        Ok(requests_page(rows, page.after.is_some(), more))
    }

    /// Consent requests the caller's body is party to (collected there, or naming it as
    /// source or grantee): who collected what, and whether the citizen has answered.
    async fn consent_requests(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = false)] all: bool,
        #[graphql(default = 20)] first: i32,
        after: Option<String>,
    ) -> ApiResult<Requests> {
        let page = page_args(first, after)?;
        let (rows, more) = uc::requests(state(ctx), caller(ctx), false, all, page).await?;
        Ok(requests_page(rows, page.after.is_some(), more))
    }

    /// Reads of the signed-in citizen's records by any body's staff, newest first, as a Relay
    /// connection; only those by the body `body` (a slug) and in `[from, to)` when given.
    async fn my_access_entries(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: i32,
        after: Option<String>,
        body: Option<String>,
        from: Option<chrono::DateTime<chrono::Utc>>,
        to: Option<chrono::DateTime<chrono::Utc>>,
    ) -> ApiResult<Conn<AccessEntry>> {
        let page = page_args(first, after)?;
        let found =
            me::access_log_filtered(state(ctx), caller(ctx), body.as_deref(), from, to, page)
                .await?;
        Ok(AccessEntry::connection(found, page.after.is_some()))
    }

    /// Every read of the signed-in citizen's records by a body's staff (their own body's and
    /// other bodies'), newest first, with the purpose declared and what allowed it.
    #[graphql(
        deprecation = "Use `myAccessEntries`, a Relay connection; this field goes in the next release."
    )]
    async fn my_access_log(&self, ctx: &Context<'_>) -> ApiResult<Vec<AccessEntry>> {
        let mut all = Vec::new();
        let (mut after, mut more) = (None, true);
        while more {
            let page = Page {
                first: MAX_PAGE,
                after,
            };
            let (rows, next) = me::access_log(state(ctx), caller(ctx), page).await?;
            after = rows.last().map(|e| e.id);
            more = next;
            all.extend(rows.into_iter().map(AccessEntry::from));
        }
        Ok(all)
    }

    /// Everything every body holds about the signed-in citizen, as JSON (GDPR art. 15).
    async fn export_my_data(&self, ctx: &Context<'_>) -> ApiResult<Json<serde_json::Value>> {
        Ok(Json(me::export(state(ctx), caller(ctx)).await?))
    }
}

#[ComplexObject]
impl MyData {
    async fn profiles(&self, ctx: &Context<'_>) -> ApiResult<Vec<crate::citizen_types::Profile>> {
        let v = me::profiles(state(ctx), caller(ctx)).await?;
        Ok(v.into_iter().map(Into::into).collect())
    }

    /// Their cases in every body, newest first.
    async fn cases(&self, ctx: &Context<'_>) -> ApiResult<Vec<crate::cases::Case>> {
        let v = me::cases(state(ctx), caller(ctx)).await?;
        Ok(v.into_iter().map(Into::into).collect())
    }

    async fn interactions(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<Vec<crate::interactions::Interaction>> {
        let v = me::interactions(state(ctx), caller(ctx)).await?;
        Ok(v.into_iter().map(Into::into).collect())
    }

    async fn privacy_consents(&self, ctx: &Context<'_>) -> ApiResult<Vec<PrivacyConsent>> {
        let v = me::privacy_consents(state(ctx), caller(ctx)).await?;
        Ok(v.into_iter().map(Into::into).collect())
    }

    async fn sharing_consents(&self, ctx: &Context<'_>) -> ApiResult<Vec<SharingConsent>> {
        let v = me::sharing_consents(state(ctx), caller(ctx)).await?;
        Ok(v.into_iter().map(Into::into).collect())
    }
}

#[ComplexObject]
impl Me {
    /// For a signed-in citizen: every profile and consent about them in every body.
    async fn citizen(&self, ctx: &Context<'_>) -> ApiResult<Option<MyData>> {
        match citizen(ctx) {
            Ok(me) => Ok(Some(MyData {
                person_id: ID(me.person_id.to_string()),
            })),
            Err(_) => Ok(None),
        }
    }
}

fn outcome(o: Outcome) -> SharingConsent {
    match o {
        Outcome::Consent(c) => c.into(),
        Outcome::Request(r) => SharingConsent::requested(&r),
    }
}

type Requests = Connection<String, SharingConsent, EmptyFields, EmptyFields>;

/// A page of consent requests as a Relay connection (cursor: the request's id).
fn requests_page(rows: Vec<consent_requests::ConsentRequest>, after: bool, more: bool) -> Requests {
    let mut conn = Connection::new(after, more);
    conn.edges.extend(
        rows.iter()
            .map(|r| Edge::new(r.id.to_string(), SharingConsent::requested(r))),
    );
    conn
}

fn page_args(first: i32, after: Option<String>) -> ApiResult<Page<uuid::Uuid>> {
    crate::connections::page(first, after)
}

#[derive(Default)]
pub struct ConsentMutation;

#[Object]
impl ConsentMutation {
    /// Records a sharing consent: given by the signed-in citizen, or collected by an
    /// operator on the citizen's behalf (recorded as such). Returns the receipt.
    async fn grant_sharing_consent(
        &self,
        ctx: &Context<'_>,
        input: GrantSharingConsentInput,
    ) -> ApiResult<SharingConsent> {
        let grant = GrantSharing {
            person: lookup(input.fiscal_code, input.person_id)?,
            source: input.source,
            grantee: input.grantee,
            scopes: input.scopes.into_iter().map(Into::into).collect(),
            purpose: input.purpose,
            expires_at: input.expires_at,
            channel: input.channel,
        };
        Ok(outcome(
            uc::grant_sharing(state(ctx), caller(ctx), grant).await?,
        ))
    }

    /// The signed-in citizen confirms a consent an operator collected for them: it takes
    /// effect now, recorded as collected by that operator.
    async fn confirm_sharing_consent(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> ApiResult<SharingConsent> {
        let id = parse("id", &id)?;
        Ok(outcome(
            uc::decide(state(ctx), caller(ctx), id, true).await?,
        ))
    }

    /// The signed-in citizen declines a consent an operator collected for them.
    async fn decline_sharing_consent(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> ApiResult<SharingConsent> {
        let id = parse("id", &id)?;
        Ok(outcome(
            uc::decide(state(ctx), caller(ctx), id, false).await?,
        ))
    }

    /// Revokes a sharing consent, effective on the very next request: the citizen's own,
    /// or, for an operator, one that involves their body.
    async fn revoke_sharing_consent(&self, ctx: &Context<'_>, id: ID) -> ApiResult<SharingConsent> {
        let c = uc::revoke_sharing(state(ctx), caller(ctx), parse("id", &id)?).await?;
        Ok(c.into())
    }

    /// Records a privacy consent for a purpose: given by the signed-in citizen to the body
    /// named in `tenant`, or collected by an operator for their own body.
    async fn record_privacy_consent(
        &self,
        ctx: &Context<'_>,
        input: RecordPrivacyConsentInput,
    ) -> ApiResult<PrivacyConsent> {
        let record = RecordPrivacy {
            person: lookup(input.fiscal_code, input.person_id)?,
            tenant: input.tenant,
            purpose: input.purpose,
            text_version: input.text_version,
            channel: input.channel,
        };
        Ok(uc::record_privacy(state(ctx), caller(ctx), record)
            .await?
            .into())
    }

    /// Withdraws a privacy consent: the citizen's own, or one of the operator's body.
    async fn withdraw_privacy_consent(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> ApiResult<PrivacyConsent> {
        let c = uc::withdraw_privacy(state(ctx), caller(ctx), parse("id", &id)?).await?;
        Ok(c.into())
    }
}
