//! Preferences: a citizen's own (set, changed, deleted) at the bodies that know them; the
//! ones derived from initiatives and questionnaires only under the `engagement` consent,
//! gone when it is withdrawn; in the export, erased with the rest.

use civitas_tenants::Role;
use rstest::rstest;
use serde_json::{Value, json};

use crate::harness::*;

const MARIO: &str = "RSSMRA85T10A562S";
const MINE: &str = "{ myPreferences { edges { node { id area category source interested originId tenant { slug } } } } }";
const SET: &str = "mutation($b: String!, $a: String!, $c: String!, $i: Boolean!) { setMyPreference(body: $b, area: $a, category: $c, interested: $i) { id area category source interested } }";

async fn mine(app: &TestApp) -> Vec<Value> {
    let r = app.gql(&app.citizen(MARIO), MINE, json!({})).await;
    assert_no_errors(&r);
    nodes(&r["data"]["myPreferences"])
}

fn sources(prefs: &[Value]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = prefs
        .iter()
        .map(|p| {
            (
                p["area"].as_str().unwrap_or_default().to_owned(),
                p["source"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    v.sort();
    v
}

/// A published initiative of `slug` in `area`; its id.
async fn initiative(app: &TestApp, sup: &str, area: &str) -> Value {
    let start = app.clock.now() + chrono::Duration::days(5);
    let i = app
        .gql(
            sup,
            "mutation($i: InitiativeInput!) { createInitiative(input: $i) { id } }",
            json!({ "i": { "kind": "COURSE", "title": format!("Corso di {area}"), "area": area,
                "startsAt": start, "endsAt": start + chrono::Duration::hours(2) } }),
        )
        .await;
    assert_no_errors(&i);
    let id = i["data"]["createInitiative"]["id"].clone();
    let p = app
        .gql(
            sup,
            "mutation($id: ID!) { setInitiativeStatus(id: $id, status: PUBLISHED) { status } }",
            json!({ "id": id }),
        )
        .await;
    assert_no_errors(&p);
    id
}

#[rstest]
#[tokio::test]
async fn a_citizen_sets_changes_and_deletes_their_own(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    app.onboard("parma").await;
    app.onboard("reggio").await;
    let op = app.member("parma", "parma-op", Role::Operator).await;
    app.register(&op, Some(MARIO), "Mario", "Rossi", &[]).await;
    let mario = app.citizen(MARIO);
    let set = |b: &str, a: &str, c: &str, i: bool| json!({ "b": b, "a": a, "c": c, "i": i });

    let r = app
        .gql(&mario, SET, set("parma", "Cultura", "Musica", true))
        .await;
    assert_no_errors(&r);
    assert_eq!(r["data"]["setMyPreference"]["source"], "EXPLICIT");
    // Changing it keeps one row.
    let r = app
        .gql(&mario, SET, set("parma", "Cultura", "Musica", false))
        .await;
    assert_eq!(r["data"]["setMyPreference"]["interested"], false);
    assert_no_errors(
        &app.gql(&mario, SET, set("parma", "Ambiente", "", true))
            .await,
    );
    let prefs = mine(&app).await;
    assert_eq!(prefs.len(), 2);
    assert!(prefs.iter().all(|p| p["tenant"]["slug"] == "parma"));

    // A body that does not know them holds nothing of them; bad words are named.
    let r = app
        .gql(&mario, SET, set("reggio", "Cultura", "", true))
        .await;
    assert_eq!(error_code(&r), "FORBIDDEN", "{r}");
    let r = app.gql(&mario, SET, set("parma", " ", "", true)).await;
    assert_eq!(error_code(&r), "VALIDATION");
    assert!(
        r["errors"][0]["message"]
            .as_str()
            .expect("m")
            .contains("area")
    );
    let r = app
        .gql(&mario, SET, set("parma", "Cultura", &"x".repeat(101), true))
        .await;
    assert!(
        r["errors"][0]["message"]
            .as_str()
            .expect("m")
            .contains("category")
    );
    assert_eq!(mine(&app).await.len(), 2, "nothing written");

    // Deleting: their own only.
    let id = prefs[0]["id"].clone();
    let other = app.citizen("BNCLRA90D45F205B");
    let del = "mutation($id: ID!) { deleteMyPreference(id: $id) }";
    assert_eq!(
        error_code(&app.gql(&other, del, json!({ "id": id })).await),
        "NOT_FOUND"
    );
    assert_eq!(
        app.gql(&mario, del, json!({ "id": id })).await["data"]["deleteMyPreference"],
        true
    );
    assert_eq!(mine(&app).await.len(), 1);
}

#[rstest]
#[tokio::test]
async fn derived_preferences_live_only_under_the_engagement_consent(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    app.onboard("parma").await;
    let op = app.member("parma", "parma-op", Role::Operator).await;
    let sup = app.member("parma", "parma-sup", Role::Supervisor).await;
    let person = app.register(&op, Some(MARIO), "Mario", "Rossi", &[]).await["personId"].clone();
    let mario = app.citizen(MARIO);
    let join = "mutation($i: ID!, $p: ID!) { registerParticipant(initiativeId: $i, personId: $p) { status } }";
    let cultura = initiative(&app, &sup, "Cultura").await;
    assert_no_errors(
        &app.gql(&op, join, json!({ "i": cultura, "p": person }))
            .await,
    );
    assert!(mine(&app).await.is_empty(), "no consent, nothing derived");

    // The consent: what they already joined is derived, and what they join next.
    let give = "mutation { recordPrivacyConsent(input: { tenant: \"parma\", purpose: \"engagement\", textVersion: \"v1\", channel: \"web\" }) { id } }";
    let c = app.gql(&mario, give, json!({})).await;
    assert_no_errors(&c);
    let consent = c["data"]["recordPrivacyConsent"]["id"].clone();
    assert_eq!(
        sources(&mine(&app).await),
        [("Cultura".into(), "PARTICIPATION".into())]
    );
    let sport = initiative(&app, &sup, "Sport").await;
    assert_no_errors(&app.gql(&op, join, json!({ "i": sport, "p": person })).await);
    assert_no_errors(
        &app.gql(
            &mario,
            SET,
            json!({ "b": "parma", "a": "Ambiente", "c": "", "i": true }),
        )
        .await,
    );
    let prefs = mine(&app).await;
    assert_eq!(
        sources(&prefs),
        [
            ("Ambiente".into(), "EXPLICIT".into()),
            ("Cultura".into(), "PARTICIPATION".into()),
            ("Sport".into(), "PARTICIPATION".into()),
        ]
    );
    assert!(prefs.iter().any(|p| p["originId"] == sport));

    // Withdrawn: the derived go, their own stays; nothing more is derived.
    let w = app
        .gql(
            &mario,
            "mutation($id: ID!) { withdrawPrivacyConsent(id: $id) { withdrawnAt } }",
            json!({ "id": consent }),
        )
        .await;
    assert_no_errors(&w);
    assert_eq!(
        sources(&mine(&app).await),
        [("Ambiente".into(), "EXPLICIT".into())]
    );
    let arte = initiative(&app, &sup, "Arte").await;
    assert_no_errors(&app.gql(&op, join, json!({ "i": arte, "p": person })).await);
    assert_eq!(mine(&app).await.len(), 1);

    // The export carries them; erasure takes them.
    let export = app.my_data(&mario).await;
    assert_eq!(export["data"]["preferences"][0]["area"], "Ambiente");
    let erase = "mutation($p: ID!) { recordErasureRequest(personId: $p) }";
    assert_no_errors(&app.gql(&sup, erase, json!({ "p": person })).await);
    civitas_crm::app::erasure::run(&app.app.state)
        .await
        .expect("erasure");
    assert!(mine(&app).await.is_empty());
}
