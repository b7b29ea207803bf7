//! An identity is (issuer, subject): what one body's OpenID provider says cannot make its
//! holder another body's administrator, or a citizen, or squat another body's issuer.
//! Tokens are forged with the key of a real provider (oidc-provider) that the body
//! `roma` registered, as that body's administrator could.

use civitas_tenants::Role;
use rstest::rstest;
use serde_json::{Value, json};

use crate::harness::*;
use crate::oidc::{Key, Provider, setup, sign, trust_for_citizens};

const ME: &str = "{ me { subject issuer kind roles tenant { slug } } }";
const MARIO: &str = "RSSMRA85T10A562S";

/// A token of roma's provider with these claims added.
fn forged(provider: &Provider, key: &Key, extra: Value) -> String {
    let now = chrono::Utc::now().timestamp();
    let mut claims =
        json!({ "iss": provider.issuer(), "aud": "civitas", "iat": now, "exp": now + 300 });
    if let (Some(c), Some(e)) = (claims.as_object_mut(), extra.as_object()) {
        c.extend(e.clone());
    }
    sign(key, jsonwebtoken::Algorithm::RS256, &claims)
}

#[rstest]
#[tokio::test]
async fn a_bodys_provider_cannot_make_anyone_another_bodys_member(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let (app, provider, key, _keys) = setup(backend).await;
    app.onboard("beta").await;

    // beta's administrator, as roma's provider would name them, with and without roles.
    for extra in [
        json!({ "sub": "beta-admin" }),
        json!({ "sub": "beta-admin", "groups": ["tenant_admin"] }),
    ] {
        let token = forged(&provider, &key, extra);
        let (status, body) = app.post(Some(&token), Some("beta"), ME, json!({})).await;
        assert_eq!((status, error_code(&body)), (403, "FORBIDDEN"), "{body}");
        let (_, grant) = app
            .post(
                Some(&token),
                Some("beta"),
                "mutation { grantRole(subject: \"mallory\", role: TENANT_ADMIN) { subject } }",
                json!({}),
            )
            .await;
        assert_eq!(error_code(&grant), "FORBIDDEN");
    }

    // At home, roma's administrator (a member under the development issuer) is not whoever
    // roma's provider calls "roma-admin".
    let token = forged(&provider, &key, json!({ "sub": "roma-admin" }));
    let me = app.gql(&token, ME, json!({})).await;
    assert_eq!(me["data"]["me"]["roles"], json!([]), "{me}");
    assert_eq!(me["data"]["me"]["issuer"], json!(provider.issuer()));

    // A role granted without an issuer is granted under the granting administrator's own;
    // granted under the provider's issuer, it is the provider's token that holds it.
    let admin = app.admin_of("roma");
    let dev = app
        .gql(
            &admin,
            "mutation { grantRole(subject: \"op9\", role: OPERATOR) { issuer subject roles } }",
            json!({}),
        )
        .await;
    assert_eq!(dev["data"]["grantRole"]["issuer"], "civitas-dev", "{dev}");
    let op9 = forged(&provider, &key, json!({ "sub": "op9" }));
    assert_eq!(
        app.gql(&op9, ME, json!({})).await["data"]["me"]["roles"],
        json!([])
    );
    let bound = app
        .gql(
            &admin,
            "mutation($i: String!) { grantRole(subject: \"op9\", issuer: $i, role: OPERATOR) { issuer roles } }",
            json!({ "i": provider.issuer() }),
        )
        .await;
    assert_no_errors(&bound);
    assert_eq!(
        app.gql(&op9, ME, json!({})).await["data"]["me"]["roles"],
        json!(["OPERATOR"])
    );
    let members = app
        .gql(&admin, "{ members { issuer subject } }", json!({}))
        .await;
    let op9s: Vec<&Value> = members["data"]["members"]
        .as_array()
        .expect("members")
        .iter()
        .filter(|m| m["subject"] == "op9")
        .collect();
    assert_eq!(op9s.len(), 2, "two identities, two members: {members}");

    // Revoking names the identity too: the provider's op9 keeps its role.
    let revoked = app
        .gql(
            &admin,
            "mutation { revokeRole(subject: \"op9\", role: OPERATOR) { roles } }",
            json!({}),
        )
        .await;
    assert_no_errors(&revoked);
    assert_eq!(
        app.gql(&op9, ME, json!({})).await["data"]["me"]["roles"],
        json!(["OPERATOR"])
    );
}

#[rstest]
#[tokio::test]
async fn only_a_provider_trusted_for_citizens_may_say_who_a_citizen_is(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let (app, provider, key, _keys) = setup(backend).await;
    let op = app.member("roma", "roma-op", Role::Operator).await;
    app.register(&op, Some(MARIO), "Mario", "Rossi", &["+393331234567"])
        .await;
    // Mario signs in through the development issuer (the tests' SPID).
    let mario = app.citizen(MARIO);
    let real = app
        .gql(&mario, "{ me { kind citizen { personId } } }", json!({}))
        .await;
    let person = real["data"]["me"]["citizen"]["personId"].clone();
    assert!(person.is_string(), "{real}");

    let claims_mario = forged(
        &provider,
        &key,
        json!({ "sub": "someone", "fiscalNumber": format!("TINIT-{MARIO}") }),
    );
    let same_subject = forged(&provider, &key, json!({ "sub": format!("spid-{MARIO}") }));
    for token in [&claims_mario, &same_subject] {
        let me = app
            .gql(token, "{ me { kind citizen { personId } } }", json!({}))
            .await;
        assert_eq!(me["data"]["me"]["kind"], "OPERATOR", "{me}");
        assert_eq!(me["data"]["me"]["citizen"], Value::Null);
        let export = app.gql(token, "{ exportMyData }", json!({})).await;
        assert_eq!(error_code(&export), "FORBIDDEN", "{export}");
    }

    // Trusted by a platform administrator, the provider's fiscal code names Mario: the same
    // person as his other identity.
    let refused = app
        .gql(
            &app.admin_of("roma"),
            "mutation { setIdentityProviderCitizenTrust(id: \"00000000-0000-0000-0000-000000000000\", trusted: true) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(
        error_code(&refused),
        "FORBIDDEN",
        "a body cannot trust its own provider"
    );
    trust_for_citizens(&app).await;
    let me = app
        .gql(
            &claims_mario,
            "{ me { kind citizen { personId } } }",
            json!({}),
        )
        .await;
    assert_eq!(me["data"]["me"]["kind"], "CITIZEN", "{me}");
    assert_eq!(me["data"]["me"]["citizen"]["personId"], person);
    // Still, a bare subject equal to Mario's development subject is nobody.
    let me = app.gql(&same_subject, "{ me { kind } }", json!({})).await;
    assert_eq!(me["data"]["me"]["kind"], "OPERATOR");
}

#[rstest]
#[tokio::test]
async fn an_issuer_belongs_to_one_body_unless_a_platform_administrator_shares_it(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let (app, provider, key, _keys) = setup(backend).await;
    app.onboard("beta").await;
    let register = "mutation($i: RegisterIdentityProviderInput!) { registerIdentityProvider(input: $i) { id issuer } }";
    let input = json!({ "i": { "issuer": provider.issuer(), "audiences": ["civitas"] } });
    let squat = app
        .gql(&app.admin_of("beta"), register, input.clone())
        .await;
    assert_eq!(error_code(&squat), "CONFLICT", "{squat}");

    // roma's staff are unaffected.
    let op1 = forged(
        &provider,
        &key,
        json!({ "sub": "op1", "groups": ["operator"] }),
    );
    let me = app.gql(&op1, ME, json!({})).await;
    assert_eq!(me["data"]["me"]["roles"], json!(["OPERATOR"]), "{me}");

    // A platform administrator may share it with beta; its tokens then name no body of
    // their own, and each body's grants to (issuer, subject) decide.
    let (_, shared) = app
        .post(Some(&app.platform_admin()), Some("beta"), register, input)
        .await;
    assert_no_errors(&shared);
    let (status, body) = app.post(Some(&op1), Some("beta"), ME, json!({})).await;
    assert_eq!((status, error_code(&body)), (403, "FORBIDDEN"));
    let grant = app
        .gql(
            &app.admin_of("beta"),
            "mutation($i: String!) { grantRole(subject: \"op1\", issuer: $i, role: OPERATOR) { subject } }",
            json!({ "i": provider.issuer() }),
        )
        .await;
    assert_no_errors(&grant);
    let (_, me) = app.post(Some(&op1), Some("beta"), ME, json!({})).await;
    assert_eq!(me["data"]["me"]["roles"], json!(["OPERATOR"]), "{me}");
    assert_eq!(me["data"]["me"]["tenant"]["slug"], "beta");
}

#[rstest]
#[tokio::test]
async fn migration_12_carries_members_and_citizen_links_over_and_back() {
    use civitas_migrations::{Migrator, MigratorTrait};
    use sea_orm::{ConnectionTrait, Statement};
    let app = TestApp::spawn(Postgres).await;
    app.onboard("roma").await;
    app.onboard("beta").await;
    let register = "mutation { registerIdentityProvider(input: { issuer: \"https://login.roma.example\", audiences: [\"civitas\"] }) { id } }";
    assert_no_errors(&app.gql(&app.admin_of("roma"), register, json!({})).await);
    let owner = app.owner().await;
    let rows = |sql: &'static str| {
        let owner = &owner;
        async move {
            let mut v: Vec<String> = owner
                .query_all_raw(Statement::from_string(owner.get_database_backend(), sql))
                .await
                .expect(sql)
                .iter()
                .map(|r| r.try_get::<String>("", "v").expect("v"))
                .collect();
            v.sort();
            v
        }
    };

    // The newer ones first: they depend on nothing 12 carries over.
    let after_11 = Migrator::migrations().len() as u32 - 11;
    Migrator::down(&owner, Some(after_11))
        .await
        .expect("down to 11");
    owner
        .execute_unprepared(
            "INSERT INTO persons (id, fiscal_code, oidc_subject, created_at) \
             VALUES ('00000000-0000-4000-8000-000000000001', 'RSSMRA85T10A562S', 'spid-mario', now())",
        )
        .await
        .expect("a linked person, as before");
    Migrator::up(&owner, None).await.expect("up");
    assert_eq!(
        rows("SELECT subject || ' ' || issuer AS v FROM members").await,
        [
            "beta-admin civitas-dev",
            "roma-admin https://login.roma.example"
        ],
        "a body's one provider, else the development issuer"
    );
    assert_eq!(
        rows("SELECT issuer || ' ' || subject AS v FROM person_identities").await,
        ["civitas-dev spid-mario"]
    );
    assert_eq!(
        rows("SELECT coalesce(oidc_subject, 'none') AS v FROM persons").await,
        ["none"]
    );

    Migrator::down(&owner, Some(after_11))
        .await
        .expect("down again");
    assert_eq!(
        rows("SELECT oidc_subject AS v FROM persons").await,
        ["spid-mario"]
    );
    Migrator::up(&owner, None).await.expect("up again");
}
