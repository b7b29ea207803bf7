//! Erasure and retention: a translation of [`civitas_crm::app::erasure`].

use async_graphql::{Context, ID, InputObject, Json, Object, SimpleObject};
use chrono::{DateTime, Utc};
use civitas_crm::app::erasure as uc;
use civitas_crm::erasure::{Request, Step};
use civitas_crm::retention::Rule;
use serde_json::Value;

use crate::caller::{caller, state};
use crate::connections::{Conn, position_page, positioned};
use crate::error::ApiResult;
use crate::ids::parse;
use crate::loaders::{TenantRef, tenant_ref};

/// A request to erase what every body holds about the citizen, with what each did.
pub struct ErasureRequest(Request);

#[Object]
impl ErasureRequest {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn requested_at(&self) -> DateTime<Utc> {
        self.0.requested_at
    }
    /// The body whose operator recorded it; null: the citizen asked themselves.
    async fn recorded_in(&self, ctx: &Context<'_>) -> ApiResult<Option<TenantRef>> {
        match self.0.recorded_in {
            Some(t) => Ok(Some(tenant_ref(ctx, t).await?)),
            None => Ok(None),
        }
    }
    /// Every body that held records of the citizen has acted on it.
    async fn settled(&self) -> bool {
        self.0.settled()
    }
    /// What each body erased and kept.
    async fn steps(&self) -> Vec<ErasureStep> {
        self.0.steps.iter().cloned().map(ErasureStep).collect()
    }
    /// Bodies that hold records of the citizen and have not acted yet (they do on the
    /// next erasure run).
    async fn pending(&self, ctx: &Context<'_>) -> ApiResult<Vec<TenantRef>> {
        let mut out = Vec::new();
        for t in &self.0.pending {
            out.push(tenant_ref(ctx, *t).await?);
        }
        Ok(out)
    }
    /// When the codice fiscale was dropped, no body holding anything of the citizen.
    async fn forgotten_at(&self) -> Option<DateTime<Utc>> {
        self.0.forgotten_at
    }
}

pub struct ErasureStep(Step);

#[Object]
impl ErasureStep {
    async fn tenant(&self, ctx: &Context<'_>) -> ApiResult<TenantRef> {
        tenant_ref(ctx, self.0.tenant_id).await
    }
    async fn done_at(&self) -> DateTime<Utc> {
        self.0.done_at
    }
    /// Records erased, by kind (`profiles`, `contacts`, `cases`, `attachments`…).
    async fn erased(&self) -> Json<Value> {
        Json(serde_json::to_value(&self.0.erased).unwrap_or_default())
    }
    /// Cases kept because a retention duty applies, each restricted until it ends.
    async fn kept(&self) -> Vec<KeptCase> {
        self.0
            .kept
            .iter()
            .map(|k| KeptCase {
                case_number: k.case.clone(),
                service_code: k.service.clone(),
                years: k.years as i32,
                until: k.until,
            })
            .collect()
    }
}

#[derive(SimpleObject)]
pub struct KeptCase {
    pub case_number: String,
    pub service_code: String,
    /// The body's retention schedule for the service, in years after the case closed.
    pub years: i32,
    pub until: DateTime<Utc>,
}

#[derive(SimpleObject)]
pub struct RetentionRule {
    /// Null: the body's default, for every service without a rule of its own.
    pub service_code: Option<String>,
    pub keep_years: i32,
    pub minimum_years: i32,
    pub updated_by: String,
    pub updated_at: DateTime<Utc>,
}

impl From<Rule> for RetentionRule {
    fn from(r: Rule) -> Self {
        RetentionRule {
            service_code: r.service_code,
            keep_years: r.keep_years as i32,
            minimum_years: r.minimum_years as i32,
            updated_by: r.updated_by,
            updated_at: r.updated_at,
        }
    }
}

#[derive(InputObject)]
pub struct RetentionRuleInput {
    /// The service; omitted: the body's default.
    pub service_code: Option<String>,
    /// Years the body keeps a case after it closed (0: erased with the citizen's data).
    pub keep_years: i32,
    /// The legal minimum; omitted: the one already set (none: 0).
    pub minimum_years: Option<i32>,
}

/// A page of an in-memory list, by position.
pub(crate) fn paged<R, T: async_graphql::OutputType>(
    rows: Vec<R>,
    first: i32,
    after: Option<String>,
    node: impl Fn(R) -> T,
) -> ApiResult<Conn<T>> {
    let page = position_page(first, after.as_deref())?;
    let start = page.after.unwrap_or(0) as usize;
    let rows: Vec<R> = rows.into_iter().skip(start).collect();
    let more = rows.len() as u64 > page.first;
    let rows: Vec<R> = rows.into_iter().take(page.first as usize).collect();
    Ok(positioned(rows, page, more, node))
}

fn years(field: &str, n: i32) -> ApiResult<u32> {
    u32::try_from(n)
        .map_err(|_| civitas_crm::Error::Validation(format!("{field}: not a number of years")))
        .map_err(Into::into)
}

#[derive(Default)]
pub struct ErasureQuery;

#[Object]
impl ErasureQuery {
    /// The signed-in citizen's erasure requests, newest first.
    async fn my_erasure_requests(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: i32,
        after: Option<String>,
    ) -> ApiResult<Conn<ErasureRequest>> {
        let found = uc::mine(state(ctx), caller(ctx)).await?;
        paged(found, first, after, ErasureRequest)
    }

    /// The body's retention schedule, its default first (permission `retention read`).
    async fn retention_rules(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 50)] first: i32,
        after: Option<String>,
    ) -> ApiResult<Conn<RetentionRule>> {
        let found = uc::rules(state(ctx), caller(ctx)).await?;
        paged(found, first, after, RetentionRule::from)
    }
}

#[derive(Default)]
pub struct ErasureMutation;

#[Object]
impl ErasureMutation {
    /// The signed-in citizen asks every body to erase what it holds about them (GDPR art.
    /// 17). Their sharing consents end at once; each body acts on the next erasure run and
    /// keeps, restricted, only the cases its retention schedule requires.
    async fn request_erasure(&self, ctx: &Context<'_>) -> ApiResult<ErasureRequest> {
        Ok(ErasureRequest(
            uc::request_mine(state(ctx), caller(ctx)).await?,
        ))
    }

    /// Records the erasure request a citizen of the body made at the counter, by phone or
    /// in writing (permission `erasure record`: supervisors by default). Returns its id.
    async fn record_erasure_request(
        &self,
        ctx: &Context<'_>,
        person_id: ID,
        #[graphql(default_with = "\"counter\".to_owned()")] channel: String,
    ) -> ApiResult<ID> {
        let person = parse("personId", &person_id)?;
        let id = uc::record(state(ctx), caller(ctx), person, &channel).await?;
        Ok(ID(id.to_string()))
    }

    /// Sets how long the body keeps the cases of a service after they close, once their
    /// citizen asked for erasure (permission `retention manage`: tenant administrators).
    async fn set_retention_rule(
        &self,
        ctx: &Context<'_>,
        input: RetentionRuleInput,
    ) -> ApiResult<RetentionRule> {
        let keep = years("keepYears", input.keep_years)?;
        let minimum = input
            .minimum_years
            .map(|m| years("minimumYears", m))
            .transpose()?;
        let rule = uc::set_rule(
            state(ctx),
            caller(ctx),
            input.service_code.as_deref(),
            keep,
            minimum,
        )
        .await?;
        Ok(rule.into())
    }
}
