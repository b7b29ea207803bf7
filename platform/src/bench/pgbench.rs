//! PostgreSQL's own limit for a scenario: pgbench running the statements the server sends
//! for one request of it (captured with `log_statement = all`), as the application role
//! with row-level security on, prepared, one transaction per request as the server does.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Serialize;

use super::RunArgs;
use super::layout::Layout;
use super::scenarios::{PUSHES_PER_REQUEST, Scenario};

#[derive(Clone, Debug, Serialize)]
pub struct PgbenchResult {
    pub transactions: u64,
    pub tps: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
}

/// `(script, weight)` pairs of a scenario.
fn scripts(scenario: Scenario) -> Vec<(&'static str, Cow<'static, str>, u32)> {
    use super::sql;
    let script = |name, text: &'static str, weight| (name, Cow::Borrowed(text), weight);
    match scenario {
        Scenario::CitizenView => vec![("citizen_view", Cow::Owned(sql::citizen_view()), 1)],
        Scenario::OwnCases => vec![script("own_cases", sql::OWN_CASES, 1)],
        // A routed report is, in the database, the case its body opens.
        Scenario::CreateCase | Scenario::Open311Report => {
            vec![script("create_case", sql::CREATE_CASE, 1)]
        }
        Scenario::UpsertBulk => {
            // One body's pushes, as many as one request of the driver carries.
            let pushes = sql::UPSERT_PUSH.repeat(PUSHES_PER_REQUEST);
            let text = format!("\\set t random(0, :tenants - 1)\n{pushes}");
            vec![("upsert_bulk", Cow::Owned(text), 1)]
        }
        Scenario::CatalogueSearch => vec![script("catalogue_search", sql::CATALOGUE_SEARCH, 1)],
        Scenario::AttachmentDownload => {
            vec![script("attachment_download", sql::ATTACHMENT_DOWNLOAD, 1)]
        }
        Scenario::PortalHome => vec![script("portal_home", sql::PORTAL_HOME, 1)],
        Scenario::ContactCentre => vec![
            ("citizen_view", Cow::Owned(sql::citizen_view()), 50),
            script("search", sql::SEARCH, 20),
            script("record", sql::RECORD, 15),
            script("case_list", sql::CASE_LIST, 10),
            script("create_case", sql::CREATE_CASE, 5),
        ],
    }
}

fn pgbench_binary() -> PathBuf {
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join("pgbench").exists()))
        .unwrap_or(false);
    if on_path {
        return PathBuf::from("pgbench");
    }
    std::fs::read_dir("/usr/lib/postgresql")
        .ok()
        .and_then(|dirs| {
            dirs.flatten()
                .map(|d| d.path().join("bin/pgbench"))
                .find(|p| p.exists())
        })
        .unwrap_or_else(|| PathBuf::from("pgbench"))
}

/// Runs pgbench for the scenario against `app_url` (the server's own database URL, so the
/// same role and the same policies).
pub async fn run(
    app_url: &str,
    scenario: Scenario,
    layout: &Layout,
    args: &RunArgs,
) -> anyhow::Result<PgbenchResult> {
    let dir = tempfile_dir()?;
    let mut cmd = tokio::process::Command::new(pgbench_binary());
    cmd.arg("--no-vacuum")
        .args(["--protocol", "prepared"])
        .args(["--client", &args.clients.to_string()])
        .args(["--jobs", "2"])
        .args([
            "--time",
            &format!("{}", args.seconds.ceil().max(1.0) as u64),
        ])
        .arg("--log")
        .arg(format!("--log-prefix={}", dir.join("tx").display()))
        .arg(format!("--random-seed={}", args.seed));
    for (name, value) in [
        ("persons", layout.persons),
        ("tenants", u64::from(layout.tenants)),
        ("kk", u64::from(layout.profiles_per_person())),
        ("stride", layout.stride()),
        ("every", layout.consent_every()),
        ("consents", layout.consents),
    ] {
        cmd.args(["--define", &format!("{name}={value}")]);
    }
    cmd.args([
        "--define",
        &format!("source={}", super::scenarios::source_name(args.seed)),
    ]);
    for (name, text, weight) in scripts(scenario) {
        let path = dir.join(format!("{name}.sql"));
        std::fs::write(&path, text.as_ref())?;
        cmd.args(["--file", &format!("{}@{weight}", path.display())]);
    }
    // The settings the server's connections start with (Db::connect): the baseline runs
    // the same statements under the same planner.
    cmd.env("PGOPTIONS", "-c jit=off");
    cmd.arg(app_url).current_dir(&dir);
    let out = cmd
        .output()
        .await
        .context("running pgbench (install PostgreSQL's client tools)")?;
    if !out.status.success() {
        bail!(
            "pgbench failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let tps = stdout
        .lines()
        .find_map(|l| l.strip_prefix("tps = "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse::<f64>().ok())
        .context("pgbench printed no tps")?;
    let mut latencies = read_logs(&dir)?;
    let _ = std::fs::remove_dir_all(&dir);
    latencies.sort_unstable();
    let pct = |q: f64| super::driver::percentile_ms(&latencies, q);
    Ok(PgbenchResult {
        transactions: latencies.len() as u64,
        tps,
        p50_ms: pct(0.50),
        p95_ms: pct(0.95),
        p99_ms: pct(0.99),
    })
}

fn tempfile_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("civitas-pgbench-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// Per-transaction latencies (µs) from pgbench's logs: `client tx latency script epoch us`.
fn read_logs(dir: &Path) -> anyhow::Result<Vec<u32>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)?.flatten() {
        if !entry.file_name().to_string_lossy().starts_with("tx") {
            continue;
        }
        for line in std::fs::read_to_string(entry.path())?.lines() {
            if let Some(us) = line
                .split_whitespace()
                .nth(2)
                .and_then(|v| v.parse::<u32>().ok())
            {
                out.push(us);
            }
        }
    }
    Ok(out)
}
