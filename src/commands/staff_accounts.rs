//! `order-status staff ...`: the console's accounts, changed under the
//! same file lock as the console's own changes.

use std::io::IsTerminal;

use crate::config::Config;
use crate::staff::{Accounts, Role};

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

/// `order-status staff add NAME [--role ROLE]`: the first account is an
/// admin (someone must manage the others), later ones agents.
pub fn add(config: &Config, name: &str, role: Option<&str>) -> anyhow::Result<()> {
    let role = role.map(parse_role).transpose()?;
    let password = read_password(name)?;
    let role = Accounts::change_file(&config.data_dir, |accounts| {
        let role = role.unwrap_or(if accounts.all().is_empty() {
            Role::Admin
        } else {
            Role::Agent
        });
        accounts.add_with_role(name, &password, role).map(|()| role)
    })?;
    println!("Added staff account {name} ({}).", role.as_str());
    Ok(())
}

/// `order-status staff role NAME ROLE`.
pub fn set_role(config: &Config, name: &str, role: &str) -> anyhow::Result<()> {
    let role = parse_role(role)?;
    Accounts::change_file(&config.data_dir, |accounts| accounts.set_role(name, role))?;
    println!(
        "{name} is now {}; their sessions have ended.",
        role.as_str()
    );
    Ok(())
}

/// `order-status staff passwd NAME`: a new password; every session of the
/// account ends.
pub fn passwd(config: &Config, name: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        Accounts::load(&config.data_dir)?.exists(name),
        "there is no staff account called {name}"
    );
    let password = read_password(name)?;
    Accounts::change_file(&config.data_dir, |accounts| {
        accounts.set_password(name, &password)
    })?;
    println!("Changed the password of {name}; their sessions have ended.");
    Ok(())
}

/// `order-status staff remove NAME`.
pub fn remove(config: &Config, name: &str) -> anyhow::Result<()> {
    Accounts::change_file(&config.data_dir, |accounts| accounts.remove(name))?;
    println!("Removed staff account {name}; their sessions have ended.");
    Ok(())
}

/// `order-status staff list`.
pub fn list(config: &Config) -> anyhow::Result<()> {
    let accounts = Accounts::load(&config.data_dir)?;
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
