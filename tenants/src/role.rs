use serde::{Deserialize, Serialize};

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

crate::string_enum!(Role {
    PlatformAdmin => "platform_admin",
    TenantAdmin => "tenant_admin",
    Supervisor => "supervisor",
    Operator => "operator",
    Tutor => "tutor",
    Integrator => "integrator",
    Citizen => "citizen",
});

#[cfg(test)]
mod tests {
    use super::Role;

    #[test]
    fn every_role_round_trips_through_its_name() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().ok(), Some(*r));
        }
        assert!("root".parse::<Role>().is_err());
    }
}
