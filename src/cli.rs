//! The command line: `serve`, `migrate`, `user create`, `project create`, `token create`.
//!
//! Every subcommand loads the same layered config. Output meant for scripts is the last line of
//! stdout (the DSN of `project create`, the token of `token create`); logs and errors go to stderr.

use std::io::{BufRead, Write};
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};

use crate::config::{Config, LogConfig, Overrides};
use crate::secrets::{hash_password, hash_token, random_hex};
use crate::store::{NewApiToken, NewUser, Store, StoreError};
use crate::{app, bootstrap, projects, telemetry};

/// Faultline: self-hosted error tracking that speaks the Sentry protocol.
#[derive(Debug, Parser)]
#[command(name = "faultline", version, about)]
pub struct Cli {
    /// Config file (default: config/faultline.toml if it exists).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Database URL (sqlite://… or postgres://…); overrides DATABASE_URL.
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
    /// Data directory for the embedded SQLite database.
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (applies migrations first).
    Serve {
        /// Address to listen on (overrides FAULTLINE_LISTEN).
        #[arg(long, value_name = "ADDR")]
        listen: Option<SocketAddr>,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage projects.
    #[command(subcommand)]
    Project(ProjectCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Explain how events are grouped.
    #[command(subcommand)]
    Grouping(GroupingCommand),
    /// Send realistic events to a DSN and measure (a load generator).
    Bench(BenchArgs),
}

/// Arguments of `bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// The DSN to send to.
    #[arg(long)]
    pub dsn: String,
    /// Requests in flight (closed loop); with --rate, the cap on requests in flight.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// Events per second (open loop) instead of as fast as --concurrency allows.
    #[arg(long)]
    pub rate: Option<f64>,
    /// How long to send, e.g. 30s or 2m.
    #[arg(long, value_parser = parse_duration)]
    pub duration: Option<std::time::Duration>,
    /// How many events to send.
    #[arg(long)]
    pub count: Option<u64>,
    /// Event size in KiB (5–50 realistic).
    #[arg(long, default_value_t = 8)]
    pub size_kb: usize,
    /// Distinct fingerprints (issues).
    #[arg(long, default_value_t = 50)]
    pub fingerprints: u64,
    /// Distinct users.
    #[arg(long, default_value_t = 1000)]
    pub users: u64,
    /// Platforms whose event shapes to send.
    #[arg(long, value_delimiter = ',', default_value = "python,javascript,java,go,rust")]
    pub platforms: Vec<String>,
    /// gzip request bodies.
    #[arg(long)]
    pub gzip: bool,
    /// Ask the server how many events it digested (needs --token).
    #[arg(long, requires = "token")]
    pub verify: bool,
    /// API token for --verify.
    #[arg(long)]
    pub token: Option<String>,
    /// Organization of the DSN's project, for --verify.
    #[arg(long, default_value = "default")]
    pub org: String,
    /// No progress lines on stderr.
    #[arg(long)]
    pub quiet: bool,
}

fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let (number, unit) =
        text.trim().split_at(text.trim().find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(text.len()));
    let value: f64 = number.parse().map_err(|_| format!("invalid duration {text:?}"))?;
    let secs = match unit {
        "" | "s" => value,
        "ms" => value / 1000.0,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        _ => return Err(format!("invalid duration unit in {text:?} (use ms, s, m or h)")),
    };
    Ok(std::time::Duration::from_secs_f64(secs))
}

/// `faultline grouping …`
#[derive(Debug, Subcommand)]
pub enum GroupingCommand {
    /// Print `{"hashes", "variants", "tree"}` for one event payload (normalized first, as ingest does).
    Hash(GroupingHash),
}

/// Arguments of `grouping hash`.
#[derive(Debug, Args)]
pub struct GroupingHash {
    /// Event JSON file; `-` or nothing reads standard input.
    pub file: Option<PathBuf>,
    /// Fingerprint rules (Sentry's syntax, one per line) to apply as project rules.
    #[arg(long, value_name = "FILE")]
    pub fingerprint_rules: Option<PathBuf>,
    /// Stack-trace rules (Sentry's syntax, one per line) to apply as project rules.
    #[arg(long, value_name = "FILE")]
    pub stacktrace_rules: Option<PathBuf>,
}

/// `faultline user …`
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; without --password-stdin a random password is generated and printed.
    Create(UserCreate),
}

/// Arguments of `user create`.
#[derive(Debug, Args)]
pub struct UserCreate {
    /// Login e-mail.
    #[arg(long)]
    pub email: String,
    /// Read the password from the first line of standard input.
    #[arg(long)]
    pub password_stdin: bool,
    /// Make the user an administrator.
    #[arg(long)]
    pub admin: bool,
}

/// `faultline project …`
#[derive(Debug, Subcommand)]
pub enum ProjectCommand {
    /// Create a project with a DSN key; the DSN is the last line of output.
    Create(ProjectCreate),
}

/// Arguments of `project create`.
#[derive(Debug, Args)]
pub struct ProjectCreate {
    /// Project slug (lowercase letters, digits, - and _).
    pub slug: String,
    /// Organization slug (default: the configured default organization).
    #[arg(long)]
    pub org: Option<String>,
    /// Platform, e.g. python, javascript, node, rust, java.
    #[arg(long)]
    pub platform: Option<String>,
}

/// `faultline token …`
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token for a user; the token is the last line of output.
    Create(TokenCreate),
}

/// Arguments of `token create`.
#[derive(Debug, Args)]
pub struct TokenCreate {
    /// The user the token acts as.
    #[arg(long)]
    pub email: String,
    /// Scopes (default: org:read project:read project:write project:releases event:read event:write).
    #[arg(long, value_delimiter = ',', num_args = 1..)]
    pub scopes: Vec<String>,
    /// A label for the token.
    #[arg(long, default_value = "cli")]
    pub name: String,
}

/// The scopes a token gets when none are named.
pub const DEFAULT_SCOPES: &str = "org:read project:read project:write project:releases event:read event:write";

/// Run a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let overrides = Overrides {
        config_file: cli.config,
        listen: match &cli.command {
            Command::Serve { listen } => *listen,
            _ => None,
        },
        database_url: cli.database_url,
        data_dir: cli.data_dir,
    };
    // These need neither config nor database.
    if let Command::Grouping(GroupingCommand::Hash(args)) = &cli.command {
        return grouping_hash(args);
    }
    if let Command::Bench(args) = cli.command {
        return bench(args);
    }
    let config = Config::load(&overrides)?;
    match &cli.command {
        Command::Serve { .. } => telemetry::init_logging(&config.log),
        // Admin commands keep stdout for their result and log only problems.
        _ => telemetry::init_logging(&LogConfig { level: "warn".into(), ..config.log.clone() }),
    }
    // Event processing runs on the blocking pool (ingest::endpoints); it is CPU work, so threads
    // beyond two per core only add memory (each keeps its own allocator heap) and switching, and take
    // the cores from the runtime threads and SQLite's writer that commit what was processed: on two
    // cores, 2 and 4 threads were within noise of each other and both ahead of 8 (BENCHMARKS.md).
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads((2 * cores).max(4))
        .build()
        .context("cannot start the runtime")?;
    runtime.block_on(dispatch(cli.command, config))
}

async fn dispatch(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve { .. } => app::serve(config).await,
        Command::Migrate => {
            let store = app::open_store(&config).await?;
            store.close().await;
            println!("migrations applied to {}", config.database_url());
            Ok(())
        }
        Command::User(UserCommand::Create(args)) => with_store(&config, |store| user_create(store, args)).await,
        Command::Project(ProjectCommand::Create(args)) => {
            with_store(&config, |store| project_create(store, &config, args)).await
        }
        Command::Token(TokenCommand::Create(args)) => with_store(&config, |store| token_create(store, args)).await,
        Command::Grouping(GroupingCommand::Hash(args)) => grouping_hash(&args),
        Command::Bench(args) => bench(args),
    }
}

/// Open and migrate the store, make sure the default organization exists, run `f`, close.
async fn with_store<F, Fut>(config: &Config, f: F) -> anyhow::Result<()>
where
    F: FnOnce(Store) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let store = app::open_store(config).await?;
    bootstrap::ensure_default_org(config, &store).await?;
    let result = f(store.clone()).await;
    store.close().await;
    result
}

async fn user_create(store: Store, args: UserCreate) -> anyhow::Result<()> {
    let email = args.email.trim().to_lowercase();
    if !email.contains('@') {
        bail!("{email:?} is not an e-mail address");
    }
    let (password, generated) = if args.password_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).context("cannot read the password from stdin")?;
        let password = line.trim_end_matches(['\r', '\n']).to_owned();
        if password.len() < 8 {
            bail!("the password must have at least 8 characters");
        }
        (password, false)
    } else {
        (random_hex(12), true)
    };
    let user = NewUser { email: email.clone(), password_hash: Some(hash_password(&password)?), is_admin: args.admin };
    match store.create_user(&user).await {
        Ok(_) => {}
        Err(StoreError::Conflict) => bail!("a user with e-mail {email} already exists"),
        Err(err) => return Err(err.into()),
    }
    let mut out = std::io::stdout().lock();
    writeln!(out, "created {} {email}", if args.admin { "admin" } else { "user" })?;
    if generated {
        writeln!(out, "password: {password}")?;
    }
    Ok(())
}

async fn project_create(store: Store, config: &Config, args: ProjectCreate) -> anyhow::Result<()> {
    if !projects::is_valid_slug(&args.slug) {
        bail!("invalid project slug {:?}: use 1-50 lowercase letters, digits, - or _", args.slug);
    }
    let org_slug = args.org.unwrap_or_else(|| config.default_org.clone());
    let org =
        store.find_organization(&org_slug).await?.with_context(|| format!("organization {org_slug} does not exist"))?;
    let (project, key) = projects::create_project(&store, &org, &args.slug, args.platform.as_deref())
        .await
        .map_err(|e| anyhow::anyhow!(projects::describe_create_error(&e, &org_slug, &args.slug)))?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "created project {}/{} (id {}); DSN:", org.slug, project.slug, project.id)?;
    writeln!(out, "{}", projects::dsn(&config.public_url(), &key.public_key, project.id))?;
    Ok(())
}

async fn token_create(store: Store, args: TokenCreate) -> anyhow::Result<()> {
    let email = args.email.trim().to_lowercase();
    let (user, _) =
        store.find_user_credentials(&email).await?.with_context(|| format!("no user with e-mail {email}"))?;
    let scopes = if args.scopes.is_empty() { DEFAULT_SCOPES.to_owned() } else { args.scopes.join(" ") };
    let token = random_hex(32);
    store
        .create_api_token(&NewApiToken { user_id: user.id, token_hash: hash_token(&token), name: args.name, scopes })
        .await?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "created API token for {email}:")?;
    writeln!(out, "{token}")?;
    Ok(())
}

fn grouping_hash(args: &GroupingHash) -> anyhow::Result<()> {
    use crate::grouping::{Enhancements, FingerprintRules, GroupingConfig};
    use crate::protocol::{NormalizeOptions, normalize_event};

    let read = |path: &PathBuf| std::fs::read(path).with_context(|| format!("cannot read {}", path.display()));
    let payload = match &args.file {
        Some(path) if path.as_os_str() != "-" => read(path)?,
        _ => {
            let mut buf = Vec::new();
            std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut buf).context("cannot read standard input")?;
            buf
        }
    };
    let text = |path: &PathBuf| -> anyhow::Result<String> { Ok(String::from_utf8(read(path)?)?) };
    let mut config = GroupingConfig::default();
    if let Some(path) = &args.fingerprint_rules {
        config.fingerprint_rules =
            FingerprintRules::parse(&text(path)?).with_context(|| format!("in {}", path.display()))?;
    }
    if let Some(path) = &args.stacktrace_rules {
        config.enhancements = Enhancements::parse(&text(path)?).with_context(|| format!("in {}", path.display()))?;
    }
    let normalized = normalize_event(&payload, &NormalizeOptions::new(time::OffsetDateTime::now_utc()))
        .context("not a valid event payload")?;
    let result = crate::grouping::calculate(&normalized.payload, &config);
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, &result)?;
    writeln!(out)?;
    Ok(())
}

fn bench(args: BenchArgs) -> anyhow::Result<()> {
    let platforms: Vec<String> = args.platforms.iter().map(|p| p.trim().to_lowercase()).collect();
    if let Some(unknown) = platforms.iter().find(|p| !crate::bench::events::PLATFORMS.contains(&p.as_str())) {
        bail!("unknown platform {unknown:?} (use {})", crate::bench::events::PLATFORMS.join(", "));
    }
    let options = crate::bench::BenchOptions {
        dsn: args.dsn,
        concurrency: args.concurrency.max(1),
        rate: args.rate,
        duration: args.duration,
        count: args.count,
        shape: crate::bench::events::Shape {
            fingerprints: args.fingerprints.max(1),
            users: args.users.max(1),
            size: args.size_kb * 1024,
            platforms,
        },
        gzip: args.gzip,
        verify_token: if args.verify { args.token } else { None },
        org: args.org,
        quiet: args.quiet,
    };
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the runtime")?;
    runtime.block_on(crate::bench::run(options)).map(|_| ())
}
