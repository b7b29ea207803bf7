//! Each body's list of access purposes: why its staff may open a citizen's records, and the
//! legal basis for it. A reader declares one of them (or the case they are handling) before
//! a citizen view is read; the access log records it for the citizen to see.

use chrono::{DateTime, Utc};
use civitas_tenants::{Identity, Scope};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
};
use serde::Serialize;

use crate::entity::{access_purpose, case};
use crate::ids::CaseId;
use crate::{Error, Result};

/// The purpose a case gives the reads made while handling it.
pub const CASE_HANDLING: &str = "case_handling";

/// The purposes every body starts with: `(code, label, legal basis)`. Migration 25 gave
/// the bodies that existed then the same list.
pub const DEFAULTS: &[(&str, &str, &str)] = &[
    (
        CASE_HANDLING,
        "Istruttoria di una pratica",
        "Art. 6(1)(e) GDPR: esecuzione di un compito di interesse pubblico (L. 241/1990)",
    ),
    (
        "citizen_contact",
        "Risposta al cittadino che si rivolge all'ente",
        "Art. 6(1)(e) GDPR: esecuzione di un compito di interesse pubblico",
    ),
    (
        "verification",
        "Controlli d'ufficio sulle dichiarazioni",
        "Art. 6(1)(c) GDPR: obbligo di legge (D.P.R. 445/2000, art. 71)",
    ),
];

const MAX_LABEL: usize = 200;
const MAX_LEGAL_BASIS: usize = 500;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Purpose {
    pub code: String,
    pub label: String,
    pub legal_basis: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub retired_at: Option<DateTime<Utc>>,
}

impl From<access_purpose::Model> for Purpose {
    fn from(m: access_purpose::Model) -> Self {
        Purpose {
            code: m.code,
            label: m.label,
            legal_basis: m.legal_basis,
            created_by: m.created_by,
            created_at: m.created_at,
            updated_at: m.updated_at,
            retired_at: m.retired_at,
        }
    }
}

/// Why a reader opens a citizen's records: one of the body's purposes, or a case of the
/// citizen's at the body that they are handling.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reason {
    Purpose(String),
    Case(CaseId),
}

impl Reason {
    /// The error for a reason the body does not accept.
    pub fn refused(&self) -> Error {
        match self {
            Reason::Purpose(code) => unknown(code),
            Reason::Case(_) => Error::Validation(
                "caseId: not one of this citizen's cases in use at your body".into(),
            ),
        }
    }
}

/// What a reader declared, as the access log records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Declared {
    pub label: String,
    pub legal_basis: String,
}

/// A purpose's code: 2 to 40 lower-case letters, digits and underscores, starting with a
/// letter (it is typed in API calls and kept in policies' vocabulary).
pub fn check_code(code: &str) -> Result<()> {
    let ok = (2..=40).contains(&code.len())
        && code.starts_with(|c: char| c.is_ascii_lowercase())
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(Error::Validation(format!(
            "purpose: {code:?} is not a purpose code (2-40 characters: a-z, 0-9, _)"
        )))
    }
}

/// The body's purposes, in use first, each group by code.
pub async fn list(scope: &Scope, with_retired: bool) -> Result<Vec<Purpose>> {
    let mut q = scope
        .find::<access_purpose::Entity>()
        .order_by_asc(access_purpose::Column::Code);
    if !with_retired {
        q = q.filter(access_purpose::Column::RetiredAt.is_null());
    }
    let mut found: Vec<Purpose> = q
        .all(scope.conn())
        .await?
        .into_iter()
        .map(Purpose::from)
        .collect();
    found.sort_by_key(|p| p.retired_at.is_some());
    Ok(found)
}

async fn find(scope: &Scope, code: &str) -> Result<Option<access_purpose::Model>> {
    Ok(scope
        .find::<access_purpose::Entity>()
        .filter(access_purpose::Column::Code.eq(code))
        .one(scope.conn())
        .await?)
}

/// The purpose `code` in use at the scope's body, as a reader declares it; VALIDATION for a
/// code the body does not have or has retired.
pub async fn declared(scope: &Scope, code: &str) -> Result<Declared> {
    match find(scope, code).await? {
        Some(p) if p.retired_at.is_none() => Ok(Declared {
            label: p.label,
            legal_basis: p.legal_basis,
        }),
        _ => Err(unknown(code)),
    }
}

pub(crate) fn unknown(code: &str) -> Error {
    Error::Validation(format!(
        "purpose: {code:?} is not one of your body's access purposes in use \
         (see accessPurposes)"
    ))
}

/// The purpose of reads made while handling a case: the body's `case_handling` label (or
/// the default's), with the case's number.
pub async fn for_case(scope: &Scope, number: &str) -> Result<Declared> {
    let (label, legal_basis) = match find(scope, CASE_HANDLING).await? {
        Some(p) => (p.label, p.legal_basis),
        None => (DEFAULTS[0].1.to_owned(), "Art. 6(1)(e) GDPR".to_owned()),
    };
    Ok(Declared {
        label: format!("{label} ({number})"),
        legal_basis,
    })
}

/// The purpose `reason` declares for reading the records of `family` at the scope's body:
/// VALIDATION for a purpose not in use, or a case that is not one of `family`'s in use.
pub async fn declare(scope: &Scope, reason: &Reason, family: &[uuid::Uuid]) -> Result<Declared> {
    match reason {
        Reason::Purpose(code) => declared(scope, code).await,
        Reason::Case(id) => {
            let found = scope
                .find::<case::Entity>()
                .filter(case::Column::Id.eq(id.0))
                .filter(case::Column::EraseAfter.is_null())
                .one(scope.conn())
                .await?;
            match found {
                Some(c) if c.person_id.is_some_and(|p| family.contains(&p)) => {
                    for_case(scope, &c.number).await
                }
                _ => Err(reason.refused()),
            }
        }
    }
}

/// Creates purpose `code`, or changes its label and legal basis and puts it back in use.
pub async fn define(
    scope: &Scope,
    by: &Identity,
    code: &str,
    label: &str,
    legal_basis: &str,
    now: DateTime<Utc>,
) -> Result<Purpose> {
    check_code(code)?;
    let (label, legal_basis) = (label.trim(), legal_basis.trim());
    if label.is_empty() || label.chars().count() > MAX_LABEL {
        return Err(Error::Validation(format!(
            "label: between 1 and {MAX_LABEL} characters"
        )));
    }
    if legal_basis.is_empty() || legal_basis.chars().count() > MAX_LEGAL_BASIS {
        return Err(Error::Validation(format!(
            "legalBasis: between 1 and {MAX_LEGAL_BASIS} characters (the article or law \
             that allows the read)"
        )));
    }
    let row = match find(scope, code).await? {
        Some(old) => {
            let mut row: access_purpose::ActiveModel = old.into();
            row.label = Set(label.to_owned());
            row.legal_basis = Set(legal_basis.to_owned());
            row.updated_at = Set(now);
            row.retired_at = Set(None);
            row.update(scope.conn()).await?
        }
        None => {
            scope
                .insert(access_purpose::ActiveModel {
                    tenant_id: Set(scope.tenant_id().0),
                    code: Set(code.to_owned()),
                    label: Set(label.to_owned()),
                    legal_basis: Set(legal_basis.to_owned()),
                    created_by: Set(by.stored()),
                    created_at: Set(now),
                    updated_at: Set(now),
                    retired_at: Set(None),
                })
                .await?
        }
    };
    Ok(row.into())
}

/// Takes purpose `code` out of use: readers can no longer declare it; entries that name it
/// keep their label. NOT_FOUND for a code the body never had.
pub async fn retire(scope: &Scope, code: &str, now: DateTime<Utc>) -> Result<Purpose> {
    let Some(old) = find(scope, code).await? else {
        return Err(Error::NotFound("access purpose"));
    };
    if old.retired_at.is_some() {
        return Ok(old.into());
    }
    let mut row: access_purpose::ActiveModel = old.into();
    row.retired_at = Set(Some(now));
    row.updated_at = Set(now);
    Ok(row.update(scope.conn()).await?.into())
}

/// A new body's purposes, in its onboarding transaction.
pub async fn install_defaults(scope: &Scope, now: DateTime<Utc>) -> Result<()> {
    let rows = DEFAULTS
        .iter()
        .map(|(code, label, basis)| access_purpose::ActiveModel {
            tenant_id: Set(scope.tenant_id().0),
            code: Set((*code).to_owned()),
            label: Set((*label).to_owned()),
            legal_basis: Set((*basis).to_owned()),
            created_by: Set("civitas".to_owned()),
            created_at: Set(now),
            updated_at: Set(now),
            retired_at: Set(None),
        });
    access_purpose::Entity::insert_many(rows)
        .exec_without_returning(scope.conn())
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_code;

    #[test]
    fn codes_are_short_lower_case_words() {
        for ok in ["case_handling", "verification", "p2"] {
            assert!(check_code(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "a",
            "Case",
            "2fa",
            "with space",
            "x;drop",
            &"a".repeat(41),
        ] {
            assert!(check_code(bad).is_err(), "{bad}");
        }
    }
}
