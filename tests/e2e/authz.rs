//! Each role can do what it should and nothing else; changes are effective at once.

use civitas_policies::{Level, Permission};
use civitas_tenants::Role;
use rstest::rstest;
use serde_json::{Value, json};

use crate::harness::*;

/// An operation, the permission it needs, and the roles that may perform it in their own
/// tenant (the specification: the test also checks the default policies say the same).
struct Op {
    name: &'static str,
    permission: Permission,
    query: &'static str,
    allowed: &'static [Role],
}

const ALL_ROLES: &[Role] = &[
    Role::TenantAdmin,
    Role::Supervisor,
    Role::Operator,
    Role::Tutor,
    Role::Integrator,
    Role::Citizen,
];
const SUPERVISORS: &[Role] = &[Role::TenantAdmin, Role::Supervisor];
const OPERATORS: &[Role] = &[Role::TenantAdmin, Role::Supervisor, Role::Operator];

/// One operation for every permission; suspending the body comes last, as it ends the
/// body's calls.
const OPS: &[Op] = &[
    Op {
        name: "read own tenant",
        permission: Permission::TenantRead,
        query: "{ tenant(slug: \"roma\") { slug } }",
        allowed: ALL_ROLES,
    },
    Op {
        name: "update settings",
        permission: Permission::TenantUpdate,
        query: "mutation { updateTenantSettings(settings: {}) { slug } }",
        allowed: &[Role::TenantAdmin],
    },
    Op {
        name: "read the register of processing activities",
        permission: Permission::ProcessingRegisterRead,
        query: "{ processingRegister { markdown } }",
        allowed: &[Role::TenantAdmin],
    },
    Op {
        name: "list members",
        permission: Permission::MemberRead,
        query: "{ memberships { edges { cursor } } }",
        allowed: SUPERVISORS,
    },
    Op {
        name: "grant role",
        permission: Permission::MemberManage,
        query: "mutation { grantRole(subject: \"someone\", role: OPERATOR) { subject } }",
        allowed: &[Role::TenantAdmin],
    },
    Op {
        name: "read policies",
        permission: Permission::PolicyRead,
        query: "{ policies { role } }",
        allowed: &[Role::TenantAdmin],
    },
    Op {
        name: "edit policies",
        permission: Permission::PolicyManage,
        query: "mutation { addPolicy(role: \"tutor\", object: \"audit\", action: \"read\") { role } }",
        allowed: &[Role::TenantAdmin],
    },
    Op {
        name: "read audit log",
        permission: Permission::AuditRead,
        query: "{ auditEvents { edges { cursor } } }",
        allowed: SUPERVISORS,
    },
    Op {
        name: "read services",
        permission: Permission::ServiceRead,
        query: "{ services { code } }",
        allowed: ALL_ROLES,
    },
    Op {
        name: "create service",
        permission: Permission::ServiceCreate,
        query: "mutation { createService(input: { code: \"NEW-1\", name: \"Nuovo\", area: \"Anagrafe\" }) { code } }",
        allowed: SUPERVISORS,
    },
    Op {
        name: "draft a service sheet",
        permission: Permission::ServiceUpdate,
        query: "mutation { saveServiceSheetDraft(code: \"NONE\", language: IT, sections: { what: \"x\" }) { state } }",
        allowed: SUPERVISORS,
    },
    Op {
        name: "publish a service sheet",
        permission: Permission::ServicePublish,
        query: "mutation { publishServiceSheet(code: \"NONE\", language: IT) { state } }",
        allowed: SUPERVISORS,
    },
    Op {
        name: "import the parent catalogue",
        permission: Permission::CatalogueImport,
        query: "mutation { importParentCatalogue }",
        allowed: SUPERVISORS,
    },
    Op {
        name: "find citizens",
        permission: Permission::CitizenRead,
        query: "{ citizens(name: \"rossi\") { edges { cursor } } }",
        allowed: &[
            Role::TenantAdmin,
            Role::Supervisor,
            Role::Operator,
            Role::Tutor,
            Role::Integrator,
        ],
    },
    Op {
        name: "register a citizen",
        permission: Permission::CitizenRegister,
        query: "mutation { registerCitizen(input: { givenName: \"Anna\", familyName: \"Neri\" }) { id } }",
        allowed: &[
            Role::TenantAdmin,
            Role::Supervisor,
            Role::Operator,
            Role::Integrator,
        ],
    },
    Op {
        name: "update a profile",
        permission: Permission::CitizenUpdate,
        query: "mutation { updateProfile(id: \"00000000-0000-7000-8000-000000000001\", input: {}) { id } }",
        allowed: &[
            Role::TenantAdmin,
            Role::Supervisor,
            Role::Operator,
            Role::Integrator,
        ],
    },
    Op {
        name: "push a legacy citizen",
        permission: Permission::CitizenUpsert,
        query: "mutation { upsertCitizenFromSource(source: \"s\", externalRef: \"r\", input: { givenName: \"Anna\", familyName: \"Neri\" }) { changed } }",
        allowed: &[Role::Integrator],
    },
    Op {
        name: "merge persons",
        permission: Permission::CitizenMerge,
        query: "mutation { mergePersons(sourcePersonId: \"00000000-0000-7000-8000-000000000001\", targetPersonId: \"00000000-0000-7000-8000-000000000001\") }",
        allowed: SUPERVISORS,
    },
    Op {
        name: "the citizen view",
        permission: Permission::CitizenViewRead,
        query: "{ citizenView(fiscalCode: \"RSSMRA85T10A562S\", purpose: \"citizen_contact\") { personId } }",
        allowed: &[
            Role::TenantAdmin,
            Role::Supervisor,
            Role::Operator,
            Role::Tutor,
        ],
    },
    Op {
        name: "consent requests",
        permission: Permission::ConsentRead,
        query: "{ consentRequests { edges { cursor } } }",
        allowed: OPERATORS,
    },
    Op {
        name: "collect a sharing consent",
        permission: Permission::ConsentGrant,
        query: "mutation { grantSharingConsent(input: { fiscalCode: \"RSSMRA85T10A562S\", grantee: \"roma\", scopes: [PROFILE], purpose: \"x\" }) { id } }",
        allowed: OPERATORS,
    },
    Op {
        name: "revoke a sharing consent",
        permission: Permission::ConsentRevoke,
        query: "mutation { revokeSharingConsent(id: \"00000000-0000-7000-8000-000000000001\") { id } }",
        allowed: OPERATORS,
    },
    Op {
        name: "record a privacy consent",
        permission: Permission::PrivacyRecord,
        query: "mutation { recordPrivacyConsent(input: { fiscalCode: \"RSSMRA85T10A562S\", purpose: \"x\", textVersion: \"1\" }) { id } }",
        allowed: OPERATORS,
    },
    Op {
        name: "withdraw a privacy consent",
        permission: Permission::PrivacyWithdraw,
        query: "mutation { withdrawPrivacyConsent(id: \"00000000-0000-7000-8000-000000000001\") { id } }",
        allowed: OPERATORS,
    },
    Op {
        name: "the body's access log",
        permission: Permission::AccessLogRead,
        query: "{ accessEntries { edges { cursor } } }",
        allowed: SUPERVISORS,
    },
    Op {
        name: "list cases",
        permission: Permission::CaseRead,
        query: "{ cases { edges { cursor } } }",
        allowed: &[
            Role::TenantAdmin,
            Role::Supervisor,
            Role::Operator,
            Role::Tutor,
            Role::Integrator,
        ],
    },
    Op {
        name: "open a case",
        permission: Permission::CaseCreate,
        query: "mutation { createCase(input: { serviceCode: \"NOPE\", title: \"x\" }) { id } }",
        allowed: &[
            Role::TenantAdmin,
            Role::Supervisor,
            Role::Operator,
            Role::Tutor,
            Role::Integrator,
        ],
    },
    Op {
        name: "move a case",
        permission: Permission::CaseUpdate,
        query: "mutation { changeCaseStatus(id: \"00000000-0000-7000-8000-000000000001\", status: IN_PROGRESS) { id } }",
        allowed: &[
            Role::TenantAdmin,
            Role::Supervisor,
            Role::Operator,
            Role::Integrator,
        ],
    },
    Op {
        name: "assign a case",
        permission: Permission::CaseAssign,
        query: "mutation { assignCase(id: \"00000000-0000-7000-8000-000000000001\", team: \"t\") { id } }",
        allowed: OPERATORS,
    },
    Op {
        name: "escalate a case",
        permission: Permission::CaseEscalate,
        query: "mutation { escalateCase(id: \"00000000-0000-7000-8000-000000000001\", reason: \"x\") { id } }",
        allowed: SUPERVISORS,
    },
    Op {
        name: "the dashboard",
        permission: Permission::CaseStats,
        query: "{ caseStats { overdue } }",
        allowed: SUPERVISORS,
    },
    Op {
        name: "push a legacy case",
        permission: Permission::CaseUpsert,
        query: "mutation { upsertCaseFromSource(source: \"s\", externalRef: \"r\", input: { serviceCode: \"NOPE\", title: \"x\", status: NEW }) { changed } }",
        allowed: &[Role::Integrator],
    },
    Op {
        name: "a citizen's contacts",
        permission: Permission::InteractionRead,
        query: "{ interactionHistory(personId: \"00000000-0000-7000-8000-000000000001\") { edges { cursor } } }",
        allowed: OPERATORS,
    },
    Op {
        name: "record a contact",
        permission: Permission::InteractionCreate,
        query: "mutation { recordInteraction(input: { channel: \"phone\", direction: \"inbound\", summary: \"x\" }) { id } }",
        allowed: &[
            Role::TenantAdmin,
            Role::Supervisor,
            Role::Operator,
            Role::Tutor,
            Role::Integrator,
        ],
    },
    Op {
        name: "recognise a caller",
        permission: Permission::CallerIdentify,
        query: "{ identifyCaller(phone: \"+393331234567\") { personId } }",
        allowed: OPERATORS,
    },
    Op {
        name: "grant a delegation",
        permission: Permission::DelegationGrant,
        query: "mutation { grantDelegation(personId: \"00000000-0000-7000-8000-000000000001\", tutor: \"t\", scopes: [\"cases\"]) { id } }",
        allowed: SUPERVISORS,
    },
    Op {
        name: "revoke a delegation",
        permission: Permission::DelegationRevoke,
        query: "mutation { revokeDelegation(id: \"00000000-0000-7000-8000-000000000001\") }",
        allowed: SUPERVISORS,
    },
    Op {
        name: "read the retention schedule",
        permission: Permission::RetentionRead,
        query: "{ retentionRules { edges { cursor } } }",
        allowed: SUPERVISORS,
    },
    Op {
        name: "set a retention rule",
        permission: Permission::RetentionManage,
        query: "mutation { setRetentionRule(input: { keepYears: 12 }) { keepYears } }",
        allowed: &[Role::TenantAdmin],
    },
    Op {
        name: "list the access purposes",
        permission: Permission::AccessPurposeRead,
        query: "{ accessPurposes { edges { node { code } } } }",
        allowed: &[
            Role::TenantAdmin,
            Role::Supervisor,
            Role::Operator,
            Role::Tutor,
        ],
    },
    Op {
        name: "define an access purpose",
        permission: Permission::AccessPurposeManage,
        query: "mutation { defineAccessPurpose(input: { code: \"audit_check\", label: \"Audit\", legalBasis: \"Art. 6(1)(c) GDPR\" }) { code } }",
        allowed: &[Role::TenantAdmin],
    },
    Op {
        name: "list the areas of competence",
        permission: Permission::ServiceAreaRead,
        query: "{ serviceAreas { edges { cursor } } }",
        allowed: &[
            Role::TenantAdmin,
            Role::Supervisor,
            Role::Operator,
            Role::Integrator,
        ],
    },
    Op {
        name: "remove an area of competence",
        permission: Permission::ServiceAreaManage,
        query: "mutation { removeServiceArea(id: \"00000000-0000-7000-8000-000000000001\") { id } }",
        allowed: &[Role::TenantAdmin],
    },
    Op {
        name: "list the routing rules",
        permission: Permission::RoutingRuleRead,
        query: "{ routingRules { edges { cursor } } }",
        allowed: OPERATORS,
    },
    Op {
        name: "remove a routing rule",
        permission: Permission::RoutingRuleManage,
        query: "mutation { removeRoutingRule(id: \"00000000-0000-7000-8000-000000000001\") }",
        allowed: &[Role::TenantAdmin],
    },
    Op {
        name: "revoke an Open311 key",
        permission: Permission::ApiKeyManage,
        query: "mutation { revokeApiKey(id: \"00000000-0000-7000-8000-000000000001\") { id } }",
        allowed: &[Role::TenantAdmin],
    },
    Op {
        name: "list the initiatives",
        permission: Permission::InitiativeRead,
        query: "{ initiatives { edges { cursor } } }",
        allowed: &[
            Role::TenantAdmin,
            Role::Supervisor,
            Role::Operator,
            Role::Tutor,
        ],
    },
    Op {
        name: "publish an initiative",
        permission: Permission::InitiativeManage,
        query: "mutation { setInitiativeStatus(id: \"00000000-0000-7000-8000-000000000001\", status: PUBLISHED) { id } }",
        allowed: SUPERVISORS,
    },
    Op {
        name: "list an initiative's participants",
        permission: Permission::ParticipationRead,
        query: "{ participants(initiativeId: \"00000000-0000-7000-8000-000000000001\") { edges { cursor } } }",
        allowed: OPERATORS,
    },
    Op {
        name: "cancel a participation",
        permission: Permission::ParticipationRecord,
        query: "mutation { cancelParticipation(id: \"00000000-0000-7000-8000-000000000001\") { id } }",
        allowed: &[
            Role::TenantAdmin,
            Role::Supervisor,
            Role::Operator,
            Role::Tutor,
        ],
    },
    Op {
        name: "check a participant in",
        permission: Permission::ParticipationCheckIn,
        query: "mutation { checkInParticipant(id: \"00000000-0000-7000-8000-000000000001\") { id } }",
        allowed: OPERATORS,
    },
    Op {
        name: "list the questionnaires",
        permission: Permission::QuestionnaireRead,
        query: "{ questionnaires { edges { cursor } } }",
        allowed: OPERATORS,
    },
    Op {
        name: "publish a questionnaire",
        permission: Permission::QuestionnaireManage,
        query: "mutation { publishQuestionnaire(id: \"00000000-0000-7000-8000-000000000001\") { version } }",
        allowed: SUPERVISORS,
    },
    Op {
        name: "read a questionnaire's results",
        permission: Permission::QuestionnaireStats,
        query: "{ satisfactionKpis(from: \"2026-01-01T00:00:00Z\", to: \"2026-02-01T00:00:00Z\") { edges { cursor } } }",
        allowed: SUPERVISORS,
    },
    Op {
        name: "record an erasure request",
        permission: Permission::ErasureRecord,
        query: "mutation { recordErasureRequest(personId: \"00000000-0000-7000-8000-000000000001\") }",
        allowed: SUPERVISORS,
    },
    Op {
        name: "list tenants",
        permission: Permission::TenantsList,
        query: "{ tenants { slug } }",
        allowed: &[],
    },
    Op {
        name: "read another tenant",
        permission: Permission::TenantsRead,
        query: "{ tenant(slug: \"nessuno\") { slug } }",
        allowed: &[],
    },
    Op {
        name: "onboard",
        permission: Permission::TenantOnboard,
        query: "mutation { onboardTenant(input: { slug: \"altro\", displayName: \"A\", kind: OTHER, admin: { subject: \"a\" } }) { tenant { slug } } }",
        allowed: &[],
    },
    Op {
        name: "trust a provider for citizens",
        permission: Permission::IdentityProviderTrust,
        query: "mutation { setIdentityProviderCitizenTrust(id: \"00000000-0000-7000-8000-000000000001\", trusted: true) { id } }",
        allowed: &[],
    },
    Op {
        name: "suspend",
        permission: Permission::TenantSuspend,
        query: "mutation { setTenantStatus(slug: \"roma\", status: SUSPENDED) { slug } }",
        allowed: &[],
    },
];

/// Whether the default policies let `role` do `p` in a tenant, following role inheritance
/// (`g` rules) as Casbin does.
fn granted_by_default(role: Role, p: Permission) -> bool {
    if p.level() == Level::Platform {
        return false;
    }
    let rules = civitas_policies::default_tenant_rules("d");
    let mut roles = vec![role.as_str().to_owned()];
    let mut i = 0;
    while i < roles.len() {
        for (ptype, r) in &rules {
            if *ptype == "g" && r[0] == roles[i] && !roles.contains(&r[1]) {
                roles.push(r[1].clone());
            }
        }
        i += 1;
    }
    rules.iter().any(|(ptype, r)| {
        *ptype == "p"
            && roles.contains(&r[0])
            && (r[2] == p.object().as_str() || r[2] == "*")
            && (r[3] == p.action().as_str() || r[3] == "*")
    })
}

#[test]
fn the_matrix_covers_every_permission_and_agrees_with_the_default_policies() {
    for p in Permission::ALL {
        assert!(
            OPS.iter().any(|op| op.permission == *p),
            "no operation of the matrix needs {p:?}"
        );
    }
    for op in OPS {
        for role in ALL_ROLES {
            assert_eq!(
                op.allowed.contains(role),
                granted_by_default(*role, op.permission),
                "{role} / {}: the matrix and the default policies disagree",
                op.name
            );
        }
    }
}

/// Whether the call got past authorization: an answer, or an error other than FORBIDDEN
/// (such as NOT_FOUND for a citizen no one registered). INTERNAL is a failure of its own:
/// a call that crashes after authorization proves nothing about it.
fn outcome(body: &Value) -> Result<(), String> {
    match body.get("errors") {
        None => Ok(()),
        Some(_) if !["FORBIDDEN", "INTERNAL"].contains(&error_code(body)) => Ok(()),
        Some(_) => Err(error_code(body).to_owned()),
    }
}

#[rstest]
#[case::tenant_admin(Role::TenantAdmin)]
#[case::supervisor(Role::Supervisor)]
#[case::operator(Role::Operator)]
#[case::tutor(Role::Tutor)]
#[case::integrator(Role::Integrator)]
#[case::citizen(Role::Citizen)]
#[tokio::test]
async fn each_role_can_do_what_it_should_and_nothing_else(
    #[values(Sqlite, Postgres)] backend: Backend,
    #[case] role: Role,
) {
    let app = TestApp::spawn(backend).await;
    app.onboard("roma").await;
    let token = app.member("roma", "subject-under-test", role).await;
    for op in OPS {
        let got = outcome(&app.gql(&token, op.query, json!({})).await);
        let want = if op.allowed.contains(&role) {
            Ok(())
        } else {
            Err("FORBIDDEN".to_owned())
        };
        assert_eq!(got, want, "{role} / {}", op.name);
    }
}

#[rstest]
#[tokio::test]
async fn platform_admins_may_do_everything(#[values(Sqlite, Postgres)] backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.onboard("roma").await;
    let pa = app.platform_admin();
    for op in OPS {
        let body = app
            .post(Some(&pa), Some("roma"), op.query, json!({}))
            .await
            .1;
        assert_eq!(outcome(&body), Ok(()), "{}: {body}", op.name);
    }
}

#[rstest]
#[tokio::test]
async fn a_policy_change_is_effective_on_the_next_request(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    app.onboard("roma").await;
    let admin = app.admin_of("roma");
    let op = app.member("roma", "roma-op", Role::Operator).await;
    let members = "{ memberships { edges { node { subject } } } }";
    assert_eq!(
        error_code(&app.gql(&op, members, json!({})).await),
        "FORBIDDEN"
    );

    let add = app.gql(&admin, "mutation { addPolicy(role: \"operator\", object: \"member\", action: \"read\") { role object action } }", json!({})).await;
    assert_no_errors(&add);
    assert_no_errors(&app.gql(&op, members, json!({})).await);

    let rm = app.gql(&admin, "mutation { removePolicy(role: \"operator\", object: \"member\", action: \"read\") { role } }", json!({})).await;
    assert_no_errors(&rm);
    assert_eq!(
        error_code(&app.gql(&op, members, json!({})).await),
        "FORBIDDEN"
    );

    let missing = app.gql(&admin, "mutation { removePolicy(role: \"operator\", object: \"member\", action: \"read\") { role } }", json!({})).await;
    assert_eq!(error_code(&missing), "NOT_FOUND");
    let bad = app.gql(&admin, "mutation { addPolicy(role: \"op erator\", object: \"member\", action: \"read\") { role } }", json!({})).await;
    assert_eq!(error_code(&bad), "VALIDATION");
}

#[rstest]
#[tokio::test]
async fn grants_and_revocations_are_effective_on_the_next_request(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    app.onboard("roma").await;
    let admin = app.admin_of("roma");
    let op = app.member("roma", "roma-op", Role::Operator).await;
    let audit = "{ auditEvents { edges { node { action } } } }";
    assert_eq!(
        error_code(&app.gql(&op, audit, json!({})).await),
        "FORBIDDEN"
    );

    app.member("roma", "roma-op", Role::Supervisor).await;
    assert_no_errors(&app.gql(&op, audit, json!({})).await);
    let me = app.gql(&op, "{ me { roles } }", json!({})).await;
    assert_eq!(me["data"]["me"]["roles"], json!(["SUPERVISOR", "OPERATOR"]));

    let rv = app
        .gql(
            &admin,
            "mutation { revokeRole(subject: \"roma-op\", role: SUPERVISOR) { roles } }",
            json!({}),
        )
        .await;
    assert_eq!(rv["data"]["revokeRole"]["roles"], json!(["OPERATOR"]));
    assert_eq!(
        error_code(&app.gql(&op, audit, json!({})).await),
        "FORBIDDEN"
    );

    let log = app.gql(&admin, audit, json!({})).await;
    let actions: Vec<_> = log["data"]["auditEvents"]["edges"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| e["node"]["action"].as_str())
        .collect();
    assert_eq!(actions[..2], [Some("role.revoked"), Some("role.granted")]);
}

#[rstest]
#[tokio::test]
async fn platform_admin_is_not_granted_inside_a_tenant(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    app.onboard("roma").await;
    let body = app
        .gql(
            &app.admin_of("roma"),
            "mutation { grantRole(subject: \"me\", role: PLATFORM_ADMIN) { subject } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), "VALIDATION");
}

#[rstest]
#[tokio::test]
async fn a_member_of_two_tenants_chooses_with_the_header(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    app.onboard("roma").await;
    app.onboard("ama").await;
    let token = app.member("roma", "shared-op", Role::Operator).await;
    app.member("ama", "shared-op", Role::Supervisor).await;
    let (_, body) = app
        .post(
            Some(&token),
            Some("ama"),
            "{ me { tenant { slug } roles } }",
            json!({}),
        )
        .await;
    assert_eq!(
        body["data"]["me"],
        json!({ "tenant": { "slug": "ama" }, "roles": ["SUPERVISOR"] })
    );
}

/// Memberships are cached per replica; a revocation on one replica must reach the others
/// through NOTIFY, well before the cache's 5-second TTL would.
#[rstest]
#[tokio::test]
async fn a_revocation_reaches_the_other_replicas_cache() {
    let app = TestApp::spawn(Postgres).await;
    let second = app.replica().await;
    app.onboard("roma").await;
    let admin = app.admin_of("roma");
    let op = app.member("roma", "roma-op", Role::Supervisor).await;
    let audit = "{ auditEvents { edges { node { action } } } }";
    let on_second = || {
        let client = app.client.clone();
        let url = format!("http://{}/graphql", second.addr);
        let op = op.clone();
        async move {
            let body: Value = client
                .post(url)
                .bearer_auth(op)
                .json(&json!({ "query": audit }))
                .send()
                .await
                .expect("send")
                .json()
                .await
                .expect("json");
            body
        }
    };
    // The second replica caches the membership with its SUPERVISOR role.
    assert_no_errors(&on_second().await);

    let rv = app
        .gql(
            &admin,
            "mutation { revokeRole(subject: \"roma-op\", role: SUPERVISOR) { roles } }",
            json!({}),
        )
        .await;
    assert_no_errors(&rv);
    let started = std::time::Instant::now();
    let mut code = String::new();
    while started.elapsed() < std::time::Duration::from_secs(2) {
        let body = on_second().await;
        code = body["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        if code == "FORBIDDEN" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(
        code, "FORBIDDEN",
        "the second replica kept the revoked role"
    );
}
