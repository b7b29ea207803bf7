//! The named scenarios: what each client sends, with whose token.

use std::sync::Arc;

use civitas_crm::identity::FiscalCode;
use civitas_tenants::{PrincipalKind, Role};
use serde_json::json;

use super::driver::Rng;
use super::layout::{Layout, SERVICES, attachment_id, citizen_subject, person_id, tenant_slug};
use crate::dev_issuer::{DevIssuer, TokenRequest};

/// How many `upsertCaseFromSource` one upsert-bulk request carries (aliased).
pub const PUSHES_PER_REQUEST: usize = 10;

/// One HTTP request of a scenario.
pub struct Request {
    pub token: Arc<str>,
    pub body: String,
    /// A `GET` of this path instead of a GraphQL request.
    pub get: Option<String>,
    /// `token` is a portal session cookie, not a bearer token.
    pub session: bool,
    /// A form `POST`ed to this path (Open311) instead of a GraphQL request: (path, body).
    pub form: Option<(String, String)>,
}

pub trait Workload: Send + Sync {
    fn next(&self, rng: &mut Rng) -> Request;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scenario {
    /// An operator of a random body opens a random citizen the body knows.
    CitizenView,
    /// A signed-in citizen lists their cases across every body.
    OwnCases,
    /// An operator opens a case with custom fields.
    CreateCase,
    /// An integrator pushes ten case statuses from a legacy system in one request.
    UpsertBulk,
    /// A contact centre: views, searches, interactions, new cases, case lists.
    ContactCentre,
    /// A signed-in citizen searches every body's public catalogue by a word.
    CatalogueSearch,
    /// A signed-in citizen downloads the file attached to one of their cases (100 KiB).
    AttachmentDownload,
    /// A citizen signed in to the portal opens its home page (open requests of every body,
    /// unread notifications), server-rendered.
    PortalHome,
    /// An app posts a geolocated report to the capital's Open311 jurisdiction, which routes
    /// it to the municipio whose area holds the point (or keeps it).
    Open311Report,
}

impl Scenario {
    pub const ALL: [Scenario; 9] = [
        Scenario::CitizenView,
        Scenario::OwnCases,
        Scenario::CreateCase,
        Scenario::UpsertBulk,
        Scenario::ContactCentre,
        Scenario::CatalogueSearch,
        Scenario::AttachmentDownload,
        Scenario::PortalHome,
        Scenario::Open311Report,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scenario::CitizenView => "citizen-view",
            Scenario::OwnCases => "own-cases",
            Scenario::CreateCase => "create-case",
            Scenario::UpsertBulk => "upsert-bulk",
            Scenario::ContactCentre => "contact-centre",
            Scenario::CatalogueSearch => "catalogue-search",
            Scenario::AttachmentDownload => "attachment-download",
            Scenario::PortalHome => "portal-home",
            Scenario::Open311Report => "open311-report",
        }
    }
}

/// Tokens minted once, before the clock starts.
#[derive(Clone)]
pub struct Tokens {
    operators: Vec<Arc<str>>,
    integrators: Vec<Arc<str>>,
    /// `(person number, token)` of a sample of citizens.
    citizens: Vec<(u64, Arc<str>)>,
    /// Portal session cookies (`bench::portal::sessions`), for the scenarios that need them.
    pub sessions: Vec<Arc<str>>,
}

const CITIZEN_SAMPLE: u64 = 20_000;

impl Tokens {
    pub fn mint(issuer: &DevIssuer, layout: &Layout, seed: u64) -> anyhow::Result<Tokens> {
        let mint = |subject: String, kind, tenant: Option<String>, roles, fc| {
            issuer
                .mint(&TokenRequest {
                    subject,
                    kind,
                    name: None,
                    tenant,
                    roles,
                    fiscal_code: fc,
                    ttl: chrono::Duration::hours(12),
                })
                .map(Arc::<str>::from)
        };
        let mut operators = Vec::new();
        let mut integrators = Vec::new();
        for t in 0..layout.tenants {
            let slug = tenant_slug(t);
            operators.push(mint(
                format!("{slug}-operator"),
                PrincipalKind::Operator,
                Some(slug.clone()),
                vec![Role::Operator],
                None,
            )?);
            integrators.push(mint(
                format!("{slug}-legacy"),
                PrincipalKind::Service,
                Some(slug),
                vec![Role::Integrator],
                None,
            )?);
        }
        let mut rng = Rng::new(seed);
        let mut citizens = Vec::new();
        for _ in 0..CITIZEN_SAMPLE.min(layout.persons) {
            let p = rng.below(layout.persons);
            let code = FiscalCode::synthetic(p);
            citizens.push((
                p,
                mint(
                    citizen_subject(code.as_str()),
                    PrincipalKind::Citizen,
                    None,
                    vec![],
                    Some(code.to_string()),
                )?,
            ));
        }
        Ok(Tokens {
            operators,
            integrators,
            citizens,
            sessions: Vec::new(),
        })
    }
}

/// Which bodies' operators send the requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bodies {
    All,
    Only(u32),
    AllBut(u32),
}

impl Bodies {
    fn admits(self, t: u32) -> bool {
        match self {
            Bodies::All => true,
            Bodies::Only(x) => t == x,
            Bodies::AllBut(x) => t != x,
        }
    }
}

/// The workload of `scenario` over the data set `layout`, sent by `bodies`.
pub fn workload(
    scenario: Scenario,
    layout: Layout,
    tokens: Arc<Tokens>,
    bodies: Bodies,
    seed: u64,
) -> Arc<dyn Workload> {
    let next = match scenario {
        Scenario::CitizenView => City::citizen_view,
        Scenario::OwnCases => City::own_cases,
        Scenario::CreateCase => City::create_case,
        Scenario::UpsertBulk => City::upsert_bulk,
        Scenario::ContactCentre => City::contact_centre,
        Scenario::CatalogueSearch => City::catalogue_search,
        Scenario::AttachmentDownload => City::attachment_download,
        Scenario::PortalHome => City::portal_home,
        Scenario::Open311Report => City::open311_report,
    };
    Arc::new(City {
        layout,
        tokens,
        bodies,
        next,
        source: source_name(seed),
    })
}

struct City {
    layout: Layout,
    tokens: Arc<Tokens>,
    bodies: Bodies,
    next: fn(&City, &mut Rng) -> Request,
    source: String,
}

/// The legacy system the pushes of a run come from: each run its own, so that one run's
/// pushes do not collide with the cases another left behind.
pub fn source_name(seed: u64) -> String {
    format!("protocollo-{seed}")
}

impl Workload for City {
    fn next(&self, rng: &mut Rng) -> Request {
        (self.next)(self, rng)
    }
}

fn body(query: &str, variables: serde_json::Value) -> String {
    json!({ "query": query, "variables": variables }).to_string()
}

pub const CITIZEN_VIEW: &str = "query View($p: ID!) { citizenView(personId: $p, purpose: \"citizen_contact\") { personId fiscalCode \
    profiles { consentId shared profile { givenName familyName phones emails tenant { slug } } } \
    cases { consentId shared case { number title status dueAt tenant { slug } } } \
    interactions { consentId interaction { channel summary occurredAt } } } }";

const OWN_CASES: &str =
    "query { me { citizen { cases { number title status dueAt tenant { slug } } } } }";

const CATALOGUE_SEARCH: &str = "query Find($w: String!) { catalogue(search: $w, first: 20) { \
    edges { node { body { slug name } service { code name area channels slaHours } } } \
    pageInfo { hasNextPage endCursor } } }";

/// Words a citizen types, each in a form other than the services' own (layout::SERVICES).
pub const CATALOGUE_WORDS: [&str; 4] = ["certificati", "ingombrante", "strada", "residenze"];

const CREATE_CASE: &str =
    "mutation Open($i: CreateCaseInput!) { createCase(input: $i) { id number status dueAt } }";

const SEARCH: &str = "query Find($cf: String!) { searchCitizens(fiscalCode: $cf) { items { id personId givenName familyName phones } } }";

const RECORD: &str =
    "mutation Note($i: RecordInteractionInput!) { recordInteraction(input: $i) { id } }";

const CASE_LIST: &str = "query List($p: ID!) { cases(first: 10, filter: { personId: $p }) { edges { node { number title status dueAt } } } }";

impl City {
    /// A random citizen and a body that holds a profile of them.
    fn known_pair(&self, rng: &mut Rng) -> (u64, u32) {
        loop {
            let p = rng.below(self.layout.persons);
            let k = rng.below(u64::from(self.layout.profiles_per_person())) as u32;
            let t = self.layout.tenant_of(p, k);
            if self.bodies.admits(t) {
                return (p, t);
            }
        }
    }

    fn any_body(&self, rng: &mut Rng) -> u32 {
        loop {
            let t = rng.below(u64::from(self.layout.tenants)) as u32;
            if self.bodies.admits(t) {
                return t;
            }
        }
    }

    fn operator(&self, t: u32) -> Arc<str> {
        self.tokens.operators[t as usize].clone()
    }

    fn citizen_view(&self, rng: &mut Rng) -> Request {
        let (p, t) = self.known_pair(rng);
        Request {
            token: self.operator(t),
            body: body(CITIZEN_VIEW, json!({ "p": person_id(p) })),
            get: None,
            session: false,
            form: None,
        }
    }

    fn own_cases(&self, rng: &mut Rng) -> Request {
        let i = rng.below(self.tokens.citizens.len() as u64) as usize;
        Request {
            token: self.tokens.citizens[i].1.clone(),
            body: body(OWN_CASES, json!({})),
            get: None,
            session: false,
            form: None,
        }
    }

    fn catalogue_search(&self, rng: &mut Rng) -> Request {
        let i = rng.below(self.tokens.citizens.len() as u64) as usize;
        let w = CATALOGUE_WORDS[rng.below(CATALOGUE_WORDS.len() as u64) as usize];
        Request {
            token: self.tokens.citizens[i].1.clone(),
            body: body(CATALOGUE_SEARCH, json!({ "w": w })),
            get: None,
            session: false,
            form: None,
        }
    }

    fn attachment_download(&self, rng: &mut Rng) -> Request {
        let i = rng.below(self.tokens.citizens.len() as u64) as usize;
        let (p, token) = &self.tokens.citizens[i];
        Request {
            token: token.clone(),
            body: String::new(),
            get: Some(format!("/attachments/{}", attachment_id(*p))),
            session: false,
            form: None,
        }
    }

    fn portal_home(&self, rng: &mut Rng) -> Request {
        let sessions = &self.tokens.sessions;
        Request {
            token: sessions[rng.below(sessions.len() as u64) as usize].clone(),
            body: String::new(),
            get: Some("/".into()),
            session: true,
            form: None,
        }
    }

    fn create_case(&self, rng: &mut Rng) -> Request {
        let (p, t) = self.known_pair(rng);
        let input = json!({
            "serviceCode": SERVICES[0].0,
            "personId": person_id(p),
            "title": "Ritiro di un divano",
            "description": "Richiesta al telefono",
            "channel": "phone",
            "customFields": { "indirizzo": format!("Via Tuscolana {}", rng.below(900)), "pezzi": 1 + rng.below(4), "piano": "terra" },
        });
        Request {
            token: self.operator(t),
            body: body(CREATE_CASE, json!({ "i": input })),
            get: None,
            session: false,
            form: None,
        }
    }

    fn open311_report(&self, rng: &mut Rng) -> Request {
        let (lat, long) = super::places::point(rng);
        let form = serde_urlencoded::to_string([
            ("jurisdiction_id", tenant_slug(0)),
            ("api_key", super::places::API_KEY.to_owned()),
            ("service_code", super::places::SERVICE.to_owned()),
            ("lat", lat.to_string()),
            ("long", long.to_string()),
            (
                "address_string",
                format!("Via Appia Nuova {}", rng.below(900)),
            ),
            ("description", "Buca in carreggiata".to_owned()),
        ])
        .unwrap_or_default();
        Request {
            token: self.operator(0),
            body: String::new(),
            get: None,
            session: false,
            form: Some(("/open311/v2/requests.json".into(), form)),
        }
    }

    fn upsert_bulk(&self, rng: &mut Rng) -> Request {
        // Never CLOSED: a source cannot reopen a closed case, and the pushes land at random.
        const STATUSES: [&str; 4] = ["NEW", "IN_PROGRESS", "WAITING_CITIZEN", "RESOLVED"];
        let t = self.any_body(rng);
        let source = &self.source;
        let mut doc = String::from("mutation Push {");
        for n in 0..PUSHES_PER_REQUEST {
            // A citizen the body knows: its first profile holder.
            let per_body = (self.layout.persons / u64::from(self.layout.tenants)).max(1);
            let p = u64::from(t) + u64::from(self.layout.tenants) * rng.below(per_body);
            let fc = if p < self.layout.persons && self.layout.tenant_of(p, 0) == t {
                format!("fiscalCode: \"{}\", ", FiscalCode::synthetic(p))
            } else {
                String::new()
            };
            doc.push_str(&format!(
                " u{n}: upsertCaseFromSource(source: \"{source}\", externalRef: \"P{}\", input: {{ \
                 serviceCode: \"{}\", {fc}title: \"Pratica dal protocollo\", status: {} }}) {{ changed case {{ id status }} }}",
                rng.below(50_000),
                SERVICES[1].0,
                STATUSES[rng.below(4) as usize],
            ));
        }
        doc.push_str(" }");
        Request {
            token: self.tokens.integrators[t as usize].clone(),
            body: body(&doc, json!({})),
            get: None,
            session: false,
            form: None,
        }
    }

    /// 50% citizen views, 20% searches by codice fiscale, 15% recorded calls, 10% case
    /// lists of a citizen, 5% new cases.
    fn contact_centre(&self, rng: &mut Rng) -> Request {
        let roll = rng.below(100);
        if roll < 50 {
            return self.citizen_view(rng);
        }
        if roll >= 95 {
            return self.create_case(rng);
        }
        let (p, t) = self.known_pair(rng);
        let body = if roll < 70 {
            body(
                SEARCH,
                json!({ "cf": FiscalCode::synthetic(p).to_string() }),
            )
        } else if roll < 85 {
            body(
                RECORD,
                json!({ "i": { "personId": person_id(p), "channel": "phone", "direction": "inbound", "summary": "Chiede lo stato della pratica" } }),
            )
        } else {
            body(CASE_LIST, json!({ "p": person_id(p) }))
        };
        Request {
            token: self.operator(t),
            body,
            get: None,
            session: false,
            form: None,
        }
    }
}
