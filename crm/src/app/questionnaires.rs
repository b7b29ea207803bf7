//! Use cases of a body's questionnaires (staff): supervisors build them in versions,
//! publish and retire them, and read their results, the free text, a CSV of the answers
//! and the satisfaction KPIs; a parent body reads its children's KPIs, aggregated only.

use chrono::{DateTime, Utc};
use civitas_policies::Permission;
use civitas_tenants::{TenantContext, audit, registry};
use serde_json::json;
use uuid::Uuid;

use super::{App, Caller};
use crate::questionnaires::Question;
use crate::questionnaires::kpis::{self, GroupBy, Kpi};
use crate::questionnaires::results::{self, Filter, Results};
use crate::questionnaires::store::{self, NewQuestionnaire, Questionnaire, Version};
use crate::{Error, Result};

async fn changed(
    app: &App,
    scope: civitas_tenants::Scope,
    tc: &TenantContext,
    what: &str,
    id: Uuid,
    detail: serde_json::Value,
) -> Result<()> {
    audit::record(&scope, &tc.identity(), what, Some(&id.to_string()), detail).await?;
    app.commit(scope).await
}

/// Creates a questionnaire with its questions as draft version 1.
pub async fn create(
    app: &App,
    caller: &Caller,
    new: NewQuestionnaire,
) -> Result<(Questionnaire, Version)> {
    let tc = caller
        .authorize(app, Permission::QuestionnaireManage)
        .await?;
    let scope = app.db.scope(tc).await?;
    let by = tc.identity().stored();
    let (q, v) = store::create(&scope, new, &by, app.now()).await?;
    let detail = json!({ "title": q.title, "anonymous": q.anonymous });
    changed(app, scope, tc, "questionnaire.created", q.id, detail).await?;
    Ok((q, v))
}

/// Replaces the draft's questions (a new draft version when the latest is published).
pub async fn revise(
    app: &App,
    caller: &Caller,
    id: Uuid,
    questions: Vec<Question>,
) -> Result<Version> {
    let tc = caller
        .authorize(app, Permission::QuestionnaireManage)
        .await?;
    let scope = app.db.scope(tc).await?;
    let v = store::revise(&scope, id, questions, app.now()).await?;
    let detail = json!({ "version": v.version });
    changed(app, scope, tc, "questionnaire.revised", id, detail).await?;
    Ok(v)
}

/// Publishes the latest draft: answered from now on.
pub async fn publish(app: &App, caller: &Caller, id: Uuid) -> Result<Version> {
    let tc = caller
        .authorize(app, Permission::QuestionnaireManage)
        .await?;
    let scope = app.db.scope(tc).await?;
    let v = store::publish(&scope, id, app.now()).await?;
    let detail = json!({ "version": v.version });
    changed(app, scope, tc, "questionnaire.published", id, detail).await?;
    Ok(v)
}

/// Retires a questionnaire: no more invitations or answers.
pub async fn retire(app: &App, caller: &Caller, id: Uuid) -> Result<Questionnaire> {
    let tc = caller
        .authorize(app, Permission::QuestionnaireManage)
        .await?;
    let scope = app.db.scope(tc).await?;
    let q = store::retire(&scope, id, app.now()).await?;
    changed(app, scope, tc, "questionnaire.retired", id, json!({})).await?;
    Ok(q)
}

/// The body's questionnaires, each with its versions, newest first.
pub async fn list(app: &App, caller: &Caller) -> Result<Vec<(Questionnaire, Vec<Version>)>> {
    let tc = caller.authorize(app, Permission::QuestionnaireRead).await?;
    let scope = app.db.scope(tc).await?;
    let mut out = vec![];
    for q in store::list(&scope).await? {
        let v = store::versions(&scope, q.id).await?;
        out.push((q, v));
    }
    app.commit(scope).await?;
    Ok(out)
}

/// One questionnaire with its versions.
pub async fn one(app: &App, caller: &Caller, id: Uuid) -> Result<(Questionnaire, Vec<Version>)> {
    let tc = caller.authorize(app, Permission::QuestionnaireRead).await?;
    let scope = app.db.scope(tc).await?;
    let q = store::get(&scope, id).await?;
    let v = store::versions(&scope, id).await?;
    app.commit(scope).await?;
    Ok((q, v))
}

fn check_period(f: &Filter) -> Result<()> {
    if let (Some(a), Some(b)) = (f.from, f.to)
        && b <= a
    {
        return Err(Error::Validation("to must come after from".into()));
    }
    Ok(())
}

/// Counts, distributions, averages, NPS and response rate of a questionnaire.
pub async fn results(app: &App, caller: &Caller, id: Uuid, f: &Filter) -> Result<Results> {
    check_period(f)?;
    let tc = caller
        .authorize(app, Permission::QuestionnaireStats)
        .await?;
    let scope = app.db.scope(tc).await?;
    let r = results::results(&scope, id, f).await?;
    app.commit(scope).await?;
    Ok(r)
}

/// The free-text answers to one question, newest first.
pub async fn texts(
    app: &App,
    caller: &Caller,
    id: Uuid,
    key: &str,
    f: &Filter,
) -> Result<Vec<(DateTime<Utc>, String)>> {
    check_period(f)?;
    let tc = caller
        .authorize(app, Permission::QuestionnaireStats)
        .await?;
    let scope = app.db.scope(tc).await?;
    let r = results::texts(&scope, id, key, f).await?;
    app.commit(scope).await?;
    Ok(r)
}

/// The answers as CSV; the export is in the audit log (it may name persons).
pub async fn csv(app: &App, caller: &Caller, id: Uuid, f: &Filter) -> Result<String> {
    check_period(f)?;
    let tc = caller
        .authorize(app, Permission::QuestionnaireStats)
        .await?;
    let scope = app.db.scope(tc).await?;
    let text = results::csv(&scope, id, f).await?;
    let rows = text.lines().count().saturating_sub(1);
    changed(
        app,
        scope,
        tc,
        "questionnaire.exported",
        id,
        json!({ "rows": rows }),
    )
    .await?;
    Ok(text)
}

/// The period of a KPI request; at most two years.
fn period(from: DateTime<Utc>, to: DateTime<Utc>) -> Result<(DateTime<Utc>, DateTime<Utc>)> {
    if to <= from {
        return Err(Error::Validation("to must come after from".into()));
    }
    if to - from > chrono::Duration::days(731) {
        return Err(Error::Validation(
            "from/to: at most two years at a time".into(),
        ));
    }
    Ok((from, to))
}

/// The body's satisfaction KPIs over a period, grouped; each with the body's slug.
pub async fn kpis(
    app: &App,
    caller: &Caller,
    by: GroupBy,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<(String, Kpi)>> {
    let p = period(from, to)?;
    let tc = caller
        .authorize(app, Permission::QuestionnaireStats)
        .await?;
    let slug = tc.tenant.slug.as_str().to_owned();
    let scope = app.db.scope(tc).await?;
    let found = kpis::compute(&scope, by, &slug, p).await?;
    app.commit(scope).await?;
    Ok(found.into_iter().map(|k| (slug.clone(), k)).collect())
}

/// The KPIs of the body's child bodies (municipi, companies), one group per child and
/// `by`. Each child's figures are computed inside that child's scope by the platform and
/// only counts and rates come out: a parent never reads a child's answers or cases.
pub async fn children_kpis(
    app: &App,
    caller: &Caller,
    by: GroupBy,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<(String, Kpi)>> {
    let p = period(from, to)?;
    let tc = caller
        .authorize(app, Permission::QuestionnaireStats)
        .await?;
    let me = tc.tenant.id;
    let children: Vec<_> = registry::list(&app.db)
        .await?
        .into_iter()
        .filter(|t| t.parent_id == Some(me))
        .collect();
    let mut out = vec![];
    for child in children {
        let slug = child.slug.as_str().to_owned();
        let ctx = TenantContext::system(child, "kpi-aggregate");
        let scope = app.db.scope(&ctx).await?;
        let found = kpis::compute(&scope, by, &slug, p).await?;
        scope.commit().await?;
        out.extend(found.into_iter().map(|k| (slug.clone(), k)));
    }
    Ok(out)
}
