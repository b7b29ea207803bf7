//! Service sheets ("schede servizio" in the Designers Italia model): the editorial text of
//! a service, per language, as a draft the body's editors work on and a published copy
//! citizens read. A body's published sheet falls back, section by section, on the published
//! sheet of the same service code at its parent body and further up, so that Roma
//! Capitale writes the sheet once and a municipio only writes what differs.

use chrono::{DateTime, Utc};
use civitas_tenants::{Identity, PublicScope, Scope, TenantId};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::entity::service_sheet;
use crate::notifications::Language;
use crate::{Error, Result};

/// The sections of a sheet, in the order a page shows them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    /// What the service is ("Cos'è").
    What,
    /// Who may ask for it ("A chi è rivolto").
    Audience,
    /// How to apply ("Come fare").
    How,
    /// What one needs ("Cosa serve").
    Needs,
    /// What one gets ("Cosa si ottiene").
    Outcome,
    /// Times and deadlines ("Tempi e scadenze").
    Times,
    /// Costs ("Quanto costa").
    Costs,
    /// Where and whom to contact ("Contatti").
    Contacts,
}

impl Section {
    pub const ALL: [Section; 8] = [
        Section::What,
        Section::Audience,
        Section::How,
        Section::Needs,
        Section::Outcome,
        Section::Times,
        Section::Costs,
        Section::Contacts,
    ];

    pub const fn key(self) -> &'static str {
        match self {
            Section::What => "what",
            Section::Audience => "audience",
            Section::How => "how",
            Section::Needs => "needs",
            Section::Outcome => "outcome",
            Section::Times => "times",
            Section::Costs => "costs",
            Section::Contacts => "contacts",
        }
    }
}

/// The text of each section; an empty one is not written (and is inherited when published).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Sections {
    pub what: String,
    pub audience: String,
    pub how: String,
    pub needs: String,
    pub outcome: String,
    pub times: String,
    pub costs: String,
    pub contacts: String,
}

/// The longest section, in characters.
pub const MAX_SECTION: usize = 20_000;

impl Sections {
    pub fn get(&self, s: Section) -> &str {
        match s {
            Section::What => &self.what,
            Section::Audience => &self.audience,
            Section::How => &self.how,
            Section::Needs => &self.needs,
            Section::Outcome => &self.outcome,
            Section::Times => &self.times,
            Section::Costs => &self.costs,
            Section::Contacts => &self.contacts,
        }
    }

    fn get_mut(&mut self, s: Section) -> &mut String {
        match s {
            Section::What => &mut self.what,
            Section::Audience => &mut self.audience,
            Section::How => &mut self.how,
            Section::Needs => &mut self.needs,
            Section::Outcome => &mut self.outcome,
            Section::Times => &mut self.times,
            Section::Costs => &mut self.costs,
            Section::Contacts => &mut self.contacts,
        }
    }

    /// Trims every section; VALIDATION naming the first one that is too long or holds
    /// control characters other than line breaks and tabs.
    fn cleaned(mut self) -> Result<Self> {
        for s in Section::ALL {
            let text = self.get_mut(s);
            *text = text.trim().replace("\r\n", "\n");
            if text.chars().count() > MAX_SECTION {
                return Err(Error::Validation(format!(
                    "{}: at most {MAX_SECTION} characters",
                    s.key()
                )));
            }
            if text
                .chars()
                .any(|c| c.is_control() && c != '\n' && c != '\t')
            {
                return Err(Error::Validation(format!(
                    "{}: control characters are not allowed",
                    s.key()
                )));
            }
        }
        Ok(self)
    }

    fn is_empty(&self) -> bool {
        Section::ALL.iter().all(|s| self.get(*s).is_empty())
    }
}

/// Where a sheet stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SheetState {
    Draft,
    Published,
}

impl SheetState {
    pub const fn as_str(self) -> &'static str {
        match self {
            SheetState::Draft => "draft",
            SheetState::Published => "published",
        }
    }
}

/// One language of a service's sheet at one body.
#[derive(Clone, Debug)]
pub struct Sheet {
    pub service_code: String,
    pub language: Language,
    pub state: SheetState,
    pub sections: Sections,
    pub updated_by: String,
    pub updated_at: DateTime<Utc>,
}

fn language_of(tag: &str) -> Language {
    Language::from_tag(Some(tag))
}

impl From<service_sheet::Model> for Sheet {
    fn from(m: service_sheet::Model) -> Self {
        Sheet {
            language: language_of(&m.language),
            state: if m.state == "published" {
                SheetState::Published
            } else {
                SheetState::Draft
            },
            sections: serde_json::from_value(m.sections).unwrap_or_default(),
            service_code: m.service_code,
            updated_by: m.updated_by,
            updated_at: m.updated_at,
        }
    }
}

async fn row(
    scope: &Scope,
    code: &str,
    lang: Language,
    state: SheetState,
) -> Result<Option<service_sheet::Model>> {
    Ok(scope
        .find::<service_sheet::Entity>()
        .filter(service_sheet::Column::ServiceCode.eq(code))
        .filter(service_sheet::Column::Language.eq(lang.tag()))
        .filter(service_sheet::Column::State.eq(state.as_str()))
        .one(scope.conn())
        .await?)
}

/// The body's sheet of `code` in `lang` and `state`, if written.
pub async fn get(
    scope: &Scope,
    code: &str,
    lang: Language,
    state: SheetState,
) -> Result<Option<Sheet>> {
    Ok(row(scope, code, lang, state).await?.map(Sheet::from))
}

/// Writes the row of `state`, replacing what it held.
async fn put(
    scope: &Scope,
    code: &str,
    lang: Language,
    state: SheetState,
    sections: &Sections,
    by: &Identity,
    now: DateTime<Utc>,
) -> Result<Sheet> {
    let json = serde_json::to_value(sections).map_err(|e| Error::Internal(e.to_string()))?;
    let by = format!("{} {}", by.issuer, by.subject);
    let saved = match row(scope, code, lang, state).await? {
        Some(existing) => {
            let mut a: service_sheet::ActiveModel = existing.into();
            a.sections = Set(json);
            a.updated_by = Set(by);
            a.updated_at = Set(now);
            a.update(scope.conn()).await?
        }
        None => {
            scope
                .insert(service_sheet::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    service_code: Set(code.to_owned()),
                    language: Set(lang.tag().to_owned()),
                    state: Set(state.as_str().to_owned()),
                    sections: Set(json),
                    updated_by: Set(by),
                    updated_at: Set(now),
                    ..Default::default()
                })
                .await?
        }
    };
    Ok(saved.into())
}

/// Saves the draft of a sheet (the service must be the body's); the published copy stays
/// as it was until [`publish`].
pub async fn save_draft(
    scope: &Scope,
    code: &str,
    lang: Language,
    sections: Sections,
    by: &Identity,
    now: DateTime<Utc>,
) -> Result<Sheet> {
    crate::catalogue::by_code(scope, code).await?;
    let sections = sections.cleaned()?;
    put(scope, code, lang, SheetState::Draft, &sections, by, now).await
}

/// Publishes the draft as it stands. NOT_FOUND without a draft; VALIDATION when the draft
/// has no text at all.
pub async fn publish(
    scope: &Scope,
    code: &str,
    lang: Language,
    by: &Identity,
    now: DateTime<Utc>,
) -> Result<Sheet> {
    let draft = get(scope, code, lang, SheetState::Draft)
        .await?
        .ok_or(Error::NotFound("service sheet draft"))?;
    if draft.sections.is_empty() {
        return Err(Error::Validation(
            "the draft has no text: write at least one section".into(),
        ));
    }
    put(
        scope,
        code,
        lang,
        SheetState::Published,
        &draft.sections,
        by,
        now,
    )
    .await
}

/// Takes a published sheet down (the draft stays); NOT_FOUND when none is published.
pub async fn unpublish(scope: &Scope, code: &str, lang: Language) -> Result<()> {
    let found = row(scope, code, lang, SheetState::Published)
        .await?
        .ok_or(Error::NotFound("published service sheet"))?;
    scope
        .delete_many::<service_sheet::Entity>()
        .filter(service_sheet::Column::Id.eq(found.id))
        .exec(scope.conn())
        .await?;
    Ok(())
}

/// A published section as a page shows it: its text and the body that wrote it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShownSection {
    pub section: Section,
    pub text: String,
    pub body: TenantId,
}

/// What citizens read: the sections some body of the chain wrote, in one language.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShownSheet {
    pub language: Language,
    pub sections: Vec<ShownSection>,
}

/// The published sheets of `code` at the bodies of `chain` (the body, its parent, …).
pub async fn published_along(
    scope: &PublicScope,
    chain: &[TenantId],
    code: &str,
) -> Result<Vec<(TenantId, Language, Sections)>> {
    let rows = service_sheet::Entity::find()
        .filter(service_sheet::Column::TenantId.is_in(chain.iter().map(|t| t.0)))
        .filter(service_sheet::Column::ServiceCode.eq(code))
        .filter(service_sheet::Column::State.eq(SheetState::Published.as_str()))
        .all(scope.conn())
        .await?;
    Ok(rows
        .into_iter()
        .map(|m| {
            let lang = language_of(&m.language);
            let sections = serde_json::from_value(m.sections).unwrap_or_default();
            (TenantId(m.tenant_id), lang, sections)
        })
        .collect())
}

/// The sheet a reader of `lang` sees: in `lang` when any body of the chain published one in
/// it, else in Italian; each section from the nearest body of `chain` that wrote it. `None`
/// when nothing is published.
pub fn resolve(
    chain: &[TenantId],
    published: &[(TenantId, Language, Sections)],
    lang: Language,
) -> Option<ShownSheet> {
    let language = if published.iter().any(|(_, l, _)| *l == lang) {
        lang
    } else if published.iter().any(|(_, l, _)| *l == Language::It) {
        Language::It
    } else {
        published.first()?.1
    };
    let sections: Vec<ShownSection> = Section::ALL
        .iter()
        .filter_map(|s| {
            chain.iter().find_map(|body| {
                published
                    .iter()
                    .find(|(t, l, _)| t == body && *l == language)
                    .map(|(_, _, text)| text.get(*s))
                    .filter(|text| !text.is_empty())
                    .map(|text| ShownSection {
                        section: *s,
                        text: text.to_owned(),
                        body: *body,
                    })
            })
        })
        .collect();
    (!sections.is_empty()).then_some(ShownSheet { language, sections })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(what: &str, costs: &str) -> Sections {
        Sections {
            what: what.into(),
            costs: costs.into(),
            ..Sections::default()
        }
    }

    #[test]
    fn a_child_writes_what_differs_and_inherits_the_rest() {
        let (child, parent) = (TenantId(Uuid::now_v7()), TenantId(Uuid::now_v7()));
        let chain = [child, parent];
        let published = vec![
            (parent, Language::It, text("Ritiro rifiuti", "Gratuito")),
            (child, Language::It, text("", "5 euro")),
        ];
        let shown = resolve(&chain, &published, Language::It).expect("a sheet");
        assert_eq!(shown.language, Language::It);
        let got: Vec<_> = shown
            .sections
            .iter()
            .map(|s| (s.section, s.text.as_str(), s.body))
            .collect();
        assert_eq!(
            got,
            vec![
                (Section::What, "Ritiro rifiuti", parent),
                (Section::Costs, "5 euro", child)
            ]
        );
    }

    #[test]
    fn a_reader_of_english_gets_italian_when_no_body_wrote_english() {
        let body = TenantId(Uuid::now_v7());
        let it = vec![(body, Language::It, text("Cos'è", ""))];
        assert_eq!(
            resolve(&[body], &it, Language::En)
                .expect("a sheet")
                .language,
            Language::It
        );
        let both = vec![
            (body, Language::It, text("Cos'è", "")),
            (body, Language::En, text("What it is", "")),
        ];
        let en = resolve(&[body], &both, Language::En).expect("a sheet");
        assert_eq!(en.sections[0].text, "What it is");
        assert!(resolve(&[body], &[], Language::It).is_none());
    }

    #[test]
    fn sections_are_trimmed_and_checked() {
        let long = "x".repeat(MAX_SECTION + 1);
        assert!(text(&long, "").cleaned().is_err());
        assert!(text("a\u{0007}b", "").cleaned().is_err());
        let ok = text("  riga uno\r\nriga due\t ", "")
            .cleaned()
            .expect("clean");
        assert_eq!(ok.what, "riga uno\nriga due");
    }
}
