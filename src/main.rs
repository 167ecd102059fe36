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
    AppState,
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
    /// Manage trusted documents (persisted operations registered by hash).
    Documents {
        #[command(subcommand)]
        command: DocumentsCommand,
    },
    /// Export data for finance and other systems.
    Export {
        #[command(subcommand)]
        command: ExportCommand,
    },
}

#[derive(Subcommand)]
enum ExportCommand {
    /// Print the payouts whose period ends in one month as CSV with stable
    /// columns: payout_id, partner_id, partner_name, currency, amount,
    /// period_end, status, external_reference, paid_at, created_at.
    Payouts {
        /// The month, e.g. 2027-03.
        #[arg(long)]
        period: String,
        #[command(flatten)]
        database: DatabaseArgs,
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
    partnergraph::telemetry::init();
    let cli = Cli::parse();
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
        Some(Command::Documents {
            command: DocumentsCommand::Add { files, database },
        }) => add_documents(files, database).await,
        Some(Command::Export {
            command: ExportCommand::Payouts { period, database },
        }) => export_payouts(period, database).await,
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

async fn export_payouts(period: String, database: DatabaseArgs) -> anyhow::Result<()> {
    use partnergraph::service::incentives::export;
    let month = export::parse_period(&period)
        .ok_or_else(|| anyhow::anyhow!("--period must be a month such as 2027-03"))?;
    let db = connect(&database).await?;
    print!("{}", export::payouts_csv(&db, month).await?);
    Ok(())
}

async fn connect(args: &DatabaseArgs) -> anyhow::Result<sea_orm::DatabaseConnection> {
    let db = db::connect(&args.database_url)
        .await
        .context("cannot connect to the database")?;
    db::migrate(&db).await.context("cannot apply migrations")?;
    Ok(db)
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let db = connect(&args.database).await?;
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
        ..ServerConfig::default()
    };
    // Webhook deliveries: the dispatcher and the worker, sharing the work with any other replica.
    let targets = partnergraph::webhooks::target::TargetPolicy {
        allow_private: config.webhook_allow_private,
    };
    let _webhooks = partnergraph::webhooks::spawn(
        db.clone(),
        clock.clone(),
        partnergraph::webhooks::Settings::new(targets),
    )?;
    if args.jobs_interval > 0 {
        // Several replicas may run these at once: each job claims rows with SKIP LOCKED.
        let interval = std::time::Duration::from_secs(args.jobs_interval);
        partnergraph::jobs::spawn(db.clone(), clock.clone(), interval);
    }
    let state = AppState::new(db, clock, config)?;
    partnergraph::serve(listener, state, partnergraph::http::shutdown_signal()).await?;
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
