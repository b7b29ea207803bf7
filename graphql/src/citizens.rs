//! Operators and integrators: registering, finding and merging citizens, and the citizen
//! view across bodies. A translation of [`civitas_crm::app::citizens`].

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use civitas_crm::access_purposes::Reason;
use civitas_crm::app::Page;
use civitas_crm::app::citizens as uc;
use civitas_crm::citizen_view::Parts;
use civitas_crm::lookup::Lookup;
use civitas_crm::profiles::{ProfileInput, SearchQuery};

use crate::caller::{caller, state};
use crate::citizen_types::{AccessEntry, CitizenView, Profile, ProfilePage};
use crate::connections::{Conn, connection, page};
use crate::error::{ApiError, ApiResult, Code};
use crate::ids::{parse, parse_id};

#[derive(InputObject)]
pub struct RegisterCitizenInput {
    /// Omit for a caller known only by phone or email; merge later with `mergePersons`.
    pub fiscal_code: Option<String>,
    pub given_name: String,
    pub family_name: String,
    #[graphql(default)]
    pub emails: Vec<String>,
    /// In any format; stored as E.164 (national numbers are taken as Italian).
    #[graphql(default)]
    pub phones: Vec<String>,
    pub preferred_channel: Option<String>,
    /// Such as `it` or `en-GB`.
    pub language: Option<String>,
    pub notes: Option<String>,
}

/// Fields left out stay as they are; lists given replace the previous ones.
#[derive(InputObject)]
pub struct UpdateProfileInput {
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub emails: Option<Vec<String>>,
    pub phones: Option<Vec<String>>,
    pub preferred_channel: Option<String>,
    pub language: Option<String>,
    pub notes: Option<String>,
}

#[derive(Default)]
pub struct CitizenQuery;

fn search_query(
    fiscal_code: Option<String>,
    name: Option<String>,
    phone: Option<String>,
    email: Option<String>,
) -> SearchQuery {
    SearchQuery {
        fiscal_code,
        name,
        phone,
        email,
    }
}

#[Object]
impl CitizenQuery {
    /// Finds citizens registered in the caller's body, as a Relay connection. Every filter
    /// given must match: the codice fiscale, every word of a name (accents and case
    /// ignored), a phone in any format, an email.
    #[allow(clippy::too_many_arguments)]
    async fn citizens(
        &self,
        ctx: &Context<'_>,
        fiscal_code: Option<String>,
        name: Option<String>,
        phone: Option<String>,
        email: Option<String>,
        #[graphql(default = 20)] first: i32,
        after: Option<String>,
    ) -> ApiResult<Conn<Profile>> {
        let page = page(first, after)?;
        let query = search_query(fiscal_code, name, phone, email);
        let found = uc::search(state(ctx), caller(ctx), query, page).await?;
        Ok(connection(
            found.items,
            page.after.is_some(),
            found.next.is_some(),
            |p| p.id.to_string(),
            Profile::from,
        ))
    }

    /// Finds citizens registered in the caller's body. Every filter given must match: the
    /// codice fiscale, every word of a name (accents and case ignored), a phone in any
    /// format, an email.
    #[graphql(
        deprecation = "Use `citizens`, a Relay connection; this field goes in the next release."
    )]
    #[allow(clippy::too_many_arguments)]
    async fn search_citizens(
        &self,
        ctx: &Context<'_>,
        fiscal_code: Option<String>,
        name: Option<String>,
        phone: Option<String>,
        email: Option<String>,
        #[graphql(default = 20)] first: i32,
        after: Option<String>,
    ) -> ApiResult<ProfilePage> {
        let page = page(first, after)?;
        let query = search_query(fiscal_code, name, phone, email);
        let found = uc::search(state(ctx), caller(ctx), query, page).await?;
        Ok(ProfilePage {
            items: found.items.into_iter().map(Into::into).collect(),
            next_cursor: found.next.map(|n| n.to_string()),
        })
    }

    /// What the caller's body holds about a citizen, plus what other bodies hold that the
    /// citizen's consent lets it read, each labelled with its body and the consent. The
    /// reader declares why: `purpose`, one of the body's `accessPurposes`, or `caseId`, a
    /// case of the citizen's at the body that they are handling. Every read (the body's own
    /// records included) is written to the citizen's access log with it.
    async fn citizen_view(
        &self,
        ctx: &Context<'_>,
        fiscal_code: Option<String>,
        person_id: Option<ID>,
        purpose: Option<String>,
        case_id: Option<ID>,
    ) -> ApiResult<CitizenView> {
        let reason = match (purpose, case_id) {
            (Some(code), None) => Reason::Purpose(code),
            (None, Some(case)) => Reason::Case(parse("caseId", &case)?),
            _ => {
                return Err(ApiError::new(
                    Code::Validation,
                    "declare why you open this citizen's records: give exactly one of \
                     purpose (one of accessPurposes) and caseId",
                ));
            }
        };
        let lookup = match (fiscal_code, person_id) {
            (Some(fc), None) => Lookup::FiscalCode(fc),
            (None, Some(id)) => Lookup::Person(parse_id("personId", &id)?),
            _ => {
                return Err(ApiError::new(
                    Code::Validation,
                    "give exactly one of fiscalCode and personId",
                ));
            }
        };
        let asked = ctx.look_ahead();
        let parts = Parts {
            cases: asked.field("cases").exists(),
            interactions: asked.field("interactions").exists(),
            privacy_consents: asked.field("privacyConsents").exists(),
            sharing_consents: asked.field("sharingConsents").exists(),
        };
        Ok(uc::view(state(ctx), caller(ctx), lookup, parts, &reason)
            .await?
            .into())
    }

    /// The reads of citizens' records that the caller's body made (of its own records and,
    /// under consent, of other bodies'), newest first, as a Relay connection.
    async fn access_entries(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: i32,
        after: Option<String>,
    ) -> ApiResult<Conn<AccessEntry>> {
        let page = page(first, after)?;
        let found = uc::access_log(state(ctx), caller(ctx), page).await?;
        Ok(AccessEntry::connection(found, page.after.is_some()))
    }

    /// The reads of citizens' records that the caller's body made, newest first.
    #[graphql(
        deprecation = "Use `accessEntries`, a Relay connection; this field goes in the next release."
    )]
    async fn access_log(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 50)] limit: i32,
    ) -> ApiResult<Vec<AccessEntry>> {
        if !(1..=500).contains(&limit) {
            return Err(ApiError::new(
                Code::Validation,
                "limit must be between 1 and 500",
            ));
        }
        // The old field's larger pages, read as one page of the new use case.
        let page = Page {
            first: limit as u64,
            after: None,
        };
        let (rows, _) = uc::access_log(state(ctx), caller(ctx), page).await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }
}

/// What a legacy system pushes about one of its citizens.
#[derive(InputObject)]
pub struct SourceCitizenInput {
    pub fiscal_code: Option<String>,
    pub given_name: String,
    pub family_name: String,
    pub emails: Option<Vec<String>>,
    pub phones: Option<Vec<String>>,
    pub preferred_channel: Option<String>,
    pub language: Option<String>,
}

#[derive(SimpleObject)]
pub struct UpsertCitizenPayload {
    pub citizen: Profile,
    /// False when the push repeated what Civitas already had.
    pub changed: bool,
}

#[derive(Default)]
pub struct CitizenMutation;

#[Object]
impl CitizenMutation {
    /// Registers a citizen in the caller's body: links (or creates) the person and creates
    /// the body's profile, in one transaction.
    async fn register_citizen(
        &self,
        ctx: &Context<'_>,
        input: RegisterCitizenInput,
    ) -> ApiResult<Profile> {
        let fields = ProfileInput {
            given_name: Some(input.given_name),
            family_name: Some(input.family_name),
            emails: Some(input.emails),
            phones: Some(input.phones),
            preferred_channel: input.preferred_channel,
            language: input.language,
            notes: input.notes,
        };
        let fiscal_code = input.fiscal_code.as_deref();
        Ok(uc::register(state(ctx), caller(ctx), fiscal_code, fields)
            .await?
            .into())
    }

    async fn update_profile(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateProfileInput,
    ) -> ApiResult<Profile> {
        let id = parse("id", &id)?;
        let fields = ProfileInput {
            given_name: input.given_name,
            family_name: input.family_name,
            emails: input.emails,
            phones: input.phones,
            preferred_channel: input.preferred_channel,
            language: input.language,
            notes: input.notes,
        };
        Ok(uc::update(state(ctx), caller(ctx), id, fields)
            .await?
            .into())
    }

    /// Creates or updates the citizen a legacy system knows as `externalRef` (the body's
    /// record of the person the fiscal code names, if it has one). Idempotent: the same
    /// push twice changes nothing the second time (`changed: false`).
    async fn upsert_citizen_from_source(
        &self,
        ctx: &Context<'_>,
        source: String,
        external_ref: String,
        input: SourceCitizenInput,
    ) -> ApiResult<UpsertCitizenPayload> {
        let fields = ProfileInput {
            given_name: Some(input.given_name),
            family_name: Some(input.family_name),
            emails: input.emails,
            phones: input.phones,
            preferred_channel: input.preferred_channel,
            language: input.language,
            notes: None,
        };
        let (p, changed) = uc::upsert_from_source(
            state(ctx),
            caller(ctx),
            &source,
            &external_ref,
            input.fiscal_code.as_deref(),
            fields,
        )
        .await?;
        Ok(UpsertCitizenPayload {
            citizen: p.into(),
            changed,
        })
    }

    /// Merges an unidentified person record into the identified person (supervisors).
    /// Never across two different codici fiscali. Returns the surviving person's id.
    async fn merge_persons(
        &self,
        ctx: &Context<'_>,
        source_person_id: ID,
        target_person_id: ID,
    ) -> ApiResult<ID> {
        let source = parse("sourcePersonId", &source_person_id)?;
        let target = parse("targetPersonId", &target_person_id)?;
        let kept = uc::merge(state(ctx), caller(ctx), source, target).await?;
        Ok(ID(kept.to_string()))
    }
}
