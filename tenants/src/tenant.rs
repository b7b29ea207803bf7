use std::{fmt, str::FromStr};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{Error, TenantId, TenantSlug, entity::tenant};

/// What kind of body a tenant is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TenantKind {
    Capitale,
    Municipio,
    Partecipata,
    ComuneMetropolitano,
    Other,
}

/// A suspended tenant keeps its data but every call made in it is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TenantStatus {
    Active,
    Suspended,
}

macro_rules! string_enum {
    ($ty:ident { $($v:ident => $s:literal),* $(,)? }) => {
        impl $ty {
            pub fn as_str(self) -> &'static str {
                match self { $($ty::$v => $s),* }
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl FromStr for $ty {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self, Error> {
                match s {
                    $($s => Ok($ty::$v),)*
                    _ => Err(Error::Validation(format!("unknown {} {s:?}", stringify!($ty)))),
                }
            }
        }
    };
}

string_enum!(TenantKind {
    Capitale => "capitale",
    Municipio => "municipio",
    Partecipata => "partecipata",
    ComuneMetropolitano => "comune_metropolitano",
    Other => "other",
});
string_enum!(TenantStatus { Active => "active", Suspended => "suspended" });

/// A body served by this deployment.
#[derive(Clone, Debug, PartialEq)]
pub struct Tenant {
    pub id: TenantId,
    pub slug: TenantSlug,
    pub display_name: String,
    pub kind: TenantKind,
    pub parent_id: Option<TenantId>,
    pub status: TenantStatus,
    pub settings: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<tenant::Model> for Tenant {
    type Error = Error;
    fn try_from(m: tenant::Model) -> Result<Self, Error> {
        Ok(Tenant {
            id: TenantId(m.id),
            slug: TenantSlug::parse(&m.slug)?,
            display_name: m.display_name,
            kind: m.kind.parse()?,
            parent_id: m.parent_id.map(TenantId),
            status: m.status.parse()?,
            settings: m.settings,
            created_at: m.created_at,
        })
    }
}
