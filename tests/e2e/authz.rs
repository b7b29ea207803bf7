//! Each role can do what it should and nothing else; changes are effective at once.

use civitas_tenants::Role;
use rstest::rstest;
use serde_json::{Value, json};

use crate::harness::*;

/// An operation and the roles that may perform it in their own tenant.
struct Op {
    name: &'static str,
    query: &'static str,
    allowed: &'static [Role],
}

const OPS: &[Op] = &[
    Op {
        name: "read services",
        query: "{ services { code } }",
        allowed: &[
            Role::TenantAdmin,
            Role::Supervisor,
            Role::Operator,
            Role::Tutor,
            Role::Integrator,
            Role::Citizen,
        ],
    },
    Op {
        name: "read own tenant",
        query: "{ tenant(slug: \"roma\") { slug } }",
        allowed: &[
            Role::TenantAdmin,
            Role::Supervisor,
            Role::Operator,
            Role::Tutor,
            Role::Integrator,
            Role::Citizen,
        ],
    },
    Op {
        name: "create service",
        query: "mutation { createService(input: { code: \"NEW-1\", name: \"Nuovo\", area: \"Anagrafe\" }) { code } }",
        allowed: &[Role::TenantAdmin, Role::Supervisor],
    },
    Op {
        name: "list members",
        query: "{ members { subject } }",
        allowed: &[Role::TenantAdmin, Role::Supervisor],
    },
    Op {
        name: "read audit log",
        query: "{ auditLog { action } }",
        allowed: &[Role::TenantAdmin, Role::Supervisor],
    },
    Op {
        name: "grant role",
        query: "mutation { grantRole(subject: \"someone\", role: OPERATOR) { subject } }",
        allowed: &[Role::TenantAdmin],
    },
    Op {
        name: "read policies",
        query: "{ policies { role } }",
        allowed: &[Role::TenantAdmin],
    },
    Op {
        name: "edit policies",
        query: "mutation { addPolicy(role: \"tutor\", object: \"audit\", action: \"read\") { role } }",
        allowed: &[Role::TenantAdmin],
    },
    Op {
        name: "update settings",
        query: "mutation { updateTenantSettings(settings: {}) { slug } }",
        allowed: &[Role::TenantAdmin],
    },
    Op {
        name: "list tenants",
        query: "{ tenants { slug } }",
        allowed: &[],
    },
    Op {
        name: "onboard",
        query: "mutation { onboardTenant(input: { slug: \"altro\", displayName: \"A\", kind: OTHER, admin: { subject: \"a\" } }) { tenant { slug } } }",
        allowed: &[],
    },
    Op {
        name: "suspend",
        query: "mutation { setTenantStatus(slug: \"roma\", status: SUSPENDED) { slug } }",
        allowed: &[],
    },
];

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
    let members = "{ members { subject } }";
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
    let audit = "{ auditLog { action } }";
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
    let actions: Vec<_> = log["data"]["auditLog"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| e["action"].as_str())
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
    let audit = "{ auditLog { action } }";
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
