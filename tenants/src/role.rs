use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use crate::Error;

/// The built-in roles. A role is granted within one tenant (the Casbin domain), except
/// `PlatformAdmin`, which spans the platform.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    PlatformAdmin,
    TenantAdmin,
    Supervisor,
    Operator,
    Tutor,
    Integrator,
    Citizen,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Role::PlatformAdmin,
        Role::TenantAdmin,
        Role::Supervisor,
        Role::Operator,
        Role::Tutor,
        Role::Integrator,
        Role::Citizen,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::PlatformAdmin => "platform_admin",
            Role::TenantAdmin => "tenant_admin",
            Role::Supervisor => "supervisor",
            Role::Operator => "operator",
            Role::Tutor => "tutor",
            Role::Integrator => "integrator",
            Role::Citizen => "citizen",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| Error::Validation(format!("unknown role {s:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::Role;

    #[test]
    fn every_role_round_trips_through_its_name() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().ok(), Some(r));
        }
        assert!("root".parse::<Role>().is_err());
    }
}
