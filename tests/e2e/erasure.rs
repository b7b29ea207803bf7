//! Erasure with legal retention: a citizen asks, every body erases what no retention duty
//! keeps and restricts what it keeps; the citizen sees each body's outcome; restricted
//! cases are refused to operators (FORBIDDEN, reason RESTRICTED) and erased when their
//! retention ends; a run killed half-way leaves each body done or untouched.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use civitas_crm::attachments::BlobStore;
use civitas_tenants::Role;
use rstest::rstest;
use serde_json::{Value, json};

use crate::attachments::files;
use crate::harness::*;

const MARIO: &str = "RSSMRA85T10A562S";
const MINE: &str = "{ myErasureRequests { edges { node { id settled forgottenAt \
  pending { slug } steps { tenant { slug } erased kept { caseNumber serviceCode years until } } } } } }";

/// Onboards `slug` with services CERT (kept 0 years: nothing to keep) and EDIL (kept 10
/// years); Mario registered with a contact, a case of each service and a file on each.
async fn body_with_mario(app: &TestApp, slug: &str) -> (String, Vec<String>) {
    app.onboard(slug).await;
    let admin = app.admin_of(slug);
    for (code, name) in [("CERT", "Certificato"), ("EDIL", "Permesso di costruire")] {
        let q = format!(
            "mutation {{ createService(input: {{ code: \"{code}\", name: \"{name}\", area: \"Servizi\" }}) {{ code }} }}"
        );
        assert_no_errors(&app.gql(&admin, &q, json!({})).await);
    }
    let set = app
        .gql(
            &admin,
            "mutation { a: setRetentionRule(input: { serviceCode: \"CERT\", keepYears: 0 }) { keepYears } \
             b: setRetentionRule(input: { serviceCode: \"EDIL\", keepYears: 10, minimumYears: 10 }) { keepYears minimumYears } }",
            json!({}),
        )
        .await;
    assert_no_errors(&set);
    let op = app
        .member(slug, &format!("{slug}-op"), Role::Operator)
        .await;
    let p = app
        .register(&op, Some(MARIO), "Mario", "Rossi", &["+390612345678"])
        .await;
    let mut cases = vec![];
    for code in ["CERT", "EDIL"] {
        let c = app
            .gql(
                &op,
                "mutation($p: ID, $s: String!) { createCase(input: { serviceCode: $s, title: \"Pratica\", personId: $p }) { id } }",
                json!({ "p": p["personId"], "s": code }),
            )
            .await;
        assert_no_errors(&c);
        let id = c["data"]["createCase"]["id"]
            .as_str()
            .expect("id")
            .to_owned();
        upload(
            app,
            &op,
            &id,
            format!("%PDF-1.4\n% {slug} {code}\n%%EOF\n").as_bytes(),
        )
        .await;
        cases.push(id);
    }
    (op, cases)
}

async fn upload(app: &TestApp, token: &str, case: &str, bytes: &[u8]) {
    let form = reqwest::multipart::Form::new()
        .text("case", case.to_owned())
        .part(
            "file",
            reqwest::multipart::Part::bytes(bytes.to_vec()).file_name("scan.pdf"),
        );
    let r = app
        .client
        .post(app.url("/attachments"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .expect("upload");
    assert!(r.status().is_success(), "upload: {}", r.status());
}

fn requests(v: &Value) -> Vec<Value> {
    nodes(&v["data"]["myErasureRequests"])
}

async fn run(app: &TestApp) -> civitas_crm::erasure::RunSummary {
    civitas_crm::app::erasure::run(&app.app.state)
        .await
        .expect("erasure run")
}

#[rstest]
#[tokio::test]
async fn every_body_erases_what_it_need_not_keep_and_restricts_the_rest(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let (roma_op, roma_cases) = body_with_mario(&app, "roma").await;
    let (_, _) = body_with_mario(&app, "municipio-1").await;
    let store = app.data_dir.join("attachments");
    assert_eq!(files(&store).len(), 4);
    let mario = app.citizen(MARIO);

    let asked = app
        .gql(
            &mario,
            "mutation { requestErasure { id settled pending { slug } } }",
            json!({}),
        )
        .await;
    assert_no_errors(&asked);
    let id = asked["data"]["requestErasure"]["id"].clone();
    assert_eq!(asked["data"]["requestErasure"]["settled"], false);
    let again = app
        .gql(&mario, "mutation { requestErasure { id } }", json!({}))
        .await;
    assert_eq!(
        again["data"]["requestErasure"]["id"], id,
        "one open request"
    );

    let done = run(&app).await;
    assert_eq!((done.steps, done.failed), (2, 0));
    assert_eq!(run(&app).await.steps, 0, "a second run has nothing to do");

    let mine = app.gql(&mario, MINE, json!({})).await;
    assert_no_errors(&mine);
    let rs = requests(&mine);
    assert_eq!(rs.len(), 1);
    assert_eq!(rs[0]["settled"], true);
    assert!(
        rs[0]["forgottenAt"].is_null(),
        "cases are kept: the code stays"
    );
    let steps = rs[0]["steps"].as_array().expect("steps");
    assert_eq!(steps.len(), 2);
    for s in steps {
        assert_eq!(s["erased"]["profiles"], 1, "{s}");
        assert_eq!(s["erased"]["contacts"], 1, "{s}");
        assert_eq!(s["erased"]["cases"], 1, "the CERT case: {s}");
        assert_eq!(s["erased"]["attachments"], 1, "{s}");
        let kept = s["kept"].as_array().expect("kept");
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0]["serviceCode"], "EDIL");
        assert_eq!(kept[0]["years"], 10);
    }
    assert_eq!(files(&store).len(), 2, "the kept cases' files only");

    // The body no longer finds Mario; his kept case is refused, with the reason.
    let search = app
        .gql(
            &roma_op,
            "{ citizens(fiscalCode: \"RSSMRA85T10A562S\") { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_no_errors(&search);
    assert!(nodes(&search["data"]["citizens"]).is_empty());
    let erased = app
        .gql(
            &roma_op,
            "query($id: ID!) { case(id: $id) { id } }",
            json!({ "id": roma_cases[0] }),
        )
        .await;
    assert_eq!(error_code(&erased), "NOT_FOUND");
    let kept = app
        .gql(
            &roma_op,
            "query($id: ID!) { case(id: $id) { id } }",
            json!({ "id": roma_cases[1] }),
        )
        .await;
    assert_eq!(error_code(&kept), "FORBIDDEN");
    assert_eq!(kept["errors"][0]["extensions"]["reason"], "RESTRICTED");
    let moved = app
        .gql(
            &roma_op,
            "mutation($id: ID!) { changeCaseStatus(id: $id, status: IN_PROGRESS) { id } }",
            json!({ "id": roma_cases[1] }),
        )
        .await;
    assert_eq!(error_code(&moved), "FORBIDDEN", "{moved}");
    let queue = app
        .gql(
            &roma_op,
            "{ cases(first: 10) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_no_errors(&queue);
    assert!(
        nodes(&queue["data"]["cases"]).is_empty(),
        "not in any queue"
    );

    // Ten years on, the kept cases go too, and with them the codice fiscale.
    app.clock.advance(chrono::Duration::days(366 * 10 + 3));
    let later = run(&app).await;
    assert_eq!((later.purged, later.forgotten), (2, 1));
    assert!(files(&store).is_empty());
    let mine = app.gql(&mario, MINE, json!({})).await;
    let rs = requests(&mine);
    assert!(!rs[0]["forgottenAt"].is_null());
    for s in rs[0]["steps"].as_array().expect("steps") {
        assert_eq!(s["erased"]["cases"], 2, "{s}");
        assert!(s["kept"].as_array().expect("kept").is_empty());
    }
    let audit = app
        .gql(
            &app.admin_of("roma"),
            "{ auditEvents(first: 50) { edges { node { action target detail } } } }",
            json!({}),
        )
        .await;
    assert_no_errors(&audit);
    let tomb: Vec<Value> = nodes(&audit["data"]["auditEvents"])
        .into_iter()
        .filter(|e| e["action"] == "person.erased")
        .collect();
    assert_eq!(tomb.len(), 1);
    assert!(
        !tomb[0].to_string().contains(MARIO) && !tomb[0].to_string().contains("Rossi"),
        "the tombstone names no one: {}",
        tomb[0]
    );
}

#[rstest]
#[tokio::test]
async fn requests_and_schedules_refuse_what_they_must(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let (roma_op, _) = body_with_mario(&app, "roma").await;
    app.onboard("beta").await;
    let beta_sup = app.member("beta", "beta-sup", Role::Supervisor).await;
    let roma_sup = app.member("roma", "roma-sup", Role::Supervisor).await;
    let person = app
        .gql(
            &roma_sup,
            "{ citizens(fiscalCode: \"RSSMRA85T10A562S\") { edges { node { personId } } } }",
            json!({}),
        )
        .await;
    let person = nodes(&person["data"]["citizens"])[0]["personId"].clone();
    let record = "mutation($p: ID!) { recordErasureRequest(personId: $p) }";

    let other = app.gql(&beta_sup, record, json!({ "p": person })).await;
    assert_eq!(
        error_code(&other),
        "NOT_FOUND",
        "beta holds nothing of Mario"
    );
    let nobody = app
        .gql(
            &roma_sup,
            record,
            json!({ "p": uuid::Uuid::now_v7().to_string() }),
        )
        .await;
    assert_eq!(error_code(&nobody), "NOT_FOUND");
    let op = app.gql(&roma_op, record, json!({ "p": person })).await;
    assert_eq!(error_code(&op), "FORBIDDEN", "operators do not, by default");
    let below = app
        .gql(&app.admin_of("roma"), "mutation { setRetentionRule(input: { serviceCode: \"EDIL\", keepYears: 5 }) { keepYears } }", json!({}))
        .await;
    assert_eq!(error_code(&below), "VALIDATION");
    assert!(
        below["errors"][0]["message"]
            .as_str()
            .expect("m")
            .contains("minimum of 10")
    );
    let unknown = app
        .gql(&app.admin_of("roma"), "mutation { setRetentionRule(input: { serviceCode: \"NOPE\", keepYears: 5 }) { keepYears } }", json!({}))
        .await;
    assert_eq!(error_code(&unknown), "NOT_FOUND");
    let by_op = app
        .gql(
            &roma_op,
            "mutation { setRetentionRule(input: { keepYears: 5 }) { keepYears } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&by_op), "FORBIDDEN");
    let rules = app
        .gql(
            &roma_sup,
            "{ retentionRules { edges { node { serviceCode keepYears minimumYears } } } }",
            json!({}),
        )
        .await;
    assert_no_errors(&rules);
    assert_eq!(nodes(&rules["data"]["retentionRules"]).len(), 2);
    let register = app
        .gql(
            &app.admin_of("roma"),
            "{ processingRegister { markdown } }",
            json!({}),
        )
        .await;
    assert_no_errors(&register);
    let md = register["data"]["processingRegister"]["markdown"]
        .as_str()
        .expect("md");
    assert!(
        md.contains("EDIL: 10 anni"),
        "the register states the schedule: {md}"
    );

    // Nothing was filed by the refusals; the supervisor's request is Mario's to see.
    let mario = app.citizen(MARIO);
    assert!(requests(&app.gql(&mario, MINE, json!({})).await).is_empty());
    let ok = app.gql(&roma_sup, record, json!({ "p": person })).await;
    assert_no_errors(&ok);
    let rs = requests(&app.gql(&mario, MINE, json!({})).await);
    assert_eq!(rs.len(), 1);
    assert_eq!(rs[0]["pending"][0]["slug"], "roma");
}

/// A store whose deletes after the first never finish: the run is stuck in a body's step
/// when it is killed.
struct Stuck {
    inner: Arc<dyn BlobStore>,
    deletes: Arc<AtomicUsize>,
}

#[async_trait]
impl BlobStore for Stuck {
    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), String> {
        self.inner.put(key, bytes).await
    }
    async fn get(&self, key: &str) -> Result<Vec<u8>, String> {
        self.inner.get(key).await
    }
    async fn delete(&self, key: &str) -> Result<(), String> {
        if self.deletes.fetch_add(1, Ordering::SeqCst) >= 1 {
            std::future::pending::<()>().await;
        }
        self.inner.delete(key).await
    }
}

#[rstest]
#[tokio::test]
async fn a_run_killed_half_way_is_finished_by_the_next(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let (roma_op, _) = body_with_mario(&app, "roma").await;
    let (m1_op, _) = body_with_mario(&app, "municipio-1").await;
    let mario = app.citizen(MARIO);
    assert_no_errors(
        &app.gql(&mario, "mutation { requestErasure { id } }", json!({}))
            .await,
    );

    let state = app.app.state.clone();
    let deletes = Arc::new(AtomicUsize::new(0));
    let stuck = Stuck {
        inner: state.files.store.clone(),
        deletes: deletes.clone(),
    };
    let task =
        tokio::spawn(
            async move { civitas_crm::erasure::run(&state.db, &stuck, state.now()).await },
        );
    // The first body's step deletes its file and commits; the second's hangs on its file
    // (on SQLite it holds the write lock meanwhile): kill the run there.
    let until = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while deletes.load(Ordering::SeqCst) < 2 {
        assert!(
            std::time::Instant::now() < until,
            "the run never reached a second body"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    task.abort();
    let _ = task.await;

    let rs = requests(&app.gql(&mario, MINE, json!({})).await);
    assert_eq!(rs[0]["steps"].as_array().expect("steps").len(), 1);
    let pending = rs[0]["pending"].as_array().expect("pending");
    assert_eq!(pending.len(), 1, "the killed body is pending: {rs:?}");
    let slug = pending[0]["slug"].as_str().expect("slug").to_owned();
    // Untouched: its operator still finds Mario and both his cases.
    let op = if slug == "roma" { &roma_op } else { &m1_op };
    let found = app
        .gql(
            op,
            "{ cases(first: 10) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_no_errors(&found);
    assert_eq!(
        nodes(&found["data"]["cases"]).len(),
        2,
        "nothing half-erased"
    );

    let next = run(&app).await;
    assert_eq!((next.steps, next.failed), (1, 0));
    let rs = requests(&app.gql(&mario, MINE, json!({})).await);
    assert_eq!(rs[0]["settled"], true);
    assert_eq!(rs[0]["steps"].as_array().expect("steps").len(), 2);
}

#[rstest]
#[tokio::test]
async fn the_citizen_asks_in_the_portal_and_reads_each_bodys_answer(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    body_with_mario(&app, "roma").await;
    let (mario, _) = crate::portal::signed_in(&app, MARIO, "/").await;
    let url = app.url("/erasure");
    let page = |c: reqwest::Client| {
        let url = url.clone();
        async move {
            let r = c.get(url).send().await.expect("page");
            assert_eq!(r.status(), 200);
            r.text().await.expect("html")
        }
    };
    let html = page(mario.clone()).await;
    assert!(html.contains("Chiedi la cancellazione"), "{html}");
    let csrf = crate::portal::form_token(&html);

    let unconfirmed = mario
        .post(app.url("/erasure"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .expect("post");
    assert_eq!(unconfirmed.status(), 303);
    let api = app.citizen(MARIO);
    assert!(
        requests(&app.gql(&api, MINE, json!({})).await).is_empty(),
        "not without the tick"
    );

    let asked = mario
        .post(app.url("/erasure"))
        .form(&[("csrf", csrf.as_str()), ("confirm", "yes")])
        .send()
        .await
        .expect("post");
    assert_eq!(asked.status(), 303);
    let html = page(mario.clone()).await;
    assert!(html.contains("In corso"), "{html}");
    assert!(
        !html.contains("erasure-confirm"),
        "no second form while one is open"
    );

    run(&app).await;
    let html = page(mario.clone()).await;
    assert!(html.contains("Tutti gli enti hanno risposto"), "{html}");
    assert!(
        html.contains("conserva per legge"),
        "the kept case is listed: {html}"
    );
    assert!(html.contains("Piano di conservazione: 10 anni"), "{html}");
}
