//! The `partnergraph` command line. Parses arguments, sets up logging and
//! calls into the library; nothing else lives here.

use std::{net::SocketAddr, process::ExitCode};

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand, ValueEnum};
use partnergraph::{
    auth::{clients, token, ScopeSet},
    clock::{Clock, SystemClock},
    config::{Limits, ServerConfig},
    db,
    domain::{
        inputs::{DisplayName, EmailAddress},
        PrincipalKind, Role, RoleKind,
    },
    ids::{self, NodeType},
    secrets::{self, SecretKeys},
    transfer, AppState,
};
use sea_orm::EntityTrait;

#[derive(Parser)]
#[command(
    name = "partnergraph",
    version,
    about = "The GraphQL API that runs a partner program"
)]
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Serving is the default when no command is given.
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Args, Clone)]
struct DatabaseArgs {
    /// `sqlite://FILE?mode=rwc` or `postgres://USER@HOST/DB`.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://partnergraph.db?mode=rwc"
    )]
    database_url: String,
}

#[derive(Args, Clone)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "PARTNERGRAPH_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Seed a demo program on an empty database and print tokens to try it with.
    #[arg(long)]
    demo: bool,
    /// Seconds between runs of the background jobs (expiries, reminders); 0 turns them off.
    #[arg(long, env = "PARTNERGRAPH_JOBS_INTERVAL", default_value_t = 30)]
    jobs_interval: u64,
    /// Seconds a WebSocket may stay open before its `connection_init` (then it closes with 4408).
    #[arg(long, env = "PARTNERGRAPH_WS_INIT_TIMEOUT", default_value_t = 10)]
    ws_init_timeout: u64,
    /// Let webhooks reach loopback, private and other internal addresses, and plain http.
    #[arg(long, env = "PARTNERGRAPH_WEBHOOK_ALLOW_PRIVATE")]
    webhook_allow_private: bool,
    /// Milliseconds a token's lookup is remembered; other replicas honour a revoked token for at most this long (0: look up every request).
    #[arg(long, env = "PARTNERGRAPH_TOKEN_CACHE_MS", default_value_t = 1000)]
    token_cache_ms: u64,
    /// Partner tokens run only trusted documents: operations registered by hash with `partnergraph documents add`.
    #[arg(long, env = "PARTNERGRAPH_TRUSTED_DOCUMENTS")]
    trusted_documents: bool,
    /// The server key that seals webhook signing secrets at rest: 32 random
    /// bytes in base64 (`openssl rand -base64 32`); prefer the environment
    /// variable to the flag. Without it, a SQLite database gets a key file
    /// beside it (`FILE.key`) and PostgreSQL refuses to start.
    #[arg(long, env = "PARTNERGRAPH_SECRET_KEY", hide_env_values = true)]
    secret_key: Option<String>,
    /// Previous server keys, comma-separated: what they sealed still opens,
    /// and is sealed again with the current key at start.
    #[arg(long, env = "PARTNERGRAPH_SECRET_KEY_PREVIOUS", hide_env_values = true)]
    secret_key_previous: Option<String>,
    /// Export traces by OTLP/HTTP to this collector (its base URL, e.g.
    /// `http://127.0.0.1:4318`); nothing is exported when absent.
    #[arg(long, env = "OTEL_EXPORTER_OTLP_ENDPOINT")]
    otlp_endpoint: Option<String>,
    #[command(flatten)]
    database: DatabaseArgs,
    #[command(flatten)]
    limits: LimitArgs,
}

/// The request limits of SPEC §7.
#[derive(Args, Clone)]
struct LimitArgs {
    /// Largest request body, in bytes.
    #[arg(long, env = "PARTNERGRAPH_MAX_BODY_BYTES", default_value_t = Limits::default().max_body_bytes)]
    max_body_bytes: usize,
    /// Deepest field nesting of a query.
    #[arg(long, env = "PARTNERGRAPH_MAX_DEPTH", default_value_t = Limits::default().max_depth)]
    max_depth: usize,
    /// Highest query complexity (a connection costs `first` times its selection).
    #[arg(long, env = "PARTNERGRAPH_MAX_COMPLEXITY", default_value_t = Limits::default().max_complexity)]
    max_complexity: usize,
    /// Most aliases in one query.
    #[arg(long, env = "PARTNERGRAPH_MAX_ALIASES", default_value_t = Limits::default().max_aliases)]
    max_aliases: usize,
    /// Query-cost points a principal may spend in a burst; 0 turns the cost limit off.
    #[arg(long, env = "PARTNERGRAPH_QUERY_COST_BUDGET", default_value_t = Limits::default().query_cost_budget)]
    query_cost_budget: u32,
    /// Query-cost points restored to each principal per second.
    #[arg(long, env = "PARTNERGRAPH_QUERY_COST_REFILL", default_value_t = Limits::default().query_cost_refill_per_second)]
    query_cost_refill: u32,
    /// GraphQL requests over HTTP running at once; more wait up to
    /// --queue-wait-ms, then get 503 with Retry-After. Default: 4 × the
    /// database pool (32 on SQLite, 64 on PostgreSQL).
    #[arg(long, env = "PARTNERGRAPH_MAX_IN_FLIGHT", value_parser = clap::value_parser!(u64).range(1..))]
    max_in_flight: Option<u64>,
    /// Milliseconds a request waits for a free slot before its 503.
    #[arg(long, env = "PARTNERGRAPH_QUEUE_WAIT_MS", default_value_t = Limits::default().queue_wait.as_millis() as u64)]
    queue_wait_ms: u64,
    /// Open WebSocket connections; one more gets 503 with Retry-After before the upgrade.
    #[arg(long, env = "PARTNERGRAPH_MAX_WEBSOCKETS", default_value_t = Limits::default().max_websockets)]
    max_websockets: usize,
}

impl From<LimitArgs> for Limits {
    fn from(args: LimitArgs) -> Self {
        Limits {
            max_body_bytes: args.max_body_bytes,
            max_depth: args.max_depth,
            max_complexity: args.max_complexity,
            max_aliases: args.max_aliases,
            query_cost_budget: args.query_cost_budget,
            query_cost_refill_per_second: args.query_cost_refill,
            max_in_flight: args.max_in_flight.map(|n| n as usize),
            queue_wait: std::time::Duration::from_millis(args.queue_wait_ms),
            max_websockets: args.max_websockets,
            ..Limits::default()
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Run pending migrations, then serve (the default).
    Serve(ServeArgs),
    /// Apply pending migrations and exit.
    Migrate(DatabaseArgs),
    /// Print the GraphQL schema (SDL).
    Schema {
        /// Whose view to print.
        #[arg(long, value_enum, default_value_t = View::Internal)]
        view: View,
    },
    /// Manage bearer tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Manage OAuth2 clients.
    Client {
        #[command(subcommand)]
        command: ClientCommand,
    },
    /// Copy a running SQLite database consistently into FILE (a new file);
    /// on PostgreSQL, use `pg_dump`.
    Backup {
        /// The copy to write; it must not exist yet.
        file: std::path::PathBuf,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Write one kind's rows as CSV (to stdout, or FILE) or Excel, with the
    /// API's column names; `--view partner --partner ID` writes only what
    /// that partner's tokens may see.
    Export(ExportArgs),
    /// Read one kind's rows from a CSV or Excel (.xlsx) file: headers matched
    /// by name or alias, every row validated as the API does, matched to
    /// existing records and written through the audited write path, all or
    /// nothing (see README, Import).
    Import(ImportArgs),
    /// Manage trusted documents (persisted operations registered by hash).
    Documents {
        #[command(subcommand)]
        command: DocumentsCommand,
    },
}

#[derive(Subcommand)]
enum DocumentsCommand {
    /// Register the operations in each FILE: a GraphQL document (its exact
    /// text), or a JSON manifest (graphql-codegen's persisted-documents.json,
    /// Apollo's persisted query manifest) with SHA-256 hashes. Prints each
    /// hash registered.
    Add {
        /// Files to read.
        #[arg(required = true)]
        files: Vec<std::path::PathBuf>,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(Args)]
struct ImportArgs {
    /// What to import.
    #[arg(value_enum)]
    kind: transfer::Kind,
    /// A .csv (UTF-8) or .xlsx file.
    file: std::path::PathBuf,
    /// The workbook's sheet to read (default: the first).
    #[arg(long)]
    sheet: Option<String>,
    /// `HEADER=FIELD`: read the column HEADER as FIELD (repeatable).
    #[arg(long = "map", value_name = "HEADER=FIELD")]
    maps: Vec<String>,
    /// Check every row and report what would happen; write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Import the good rows; write the bad ones, with their reasons, to the reject file.
    #[arg(long)]
    skip_invalid: bool,
    /// Where rejected rows go (default: FILE.rejects.csv).
    #[arg(long, value_name = "PATH")]
    rejects: Option<std::path::PathBuf>,
    /// No progress output.
    #[arg(long, short)]
    quiet: bool,
    #[command(flatten)]
    database: DatabaseArgs,
}

#[derive(Args)]
struct ExportArgs {
    /// What to export.
    #[arg(value_enum)]
    kind: transfer::Kind,
    #[arg(long, value_enum, default_value_t = transfer::Format::Csv)]
    format: transfer::Format,
    /// Whose view: staff (every column and row) or one partner's.
    #[arg(long, value_enum, default_value_t = View::Internal)]
    view: View,
    /// The partner whose view to write (with `--view partner`).
    #[arg(long)]
    partner: Option<String>,
    /// The file to write; CSV goes to stdout without it.
    #[arg(long, short)]
    output: Option<std::path::PathBuf>,
    /// For payouts: only those whose period ends in this month, e.g. 2027-03.
    #[arg(long)]
    period: Option<String>,
    #[command(flatten)]
    database: DatabaseArgs,
}

#[derive(Clone, Copy, ValueEnum)]
enum View {
    /// The whole schema, as staff see it.
    Internal,
    /// What a partner token can see.
    Partner,
}

#[derive(Subcommand)]
enum ClientCommand {
    /// Create an OAuth2 client; prints `client_id` and `client_secret` (shown once) as JSON.
    Create(ClientArgs),
}

#[derive(Args)]
struct ClientArgs {
    /// A name to recognise the client by.
    #[arg(long)]
    name: String,
    /// Bind the client to this partner (its GraphQL id): its tokens see only that partner.
    #[arg(long)]
    partner: Option<String>,
    /// Comma-separated scopes the client's tokens may carry.
    #[arg(long)]
    scopes: String,
    /// The role its tokens act with (narrowed by the scopes); PARTNER_ADMIN for
    /// partner clients and ADMIN for internal ones when absent.
    #[arg(long)]
    role: Option<String>,
    #[command(flatten)]
    database: DatabaseArgs,
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a bearer token and print it (only the token) on stdout.
    Create(TokenArgs),
}

#[derive(Args)]
struct TokenArgs {
    /// ADMIN, PARTNER_MANAGER, SALES or VIEWER (partner roles need --partner).
    #[arg(long)]
    role: String,
    /// The staff user the token belongs to; created if new.
    #[arg(long)]
    email: Option<String>,
    /// The partner a partner-role token acts for (its GraphQL id).
    #[arg(long)]
    partner: Option<String>,
    /// Comma-separated scopes; all scopes when absent (the role still limits them).
    #[arg(long)]
    scopes: Option<String>,
    /// Lifetime such as 30d, 12h or 90m.
    #[arg(long, default_value = "30d")]
    ttl: String,
    #[command(flatten)]
    database: DatabaseArgs,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let otlp_endpoint = match &cli.command {
        None => cli.serve.otlp_endpoint.clone(),
        Some(Command::Serve(args)) => args.otlp_endpoint.clone(),
        Some(_) => None,
    };
    // Flushes the traces when main returns.
    let _telemetry = partnergraph::telemetry::init(otlp_endpoint.as_deref());
    let result = match cli.command {
        None => serve(cli.serve).await,
        Some(Command::Serve(args)) => serve(args).await,
        Some(Command::Migrate(args)) => migrate(args).await,
        Some(Command::Schema { view }) => schema(view),
        Some(Command::Token {
            command: TokenCommand::Create(args),
        }) => create_token(args).await,
        Some(Command::Client {
            command: ClientCommand::Create(args),
        }) => create_client(args).await,
        Some(Command::Backup { file, database }) => backup(file, database).await,
        Some(Command::Export(args)) => export(args).await,
        Some(Command::Import(args)) => import(args).await,
        Some(Command::Documents {
            command: DocumentsCommand::Add { files, database },
        }) => add_documents(files, database).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn add_documents(
    files: Vec<std::path::PathBuf>,
    database: DatabaseArgs,
) -> anyhow::Result<()> {
    use partnergraph::http::persisted;
    // Read and check every file before registering any.
    let mut documents = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        let found = persisted::documents_in(&text)
            .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
        for document in found {
            async_graphql::parser::parse_query(&document)
                .with_context(|| format!("{}: not a GraphQL document", file.display()))?;
            documents.push(document);
        }
    }
    let db = connect(&database).await?;
    let now = SystemClock.now();
    for document in documents {
        let hash = persisted::register(&db, &document, now).await?;
        println!("{hash}");
    }
    Ok(())
}

async fn connect(args: &DatabaseArgs) -> anyhow::Result<sea_orm::DatabaseConnection> {
    let db = db::connect(&args.database_url)
        .await
        .context("cannot connect to the database")?;
    db::migrate(&db).await.context("cannot apply migrations")?;
    Ok(db)
}

/// The server keys (see `partnergraph::secrets`): from the environment, else
/// from the key file beside a SQLite database (made on first start), else
/// a refusal, because PostgreSQL replicas must share one key.
fn secret_keys(args: &ServeArgs) -> anyhow::Result<SecretKeys> {
    let previous = args.secret_key_previous.as_deref();
    if let Some(key) = &args.secret_key {
        return SecretKeys::parse(key, previous).context("PARTNERGRAPH_SECRET_KEY");
    }
    let url = &args.database.database_url;
    if !url.starts_with("sqlite:") {
        bail!("set PARTNERGRAPH_SECRET_KEY: on PostgreSQL every replica seals and opens webhook signing secrets with the same server key (32 random bytes in base64: `openssl rand -base64 32`)");
    }
    let Some(path) = secrets::key_file_for(url) else {
        tracing::warn!(
            "an in-memory database: webhook secrets are sealed with a key of this process only"
        );
        return Ok(SecretKeys::ephemeral());
    };
    let key = match std::fs::read_to_string(&path) {
        Ok(key) => key,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            let key = SecretKeys::generate();
            secrets::write_key_file(&path, &key)
                .with_context(|| format!("cannot write the key file {}", path.display()))?;
            tracing::warn!(
                path = %path.display(),
                "generated the server key that seals webhook signing secrets; keep this file with the database (backups too), or set PARTNERGRAPH_SECRET_KEY"
            );
            key
        }
        Err(error) => {
            return Err(error)
                .with_context(|| format!("cannot read the key file {}", path.display()))
        }
    };
    SecretKeys::parse(&key, previous).with_context(|| format!("the key file {}", path.display()))
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let keys = secret_keys(&args)?;
    let db = connect(&args.database).await?;
    let resealed = partnergraph::webhooks::secrets::reseal_all(&db, &keys).await?;
    if resealed > 0 {
        tracing::info!(
            resealed,
            key = keys.current_id(),
            "webhook signing secrets sealed with the current server key"
        );
    }
    let clock = std::sync::Arc::new(SystemClock);
    let demo = match args.demo {
        true => Some(partnergraph::service::demo::seed(&db, clock.now()).await?),
        false => None,
    };
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let address = listener.local_addr()?;
    if let Some(demo) = demo {
        demo.print(&format!("http://{address}/graphql"), clock.now());
    }
    tracing::info!(%address, "serving GraphQL at http://{address}/graphql");
    let config = ServerConfig {
        limits: args.limits.into(),
        ws_init_timeout: std::time::Duration::from_secs(args.ws_init_timeout),
        webhook_allow_private: args.webhook_allow_private,
        token_cache_ttl: std::time::Duration::from_millis(args.token_cache_ms),
        trusted_documents: args.trusted_documents,
        secret_keys: keys.clone(),
        ..ServerConfig::default()
    };
    let state = AppState::new(db.clone(), clock.clone(), config)?;
    // Webhook deliveries: the dispatcher and the worker, sharing the work with any other replica.
    let targets = partnergraph::webhooks::target::TargetPolicy {
        allow_private: state.config.webhook_allow_private,
    };
    let mut settings = partnergraph::webhooks::Settings::new(targets);
    settings.keys = keys;
    settings.metrics = state.metrics.clone();
    let webhooks = partnergraph::webhooks::spawn(state.db.clone(), clock.clone(), settings)?;
    if args.jobs_interval > 0 {
        // Several replicas may run these at once: each job claims rows with SKIP LOCKED.
        let interval = std::time::Duration::from_secs(args.jobs_interval);
        partnergraph::jobs::spawn(
            state.db.clone(),
            clock.clone(),
            interval,
            state.metrics.clone(),
        );
    }
    // SIGTERM/SIGINT (SPEC §8): the HTTP server stops accepting and lets
    // requests finish while the webhook worker finishes or releases its
    // claims, side by side, so the process exits within 10 s.
    let (stop, stopping) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        partnergraph::http::shutdown_signal().await;
        stop.send_replace(true);
    });
    let stopped = |mut stopping: tokio::sync::watch::Receiver<bool>| async move {
        let _ = stopping.wait_for(|stop| *stop).await;
    };
    let webhooks_stopped = {
        let stopped = stopped(stopping.clone());
        async move {
            stopped.await;
            webhooks.shutdown().await;
        }
    };
    let (served, ()) = tokio::join!(
        partnergraph::serve(listener, state, stopped(stopping)),
        webhooks_stopped
    );
    served?;
    tracing::info!("stopped");
    Ok(())
}

/// `partnergraph backup FILE` (see `db::backup_sqlite`). Connects without
/// migrating: a backup never changes the database it copies.
async fn export(args: ExportArgs) -> anyhow::Result<()> {
    let db = connect(&args.database).await?;
    let partner_id = match (args.view, &args.partner) {
        (View::Partner, Some(id)) => Some(
            ids::decode_as(NodeType::Partner, id)
                .or_else(|| uuid::Uuid::parse_str(id).ok())
                .context("--partner: not a partner id")?,
        ),
        (View::Partner, None) => bail!("--view partner needs --partner ID"),
        (View::Internal, Some(_)) => bail!("--partner goes with --view partner"),
        (View::Internal, None) => None,
    };
    // Reads only: a principal of the right view, never a token.
    let principal = partnergraph::auth::Principal {
        role: if partner_id.is_some() {
            Role::PartnerAdmin
        } else {
            Role::Admin
        },
        staff_user_id: None,
        partner_id,
        token_id: uuid::Uuid::nil(),
        api_client_id: None,
        contact_id: None,
        scopes: ScopeSet::all(),
    };
    let filter = transfer::Filter {
        period: match &args.period {
            Some(text) => Some(
                transfer::parse_period(text).context("--period must be a month such as 2027-03")?,
            ),
            None => None,
        },
    };
    let table = transfer::export::export(&db, args.kind, &principal, filter).await?;
    match (args.format, &args.output) {
        (transfer::Format::Csv, None) => table.write_csv(std::io::stdout().lock())?,
        (transfer::Format::Csv, Some(file)) => table.write_csv(
            std::fs::File::create(file)
                .with_context(|| format!("cannot write {}", file.display()))?,
        )?,
        (transfer::Format::Xlsx, Some(file)) => {
            let sheet = format!("{:?}", args.kind);
            std::fs::write(file, table.xlsx_bytes(&sheet)?)
                .with_context(|| format!("cannot write {}", file.display()))?
        }
        (transfer::Format::Xlsx, None) => bail!("--format xlsx needs --output FILE"),
    }
    eprintln!("exported {} rows", table.rows.len());
    Ok(())
}

async fn import(args: ImportArgs) -> anyhow::Result<()> {
    use transfer::import;
    let maps = args
        .maps
        .iter()
        .map(|m| {
            m.split_once('=')
                .map(|(h, f)| (h.trim().to_owned(), f.trim().to_owned()))
                .with_context(|| format!("--map {m}: write HEADER=FIELD"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let options = import::Options {
        sheet: args.sheet,
        maps,
        dry_run: args.dry_run,
        skip_invalid: args.skip_invalid,
        rejects: args.rejects,
    };
    let db = connect(&args.database).await?;
    let mut progress = import::Progress::new(args.quiet);
    let summary = import::run(&db, args.kind, &args.file, &options, &mut progress).await?;
    if !summary.ignored_columns.is_empty() {
        eprintln!(
            "columns not imported: {}",
            summary.ignored_columns.join(", ")
        );
    }
    for problem in &summary.problems {
        eprintln!("{problem}");
    }
    for duplicate in &summary.duplicates {
        eprintln!("{duplicate}");
    }
    if let Some(file) = &summary.rejects_file {
        eprintln!("rejected rows written to {}", file.display());
    }
    let verdict = match (summary.committed, args.dry_run) {
        (true, _) => "imported",
        (false, true) => "dry run, nothing written",
        (false, false) => "nothing written",
    };
    println!("{} ({verdict})", summary.line());
    if summary.rejected > 0 && !args.skip_invalid {
        bail!(
            "{} invalid rows{}; fix them, or pass --skip-invalid to import the others",
            summary.rejected,
            if args.dry_run {
                ""
            } else {
                ": nothing was imported"
            }
        );
    }
    Ok(())
}

async fn backup(file: std::path::PathBuf, database: DatabaseArgs) -> anyhow::Result<()> {
    let url = &database.database_url;
    if !url.starts_with("sqlite:") {
        bail!("`partnergraph backup` copies SQLite databases; back PostgreSQL up with its own tools: `pg_dump --format=custom --file=FILE \"$DATABASE_URL\"`, restored with `pg_restore` (see README, Backups)");
    }
    let source = db::sqlite_file(url).context("an in-memory database cannot be backed up")?;
    anyhow::ensure!(source.exists(), "no database at {}", source.display());
    anyhow::ensure!(
        !file.exists(),
        "{} exists already; name a new file",
        file.display()
    );
    let db = db::connect(url).await.context("cannot open the database")?;
    let started = std::time::Instant::now();
    db::backup_sqlite(&db, &file)
        .await
        .with_context(|| format!("cannot write {}", file.display()))?;
    eprintln!(
        "backed up {} to {} in {} ms",
        source.display(),
        file.display(),
        started.elapsed().as_millis()
    );
    if let Some(key) = secrets::key_file_for(url).filter(|k| k.exists()) {
        eprintln!(
            "webhook secrets in it are sealed with the server key in {}: keep a copy of that file too (apart from the backup); restoring needs it",
            key.display()
        );
    }
    Ok(())
}

async fn migrate(args: DatabaseArgs) -> anyhow::Result<()> {
    connect(&args).await?;
    eprintln!("migrations are current");
    Ok(())
}

fn schema(view: View) -> anyhow::Result<()> {
    match view {
        View::Internal => print!("{}", partnergraph::graphql::sdl()),
        View::Partner => print!("{}", partnergraph::graphql::partner_sdl()?),
    }
    Ok(())
}

async fn create_token(args: TokenArgs) -> anyhow::Result<()> {
    let role = parse_role(&args.role)?;
    let scopes = match &args.scopes {
        Some(text) => ScopeSet::parse(text).map_err(anyhow::Error::msg)?,
        None => ScopeSet::all(),
    };
    let ttl = token::parse_ttl(&args.ttl).map_err(anyhow::Error::msg)?;
    let db = connect(&args.database).await?;
    let partner_id = partner_for_role(&db, role, args.partner.as_deref()).await?;
    let now = SystemClock.now();
    let staff_user_id = match (&args.email, role.kind()) {
        (Some(email), PrincipalKind::Staff) => {
            let email = EmailAddress::parse(email).map_err(|e| anyhow::anyhow!("--email {e}"))?;
            Some(
                token::staff_user_for(&db, email.as_str(), role, now)
                    .await?
                    .id,
            )
        }
        (Some(_), PrincipalKind::Partner) => {
            bail!("--email names a staff user; partner tokens take --partner only")
        }
        (None, _) => None,
    };
    let new = token::NewToken {
        role,
        staff_user_id,
        partner_id,
        scopes,
        ttl,
        api_client_id: None,
    };
    let (_, secret) = token::issue(&db, new, now).await?;
    println!("{}", secret.expose());
    Ok(())
}

fn parse_role(text: &str) -> anyhow::Result<Role> {
    text.to_uppercase().replace('-', "_").parse().with_context(|| {
        format!("unknown role `{text}`; use ADMIN, PARTNER_MANAGER, SALES, VIEWER, PARTNER_ADMIN or PARTNER_REP")
    })
}

/// Partner roles need the partner they act for; staff roles must not have one.
async fn partner_for_role(
    db: &sea_orm::DatabaseConnection,
    role: Role,
    partner: Option<&str>,
) -> anyhow::Result<Option<uuid::Uuid>> {
    match (role.kind(), partner) {
        (PrincipalKind::Staff, None) => Ok(None),
        (PrincipalKind::Staff, Some(_)) => {
            bail!("--partner is only for the partner roles PARTNER_ADMIN and PARTNER_REP")
        }
        (PrincipalKind::Partner, None) => bail!("{role} needs --partner PARTNER_ID"),
        (PrincipalKind::Partner, Some(global_id)) => {
            let id = ids::decode_as(NodeType::Partner, global_id)
                .with_context(|| format!("`{global_id}` is not a partner id (use the `id` that `partners {{ id }}` shows)"))?;
            let exists = entity::partner::Entity::find_by_id(id)
                .one(db)
                .await?
                .is_some();
            anyhow::ensure!(exists, "no partner has the id `{global_id}`");
            Ok(Some(id))
        }
    }
}

async fn create_client(args: ClientArgs) -> anyhow::Result<()> {
    let scopes = ScopeSet::parse(&args.scopes).map_err(anyhow::Error::msg)?;
    anyhow::ensure!(
        scopes.iter().next().is_some(),
        "--scopes needs at least one scope"
    );
    let name = DisplayName::parse(&args.name).map_err(|e| anyhow::anyhow!("--name {e}"))?;
    let db = connect(&args.database).await?;
    let default_role = if args.partner.is_some() {
        Role::PartnerAdmin
    } else {
        Role::Admin
    };
    let role = args
        .role
        .as_deref()
        .map(parse_role)
        .transpose()?
        .unwrap_or(default_role);
    let partner_id = partner_for_role(&db, role, args.partner.as_deref()).await?;
    let new = clients::NewClient {
        name: name.into_inner(),
        role,
        partner_id,
        scopes,
        created_by: None,
    };
    let (client, secret) = clients::create(&db, new, SystemClock.now()).await?;
    let output =
        serde_json::json!({ "client_id": client.client_id, "client_secret": secret.expose() });
    println!("{output}");
    Ok(())
}
