//! The vocabulary of authorization: the objects and actions Casbin rules name, and every
//! permission a use case asks for. The default policies are written in the same terms, so
//! a permission without a default grant is caught by a unit test, not by a body that finds
//! no one may use a capability.

use std::fmt;

macro_rules! terms {
    ($(#[$m:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The word stored in policy rules.
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

terms!(
    /// What a rule is about.
    Object {
        Tenant => "tenant",
        Member => "member",
        Policy => "policy",
        Audit => "audit",
        Service => "service",
        Catalogue => "catalogue",
        Citizen => "citizen",
        CitizenView => "citizen_view",
        Consent => "consent",
        Privacy => "privacy",
        AccessLog => "access_log",
        Case => "case",
        Interaction => "interaction",
        ContactCentre => "contact_centre",
        Delegation => "delegation",
        IdentityProvider => "identity_provider",
        Retention => "retention",
        Erasure => "erasure",
        AccessPurpose => "access_purpose",
        ServiceArea => "service_area",
        RoutingRule => "routing_rule",
        ApiKey => "api_key",
        Initiative => "initiative",
        Participation => "participation",
        Questionnaire => "questionnaire",
    }
);

terms!(
    /// What a rule allows doing to its object; `Any` is Casbin's `*`.
    Action {
        Any => "*",
        Read => "read",
        List => "list",
        Create => "create",
        Update => "update",
        Manage => "manage",
        Register => "register",
        Merge => "merge",
        Grant => "grant",
        Revoke => "revoke",
        Record => "record",
        Withdraw => "withdraw",
        Assign => "assign",
        Escalate => "escalate",
        Stats => "stats",
        Upsert => "upsert",
        Identify => "identify",
        Import => "import",
        Onboard => "onboard",
        Suspend => "suspend",
        Trust => "trust",
        Publish => "publish",
        CheckIn => "check_in",
        Report => "report",
    }
);

/// Where a permission is checked: in the caller's tenant (with the roles held there), or at
/// platform level (with the token's roles only: no tenant grants them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Level {
    Tenant,
    Platform,
}

macro_rules! permissions {
    ($($variant:ident => ($level:ident, $object:ident, $action:ident)),+ $(,)?) => {
        /// Every permission a use case asks for.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Permission { $($variant),+ }

        impl Permission {
            pub const ALL: &'static [Permission] = &[$(Permission::$variant),+];

            pub const fn level(self) -> Level {
                match self { $(Permission::$variant => Level::$level),+ }
            }

            pub const fn object(self) -> Object {
                match self { $(Permission::$variant => Object::$object),+ }
            }

            pub const fn action(self) -> Action {
                match self { $(Permission::$variant => Action::$action),+ }
            }
        }
    };
}

permissions!(
    TenantRead => (Tenant, Tenant, Read),
    TenantUpdate => (Tenant, Tenant, Update),
    ProcessingRegisterRead => (Tenant, Tenant, Report),
    TenantsList => (Platform, Tenant, List),
    TenantsRead => (Platform, Tenant, Read),
    TenantOnboard => (Platform, Tenant, Onboard),
    TenantSuspend => (Platform, Tenant, Suspend),
    IdentityProviderTrust => (Platform, IdentityProvider, Trust),
    MemberRead => (Tenant, Member, Read),
    MemberManage => (Tenant, Member, Manage),
    PolicyRead => (Tenant, Policy, Read),
    PolicyManage => (Tenant, Policy, Manage),
    AuditRead => (Tenant, Audit, Read),
    ServiceRead => (Tenant, Service, Read),
    ServiceCreate => (Tenant, Service, Create),
    ServiceUpdate => (Tenant, Service, Update),
    ServicePublish => (Tenant, Service, Publish),
    CatalogueImport => (Tenant, Catalogue, Import),
    CitizenRead => (Tenant, Citizen, Read),
    CitizenRegister => (Tenant, Citizen, Register),
    CitizenUpdate => (Tenant, Citizen, Update),
    CitizenMerge => (Tenant, Citizen, Merge),
    CitizenUpsert => (Tenant, Citizen, Upsert),
    CitizenViewRead => (Tenant, CitizenView, Read),
    ConsentRead => (Tenant, Consent, Read),
    ConsentGrant => (Tenant, Consent, Grant),
    ConsentRevoke => (Tenant, Consent, Revoke),
    PrivacyRecord => (Tenant, Privacy, Record),
    PrivacyWithdraw => (Tenant, Privacy, Withdraw),
    AccessLogRead => (Tenant, AccessLog, Read),
    CaseRead => (Tenant, Case, Read),
    CaseCreate => (Tenant, Case, Create),
    CaseUpdate => (Tenant, Case, Update),
    CaseAssign => (Tenant, Case, Assign),
    CaseEscalate => (Tenant, Case, Escalate),
    CaseStats => (Tenant, Case, Stats),
    CaseUpsert => (Tenant, Case, Upsert),
    InteractionRead => (Tenant, Interaction, Read),
    InteractionCreate => (Tenant, Interaction, Create),
    CallerIdentify => (Tenant, ContactCentre, Identify),
    DelegationGrant => (Tenant, Delegation, Grant),
    DelegationRevoke => (Tenant, Delegation, Revoke),
    RetentionRead => (Tenant, Retention, Read),
    RetentionManage => (Tenant, Retention, Manage),
    ErasureRecord => (Tenant, Erasure, Record),
    AccessPurposeRead => (Tenant, AccessPurpose, Read),
    AccessPurposeManage => (Tenant, AccessPurpose, Manage),
    ServiceAreaRead => (Tenant, ServiceArea, Read),
    ServiceAreaManage => (Tenant, ServiceArea, Manage),
    RoutingRuleRead => (Tenant, RoutingRule, Read),
    RoutingRuleManage => (Tenant, RoutingRule, Manage),
    ApiKeyManage => (Tenant, ApiKey, Manage),
    InitiativeRead => (Tenant, Initiative, Read),
    InitiativeManage => (Tenant, Initiative, Manage),
    ParticipationRead => (Tenant, Participation, Read),
    ParticipationRecord => (Tenant, Participation, Record),
    ParticipationCheckIn => (Tenant, Participation, CheckIn),
    QuestionnaireRead => (Tenant, Questionnaire, Read),
    QuestionnaireManage => (Tenant, Questionnaire, Manage),
    QuestionnaireStats => (Tenant, Questionnaire, Stats),
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::default_tenant_rules;

    /// Whether a default rule of some role other than the platform administrator allows
    /// `p` in a tenant.
    fn granted(p: Permission) -> bool {
        default_tenant_rules("d").iter().any(|(ptype, r)| {
            *ptype == "p"
                && r[0] != "platform_admin"
                && (r[2] == p.object().as_str() || r[2] == "*")
                && (r[3] == p.action().as_str() || r[3] == "*")
        })
    }

    #[test]
    fn every_tenant_permission_a_use_case_asks_for_has_a_default_grant() {
        let missing: Vec<_> = Permission::ALL
            .iter()
            .filter(|p| p.level() == Level::Tenant && !granted(**p))
            .collect();
        assert!(missing.is_empty(), "no role is granted: {missing:?}");
    }

    #[test]
    fn the_words_are_valid_policy_terms_and_distinct() {
        let objects: std::collections::BTreeSet<_> =
            Object::ALL.iter().map(|o| o.as_str()).collect();
        assert_eq!(objects.len(), Object::ALL.len());
        let actions: std::collections::BTreeSet<_> =
            Action::ALL.iter().map(|a| a.as_str()).collect();
        assert_eq!(actions.len(), Action::ALL.len());
        for w in objects.iter().chain(actions.iter()) {
            assert!(
                w.bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'_' || b == b'*'),
                "{w}"
            );
        }
    }
}
