//! Attachments: a citizen and an operator attach files to a case; the content decides the
//! type and the body the size; the bytes live in a content-addressed store (a directory,
//! or a real S3-compatible server) under the tenant's key; a download is authorized like
//! the case, and another body or another citizen finds nothing.

use std::path::{Path, PathBuf};

use civitas_tenants::Role;
use rstest::rstest;
use serde_json::{Value, json};

use crate::harness::*;
use crate::s3::{BUCKET, S3Server};

const MARIO: &str = "RSSMRA85T10A562S";
const LAURA: &str = "BNCLRA90D45F205B";
const PDF: &[u8] =
    b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
pub const PNG: &[u8] = &[
    0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0, 0,
    1, 0, 0, 0, 1, 8, 6, 0, 0, 0,
];
const ATTACHMENTS: &str = "query($id: ID!) { case(id: $id) { attachments(first: 10) { edges { node { fileName mediaType size sha256 downloadUrl uploadedBy } } } } }";

fn sha256(b: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, b)
        .as_ref()
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

/// Roma with a service and an operator, Mario registered there with a case; returns the
/// operator's token, the case's id and Roma's tenant id.
async fn roma_case(app: &TestApp) -> (String, String, String) {
    app.onboard("roma").await;
    let admin = app.admin_of("roma");
    let svc = app.gql(&admin, "mutation { createService(input: { code: \"CERT\", name: \"Certificato\", area: \"Anagrafe\" }) { code } }", json!({})).await;
    assert_no_errors(&svc);
    let op = app.member("roma", "roma-op", Role::Operator).await;
    let p = app.register(&op, Some(MARIO), "Mario", "Rossi", &[]).await;
    let c = app
        .gql(
            &op,
            "mutation($p: ID) { createCase(input: { serviceCode: \"CERT\", title: \"Residenza\", personId: $p }) { id tenant { id } } }",
            json!({ "p": p["personId"] }),
        )
        .await;
    assert_no_errors(&c);
    let c = &c["data"]["createCase"];
    (
        op,
        c["id"].as_str().expect("id").to_owned(),
        c["tenant"]["id"].as_str().expect("tenant").to_owned(),
    )
}

/// Posts `bytes` as `name` to case `case` with `token`; the status and the JSON answer.
pub async fn upload(
    app: &TestApp,
    token: Option<&str>,
    case: &str,
    name: &str,
    bytes: &[u8],
) -> (u16, Value) {
    let form = reqwest::multipart::Form::new()
        .text("case", case.to_owned())
        .part(
            "file",
            reqwest::multipart::Part::bytes(bytes.to_vec()).file_name(name.to_owned()),
        );
    let mut req = app.client.post(app.url("/attachments")).multipart(form);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.expect("upload");
    let status = r.status().as_u16();
    (status, r.json().await.expect("a JSON answer"))
}

async fn download(
    app: &TestApp,
    token: &str,
    url: &str,
) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let r = app
        .client
        .get(app.url(url))
        .bearer_auth(token)
        .send()
        .await
        .expect("download");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.bytes().await.expect("bytes").to_vec())
}

fn code(v: &Value) -> &str {
    v["errors"][0]["extensions"]["code"].as_str().unwrap_or("")
}

/// Every file under `dir`, recursively.
pub(crate) fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![];
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[rstest]
#[tokio::test]
async fn files_are_checked_stored_by_content_and_read_as_their_case(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let (op, case, roma_id) = roma_case(&app).await;
    let store = app.data_dir.join("attachments");

    // The operator attaches a PDF: the content names the type.
    let (status, a) = upload(&app, Some(&op), &case, "domanda.pdf", PDF).await;
    assert_eq!(status, 201, "{a}");
    assert_eq!(a["mediaType"], "application/pdf");
    assert_eq!(a["size"], PDF.len());
    assert_eq!(a["sha256"], sha256(PDF));
    assert_eq!(a["caseId"], case.as_str());
    // Content-addressed, the tenant first in the key.
    let sha = sha256(PDF);
    let path = store.join(&roma_id).join(&sha[..2]).join(&sha);
    assert_eq!(std::fs::read(&path).expect("stored on disk"), PDF);

    let listed = app.gql(&op, ATTACHMENTS, json!({ "id": case })).await;
    assert_no_errors(&listed);
    let nodes_ = nodes(&listed["data"]["case"]["attachments"]);
    assert_eq!(nodes_.len(), 1);
    let url = nodes_[0]["downloadUrl"].as_str().expect("url").to_owned();
    let (status, headers, bytes) = download(&app, &op, &url).await;
    assert_eq!((status, bytes.as_slice()), (200, PDF));
    assert_eq!(headers["content-type"], "application/pdf");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(
        headers["content-disposition"],
        "attachment; filename=\"domanda.pdf\"; filename*=UTF-8''domanda.pdf"
    );

    // Mario, whose case it is, reads it with no tenant named, and attaches a picture named
    // as a PDF: it is stored as what it is.
    let mario = app.citizen(MARIO);
    let (status, _, bytes) = download(&app, &mario, &url).await;
    assert_eq!((status, bytes.as_slice()), (200, PDF));
    let (status, b) = upload(&app, Some(&mario), &case, "foto.pdf", PNG).await;
    assert_eq!(status, 201, "{b}");
    assert_eq!(b["mediaType"], "image/png");
    assert!(
        b["uploadedBy"]
            .as_str()
            .is_some_and(|u| u.ends_with(&format!("spid-{MARIO}")))
    );
    let mine = app
        .gql(&mario, "{ me { citizen { cases { attachments { edges { node { fileName mediaType } } } } } } }", json!({}))
        .await;
    assert_no_errors(&mine);
    assert_eq!(
        nodes(&mine["data"]["me"]["citizen"]["cases"][0]["attachments"]),
        [
            json!({ "fileName": "domanda.pdf", "mediaType": "application/pdf" }),
            json!({ "fileName": "foto.pdf", "mediaType": "image/png" })
        ]
    );

    // Pages of one case's files (read in one batch for every case of the response).
    let paged = "query($a: String) { me { citizen { cases { attachments(first: 1, after: $a) { edges { cursor node { fileName } } pageInfo { hasNextPage } } } } } }";
    let first_page = app.gql(&mario, paged, json!({ "a": null })).await;
    assert_no_errors(&first_page);
    let conn = &first_page["data"]["me"]["citizen"]["cases"][0]["attachments"];
    assert_eq!(conn["edges"][0]["node"]["fileName"], "domanda.pdf");
    assert_eq!(conn["pageInfo"]["hasNextPage"], true);
    let next = app
        .gql(&mario, paged, json!({ "a": conn["edges"][0]["cursor"] }))
        .await;
    let conn = &next["data"]["me"]["citizen"]["cases"][0]["attachments"];
    assert_eq!(conn["edges"][0]["node"]["fileName"], "foto.pdf", "{next}");
    assert_eq!(conn["pageInfo"]["hasNextPage"], false);

    let export = app.gql(&mario, "{ exportMyData }", json!({})).await;
    let exported = &export["data"]["exportMyData"]["data"]["attachments"];
    assert_eq!(exported.as_array().map(Vec::len), Some(2), "{export}");
    assert_eq!(exported[0]["sha256"], sha256(PDF));

    // Another body's operator and another citizen find nothing, and can attach nothing.
    app.onboard("ama").await;
    let ama = app.member("ama", "ama-op", Role::Operator).await;
    app.register(&ama, Some(LAURA), "Laura", "Bianchi", &[])
        .await;
    let laura = app.citizen(LAURA);
    for stranger in [&ama, &laura] {
        let (status, _, _) = download(&app, stranger, &url).await;
        assert_eq!(status, 404);
        let (status, e) = upload(&app, Some(stranger), &case, "x.pdf", PDF).await;
        assert_eq!((status, code(&e)), (404, "NOT_FOUND"), "{e}");
    }
    let (status, e) = upload(&app, None, &case, "x.pdf", PDF).await;
    assert_eq!((status, code(&e)), (401, "UNAUTHENTICATED"), "{e}");

    // Bad files: VALIDATION naming the field, nothing written.
    let before = files(&store).len();
    let admin = app.admin_of("roma");
    let set = app
        .gql(&admin, "mutation { updateTenantSettings(settings: { attachments: { maxBytes: 64 } }) { settings } }", json!({}))
        .await;
    assert_no_errors(&set);
    let mut big = PDF.to_vec();
    big.extend(std::iter::repeat_n(b' ', 100));
    for (name, bytes) in [
        ("grande.pdf", big.as_slice()),
        (
            "pagina.pdf",
            b"<html><script>alert(1)</script></html>".as_slice(),
        ),
        ("vuoto.pdf", b"".as_slice()),
    ] {
        let (status, e) = upload(&app, Some(&op), &case, name, bytes).await;
        assert_eq!((status, code(&e)), (400, "VALIDATION"), "{name}: {e}");
        assert!(
            e["errors"][0]["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("file:")),
            "{e}"
        );
    }
    assert_eq!(files(&store).len(), before);
    let listed = app.gql(&op, ATTACHMENTS, json!({ "id": case })).await;
    assert_eq!(nodes(&listed["data"]["case"]["attachments"]).len(), 2);
    // A body's limit above the platform's is refused.
    let over = app
        .gql(&admin, "mutation { updateTenantSettings(settings: { attachments: { maxBytes: 1073741824 } }) { settings } }", json!({}))
        .await;
    assert_eq!(code(&over), "VALIDATION", "{over}");
}

#[rstest]
#[tokio::test]
async fn files_go_to_an_s3_compatible_store(#[values(Sqlite, Postgres)] backend: Backend) {
    let s3 = S3Server::start().await;
    let endpoint = s3.endpoint();
    let app = TestApp::spawn_with(backend, |c| {
        c.attachment_store = civitas::config::AttachmentStore::S3(civitas::config::S3Store {
            endpoint,
            bucket: BUCKET.into(),
            region: "eu-south-1".into(),
            prefix: "attachments/".into(),
            path_style: true,
            access_key_id: "civitas-test".into(),
            secret_access_key: "civitas-test-secret".into(),
        });
    })
    .await;
    let (op, case, roma_id) = roma_case(&app).await;
    let (status, a) = upload(&app, Some(&op), &case, "domanda.pdf", PDF).await;
    assert_eq!(status, 201, "{a}");
    let key = format!("attachments/{roma_id}/{}", sha256(PDF));
    let credentials = ("civitas-test", "civitas-test-secret");
    assert_eq!(s3.object(&key, credentials).await.as_deref(), Some(PDF));
    let other = format!("attachments/{}/{}", uuid::Uuid::nil(), sha256(PDF));
    assert_eq!(s3.object(&other, credentials).await, None);
    assert!(files(&app.data_dir.join("attachments")).is_empty());
    let url = a["downloadUrl"].as_str().expect("url");
    let (status, _, bytes) = download(&app, &app.citizen(MARIO), url).await;
    assert_eq!((status, bytes.as_slice()), (200, PDF));
}
