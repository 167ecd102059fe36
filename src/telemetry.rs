//! Logs through `tracing`: human-readable by default, JSON lines with
//! `LOG_FORMAT=json`, filtered by `RUST_LOG`.

use tracing_subscriber::{fmt, EnvFilter};

/// Libraries whose most detailed logs carry message contents, and so
/// tokens: tungstenite logs every WebSocket message it receives at `trace`
/// (`connection_init` holds the bearer token). Capped below that whatever
/// `RUST_LOG` asks, because secrets never appear in logs (SPEC §8);
/// `tests/api/secrets.rs` reads a `trace` log for every secret it issued.
const NEVER_BELOW: &[&str] = &["tungstenite=debug"];

pub fn init() {
    let mut filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    for directive in NEVER_BELOW {
        if let Ok(directive) = directive.parse() {
            filter = filter.add_directive(directive);
        }
    }
    let json = std::env::var("LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let builder = fmt().with_env_filter(filter).with_writer(std::io::stderr);
    // A second init (tests start several servers) is not an error.
    let _ = if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init()
    } else {
        builder.try_init()
    };
}
