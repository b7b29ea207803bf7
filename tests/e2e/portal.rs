//! MY RHOME, the citizens' portal, as a citizen meets it: in headless Chromium on both
//! backends (sign in, file a request with a custom field and a file, watch its status
//! change live, read the notification, share and revoke, download the data, every page
//! checked by axe-core), and without JavaScript (forms, their tokens, other people's
//! requests).

use civitas_tenants::Role;
use rstest::rstest;
use serde_json::{Value, json};

use crate::browser::Browser;
use crate::harness::*;

const MARIO: &str = "RSSMRA85T10A562S";
const VIEW: &str = "query($fc: String) { citizenView(fiscalCode: $fc, purpose: \"citizen_contact\") { profiles { profile { tenant { slug } } } } }";

/// Two bodies: `alfa` offers a service with a custom field on the web; `beta` knows Mario.
/// Returns the tokens of an operator of each.
async fn bodies(app: &TestApp) -> (String, String) {
    for slug in ["alfa", "beta"] {
        app.onboard(slug).await;
    }
    let svc = app
        .gql(
            &app.admin_of("alfa"),
            "mutation($i: CreateServiceInput!) { createService(input: $i) { code } }",
            json!({ "i": {
                "code": "PASSO", "name": "Passo carrabile", "area": "Mobilità", "slaHours": 48,
                "channels": ["web", "counter"],
                "customFields": [
                    { "key": "plate", "label": "Targa", "type": "STRING", "required": true },
                    { "key": "places", "label": "Posti auto", "type": "NUMBER" }
                ]
            }}),
        )
        .await;
    assert_no_errors(&svc);
    // A sheet with every section, so that the browser checks the whole "scheda servizio".
    let admin = app.admin_of("alfa");
    let sheet = app
        .gql(
            &admin,
            "mutation($s: SheetSectionsInput!) { saveServiceSheetDraft(code: \"PASSO\", language: IT, sections: $s) { state } }",
            json!({ "s": {
                "what": "L'autorizzazione a un accesso carrabile.\n\nVale cinque anni.",
                "audience": "Chi possiede un box o un cortile.", "how": "Compila il modulo online.",
                "needs": "La planimetria.", "outcome": "Il cartello di passo carrabile.",
                "times": "Trenta giorni.", "costs": "Marca da bollo da 16 euro.",
                "contacts": "Ufficio mobilità, via Roma 1."
            }}),
        )
        .await;
    assert_no_errors(&sheet);
    let published = app
        .gql(
            &admin,
            "mutation { publishServiceSheet(code: \"PASSO\", language: IT) { state } }",
            json!({}),
        )
        .await;
    assert_no_errors(&published);
    let alfa = app.member("alfa", "alfa-op", Role::Operator).await;
    let beta = app.member("beta", "beta-op", Role::Operator).await;
    app.register(&beta, Some(MARIO), "Mario", "Rossi", &["333 1234567"])
        .await;
    (alfa, beta)
}

/// The token of the first form on a page.
pub(crate) fn form_token(html: &str) -> String {
    html.split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("a form token")
        .to_owned()
}

/// A browser without JavaScript (cookies kept, redirects not followed) signed in as the
/// citizen `fiscal_code` through the development sign-in; and where it was sent back to.
pub(crate) async fn signed_in(
    app: &TestApp,
    fiscal_code: &str,
    return_to: &str,
) -> (reqwest::Client, String) {
    let c = reqwest::Client::builder()
        .cookie_provider(std::sync::Arc::new(reqwest::cookie::Jar::default()))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let page = c.get(app.url("/sign-in")).send().await.expect("page");
    let html = page.text().await.expect("html");
    let r = c
        .post(app.url("/sign-in/dev"))
        .form(&[
            ("csrf", form_token(&html).as_str()),
            ("fiscal_code", fiscal_code),
            ("name", "Mario Rossi"),
            ("return_to", return_to),
        ])
        .send()
        .await
        .expect("sign in");
    assert_eq!(r.status(), 303);
    let to = r.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    (c, to)
}

async fn seen_by(app: &TestApp, op: &str) -> Vec<String> {
    let body = app.gql(op, VIEW, json!({ "fc": MARIO })).await;
    assert_no_errors(&body);
    let mut v: Vec<String> = body["data"]["citizenView"]["profiles"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["profile"]["tenant"]["slug"].as_str().map(str::to_owned))
        .collect();
    v.sort();
    v
}

#[rstest]
#[case::sqlite(Sqlite)]
#[case::postgres(Postgres)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_citizen_uses_the_portal_in_a_real_browser(#[case] backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (alfa, _beta) = bodies(&app).await;
    let b = Browser::start().await;

    // Anonymous: the home page and the catalogue.
    b.goto(&app.url("/")).await;
    b.check_page("home-anonymous").await;
    b.goto(&app.url("/services?q=passo")).await;
    assert!(b.text("main").await.contains("Passo carrabile"));
    b.check_page("services").await;
    b.goto(&app.url("/services/alfa/PASSO")).await;
    b.check_page("service-sheet").await;

    // Sign in (development sign-in with a fiscal code), sent back to the form.
    b.goto(&app.url("/services/alfa/PASSO/request")).await;
    assert_eq!(b.path().await, "/sign-in");
    b.check_page("sign-in").await;
    b.find("#dev-fiscal-code")
        .await
        .send_keys(MARIO)
        .await
        .expect("type");
    b.find("#dev-name")
        .await
        .send_keys("Mario Rossi")
        .await
        .expect("type");
    b.find("#dev-name")
        .await
        .send_keys("\u{E007}")
        .await
        .expect("enter");
    b.find("#title").await;
    assert_eq!(b.path().await, "/services/alfa/PASSO/request");

    // The form, by keyboard only: a required custom field left empty is named next to it.
    b.check_page("request-form").await;
    b.tab_to("title", 80).await;
    b.type_here("Passo carrabile in via Roma").await;
    b.tab_to("privacy", 20).await;
    b.press(' ').await;
    b.tab_to("send", 5).await;
    b.press('\u{E007}').await;
    let problem = b.text("#err-cf\\.plate, #err-plate").await;
    assert!(problem.contains("obbligatorio"), "{problem}");
    b.check_page("request-form-problems").await;

    // Corrected, with a file.
    let pdf = std::env::temp_dir().join(format!("planimetria-{}.pdf", uuid::Uuid::new_v4()));
    std::fs::write(&pdf, b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n").expect("pdf");
    b.find("#files")
        .await
        .send_keys(&pdf.display().to_string())
        .await
        .expect("file");
    b.tab_to("cf-plate", 30).await;
    b.type_here("AB123CD").await;
    b.tab_to("send", 20).await;
    b.press('\u{E007}').await;
    b.find("#history").await;
    let path = b.path().await;
    assert!(path.starts_with("/requests/"), "{path}");
    let case_id = path.trim_start_matches("/requests/").to_owned();
    let page = b.text("main").await;
    assert!(
        page.contains("AB123CD") && page.contains("planimetria"),
        "{page}"
    );
    assert!(page.contains("Ricevuta"), "{page}");
    assert!(
        page.contains("Targa") && !page.contains("plate"),
        "custom fields under the labels the form showed: {page}"
    );
    b.check_page("request").await;

    // The operator moves it: the badge changes on the open page, with no reload.
    let moved = app
        .gql(
            &alfa,
            "mutation($id: ID!) { changeCaseStatus(id: $id, status: IN_PROGRESS) { status } }",
            json!({ "id": case_id }),
        )
        .await;
    assert_no_errors(&moved);
    let badge = format!("#status-{case_id}");
    let mut live = String::new();
    for _ in 0..100 {
        live = b.text(&badge).await;
        if live.contains("In lavorazione") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        live.contains("In lavorazione"),
        "the status did not change live: {live}"
    );

    // The reply box.
    b.find("#reply-text")
        .await
        .send_keys("Allego anche la delibera condominiale")
        .await
        .expect("type");
    b.click("#reply button[type=submit], section[aria-labelledby=reply] button")
        .await;
    b.find("#history").await;
    assert!(
        b.text("#history + ol, .history")
            .await
            .contains("delibera condominiale")
    );

    // The notification of the move, read.
    b.goto(&app.url("/notifications")).await;
    let inbox = b.text("main").await;
    assert!(
        inbox.contains("In lavorazione") && inbox.contains("Nuova"),
        "{inbox}"
    );
    b.check_page("notifications").await;
    let labels = b
        .client
        .find_all(fantoccini::Locator::Css("label[for^='n-']"))
        .await
        .expect("labels");
    assert_eq!(labels.len(), 2, "filed and moved");
    for l in labels {
        l.click().await.expect("tick");
    }
    b.click("button[value=read]").await;
    b.wait_without_text("main", "Nuova").await;

    // Sharing: alfa may see what beta holds, then may not.
    assert_eq!(seen_by(&app, &alfa).await, ["alfa"]);
    b.goto(&app.url("/consents")).await;
    b.check_page("consents").await;
    b.click("#grantee option[value=alfa]").await;
    b.click("#source option[value=beta]").await;
    b.find("#purpose")
        .await
        .send_keys("Passo carrabile")
        .await
        .expect("purpose");
    b.find("#purpose")
        .await
        .send_keys("\u{E007}")
        .await
        .expect("grant");
    // The page before the form was sent has `#sharing` too: wait for the consent itself.
    b.find("form[action$='/revoke'] button").await;
    assert_eq!(seen_by(&app, &alfa).await, ["alfa", "beta"]);
    b.click("form[action$='/revoke'] button").await;
    b.wait_for_text("main", "Revocato").await;
    assert_eq!(
        seen_by(&app, &alfa).await,
        ["alfa"],
        "revoked: beta's record is gone"
    );

    // Who looked, delegations, contacts: each page renders and passes axe.
    for (path, name) in [
        ("/", "home"),
        ("/requests", "requests"),
        ("/access-log", "access-log"),
        ("/delegations", "delegations"),
        ("/profile", "profile"),
        ("/erasure", "erasure"),
        ("/restrictions", "restrictions"),
        ("/no-such-page", "not-found"),
    ] {
        b.goto(&app.url(path)).await;
        b.check_page(name).await;
        if path == "/erasure" {
            assert!(b.text("main h1").await.contains("Cancellazione"));
        }
        if path == "/restrictions" {
            assert!(b.text("main h1").await.contains("Limitazione"));
        }
    }
    assert!(b.text("main").await.contains("Pagina non trovata"));

    // The download of everything, with the request in it.
    let export: Value = b
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             fetch('/my-data.json').then(r => r.json()).then(done, e => done(String(e)));",
            vec![],
        )
        .await
        .expect("export");
    assert!(export.to_string().contains("AB123CD"), "{export}");

    // English, chosen once, kept.
    b.click("form[action='/language'] button").await;
    b.find("main h1").await;
    assert!(b.text("nav").await.contains("My requests"));
    b.check_page("home-en").await;
    b.close().await;
}

/// The forms without JavaScript: a dev session, the form token, another site's form, and
/// another citizen's request.
#[rstest]
#[case::sqlite(Sqlite)]
#[case::postgres(Postgres)]
#[tokio::test]
async fn forms_need_their_token_and_requests_stay_their_citizens(#[case] backend: Backend) {
    let app = TestApp::spawn(backend).await;
    bodies(&app).await;
    let mario = signed_in(&app, MARIO, "/").await.0;
    let form = mario
        .get(app.url("/services/alfa/PASSO/request"))
        .send()
        .await
        .expect("form");
    assert_eq!(form.status(), 200);
    let csrf = form_token(&form.text().await.expect("html"));
    let file = |csrf: &str| {
        reqwest::multipart::Form::new()
            .text("csrf", csrf.to_owned())
            .text("title", "Passo")
            .text("cf.plate", "AB123CD")
            .text("privacy", "portal")
            .text("given_name", "Mario")
            .text("family_name", "Rossi")
    };

    let forged = mario
        .post(app.url("/services/alfa/PASSO/request"))
        .multipart(file("not-the-token"))
        .send()
        .await
        .expect("forged");
    assert_eq!(forged.status(), 403, "a form without this browser's token");
    let elsewhere = mario
        .post(app.url("/services/alfa/PASSO/request"))
        .header("origin", "https://evil.example")
        .multipart(file(&csrf))
        .send()
        .await
        .expect("cross-site");
    assert_eq!(elsewhere.status(), 403, "a form from another site");
    let filed = mario
        .post(app.url("/services/alfa/PASSO/request"))
        .multipart(file(&csrf))
        .send()
        .await
        .expect("filed");
    assert_eq!(filed.status(), 303);
    let at = filed.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    let id = at
        .trim_start_matches("/requests/")
        .split('?')
        .next()
        .expect("id")
        .to_owned();
    assert_eq!(
        mario
            .get(app.url(&format!("/requests/{id}")))
            .send()
            .await
            .expect("mine")
            .status(),
        200
    );

    // Another citizen: not theirs to see, reply to or attach to.
    let laura = signed_in(&app, "BNCLRA90D45F205B", "/").await.0;
    let theirs = laura
        .get(app.url(&format!("/requests/{id}")))
        .send()
        .await
        .expect("theirs");
    assert_eq!(theirs.status(), 404);
    let page = laura
        .get(app.url("/"))
        .send()
        .await
        .expect("home")
        .text()
        .await
        .expect("html");
    let reply = laura
        .post(app.url(&format!("/requests/{id}/reply")))
        .form(&[("csrf", form_token(&page)), ("text", "ciao".into())])
        .send()
        .await
        .expect("reply");
    assert_eq!(reply.status(), 404);
    assert!(
        !laura
            .get(app.url("/requests"))
            .send()
            .await
            .expect("list")
            .text()
            .await
            .expect("html")
            .contains("AB123CD")
    );

    // Signed out: the session is over on the server too.
    let page = mario
        .get(app.url("/"))
        .send()
        .await
        .expect("home")
        .text()
        .await
        .expect("html");
    let out = mario
        .post(app.url("/sign-out"))
        .form(&[("csrf", form_token(&page))])
        .send()
        .await
        .expect("sign out");
    assert_eq!(out.status(), 303);
    let after = mario.get(app.url("/requests")).send().await.expect("after");
    assert_eq!(after.status(), 303);
    assert!(
        after.headers()["location"]
            .to_str()
            .expect("location")
            .starts_with("/sign-in")
    );

    // Pages are not cached, run only this site's scripts, and assets are.
    let home = reqwest::get(app.url("/")).await.expect("home");
    assert_eq!(home.headers()["cache-control"], "no-store");
    let csp = home.headers()["content-security-policy"]
        .to_str()
        .expect("csp")
        .to_owned();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    let html = home.text().await.expect("html");
    let css = html
        .split("href=\"")
        .find(|s| s.starts_with("/static/"))
        .and_then(|s| s.split('"').next())
        .expect("css");
    let asset = app
        .client
        .get(app.url(css))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .expect("css");
    assert_eq!(
        asset.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(asset.headers()["content-encoding"], "gzip");
}

/// The live status stream of a page ends when the browser's session does, and the sign-in
/// refuses a return path a browser would read as another site.
#[rstest]
#[case::sqlite(Sqlite)]
#[case::postgres(Postgres)]
#[tokio::test]
async fn the_live_stream_ends_with_the_session(#[case] backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (c, home) = signed_in(&app, MARIO, "/\t/evil.example").await;
    assert_eq!(home, "/", "not another site");

    // Two seconds before the session's eight hours are over.
    app.clock
        .advance(chrono::Duration::hours(8) - chrono::Duration::seconds(2));
    let live = c.get(app.url("/requests/live")).send().await.expect("live");
    assert_eq!(live.status(), 200);
    assert_eq!(live.headers()["content-type"], "text/event-stream");
    let ended = tokio::time::timeout(std::time::Duration::from_secs(15), live.bytes()).await;
    assert!(ended.is_ok(), "the stream outlived the session");
}

/// Signing out in one tab ends the live stream another tab holds open.
#[rstest]
#[case::sqlite(Sqlite)]
#[tokio::test]
async fn signing_out_ends_the_stream_of_another_tab(#[case] backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (c, _) = signed_in(&app, MARIO, "/").await;
    let live = c.get(app.url("/requests/live")).send().await.expect("live");
    assert_eq!(live.status(), 200);
    let home = c
        .get(app.url("/"))
        .send()
        .await
        .expect("home")
        .text()
        .await
        .expect("html");
    let out = c
        .post(app.url("/sign-out"))
        .form(&[("csrf", form_token(&home).as_str())])
        .send()
        .await
        .expect("sign out");
    assert_eq!(out.status(), 303);
    let ended = tokio::time::timeout(std::time::Duration::from_secs(25), live.bytes()).await;
    assert!(
        ended.is_ok(),
        "the other tab's stream outlived the sign-out"
    );
}
