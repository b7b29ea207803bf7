//! Questionnaires and satisfaction: a resolved case brings its service's survey to the
//! citizen (inbox and e-mail, whose link answers without signing in), answered once and
//! checked against the published version; anonymous answers keep no one; results, CSV and
//! KPIs; a parent body sees its children's KPIs aggregated and nothing else; the
//! participants of an ended initiative are asked; bad questionnaires refused with nothing
//! written; each body's questionnaires its own.

use civitas_tenants::Role;
use rstest::rstest;
use serde_json::{Value, json};

use crate::harness::*;

const MARIO: &str = "RSSMRA85T10A562S";
const CREATE: &str = "mutation($i: QuestionnaireInput!) { createQuestionnaire(input: $i) { id currentVersion versions { version status } } }";
const PUBLISH: &str = "mutation($id: ID!) { publishQuestionnaire(id: $id) { version status } }";
const OPEN: &str = "mutation($p: ID) { createCase(input: { serviceCode: \"CERT\", title: \"Certificato di residenza\", personId: $p, channel: \"web\" }) { id number } }";
const MOVE: &str = "mutation($id: ID!, $s: CaseStatus!) { changeCaseStatus(id: $id, status: $s, note: \"Fatto\") { status } }";
const MINE: &str = "{ mySurveys { edges { node { invitationId bodySlug title anonymous caseId version { version questions { key kind required } } } } } }";
const ANSWER: &str = "mutation($i: ID!, $a: [AnswerInput!]!) { answerSurvey(invitationId: $i, answers: $a) { version } }";
const RESULTS: &str = "query($id: ID!) { questionnaireResults(id: $id) { invited answered responseRate questions { question { key } answered average nps counts { value count } } } }";

fn questions() -> Value {
    json!([
        { "key": "voto", "text": "Quanto è soddisfatto del servizio?", "kind": "SCALE" },
        { "key": "nps", "text": "Lo consiglierebbe a un amico?", "kind": "NPS" },
        { "key": "tempi", "text": "Cosa è andato bene?", "kind": "MULTIPLE", "required": false,
          "options": ["tempi", "cortesia", "chiarezza"] },
        { "key": "note", "text": "Cosa possiamo migliorare?", "kind": "TEXT", "required": false }
    ])
}

/// A body with the CERT service and, when `email` names an SMTP port, e-mail; returns
/// (operator, supervisor, CERT's id).
async fn body(app: &TestApp, slug: &str, email: Option<u16>) -> (String, String, String) {
    let notifications = match email {
        Some(port) => json!({ "email": { "host": "127.0.0.1", "port": port, "security": "none",
            "fromAddress": format!("noreply@{slug}.example"), "fromName": format!("Ente {slug}") } }),
        None => json!({}),
    };
    let op = app.body_with_notifications(slug, notifications).await;
    let (sup, cert) = supervisor(app, slug).await;
    (op, sup, cert)
}

/// A supervisor of `slug` and the id of its CERT service.
async fn supervisor(app: &TestApp, slug: &str) -> (String, String) {
    let sup = app
        .member(slug, &format!("{slug}-sup"), Role::Supervisor)
        .await;
    let s = app.gql(&sup, "{ services { id code } }", json!({})).await;
    let id = nodes_of(&s["data"]["services"])
        .into_iter()
        .find(|s| s["code"] == "CERT")
        .map(|s| s["id"].as_str().expect("id").to_owned())
        .expect("CERT");
    (sup, id)
}

fn nodes_of(list: &Value) -> Vec<Value> {
    list.as_array().cloned().unwrap_or_default()
}

/// A published satisfaction survey of `service`; its id.
async fn survey(app: &TestApp, sup: &str, service: &str, anonymous: bool) -> String {
    let c = app
        .gql(
            sup,
            CREATE,
            json!({ "i": { "title": "Com'è andata?", "anonymous": anonymous,
            "serviceId": service, "questions": questions() } }),
        )
        .await;
    assert_no_errors(&c);
    let id = c["data"]["createQuestionnaire"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let p = app.gql(sup, PUBLISH, json!({ "id": id })).await;
    assert_no_errors(&p);
    id
}

/// A citizen with an e-mail address, a case of theirs opened on the web and resolved;
/// returns (person id, case id, case number).
async fn resolved_case(app: &TestApp, op: &str, cf: &str) -> (Value, Value, String) {
    let r = app
        .gql(
            op,
            "mutation($i: RegisterCitizenInput!) { registerCitizen(input: $i) { personId } }",
            json!({ "i": { "fiscalCode": cf, "givenName": "Mario", "familyName": "Rossi",
                "emails": ["mario.rossi@example.org"], "preferredChannel": "email" } }),
        )
        .await;
    assert_no_errors(&r);
    let person = r["data"]["registerCitizen"]["personId"].clone();
    let c = app.gql(op, OPEN, json!({ "p": person })).await;
    assert_no_errors(&c);
    let case = c["data"]["createCase"].clone();
    for s in ["IN_PROGRESS", "RESOLVED"] {
        let m = app.gql(op, MOVE, json!({ "id": case["id"], "s": s })).await;
        assert_no_errors(&m);
    }
    let number = case["number"].as_str().expect("number").to_owned();
    (person, case["id"].clone(), number)
}

fn answers(voto: &str, nps: &str, note: &str) -> Value {
    json!([
        { "key": "voto", "values": [voto] },
        { "key": "nps", "values": [nps] },
        { "key": "tempi", "values": ["tempi", "cortesia"] },
        { "key": "note", "values": [note] }
    ])
}

#[rstest]
#[tokio::test]
async fn a_resolved_case_brings_its_survey_answered_once(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let (op, sup, cert) = body(&app, "ama", None).await;
    let q = survey(&app, &sup, &cert, false).await;
    let (_, case_id, number) = resolved_case(&app, &op, MARIO).await;
    let mario = app.citizen(MARIO);

    let inbox = app
        .gql(
            &mario,
            "{ myNotifications { edges { node { kind title invitationId } } } }",
            json!({}),
        )
        .await;
    let asked: Vec<Value> = nodes(&inbox["data"]["myNotifications"])
        .into_iter()
        .filter(|n| n["kind"] == "survey.invitation")
        .collect();
    assert_eq!(asked.len(), 1, "{inbox}");
    assert_eq!(
        asked[0]["title"],
        format!("Com'è andata la richiesta {number}? Ci dica la sua")
    );
    let mine = app.gql(&mario, MINE, json!({})).await;
    assert_no_errors(&mine);
    let mine = nodes(&mine["data"]["mySurveys"]);
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0]["caseId"], case_id);
    assert_eq!(mine[0]["invitationId"], asked[0]["invitationId"]);
    assert_eq!(mine[0]["version"]["questions"][0]["kind"], "SCALE");
    let inv = mine[0]["invitationId"].clone();

    // Answers that do not fit: refused with the question named, nothing written.
    for (bad, says) in [
        (answers("6", "9", ""), "answers.voto"),
        (answers("4", "11", ""), "answers.nps"),
        (
            json!([{ "key": "nps", "values": ["9"] }]),
            "answers.voto is required",
        ),
        (
            json!([{ "key": "chi", "values": ["x"] }, { "key": "voto", "values": ["4"] }]),
            "answers.chi",
        ),
        (
            json!([{ "key": "voto", "values": ["4"] }, { "key": "nps", "values": ["9"] },
                { "key": "tempi", "values": ["prezzo"] }]),
            "answers.tempi",
        ),
    ] {
        let r = app.gql(&mario, ANSWER, json!({ "i": inv, "a": bad })).await;
        assert_eq!(error_code(&r), "VALIDATION", "{r}");
        assert!(
            r["errors"][0]["message"]
                .as_str()
                .expect("m")
                .contains(says),
            "{r}"
        );
    }
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM survey_answers").await,
        0
    );

    let ok = app
        .gql(
            &mario,
            ANSWER,
            json!({ "i": inv, "a": answers("4", "10", "Più orari") }),
        )
        .await;
    assert_no_errors(&ok);
    assert_eq!(ok["data"]["answerSurvey"]["version"], 1);
    let again = app
        .gql(
            &mario,
            ANSWER,
            json!({ "i": inv, "a": answers("5", "10", "") }),
        )
        .await;
    assert_eq!(error_code(&again), "CONFLICT");
    let after = app.gql(&mario, MINE, json!({})).await;
    assert!(nodes(&after["data"]["mySurveys"]).is_empty());
    // An identified answer is the citizen's: in their export.
    let export = app.my_data(&mario).await;
    let theirs = &export["data"]["survey_answers"];
    assert_eq!(theirs.as_array().map(Vec::len), Some(1), "{theirs}");
    assert_eq!(theirs[0]["answers"]["note"], "Più orari");

    // Reopened and resolved again: the same case is not asked twice.
    for s in ["IN_PROGRESS", "RESOLVED"] {
        let m = app.gql(&op, MOVE, json!({ "id": case_id, "s": s })).await;
        assert_no_errors(&m);
    }
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM survey_invitations")
            .await,
        1
    );

    // Results and KPIs.
    let r = app.gql(&sup, RESULTS, json!({ "id": q })).await;
    assert_no_errors(&r);
    let r = &r["data"]["questionnaireResults"];
    assert_eq!(
        (r["invited"].as_u64(), r["answered"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(r["responseRate"], 1.0);
    assert_eq!(r["questions"][0]["average"], 4.0);
    assert_eq!(r["questions"][1]["nps"], 100.0);
    assert_eq!(
        r["questions"][2]["counts"],
        json!([{ "value": "tempi", "count": 1 },
        { "value": "cortesia", "count": 1 }, { "value": "chiarezza", "count": 0 }])
    );
    let texts = app
        .gql(&sup, "query($id: ID!) { questionnaireTextAnswers(id: $id, key: \"note\") { edges { node { text } } } }", json!({ "id": q }))
        .await;
    assert_eq!(
        nodes(&texts["data"]["questionnaireTextAnswers"])[0]["text"],
        "Più orari"
    );
    let csv = app
        .gql(
            &sup,
            "query($id: ID!) { questionnaireCsv(id: $id) }",
            json!({ "id": q }),
        )
        .await;
    let csv = csv["data"]["questionnaireCsv"].as_str().expect("csv");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "\"submitted_at\",\"version\",\"service_id\",\"channel\",\"person_id\",\"case_id\",\"voto\",\"nps\",\"tempi\",\"note\""
    );
    assert!(
        lines[1].ends_with("\"4\",\"10\",\"tempi; cortesia\",\"Più orari\""),
        "{csv}"
    );
    let kpis = app
        .gql(&sup, "{ satisfactionKpis(from: \"2019-01-01T00:00:00Z\", to: \"2021-12-31T00:00:00Z\") { edges { node { group } } } }", json!({}))
        .await;
    assert_eq!(error_code(&kpis), "VALIDATION", "two years at most: {kpis}");
    let now = chrono::Utc::now();
    let period =
        json!({ "from": now - chrono::Duration::days(1), "to": now + chrono::Duration::days(1) });
    let kpis = app
        .gql(&sup, "query($from: DateTime!, $to: DateTime!) { satisfactionKpis(from: $from, to: $to, groupBy: SERVICE) { edges { node { body group label invited answered responseRate csat averageScore nps resolved withinSla } } } }", period)
        .await;
    assert_no_errors(&kpis);
    let k = &nodes(&kpis["data"]["satisfactionKpis"])[0];
    assert_eq!(
        (k["body"].as_str(), k["group"].as_str()),
        (Some("ama"), Some("CERT"))
    );
    assert_eq!(
        (k["invited"].as_u64(), k["answered"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(
        (k["csat"].as_f64(), k["nps"].as_f64()),
        (Some(100.0), Some(100.0))
    );
    assert_eq!(
        k["resolved"], 1,
        "one case, resolved once in the period: {k}"
    );
}

#[rstest]
#[tokio::test]
async fn an_anonymous_answer_keeps_no_one(#[values(Sqlite, Postgres)] backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (op, sup, cert) = body(&app, "ama", None).await;
    let q = survey(&app, &sup, &cert, true).await;
    resolved_case(&app, &op, MARIO).await;
    let mario = app.citizen(MARIO);
    let mine = app.gql(&mario, MINE, json!({})).await;
    let inv = nodes(&mine["data"]["mySurveys"])[0]["invitationId"].clone();
    assert_eq!(nodes(&mine["data"]["mySurveys"])[0]["anonymous"], true);
    let ok = app
        .gql(
            &mario,
            ANSWER,
            json!({ "i": inv, "a": answers("2", "3", "Troppa attesa") }),
        )
        .await;
    assert_no_errors(&ok);
    assert_eq!(
        app.count(
            "SELECT COUNT(*) AS n FROM survey_answers WHERE person_id IS NULL AND case_id IS NULL"
        )
        .await,
        1
    );
    // Only the day, on both rows: no time pairs the answer with its invitation.
    use sea_orm::{ConnectionTrait, Statement};
    let conn = app.unrestricted().await;
    let row = conn
        .query_one_raw(Statement::from_string(
            conn.get_database_backend(),
            "SELECT a.submitted_at AS a, i.answered_at AS i FROM survey_answers a, survey_invitations i",
        ))
        .await
        .expect("row")
        .expect("one");
    let (a, i): (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>) = (
        row.try_get("", "a").expect("a"),
        row.try_get("", "i").expect("i"),
    );
    assert_eq!(a, i);
    assert_eq!(a.time(), chrono::NaiveTime::MIN);
    let csv = app
        .gql(
            &sup,
            "query($id: ID!) { questionnaireCsv(id: $id) }",
            json!({ "id": q }),
        )
        .await;
    let csv = csv["data"]["questionnaireCsv"].as_str().expect("csv");
    assert!(!csv.contains("person_id"), "{csv}");
    assert!(csv.contains("Troppa attesa"));
    // The citizen's export carries the invitation, not the anonymous answer.
    let export = app.my_data(&mario).await;
    assert_eq!(
        export["data"]["survey_invitations"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    assert_eq!(export["data"]["survey_answers"], json!([]));
}

#[rstest]
#[tokio::test]
async fn a_published_version_never_changes(#[values(Sqlite, Postgres)] backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (op, sup, cert) = body(&app, "ama", None).await;
    let c = app
        .gql(&sup, CREATE, json!({ "i": { "title": "Soddisfazione", "serviceId": cert, "questions": questions() } }))
        .await;
    assert_no_errors(&c);
    let q = c["data"]["createQuestionnaire"]["id"].clone();
    // A draft takes no answers: no survey is sent for it.
    resolved_case(&app, &op, MARIO).await;
    let mario = app.citizen(MARIO);
    assert!(nodes(&app.gql(&mario, MINE, json!({})).await["data"]["mySurveys"]).is_empty());
    assert_no_errors(&app.gql(&sup, PUBLISH, json!({ "id": q })).await);
    let revise = "mutation($id: ID!, $q: [QuestionInput!]!) { reviseQuestionnaire(id: $id, questions: $q) { version status } }";
    let v2 = app
        .gql(&sup, revise, json!({ "id": q, "q": [{ "key": "voto", "text": "Un voto da 1 a 5", "kind": "SCALE" }] }))
        .await;
    assert_eq!(
        v2["data"]["reviseQuestionnaire"],
        json!({ "version": 2, "status": "DRAFT" })
    );
    let versions = app
        .gql(&sup, "query($id: ID!) { questionnaire(id: $id) { currentVersion versions { version status questions { key } } } }", json!({ "id": q }))
        .await;
    let v = &versions["data"]["questionnaire"];
    assert_eq!(v["currentVersion"], 1);
    assert_eq!(v["versions"][0]["status"], "PUBLISHED");
    assert_eq!(
        v["versions"][0]["questions"].as_array().map(Vec::len),
        Some(4)
    );

    // A second resolved case: answered against version 1 while 2 is a draft.
    let r = app
        .gql(&op, "mutation($i: RegisterCitizenInput!) { registerCitizen(input: $i) { personId } }",
            json!({ "i": { "fiscalCode": "BNCLRA90D45F205B", "givenName": "Laura", "familyName": "Bianchi" } }))
        .await;
    let laura_id = r["data"]["registerCitizen"]["personId"].clone();
    let c = app.gql(&op, OPEN, json!({ "p": laura_id })).await;
    for s in ["IN_PROGRESS", "RESOLVED"] {
        assert_no_errors(
            &app.gql(
                &op,
                MOVE,
                json!({ "id": c["data"]["createCase"]["id"], "s": s }),
            )
            .await,
        );
    }
    let laura = app.citizen("BNCLRA90D45F205B");
    let inv =
        nodes(&app.gql(&laura, MINE, json!({})).await["data"]["mySurveys"])[0]["invitationId"]
            .clone();
    let a = app
        .gql(
            &laura,
            ANSWER,
            json!({ "i": inv, "a": answers("5", "9", "") }),
        )
        .await;
    assert_eq!(a["data"]["answerSurvey"]["version"], 1);
    let p = app.gql(&sup, PUBLISH, json!({ "id": q })).await;
    assert_eq!(
        p["data"]["publishQuestionnaire"],
        json!({ "version": 2, "status": "PUBLISHED" })
    );
    let v = app
        .gql(
            &sup,
            "query($id: ID!) { questionnaire(id: $id) { currentVersion versions { status } } }",
            json!({ "id": q }),
        )
        .await;
    assert_eq!(v["data"]["questionnaire"]["currentVersion"], 2);
    assert_eq!(
        v["data"]["questionnaire"]["versions"],
        json!([{ "status": "RETIRED" }, { "status": "PUBLISHED" }])
    );

    // Retired: nothing more is asked or answered.
    let gone = app
        .gql(
            &sup,
            "mutation($id: ID!) { retireQuestionnaire(id: $id) { retiredAt } }",
            json!({ "id": q }),
        )
        .await;
    assert_no_errors(&gone);
    let again = app.gql(&sup, PUBLISH, json!({ "id": q })).await;
    assert_eq!(error_code(&again), "VALIDATION");
}

#[rstest]
#[tokio::test]
async fn the_e_mail_link_answers_without_signing_in(#[values(Sqlite, Postgres)] backend: Backend) {
    let sink = crate::smtp::SmtpSink::start();
    let app = TestApp::spawn(backend).await;
    let (op, sup, cert) = body(&app, "ama", Some(sink.port)).await;
    let q = survey(&app, &sup, &cert, false).await;
    let (_, _, number) = resolved_case(&app, &op, MARIO).await;
    // Created, in progress, resolved, and the survey.
    let got = sink.wait_for(4).await;
    let m = got
        .iter()
        .find(|m| {
            m.header("Subject")
                .is_some_and(|s| s.contains("com'è andata"))
        })
        .expect("the survey's e-mail");
    assert_eq!(
        m.header("Subject").as_deref(),
        Some(format!("Ente ama: com'è andata la richiesta {number}?").as_str())
    );
    let text = m.part("text/plain");
    let at = text.find("/surveys/").expect("a survey link");
    let path: String = text[at..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    // (The HTML part escapes the URL's slashes as entities; the token has none.)
    assert!(m.part("text/html").contains(&path["/surveys/".len()..]));

    // A browser without a session: the page, then the form.
    let c = reqwest::Client::builder()
        .cookie_provider(std::sync::Arc::new(reqwest::cookie::Jar::default()))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let page = c.get(app.url(&path)).send().await.expect("page");
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("html");
    assert!(
        html.contains("Quanto è soddisfatto del servizio?"),
        "{html}"
    );
    let csrf = crate::portal::form_token(&html);
    let bad = c
        .post(app.url(&path))
        .form(&[("csrf", csrf.as_str()), ("q.voto", "4")])
        .send()
        .await
        .expect("post");
    assert_eq!(bad.status(), 422);
    assert!(
        bad.text()
            .await
            .expect("html")
            .contains("answers.nps is required")
    );
    let sent = c
        .post(app.url(&path))
        .form(&[
            ("csrf", csrf.as_str()),
            ("q.voto", "5"),
            ("q.nps", "9"),
            ("q.tempi", "cortesia"),
            ("q.tempi", "chiarezza"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(sent.status(), 303);
    let thanks = c.get(app.url(&path)).send().await.expect("page");
    let thanks = thanks.text().await.expect("html");
    assert!(thanks.contains("<title>Grazie"), "{thanks}");
    assert!(thanks.contains("<h1>Grazie</h1>"), "{thanks}");
    assert!(thanks.contains("le tue risposte sono state registrate"));
    let r = app.gql(&sup, RESULTS, json!({ "id": q })).await;
    assert_eq!(r["data"]["questionnaireResults"]["answered"], 1);
    assert_eq!(
        r["data"]["questionnaireResults"]["questions"][2]["counts"][1]["count"],
        1
    );
    // A link that was not signed here opens nothing.
    let forged = path.replacen(&path[9..45], &uuid::Uuid::now_v7().to_string(), 1);
    let r = c.get(app.url(&forged)).send().await.expect("page");
    assert_eq!(r.status(), 404);
}

async fn onboard(app: &TestApp, slug: &str, kind: &str, parent: Option<&str>) {
    let b = app
        .gql(
            &app.platform_admin(),
            ONBOARD,
            json!({ "input": { "slug": slug, "displayName": format!("Ente {slug}"), "kind": kind,
                "parentSlug": parent, "admin": { "subject": format!("{slug}-admin"), "displayName": "Admin" } } }),
        )
        .await;
    assert_no_errors(&b);
}

#[rstest]
#[tokio::test]
async fn a_parent_sees_its_childrens_kpis_aggregated_only(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    onboard(&app, "roma", "CAPITALE", None).await;
    onboard(&app, "municipio-i", "MUNICIPIO", Some("roma")).await;
    onboard(&app, "torino", "OTHER", None).await;
    let cert = "mutation { createService(input: { code: \"CERT\", name: \"Certificato\", area: \"Anagrafe\" }) { code } }";
    assert_no_errors(&app.gql(&app.admin_of("municipio-i"), cert, json!({})).await);
    let op = app.member("municipio-i", "mun-op", Role::Operator).await;
    let (sup, cert) = supervisor(&app, "municipio-i").await;
    let q = survey(&app, &sup, &cert, false).await;
    resolved_case(&app, &op, MARIO).await;
    let mario = app.citizen(MARIO);
    let inv =
        nodes(&app.gql(&mario, MINE, json!({})).await["data"]["mySurveys"])[0]["invitationId"]
            .clone();
    assert_no_errors(
        &app.gql(
            &mario,
            ANSWER,
            json!({ "i": inv, "a": answers("3", "6", "Sportello lento") }),
        )
        .await,
    );
    let roma = app.member("roma", "roma-sup", Role::Supervisor).await;
    let torino = app.member("torino", "torino-sup", Role::Supervisor).await;
    let now = chrono::Utc::now();
    let vars =
        json!({ "from": now - chrono::Duration::days(1), "to": now + chrono::Duration::days(1) });
    let query = "query($from: DateTime!, $to: DateTime!) { satisfactionKpis(from: $from, to: $to, groupBy: BODY, children: true) { edges { node { body group invited answered csat nps resolved } } } }";
    let k = app.gql(&roma, query, vars.clone()).await;
    assert_no_errors(&k);
    assert_eq!(
        nodes(&k["data"]["satisfactionKpis"]),
        [
            json!({ "body": "municipio-i", "group": "municipio-i", "invited": 1, "answered": 1,
            "csat": 0.0, "nps": -100.0, "resolved": 1 })
        ]
    );
    // Only figures: nothing that names anyone crossed, and the raw answers stay home.
    assert!(!k.to_string().contains("Sportello lento"));
    for (query, field) in [
        (
            "query($id: ID!) { questionnaireResults(id: $id) { answered } }",
            "questionnaireResults",
        ),
        (
            "query($id: ID!) { questionnaireCsv(id: $id) }",
            "questionnaireCsv",
        ),
        (
            "query($id: ID!) { questionnaireTextAnswers(id: $id, key: \"note\") { edges { node { text } } } }",
            "questionnaireTextAnswers",
        ),
    ] {
        let r = app.gql(&roma, query, json!({ "id": q })).await;
        assert_eq!(error_code(&r), "NOT_FOUND", "{field}: {r}");
    }
    let own = app
        .gql(&roma, "query($from: DateTime!, $to: DateTime!) { satisfactionKpis(from: $from, to: $to) { edges { node { body } } } }", vars.clone())
        .await;
    assert!(nodes(&own["data"]["satisfactionKpis"]).is_empty(), "{own}");
    let stranger = app.gql(&torino, query, vars.clone()).await;
    assert!(
        nodes(&stranger["data"]["satisfactionKpis"]).is_empty(),
        "{stranger}"
    );
    // An operator may not read KPIs.
    let roma_op = app.member("roma", "roma-op", Role::Operator).await;
    assert_eq!(
        error_code(&app.gql(&roma_op, query, vars).await),
        "FORBIDDEN"
    );
}

#[rstest]
#[tokio::test]
async fn the_participants_of_an_ended_initiative_are_asked(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let (op, sup, _) = body(&app, "parma", None).await;
    let p = app.register(&op, Some(MARIO), "Mario", "Rossi", &[]).await;
    let start = app.clock.now() + chrono::Duration::days(2);
    let i = app
        .gql(&sup, "mutation($i: InitiativeInput!) { createInitiative(input: $i) { id } }",
            json!({ "i": { "kind": "EVENT", "title": "Festa del quartiere", "area": "Cultura",
                "startsAt": start, "endsAt": start + chrono::Duration::hours(3), "capacity": 10 } }))
        .await;
    assert_no_errors(&i);
    let i = i["data"]["createInitiative"]["id"].clone();
    assert_no_errors(
        &app.gql(
            &sup,
            "mutation($id: ID!) { setInitiativeStatus(id: $id, status: PUBLISHED) { status } }",
            json!({ "id": i }),
        )
        .await,
    );
    assert_no_errors(&app.gql(&op, "mutation($i: ID!, $p: ID!) { registerParticipant(initiativeId: $i, personId: $p) { status } }", json!({ "i": i, "p": p["personId"] })).await);
    let c = app
        .gql(
            &sup,
            CREATE,
            json!({ "i": { "title": "Com'è andata la festa?", "initiativeId": i,
            "questions": [{ "key": "voto", "text": "Le è piaciuta?", "kind": "SCALE" }] } }),
        )
        .await;
    assert_no_errors(&c);
    assert_no_errors(
        &app.gql(
            &sup,
            PUBLISH,
            json!({ "id": c["data"]["createQuestionnaire"]["id"] }),
        )
        .await,
    );

    let state = &app.app.state;
    assert_eq!(
        civitas_crm::app::surveys::send_due(state)
            .await
            .expect("run"),
        0,
        "not before it ends"
    );
    app.clock.advance(chrono::Duration::days(3));
    assert_eq!(
        civitas_crm::app::surveys::send_due(state)
            .await
            .expect("run"),
        1
    );
    assert_eq!(
        civitas_crm::app::surveys::send_due(state)
            .await
            .expect("run"),
        0,
        "once"
    );
    let mine = app.gql(&app.citizen(MARIO), MINE, json!({})).await;
    let mine = nodes(&mine["data"]["mySurveys"]);
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0]["title"], "Com'è andata la festa?");
}

#[rstest]
#[tokio::test]
async fn bad_questionnaires_are_refused_with_nothing_written(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let (_, sup, cert) = body(&app, "ama", None).await;
    let q = |v: Value| json!({ "i": { "title": "Q", "questions": v } });
    for (input, says) in [
        (q(json!([])), "questions"),
        (
            q(
                json!([{ "key": "a", "text": "A", "kind": "SCALE" }, { "key": "a", "text": "B", "kind": "TEXT" }]),
            ),
            "questions[1].key",
        ),
        (
            q(json!([{ "key": "a", "text": "A", "kind": "SINGLE", "options": ["sì"] }])),
            "questions[0].options",
        ),
        (
            q(json!([{ "key": "a", "text": "A", "kind": "NPS", "options": ["x", "y"] }])),
            "questions[0].options",
        ),
        (
            q(json!([{ "key": "a b", "text": "A", "kind": "TEXT" }])),
            "questions[0].key",
        ),
        (
            q(json!([{ "key": "a", "text": "", "kind": "TEXT" }])),
            "questions[0].text",
        ),
        (
            json!({ "i": { "title": "", "questions": [{ "key": "a", "text": "A", "kind": "TEXT" }] } }),
            "title",
        ),
        (
            json!({ "i": { "title": "Q", "serviceId": "00000000-0000-7000-8000-000000000001",
            "questions": [{ "key": "a", "text": "A", "kind": "TEXT" }] } }),
            "serviceId",
        ),
        (
            json!({ "i": { "title": "Q", "serviceId": cert, "initiativeId": cert,
            "questions": [{ "key": "a", "text": "A", "kind": "TEXT" }] } }),
            "serviceId, initiativeId",
        ),
    ] {
        let r = app.gql(&sup, CREATE, input.clone()).await;
        assert_eq!(error_code(&r), "VALIDATION", "{input}: {r}");
        assert!(
            r["errors"][0]["message"]
                .as_str()
                .expect("m")
                .contains(says),
            "{says}: {r}"
        );
    }
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM questionnaires").await,
        0
    );
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM questionnaire_versions")
            .await,
        0
    );
    // Answering a consultation still in draft.
    let c = app
        .gql(&sup, CREATE, json!({ "i": { "title": "Consultazione", "questions": [{ "key": "a", "text": "A", "kind": "TEXT" }] } }))
        .await;
    let id = c["data"]["createQuestionnaire"]["id"].clone();
    let mario = app.citizen(MARIO);
    let answer = "mutation($q: ID!) { answerConsultation(body: \"ama\", questionnaireId: $q, answers: [{ key: \"a\", values: [\"Sì\"] }]) { version } }";
    let r = app.gql(&mario, answer, json!({ "q": id })).await;
    assert_eq!(error_code(&r), "VALIDATION", "{r}");
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM survey_invitations")
            .await,
        0
    );
    assert_no_errors(&app.gql(&sup, PUBLISH, json!({ "id": id })).await);
    let open = app
        .gql(
            &mario,
            "{ openConsultations(body: \"ama\") { edges { node { title } } } }",
            json!({}),
        )
        .await;
    assert_eq!(nodes(&open["data"]["openConsultations"]).len(), 1);
    assert_no_errors(&app.gql(&mario, answer, json!({ "q": id })).await);
    assert_eq!(
        error_code(&app.gql(&mario, answer, json!({ "q": id })).await),
        "CONFLICT"
    );
}

#[rstest]
#[tokio::test]
async fn each_bodys_questionnaires_are_its_own(#[values(Sqlite, Postgres)] backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (op, sup, cert) = body(&app, "ama", None).await;
    let q = survey(&app, &sup, &cert, false).await;
    let (mario_id, _, _) = resolved_case(&app, &op, MARIO).await;
    let (_, other, _) = body(&app, "atac", None).await;
    let list = app
        .gql(
            &other,
            "{ questionnaires { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert!(nodes(&list["data"]["questionnaires"]).is_empty());
    for query in [
        "query($id: ID!) { questionnaire(id: $id) { id } }",
        "query($id: ID!) { questionnaireResults(id: $id) { answered } }",
        "mutation($id: ID!) { publishQuestionnaire(id: $id) { version } }",
        "mutation($id: ID!) { retireQuestionnaire(id: $id) { id } }",
    ] {
        let r = app.gql(&other, query, json!({ "id": q })).await;
        assert_eq!(error_code(&r), "NOT_FOUND", "{query}: {r}");
    }
    // Another citizen cannot answer Mario's survey.
    let mine = app.gql(&app.citizen(MARIO), MINE, json!({})).await;
    let inv = nodes(&mine["data"]["mySurveys"])[0]["invitationId"].clone();
    let laura = app.citizen("BNCLRA90D45F205B");
    let r = app
        .gql(
            &laura,
            ANSWER,
            json!({ "i": inv, "a": answers("1", "0", "") }),
        )
        .await;
    assert_eq!(error_code(&r), "NOT_FOUND", "{r}");
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM survey_answers").await,
        0
    );
    // Erasure at the body takes the invitation and the identified answer.
    assert_no_errors(
        &app.gql(
            &app.citizen(MARIO),
            ANSWER,
            json!({ "i": inv, "a": answers("4", "8", "") }),
        )
        .await,
    );
    assert_no_errors(
        &app.gql(
            &sup,
            "mutation($p: ID!) { recordErasureRequest(personId: $p) }",
            json!({ "p": mario_id }),
        )
        .await,
    );
    civitas_crm::app::erasure::run(&app.app.state)
        .await
        .expect("erasure");
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM survey_answers").await,
        0
    );
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM survey_invitations")
            .await,
        0
    );
}

#[rstest]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_citizen_answers_in_a_real_browser() {
    let app = TestApp::spawn(Postgres).await;
    let (op, sup, cert) = body(&app, "ama", None).await;
    let q = survey(&app, &sup, &cert, true).await;
    resolved_case(&app, &op, MARIO).await;
    let mine = app.gql(&app.citizen(MARIO), MINE, json!({})).await;
    let inv: uuid::Uuid = nodes(&mine["data"]["mySurveys"])[0]["invitationId"]
        .as_str()
        .and_then(|i| i.parse().ok())
        .expect("invitation");
    let tenant: uuid::Uuid = app
        .gql(
            &app.admin_of("ama"),
            "{ tenant(slug: \"ama\") { id } }",
            json!({}),
        )
        .await["data"]["tenant"]["id"]
        .as_str()
        .and_then(|i| i.parse().ok())
        .expect("tenant");
    let token = app.app.state.links.survey_token(tenant, inv);
    let b = crate::browser::Browser::start().await;
    b.goto(&app.url(&format!("/surveys/{token}"))).await;
    assert!(b.text("main").await.contains("Le risposte sono anonime"));
    b.check_page("survey").await;
    // Sent without the required scores: the page says which, next to the question.
    b.click("main form button[type=submit]").await;
    b.wait_for_text("main", "answers.voto is required").await;
    b.check_page("survey-problems").await;
    b.click("#q-voto-4").await;
    b.click("#q-nps-10").await;
    b.click("#q-tempi-2").await;
    b.find("#q-note")
        .await
        .send_keys("Grazie")
        .await
        .expect("type");
    b.click("main form button[type=submit]").await;
    b.wait_for_text("main", "le tue risposte sono state registrate")
        .await;
    b.check_page("survey-done").await;
    b.close().await;
    let r = app.gql(&sup, RESULTS, json!({ "id": q })).await;
    assert_eq!(r["data"]["questionnaireResults"]["answered"], 1);
    assert_eq!(
        r["data"]["questionnaireResults"]["questions"][0]["average"],
        4.0
    );
}
