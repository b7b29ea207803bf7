//! The register of processing activities (GDPR art. 30) of one body, generated from what
//! the body configured: its services and their fields, the channels it notifies on and the
//! providers behind them, its integrations, its identity providers, the bodies it shares
//! with under consent. A machine-readable document and the same as Markdown, in Italian or
//! English, for the body's data protection officer.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::notify::NotificationSettings;

/// What the register is generated from.
#[derive(Clone, Debug)]
pub struct Inputs {
    pub body: Body,
    pub services: Vec<ServiceEntry>,
    pub notifications: NotificationSettings,
    /// Each webhook: the host it posts to and the event types it receives.
    pub webhooks: Vec<(String, Vec<String>)>,
    /// Issuers of the body's own identity providers.
    pub identity_providers: Vec<String>,
    /// Bodies that read this body's records under live consents, with how many.
    pub shares_to: Vec<(String, u64)>,
    /// Bodies whose records this body reads under live consents, with how many ("every
    /// body" for a consent that names none).
    pub reads_from: Vec<(String, u64)>,
    /// The purposes the body's staff may declare when they open a citizen's records, each
    /// with the law it names: `(code, label, legal basis)`.
    pub access_purposes: Vec<(String, String, String)>,
    /// The body's retention schedule: years per service code (`None`: its default).
    pub retention: Vec<(Option<String>, u32)>,
    /// Whether browsers reach the platform over HTTPS only (HSTS).
    pub https: bool,
    /// The id of the key that seals stored secrets.
    pub secrets_key_id: String,
    pub generated_at: DateTime<Utc>,
}

#[derive(Clone, Debug)]
pub struct Body {
    pub slug: String,
    pub name: String,
    pub kind: String,
    pub parent: Option<String>,
    pub privacy_policy_url: Option<String>,
}

#[derive(Clone, Debug)]
pub struct ServiceEntry {
    pub code: String,
    pub name: String,
    pub area: String,
    /// The labels of the custom fields a request of it carries.
    pub fields: Vec<String>,
}

/// The register, as a document and as Markdown.
#[derive(Clone, Debug)]
pub struct Register {
    pub document: Value,
    pub markdown: String,
}

/// Italian or English.
fn tr(italian: bool, it: &str, en: &str) -> String {
    if italian { it } else { en }.to_owned()
}

/// The host of a URL (what a register names of a recipient), or the URL when it has none.
pub fn host_of(url: &str) -> String {
    url.split_once("://")
        .map(|(_, rest)| rest)
        .unwrap_or(url)
        .split(['/', '?', '#'])
        .next()
        .unwrap_or(url)
        .rsplit('@')
        .next()
        .unwrap_or(url)
        .to_owned()
}

fn retention(it: bool) -> String {
    tr(
        it,
        "Finché servono al servizio; alla richiesta di cancellazione del cittadino i dati sono cancellati, salvo le pratiche che il piano di conservazione dell'ente trattiene (vedi sotto).",
        "As long as the service needs them; when the citizen asks for erasure they are erased, except the cases the body's retention schedule keeps (below).",
    )
}

/// The cases' retention: the body's schedule, its default first.
fn case_retention(it: bool, schedule: &[(Option<String>, u32)]) -> String {
    let default = schedule
        .iter()
        .find(|(code, _)| code.is_none())
        .map(|(_, y)| *y)
        .unwrap_or(crate::retention::DEFAULT_KEEP_YEARS);
    let mut out = tr(
        it,
        &format!(
            "Dopo una richiesta di cancellazione le pratiche sono conservate, con accesso limitato, {default} anni dalla chiusura, poi cancellate"
        ),
        &format!(
            "After an erasure request, cases are kept, restricted, for {default} years after they close, then erased"
        ),
    );
    for (code, years) in schedule {
        if let Some(code) = code {
            out.push_str(&tr(
                it,
                &format!("; {code}: {years} anni"),
                &format!("; {code}: {years} years"),
            ));
        }
    }
    out.push('.');
    out
}

/// The processors that deliver the body's notifications, from its settings.
fn notification_processors(it: bool, n: &NotificationSettings) -> Vec<Value> {
    let mut out = Vec::new();
    if let Some(e) = &n.email {
        out.push(json!({ "name": tr(it, "Server di posta (SMTP)", "Mail server (SMTP)"), "host": e.host, "channel": "email" }));
    }
    if let Some(s) = &n.sms {
        out.push(json!({ "name": tr(it, "Gateway SMS", "SMS gateway"), "host": host_of(&s.url), "channel": "sms" }));
    }
    if let Some(w) = &n.whatsapp {
        out.push(json!({
            "name": "WhatsApp Business Cloud API",
            "host": host_of(&w.messages_url()),
            "channel": "whatsapp",
            "transferOutsideEu": tr(it, "Possibile: il fornitore può trattare i dati fuori dall'UE", "Possible: the provider may process data outside the EU"),
        }));
    }
    if let Some(p) = &n.push {
        out.push(json!({ "name": tr(it, "Backend dell'app dell'ente (notifiche push)", "The body's app backend (push notifications)"), "host": host_of(&p.url), "channel": "app" }));
    }
    out
}

fn counted(list: &[(String, u64)]) -> Vec<Value> {
    list.iter()
        .map(|(body, consents)| json!({ "body": body, "consents": consents }))
        .collect()
}

/// Builds the register in `language` (`it` or `en`).
pub fn build(i: &Inputs, language: &str) -> Register {
    let it = language != "en";
    let identification = tr(
        it,
        "Dati identificativi (codice fiscale, nome e cognome)",
        "Identification data (codice fiscale, given and family name)",
    );
    let contacts = tr(
        it,
        "Dati di contatto (e-mail, telefono)",
        "Contact details (e-mail, phone)",
    );
    let fields: Vec<String> = {
        let mut f: Vec<String> = i.services.iter().flat_map(|s| s.fields.clone()).collect();
        f.sort();
        f.dedup();
        f
    };
    let mut case_categories = vec![
        identification.clone(),
        contacts.clone(),
        tr(
            it,
            "Contenuto delle richieste, messaggi e storia delle pratiche",
            "Content of requests, messages and case history",
        ),
        tr(it, "Allegati", "Attachments"),
        tr(
            it,
            "Contatti con l'ente (canale, operatore, sintesi)",
            "Contacts with the body (channel, operator, summary)",
        ),
    ];
    if !fields.is_empty() {
        case_categories.push(format!(
            "{}: {}",
            tr(
                it,
                "Campi dei moduli di richiesta",
                "Fields of the request forms"
            ),
            fields.join(", ")
        ));
    }
    let integrations: Vec<Value> = i
        .webhooks
        .iter()
        .map(|(host, events)| json!({ "host": host, "events": events }))
        .collect();
    let public_task = tr(
        it,
        "Art. 6(1)(e) GDPR: esecuzione di un compito di interesse pubblico",
        "GDPR art. 6(1)(e): a task carried out in the public interest",
    );
    let consent = tr(
        it,
        "Art. 6(1)(a) GDPR: consenso dell'interessato, revocabile in ogni momento (ricevuta firmata)",
        "GDPR art. 6(1)(a): the data subject's consent, withdrawable at any time (signed receipt)",
    );
    let citizens = tr(
        it,
        "Cittadini e loro tutori delegati",
        "Citizens and the tutors they delegated",
    );
    let activities = vec![
        json!({
            "id": "case_handling",
            "name": tr(it, "Gestione delle richieste dei cittadini", "Handling citizens' requests"),
            "purpose": tr(it, "Istruire e rispondere alle richieste presentate a ogni canale", "Examining and answering requests made on every channel"),
            "legalBasis": public_task,
            "dataSubjects": citizens,
            "dataCategories": case_categories,
            "recipients": {
                "staff": tr(it, "Operatori e responsabili dell'ente, secondo il ruolo", "The body's operators and managers, by role"),
                "integrations": integrations,
                "bodiesUnderConsent": counted(&i.shares_to),
            },
            "services": i.services.iter().map(|s| json!({ "code": s.code, "name": s.name, "area": s.area, "fields": s.fields })).collect::<Vec<_>>(),
            "retention": case_retention(it, &i.retention),
        }),
        json!({
            "id": "notifications",
            "name": tr(it, "Comunicazioni ai cittadini", "Messages to citizens"),
            "purpose": tr(it, "Informare il cittadino sullo stato delle sue richieste sul canale che ha scelto", "Telling citizens how their requests stand, on the channel they chose"),
            "legalBasis": public_task,
            "dataSubjects": citizens,
            "dataCategories": [contacts, tr(it, "Scelte dei canali e fasce di silenzio", "Channel choices and quiet hours"), tr(it, "Testo delle notifiche", "Text of the notifications")],
            "recipients": { "processors": notification_processors(it, &i.notifications) },
            "retention": retention(it),
        }),
        json!({
            "id": "caller_recognition",
            "name": tr(it, "Riconoscimento del chiamante", "Caller recognition"),
            "purpose": tr(it, "Salutare per nome chi chiama e mostrare all'operatore le sue richieste aperte", "Greeting callers by name and showing the operator their open requests"),
            "legalBasis": consent,
            "dataSubjects": citizens,
            "dataCategories": [tr(it, "Numero di telefono", "Phone number"), tr(it, "Richieste aperte", "Open requests")],
            "recipients": { "staff": tr(it, "Operatori del contact center dell'ente", "The body's contact-centre operators") },
            "retention": retention(it),
        }),
        json!({
            "id": "sharing",
            "name": tr(it, "Condivisione tra enti su consenso", "Sharing between bodies under consent"),
            "purpose": tr(it, "Permettere a un altro ente di vedere ciò che questo ente conserva, solo nei limiti del consenso", "Letting another body see what this body holds, only within the consent"),
            "legalBasis": consent,
            "dataSubjects": tr(it, "Cittadini che hanno dato il consenso", "Citizens who consented"),
            "dataCategories": [identification, tr(it, "Secondo il consenso: profilo, richieste, contatti con l'ente", "As the consent says: profile, requests, contacts with the body")],
            "recipients": { "bodiesUnderConsent": counted(&i.shares_to) },
            "sources": counted(&i.reads_from),
            "retention": tr(it, "Per la durata del consenso; ogni lettura resta nel registro degli accessi visibile al cittadino", "For as long as the consent lasts; every read stays in the access log the citizen sees"),
        }),
        json!({
            "id": "authentication",
            "name": tr(it, "Accesso ai servizi", "Signing in"),
            "purpose": tr(it, "Riconoscere cittadini e personale che accedono", "Recognising the citizens and staff who sign in"),
            "legalBasis": public_task,
            "dataSubjects": tr(it, "Cittadini e personale dell'ente", "Citizens and the body's staff"),
            "dataCategories": [tr(it, "Identità digitale (emittente, soggetto, codice fiscale da SPID/CIE)", "Digital identity (issuer, subject, codice fiscale from SPID/CIE)"), tr(it, "Sessioni", "Sessions")],
            "recipients": { "identityProviders": i.identity_providers },
            "retention": tr(it, "Sessioni: fino alla scadenza o all'uscita", "Sessions: until they expire or the user signs out"),
        }),
        json!({
            "id": "accountability",
            "name": tr(it, "Registro delle attività e degli accessi", "Audit and access logs"),
            "purpose": tr(it, "Dimostrare chi ha fatto cosa e chi ha letto i dati di chi (art. 5(2) GDPR)", "Showing who did what and who read whose data (GDPR art. 5(2))"),
            "legalBasis": tr(it, "Art. 6(1)(c) GDPR: obbligo di legge", "GDPR art. 6(1)(c): a legal obligation"),
            "dataSubjects": tr(it, "Cittadini e personale dell'ente", "Citizens and the body's staff"),
            "dataCategories": [tr(it, "Chi, quando, quale ente, quali dati, per quale scopo dichiarato, con quale consenso o base giuridica", "Who, when, which body, which data, for which declared purpose, under which consent or legal basis")],
            "accessPurposes": i.access_purposes.iter().map(|(code, label, basis)| format!("{label} (`{code}`): {basis}")).collect::<Vec<_>>(),
            "recipients": { "staff": tr(it, "Amministratori dell'ente; il cittadino vede gli accessi ai propri dati", "The body's administrators; citizens see the reads of their own data") },
            "retention": tr(it, "Registro di sola aggiunta, non modificabile dall'applicazione", "Append-only, the application cannot change it"),
        }),
    ];
    let mut measures = vec![
        tr(
            it,
            "Separazione dei dati di ogni ente imposta dal database (row-level security di PostgreSQL) su ogni tabella; le persone sono visibili solo agli enti che ne conservano un dato o che hanno un consenso",
            "Each body's data kept apart by the database itself (PostgreSQL row-level security) on every table; persons are visible only to the bodies that hold a record of them or a consent",
        ),
        format!(
            "{} ({})",
            tr(
                it,
                "Segreti conservati cifrati con AES-256-GCM, chiave",
                "Stored secrets sealed with AES-256-GCM, key"
            ),
            i.secrets_key_id
        ),
        tr(
            it,
            "Accesso con i fornitori di identità dell'ente (SPID/CIE per i cittadini) e permessi per ruolo in ogni ente",
            "Sign-in through the body's identity providers (SPID/CIE for citizens) and role-based permissions in each body",
        ),
        tr(
            it,
            "Registro delle attività di sola aggiunta; registro di ogni consultazione dei dati di un cittadino, con lo scopo dichiarato, visibile al cittadino",
            "Append-only audit log; every read of a citizen's records logged with its declared purpose and shown to the citizen",
        ),
        tr(
            it,
            "Ricevute dei consensi firmate (JWS, Ed25519) e verificabili con la chiave pubblicata",
            "Consent receipts signed (JWS, Ed25519), verifiable with the published key",
        ),
        tr(
            it,
            "Richieste in uscita solo verso indirizzi pubblici autorizzati",
            "Outbound requests only to permitted public addresses",
        ),
    ];
    if i.https {
        measures.push(tr(
            it,
            "Trasporto cifrato HTTPS con HSTS e cookie Secure",
            "HTTPS transport with HSTS and Secure cookies",
        ));
    }
    let document = json!({
        "controller": {
            "name": i.body.name,
            "slug": i.body.slug,
            "kind": i.body.kind,
            "parent": i.body.parent,
            "privacyPolicyUrl": i.body.privacy_policy_url,
        },
        "language": if it { "it" } else { "en" },
        "generatedAt": i.generated_at,
        "activities": activities,
        "securityMeasures": measures,
    });
    let markdown = markdown(&document, it);
    Register { document, markdown }
}

fn lines_of(v: &Value) -> Vec<String> {
    match v {
        Value::Array(a) => a.iter().flat_map(lines_of).collect(),
        Value::String(s) => vec![s.clone()],
        Value::Object(o) if o.contains_key("body") => {
            vec![format!(
                "{} ({})",
                o["body"].as_str().unwrap_or(""),
                o["consents"]
            )]
        }
        Value::Object(o) if o.contains_key("host") => {
            let mut s = match o.get("name").and_then(Value::as_str) {
                Some(n) => format!("{n}: {}", o["host"].as_str().unwrap_or("")),
                None => o["host"].as_str().unwrap_or("").to_owned(),
            };
            if let Some(events) = o.get("events").and_then(Value::as_array) {
                let e: Vec<&str> = events.iter().filter_map(Value::as_str).collect();
                s.push_str(&format!(" ({})", e.join(", ")));
            }
            if let Some(t) = o.get("transferOutsideEu").and_then(Value::as_str) {
                s.push_str(&format!(" — {t}"));
            }
            vec![s]
        }
        Value::Object(o) if o.contains_key("code") => vec![format!(
            "{} {} ({})",
            o["code"].as_str().unwrap_or(""),
            o["name"].as_str().unwrap_or(""),
            o["area"].as_str().unwrap_or("")
        )],
        _ => vec![],
    }
}

fn markdown(d: &Value, it: bool) -> String {
    let c = &d["controller"];
    let mut m = format!(
        "# {} — {}\n\n",
        tr(
            it,
            "Registro delle attività di trattamento",
            "Register of processing activities"
        ),
        c["name"].as_str().unwrap_or("")
    );
    m.push_str(&format!(
        "- {}: {} (`{}`, {})\n",
        tr(it, "Titolare", "Controller"),
        c["name"].as_str().unwrap_or(""),
        c["slug"].as_str().unwrap_or(""),
        c["kind"].as_str().unwrap_or("")
    ));
    if let Some(p) = c["parent"].as_str() {
        m.push_str(&format!("- {}: {p}\n", tr(it, "Ente padre", "Parent body")));
    }
    if let Some(u) = c["privacyPolicyUrl"].as_str() {
        m.push_str(&format!(
            "- {}: {u}\n",
            tr(it, "Informativa", "Privacy notice")
        ));
    }
    m.push_str(&format!(
        "- {}: {}\n",
        tr(it, "Generato il", "Generated at"),
        d["generatedAt"].as_str().unwrap_or("")
    ));
    let labels: [(&str, String); 7] = [
        ("purpose", tr(it, "Finalità", "Purpose")),
        ("legalBasis", tr(it, "Base giuridica", "Legal basis")),
        ("dataSubjects", tr(it, "Interessati", "Data subjects")),
        (
            "dataCategories",
            tr(it, "Categorie di dati", "Categories of data"),
        ),
        (
            "sources",
            tr(it, "Enti da cui si leggono dati", "Bodies read from"),
        ),
        ("retention", tr(it, "Conservazione", "Retention")),
        (
            "accessPurposes",
            tr(
                it,
                "Scopi dichiarabili per consultare i dati",
                "Purposes staff may declare to read records",
            ),
        ),
    ];
    let recipient_labels: [(&str, String); 5] = [
        ("staff", tr(it, "Personale", "Staff")),
        (
            "integrations",
            tr(it, "Integrazioni (webhook)", "Integrations (webhooks)"),
        ),
        (
            "bodiesUnderConsent",
            tr(it, "Enti, su consenso", "Bodies, under consent"),
        ),
        (
            "processors",
            tr(it, "Responsabili del trattamento", "Processors"),
        ),
        (
            "identityProviders",
            tr(it, "Fornitori di identità", "Identity providers"),
        ),
    ];
    for a in d["activities"].as_array().into_iter().flatten() {
        m.push_str(&format!("\n## {}\n\n", a["name"].as_str().unwrap_or("")));
        for (key, label) in &labels {
            let items = lines_of(&a[*key]);
            match items.len() {
                0 => {}
                1 => m.push_str(&format!("- **{label}**: {}\n", items[0])),
                _ => {
                    m.push_str(&format!("- **{label}**:\n"));
                    for x in items {
                        m.push_str(&format!("  - {x}\n"));
                    }
                }
            }
        }
        let mut recipients = Vec::new();
        for (key, label) in &recipient_labels {
            for x in lines_of(&a["recipients"][*key]) {
                recipients.push(format!("{label}: {x}"));
            }
        }
        if recipients.is_empty() {
            recipients.push(tr(it, "nessuno oltre all'ente", "none but the body"));
        }
        m.push_str(&format!("- **{}**:\n", tr(it, "Destinatari", "Recipients")));
        for r in recipients {
            m.push_str(&format!("  - {r}\n"));
        }
        let services = lines_of(&a["services"]);
        if !services.is_empty() {
            m.push_str(&format!("- **{}**:\n", tr(it, "Servizi", "Services")));
            for s in services {
                m.push_str(&format!("  - {s}\n"));
            }
        }
    }
    m.push_str(&format!(
        "\n## {}\n\n",
        tr(it, "Misure di sicurezza", "Security measures")
    ));
    for s in lines_of(&d["securityMeasures"]) {
        m.push_str(&format!("- {s}\n"));
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_named_without_paths_or_credentials() {
        assert_eq!(host_of("https://sms.example/send?x=1"), "sms.example");
        assert_eq!(
            host_of("https://u:p@hooks.example:8443/a"),
            "hooks.example:8443"
        );
        assert_eq!(host_of("smtp.example"), "smtp.example");
    }
}
