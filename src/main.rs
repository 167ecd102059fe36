//! The `partnergraph` command line. Parses arguments, sets up logging and
//! calls into the library; nothing else lives here.

use std::{net::SocketAddr, process::ExitCode};

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand, ValueEnum};
use partnergraph::{
    auth::{token, ScopeSet},
    clock::{Clock, SystemClock},
    config::{Limits, ServerConfig},
    db,
    domain::{DbEnum, PrincipalKind, Role},
    AppState,
};

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
}

impl From<LimitArgs> for Limits {
    fn from(args: LimitArgs) -> Self {
        Limits {
            max_body_bytes: args.max_body_bytes,
            max_depth: args.max_depth,
            max_complexity: args.max_complexity,
            max_aliases: args.max_aliases,
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
}

#[derive(Clone, Copy, ValueEnum)]
enum View {
    /// The whole schema, as staff see it.
    Internal,
    /// What a partner token can see.
    Partner,
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
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
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
    if args.demo {
        partnergraph::service::demo::seed(&db, clock.now()).await?;
    }
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let address = listener.local_addr()?;
    tracing::info!(%address, "serving GraphQL at http://{address}/graphql");
    let config = ServerConfig {
        limits: args.limits.into(),
        ..ServerConfig::default()
    };
    let state = AppState::new(db, clock, config);
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
        View::Partner => {
            bail!("the partner view arrives with partner access; no partner principal exists yet")
        }
    }
    Ok(())
}

async fn create_token(args: TokenArgs) -> anyhow::Result<()> {
    let role = Role::parse(&args.role.to_uppercase().replace('-', "_")).with_context(|| {
        format!(
            "unknown role `{}`; use ADMIN, PARTNER_MANAGER, SALES or VIEWER",
            args.role
        )
    })?;
    if role.kind() == PrincipalKind::Partner || args.partner.is_some() {
        bail!("partner tokens (--partner with PARTNER_ADMIN or PARTNER_REP) arrive with partner access");
    }
    let scopes = match &args.scopes {
        Some(text) => ScopeSet::parse(text).map_err(anyhow::Error::msg)?,
        None => ScopeSet::all(),
    };
    let ttl = token::parse_ttl(&args.ttl).map_err(anyhow::Error::msg)?;
    let db = connect(&args.database).await?;
    let now = SystemClock.now();
    let staff_user_id = match &args.email {
        Some(email) => {
            let email = partnergraph::domain::inputs::EmailAddress::parse(email)
                .map_err(|e| anyhow::anyhow!("--email {e}"))?;
            Some(
                token::staff_user_for(&db, email.as_str(), role, now)
                    .await?
                    .id,
            )
        }
        None => None,
    };
    let new = token::NewToken {
        role,
        staff_user_id,
        partner_id: None,
        scopes,
        ttl,
    };
    let (_, secret) = token::issue(&db, new, now).await?;
    println!("{}", secret.expose());
    Ok(())
}
