//! The complete export (GDPR arts. 15, 20): streamed, with case histories, files,
//! delegations, restrictions and erasure requests, checked against its published JSON
//! Schema by the reference validator (Python `jsonschema`); a citizen with 10,000 cases
//! gets them all, in many chunks.

use std::process::Command;

use civitas_tenants::Role;
use futures::StreamExt;
use rstest::rstest;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::harness::*;

const MARIO: &str = "RSSMRA85T10A562S";

/// Validates `doc` against the schema the server publishes, with Python's `jsonschema`.
async fn check_against_schema(app: &TestApp, doc: &Value) {
    let schema = app
        .client
        .get(app.url("/schemas/personal-data-v1.json"))
        .send()
        .await
        .expect("schema");
    assert_eq!(schema.status(), 200);
    let schema = schema.text().await.expect("schema text");
    let dir = tempfile::tempdir().expect("dir");
    let (s, d) = (dir.path().join("schema.json"), dir.path().join("doc.json"));
    std::fs::write(&s, schema).expect("write schema");
    std::fs::write(&d, doc.to_string()).expect("write doc");
    crate::smtp::ensure_sink_venv();
    let python = crate::smtp::sink_dir().join(".venv/bin/python");
    let out = Command::new(python)
        .args([
            "-c",
            "import json, sys, jsonschema\n\
             s = json.load(open(sys.argv[1])); d = json.load(open(sys.argv[2]))\n\
             jsonschema.Draft202012Validator.check_schema(s)\n\
             errors = list(jsonschema.Draft202012Validator(s).iter_errors(d))\n\
             [print(e.json_path, e.message) for e in errors[:10]]\n\
             sys.exit(1 if errors else 0)",
        ])
        .arg(&s)
        .arg(&d)
        .output()
        .expect("python");
    assert!(
        out.status.success(),
        "the export does not match its schema:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// GETs the export with `token`: the document and how many chunks it came in.
async fn export(app: &TestApp, token: &str) -> (Value, usize) {
    let r = app
        .client
        .get(app.url("/export/my-data.json"))
        .bearer_auth(token)
        .send()
        .await
        .expect("export");
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    let mut body = r.bytes_stream();
    let (mut bytes, mut chunks) = (Vec::new(), 0);
    while let Some(chunk) = body.next().await {
        bytes.extend_from_slice(&chunk.expect("chunk"));
        chunks += 1;
    }
    (
        serde_json::from_slice(&bytes).expect("a whole JSON document"),
        chunks,
    )
}

#[rstest]
#[tokio::test]
async fn the_export_holds_everything_and_matches_its_schema(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    app.onboard("roma").await;
    let admin = app.admin_of("roma");
    let svc = app.gql(&admin, "mutation { createService(input: { code: \"CERT\", name: \"Certificato\", area: \"Anagrafe\" }) { code } }", json!({})).await;
    assert_no_errors(&svc);
    let op = app.member("roma", "roma-op", Role::Operator).await;
    let p = app
        .register(&op, Some(MARIO), "Mario", "Rossi", &["+390612345678"])
        .await;
    let c = app
        .gql(&op, "mutation($p: ID) { createCase(input: { serviceCode: \"CERT\", title: \"Residenza\", personId: $p }) { id } }", json!({ "p": p["personId"] }))
        .await;
    assert_no_errors(&c);
    let case = c["data"]["createCase"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let moved = app
        .gql(
            &op,
            "mutation($id: ID!) { changeCaseStatus(id: $id, status: IN_PROGRESS) { id } }",
            json!({ "id": case }),
        )
        .await;
    assert_no_errors(&moved);
    let mario = app.citizen(MARIO);
    let r = app
        .gql(&mario, "mutation { restrictProcessing(input: { body: \"roma\", purpose: ENGAGEMENT, kind: OBJECTION }) { id } }", json!({}))
        .await;
    assert_no_errors(&r);

    // A privacy consent given at the counter, then withdrawn by Mario: two receipts.
    let pc = app.gql(&op, "mutation { recordPrivacyConsent(input: { fiscalCode: \"RSSMRA85T10A562S\", purpose: \"caller_recognition\", textVersion: \"v1\", channel: \"phone\" }) { id } }", json!({})).await;
    assert_no_errors(&pc);
    let consent = pc["data"]["recordPrivacyConsent"]["id"].clone();
    let w = app
        .gql(
            &mario,
            "mutation($id: ID!) { withdrawPrivacyConsent(id: $id) { active } }",
            json!({ "id": consent }),
        )
        .await;
    assert_no_errors(&w);

    let (doc, _) = export(&app, &mario).await;
    check_against_schema(&app, &doc).await;
    let receipts = doc["data"]["consent_receipts"]
        .as_array()
        .expect("receipts");
    let events: Vec<(&Value, &Value, &Value)> = receipts
        .iter()
        .map(|r| (&r["consent_id"], &r["kind"], &r["event"]))
        .collect();
    assert_eq!(
        events,
        [
            (&consent, &json!("privacy"), &json!("granted")),
            (&consent, &json!("privacy"), &json!("withdrawn")),
        ]
    );
    for r in receipts {
        let jws = r["jws"].as_str().expect("jws");
        let payload = crate::receipts::verified(&app, jws)
            .await
            .expect("verifies with the published key");
        assert!(
            payload.to_string().contains(consent.as_str().expect("id")),
            "{payload}"
        );
    }
    let data = &doc["data"];
    let cases = data["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 1);
    assert_eq!(cases[0]["id"], case.as_str());
    let history = cases[0]["history"].as_array().expect("history");
    assert_eq!(history.len(), 2, "created, then moved: {history:?}");
    assert_eq!(data["restrictions"][0]["kind"], "objection");
    assert_eq!(data["profiles"][0]["given_name"], "Mario");
    let roma = data["profiles"][0]["tenant_id"].as_str().expect("tenant");
    assert_eq!(doc["bodies"][roma], "roma");

    // Another citizen's export has none of it; no token, no export.
    let (theirs, _) = export(&app, &app.citizen("BNCLRA90D45F205B")).await;
    assert!(
        theirs["data"]["cases"]
            .as_array()
            .expect("cases")
            .is_empty()
    );
    assert!(theirs["bodies"].as_object().expect("bodies").is_empty());
    let anonymous = app
        .client
        .get(app.url("/export/my-data.json"))
        .send()
        .await
        .expect("anonymous");
    assert_eq!(anonymous.status(), 401);
}

#[rstest]
#[tokio::test]
async fn ten_thousand_cases_come_whole_in_many_chunks() {
    let app = TestApp::spawn(Postgres).await;
    app.onboard("roma").await;
    let admin = app.admin_of("roma");
    let svc = app.gql(&admin, "mutation { createService(input: { code: \"CERT\", name: \"Certificato\", area: \"Anagrafe\" }) { id } }", json!({})).await;
    assert_no_errors(&svc);
    let op = app.member("roma", "roma-op", Role::Operator).await;
    let p = app.register(&op, Some(MARIO), "Mario", "Rossi", &[]).await;
    // Written as the schema owner, in one statement: the test is about reading them.
    let owner = app.owner().await;
    owner
        .execute_unprepared(&format!(
            "INSERT INTO cases (tenant_id, id, number, person_id, service_id, title, status, priority,
                                channel, custom_fields, due_at, created_by, created_at, updated_at)
             SELECT s.tenant_id, gen_random_uuid(), 'B-' || n, '{person}', s.id, 'Pratica ' || n,
                    'new', 'normal', 'web', '{{}}', now(), 'bench', now(), now()
             FROM services s, generate_series(1, 10000) n WHERE s.id = '{service}'",
            person = p["personId"].as_str().expect("person"),
            service = svc["data"]["createService"]["id"].as_str().expect("service"),
        ))
        .await
        .expect("10,000 cases");

    let (doc, chunks) = export(&app, &app.citizen(MARIO)).await;
    let cases = doc["data"]["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 10_000);
    let mut ids: Vec<&str> = cases
        .iter()
        .map(|c| c["id"].as_str().expect("id"))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 10_000, "each case once");
    assert!(chunks > 10, "written as read, not at once: {chunks} chunks");
    check_against_schema(&app, &doc).await;
}
