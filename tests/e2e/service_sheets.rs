//! Service sheets: editors write drafts, supervisors publish them, anyone reads what is
//! published, and a municipio inherits, section by section, what Roma Capitale wrote.

use civitas_tenants::Role;
use rstest::rstest;
use serde_json::{Value, json};

use crate::harness::*;

const SAVE: &str = "mutation($c: String!, $l: SheetLanguage!, $s: SheetSectionsInput!) { \
  saveServiceSheetDraft(code: $c, language: $l, sections: $s) { serviceCode language state sections { what costs } updatedBy } }";
const PUBLISH: &str = "mutation($c: String!, $l: SheetLanguage!) { publishServiceSheet(code: $c, language: $l) { state sections { what } } }";
const UNPUBLISH: &str =
    "mutation($c: String!, $l: SheetLanguage!) { unpublishServiceSheet(code: $c, language: $l) }";
const EDITING: &str = "query($c: String!, $l: SheetLanguage!) { serviceSheet(code: $c, language: $l) { \
  draft { sections { what costs } } published { sections { what costs } } } }";
const PUBLIC: &str = "query($b: String!, $c: String!, $l: SheetLanguage) { publicServiceSheet(body: $b, code: $c, language: $l) { \
  language sections { section text body { slug } } } }";

/// Roma Capitale with a bulky-waste service and Municipio I below it with the same service
/// (imported); the tokens of each body's administrator.
async fn tree(backend: Backend) -> TestApp {
    let app = TestApp::spawn(backend).await;
    app.onboard("roma").await;
    let m = app
        .gql(
            &app.platform_admin(),
            ONBOARD,
            json!({ "input": { "slug": "municipio-i", "displayName": "Municipio I", "kind": "MUNICIPIO",
                "parentSlug": "roma", "admin": { "subject": "municipio-i-admin" } } }),
        )
        .await;
    assert_no_errors(&m);
    let svc = app
        .gql(
            &app.admin_of("roma"),
            "mutation { createService(input: { code: \"RIF-ING\", name: \"Ritiro ingombranti\", area: \"Ambiente\", channels: [\"web\"] }) { code } }",
            json!({}),
        )
        .await;
    assert_no_errors(&svc);
    let imported = app
        .gql(
            &app.admin_of("municipio-i"),
            "mutation { importParentCatalogue }",
            json!({}),
        )
        .await;
    assert_no_errors(&imported);
    app
}

fn sections(what: &str, costs: &str) -> Value {
    json!({ "what": what, "costs": costs })
}

async fn public(app: &TestApp, body: &str, lang: &str) -> Value {
    let (_, b) = app
        .post(
            None,
            None,
            PUBLIC,
            json!({ "b": body, "c": "RIF-ING", "l": lang }),
        )
        .await;
    assert_no_errors(&b);
    b["data"]["publicServiceSheet"].clone()
}

fn shown(sheet: &Value) -> Vec<(String, String, String)> {
    sheet["sections"]
        .as_array()
        .expect("sections")
        .iter()
        .map(|s| {
            (
                s["section"].as_str().expect("section").to_owned(),
                s["text"].as_str().expect("text").to_owned(),
                s["body"]["slug"].as_str().expect("slug").to_owned(),
            )
        })
        .collect()
}

#[rstest]
#[tokio::test]
async fn a_published_sheet_is_inherited_and_overridden_section_by_section(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let app = tree(backend).await;
    let roma = app.admin_of("roma");
    let vars = |l: &str, s: Value| json!({ "c": "RIF-ING", "l": l, "s": s });
    let saved = app
        .gql(
            &roma,
            SAVE,
            vars(
                "IT",
                sections("Il ritiro a domicilio di mobili.", "Gratuito."),
            ),
        )
        .await;
    assert_no_errors(&saved);
    assert_eq!(saved["data"]["saveServiceSheetDraft"]["state"], "DRAFT");
    assert!(
        public(&app, "roma", "IT").await.is_null(),
        "a draft is not public"
    );

    let published = app
        .gql(&roma, PUBLISH, json!({ "c": "RIF-ING", "l": "IT" }))
        .await;
    assert_no_errors(&published);
    // A later draft does not change what citizens read until it is published.
    let later = app
        .gql(
            &roma,
            SAVE,
            vars("IT", sections("Bozza nuova.", "Gratuito.")),
        )
        .await;
    assert_no_errors(&later);
    assert_eq!(
        shown(&public(&app, "roma", "IT").await),
        [
            (
                "WHAT".into(),
                "Il ritiro a domicilio di mobili.".into(),
                "roma".into()
            ),
            ("COSTS".into(), "Gratuito.".into(), "roma".into()),
        ]
    );
    assert_eq!(
        shown(&public(&app, "municipio-i", "IT").await),
        [
            (
                "WHAT".into(),
                "Il ritiro a domicilio di mobili.".into(),
                "roma".into()
            ),
            ("COSTS".into(), "Gratuito.".into(), "roma".into()),
        ],
        "the municipio wrote nothing: all of Roma's"
    );

    let m1 = app.admin_of("municipio-i");
    assert_no_errors(
        &app.gql(
            &m1,
            SAVE,
            vars("IT", sections("", "5 euro dal terzo pezzo.")),
        )
        .await,
    );
    assert_no_errors(
        &app.gql(&m1, PUBLISH, json!({ "c": "RIF-ING", "l": "IT" }))
            .await,
    );
    assert_eq!(
        shown(&public(&app, "municipio-i", "IT").await),
        [
            (
                "WHAT".into(),
                "Il ritiro a domicilio di mobili.".into(),
                "roma".into()
            ),
            (
                "COSTS".into(),
                "5 euro dal terzo pezzo.".into(),
                "municipio-i".into()
            ),
        ]
    );
    let en = public(&app, "municipio-i", "EN").await;
    assert_eq!(en["language"], "IT", "nobody wrote English: Italian");

    assert_no_errors(
        &app.gql(
            &roma,
            SAVE,
            vars("EN", sections("Collection of furniture.", "")),
        )
        .await,
    );
    assert_no_errors(
        &app.gql(&roma, PUBLISH, json!({ "c": "RIF-ING", "l": "EN" }))
            .await,
    );
    let en = public(&app, "municipio-i", "EN").await;
    assert_eq!(en["language"], "EN");
    assert_eq!(
        shown(&en),
        [(
            "WHAT".into(),
            "Collection of furniture.".into(),
            "roma".into()
        )]
    );

    let down = app
        .gql(&m1, UNPUBLISH, json!({ "c": "RIF-ING", "l": "IT" }))
        .await;
    assert_no_errors(&down);
    assert_eq!(
        shown(&public(&app, "municipio-i", "IT").await)[1].2,
        "roma",
        "unpublished: Roma's costs again"
    );
}

#[rstest]
#[tokio::test]
async fn one_body_cannot_read_or_change_anothers_sheets(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let app = tree(backend).await;
    let roma = app.admin_of("roma");
    let m1 = app.admin_of("municipio-i");
    let vars = json!({ "c": "RIF-ING", "l": "IT", "s": sections("Testo di Roma.", "") });
    assert_no_errors(&app.gql(&roma, SAVE, vars).await);

    let seen = app
        .gql(&m1, EDITING, json!({ "c": "RIF-ING", "l": "IT" }))
        .await;
    assert_no_errors(&seen);
    assert!(
        seen["data"]["serviceSheet"]["draft"].is_null(),
        "the municipio sees its own (empty) sheet, not Roma's draft: {seen}"
    );
    let publish = app
        .gql(&m1, PUBLISH, json!({ "c": "RIF-ING", "l": "IT" }))
        .await;
    assert_eq!(error_code(&publish), "NOT_FOUND", "{publish}");
    assert!(public(&app, "roma", "IT").await.is_null());

    // A service the body does not offer cannot get a sheet.
    let other = app.onboard("beta").await;
    drop(other);
    let foreign = app
        .gql(
            &app.admin_of("beta"),
            SAVE,
            json!({ "c": "RIF-ING", "l": "IT", "s": sections("x", "") }),
        )
        .await;
    assert_eq!(error_code(&foreign), "NOT_FOUND", "{foreign}");

    // Operators read sheets but do not write them.
    let op = app.member("roma", "roma-op", Role::Operator).await;
    let read = app
        .gql(&op, EDITING, json!({ "c": "RIF-ING", "l": "IT" }))
        .await;
    assert_no_errors(&read);
    assert_eq!(
        read["data"]["serviceSheet"]["draft"]["sections"]["what"],
        "Testo di Roma."
    );
    let write = app
        .gql(
            &op,
            SAVE,
            json!({ "c": "RIF-ING", "l": "IT", "s": sections("Operatore.", "") }),
        )
        .await;
    assert_eq!(error_code(&write), "FORBIDDEN", "{write}");
}

#[rstest]
#[tokio::test]
async fn bad_sheets_are_refused_and_write_nothing(#[values(Sqlite, Postgres)] backend: Backend) {
    let app = tree(backend).await;
    let roma = app.admin_of("roma");
    let long = "x".repeat(20_001);
    for (s, why) in [
        (sections(&long, ""), "too long"),
        (sections("a\u{0007}b", ""), "control character"),
    ] {
        let b = app
            .gql(&roma, SAVE, json!({ "c": "RIF-ING", "l": "IT", "s": s }))
            .await;
        assert_eq!(error_code(&b), "VALIDATION", "{why}: {b}");
    }
    let seen = app
        .gql(&roma, EDITING, json!({ "c": "RIF-ING", "l": "IT" }))
        .await;
    assert!(
        seen["data"]["serviceSheet"]["draft"].is_null(),
        "nothing written"
    );

    let unknown = app
        .gql(&roma, EDITING, json!({ "c": "NOPE", "l": "IT" }))
        .await;
    assert_eq!(error_code(&unknown), "NOT_FOUND");
    let no_draft = app
        .gql(&roma, PUBLISH, json!({ "c": "RIF-ING", "l": "IT" }))
        .await;
    assert_eq!(error_code(&no_draft), "NOT_FOUND");
    let empty = app
        .gql(
            &roma,
            SAVE,
            json!({ "c": "RIF-ING", "l": "IT", "s": sections("", "") }),
        )
        .await;
    assert_no_errors(&empty);
    let nothing = app
        .gql(&roma, PUBLISH, json!({ "c": "RIF-ING", "l": "IT" }))
        .await;
    assert_eq!(error_code(&nothing), "VALIDATION", "{nothing}");
    let (_, no_body) = app
        .post(
            None,
            None,
            PUBLIC,
            json!({ "b": "nessuno", "c": "RIF-ING", "l": "IT" }),
        )
        .await;
    assert_eq!(error_code(&no_body), "VALIDATION");
}

#[rstest]
#[tokio::test]
async fn the_portal_shows_the_sheet_with_what_the_parent_wrote(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let app = tree(backend).await;
    let roma = app.admin_of("roma");
    let vars = json!({ "c": "RIF-ING", "l": "IT", "s": { "what": "Il ritiro <b>a domicilio</b>.\n\nSecondo paragrafo.", "audience": "Chi abita a Roma." } });
    assert_no_errors(&app.gql(&roma, SAVE, vars).await);
    assert_no_errors(
        &app.gql(&roma, PUBLISH, json!({ "c": "RIF-ING", "l": "IT" }))
            .await,
    );
    let html = reqwest::Client::new()
        .get(app.url("/services/municipio-i/RIF-ING"))
        .header("Accept-Language", "it")
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(
        html.contains("<p>Il ritiro &lt;b&gt;a domicilio&lt;&#x2f;b&gt;.</p>"),
        "escaped, one paragraph each: {html}"
    );
    assert!(html.contains("<p>Secondo paragrafo.</p>"));
    assert!(html.contains("A chi è rivolto"));
    assert!(
        html.contains("Testo di Ente roma."),
        "inherited sections say whose they are"
    );
    let en = reqwest::Client::new()
        .get(app.url("/services/municipio-i/RIF-ING"))
        .header("Accept-Language", "en")
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(en.contains("This page is only available in Italian."));
    assert!(
        en.contains("<div lang=\"it\"><p>Il ritiro"),
        "Italian text marked as such"
    );
}
