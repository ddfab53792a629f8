//! How the sources of settings are layered, by two maintained crates: clap
//! reads the flags and the environment (and knows each setting's default),
//! figment merges defaults < file < what the environment or a flag gave.
//!
//! A setting's clap id is its key path in the file (`limits.pages`), so
//! what clap read can be put at the right place of the merged tree and a
//! figment error can name the variable and the flag as well as the key.
//! Values travel between the layers as the text their types write and
//! read back (`values`), and are checked again when the merged tree is
//! read into a [`Config`]: the same checks whatever the source.

use std::path::{Path, PathBuf};

use clap::parser::ValueSource;
use clap::{Arg, ArgMatches, Command, CommandFactory, FromArgMatches, Parser};
use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use serde_json::Value;

use super::{Config, ConfigError, DEFAULT_FILE};

/// The settings alone, as a command line (for tests and `Default`).
#[derive(Debug, Parser)]
#[command(name = "order-status", no_binary_name = true)]
struct SettingsOnly {
    #[command(flatten)]
    config: Config,
}

/// Every setting's argument (flag, variable, default, help).
pub fn settings_args() -> Vec<Arg> {
    SettingsOnly::command()
        .get_arguments()
        .filter(|a| a.get_long().is_some() && !a.is_hide_set())
        .cloned()
        .collect()
}

/// The built-in defaults.
pub(super) fn defaults() -> Config {
    let cmd = without_env(SettingsOnly::command());
    let matches = cmd
        .try_get_matches_from(std::iter::empty::<String>())
        .expect("the built-in defaults parse");
    from_matches(None, &matches).expect("the built-in defaults are valid")
}

/// `cmd` with no setting read from the process environment.
fn without_env(cmd: Command) -> Command {
    cmd.mut_args(|a| a.env(None))
}

/// [`Config::load`]: the variables `env` gives, as flags.
pub(super) fn load_with_env(
    file: Option<&Path>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Config, ConfigError> {
    let mut argv = Vec::new();
    for arg in settings_args() {
        let (Some(var), Some(long)) = (arg.get_env(), arg.get_long()) else {
            continue;
        };
        if let Some(v) = var.to_str().and_then(&env).filter(|v| !v.trim().is_empty()) {
            argv.push(format!("--{long}={v}"));
        }
    }
    let cmd = without_env(SettingsOnly::command());
    let matches = cmd
        .try_get_matches_from(argv)
        .map_err(|e| from_clap(&e).unwrap_or_else(|| invalid_command_line(&e)))?;
    let file = file
        .map(Path::to_path_buf)
        .or_else(|| env("ORDER_STATUS_CONFIG").map(PathBuf::from));
    from_matches(file.as_deref(), &matches)
}

/// The file to read: the one named, or `order-status.toml` when present.
pub fn file_to_read(named: Option<&Path>) -> Option<PathBuf> {
    named
        .map(Path::to_path_buf)
        .or_else(|| Some(PathBuf::from(DEFAULT_FILE)).filter(|p| p.exists()))
}

/// The configuration from what clap parsed (`matches`, a command with
/// [`Config`] flattened in) over `file`.
pub fn from_matches(file: Option<&Path>, matches: &ArgMatches) -> Result<Config, ConfigError> {
    let parsed = Config::from_arg_matches(matches)
        .map_err(|e| from_clap(&e).unwrap_or_else(|| invalid_command_line(&e)))?;
    let all = serde_json::to_value(&parsed).map_err(|e| ConfigError::Invalid {
        name: "settings".into(),
        reason: e.to_string(),
    })?;
    // Only what the environment or a flag said outranks the file.
    let mut given = Value::Object(Default::default());
    for arg in settings_args() {
        let id = arg.get_id().as_str();
        let explicit = matches!(
            matches.value_source(id),
            Some(ValueSource::EnvVariable | ValueSource::CommandLine)
        );
        if explicit && let Some(v) = lookup(&all, id) {
            insert(&mut given, id, v.clone());
        }
    }
    let mut figment = Figment::from(Serialized::defaults(all));
    if let Some(path) = file {
        std::fs::metadata(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        figment = figment.merge(Toml::file_exact(path));
    }
    figment = figment.merge(Serialized::defaults(given));
    let mut config: Config = figment.extract().map_err(|e| from_figment(e, file))?;
    // Not in the file at all: only clap has them.
    config.shopify_env = parsed.shopify_env;
    config.log_format = parsed.log_format;
    config.finish()?;
    Ok(config)
}

fn lookup<'a>(tree: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(tree, |node, key| node.get(key))
}

fn insert(tree: &mut Value, path: &str, value: Value) {
    let mut node = tree;
    let mut keys = path.split('.').peekable();
    while let Some(key) = keys.next() {
        let Value::Object(map) = node else { return };
        if keys.peek().is_none() {
            map.insert(key.to_string(), value);
            return;
        }
        node = map
            .entry(key.to_string())
            .or_insert_with(|| Value::Object(Default::default()));
    }
}

/// The names a setting goes by: its file key, variable and flag.
pub fn names(arg: &Arg) -> String {
    let mut also = Vec::new();
    if let Some(var) = arg.get_env().and_then(|v| v.to_str()) {
        also.push(var.to_string());
    }
    if let Some(long) = arg.get_long() {
        also.push(format!("--{long}"));
    }
    format!("{} ({})", file_key(arg.get_id().as_str()), also.join(", "))
}

/// How a setting's id is written in the file (`[limits] pages`).
pub fn file_key(id: &str) -> String {
    match id.split_once('.') {
        Some(("shopify", key)) => format!("[[shopify]] {key}"),
        Some((section, key)) => format!("[{section}] {key}"),
        None => id.to_string(),
    }
}

fn arg_by_id(id: &str) -> Option<Arg> {
    settings_args().into_iter().find(|a| a.get_id() == id)
}

/// A bad value of a flag or variable, named.
pub fn from_clap(e: &clap::Error) -> Option<ConfigError> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if !matches!(
        e.kind(),
        ErrorKind::ValueValidation | ErrorKind::InvalidValue
    ) {
        return None;
    }
    let Some(ContextValue::String(shown)) = e.get(ContextKind::InvalidArg) else {
        return None;
    };
    // `--limit-lookup <RATE>`
    let long = shown.trim_start_matches("--").split([' ', '=']).next()?;
    let arg = settings_args()
        .into_iter()
        .find(|a| a.get_long() == Some(long))?;
    let reason = match std::error::Error::source(e) {
        Some(inner) => inner.to_string(),
        None => match e.get(ContextKind::InvalidValue) {
            Some(ContextValue::String(v)) => {
                let valid = arg
                    .get_possible_values()
                    .iter()
                    .map(|p| p.get_name().to_string())
                    .collect::<Vec<_>>()
                    .join(", ");
                format!("{v:?} is not one of {valid}")
            }
            _ => "not a valid value".to_string(),
        },
    };
    Some(ConfigError::Invalid {
        name: names(&arg),
        reason,
    })
}

fn invalid_command_line(e: &clap::Error) -> ConfigError {
    ConfigError::Invalid {
        name: "command line".into(),
        reason: e.kind().to_string(),
    }
}

/// A bad value in the file (or one that only fails once merged), named.
fn from_figment(e: figment::Error, file: Option<&Path>) -> ConfigError {
    let path = e.path.join(".");
    let in_file = e.metadata.as_ref().is_some_and(|m| m.name.contains("TOML"));
    let reason = e.kind.to_string();
    if path.is_empty() {
        return match file {
            Some(f) => ConfigError::Parse {
                path: f.to_path_buf(),
                reason,
            },
            None => ConfigError::Invalid {
                name: "settings".into(),
                reason,
            },
        };
    }
    let name = match arg_by_id(&path) {
        Some(arg) => names(&arg),
        None => file_key(&path),
    };
    let name = match (in_file, file) {
        (true, Some(f)) => format!("{name} in {}", f.display()),
        _ => name,
    };
    ConfigError::Invalid { name, reason }
}

/// The README's table of settings: file key, variable, flag, default and
/// meaning of each, from their declarations.
pub fn settings_table() -> String {
    let mut out = String::from(
        "| file key | environment variable | flag | default | meaning |\n|---|---|---|---|---|\n",
    );
    for arg in settings_args() {
        let id = arg.get_id().as_str();
        let key = if id == "log_format" {
            "(not in the file)".to_string()
        } else {
            format!("`{}`", file_key(id))
        };
        let var = arg
            .get_env()
            .and_then(|v| v.to_str())
            .map_or_else(String::new, |v| format!("`{v}`"));
        let long = arg
            .get_long()
            .map_or_else(String::new, |l| format!("`--{l}`"));
        let help = arg
            .get_long_help()
            .or_else(|| arg.get_help())
            .map(|h| h.to_string())
            .unwrap_or_default()
            .replace('\n', " ");
        // A default the declaration cannot hold (it depends on other
        // settings) is written at the end of the help: `[default: ...]`.
        let (meaning, stated) = match help.rsplit_once(" [default: ") {
            Some((m, d)) => (
                m.trim().to_string(),
                Some(d.trim_end_matches(']').to_string()),
            ),
            None => (help.trim().to_string(), None),
        };
        let default = match (arg.get_default_values(), stated) {
            ([], Some(d)) => d,
            ([], None) => "none".to_string(),
            (values, _) => format!(
                "`{}`",
                values
                    .iter()
                    .map(|v| v.to_string_lossy())
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        };
        out.push_str(&format!(
            "| {key} | {var} | {long} | {default} | {} |\n",
            meaning.trim_end_matches('.').replace('|', "\\|")
        ));
    }
    out
}
