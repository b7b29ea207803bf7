//! `civitas`: the command line of the platform.

use std::{process::ExitCode, sync::Arc};

use anyhow::Context;
use civitas::config::{Config, GlobalArgs, ServeArgs};
use civitas::dev_issuer::{DevIssuer, TokenRequest};
use civitas::{Environment, app, telemetry};
use civitas_crm::onboarding::{self, FirstAdmin};
use civitas_policies::Authorizer;
use civitas_tenants::members::MemberProfile;
use civitas_tenants::registry::{self, NewTenant};
use civitas_tenants::{PrincipalKind, Role, TenantKind, TenantSlug};
use clap::{Parser, Subcommand};

// glibc's allocator took an eighth of the server's CPU under load (docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "civitas",
    version,
    about = "Civitas: a multi-tenant citizen relationship platform"
)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args)]
struct MigrateArgs {
    /// Roll back the newest N applied migrations instead (to run an older release on the
    /// same database); their data-bearing changes are undone too.
    #[arg(long, value_name = "N")]
    down: Option<u32>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Apply pending database migrations (as the schema owner).
    Migrate(MigrateArgs),
    /// Manage tenants.
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Print the GraphQL schema (SDL).
    Schema,
    /// Load the demo data set if it is absent.
    Demo,
    /// Development helpers (refused in production).
    #[command(subcommand)]
    Dev(DevCommand),
    /// Stored secrets: identity providers' client secrets, webhooks' signing secrets.
    #[command(subcommand)]
    Secrets(SecretsCommand),
    /// Benchmarks: generate a data set, drive load, compare with pgbench (docs/performance.md).
    #[command(subcommand)]
    Bench(civitas::bench::BenchCommand),
}

#[derive(Subcommand)]
enum TenantCommand {
    /// Onboard a new body with its default policies and first administrator.
    Onboard {
        #[arg(long)]
        slug: String,
        #[arg(long)]
        name: String,
        #[arg(long, value_parser = parse_kind)]
        kind: TenantKind,
        #[arg(long)]
        parent: Option<String>,
        /// The subject of the first tenant administrator at the body's identity provider.
        #[arg(long)]
        admin_subject: String,
        /// The issuer of that provider (the development issuer by default).
        #[arg(long, default_value = civitas::dev_issuer::ISSUER)]
        admin_issuer: String,
        #[arg(long)]
        admin_name: Option<String>,
        #[arg(long)]
        admin_email: Option<String>,
    },
    /// List every tenant.
    List,
}

#[derive(Subcommand)]
enum SecretsCommand {
    /// Print a fresh key for CIVITAS_SECRETS_KEY (base64 of 32 random bytes).
    GenerateKey,
    /// Seal again, under the current key, every secret stored in plain text or under a key
    /// listed in CIVITAS_SECRETS_OLD_KEYS (after an upgrade, and after each rotation).
    Rewrap,
}

#[derive(Subcommand)]
enum DevCommand {
    /// Print a token signed by the development issuer of this data directory.
    Token {
        #[arg(long)]
        subject: String,
        /// The tenant the token is issued for (omit for a platform administrator).
        #[arg(long)]
        tenant: Option<String>,
        /// Comma-separated roles, such as operator or tenant_admin,supervisor.
        #[arg(long, value_delimiter = ',', value_parser = parse_role)]
        roles: Vec<Role>,
        #[arg(long, value_parser = parse_principal_kind, default_value = "operator")]
        kind: PrincipalKind,
        #[arg(long)]
        name: Option<String>,
        /// A citizen's codice fiscale (sent as SPID's `fiscalNumber` claim); implies --kind citizen.
        #[arg(long)]
        fiscal_code: Option<String>,
        #[arg(long, default_value_t = 480)]
        ttl_minutes: i64,
    },
}

fn parse_kind(s: &str) -> Result<TenantKind, String> {
    s.parse().map_err(|e: civitas_tenants::Error| e.to_string())
}

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse().map_err(|e: civitas_tenants::Error| e.to_string())
}

fn parse_principal_kind(s: &str) -> Result<PrincipalKind, String> {
    match s {
        "operator" => Ok(PrincipalKind::Operator),
        "citizen" => Ok(PrincipalKind::Citizen),
        "service" => Ok(PrincipalKind::Service),
        _ => Err("kind must be operator, citizen or service".into()),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let telemetry = telemetry::init();
    let cli = Cli::parse();
    let code = match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("civitas: {e:#}");
            ExitCode::FAILURE
        }
    };
    // The exporter's HTTP client blocks: flush it off the async runtime.
    let _ = tokio::task::spawn_blocking(move || telemetry.shutdown()).await;
    code
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let serve_args = match &cli.command {
        Command::Serve(a) => a.clone(),
        _ => ServeArgs::default(),
    };
    let config = Config::resolve(&cli.global, &serve_args)?;
    match cli.command {
        Command::Serve(_) => civitas::serve(config).await,
        Command::Migrate(args) => {
            let url = config
                .migration_database_url
                .as_ref()
                .unwrap_or(&config.database_url);
            if config.is_sqlite() {
                std::fs::create_dir_all(&config.data_dir)?;
            }
            match args.down {
                Some(n) => {
                    let names = app::migrate_down(url, n).await?;
                    println!(
                        "rolled back {} migrations: {}",
                        names.len(),
                        names.join(", ")
                    );
                }
                None => {
                    app::migrate(url).await?;
                    println!("migrations applied");
                }
            }
            Ok(())
        }
        Command::Schema => {
            print!("{}", civitas_graphql::sdl());
            Ok(())
        }
        Command::Demo => {
            let db = app::connect(&config).await?;
            let authorizer = Authorizer::load(db.global().clone()).await?;
            let loaded = civitas::demo::load(&db, &authorizer).await?;
            println!(
                "{}",
                if loaded {
                    "demo data loaded"
                } else {
                    "demo data already present"
                }
            );
            Ok(())
        }
        Command::Tenant(cmd) => tenant(config, cmd).await,
        Command::Secrets(SecretsCommand::GenerateKey) => {
            println!("{}", civitas_tenants::sealed::Keyring::generate_key());
            Ok(())
        }
        Command::Secrets(SecretsCommand::Rewrap) => {
            let db = app::connect(&config).await?;
            let (providers, hooks) = app::rewrap_secrets(&db).await?;
            println!(
                "sealed under key {}: {providers} client secret(s), {hooks} webhook secret(s)",
                db.keyring().current_id()
            );
            Ok(())
        }
        Command::Bench(cmd) => civitas::bench::command(&config, cmd).await,
        Command::Dev(DevCommand::Token {
            subject,
            tenant,
            roles,
            kind,
            name,
            fiscal_code,
            ttl_minutes,
        }) => {
            if config.environment == Environment::Production {
                anyhow::bail!("development tokens cannot be minted in production");
            }
            let issuer = DevIssuer::load_or_create(&config.data_dir)?;
            let kind = if fiscal_code.is_some() {
                PrincipalKind::Citizen
            } else {
                kind
            };
            let token = issuer.mint(&TokenRequest {
                subject,
                kind,
                fiscal_code,
                name,
                tenant,
                roles,
                ttl: chrono::Duration::minutes(ttl_minutes.clamp(1, 7 * 24 * 60)),
            })?;
            println!("{token}");
            Ok(())
        }
    }
}

async fn tenant(config: Config, cmd: TenantCommand) -> anyhow::Result<()> {
    let db = app::connect(&config).await?;
    match cmd {
        TenantCommand::List => {
            for t in registry::list(&db).await? {
                println!("{}\t{}\t{}\t{}", t.slug, t.kind, t.status, t.display_name);
            }
        }
        TenantCommand::Onboard {
            slug,
            name,
            kind,
            parent,
            admin_subject,
            admin_issuer,
            admin_name,
            admin_email,
        } => {
            let authorizer = Arc::new(Authorizer::load(db.global().clone()).await?);
            let new = NewTenant {
                slug: TenantSlug::parse(&slug)?,
                display_name: name,
                kind,
                parent: parent.as_deref().map(TenantSlug::parse).transpose()?,
                settings: serde_json::json!({}),
            };
            let admin = FirstAdmin {
                identity: civitas_tenants::Identity::new(admin_issuer, admin_subject),
                profile: MemberProfile {
                    display_name: admin_name,
                    email: admin_email,
                },
            };
            let done = onboarding::onboard(
                &db,
                &authorizer,
                &civitas_tenants::Identity::new("civitas", "system:cli"),
                new,
                admin,
            )
            .await
            .context("onboarding failed; nothing was written")?;
            println!(
                "onboarded {} ({}) with administrator {}",
                done.tenant.slug, done.tenant.id, done.admin.subject
            );
        }
    }
    Ok(())
}
