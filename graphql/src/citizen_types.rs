//! GraphQL views of citizens, their profiles, consents and access log.

use async_graphql::{ComplexObject, Context, Enum, ID, SimpleObject};
use chrono::{DateTime, Utc};
use civitas_crm::{citizen_view, privacy, profiles, sharing};
use civitas_tenants::TenantId;

use crate::error::ApiResult;
use crate::loaders::{TenantRef, tenant_ref};

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "civitas_crm::sharing::ConsentScope")]
pub enum ConsentScope {
    Profile,
    Cases,
    Interactions,
}

fn id(u: uuid::Uuid) -> ID {
    ID(u.to_string())
}

/// One body's record of a person.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Profile {
    pub id: ID,
    pub person_id: ID,
    pub fiscal_code: Option<String>,
    pub given_name: String,
    pub family_name: String,
    /// Normalised, lower case.
    pub emails: Vec<String>,
    /// E.164.
    pub phones: Vec<String>,
    pub preferred_channel: Option<String>,
    pub language: Option<String>,
    pub notes: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[graphql(skip)]
    pub tenant_id: TenantId,
}

#[ComplexObject]
impl Profile {
    /// The body that holds this record.
    async fn tenant(&self, ctx: &Context<'_>) -> ApiResult<TenantRef> {
        tenant_ref(ctx, self.tenant_id).await
    }
}

impl From<profiles::Profile> for Profile {
    fn from(p: profiles::Profile) -> Self {
        Profile {
            id: id(p.id),
            person_id: id(p.person_id),
            fiscal_code: p.fiscal_code,
            given_name: p.given_name,
            family_name: p.family_name,
            emails: p.emails,
            phones: p.phones,
            preferred_channel: p.preferred_channel,
            language: p.language,
            notes: p.notes,
            created_at: p.created_at,
            updated_at: p.updated_at,
            tenant_id: p.tenant_id,
        }
    }
}

/// A record in the citizen view, with the consent that allowed reading it.
#[derive(SimpleObject)]
pub struct SharedProfile {
    /// `null` for the reader's own body's records.
    pub consent_id: Option<ID>,
    pub shared: bool,
    pub profile: Profile,
}

/// A case in the citizen view, with the consent that allowed reading it.
#[derive(SimpleObject)]
pub struct SharedCase {
    pub consent_id: Option<ID>,
    pub shared: bool,
    pub case: crate::cases::Case,
}

/// A contact in the citizen view, with the consent that allowed reading it.
#[derive(SimpleObject)]
pub struct SharedInteraction {
    pub consent_id: Option<ID>,
    pub shared: bool,
    pub interaction: crate::interactions::Interaction,
}

#[derive(SimpleObject)]
pub struct CitizenView {
    pub person_id: ID,
    pub fiscal_code: Option<String>,
    pub profiles: Vec<SharedProfile>,
    pub cases: Vec<SharedCase>,
    pub interactions: Vec<SharedInteraction>,
    /// This body's privacy consents of the person, given and withdrawn.
    pub privacy_consents: Vec<PrivacyConsent>,
    /// Sharing consents of the person that involve this body.
    pub sharing_consents: Vec<SharingConsent>,
}

impl From<citizen_view::CitizenView> for CitizenView {
    fn from(v: citizen_view::CitizenView) -> Self {
        CitizenView {
            person_id: id(v.person_id),
            fiscal_code: v.fiscal_code,
            profiles: v
                .profiles
                .into_iter()
                .map(|l| SharedProfile {
                    consent_id: l.consent_id.map(id),
                    shared: l.consent_id.is_some(),
                    profile: l.record.into(),
                })
                .collect(),
            cases: v
                .cases
                .into_iter()
                .map(|l| SharedCase {
                    consent_id: l.consent_id.map(id),
                    shared: l.consent_id.is_some(),
                    case: l.record.into(),
                })
                .collect(),
            interactions: v
                .interactions
                .into_iter()
                .map(|l| SharedInteraction {
                    consent_id: l.consent_id.map(id),
                    shared: l.consent_id.is_some(),
                    interaction: l.record.into(),
                })
                .collect(),
            privacy_consents: v.privacy_consents.into_iter().map(Into::into).collect(),
            sharing_consents: v.sharing_consents.into_iter().map(Into::into).collect(),
        }
    }
}

/// A privacy consent (GDPR art. 7) given to one body for one purpose.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct PrivacyConsent {
    pub id: ID,
    pub person_id: ID,
    pub purpose: String,
    pub text_version: String,
    pub channel: String,
    pub collected_by: String,
    /// `citizen` or `operator`.
    pub collector_kind: String,
    pub given_at: DateTime<Utc>,
    pub withdrawn_at: Option<DateTime<Utc>>,
    pub withdrawn_by: Option<String>,
    pub active: bool,
    #[graphql(skip)]
    pub tenant_id: TenantId,
}

#[ComplexObject]
impl PrivacyConsent {
    async fn tenant(&self, ctx: &Context<'_>) -> ApiResult<TenantRef> {
        tenant_ref(ctx, self.tenant_id).await
    }
}

impl From<privacy::PrivacyConsent> for PrivacyConsent {
    fn from(c: privacy::PrivacyConsent) -> Self {
        PrivacyConsent {
            id: id(c.id),
            person_id: id(c.person_id),
            active: c.withdrawn_at.is_none(),
            purpose: c.purpose,
            text_version: c.text_version,
            channel: c.channel,
            collected_by: c.collected_by,
            collector_kind: c.collector_kind,
            given_at: c.given_at,
            withdrawn_at: c.withdrawn_at,
            withdrawn_by: c.withdrawn_by,
            tenant_id: c.tenant_id,
        }
    }
}

/// A sharing consent, as its receipt: who may read what about whom, why, until when, and
/// how it was collected.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct SharingConsent {
    pub id: ID,
    pub person_id: ID,
    pub scopes: Vec<ConsentScope>,
    pub purpose: String,
    pub expires_at: Option<DateTime<Utc>>,
    pub channel: String,
    pub collected_by: String,
    /// `citizen` or `operator` (on the citizen's behalf).
    pub collector_kind: String,
    pub granted_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_by: Option<String>,
    #[graphql(skip)]
    pub inner: sharing::SharingConsent,
    /// For a request waiting for the citizen: its state (`pending`, `declined`).
    #[graphql(skip)]
    pub request: Option<String>,
}

/// Where a consent stands.
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ConsentStatus {
    /// In force.
    Active,
    /// Collected by an operator; opens nothing until the citizen confirms it.
    PendingConfirmation,
    /// The citizen declined it.
    Declined,
    Revoked,
    Expired,
}

impl SharingConsent {
    /// A request an operator recorded, shown as the consent it would become.
    pub fn requested(r: &civitas_crm::consent_requests::ConsentRequest) -> Self {
        let mut c = SharingConsent::from(civitas_crm::consent_requests::as_consent(r));
        c.request = Some(r.status.clone());
        c
    }
}

#[ComplexObject]
impl SharingConsent {
    /// The body whose records may be read; `null` means every body.
    async fn source(&self, ctx: &Context<'_>) -> ApiResult<Option<TenantRef>> {
        match self.inner.source_tenant_id {
            Some(t) => Ok(Some(tenant_ref(ctx, t).await?)),
            None => Ok(None),
        }
    }

    /// The body that may read them.
    async fn grantee(&self, ctx: &Context<'_>) -> ApiResult<TenantRef> {
        tenant_ref(ctx, self.inner.grantee_tenant_id).await
    }

    /// The body whose operator collected the consent, if an operator did.
    async fn collected_in(&self, ctx: &Context<'_>) -> ApiResult<Option<TenantRef>> {
        match self.inner.collected_in_tenant_id {
            Some(t) => Ok(Some(tenant_ref(ctx, t).await?)),
            None => Ok(None),
        }
    }

    /// Whether it is in force now (confirmed, not revoked, not expired).
    async fn active(&self, ctx: &Context<'_>) -> bool {
        self.request.is_none()
            && self
                .inner
                .is_active(crate::caller::state(ctx).db.clock().now())
    }

    async fn status(&self, ctx: &Context<'_>) -> ConsentStatus {
        match self.request.as_deref() {
            Some("declined") => ConsentStatus::Declined,
            Some(_) => ConsentStatus::PendingConfirmation,
            None if self.inner.revoked_at.is_some() => ConsentStatus::Revoked,
            None if self
                .inner
                .is_active(crate::caller::state(ctx).db.clock().now()) =>
            {
                ConsentStatus::Active
            }
            None => ConsentStatus::Expired,
        }
    }
}

impl From<sharing::SharingConsent> for SharingConsent {
    fn from(c: sharing::SharingConsent) -> Self {
        SharingConsent {
            id: id(c.id),
            person_id: id(c.person_id),
            scopes: c.scopes.iter().copied().map(Into::into).collect(),
            purpose: c.purpose.clone(),
            expires_at: c.expires_at,
            channel: c.channel.clone(),
            collected_by: c.collected_by.clone(),
            collector_kind: c.collector_kind.clone(),
            granted_at: c.granted_at,
            revoked_at: c.revoked_at,
            revoked_by: c.revoked_by.clone(),
            inner: c,
            request: None,
        }
    }
}

/// What allowed a read.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "civitas_crm::access_log::Basis")]
pub enum AccessBasis {
    /// A consent of the citizen's (`consentId`).
    Consent,
    /// The law (`legalBasis`): the body's own records, read for one of its purposes.
    LegalBasis,
}

/// What kind of access an entry records.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "civitas_crm::access_log::Action")]
pub enum AccessAction {
    CitizenView,
    CallerRecognition,
    /// One case opened by its id.
    CaseRead,
}

/// One read of a person's records by a body's staff: of the body's own records, on a legal
/// basis, or of another body's, under the citizen's consent.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct AccessEntry {
    pub id: ID,
    pub occurred_at: DateTime<Utc>,
    /// Who read, as `issuer|subject` (entries written before 2026-12 name the subject only).
    pub reader: String,
    pub person_id: ID,
    pub scopes: Vec<String>,
    pub action: AccessAction,
    /// The purpose the reader declared, or the case they were handling.
    pub purpose: String,
    pub basis: AccessBasis,
    /// The consent that allowed the read (`basis` CONSENT).
    pub consent_id: Option<ID>,
    /// The article or law that allowed the read (`basis` LEGAL_BASIS).
    pub legal_basis: Option<String>,
    /// The case whose handling was the purpose.
    pub case_id: Option<ID>,
    #[graphql(skip)]
    pub reader_tenant_id: TenantId,
    #[graphql(skip)]
    pub source_tenant_id: TenantId,
}

#[ComplexObject]
impl AccessEntry {
    /// The body that read.
    async fn reader_tenant(&self, ctx: &Context<'_>) -> ApiResult<TenantRef> {
        tenant_ref(ctx, self.reader_tenant_id).await
    }

    /// The body whose records were read.
    async fn source_tenant(&self, ctx: &Context<'_>) -> ApiResult<TenantRef> {
        tenant_ref(ctx, self.source_tenant_id).await
    }
}

impl AccessEntry {
    /// A page of the access log as a Relay connection (cursor: the entry's id).
    pub fn connection(
        (rows, more): (Vec<civitas_crm::access_log::AccessEntry>, bool),
        had_cursor: bool,
    ) -> crate::connections::Conn<AccessEntry> {
        crate::connections::connection(rows, had_cursor, more, |e| e.id.to_string(), Self::from)
    }
}

impl From<civitas_crm::access_log::AccessEntry> for AccessEntry {
    fn from(e: civitas_crm::access_log::AccessEntry) -> Self {
        AccessEntry {
            id: id(e.id),
            occurred_at: e.occurred_at,
            reader: e.reader,
            person_id: id(e.person_id),
            scopes: e.scopes,
            action: e.action.into(),
            purpose: e.purpose,
            basis: e.basis.into(),
            consent_id: e.consent_id.map(id),
            legal_basis: e.legal_basis,
            case_id: e.case_id.map(id),
            reader_tenant_id: e.reader_tenant_id,
            source_tenant_id: e.source_tenant_id,
        }
    }
}

/// A page of search results.
#[derive(SimpleObject)]
pub struct ProfilePage {
    pub items: Vec<Profile>,
    /// Pass as `after` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// What every body holds about the signed-in citizen. Each part is read only when asked
/// for, so that a citizen's app refreshing its case list reads cases and nothing else.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct MyData {
    pub person_id: ID,
}
