//! `order-status`: parse the command line, load the configuration, run the
//! subcommand. Everything else lives in the library.

use std::process::ExitCode;

use clap::Parser;
use order_status::cli;

/// mimalloc instead of the system allocator: importing and indexing
/// allocate small objects at a high rate, and glibc's malloc spent about a
/// fifth of a bulk import's time (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    // Logging starts before the config is read, so its format is an
    // environment variable only: ORDER_STATUS_LOG_FORMAT=json.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,tantivy=warn".into());
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if std::env::var("ORDER_STATUS_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json")) {
        logs.json().with_current_span(true).init();
    } else {
        logs.init();
    }
    match cli::run(cli::Args::parse()).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
