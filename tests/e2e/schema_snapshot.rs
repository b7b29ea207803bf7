//! The SQL side of the wall in one readable file: `migrations/schema.sql` is PostgreSQL's
//! own dump of the schema after every migration (tables, indexes, row-level security
//! policies, functions such as `civitas_citizen_view`, grants to the application role).
//! This test fails when the migrations and the file disagree. To refresh the file after
//! changing a migration: `CIVITAS_UPDATE_SCHEMA=1 cargo test -p civitas --test e2e schema_snapshot`.

use std::path::Path;
use std::process::Command;

use rstest::rstest;

use crate::harness::*;

/// The dump without what changes from one database or run to the next: comments, session
/// settings, psql's `\restrict` guard lines, blank lines; the owner's name.
fn normalise(dump: &str) -> String {
    let mut out = String::new();
    for line in dump.lines() {
        let t = line.trim_end();
        if t.is_empty()
            || t.starts_with("--")
            || t.starts_with("SET ")
            || t.starts_with("SELECT pg_catalog.set_config")
            || t.starts_with("\\restrict")
            || t.starts_with("\\unrestrict")
        {
            continue;
        }
        out.push_str(t);
        out.push('\n');
    }
    out
}

#[rstest]
#[tokio::test]
async fn the_checked_in_schema_is_what_the_migrations_make() {
    let app = TestApp::spawn(Postgres).await;
    let name = &app.pg.as_ref().expect("pg").name;
    let out = Command::new("pg_dump")
        .args(["--schema-only", "--no-owner", "--schema=public", "-d"])
        .arg(pg_url("postgres", name))
        .output()
        .expect("pg_dump is needed (it comes with PostgreSQL)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let live = normalise(&String::from_utf8_lossy(&out.stdout));
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations/schema.sql");
    let header = "-- PostgreSQL's schema after every migration (pg_dump --schema-only --no-owner),\n\
                  -- normalised. Generated: see tests/e2e/schema_snapshot.rs. Do not edit.\n";
    if std::env::var_os("CIVITAS_UPDATE_SCHEMA").is_some() && std::env::var_os("CI").is_none() {
        std::fs::write(&path, format!("{header}{live}")).expect("write schema.sql");
        return;
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        normalise(&checked_in) == live,
        "migrations/schema.sql is not what the migrations make: refresh it with \
         CIVITAS_UPDATE_SCHEMA=1 cargo test -p civitas --test e2e schema_snapshot, and read the diff"
    );
}
