//! Consents, from both sides: operators collecting them on a citizen's behalf, and citizens
//! giving, reading and withdrawing their own; plus the citizen's access log and data export.

use async_graphql::connection::{Connection, Edge, EmptyFields};
use async_graphql::{ComplexObject, Context, ID, InputObject, Json, Object};
use chrono::{DateTime, Utc};
use civitas_crm::citizen_view::{self, Lookup};
use civitas_crm::sharing::{self, Collector, NewSharingConsent, Visibility};
use civitas_crm::{consent_requests, export, privacy};
use civitas_tenants::registry;
use civitas_tenants::{TenantContext, TenantId, TenantSlug, audit};
use serde_json::json;

use crate::caller::{CitizenIdentity, authorize, citizen, principal, state};
use crate::citizen_types::{AccessEntry, ConsentScope, MyData, PrivacyConsent, SharingConsent};
use crate::citizens::parse_id;
use crate::error::{ApiError, ApiResult, Code};
use crate::types::Me;

fn lookup(fiscal_code: Option<String>, person_id: Option<ID>) -> ApiResult<Lookup> {
    match (fiscal_code, person_id) {
        (Some(fc), None) => Ok(Lookup::FiscalCode(fc)),
        (None, Some(id)) => Ok(Lookup::Person(parse_id("personId", &id)?)),
        _ => Err(ApiError::new(
            Code::Validation,
            "give exactly one of fiscalCode and personId",
        )),
    }
}

async fn tenant_by_slug(
    ctx: &Context<'_>,
    field: &str,
    slug: &str,
) -> ApiResult<civitas_tenants::Tenant> {
    let slug = TenantSlug::parse(slug)?;
    registry::find_by_slug(&state(ctx).db, &slug)
        .await?
        .ok_or_else(|| {
            ApiError::new(
                Code::Validation,
                format!("{field}: there is no body {slug}"),
            )
        })
}

fn is_citizen(ctx: &Context<'_>) -> bool {
    citizen(ctx).is_ok()
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
        let me = citizen(ctx)?;
        let (first, after) = page_args(first, after)?;
        let family = me.family();
        let scope = state(ctx).db.person_scope(me.person_id, &me.merged).await?;
        let (rows, more) =
            consent_requests::list(scope.conn(), Visibility::Person(&family), all, first, after)
                .await?;
        scope.commit().await?;
        Ok(requests_page(rows, after.is_some(), more))
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
        let tc = authorize(ctx, "consent", "read").await?;
        let (first, after) = page_args(first, after)?;
        let scope = state(ctx).db.scope(tc).await?;
        let (rows, more) = consent_requests::list(
            scope.conn(),
            Visibility::Tenant(tc.tenant.id),
            all,
            first,
            after,
        )
        .await?;
        scope.commit().await?;
        Ok(requests_page(rows, after.is_some(), more))
    }

    /// Every read of the signed-in citizen's data by another body, newest first.
    async fn my_access_log(&self, ctx: &Context<'_>) -> ApiResult<Vec<AccessEntry>> {
        let me = citizen(ctx)?;
        let scope = state(ctx).db.person_scope(me.person_id, &me.merged).await?;
        let entries = citizen_view::access_log_of_person(&scope).await?;
        scope.commit().await?;
        Ok(entries.into_iter().map(Into::into).collect())
    }

    /// Everything every body holds about the signed-in citizen, as JSON (GDPR art. 15).
    async fn export_my_data(&self, ctx: &Context<'_>) -> ApiResult<Json<serde_json::Value>> {
        let me = citizen(ctx)?;
        let s = state(ctx);
        let scope = s.db.person_scope(me.person_id, &me.merged).await?;
        let data = export::personal_data(&scope).await?;
        scope.commit().await?;
        // Name the bodies the export mentions, and only those.
        let mentioned: std::collections::BTreeSet<TenantId> = data
            .profiles
            .iter()
            .map(|p| p.tenant_id)
            .chain(data.privacy_consents.iter().map(|c| c.tenant_id))
            .chain(
                data.sharing_consents
                    .iter()
                    .flat_map(|c| {
                        [
                            Some(c.grantee_tenant_id),
                            c.source_tenant_id,
                            c.collected_in_tenant_id,
                        ]
                    })
                    .flatten(),
            )
            .chain(
                data.access_log
                    .iter()
                    .flat_map(|e| [e.reader_tenant_id, e.source_tenant_id]),
            )
            .collect();
        let tenants: std::collections::BTreeMap<String, String> = registry::list(&s.db)
            .await?
            .into_iter()
            .filter(|t| mentioned.contains(&t.id))
            .map(|t| (t.id.to_string(), t.slug.to_string()))
            .collect();
        let value = serde_json::to_value(&data).map_err(|e| ApiError::internal(&e))?;
        Ok(Json(
            json!({ "exportedAt": s.db.clock().now(), "bodies": tenants, "data": value }),
        ))
    }
}

/// Runs `read` in the citizen's own scope (every body, only their records).
async fn in_person_scope<T, F, Fut>(
    ctx: &Context<'_>,
    me: &CitizenIdentity,
    read: F,
) -> ApiResult<T>
where
    F: FnOnce(civitas_tenants::PersonScope) -> Fut,
    Fut: std::future::Future<Output = ApiResult<(civitas_tenants::PersonScope, T)>>,
{
    let scope = state(ctx).db.person_scope(me.person_id, &me.merged).await?;
    let (scope, value) = read(scope).await?;
    scope.commit().await?;
    Ok(value)
}

#[ComplexObject]
impl MyData {
    async fn profiles(&self, ctx: &Context<'_>) -> ApiResult<Vec<crate::citizen_types::Profile>> {
        in_person_scope(ctx, &self.me, |s| async move {
            let v = export::profiles_of(&s).await?;
            Ok((s, v.into_iter().map(Into::into).collect()))
        })
        .await
    }

    /// Their cases in every body, newest first.
    async fn cases(&self, ctx: &Context<'_>) -> ApiResult<Vec<crate::cases::Case>> {
        in_person_scope(ctx, &self.me, |s| async move {
            let v = export::cases_of(&s).await?;
            Ok((s, v.into_iter().map(Into::into).collect()))
        })
        .await
    }

    async fn interactions(&self, ctx: &Context<'_>) -> ApiResult<Vec<crate::cases::Interaction>> {
        in_person_scope(ctx, &self.me, |s| async move {
            let v = export::interactions_of(&s).await?;
            Ok((s, v.into_iter().map(Into::into).collect()))
        })
        .await
    }

    async fn privacy_consents(&self, ctx: &Context<'_>) -> ApiResult<Vec<PrivacyConsent>> {
        in_person_scope(ctx, &self.me, |s| async move {
            let v = privacy::all_for_person(&s).await?;
            Ok((s, v.into_iter().map(Into::into).collect()))
        })
        .await
    }

    async fn sharing_consents(&self, ctx: &Context<'_>) -> ApiResult<Vec<SharingConsent>> {
        in_person_scope(ctx, &self.me, |s| async move {
            let v = export::sharing_consents_of(&s).await?;
            Ok((s, v.into_iter().map(Into::into).collect()))
        })
        .await
    }
}

#[ComplexObject]
impl Me {
    /// For a signed-in citizen: every profile and consent about them in every body.
    async fn citizen(&self, ctx: &Context<'_>) -> ApiResult<Option<MyData>> {
        match citizen(ctx) {
            Ok(me) => Ok(Some(MyData {
                person_id: ID(me.person_id.to_string()),
                me: me.clone(),
            })),
            Err(_) => Ok(None),
        }
    }
}

async fn decide(ctx: &Context<'_>, id: ID, confirm: bool) -> ApiResult<SharingConsent> {
    let me = citizen(ctx)?;
    let s = state(ctx);
    let id = parse_id("id", &id)?;
    let scope = s.db.person_scope(me.person_id, &me.merged).await?;
    let (request, consent) =
        consent_requests::decide(scope.conn(), id, &me.family(), confirm, s.db.clock().now())
            .await?;
    scope.commit().await?;
    Ok(match consent {
        Some(c) => {
            s.consents
                .invalidate(c.grantee_tenant_id.0, c.person_id)
                .await;
            c.into()
        }
        None => SharingConsent::requested(&request),
    })
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

fn page_args(first: i32, after: Option<String>) -> ApiResult<(u64, Option<uuid::Uuid>)> {
    if !(1..=100).contains(&first) {
        return Err(ApiError::new(
            Code::Validation,
            "first must be between 1 and 100",
        ));
    }
    let after = after.map(|a| parse_id("after", &ID(a))).transpose()?;
    Ok((first as u64, after))
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
        let s = state(ctx);
        let now = s.db.clock().now();
        let grantee = tenant_by_slug(ctx, "grantee", &input.grantee).await?.id;
        let source_tenant = match input.source.as_deref() {
            Some(slug) => Some(tenant_by_slug(ctx, "source", slug).await?),
            None => None,
        };
        let source = source_tenant.as_ref().map(|t| t.id);
        let new = |person_id| NewSharingConsent {
            person_id,
            source,
            grantee,
            scopes: input.scopes.iter().copied().map(Into::into).collect(),
            purpose: input.purpose.clone(),
            expires_at: input.expires_at,
            channel: input.channel.clone(),
        };
        let consent = if is_citizen(ctx) {
            let me = citizen(ctx)?;
            let p = principal(ctx)?;
            let scope = s.db.person_scope(me.person_id, &me.merged).await?;
            let c = sharing::grant(
                scope.conn(),
                &Collector::Citizen {
                    subject: p.subject.clone(),
                },
                new(me.person_id),
                now,
            )
            .await?;
            scope.commit().await?;
            c
        } else {
            let tc = authorize(ctx, "consent", "grant").await?;
            let scope = s.db.scope(tc).await?;
            let (person, _) = citizen_view::registered_person(
                &scope,
                lookup(input.fiscal_code.clone(), input.person_id.clone())?,
            )
            .await?;
            if !consent_requests::takes_effect_at_once(source_tenant.as_ref(), &tc.tenant) {
                // Another body's records on one operator's word: the citizen confirms first.
                let r = consent_requests::request(
                    scope.conn(),
                    &tc.identity(),
                    tc.tenant.id,
                    new(person),
                    now,
                )
                .await?;
                audit::record(
                    &scope,
                    &tc.identity(),
                    "consent.sharing_requested",
                    Some(&r.id.to_string()),
                    json!({ "person": person }),
                )
                .await?;
                scope.commit().await?;
                return Ok(SharingConsent::requested(&r));
            }
            let collector = Collector::Operator {
                subject: tc.actor(),
                tenant: tc.tenant.id,
            };
            let c = sharing::grant(scope.conn(), &collector, new(person), now).await?;
            audit::record(
                &scope,
                &tc.identity(),
                "consent.sharing_collected",
                Some(&c.id.to_string()),
                json!({ "person": person }),
            )
            .await?;
            scope.commit().await?;
            c
        };
        s.consents
            .invalidate(consent.grantee_tenant_id.0, consent.person_id)
            .await;
        Ok(consent.into())
    }

    /// The signed-in citizen confirms a consent an operator collected for them: it takes
    /// effect now, recorded as collected by that operator.
    async fn confirm_sharing_consent(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> ApiResult<SharingConsent> {
        decide(ctx, id, true).await
    }

    /// The signed-in citizen declines a consent an operator collected for them.
    async fn decline_sharing_consent(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> ApiResult<SharingConsent> {
        decide(ctx, id, false).await
    }

    /// Revokes a sharing consent, effective on the very next request: the citizen's own,
    /// or, for an operator, one that involves their body.
    async fn revoke_sharing_consent(&self, ctx: &Context<'_>, id: ID) -> ApiResult<SharingConsent> {
        let s = state(ctx);
        let now = s.db.clock().now();
        let id = parse_id("id", &id)?;
        let consent = if is_citizen(ctx) {
            let me = citizen(ctx)?;
            let p = principal(ctx)?;
            let family = me.family();
            let scope = s.db.person_scope(me.person_id, &me.merged).await?;
            let c = sharing::revoke(
                scope.conn(),
                id,
                Visibility::Person(&family),
                &p.subject,
                now,
            )
            .await?;
            scope.commit().await?;
            c
        } else {
            let tc = authorize(ctx, "consent", "revoke").await?;
            let scope = s.db.scope(tc).await?;
            let c = sharing::revoke(
                scope.conn(),
                id,
                Visibility::Tenant(tc.tenant.id),
                &tc.actor(),
                now,
            )
            .await?;
            audit::record(
                &scope,
                &tc.identity(),
                "consent.sharing_revoked",
                Some(&id.to_string()),
                json!({ "person": c.person_id }),
            )
            .await?;
            scope.commit().await?;
            c
        };
        s.consents
            .invalidate(consent.grantee_tenant_id.0, consent.person_id)
            .await;
        Ok(consent.into())
    }

    /// Records a privacy consent for a purpose: given by the signed-in citizen to the body
    /// named in `tenant`, or collected by an operator for their own body.
    async fn record_privacy_consent(
        &self,
        ctx: &Context<'_>,
        input: RecordPrivacyConsentInput,
    ) -> ApiResult<PrivacyConsent> {
        let s = state(ctx);
        let now = s.db.clock().now();
        if is_citizen(ctx) {
            let me = citizen(ctx)?;
            let p = principal(ctx)?;
            let slug = input.tenant.as_deref().ok_or_else(|| {
                ApiError::new(
                    Code::Validation,
                    "tenant: name the body you give consent to",
                )
            })?;
            let tenant = tenant_by_slug(ctx, "tenant", slug).await?;
            let tc = TenantContext::for_citizen(tenant, p.clone());
            let scope = s.db.scope(&tc).await?;
            let collector = Collector::Citizen {
                subject: p.subject.clone(),
            };
            let c = privacy::record(
                &scope,
                &collector,
                me.person_id,
                &input.purpose,
                &input.text_version,
                &input.channel,
                now,
            )
            .await?;
            scope.commit().await?;
            return Ok(c.into());
        }
        let tc = authorize(ctx, "privacy", "record").await?;
        let scope = s.db.scope(tc).await?;
        let (person, _) =
            citizen_view::registered_person(&scope, lookup(input.fiscal_code, input.person_id)?)
                .await?;
        let collector = Collector::Operator {
            subject: tc.actor(),
            tenant: tc.tenant.id,
        };
        let c = privacy::record(
            &scope,
            &collector,
            person,
            &input.purpose,
            &input.text_version,
            &input.channel,
            now,
        )
        .await?;
        scope.commit().await?;
        Ok(c.into())
    }

    /// Withdraws a privacy consent: the citizen's own, or one of the operator's body.
    async fn withdraw_privacy_consent(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> ApiResult<PrivacyConsent> {
        let s = state(ctx);
        let now = s.db.clock().now();
        let id = parse_id("id", &id)?;
        if is_citizen(ctx) {
            let me = citizen(ctx)?;
            let p = principal(ctx)?;
            let scope = s.db.person_scope(me.person_id, &me.merged).await?;
            let found = privacy::find_for_person(&scope, id).await?;
            scope.commit().await?;
            let found =
                found.ok_or_else(|| ApiError::new(Code::NotFound, "privacy consent not found"))?;
            let tenant = registry::find_by_id(&s.db, TenantId(found.tenant_id.0))
                .await?
                .ok_or_else(|| ApiError::new(Code::NotFound, "privacy consent not found"))?;
            let tc = TenantContext::for_citizen(tenant, p.clone());
            let scope = s.db.scope(&tc).await?;
            let c = privacy::withdraw(&scope, &p.subject, id, now).await?;
            scope.commit().await?;
            return Ok(c.into());
        }
        let tc = authorize(ctx, "privacy", "withdraw").await?;
        let scope = s.db.scope(tc).await?;
        let c = privacy::withdraw(&scope, &tc.actor(), id, now).await?;
        scope.commit().await?;
        Ok(c.into())
    }
}
