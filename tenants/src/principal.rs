use serde::{Deserialize, Serialize};

use crate::Role;

/// What kind of party is calling.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKind {
    /// Staff of a body: operators, supervisors, tenant administrators.
    Operator,
    /// A citizen signed in with their own identity.
    Citizen,
    /// A legacy system connecting with client credentials.
    Service,
    /// Work the platform does on its own behalf (onboarding from the CLI, demo data).
    System,
}

/// An authenticated caller, as established from a validated token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    pub subject: String,
    pub issuer: String,
    pub kind: PrincipalKind,
    pub name: Option<String>,
    /// The codice fiscale a citizen's identity provider vouches for.
    #[serde(default)]
    pub fiscal_code: Option<String>,
    /// The tenant the token was issued for, by slug.
    pub home_tenant: Option<String>,
    /// Roles asserted by the issuer. They apply in the home tenant (or, for
    /// `platform_admin`, everywhere); roles granted in Civitas come on top.
    pub token_roles: Vec<Role>,
}

/// Who someone is: the subject an issuer vouches for. A subject alone names no one, since
/// any provider may issue any subject.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Identity {
    pub issuer: String,
    pub subject: String,
}

impl Identity {
    pub fn new(issuer: impl Into<String>, subject: impl Into<String>) -> Self {
        Identity {
            issuer: issuer.into(),
            subject: subject.into(),
        }
    }

    /// The identity in one text column (`issuer|subject`), where a record keeps who acted.
    pub fn stored(&self) -> String {
        format!("{}|{}", self.issuer, self.subject)
    }
}

impl Principal {
    pub fn identity(&self) -> Identity {
        Identity::new(&self.issuer, &self.subject)
    }

    pub fn system(reason: &str) -> Self {
        Principal {
            subject: format!("system:{reason}"),
            issuer: "civitas".into(),
            kind: PrincipalKind::System,
            name: None,
            fiscal_code: None,
            home_tenant: None,
            token_roles: vec![Role::PlatformAdmin],
        }
    }

    pub fn is_platform_admin(&self) -> bool {
        self.token_roles.contains(&Role::PlatformAdmin)
    }
}
