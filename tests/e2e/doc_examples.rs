//! Every GraphQL example in README.md and docs/ runs on the demo data, as the caller it is
//! written for, without an error: a reader who copies one gets what the page promises.
//!
//! In docs/, each ```graphql block opens with `# as <who>`: `<subject> in <body>` (a demo
//! member), `citizen <codice fiscale>`, or `platform admin [in <body>]`. A block may hold
//! several operations, run in order; a `"…"` id (after `id:`, `personId:`…) stands for the
//! last `id` (or `personId`) an earlier example of the same page answered. In the
//! README, each `curl` runs its `-d` body with the token its `dev token` line mints.

use std::path::{Path, PathBuf};
use std::time::Duration;

use civitas_tenants::Role;
use rstest::rstest;
use serde_json::{Value, json};

use crate::harness::*;

#[derive(Debug)]
enum Who {
    Member { subject: String, tenant: String },
    Citizen(String),
    PlatformAdmin(Option<String>),
}

#[derive(Debug)]
struct Example {
    place: String,
    who: Who,
    operations: Vec<String>,
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace")
        .to_path_buf()
}

fn who(line: &str, place: &str) -> Who {
    let Some(rest) = line.trim().strip_prefix("# as ") else {
        panic!("{place}: a graphql block must open with `# as <who>`, not {line:?}");
    };
    if let Some(fc) = rest.strip_prefix("citizen ") {
        return Who::Citizen(fc.trim().to_owned());
    }
    if let Some(p) = rest.strip_prefix("platform admin") {
        let tenant = p.trim().strip_prefix("in ").map(|t| t.trim().to_owned());
        return Who::PlatformAdmin(tenant);
    }
    let (subject, tenant) = rest
        .split_once(" in ")
        .unwrap_or_else(|| panic!("{place}: `# as <subject> in <body>`, not {line:?}"));
    Who::Member {
        subject: subject.trim().to_owned(),
        tenant: tenant.trim().to_owned(),
    }
}

/// The operations of a block: each starts at a line that opens one at the margin.
fn operations(lines: &[&str]) -> Vec<String> {
    let mut ops: Vec<String> = Vec::new();
    for line in lines {
        let opens = ["query", "mutation", "subscription", "{"]
            .iter()
            .any(|k| line.trim_start().starts_with(k));
        if opens || ops.is_empty() {
            ops.push(String::new());
        }
        if let Some(op) = ops.last_mut() {
            op.push_str(line);
            op.push('\n');
        }
    }
    ops.retain(|o| !o.trim().is_empty());
    ops
}

/// The graphql blocks of one page.
fn blocks_of(path: &Path) -> Vec<Example> {
    let text = std::fs::read_to_string(path).expect("page");
    let name = path
        .file_name()
        .expect("name")
        .to_string_lossy()
        .to_string();
    let mut found = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim() == "```graphql" {
            let start = i + 1;
            let mut end = start;
            while end < lines.len() && lines[end].trim() != "```" {
                end += 1;
            }
            let place = format!("{name}:{}", i + 1);
            let who = who(lines.get(start).copied().unwrap_or(""), &place);
            found.push(Example {
                operations: operations(&lines[start + 1..end]),
                place,
                who,
            });
            i = end;
        }
        i += 1;
    }
    found
}

/// The README's curl examples: the `dev token` flags of the token each uses, and its body.
fn readme_examples() -> Vec<Example> {
    let text = std::fs::read_to_string(root().join("README.md")).expect("README");
    let mut tokens: std::collections::HashMap<String, Who> = Default::default();
    let mut found = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let place = format!("README.md:{}", n + 1);
        if let Some((var, cmd)) = line.split_once("=$(cargo run")
            && cmd.contains("dev token")
        {
            let flag = |f: &str| {
                cmd.split_whitespace()
                    .skip_while(|w| *w != f)
                    .nth(1)
                    .map(|v| v.trim_end_matches(')').to_owned())
            };
            let who = if let Some(fc) = flag("--fiscal-code") {
                Who::Citizen(fc)
            } else if flag("--roles").as_deref() == Some("platform_admin") {
                Who::PlatformAdmin(flag("--tenant"))
            } else {
                Who::Member {
                    subject: flag("--subject").expect("--subject"),
                    tenant: flag("--tenant").expect("--tenant"),
                }
            };
            tokens.insert(var.trim().to_owned(), who);
        }
        if let Some(body) = line.trim().strip_prefix("-d '") {
            let body: Value =
                serde_json::from_str(body.trim_end_matches('\'')).expect("a JSON body");
            let var = tokens
                .keys()
                .find(|v| {
                    text.lines()
                        .nth(n - 1)
                        .is_some_and(|l| l.contains(&format!("${v}")))
                })
                .or_else(|| {
                    tokens.keys().find(|v| {
                        text.lines()
                            .nth(n - 2)
                            .is_some_and(|l| l.contains(&format!("${v}")))
                    })
                })
                .cloned()
                .unwrap_or_else(|| panic!("{place}: no token for this curl"));
            let who = tokens.remove(&var).expect("token");
            found.push(Example {
                place,
                who,
                operations: vec![body["query"].as_str().expect("query").to_owned()],
            });
        }
    }
    found
}

fn token(app: &TestApp, who: &Who) -> (String, Option<String>) {
    match who {
        Who::Member { subject, tenant } => (app.token(subject, Some(tenant), &[]), None),
        Who::Citizen(fc) => (app.citizen(fc), None),
        Who::PlatformAdmin(tenant) => (
            app.token("platform-admin", None, &[Role::PlatformAdmin]),
            tenant.clone(),
        ),
    }
}

/// The last value of `key` anywhere in `v`, depth first.
fn last_of(v: &Value, key: &str, out: &mut Option<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if k == key
                    && let Some(s) = x.as_str()
                {
                    *out = Some(s.to_owned());
                }
                last_of(x, key, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| last_of(x, key, out)),
        _ => {}
    }
}

fn fill(op: &str, last_id: &Option<String>, last_person: &Option<String>, place: &str) -> String {
    let mut out = String::new();
    let mut rest = op;
    for placeholder in ["\"…\"", "\"...\""] {
        if !rest.contains(placeholder) {
            continue;
        }
        let mut s = String::new();
        for (i, part) in rest.split(placeholder).enumerate() {
            if i > 0 {
                let before = s.trim_end();
                if !before.to_lowercase().ends_with("id:") {
                    // Not an id: a value the reader supplies (a secret), kept as written.
                    s.push_str(placeholder);
                    s.push_str(part);
                    continue;
                }
                let value = if before.ends_with("personId:") {
                    last_person
                } else {
                    last_id
                };
                let value = value
                    .as_ref()
                    .unwrap_or_else(|| panic!("{place}: no earlier answer gives this id"));
                s.push_str(&format!("\"{value}\""));
            }
            s.push_str(part);
        }
        out = s;
        rest = &out;
    }
    if out.is_empty() { op.to_owned() } else { out }
}

async fn run(app: &TestApp, page: &[Example]) -> usize {
    let (mut last_id, mut last_person) = (None, None);
    let mut ran = 0;
    for ex in page {
        let (token, tenant) = token(app, &ex.who);
        for op in &ex.operations {
            let op = fill(op, &last_id, &last_person, &ex.place);
            if op.trim_start().starts_with("subscription") {
                let mut ws = crate::realtime::subscribe(app.addr, &token, &op).await;
                let first = crate::realtime::next(&mut ws, Duration::from_millis(500)).await;
                assert!(
                    first.as_ref().is_none_or(|m| m["type"] == "next"),
                    "{}: {op}\n{first:?}",
                    ex.place
                );
                ran += 1;
                continue;
            }
            let (_, body) = app
                .post(Some(&token), tenant.as_deref(), &op, json!({}))
                .await;
            assert!(
                body.get("errors").is_none(),
                "{} as {:?}:\n{op}\n{body}",
                ex.place,
                ex.who
            );
            last_of(&body, "id", &mut last_id);
            last_of(&body, "personId", &mut last_person);
            ran += 1;
        }
    }
    ran
}

#[rstest]
#[tokio::test]
async fn every_graphql_example_in_the_docs_runs_on_the_demo_data(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let mut pages: Vec<Vec<Example>> = vec![readme_examples()];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .expect("docs")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    docs.sort();
    pages.extend(docs.iter().map(|p| blocks_of(p)));
    let mut ran = 0;
    // A fresh demo data set per page: the pages do not depend on each other.
    for page in pages.iter().filter(|p| !p.is_empty()) {
        let app = TestApp::spawn_with(backend, |c| c.demo = true).await;
        ran += run(&app, page).await;
    }
    assert!(ran >= 35, "only {ran} examples found");
}
