//! Service sheets: a translation of [`civitas_crm::app::sheets`].

use async_graphql::{Context, Enum, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use civitas_crm::app::sheets as uc;
use civitas_crm::notifications::Language;
use civitas_crm::sheets::{Sections, Sheet};

use crate::caller::{caller, state};
use crate::catalogue::PublicBody;
use crate::error::ApiResult;

/// The languages a sheet is written in.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "civitas_crm::notifications::Language")]
pub enum SheetLanguage {
    It,
    En,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "civitas_crm::sheets::SheetState")]
pub enum ServiceSheetState {
    Draft,
    Published,
}

/// The sections of a sheet, in the Designers Italia "scheda servizio" order.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "civitas_crm::sheets::Section")]
pub enum SheetSection {
    /// What the service is.
    What,
    /// Who may ask for it.
    Audience,
    /// How to apply.
    How,
    /// What one needs.
    Needs,
    /// What one gets.
    Outcome,
    /// Times and deadlines.
    Times,
    /// Costs.
    Costs,
    /// Where and whom to contact.
    Contacts,
}

/// The text of each section, plain text with blank lines between paragraphs; an empty
/// section is not written (and, once published, is inherited from the parent body).
#[derive(InputObject, SimpleObject, Clone, Default)]
#[graphql(name = "SheetSections", input_name = "SheetSectionsInput")]
pub struct SheetSections {
    #[graphql(default)]
    pub what: String,
    #[graphql(default)]
    pub audience: String,
    #[graphql(default)]
    pub how: String,
    #[graphql(default)]
    pub needs: String,
    #[graphql(default)]
    pub outcome: String,
    #[graphql(default)]
    pub times: String,
    #[graphql(default)]
    pub costs: String,
    #[graphql(default)]
    pub contacts: String,
}

impl From<SheetSections> for Sections {
    fn from(s: SheetSections) -> Self {
        Sections {
            what: s.what,
            audience: s.audience,
            how: s.how,
            needs: s.needs,
            outcome: s.outcome,
            times: s.times,
            costs: s.costs,
            contacts: s.contacts,
        }
    }
}

impl From<Sections> for SheetSections {
    fn from(s: Sections) -> Self {
        SheetSections {
            what: s.what,
            audience: s.audience,
            how: s.how,
            needs: s.needs,
            outcome: s.outcome,
            times: s.times,
            costs: s.costs,
            contacts: s.contacts,
        }
    }
}

/// One language of a service's sheet at the caller's body.
#[derive(SimpleObject)]
pub struct ServiceSheet {
    pub service_code: String,
    pub language: SheetLanguage,
    pub state: ServiceSheetState,
    pub sections: SheetSections,
    /// Who saved it last: `issuer subject`.
    pub updated_by: String,
    pub updated_at: DateTime<Utc>,
}

impl From<Sheet> for ServiceSheet {
    fn from(s: Sheet) -> Self {
        ServiceSheet {
            service_code: s.service_code,
            language: s.language.into(),
            state: s.state.into(),
            sections: s.sections.into(),
            updated_by: s.updated_by,
            updated_at: s.updated_at,
        }
    }
}

/// A sheet as its editors see it.
#[derive(SimpleObject)]
pub struct ServiceSheetEditing {
    /// What the editors work on; null before the first save.
    pub draft: Option<ServiceSheet>,
    /// What citizens read now; null when not published.
    pub published: Option<ServiceSheet>,
}

/// A published section, and the body that wrote it (the service's body or an ancestor).
#[derive(SimpleObject)]
pub struct PublicSheetSection {
    pub section: SheetSection,
    pub text: String,
    pub body: PublicBody,
}

/// A service's sheet as citizens read it.
#[derive(SimpleObject)]
pub struct PublicServiceSheet {
    /// The language asked for, or Italian when no body wrote the sheet in it.
    pub language: SheetLanguage,
    pub sections: Vec<PublicSheetSection>,
}

#[derive(Default)]
pub struct SheetQuery;

#[Object]
impl SheetQuery {
    /// The draft and published sheet of one of the caller's body's services.
    async fn service_sheet(
        &self,
        ctx: &Context<'_>,
        code: String,
        language: SheetLanguage,
    ) -> ApiResult<ServiceSheetEditing> {
        let e = uc::editing(state(ctx), caller(ctx), &code, language.into()).await?;
        Ok(ServiceSheetEditing {
            draft: e.draft.map(Into::into),
            published: e.published.map(Into::into),
        })
    }

    /// A service's published sheet, for anyone (no sign-in needed): each section from the
    /// body itself or, where it wrote none, from the nearest ancestor that did. Null when
    /// nothing is published.
    async fn public_service_sheet(
        &self,
        ctx: &Context<'_>,
        body: String,
        code: String,
        #[graphql(default_with = "SheetLanguage::It")] language: SheetLanguage,
    ) -> ApiResult<Option<PublicServiceSheet>> {
        let found = uc::public(state(ctx), &body, &code, language.into()).await?;
        Ok(found.map(|s| PublicServiceSheet {
            language: s.language.into(),
            sections: s
                .sections
                .into_iter()
                .map(|p| PublicSheetSection {
                    section: p.section.into(),
                    text: p.text,
                    body: PublicBody {
                        slug: p.body_slug,
                        name: p.body_name,
                    },
                })
                .collect(),
        }))
    }
}

#[derive(Default)]
pub struct SheetMutation;

#[Object]
impl SheetMutation {
    /// Saves the draft of a sheet of one of the body's services (whole: every section
    /// not sent becomes empty). What citizens read changes only on publish.
    async fn save_service_sheet_draft(
        &self,
        ctx: &Context<'_>,
        code: String,
        language: SheetLanguage,
        sections: SheetSections,
    ) -> ApiResult<ServiceSheet> {
        let lang: Language = language.into();
        let saved = uc::save_draft(state(ctx), caller(ctx), &code, lang, sections.into()).await?;
        Ok(saved.into())
    }

    /// Publishes the draft as it stands.
    async fn publish_service_sheet(
        &self,
        ctx: &Context<'_>,
        code: String,
        language: SheetLanguage,
    ) -> ApiResult<ServiceSheet> {
        Ok(uc::publish(state(ctx), caller(ctx), &code, language.into())
            .await?
            .into())
    }

    /// Takes the published sheet down; the draft stays.
    async fn unpublish_service_sheet(
        &self,
        ctx: &Context<'_>,
        code: String,
        language: SheetLanguage,
    ) -> ApiResult<bool> {
        uc::unpublish(state(ctx), caller(ctx), &code, language.into()).await?;
        Ok(true)
    }
}
