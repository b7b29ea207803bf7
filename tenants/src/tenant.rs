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

crate::string_enum!(TenantKind {
    Capitale => "capitale",
    Municipio => "municipio",
    Partecipata => "partecipata",
    ComuneMetropolitano => "comune_metropolitano",
    Other => "other",
});
crate::string_enum!(TenantStatus { Active => "active", Suspended => "suspended" });

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
