//! `order-status staff ...`: the console's accounts, changed under the
//! same rules as the console's own changes: this data dir's file (under
//! its lock) on one node; with replication configured, the accounts every
//! replica shares in NATS (the console's), so a command run on any host
//! with the replication settings changes them for all.

use std::io::IsTerminal;
use std::sync::{Arc, Mutex};

use anyhow::Context;

use crate::config::Config;
use crate::staff::{Accounts, Role, SharedAccounts, StaffError};

/// A password from standard input: asked twice, without echo, on a
/// terminal; one line otherwise.
fn read_password(name: &str) -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(format!("Password for {name}: "))?;
        let again = rpassword::prompt_password("Again: ")?;
        anyhow::ensure!(
            first == again,
            "the two passwords differ; nothing was changed"
        );
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\n', '\r']).to_string())
    }
}

fn parse_role(role: &str) -> anyhow::Result<Role> {
    Role::parse(role)
        .ok_or_else(|| anyhow::anyhow!("{role:?} is not a role: viewer, agent or admin"))
}

/// The replicas' shared accounts, when replication is configured.
async fn shared(config: &Config) -> anyhow::Result<Option<Arc<dyn SharedAccounts>>> {
    if !config.replicate.on() {
        return Ok(None);
    }
    let accounts = crate::replicate::cluster_accounts(&config.replicate)
        .await
        .context("reaching NATS for the replicas' staff accounts")?;
    Ok(Some(accounts))
}

/// Applies `change` where the accounts live (see the module's words).
async fn change(
    config: &Config,
    change: impl Fn(&mut Accounts) -> Result<(), StaffError> + Send + Sync + 'static,
) -> anyhow::Result<()> {
    let shared = shared(config).await?;
    Accounts::change(&config.data_dir, shared.as_ref(), change).await?;
    Ok(())
}

/// `order-status staff add NAME [--role ROLE]`: the first account is an
/// admin (someone must manage the others), later ones agents.
pub async fn add(config: &Config, name: &str, role: Option<&str>) -> anyhow::Result<()> {
    let role = role.map(parse_role).transpose()?;
    let password = read_password(name)?;
    let chosen = Arc::new(Mutex::new(None));
    let (who, got) = (name.to_string(), Arc::clone(&chosen));
    change(config, move |accounts| {
        let role = role.unwrap_or(if accounts.all().is_empty() {
            Role::Admin
        } else {
            Role::Agent
        });
        accounts.add_with_role(&who, &password, role)?;
        *got.lock().unwrap_or_else(|p| p.into_inner()) = Some(role);
        Ok(())
    })
    .await?;
    let role = chosen
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .map_or("agent", Role::as_str);
    println!("Added staff account {name} ({role}).");
    Ok(())
}

/// `order-status staff role NAME ROLE`.
pub async fn set_role(config: &Config, name: &str, role: &str) -> anyhow::Result<()> {
    let role = parse_role(role)?;
    let who = name.to_string();
    change(config, move |accounts| accounts.set_role(&who, role)).await?;
    println!(
        "{name} is now {}; their sessions have ended.",
        role.as_str()
    );
    Ok(())
}

/// `order-status staff passwd NAME`: a new password; every session of the
/// account ends.
pub async fn passwd(config: &Config, name: &str) -> anyhow::Result<()> {
    let shared = shared(config).await?;
    anyhow::ensure!(
        Accounts::load_from(&config.data_dir, shared.as_ref())
            .await?
            .exists(name),
        "there is no staff account called {name}"
    );
    let password = read_password(name)?;
    let who = name.to_string();
    Accounts::change(&config.data_dir, shared.as_ref(), move |accounts| {
        accounts.set_password(&who, &password)
    })
    .await?;
    println!("Changed the password of {name}; their sessions have ended.");
    Ok(())
}

/// `order-status staff remove NAME`.
pub async fn remove(config: &Config, name: &str) -> anyhow::Result<()> {
    let who = name.to_string();
    change(config, move |accounts| accounts.remove(&who)).await?;
    println!("Removed staff account {name}; their sessions have ended.");
    Ok(())
}

/// `order-status staff list`.
pub async fn list(config: &Config) -> anyhow::Result<()> {
    let shared = shared(config).await?;
    let accounts = Accounts::load_from(&config.data_dir, shared.as_ref()).await?;
    if accounts.all().is_empty() {
        println!("No staff accounts. Add one with `order-status staff add NAME`.");
    }
    for a in accounts.all() {
        println!(
            "{}\t{}\tadded {}",
            a.name,
            a.role.as_str(),
            a.created_at.format("%Y-%m-%d %H:%M UTC")
        );
    }
    Ok(())
}
