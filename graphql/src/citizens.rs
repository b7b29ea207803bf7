//! Operators and integrators: registering, finding and merging citizens, and the citizen
//! view across bodies.

use async_graphql::{Context, ID, InputObject, Object};
use civitas_crm::citizen_view::{self, Lookup, Parts};
use civitas_crm::merge;
use civitas_crm::profiles::{self, ProfileInput, SearchQuery};

use crate::caller::{authorize, state};
use crate::citizen_types::{AccessEntry, CitizenView, Profile, ProfilePage};
use crate::error::{ApiError, ApiResult, Code};

pub(crate) fn parse_id(field: &str, id: &ID) -> ApiResult<uuid::Uuid> {
    id.parse::<uuid::Uuid>()
        .map_err(|_| ApiError::new(Code::Validation, format!("{field} is not a valid id")))
}

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

#[Object]
impl CitizenQuery {
    /// Finds citizens registered in the caller's body. Every filter given must match: the
    /// codice fiscale, every word of a name (accents and case ignored), a phone in any
    /// format, an email.
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
        let tc = authorize(ctx, "citizen", "read").await?;
        if !(1..=100).contains(&first) {
            return Err(ApiError::new(
                Code::Validation,
                "first must be between 1 and 100",
            ));
        }
        if fiscal_code.is_none() && name.is_none() && phone.is_none() && email.is_none() {
            return Err(ApiError::new(
                Code::Validation,
                "give at least one of fiscalCode, name, phone, email",
            ));
        }
        let after = after.map(|a| parse_id("after", &ID(a))).transpose()?;
        let scope = state(ctx).db.scope(tc).await?;
        let page = profiles::search(
            &scope,
            SearchQuery {
                fiscal_code,
                name,
                phone,
                email,
            },
            first as u64,
            after,
        )
        .await?;
        scope.commit().await?;
        Ok(ProfilePage {
            items: page.items.into_iter().map(Into::into).collect(),
            next_cursor: page.next.map(|n| n.to_string()),
        })
    }

    /// What the caller's body holds about a citizen, plus what other bodies hold that the
    /// citizen's consent lets it read, each labelled with its body and the consent. Every
    /// read of another body's records is written to the citizen's access log.
    async fn citizen_view(
        &self,
        ctx: &Context<'_>,
        fiscal_code: Option<String>,
        person_id: Option<ID>,
    ) -> ApiResult<CitizenView> {
        let tc = authorize(ctx, "citizen_view", "read").await?;
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
        let s = state(ctx);
        let now = s.db.clock().now();
        let view = citizen_view::view(&s.db, tc, &s.consents, now, lookup, parts).await?;
        Ok(view.into())
    }

    /// The reads of other bodies' records that the caller's body made, newest first.
    async fn access_log(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 50)] limit: i32,
    ) -> ApiResult<Vec<AccessEntry>> {
        let tc = authorize(ctx, "access_log", "read").await?;
        if !(1..=500).contains(&limit) {
            return Err(ApiError::new(
                Code::Validation,
                "limit must be between 1 and 500",
            ));
        }
        let scope = state(ctx).db.scope(tc).await?;
        let entries = citizen_view::access_log_of_tenant(&scope, limit as u64).await?;
        scope.commit().await?;
        Ok(entries.into_iter().map(Into::into).collect())
    }
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
        let tc = authorize(ctx, "citizen", "register").await?;
        let scope = state(ctx).db.scope(tc).await?;
        let fields = ProfileInput {
            given_name: Some(input.given_name),
            family_name: Some(input.family_name),
            emails: Some(input.emails),
            phones: Some(input.phones),
            preferred_channel: input.preferred_channel,
            language: input.language,
            notes: input.notes,
        };
        let p = profiles::register(&scope, &tc.identity(), input.fiscal_code.as_deref(), fields)
            .await?;
        scope.commit().await?;
        Ok(p.into())
    }

    async fn update_profile(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateProfileInput,
    ) -> ApiResult<Profile> {
        let tc = authorize(ctx, "citizen", "update").await?;
        let id = parse_id("id", &id)?;
        let scope = state(ctx).db.scope(tc).await?;
        let fields = ProfileInput {
            given_name: input.given_name,
            family_name: input.family_name,
            emails: input.emails,
            phones: input.phones,
            preferred_channel: input.preferred_channel,
            language: input.language,
            notes: input.notes,
        };
        let p = profiles::update(&scope, &tc.identity(), id, fields).await?;
        scope.commit().await?;
        Ok(p.into())
    }

    /// Merges an unidentified person record into the identified person (supervisors).
    /// Never across two different codici fiscali. Returns the surviving person's id.
    async fn merge_persons(
        &self,
        ctx: &Context<'_>,
        source_person_id: ID,
        target_person_id: ID,
    ) -> ApiResult<ID> {
        let tc = authorize(ctx, "citizen", "merge").await?;
        let source = parse_id("sourcePersonId", &source_person_id)?;
        let target = parse_id("targetPersonId", &target_person_id)?;
        let s = state(ctx);
        let scope = s.db.scope(tc).await?;
        let kept = merge::merge(&scope, &tc.identity(), &s.consents, source, target).await?;
        scope.commit().await?;
        Ok(ID(kept.to_string()))
    }
}
