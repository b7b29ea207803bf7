//! The person an operator names (by codice fiscale or by id), and whether their body knows
//! them: operators act only for citizens their body has a profile of.

use civitas_tenants::Scope;
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter};
use uuid::Uuid;

use crate::entity::profile;
use crate::persons::{self, parse_fiscal_code};
use crate::{Error, Result};

/// How the operator names the citizen.
#[derive(Clone, Debug)]
pub enum Lookup {
    FiscalCode(String),
    Person(Uuid),
}

/// The person `lookup` names and the records merged into it, the person first.
pub(crate) async fn family_of(
    scope: &Scope,
    lookup: Lookup,
) -> Result<Option<Vec<persons::Person>>> {
    match person_id(scope.conn(), lookup).await? {
        Some(id) => persons::with_family(scope.conn(), id).await,
        None => Ok(None),
    }
}

/// A person of whom the body sees nothing answers exactly like one who does not exist.
pub(crate) fn not_found() -> Error {
    Error::NotFound("citizen")
}

/// The id of the person record `lookup` names, if any (persons are global rows).
pub(crate) async fn person_id<C: ConnectionTrait>(
    conn: &C,
    lookup: Lookup,
) -> Result<Option<Uuid>> {
    Ok(Some(match lookup {
        Lookup::FiscalCode(raw) => {
            let code = parse_fiscal_code(&raw)?;
            match persons::id_by_fiscal_code(conn, &code).await? {
                Some(id) => id,
                None => return Ok(None),
            }
        }
        Lookup::Person(id) => id,
    }))
}

/// The person (root record and family) named by `lookup`, if the scope's body has a profile
/// of them: operators act only for citizens their body knows.
pub async fn registered_person(scope: &Scope, lookup: Lookup) -> Result<(Uuid, Vec<Uuid>)> {
    let members = family_of(scope, lookup).await?.ok_or_else(not_found)?;
    let person = &members[0];
    let family: Vec<Uuid> = members.iter().map(|p| p.id).collect();
    let known = scope
        .find::<profile::Entity>()
        .filter(profile::Column::PersonId.is_in(family.iter().copied()))
        .one(scope.conn())
        .await?
        .is_some();
    if known {
        Ok((person.id, family))
    } else {
        Err(not_found())
    }
}
