//! Questionnaires, surveys and satisfaction KPIs: a translation of
//! [`civitas_crm::app::questionnaires`] (staff) and [`civitas_crm::app::surveys`]
//! (citizens).

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use civitas_crm::app::questionnaires as uc;
use civitas_crm::app::surveys as citizens;
use civitas_crm::questionnaires::kpis::{GroupBy, Kpi};
use civitas_crm::questionnaires::results::{Filter, QuestionResult};
use civitas_crm::questionnaires::store::{self as domain, Attachment, NewQuestionnaire};
use civitas_crm::questionnaires::{self as q, questions_of};

use crate::caller::{caller, state};
use crate::cases::channel;
use crate::connections::Conn;
use crate::erasure::paged;
use crate::error::ApiResult;
use crate::ids::parse_id;

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum QuestionKind {
    /// One of the options.
    Single,
    /// One or more of the options.
    Multiple,
    /// 1 (worst) to 5 (best); a satisfaction survey's first is its CSAT question.
    Scale,
    /// 0 to 10; a satisfaction survey's first is its NPS question.
    Nps,
    Text,
    /// YYYY-MM-DD.
    Date,
}

impl From<QuestionKind> for q::QuestionKind {
    fn from(k: QuestionKind) -> Self {
        match k {
            QuestionKind::Single => q::QuestionKind::Single,
            QuestionKind::Multiple => q::QuestionKind::Multiple,
            QuestionKind::Scale => q::QuestionKind::Scale,
            QuestionKind::Nps => q::QuestionKind::Nps,
            QuestionKind::Text => q::QuestionKind::Text,
            QuestionKind::Date => q::QuestionKind::Date,
        }
    }
}

impl From<q::QuestionKind> for QuestionKind {
    fn from(k: q::QuestionKind) -> Self {
        match k {
            q::QuestionKind::Single => QuestionKind::Single,
            q::QuestionKind::Multiple => QuestionKind::Multiple,
            q::QuestionKind::Scale => QuestionKind::Scale,
            q::QuestionKind::Nps => QuestionKind::Nps,
            q::QuestionKind::Text => QuestionKind::Text,
            q::QuestionKind::Date => QuestionKind::Date,
        }
    }
}

#[derive(SimpleObject, Clone)]
pub struct Question {
    pub key: String,
    pub text: String,
    pub kind: QuestionKind,
    pub required: bool,
    pub options: Vec<String>,
}

impl From<q::Question> for Question {
    fn from(x: q::Question) -> Self {
        Question {
            key: x.key,
            text: x.text,
            kind: x.kind.into(),
            required: x.required,
            options: x.options,
        }
    }
}

#[derive(InputObject)]
pub struct QuestionInput {
    /// Names the question in answers, results and the CSV.
    pub key: String,
    pub text: String,
    pub kind: QuestionKind,
    #[graphql(default = true)]
    pub required: bool,
    /// For SINGLE and MULTIPLE: 2 to 20 distinct options.
    #[graphql(default)]
    pub options: Vec<String>,
}

fn questions(input: Vec<QuestionInput>) -> Vec<q::Question> {
    input
        .into_iter()
        .map(|i| q::Question {
            key: i.key,
            text: i.text,
            kind: i.kind.into(),
            required: i.required,
            options: i.options,
        })
        .collect()
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum VersionStatus {
    Draft,
    Published,
    Retired,
}

#[derive(SimpleObject, Clone)]
pub struct QuestionnaireVersion {
    pub id: ID,
    pub version: i32,
    pub status: VersionStatus,
    pub questions: Vec<Question>,
    pub created_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
}

impl From<domain::Version> for QuestionnaireVersion {
    fn from(v: domain::Version) -> Self {
        QuestionnaireVersion {
            id: ID(v.id.to_string()),
            version: v.version,
            status: match v.status.as_str() {
                "published" => VersionStatus::Published,
                "retired" => VersionStatus::Retired,
                _ => VersionStatus::Draft,
            },
            questions: questions_of(&v.questions)
                .into_iter()
                .map(Into::into)
                .collect(),
            created_at: v.created_at,
            published_at: v.published_at,
        }
    }
}

/// A body's questionnaire with its versions.
#[derive(SimpleObject, Clone)]
pub struct Questionnaire {
    pub id: ID,
    pub title: String,
    /// Answers keep no person, no case and only the day.
    pub anonymous: bool,
    /// A satisfaction survey of this service: sent when a case of it is resolved.
    pub service_id: Option<ID>,
    /// Sent to this initiative's participants once it ends.
    pub initiative_id: Option<ID>,
    /// The version answered now (0: none published yet).
    pub current_version: i32,
    pub retired_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub versions: Vec<QuestionnaireVersion>,
}

fn questionnaire((x, versions): (domain::Questionnaire, Vec<domain::Version>)) -> Questionnaire {
    Questionnaire {
        id: ID(x.id.to_string()),
        title: x.title,
        anonymous: x.anonymous,
        service_id: x.service_id.map(|s| ID(s.to_string())),
        initiative_id: x.initiative_id.map(|s| ID(s.to_string())),
        current_version: x.current_version,
        retired_at: x.retired_at,
        created_at: x.created_at,
        versions: versions.into_iter().map(Into::into).collect(),
    }
}

#[derive(InputObject)]
pub struct QuestionnaireInput {
    pub title: String,
    #[graphql(default)]
    pub anonymous: bool,
    /// Makes it the satisfaction survey of this service.
    pub service_id: Option<ID>,
    /// Sends it to this initiative's participants once it ends.
    pub initiative_id: Option<ID>,
    pub questions: Vec<QuestionInput>,
}

/// The values given to one question: one for most kinds, several for MULTIPLE.
#[derive(InputObject)]
pub struct AnswerInput {
    pub key: String,
    pub values: Vec<String>,
}

fn answers(input: Vec<AnswerInput>) -> Vec<(String, Vec<String>)> {
    input.into_iter().map(|a| (a.key, a.values)).collect()
}

#[derive(InputObject, Default)]
pub struct ResultsFilter {
    pub version: Option<i32>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub service_id: Option<ID>,
    pub channel: Option<String>,
}

impl ResultsFilter {
    fn domain(self) -> ApiResult<Filter> {
        Ok(Filter {
            version: self.version,
            from: self.from,
            to: self.to,
            service: self
                .service_id
                .map(|s| parse_id("filter.serviceId", &s))
                .transpose()?,
            channel: self
                .channel
                .map(|c| channel(&c).map(|c| c.as_str().to_owned()))
                .transpose()?,
        })
    }
}

#[derive(SimpleObject)]
pub struct ValueCount {
    pub value: String,
    pub count: u64,
}

#[derive(SimpleObject)]
pub struct QuestionResults {
    pub question: Question,
    pub answered: u64,
    /// Each option or score and how many gave it, in the question's order.
    pub counts: Vec<ValueCount>,
    pub average: Option<f64>,
    /// % promoters (9-10) minus % detractors (0-6).
    pub nps: Option<f64>,
}

impl From<QuestionResult> for QuestionResults {
    fn from(r: QuestionResult) -> Self {
        QuestionResults {
            question: r.question.into(),
            answered: r.answered,
            counts: r
                .counts
                .into_iter()
                .map(|(value, count)| ValueCount { value, count })
                .collect(),
            average: r.average,
            nps: r.nps,
        }
    }
}

#[derive(SimpleObject)]
pub struct QuestionnaireResults {
    pub invited: u64,
    pub answered: u64,
    /// Answers per invitation (0 to 1), when there were invitations.
    pub response_rate: Option<f64>,
    pub questions: Vec<QuestionResults>,
}

#[derive(SimpleObject)]
pub struct TextAnswer {
    pub submitted_at: DateTime<Utc>,
    pub text: String,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum KpiGroup {
    Service,
    Area,
    Channel,
    Body,
}

/// Satisfaction and resolution figures of one group: counts and rates only.
#[derive(SimpleObject)]
pub struct SatisfactionKpi {
    /// The body the figures are of (its slug).
    pub body: String,
    /// The service code, area, channel or body slug.
    pub group: String,
    pub label: String,
    pub invited: u64,
    pub answered: u64,
    pub response_rate: Option<f64>,
    /// % of answers of 4 or 5 to the CSAT question.
    pub csat: Option<f64>,
    pub average_score: Option<f64>,
    pub nps: Option<f64>,
    /// Cases resolved in the period.
    pub resolved: u64,
    pub median_hours_to_resolution: Option<f64>,
    /// % of those resolved by their due time.
    pub within_sla: Option<f64>,
}

fn kpi(body: String, k: Kpi) -> SatisfactionKpi {
    SatisfactionKpi {
        body,
        group: k.group,
        label: k.label,
        invited: k.invited,
        answered: k.answered,
        response_rate: k.response_rate,
        csat: k.csat,
        average_score: k.average_score,
        nps: k.nps,
        resolved: k.resolved,
        median_hours_to_resolution: k.median_hours_to_resolution,
        within_sla: k.within_sla,
    }
}

/// A questionnaire a citizen is asked to answer.
#[derive(SimpleObject)]
pub struct Survey {
    /// Answer it with `answerSurvey(invitationId:)`.
    pub invitation_id: ID,
    pub body_slug: String,
    pub body_name: String,
    pub title: String,
    pub anonymous: bool,
    pub case_id: Option<ID>,
    pub initiative_id: Option<ID>,
    pub version: QuestionnaireVersion,
}

impl From<citizens::Survey> for Survey {
    fn from(s: citizens::Survey) -> Self {
        Survey {
            invitation_id: ID(s.invitation.id.to_string()),
            body_slug: s.body.slug.as_str().to_owned(),
            body_name: s.body.display_name.clone(),
            title: s.questionnaire.title,
            anonymous: s.questionnaire.anonymous,
            case_id: s.invitation.case_id.map(|c| ID(c.to_string())),
            initiative_id: s.invitation.initiative_id.map(|c| ID(c.to_string())),
            version: s.version.into(),
        }
    }
}

/// What answering recorded.
#[derive(SimpleObject)]
pub struct SurveyAnswered {
    /// The version the answers belong to.
    pub version: i32,
}

#[derive(Default)]
pub struct QuestionnaireQuery;

#[Object]
impl QuestionnaireQuery {
    /// The body's questionnaires, newest first (permission `questionnaire read`).
    async fn questionnaires(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: i32,
        after: Option<String>,
    ) -> ApiResult<Conn<Questionnaire>> {
        let found = uc::list(state(ctx), caller(ctx)).await?;
        paged(found, first, after, questionnaire)
    }

    async fn questionnaire(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Questionnaire> {
        let id = parse_id("id", &id)?;
        Ok(questionnaire(uc::one(state(ctx), caller(ctx), id).await?))
    }

    /// Counts, distributions, averages, NPS and response rate (permission
    /// `questionnaire stats`).
    async fn questionnaire_results(
        &self,
        ctx: &Context<'_>,
        id: ID,
        #[graphql(default)] filter: ResultsFilter,
    ) -> ApiResult<QuestionnaireResults> {
        let id = parse_id("id", &id)?;
        let r = uc::results(state(ctx), caller(ctx), id, &filter.domain()?).await?;
        Ok(QuestionnaireResults {
            invited: r.invited,
            answered: r.answered,
            response_rate: r.response_rate,
            questions: r.questions.into_iter().map(Into::into).collect(),
        })
    }

    /// The free-text answers to the question `key`, newest first.
    async fn questionnaire_text_answers(
        &self,
        ctx: &Context<'_>,
        id: ID,
        key: String,
        #[graphql(default)] filter: ResultsFilter,
        #[graphql(default = 50)] first: i32,
        after: Option<String>,
    ) -> ApiResult<Conn<TextAnswer>> {
        let id = parse_id("id", &id)?;
        let f = filter.domain()?;
        let found = uc::texts(state(ctx), caller(ctx), id, &key, &f).await?;
        paged(found, first, after, |(submitted_at, text)| TextAnswer {
            submitted_at,
            text,
        })
    }

    /// The answers as CSV (RFC 4180): one row per answer, one column per question; the
    /// person and case only for an identified questionnaire. The export is audited.
    async fn questionnaire_csv(
        &self,
        ctx: &Context<'_>,
        id: ID,
        #[graphql(default)] filter: ResultsFilter,
    ) -> ApiResult<String> {
        let id = parse_id("id", &id)?;
        Ok(uc::csv(state(ctx), caller(ctx), id, &filter.domain()?).await?)
    }

    /// Satisfaction KPIs over `[from, to)` (at most two years), grouped; with
    /// `children: true`, those of the body's child bodies, aggregated (permission
    /// `questionnaire stats`).
    #[allow(clippy::too_many_arguments)]
    async fn satisfaction_kpis(
        &self,
        ctx: &Context<'_>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        #[graphql(default_with = "KpiGroup::Service")] group_by: KpiGroup,
        #[graphql(default)] children: bool,
        #[graphql(default = 50)] first: i32,
        after: Option<String>,
    ) -> ApiResult<Conn<SatisfactionKpi>> {
        let by = match group_by {
            KpiGroup::Service => GroupBy::Service,
            KpiGroup::Area => GroupBy::Area,
            KpiGroup::Channel => GroupBy::Channel,
            KpiGroup::Body => GroupBy::Body,
        };
        let (app, who) = (state(ctx), caller(ctx));
        let found = if children {
            uc::children_kpis(app, who, by, from, to).await?
        } else {
            uc::kpis(app, who, by, from, to).await?
        };
        paged(found, first, after, |(b, k)| kpi(b, k))
    }

    /// The signed-in citizen's surveys still to answer, in every body.
    async fn my_surveys(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: i32,
        after: Option<String>,
    ) -> ApiResult<Conn<Survey>> {
        let found = citizens::mine(state(ctx), caller(ctx)).await?;
        paged(found, first, after, Survey::from)
    }

    /// The consultations the body `body` asks every citizen.
    async fn open_consultations(
        &self,
        ctx: &Context<'_>,
        body: String,
        #[graphql(default = 20)] first: i32,
        after: Option<String>,
    ) -> ApiResult<Conn<Questionnaire>> {
        let found = citizens::open(state(ctx), caller(ctx), &body).await?;
        paged(found, first, after, |(x, v)| questionnaire((x, vec![v])))
    }
}

#[derive(Default)]
pub struct QuestionnaireMutation;

#[Object]
impl QuestionnaireMutation {
    /// Creates a questionnaire; its questions are draft version 1 (permission
    /// `questionnaire manage`).
    async fn create_questionnaire(
        &self,
        ctx: &Context<'_>,
        input: QuestionnaireInput,
    ) -> ApiResult<Questionnaire> {
        let attachment = match (input.service_id, input.initiative_id) {
            (Some(_), Some(_)) => {
                return Err(civitas_crm::Error::Validation(
                    "serviceId, initiativeId: a questionnaire is attached to one of them at most"
                        .into(),
                )
                .into());
            }
            (Some(s), None) => Attachment::Service(parse_id("serviceId", &s)?),
            (None, Some(i)) => Attachment::Initiative(parse_id("initiativeId", &i)?),
            (None, None) => Attachment::None,
        };
        let new = NewQuestionnaire {
            title: input.title,
            anonymous: input.anonymous,
            attachment,
            questions: questions(input.questions),
        };
        let (x, v) = uc::create(state(ctx), caller(ctx), new).await?;
        Ok(questionnaire((x, vec![v])))
    }

    /// Replaces the draft's questions; a published version never changes, so editing a
    /// published questionnaire opens the next version.
    async fn revise_questionnaire(
        &self,
        ctx: &Context<'_>,
        id: ID,
        questions: Vec<QuestionInput>,
    ) -> ApiResult<QuestionnaireVersion> {
        let id = parse_id("id", &id)?;
        let qs = self::questions(questions);
        Ok(uc::revise(state(ctx), caller(ctx), id, qs).await?.into())
    }

    /// Publishes the latest draft; the version before it retires.
    async fn publish_questionnaire(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> ApiResult<QuestionnaireVersion> {
        let id = parse_id("id", &id)?;
        Ok(uc::publish(state(ctx), caller(ctx), id).await?.into())
    }

    /// Retires a questionnaire: no more invitations or answers; its results stay.
    async fn retire_questionnaire(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Questionnaire> {
        let id = parse_id("id", &id)?;
        let x = uc::retire(state(ctx), caller(ctx), id).await?;
        Ok(questionnaire((x, vec![])))
    }

    /// The signed-in citizen answers one of their surveys; a second answer is CONFLICT.
    async fn answer_survey(
        &self,
        ctx: &Context<'_>,
        invitation_id: ID,
        answers: Vec<AnswerInput>,
    ) -> ApiResult<SurveyAnswered> {
        let id = parse_id("invitationId", &invitation_id)?;
        let v = citizens::answer_mine(state(ctx), caller(ctx), id, &self::answers(answers)).await?;
        Ok(SurveyAnswered { version: v.version })
    }

    /// The signed-in citizen answers a consultation of the body `body`, once.
    async fn answer_consultation(
        &self,
        ctx: &Context<'_>,
        body: String,
        questionnaire_id: ID,
        answers: Vec<AnswerInput>,
        #[graphql(default = "web")] channel: String,
    ) -> ApiResult<SurveyAnswered> {
        let id = parse_id("questionnaireId", &questionnaire_id)?;
        let ch = self::channel(&channel)?;
        let given = self::answers(answers);
        let v =
            citizens::answer_consultation(state(ctx), caller(ctx), &body, id, ch, &given).await?;
        Ok(SurveyAnswered { version: v.version })
    }
}
