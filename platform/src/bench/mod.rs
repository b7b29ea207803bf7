//! `civitas bench`: the data generator, the load driver and its PostgreSQL baseline.
//! See docs/performance.md for how to run it and what it measured here.

pub mod drain;
pub mod driver;
pub mod fairness;
pub mod generate;
pub mod layout;
pub mod pgbench;
pub mod places;
pub mod portal;
pub mod scenarios;
mod sql;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use serde::Serialize;

use crate::config::Config;
use crate::dev_issuer::DevIssuer;
use driver::{LoadOptions, LoadResult};
use layout::Layout;
use scenarios::{Scenario, Tokens};

#[derive(clap::Subcommand, Clone, Debug)]
pub enum BenchCommand {
    /// Load a generated data set into an empty PostgreSQL database (as the schema owner).
    Generate {
        /// The reference size (100 bodies, 1M persons, 3M profiles, 10M cases, 200k
        /// consents) times this factor.
        #[arg(long, default_value_t = 1.0)]
        scale: f64,
        #[arg(long)]
        tenants: Option<u32>,
        #[arg(long)]
        persons: Option<u64>,
        #[arg(long)]
        cases: Option<u64>,
        #[arg(long)]
        consents: Option<u64>,
    },
    /// Run scenarios against a server started with `serve --dev` on the generated data.
    Run(RunArgs),
    /// Flood from one body while the others run the citizen view; compare with no flood.
    Fairness(FairnessArgs),
    /// Queue many e-mails of one body and time their drain to an SMTP sink, while the
    /// others run the citizen view.
    Drain(drain::DrainArgs),
    /// Give a generated data set (made before places existed) its city geography: the
    /// capital's municipi, their areas and the capital's Open311 key.
    Places,
    /// Route reports sent to the generated capital, in process, and report the cost of
    /// one routing in microseconds.
    Route {
        #[arg(long, default_value_t = 2_000)]
        reports: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

#[derive(clap::Args, Clone, Debug)]
pub struct RunArgs {
    /// Scenarios to run (default: all).
    #[arg(long, value_enum, value_delimiter = ',')]
    pub scenario: Vec<Scenario>,
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub url: String,
    #[arg(long, default_value_t = 32)]
    pub clients: usize,
    #[arg(long, default_value_t = 20.0)]
    pub seconds: f64,
    #[arg(long, default_value_t = 5.0)]
    pub warmup: f64,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Also run pgbench with the scenario's SQL as the application role (the database URL).
    #[arg(long)]
    pub pgbench: bool,
    /// Append each result as a JSON line to this file.
    #[arg(long)]
    pub json: Option<std::path::PathBuf>,
}

#[derive(clap::Args, Clone, Debug)]
pub struct FairnessArgs {
    #[command(flatten)]
    pub run: RunArgs,
    /// Clients of the flooding body, each sending as soon as it is answered.
    #[arg(long, default_value_t = 32)]
    pub flood_clients: usize,
    /// The flooding body's rate limit (requests/s, also its burst), set for the run through
    /// the platform administrator's `updateTenantSettings`.
    #[arg(long, default_value_t = 100.0)]
    pub flood_limit: f64,
}

/// One scenario's figures, and PostgreSQL's own for the same SQL when measured.
#[derive(Debug, Serialize)]
pub struct Outcome {
    pub scenario: String,
    pub clients: usize,
    pub layout: Layout,
    pub server: LoadResult,
    pub pgbench: Option<pgbench::PgbenchResult>,
    /// Server throughput over pgbench's.
    pub ratio: Option<f64>,
}

pub async fn command(config: &Config, cmd: BenchCommand) -> anyhow::Result<()> {
    match cmd {
        BenchCommand::Generate {
            scale,
            tenants,
            persons,
            cases,
            consents,
        } => {
            let base = Layout::scaled(scale);
            let layout = Layout {
                tenants: tenants.unwrap_or(base.tenants),
                persons: persons.unwrap_or(base.persons),
                cases: cases.unwrap_or(base.cases),
                consents: consents.unwrap_or(base.consents),
                ..base
            };
            let owner = config
                .migration_database_url
                .as_ref()
                .unwrap_or(&config.database_url);
            generate::generate(owner, &layout, &config.data_dir).await?;
            let path = layout.save(&config.data_dir)?;
            println!("data set written; manifest {}", path.display());
            Ok(())
        }
        BenchCommand::Places => {
            let layout = Layout::load(&config.data_dir)?;
            let owner = config
                .migration_database_url
                .as_ref()
                .unwrap_or(&config.database_url);
            places::set_up(owner, layout.tenants).await?;
            println!("places set up");
            Ok(())
        }
        BenchCommand::Route { reports, seed } => {
            let cost = places::route_cost(&config.database_url, reports, seed).await?;
            println!("{}", serde_json::to_string_pretty(&cost)?);
            Ok(())
        }
        BenchCommand::Run(args) => {
            for outcome in run(config, &args).await? {
                print_outcome(&outcome);
                append_json(&args, &outcome)?;
            }
            Ok(())
        }
        BenchCommand::Drain(args) => {
            let outcome = drain::run(config, &args).await?;
            println!("{}", serde_json::to_string_pretty(&outcome)?);
            if let Some(path) = &args.run.json {
                append_line(path, &serde_json::to_string(&outcome)?)?;
            }
            Ok(())
        }
        BenchCommand::Fairness(args) => {
            let outcome = fairness::run(config, &args).await?;
            println!("{}", serde_json::to_string_pretty(&outcome)?);
            if let Some(path) = &args.run.json {
                append_line(path, &serde_json::to_string(&outcome)?)?;
            }
            Ok(())
        }
    }
}

pub(crate) fn load_options(args: &RunArgs) -> LoadOptions {
    LoadOptions {
        base_url: args.url.clone(),
        clients: args.clients,
        warmup: Duration::from_secs_f64(args.warmup),
        duration: Duration::from_secs_f64(args.seconds),
        seed: args.seed,
    }
}

pub(crate) fn tokens(config: &Config, layout: &Layout, seed: u64) -> anyhow::Result<Arc<Tokens>> {
    let issuer = DevIssuer::load_or_create(&config.data_dir)
        .context("the driver signs its tokens with the server's development issuer key")?;
    Ok(Arc::new(Tokens::mint(&issuer, layout, seed)?))
}

/// Runs each requested scenario against the server, then (when asked) pgbench.
pub async fn run(config: &Config, args: &RunArgs) -> anyhow::Result<Vec<Outcome>> {
    let layout = Layout::load(&config.data_dir)?;
    let mut tokens = tokens(config, &layout, args.seed)?;
    let scenarios = if args.scenario.is_empty() {
        Scenario::ALL.to_vec()
    } else {
        args.scenario.clone()
    };
    if scenarios.contains(&Scenario::PortalHome) {
        let mut with_sessions = (*tokens).clone();
        with_sessions.sessions = portal::sessions(&args.url, &layout, args.seed).await?;
        tokens = Arc::new(with_sessions);
    }
    let mut out = Vec::new();
    for scenario in scenarios {
        let work = scenarios::workload(
            scenario,
            layout,
            tokens.clone(),
            scenarios::Bodies::All,
            args.seed,
        );
        let server = driver::run(work, &load_options(args)).await?;
        // After the server, so that the pushes pgbench replays update cases that exist.
        let pg = if args.pgbench {
            Some(pgbench::run(&config.database_url, scenario, &layout, args).await?)
        } else {
            None
        };
        let ratio = pg
            .as_ref()
            .map(|p| server.throughput / p.tps.max(f64::MIN_POSITIVE));
        out.push(Outcome {
            scenario: scenario.name().into(),
            clients: args.clients,
            layout,
            server,
            pgbench: pg,
            ratio,
        });
    }
    Ok(out)
}

fn print_outcome(o: &Outcome) {
    let s = &o.server;
    println!(
        "{:<15} clients {:>3}  {:>8.0} req/s  p50 {:>6.2} ms  p95 {:>6.2} ms  p99 {:>6.2} ms  errors {} {:?}",
        o.scenario,
        o.clients,
        s.throughput,
        s.p50_ms,
        s.p95_ms,
        s.p99_ms,
        s.error_count(),
        s.errors
    );
    if let (Some(p), Some(r)) = (&o.pgbench, o.ratio) {
        println!(
            "{:<15} pgbench      {:>8.0} tx/s   p50 {:>6.2} ms  p95 {:>6.2} ms  p99 {:>6.2} ms  server/pgbench {:.0}%",
            "",
            p.tps,
            p.p50_ms,
            p.p95_ms,
            p.p99_ms,
            r * 100.0
        );
    }
}

fn append_json(args: &RunArgs, o: &Outcome) -> anyhow::Result<()> {
    match &args.json {
        Some(path) => append_line(path, &serde_json::to_string(o)?),
        None => Ok(()),
    }
}

fn append_line(path: &std::path::Path, line: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("opening {}", path.display()))?;
    writeln!(f, "{line}")?;
    Ok(())
}
