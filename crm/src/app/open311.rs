//! Use cases of Open311 (GeoReport v2): what a jurisdiction takes reports of, a report
//! sent to it (routed to the body that takes it), and its public feed of reports. The
//! HTTP layer only translates the spec's parameters and formats.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use civitas_policies::Permission;
use civitas_tenants::{Principal, PrincipalKind, Role, Tenant, TenantContext, registry};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{App, Caller};
use crate::attachments::{self, Attachment, AttachmentSettings};
use crate::cases::{self, Actor, Case, NewCase};
use crate::catalogue::{self, FieldType, Service};
use crate::channels::Channel;
use crate::entity::{attachment, case, service};
use crate::places::{BBox, Place, distance_m};
use crate::routing::{self, Decision};
use crate::{Error, Result, api_keys};

/// The issuer of the principals Open311 keys stand for.
pub const KEY_ISSUER: &str = "urn:civitas:open311-key";
/// At most this many reports in one answer (the newest).
pub const MAX_REPORTS: u64 = 1_000;
/// The widest "near" search, in metres.
pub const MAX_RADIUS_M: f64 = 50_000.0;
/// Reports are read this far back when the caller names no dates (the spec's default).
const DEFAULT_DAYS: i64 = 90;

/// Who sends a report: a body's key, or the public where the body allows it.
pub enum Reporter {
    Key(Box<Caller>),
    Anonymous,
}

/// The active body named by `jurisdiction_id`.
pub async fn jurisdiction(app: &App, slug: &str) -> Result<Tenant> {
    app.active_body("jurisdiction_id", slug).await
}

/// Whether the body lets anyone report without a key (setting `open311.anonymous`).
pub fn allows_anonymous(body: &Tenant) -> bool {
    body.settings
        .pointer("/open311/anonymous")
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

fn lookup_context(body: &Tenant) -> TenantContext {
    TenantContext::system(body.clone(), "open311")
}

/// The reporter an `api_key` stands for at `body`; FORBIDDEN for an unknown or revoked
/// key, and for no key where the body does not take anonymous reports.
pub async fn reporter(app: &App, body: &Tenant, api_key: Option<&str>) -> Result<Reporter> {
    let Some(secret) = api_key.filter(|k| !k.is_empty()) else {
        return match allows_anonymous(body) {
            true => Ok(Reporter::Anonymous),
            false => Err(Error::Forbidden(
                "this jurisdiction takes reports only with an api_key".into(),
            )),
        };
    };
    let scope = app.db.scope(&lookup_context(body)).await?;
    let key = api_keys::find(&scope, secret).await?;
    scope.commit().await?;
    let key = key.ok_or_else(|| Error::Forbidden("the api_key is not valid".into()))?;
    let principal = Principal {
        subject: format!("key:{}", key.id),
        issuer: KEY_ISSUER.into(),
        kind: PrincipalKind::Service,
        name: Some(key.name),
        fiscal_code: None,
        home_tenant: Some(body.slug.to_string()),
        token_roles: vec![Role::Integrator],
    };
    let caller = super::identify(app, Some(principal), Some(body.slug.as_str())).await?;
    Ok(Reporter::Key(Box::new(caller)))
}

/// A service offered through Open311 and the body whose definition it is.
#[derive(Clone, Debug)]
pub struct Offered {
    pub service: Service,
    pub body: Tenant,
}

/// The bodies a jurisdiction's reports may go to: itself, the bodies under it and those
/// its routing rules name.
/// With them, every body of the registry.
async fn reach(
    app: &App,
    body: &Tenant,
) -> Result<(
    Vec<Tenant>,
    Vec<crate::entity::routing_rule::Model>,
    Vec<Tenant>,
)> {
    let all = registry::list(&app.db).await?;
    let mut bodies = vec![body.clone()];
    bodies.extend(
        routing::descendants(&all, body.id)
            .into_iter()
            .map(|(t, _)| t),
    );
    let scope = app.db.scope(&lookup_context(body)).await?;
    let rules = crate::routing_rules::list(&scope).await?;
    scope.commit().await?;
    for r in &rules {
        if let Some(t) = all.iter().find(|t| t.id.0 == r.target_tenant_id)
            && !bodies.iter().any(|b| b.id == t.id)
        {
            bodies.push(t.clone());
        }
    }
    Ok((bodies, rules, all))
}

/// What a jurisdiction takes reports of: the categories of its own catalogue and of the
/// bodies it routes to, each once (its own definition first, then the nearest body's),
/// among those that take reports from apps.
pub async fn services(app: &App, slug: &str) -> Result<Vec<Offered>> {
    let body = jurisdiction(app, slug).await?;
    let (bodies, ..) = reach(app, &body).await?;
    let public = app.db.public_scope().await?;
    let rows = service::Entity::find()
        .filter(service::Column::TenantId.is_in(bodies.iter().map(|b| b.id.0)))
        .order_by_asc(service::Column::Code)
        .all(public.conn())
        .await?;
    public.commit().await?;
    let mut out: Vec<Offered> = vec![];
    for b in &bodies {
        for s in rows.iter().filter(|s| s.tenant_id == b.id.0) {
            let channels = catalogue::channels(s);
            let takes_app = channels.is_empty() || channels.iter().any(|c| c == "app");
            if takes_app && !out.iter().any(|o| o.service.code == s.code) {
                out.push(Offered {
                    service: s.clone(),
                    body: b.clone(),
                });
            }
        }
    }
    out.sort_by(|a, b| a.service.code.cmp(&b.service.code));
    Ok(out)
}

/// One service of a jurisdiction, by code; NOT_FOUND if it takes no reports of it.
pub async fn service(app: &App, slug: &str, code: &str) -> Result<Offered> {
    services(app, slug)
        .await?
        .into_iter()
        .find(|o| o.service.code == code)
        .ok_or(Error::NotFound("service"))
}

/// A report as the spec sends it.
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub service_code: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub address: Option<String>,
    pub description: String,
    pub media_url: Option<String>,
    /// `attribute[code]` values; several for a multivaluelist.
    pub attributes: Vec<(String, Vec<String>)>,
    /// A picture uploaded with the report: (file name, bytes).
    pub media: Option<(String, Vec<u8>)>,
}

/// A report taken: the case, the body that took it and why.
pub struct Submitted {
    pub case: Case,
    pub body: Tenant,
    pub decision: Decision,
}

/// The attribute values as the service's custom fields hold them.
fn custom_fields(
    defs: &[catalogue::FieldDef],
    attributes: &[(String, Vec<String>)],
) -> Result<Value> {
    let mut out = serde_json::Map::new();
    for (code, values) in attributes {
        let Some(def) = defs.iter().find(|d| &d.key == code) else {
            return Err(Error::Validation(format!(
                "attribute[{code}] is not an attribute of this service"
            )));
        };
        let one = || values.last().cloned().unwrap_or_default();
        let v = match def.kind {
            FieldType::Number => {
                let raw = one();
                let n: f64 = raw.trim().parse().map_err(|_| {
                    Error::Validation(format!("attribute[{code}]: {raw:?} is not a number"))
                })?;
                serde_json::Number::from_f64(n)
                    .map(Value::Number)
                    .ok_or_else(|| {
                        Error::Validation(format!("attribute[{code}]: {raw:?} is not a number"))
                    })?
            }
            FieldType::MultiSelect => json!(values),
            _ => Value::String(one()),
        };
        out.insert(code.clone(), v);
    }
    Ok(Value::Object(out))
}

fn title(description: &str, service: &str) -> String {
    let first = description.lines().next().unwrap_or_default().trim();
    if first.is_empty() {
        return service.to_owned();
    }
    let mut t: String = first.chars().take(120).collect();
    if first.chars().count() > 120 {
        t.push('…');
    }
    t
}

/// Takes a report sent to jurisdiction `body` by `reporter` ([`reporter`]): routes it to
/// the body that takes it and opens the case there, with the routing decision in its
/// history.
pub async fn submit(
    app: &App,
    body: &Tenant,
    reporter: &Reporter,
    report: Report,
) -> Result<Submitted> {
    let actor_subject = match reporter {
        Reporter::Key(caller) => {
            let tc = caller.authorize(app, Permission::CaseCreate).await?;
            tc.identity().stored()
        }
        Reporter::Anonymous => "open311|anonymous".to_owned(),
    };
    if report.service_code.trim().is_empty() {
        return Err(Error::Validation("service_code is required".into()));
    }
    if report.description.chars().count() > 4_000 {
        return Err(Error::Validation(
            "description must be at most 4000 characters".into(),
        ));
    }
    let place = match (report.latitude, report.longitude) {
        (Some(lat), Some(lon)) => Some(Place::new(lat, lon, report.address.clone(), None)?),
        (None, None) => None,
        _ => return Err(Error::Validation("lat and long come together".into())),
    };
    let (_, rules, all) = reach(app, body).await?;
    let rules: Vec<_> = rules
        .into_iter()
        .filter(|r| r.service_code == report.service_code)
        .collect();
    let decision = match &place {
        Some(p) => {
            routing::route(
                &app.db,
                &all,
                body,
                &report.service_code,
                (p.latitude, p.longitude),
                &rules,
            )
            .await?
        }
        None => {
            return Err(Error::Validation(
                "lat and long are required: a report is routed by where it is".into(),
            ));
        }
    };
    let target = decision.target.clone();
    let ctx = TenantContext {
        tenant: target.clone(),
        principal: match reporter {
            Reporter::Key(c) => c.principal()?.clone(),
            Reporter::Anonymous => Principal {
                subject: "anonymous".into(),
                issuer: "open311".into(),
                kind: PrincipalKind::Service,
                name: None,
                fiscal_code: None,
                home_tenant: None,
                token_roles: vec![],
            },
        },
        roles: BTreeSet::new(),
        member_id: None,
    };
    // The picture is checked whole against the taking body's rules and stored before the
    // case is written, so that no row names bytes that are not there.
    let media = match report.media {
        Some((name, bytes)) => {
            let ceiling = app.files.ceiling;
            let limit = AttachmentSettings::of(&target.settings, ceiling)
                .unwrap_or_default()
                .limit(ceiling);
            let mut upload = attachments::check(&name, bytes, limit)
                .map_err(|e| Error::Validation(format!("media: {e}")))?;
            let key = attachments::key(target.id, &upload.sha256);
            app.files
                .store
                .put(&key, std::mem::take(&mut upload.bytes))
                .await
                .map_err(|e| Error::Internal(format!("attachment store: {e}")))?;
            Some(upload)
        }
        None => None,
    };
    let scope = app.db.scope(&ctx).await?;
    let svc = catalogue::by_code(&scope, &report.service_code).await?;
    let fields = custom_fields(&catalogue::field_defs(&svc), &report.attributes)?;
    let routing = json!({
        "jurisdiction": body.slug.as_str(),
        "reason": decision.reason,
        "area": decision.area,
        "ruleId": decision.rule_id,
        "explanation": decision.explanation,
    });
    let new = NewCase {
        service_code: report.service_code.clone(),
        title: title(&report.description, &svc.name),
        description: report.description.trim().to_owned(),
        custom_fields: fields,
        place,
        media_url: report.media_url.filter(|u| !u.trim().is_empty()),
        published: true,
        routing: Some(routing),
        reported_to: (target.id != body.id).then_some(body.id),
        // The router found an area of the taking body that holds the point (or the body
        // has none); a rule's body is checked when the case is written.
        place_checked: decision.reason != routing::Reason::Rule,
        ..Default::default()
    };
    let actor = Actor {
        subject: actor_subject,
        on_behalf_of: None,
        channel: Channel::App,
    };
    let mut c = cases::create(&scope, &actor, new, app.now()).await?;
    if let Some(upload) = &media {
        let by = civitas_tenants::Identity::new(&ctx.principal.issuer, &actor.subject);
        let a = attachments::record(&scope, c.id, None, upload, &by, app.now()).await?;
        cases::set_media(&scope, c.id, a.id.0).await?;
        c.media_attachment_id = Some(a.id.0);
    }
    app.commit(scope).await?;
    Ok(Submitted {
        case: c,
        body: target,
        decision,
    })
}

/// A report as the public feed shows it: no one's name, contact or custom answers.
#[derive(Clone, Debug)]
pub struct PublicReport {
    pub id: Uuid,
    pub open: bool,
    pub status_notes: Option<String>,
    pub service_code: String,
    pub service_name: String,
    pub description: String,
    pub agency: String,
    pub requested_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub expected_at: DateTime<Utc>,
    pub place: Option<Place>,
    pub media_url: Option<String>,
    /// The picture uploaded with it, served at `/open311/v2/media/{id}`.
    pub media_attachment: Option<Uuid>,
}

/// The public feed's filters (each optional).
#[derive(Clone, Debug, Default)]
pub struct ReportQuery {
    /// When given, only these (and every other filter is ignored, as the spec says).
    pub ids: Vec<Uuid>,
    pub service_codes: Vec<String>,
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
    /// `Some(true)` open, `Some(false)` closed.
    pub open: Option<bool>,
    /// Within `radius` metres of `(lat, lon)`.
    pub near: Option<(f64, f64, f64)>,
}

/// The reports of a jurisdiction's public feed, newest first: those sent through Open311
/// to it or to a body under it, and those it routed elsewhere.
pub async fn reports(app: &App, slug: &str, q: ReportQuery) -> Result<Vec<PublicReport>> {
    let body = jurisdiction(app, slug).await?;
    let (bodies, ..) = reach(app, &body).await?;
    let tree: Vec<Uuid> = bodies.iter().map(|b| b.id.0).collect();
    let names: HashMap<Uuid, String> = bodies
        .iter()
        .map(|b| (b.id.0, b.display_name.clone()))
        .collect();
    let public = app.db.public_scope().await?;
    let services = service::Entity::find()
        .filter(service::Column::TenantId.is_in(tree.clone()))
        .all(public.conn())
        .await?;
    let mut select = case::Entity::find()
        .filter(case::Column::Published.eq(true))
        .filter(case::Column::EraseAfter.is_null())
        .filter(
            Condition::any()
                .add(case::Column::TenantId.is_in(tree.clone()))
                .add(case::Column::ReportedTo.eq(body.id.0)),
        );
    if !q.ids.is_empty() {
        select = select.filter(case::Column::Id.is_in(q.ids.clone()));
    } else {
        let end = q.end.unwrap_or_else(|| app.now());
        let start = q
            .start
            .unwrap_or_else(|| end - chrono::Duration::days(DEFAULT_DAYS));
        select = select
            .filter(case::Column::CreatedAt.gte(start))
            .filter(case::Column::CreatedAt.lte(end));
        if !q.service_codes.is_empty() {
            let ids: Vec<Uuid> = services
                .iter()
                .filter(|s| q.service_codes.contains(&s.code))
                .map(|s| s.id)
                .collect();
            select = select.filter(case::Column::ServiceId.is_in(ids));
        }
        if let Some((lat, lon, radius)) = q.near {
            let b = BBox::around(lat, lon, radius);
            select = select
                .filter(case::Column::Latitude.between(b.min_lat, b.max_lat))
                .filter(case::Column::Longitude.between(b.min_lon, b.max_lon));
        }
    }
    let rows = select
        .order_by_desc(case::Column::CreatedAt)
        .limit(MAX_REPORTS)
        .all(public.conn())
        .await?;
    public.commit().await?;
    let mut out = vec![];
    for m in rows {
        let agency = names.get(&m.tenant_id).cloned();
        let c: Case = m.try_into()?;
        if q.ids.is_empty() {
            if q.open.is_some_and(|o| o != c.status.is_open()) {
                continue;
            }
            if let (Some((lat, lon, radius)), Some(p)) = (q.near, &c.place)
                && distance_m((lat, lon), (p.latitude, p.longitude)) > radius
            {
                continue;
            }
        }
        let svc = services.iter().find(|s| s.id == c.service_id.0);
        out.push(PublicReport {
            id: c.id.0,
            open: c.status.is_open(),
            status_notes: c.resolution_note.filter(|_| !c.status.is_open()),
            service_code: svc.map(|s| s.code.clone()).unwrap_or_default(),
            service_name: svc.map(|s| s.name.clone()).unwrap_or_default(),
            description: c.description,
            agency: agency.unwrap_or_default(),
            requested_at: c.created_at,
            updated_at: c.updated_at,
            expected_at: c.due_at,
            place: c.place,
            media_url: c.media_url,
            media_attachment: c.media_attachment_id,
        });
    }
    Ok(out)
}

/// One report of the feed; NOT_FOUND when the jurisdiction's feed has no such report.
pub async fn report(app: &App, slug: &str, id: Uuid) -> Result<PublicReport> {
    let q = ReportQuery {
        ids: vec![id],
        ..Default::default()
    };
    reports(app, slug, q)
        .await?
        .into_iter()
        .next()
        .ok_or(Error::NotFound("service request"))
}

/// The picture uploaded with a published report, and its bytes; NOT_FOUND for any other
/// file (a case's other attachments are never public).
pub async fn media(app: &App, id: Uuid) -> Result<(Attachment, Vec<u8>)> {
    let public = app.db.public_scope().await?;
    let published = case::Entity::find()
        .filter(case::Column::Published.eq(true))
        .filter(case::Column::EraseAfter.is_null())
        .filter(case::Column::MediaAttachmentId.eq(id))
        .one(public.conn())
        .await?
        .ok_or(Error::NotFound("media"))?;
    let row = attachment::Entity::find()
        .filter(attachment::Column::TenantId.eq(published.tenant_id))
        .filter(attachment::Column::Id.eq(id))
        .one(public.conn())
        .await?
        .ok_or(Error::NotFound("media"))?;
    public.commit().await?;
    let a = Attachment::from(row);
    let bytes = app
        .files
        .store
        .get(&attachments::key(a.tenant_id, &a.sha256))
        .await
        .map_err(|e| Error::Internal(format!("attachment store: {e}")))?;
    Ok((a, bytes))
}

/// Whether `status` is one of the spec's (`open`, `closed`).
pub fn status_word(s: &str) -> Result<bool> {
    match s.trim() {
        "open" => Ok(true),
        "closed" => Ok(false),
        other => Err(Error::Validation(format!(
            "status must be open or closed, not {other:?}"
        ))),
    }
}
