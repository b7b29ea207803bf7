//! What a notification says: a subject, a plain text and an HTML body, from the body's own
//! templates (minijinja) or the defaults below, in Italian or English. HTML is escaped by
//! the engine; templates run on a fuel budget, so a body's template cannot loop forever.

use minijinja::{Environment, UndefinedBehavior, context};

use super::NotificationSettings;
use crate::cases::CaseStatus;
use crate::notifications::{Language, status_words};

/// What a template may use.
#[derive(Clone, Debug, Default)]
pub struct Facts {
    pub kind: String,
    pub given_name: String,
    pub family_name: String,
    pub body_name: String,
    pub case_number: Option<String>,
    pub case_title: Option<String>,
    pub status: Option<CaseStatus>,
    pub unsubscribe_url: Option<String>,
    /// What an operator wrote (`case.message`).
    pub message: Option<String>,
    /// The invitation a `survey.invitation` links to, and the signed link to it.
    pub invitation: Option<uuid::Uuid>,
    pub survey_url: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub subject: String,
    pub text: String,
    pub html: String,
}

const FUEL: u64 = 20_000;

fn env() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Chainable);
    env.set_fuel(Some(FUEL));
    env
}

fn defaults(kind: &str, lang: Language, part: &str) -> &'static str {
    if kind == crate::notifications::MESSAGE {
        return message_defaults(lang, part);
    }
    if kind == crate::notifications::ESCALATED {
        return escalation_defaults(lang, part);
    }
    if kind == crate::notifications::INITIATIVE_SEAT {
        return seat_defaults(lang, part);
    }
    if kind == crate::notifications::SURVEY {
        return survey_defaults(lang, part);
    }
    match (lang, part) {
        (Language::It, "subject") => {
            "{{ body.name }}: richiesta {{ case.number }} {{ case.status }}"
        }
        (Language::En, "subject") => "{{ body.name }}: request {{ case.number }} {{ case.status }}",
        (Language::It, "text") => {
            "Gentile {{ citizen.given_name }} {{ citizen.family_name }},\n\nla sua richiesta {{ case.number }} ({{ case.title }}) è {{ case.status }}.\n\n{{ body.name }}\n{% if unsubscribe_url %}\nPer non ricevere più e-mail da {{ body.name }}: {{ unsubscribe_url }}\n{% endif %}"
        }
        (Language::En, "text") => {
            "Dear {{ citizen.given_name }} {{ citizen.family_name }},\n\nyour request {{ case.number }} ({{ case.title }}) is {{ case.status }}.\n\n{{ body.name }}\n{% if unsubscribe_url %}\nTo stop e-mails from {{ body.name }}: {{ unsubscribe_url }}\n{% endif %}"
        }
        (Language::It, _) => {
            "<p>Gentile {{ citizen.given_name }} {{ citizen.family_name }},</p>\n<p>la sua richiesta <strong>{{ case.number }}</strong> ({{ case.title }}) è <strong>{{ case.status }}</strong>.</p>\n<p>{{ body.name }}</p>\n{% if unsubscribe_url %}<p><a href=\"{{ unsubscribe_url }}\">Non ricevere più e-mail da {{ body.name }}</a></p>{% endif %}\n"
        }
        (Language::En, _) => {
            "<p>Dear {{ citizen.given_name }} {{ citizen.family_name }},</p>\n<p>your request <strong>{{ case.number }}</strong> ({{ case.title }}) is <strong>{{ case.status }}</strong>.</p>\n<p>{{ body.name }}</p>\n{% if unsubscribe_url %}<p><a href=\"{{ unsubscribe_url }}\">Stop e-mails from {{ body.name }}</a></p>{% endif %}\n"
        }
    }
}

fn escalation_defaults(lang: Language, part: &str) -> &'static str {
    match (lang, part) {
        (Language::It, "subject") => {
            "{{ body.name }}: richiesta {{ case.number }} segnalata ai responsabili"
        }
        (Language::En, "subject") => {
            "{{ body.name }}: request {{ case.number }} raised with the managers"
        }
        (Language::It, "text") => {
            "Gentile {{ citizen.given_name }} {{ citizen.family_name }},\n\nla sua richiesta {{ case.number }} ({{ case.title }}) ha superato i tempi previsti: l'abbiamo segnalata ai responsabili dell'ufficio, che ne seguono la conclusione.\n\n{{ body.name }}\n{% if unsubscribe_url %}\nPer non ricevere più e-mail da {{ body.name }}: {{ unsubscribe_url }}\n{% endif %}"
        }
        (Language::En, "text") => {
            "Dear {{ citizen.given_name }} {{ citizen.family_name }},\n\nyour request {{ case.number }} ({{ case.title }}) has taken longer than it should: we raised it with the office's managers, who are seeing it through.\n\n{{ body.name }}\n{% if unsubscribe_url %}\nTo stop e-mails from {{ body.name }}: {{ unsubscribe_url }}\n{% endif %}"
        }
        (Language::It, _) => {
            "<p>Gentile {{ citizen.given_name }} {{ citizen.family_name }},</p>\n<p>la sua richiesta <strong>{{ case.number }}</strong> ({{ case.title }}) ha superato i tempi previsti: l'abbiamo segnalata ai responsabili dell'ufficio, che ne seguono la conclusione.</p>\n<p>{{ body.name }}</p>\n{% if unsubscribe_url %}<p><a href=\"{{ unsubscribe_url }}\">Non ricevere più e-mail da {{ body.name }}</a></p>{% endif %}\n"
        }
        (Language::En, _) => {
            "<p>Dear {{ citizen.given_name }} {{ citizen.family_name }},</p>\n<p>your request <strong>{{ case.number }}</strong> ({{ case.title }}) has taken longer than it should: we raised it with the office's managers, who are seeing it through.</p>\n<p>{{ body.name }}</p>\n{% if unsubscribe_url %}<p><a href=\"{{ unsubscribe_url }}\">Stop e-mails from {{ body.name }}</a></p>{% endif %}\n"
        }
    }
}

fn message_defaults(lang: Language, part: &str) -> &'static str {
    match (lang, part) {
        (Language::It, "subject") => {
            "{{ body.name }}: un messaggio sulla richiesta {{ case.number }}"
        }
        (Language::En, "subject") => "{{ body.name }}: a message about request {{ case.number }}",
        (Language::It, "text") => {
            "Gentile {{ citizen.given_name }} {{ citizen.family_name }},\n\nsulla sua richiesta {{ case.number }} ({{ case.title }}) {{ body.name }} le scrive:\n\n{{ message }}\n{% if unsubscribe_url %}\nPer non ricevere più e-mail da {{ body.name }}: {{ unsubscribe_url }}\n{% endif %}"
        }
        (Language::En, "text") => {
            "Dear {{ citizen.given_name }} {{ citizen.family_name }},\n\nabout your request {{ case.number }} ({{ case.title }}) {{ body.name }} writes:\n\n{{ message }}\n{% if unsubscribe_url %}\nTo stop e-mails from {{ body.name }}: {{ unsubscribe_url }}\n{% endif %}"
        }
        (Language::It, _) => {
            "<p>Gentile {{ citizen.given_name }} {{ citizen.family_name }},</p>\n<p>sulla sua richiesta <strong>{{ case.number }}</strong> ({{ case.title }}) {{ body.name }} le scrive:</p>\n<blockquote>{{ message }}</blockquote>\n{% if unsubscribe_url %}<p><a href=\"{{ unsubscribe_url }}\">Non ricevere più e-mail da {{ body.name }}</a></p>{% endif %}\n"
        }
        (Language::En, _) => {
            "<p>Dear {{ citizen.given_name }} {{ citizen.family_name }},</p>\n<p>about your request <strong>{{ case.number }}</strong> ({{ case.title }}) {{ body.name }} writes:</p>\n<blockquote>{{ message }}</blockquote>\n{% if unsubscribe_url %}<p><a href=\"{{ unsubscribe_url }}\">Stop e-mails from {{ body.name }}</a></p>{% endif %}\n"
        }
    }
}

/// A seat freed at an initiative went to the citizen, first in its waiting list.
fn seat_defaults(lang: Language, part: &str) -> &'static str {
    match (lang, part) {
        (Language::It, "subject") => "{{ body.name }}: posto confermato",
        (Language::En, "subject") => "{{ body.name }}: your seat is confirmed",
        (Language::It, "text") => {
            "Gentile {{ citizen.given_name }} {{ citizen.family_name }},\n\n{{ message }}\n\n{{ body.name }}\n{% if unsubscribe_url %}\nPer non ricevere più e-mail da {{ body.name }}: {{ unsubscribe_url }}\n{% endif %}"
        }
        (Language::En, "text") => {
            "Dear {{ citizen.given_name }} {{ citizen.family_name }},\n\n{{ message }}\n\n{{ body.name }}\n{% if unsubscribe_url %}\nTo stop e-mails from {{ body.name }}: {{ unsubscribe_url }}\n{% endif %}"
        }
        (Language::It, _) => {
            "<p>Gentile {{ citizen.given_name }} {{ citizen.family_name }},</p>\n<p>{{ message }}</p>\n<p>{{ body.name }}</p>\n{% if unsubscribe_url %}<p><a href=\"{{ unsubscribe_url }}\">Non ricevere più e-mail da {{ body.name }}</a></p>{% endif %}\n"
        }
        (Language::En, _) => {
            "<p>Dear {{ citizen.given_name }} {{ citizen.family_name }},</p>\n<p>{{ message }}</p>\n<p>{{ body.name }}</p>\n{% if unsubscribe_url %}<p><a href=\"{{ unsubscribe_url }}\">Stop e-mails from {{ body.name }}</a></p>{% endif %}\n"
        }
    }
}

/// A satisfaction survey after a resolved case, or a questionnaire after an initiative.
fn survey_defaults(lang: Language, part: &str) -> &'static str {
    match (lang, part) {
        (Language::It, "subject") => {
            "{{ body.name }}: {% if case.number %}com'è andata la richiesta {{ case.number }}?{% else %}ci dica la sua{% endif %}"
        }
        (Language::En, "subject") => {
            "{{ body.name }}: {% if case.number %}how did request {{ case.number }} go?{% else %}tell us what you think{% endif %}"
        }
        (Language::It, "text") => {
            "Gentile {{ citizen.given_name }} {{ citizen.family_name }},\n\n{% if case.number %}la sua richiesta {{ case.number }} ({{ case.title }}) è stata risolta.{% endif %} Ci dica com'è andata: bastano due minuti.\n\n{{ survey_url }}\n\n{{ body.name }}\n{% if unsubscribe_url %}\nPer non ricevere più e-mail da {{ body.name }}: {{ unsubscribe_url }}\n{% endif %}"
        }
        (Language::En, "text") => {
            "Dear {{ citizen.given_name }} {{ citizen.family_name }},\n\n{% if case.number %}your request {{ case.number }} ({{ case.title }}) was resolved.{% endif %} Tell us how it went: it takes two minutes.\n\n{{ survey_url }}\n\n{{ body.name }}\n{% if unsubscribe_url %}\nTo stop e-mails from {{ body.name }}: {{ unsubscribe_url }}\n{% endif %}"
        }
        (Language::It, _) => {
            "<p>Gentile {{ citizen.given_name }} {{ citizen.family_name }},</p>\n<p>{% if case.number %}la sua richiesta <strong>{{ case.number }}</strong> ({{ case.title }}) è stata risolta. {% endif %}Ci dica com'è andata: bastano due minuti.</p>\n<p><a href=\"{{ survey_url }}\">Rispondi al questionario</a></p>\n<p>{{ body.name }}</p>\n{% if unsubscribe_url %}<p><a href=\"{{ unsubscribe_url }}\">Non ricevere più e-mail da {{ body.name }}</a></p>{% endif %}\n"
        }
        (Language::En, _) => {
            "<p>Dear {{ citizen.given_name }} {{ citizen.family_name }},</p>\n<p>{% if case.number %}your request <strong>{{ case.number }}</strong> ({{ case.title }}) was resolved. {% endif %}Tell us how it went: it takes two minutes.</p>\n<p><a href=\"{{ survey_url }}\">Answer the questionnaire</a></p>\n<p>{{ body.name }}</p>\n{% if unsubscribe_url %}<p><a href=\"{{ unsubscribe_url }}\">Stop e-mails from {{ body.name }}</a></p>{% endif %}\n"
        }
    }
}

/// The name a part is rendered under: `.html` turns HTML escaping on.
fn name(part: &str) -> &'static str {
    match part {
        "html" => "message.html",
        _ => "message.txt",
    }
}

fn sample() -> Facts {
    Facts {
        kind: "case.status_changed".into(),
        given_name: "Maria".into(),
        family_name: "Rossi".into(),
        body_name: "Comune".into(),
        case_number: Some("2026-000001".into()),
        case_title: Some("Richiesta".into()),
        status: Some(CaseStatus::InProgress),
        unsubscribe_url: Some("https://example.org/unsubscribe".into()),
        message: Some("Serve una copia del documento.".into()),
        invitation: None,
        survey_url: Some("https://example.org/surveys/x".into()),
    }
}

/// Whether `src` compiles and renders with sample facts within the fuel budget.
pub fn check(part: &str, src: &str) -> Result<(), String> {
    if src.len() > 20_000 {
        return Err("at most 20,000 characters".into());
    }
    render_part(&env(), part, src, &sample(), Language::It, None)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

fn render_part(
    env: &Environment<'static>,
    part: &str,
    src: &str,
    f: &Facts,
    lang: Language,
    words: Option<&str>,
) -> Result<String, minijinja::Error> {
    let status = f
        .status
        .map(|s| words.unwrap_or(status_words(s, lang)).to_owned());
    env.render_named_str(
        name(part),
        src,
        context! {
            kind => &f.kind,
            lang => lang.tag(),
            citizen => context! { given_name => &f.given_name, family_name => &f.family_name },
            body => context! { name => &f.body_name },
            case => context! { number => &f.case_number, title => &f.case_title, status => status },
            unsubscribe_url => &f.unsubscribe_url,
            survey_url => &f.survey_url,
            message => &f.message,
        },
    )
}

/// The message for `f` in `lang`, in the body's words where it has its own. A body's
/// template that fails at send time (it was checked when saved) falls back to the default.
pub fn render(s: &NotificationSettings, lang: Language, f: &Facts) -> Message {
    let env = env();
    let tag = lang.tag();
    let words = f.status.and_then(|st| s.status_words(tag, st));
    let part = |p: &str| {
        let own = s.template(&f.kind, tag, p);
        own.and_then(|src| render_part(&env, p, src, f, lang, words).ok())
            .unwrap_or_else(|| {
                render_part(&env, p, defaults(&f.kind, lang, p), f, lang, words).unwrap_or_default()
            })
    };
    Message {
        subject: part("subject")
            .lines()
            .next()
            .unwrap_or_default()
            .trim()
            .to_owned(),
        text: part("text"),
        html: part("html"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_speak_both_languages_and_escape_html() {
        let mut f = sample();
        f.case_title = Some("<script>x</script>".into());
        let s = NotificationSettings::default();
        let it = render(&s, Language::It, &f);
        assert_eq!(it.subject, "Comune: richiesta 2026-000001 in lavorazione");
        assert!(it.text.contains("Gentile Maria Rossi"), "{}", it.text);
        assert!(it.html.contains("&lt;script&gt;"), "{}", it.html);
        let en = render(&s, Language::En, &f);
        assert!(en.text.contains("is in progress"), "{}", en.text);
    }

    #[test]
    fn a_body_speaks_its_own_words() {
        let s = NotificationSettings::of(&json!({ "notifications": {
            "templates": { "*": { "it": { "subject": "AMA informa: {{ case.number }} {{ case.status }}" } } },
            "statusWords": { "it": { "in_progress": "presa in carico dagli operatori" } } } }))
        .expect("settings");
        let m = render(&s, Language::It, &sample());
        assert_eq!(
            m.subject,
            "AMA informa: 2026-000001 presa in carico dagli operatori"
        );
        assert!(m.text.contains("presa in carico"), "{}", m.text);
    }

    #[test]
    fn a_message_is_quoted_escaped_in_html() {
        let mut f = sample();
        f.kind = crate::notifications::MESSAGE.into();
        f.message = Some("Porti <b>due</b> copie".into());
        let m = render(&NotificationSettings::default(), Language::It, &f);
        assert_eq!(
            m.subject,
            "Comune: un messaggio sulla richiesta 2026-000001"
        );
        assert!(m.text.contains("Porti <b>due</b> copie"), "{}", m.text);
        assert!(
            m.html.contains("Porti &lt;b&gt;due&lt;&#x2f;b&gt; copie"),
            "{}",
            m.html
        );
    }

    #[test]
    fn a_survey_invitation_carries_its_link() {
        let mut f = sample();
        f.kind = crate::notifications::SURVEY.into();
        let m = render(&NotificationSettings::default(), Language::It, &f);
        assert_eq!(m.subject, "Comune: com'è andata la richiesta 2026-000001?");
        assert!(
            m.text.contains("https://example.org/surveys/x"),
            "{}",
            m.text
        );
        assert!(m.html.contains("Rispondi al questionario"), "{}", m.html);
        f.case_number = None;
        let m = render(&NotificationSettings::default(), Language::En, &f);
        assert_eq!(m.subject, "Comune: tell us what you think");
    }

    #[test]
    fn a_template_that_loops_runs_out_of_fuel() {
        assert!(check("text", "{% for i in range(100000) %}{{ i }}{% endfor %}").is_err());
    }
}
