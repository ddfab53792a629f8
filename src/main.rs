//! `order-status`: parse the command line, start logging, run the
//! subcommand. Everything else lives in the library.

use std::process::ExitCode;

use order_status::cli;
use order_status::config::LogFormat;

/// mimalloc instead of the system allocator: importing and indexing
/// allocate small objects at a high rate, and glibc's malloc spent about a
/// fifth of a bulk import's time (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let invocation = match cli::parse() {
        Ok(i) => i,
        Err(code) => return code,
    };
    // Logging starts before the config file is read, so its format comes
    // from the variable or the flag only.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,tantivy=warn".into());
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match invocation.args.settings.log_format {
        LogFormat::Json => logs.json().with_current_span(true).init(),
        LogFormat::Text => logs.init(),
    }
    match cli::run(invocation).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
