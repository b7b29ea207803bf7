//! A citizen's own records: a translation of [`civitas_crm::app::me`] (the reads are in
//! `consents.rs`, on `me { citizen }`).

use async_graphql::{Context, InputObject, Object};
use civitas_crm::app::me::{self as uc, MyContacts};

use crate::caller::{caller, state};
use crate::citizen_types::Profile;
use crate::error::ApiResult;

/// How a body reaches the citizen. Lists given replace the body's; left out, they stay.
#[derive(InputObject)]
pub struct MyContactsInput {
    pub emails: Option<Vec<String>>,
    /// In any format; stored as E.164 (national numbers are taken as Italian).
    pub phones: Option<Vec<String>>,
    pub preferred_channel: Option<String>,
    /// Such as `it` or `en-GB`.
    pub language: Option<String>,
}

#[derive(Default)]
pub struct MeMutation;

#[Object]
impl MeMutation {
    /// The signed-in citizen corrects how one body reaches them (e-mails, phones, preferred
    /// channel, language); the other bodies' records stay as they are.
    async fn correct_my_contacts(
        &self,
        ctx: &Context<'_>,
        tenant: String,
        input: MyContactsInput,
    ) -> ApiResult<Profile> {
        let contacts = MyContacts {
            emails: input.emails,
            phones: input.phones,
            preferred_channel: input.preferred_channel,
            language: input.language,
        };
        let p = uc::correct_contacts(state(ctx), caller(ctx), &tenant, contacts).await?;
        Ok(p.into())
    }
}
