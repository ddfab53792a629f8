//! The command line: what `order-status` accepts (clap), and which part of
//! the library each command calls. Nothing else: the site is assembled by
//! [`crate::app::App::build`], each command's work is in
//! [`crate::commands`].

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::commands;
use crate::config::{Config, layers};

/// A self-hosted order status site for online stores.
#[derive(Debug, Parser)]
#[command(name = "order-status", version, about)]
pub struct Args {
    /// Config file (default: ./order-status.toml when it exists).
    #[arg(long, global = true, env = "ORDER_STATUS_CONFIG")]
    config: Option<PathBuf>,
    /// Every setting, as a flag (and its variable).
    #[command(flatten)]
    pub settings: Config,
    #[command(subcommand)]
    command: Option<Command>,
}

/// The parsed command line, and what clap saw (which settings the
/// environment or a flag gave).
#[derive(Debug)]
pub struct Invocation {
    pub args: Args,
    matches: ArgMatches,
}

/// Parses the command line. A bad value of a setting is named the way the
/// file's are; help, version and usage errors are clap's (it exits).
pub fn parse() -> Result<Invocation, ExitCode> {
    let matches = match Args::command().try_get_matches() {
        Ok(m) => m,
        Err(e) => match layers::from_clap(&e) {
            Some(named) => {
                eprintln!("error: {named}");
                return Err(ExitCode::FAILURE);
            }
            None => e.exit(),
        },
    };
    match Args::from_arg_matches(&matches) {
        Ok(args) => Ok(Invocation { args, matches }),
        Err(e) => e.exit(),
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the site (the default). Seeds demo orders into an empty store.
    Serve,
    /// Print every setting: its key in the file, variable, flag, default and
    /// meaning (the README's table).
    Settings,
    /// Import orders from an NDJSON file (see the README for the format).
    Import {
        file: PathBuf,
        /// Shop domain for lines without a `shop` field.
        #[arg(long)]
        shop: Option<String>,
    },
    /// Fetch orders from Shopify's GraphQL Admin API (backfill, or catch up
    /// from where the last sync stopped).
    Sync {
        /// Only orders updated at or after this time (RFC 3339 or YYYY-MM-DD).
        #[arg(long)]
        since: Option<String>,
        /// Only this configured shop.
        #[arg(long)]
        shop: Option<String>,
    },
    /// Print the Liquid that builds a status link in a Shopify notification
    /// template (needs the shop's link secret configured).
    LinkSnippet {
        /// The configured shop (default: the only one).
        #[arg(long)]
        shop: Option<String>,
        /// How long the links stay valid.
        #[arg(long, default_value_t = 90)]
        days: u32,
    },
    /// Write every order in the store as NDJSON (the import format); works
    /// while the server runs, so it doubles as a backup.
    Export {
        /// Output file (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Copy the index as of its last commit into a new directory, while
    /// the server runs: a backup, and how a replica that has fallen
    /// behind a trimmed stream starts again (put it in place of its
    /// data dir's `index/`).
    Snapshot {
        /// The directory to write (must not exist).
        #[arg(long)]
        out: PathBuf,
    },
    /// Rebuild the index from an NDJSON export or a full Shopify sync (after
    /// corruption or a format change). The server must be stopped; the old
    /// index is kept beside the new one.
    Reindex {
        /// An NDJSON file, e.g. from `export`.
        #[arg(long, conflicts_with = "from_shopify")]
        from: Option<PathBuf>,
        /// Fetch every order of every configured shop again.
        #[arg(long)]
        from_shopify: bool,
    },
    /// Shopify: check what each shop's app may read; register its webhooks
    /// and fulfillment service.
    Shopify {
        #[command(subcommand)]
        action: ShopifyCommand,
    },
    /// Webhook deliveries that could not be applied (dead letters).
    Webhooks {
        #[command(subcommand)]
        action: WebhooksCommand,
    },
    /// Manage staff accounts for the staff console.
    Staff {
        #[command(subcommand)]
        action: StaffCommand,
    },
    /// Status emails.
    Mail {
        #[command(subcommand)]
        action: MailCommand,
    },
    /// Write realistic demo orders as NDJSON.
    DemoData {
        /// How many orders.
        #[arg(long, default_value_t = 1000)]
        orders: u64,
        /// Same seed (and --now), same orders.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Output file (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Shop domain of the orders [default: the configured shop].
        #[arg(long)]
        shop: Option<String>,
        /// The moment the demo is "now" (RFC 3339) [default: now].
        #[arg(long)]
        now: Option<DateTime<Utc>>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ShopifyCommand {
    /// Print the shopify.app.toml for deploying the app with Shopify CLI:
    /// the scopes this configuration needs, every webhook topic and the
    /// compliance topics, pointing at public_url.
    AppToml {
        /// The app's client ID (Dev Dashboard, Settings).
        #[arg(long, default_value = "YOUR_CLIENT_ID")]
        client_id: String,
    },
    /// For each configured shop: subscribe the app to every webhook topic
    /// the site handles (at public_url + /webhooks/shopify), remove stale
    /// subscriptions to the site, and register the fulfillment service
    /// when fulfillment_service is set. Safe to run again.
    Setup {
        /// Only this configured shop.
        #[arg(long)]
        shop: Option<String>,
    },
    /// For each configured shop: credentials, API version, access scopes
    /// against what each feature needs, and protected customer data.
    Check {
        /// Only this configured shop.
        #[arg(long)]
        shop: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum WebhooksCommand {
    /// Apply the dead letters again (stop the server first); the ones that
    /// apply now are removed.
    Replay {
        /// Only this shop's.
        #[arg(long)]
        shop: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum MailCommand {
    /// Send a test message through the configured transport and say
    /// exactly which step failed if one does.
    Test {
        /// Who gets it.
        #[arg(long)]
        to: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum StaffCommand {
    /// Add an account; the password is read from standard input.
    Add {
        name: String,
        /// viewer (search and read), agent (also change orders) or admin
        /// (also manage accounts); the first account is an admin, later
        /// ones agents, unless this says otherwise.
        #[arg(long)]
        role: Option<String>,
    },
    /// Give an account another role (viewer, agent, admin); its sessions end.
    Role { name: String, role: String },
    /// Set a new password (read from standard input); every session of the
    /// account ends.
    Passwd { name: String },
    /// Remove an account (its sessions end at once).
    Remove { name: String },
    /// List the accounts.
    List,
}

/// `2026-11-01` or `2026-11-01T10:00:00Z`.
fn parse_since(s: &str) -> anyhow::Result<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    let day = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| anyhow::anyhow!("--since {s:?}: expected a date such as 2026-11-01 or a time such as 2026-11-01T10:00:00Z"))?;
    Ok(day
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc())
        .unwrap_or_default())
}

/// Runs the command of `invocation`: loads the configuration (the file
/// under what the environment and the flags said) and calls in.
pub async fn run(invocation: Invocation) -> anyhow::Result<ExitCode> {
    let Invocation { args, matches } = invocation;
    let command = args.command.unwrap_or(Command::Serve);
    if matches!(command, Command::Settings) {
        print!("{}", crate::config::settings_table());
        return Ok(ExitCode::SUCCESS);
    }
    let file = layers::file_to_read(args.config.as_deref());
    let mut config = layers::from_matches(file.as_deref(), &matches)?;
    // Commands that write to the data dir keep it private to this user.
    if matches!(
        command,
        Command::Import { .. }
            | Command::Sync { .. }
            | Command::Export { .. }
            | Command::Snapshot { .. }
            | Command::Reindex { .. }
            | Command::Webhooks { .. }
            | Command::Staff { .. }
            | Command::Mail { .. }
    ) {
        crate::files::make_private(&config.data_dir)?;
    }
    match command {
        Command::Serve => commands::serve(config).await?,
        Command::Settings => {}
        Command::Import { file, shop } => {
            if let Some(s) = shop {
                config.shop.domain = s
                    .parse()
                    .map_err(|e: String| anyhow::anyhow!("--shop: {e}"))?;
            }
            if !commands::orders::import(&config, &file).await? {
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Sync { since, shop } => {
            let since = since.as_deref().map(parse_since).transpose()?;
            if !commands::sync::run(&config, since, shop.as_deref()).await? {
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Export { out } => commands::orders::export(&config, out.as_deref())?,
        Command::Snapshot { out } => commands::orders::snapshot(&config, &out)?,
        Command::Reindex { from, from_shopify } => {
            if !commands::orders::reindex(&config, from.as_deref(), from_shopify).await? {
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::LinkSnippet { shop, days } => {
            commands::connect::link_snippet(&config, shop.as_deref(), days)?
        }
        Command::Shopify {
            action: ShopifyCommand::AppToml { client_id },
        } => commands::connect::shopify_app_toml(&config, &client_id)?,
        Command::Shopify {
            action: ShopifyCommand::Setup { shop },
        } => {
            if !commands::connect::shopify_setup(&config, shop.as_deref()).await? {
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Shopify {
            action: ShopifyCommand::Check { shop },
        } => {
            if !commands::connect::shopify_check(&config, shop.as_deref()).await? {
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Webhooks {
            action: WebhooksCommand::Replay { shop },
        } => {
            if !commands::dead_letters::replay(&config, shop.as_deref()).await? {
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Staff { action } => match action {
            StaffCommand::Add { name, role } => {
                commands::staff_accounts::add(&config, &name, role.as_deref()).await?
            }
            StaffCommand::Role { name, role } => {
                commands::staff_accounts::set_role(&config, &name, &role).await?
            }
            StaffCommand::Passwd { name } => {
                commands::staff_accounts::passwd(&config, &name).await?
            }
            StaffCommand::Remove { name } => {
                commands::staff_accounts::remove(&config, &name).await?
            }
            StaffCommand::List => commands::staff_accounts::list(&config).await?,
        },
        Command::Mail {
            action: MailCommand::Test { to },
        } => {
            if !commands::mail_test::mail_test(&config, &to).await? {
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::DemoData {
            orders,
            seed,
            out,
            shop,
            now,
        } => {
            let shop = shop.unwrap_or_else(|| config.shop.domain.to_string());
            commands::orders::demo_data(
                orders,
                seed,
                out.as_ref(),
                &shop,
                now.unwrap_or_else(Utc::now),
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
