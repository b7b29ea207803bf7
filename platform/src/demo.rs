//! The demo data set: Roma Capitale, two municipi and a partecipata, with operators and
//! services. Loaded only when absent, so `--demo` may be given on every start.

use civitas_crm::catalogue::{self, NewService};
use civitas_crm::onboarding::{self, FirstAdmin};
use civitas_policies::Authorizer;
use civitas_tenants::members::{self, MemberProfile};
use civitas_tenants::registry::{self, NewTenant};
use civitas_tenants::{Db, Identity, Role, TenantContext, TenantKind, TenantSlug};

use crate::dev_issuer;
use serde_json::json;

struct DemoTenant {
    slug: &'static str,
    name: &'static str,
    kind: TenantKind,
    parent: Option<&'static str>,
    /// `(subject, display name, role)`; the first is the tenant administrator.
    people: &'static [(&'static str, &'static str, Role)],
    /// `(code, name, area)`
    services: &'static [(&'static str, &'static str, &'static str)],
}

const DEMO: &[DemoTenant] = &[
    DemoTenant {
        slug: "roma",
        name: "Roma Capitale",
        kind: TenantKind::Capitale,
        parent: None,
        people: &[
            ("roma-admin", "Giulia Rossi", Role::TenantAdmin),
            ("roma-sup", "Paolo Ferri", Role::Supervisor),
            ("roma-op", "Marco Bianchi", Role::Operator),
            ("roma-tutor", "Anna Conti", Role::Tutor),
        ],
        services: &[
            ("ANAG-CERT", "Certificato anagrafico", "Anagrafe"),
            ("TRIB-TARI", "Tassa sui rifiuti (TARI)", "Tributi"),
            ("MOB-ZTL", "Permesso ZTL", "Mobilità"),
        ],
    },
    DemoTenant {
        slug: "municipio-i",
        name: "Municipio Roma I Centro",
        kind: TenantKind::Municipio,
        parent: Some("roma"),
        people: &[
            ("m1-admin", "Luca Marino", Role::TenantAdmin),
            ("m1-op", "Sara Greco", Role::Operator),
        ],
        services: &[
            ("ANAG-CIE", "Carta d'identità elettronica", "Anagrafe"),
            ("SCUO-ISCR", "Iscrizione al nido", "Scuola"),
        ],
    },
    DemoTenant {
        slug: "municipio-ii",
        name: "Municipio Roma II",
        kind: TenantKind::Municipio,
        parent: Some("roma"),
        people: &[
            ("m2-admin", "Elena Romano", Role::TenantAdmin),
            ("m2-op", "Davide Costa", Role::Operator),
        ],
        services: &[
            ("ANAG-CIE", "Carta d'identità elettronica", "Anagrafe"),
            ("SOC-ASSIST", "Assistenza domiciliare", "Servizi sociali"),
        ],
    },
    DemoTenant {
        slug: "ama",
        name: "AMA S.p.A.",
        kind: TenantKind::Partecipata,
        parent: Some("roma"),
        people: &[
            ("ama-admin", "Roberto Gallo", Role::TenantAdmin),
            ("ama-op", "Chiara Fontana", Role::Operator),
            ("ama-sap", "AMA SAP connector", Role::Integrator),
        ],
        services: &[
            ("RIF-INGOMB", "Ritiro ingombranti", "Rifiuti"),
            ("RIF-SEGN", "Segnalazione cassonetto", "Rifiuti"),
        ],
    },
];

/// The custom fields of a demo service: what is to be collected, for bulky waste (the
/// examples in the documentation fill them in).
fn demo_fields(code: &str) -> Vec<catalogue::FieldDef> {
    if code != "RIF-INGOMB" {
        return Vec::new();
    }
    vec![
        catalogue::FieldDef {
            key: "items".into(),
            label: "Oggetti".into(),
            kind: catalogue::FieldType::MultiSelect,
            required: true,
            options: ["sofa", "fridge", "mattress", "wardrobe"]
                .map(String::from)
                .to_vec(),
        },
        catalogue::FieldDef {
            key: "floor".into(),
            label: "Piano".into(),
            kind: catalogue::FieldType::Number,
            required: false,
            options: Vec::new(),
        },
    ]
}

fn slug(s: &str) -> anyhow::Result<TenantSlug> {
    Ok(TenantSlug::parse(s)?)
}

/// Loads the demo data unless its first tenant already exists. Returns whether it loaded.
pub async fn load(db: &Db, authorizer: &Authorizer) -> anyhow::Result<bool> {
    if registry::find_by_slug(db, &slug(DEMO[0].slug)?)
        .await?
        .is_some()
    {
        return Ok(false);
    }
    for t in DEMO {
        let (admin_subject, admin_name, _) = t.people[0];
        let done = onboarding::onboard(
            db,
            authorizer,
            &Identity::new("civitas", "system:demo"),
            NewTenant {
                slug: slug(t.slug)?,
                display_name: t.name.into(),
                kind: t.kind,
                parent: t.parent.map(slug).transpose()?,
                settings: json!({ "locale": "it-IT", "timezone": "Europe/Rome" }),
            },
            FirstAdmin {
                identity: Identity::new(dev_issuer::ISSUER, admin_subject),
                profile: MemberProfile {
                    display_name: Some(admin_name.into()),
                    email: Some(format!("{admin_subject}@{}.example", t.slug)),
                },
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("demo tenant {}: {e}", t.slug))?;
        let ctx = TenantContext::system(done.tenant, "demo");
        let scope = db.scope(&ctx).await?;
        for (subject, name, role) in &t.people[1..] {
            let profile = MemberProfile {
                display_name: Some((*name).into()),
                email: Some(format!("{subject}@{}.example", t.slug)),
            };
            let who = Identity::new(dev_issuer::ISSUER, *subject);
            members::grant(&scope, "system:demo", &who, *role, &profile).await?;
        }
        for (code, name, area) in t.services {
            let new = NewService {
                code: (*code).into(),
                name: (*name).into(),
                area: (*area).into(),
                description: String::new(),
                custom_fields: demo_fields(code),
                ..Default::default()
            };
            catalogue::create(&scope, new)
                .await
                .map_err(|e| anyhow::anyhow!("demo service {code}: {e}"))?;
        }
        if t.slug == "roma" {
            demo_sheets(&scope).await?;
        }
        scope.commit().await?;
    }
    load_citizens(db).await?;
    tracing::info!("demo data loaded");
    Ok(true)
}

/// Roma Capitale's published sheet of its registry certificate, in Italian and English.
async fn demo_sheets(scope: &civitas_tenants::Scope) -> anyhow::Result<()> {
    use civitas_crm::notifications::Language;
    use civitas_crm::sheets::{self, Sections};
    let it = Sections {
        what: "Il certificato anagrafico attesta la residenza, lo stato di famiglia o la cittadinanza.".into(),
        audience: "Chi è iscritto all'anagrafe di Roma Capitale, per sé o per un familiare.".into(),
        how: "Presenta la richiesta online, allo sportello del tuo municipio o per telefono allo 060606.".into(),
        needs: "Il tuo codice fiscale. Per un familiare, anche il suo.".into(),
        outcome: "Il certificato in PDF con sigillo elettronico, valido sei mesi.".into(),
        times: "Online: subito. Allo sportello: in giornata.".into(),
        costs: "Gratuito online. In carta libera solo per gli usi previsti dalla legge; altrimenti una marca da bollo da 16 euro.".into(),
        contacts: "Ufficio anagrafe, via Petroselli 50, Roma. Lunedì-venerdì 8:30-13:00.".into(),
    };
    let en = Sections {
        what: "The registry certificate states your residence, household or citizenship.".into(),
        audience: "Anyone registered in Roma Capitale's population register, for themselves or a relative.".into(),
        how: "Apply online, at your municipio's counter or by phone on 060606.".into(),
        needs: "Your codice fiscale; for a relative, theirs too.".into(),
        ..Sections::default()
    };
    let by = Identity::new(dev_issuer::ISSUER, "roma-admin");
    let now = chrono::Utc::now();
    for (lang, text) in [(Language::It, it), (Language::En, en)] {
        sheets::save_draft(scope, "ANAG-CERT", lang, text, &by, now).await?;
        sheets::publish(scope, "ANAG-CERT", lang, &by, now).await?;
    }
    Ok(())
}

/// `(tenant, codice fiscale, given name, family name, email, phone)`
type DemoCitizen = (
    &'static str,
    Option<&'static str>,
    &'static str,
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
);

const CITIZENS: &[DemoCitizen] = &[
    (
        "roma",
        Some("RSSMRA85T10A562S"),
        "Mario",
        "Rossi",
        Some("mario.rossi@example.it"),
        Some("333 123 4567"),
    ),
    (
        "municipio-i",
        Some("RSSMRA85T10A562S"),
        "Mario",
        "Rossi",
        None,
        Some("333 123 4567"),
    ),
    (
        "municipio-ii",
        Some("BNCLRA90D45F205B"),
        "Laura",
        "Bianchi",
        Some("laura.bianchi@example.it"),
        None,
    ),
    (
        "ama",
        Some("BNCLRA90D45F205B"),
        "Laura",
        "Bianchi",
        None,
        Some("+39 347 765 4321"),
    ),
    (
        "roma",
        Some("VRDGPP80A01H501U"),
        "Giuseppe",
        "Verdi",
        None,
        Some("06 1234 5678"),
    ),
    (
        "roma",
        None,
        "Caller",
        "Unknown",
        None,
        Some("320 000 1111"),
    ),
];

/// The demo citizens who have a codice fiscale, `(codice fiscale, name)`, once each: whom
/// the development sign-in offers.
pub fn citizens() -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = vec![];
    for (_, code, given, family, _, _) in CITIZENS {
        if let Some(code) = code
            && !out.iter().any(|(c, _)| c == code)
        {
            out.push(((*code).to_owned(), format!("{given} {family}")));
        }
    }
    out
}

async fn load_citizens(db: &Db) -> anyhow::Result<()> {
    use civitas_crm::profiles::{self, ProfileInput};
    use civitas_crm::sharing::{self, Collector, ConsentScope, NewSharingConsent};
    use civitas_crm::{persons, privacy};

    for (slug_, code, given, family, email, phone) in CITIZENS {
        let tenant = registry::find_by_slug(db, &slug(slug_)?)
            .await?
            .ok_or_else(|| anyhow::anyhow!("demo tenant {slug_}"))?;
        let scope = db.scope(&TenantContext::system(tenant, "demo")).await?;
        let input = ProfileInput {
            given_name: Some((*given).into()),
            family_name: Some((*family).into()),
            emails: Some(email.iter().map(|e| e.to_string()).collect()),
            phones: Some(phone.iter().map(|p| p.to_string()).collect()),
            preferred_channel: Some("app".into()),
            language: Some("it".into()),
            notes: None,
        };
        profiles::register(
            &scope,
            &Identity::new("civitas", "system:demo"),
            *code,
            input,
        )
        .await
        .map_err(|e| anyhow::anyhow!("demo citizen {given} {family}: {e}"))?;
        scope.commit().await?;
    }

    // Mario Rossi lets Municipio I see what every body holds about him, and lets Roma
    // Capitale's contact centre recognise him by phone.
    let roma = registry::find_by_slug(db, &slug("roma")?)
        .await?
        .ok_or_else(|| anyhow::anyhow!("roma"))?;
    let m1 = registry::find_by_slug(db, &slug("municipio-i")?)
        .await?
        .ok_or_else(|| anyhow::anyhow!("municipio-i"))?;
    let mario = civitas_crm::identity::FiscalCode::parse("RSSMRA85T10A562S")?;
    let now = db.clock().now();
    let scope = db.scope(&TenantContext::system(m1.clone(), "demo")).await?;
    let person = persons::id_by_fiscal_code(scope.conn(), &mario)
        .await?
        .ok_or_else(|| anyhow::anyhow!("mario"))?;
    let collector = Collector::Operator {
        subject: "m1-op".into(),
        tenant: m1.id,
    };
    let consent = NewSharingConsent {
        person_id: person,
        source: None,
        grantee: m1.id,
        scopes: vec![
            ConsentScope::Profile,
            ConsentScope::Cases,
            ConsentScope::Interactions,
        ],
        purpose: "Sportello unico: seguire le pratiche del cittadino in tutti gli enti".into(),
        expires_at: Some(now + chrono::Duration::days(365)),
        channel: "counter".into(),
    };
    sharing::grant(scope.conn(), &collector, consent, now).await?;
    scope.commit().await?;
    let scope = db
        .scope(&TenantContext::system(roma.clone(), "demo"))
        .await?;
    let collector = Collector::Operator {
        subject: "roma-op".into(),
        tenant: roma.id,
    };
    privacy::record(
        &scope,
        &collector,
        person,
        privacy::CALLER_RECOGNITION,
        "2026-01",
        "phone",
        now,
    )
    .await?;
    scope.commit().await?;
    crate::demo_places::load(db).await
}
