//! Where messages leave the site: an SMTP server (lettre's async
//! transport: plain, STARTTLS or TLS, with auth, as the URL says), or
//! `.eml` files in a directory for a site with no mail server (the demo).
//!
//! The file transport is ours rather than lettre's `AsyncFileTransport`
//! because lettre names each file by a random UUID: here a message's file
//! is named by its idempotency key, so sending the same message again
//! after a crash rewrites the same file instead of adding a second one.

use std::path::{Path, PathBuf};
use std::time::Duration;

use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::NotifyError;
use crate::config::{MailConfig, MailTransport};

/// How long one SMTP conversation may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// A configured transport.
#[derive(Clone)]
pub enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files(PathBuf),
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Transport::Smtp(_) => f.write_str("Transport::Smtp"),
            Transport::Files(p) => write!(f, "Transport::Files({})", p.display()),
        }
    }
}

/// Why a message did not go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// Try again later: no connection, a timeout, a 4xx reply.
    Temporary(String),
    /// Never going to work: a 5xx reply.
    Permanent(String),
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SendError::Temporary(e) => write!(f, "temporary failure: {e}"),
            SendError::Permanent(e) => write!(f, "refused: {e}"),
        }
    }
}

impl Transport {
    /// The transport the config names; files under `data_dir/mail/sent`
    /// when it names none.
    pub fn from_config(mail: &MailConfig, data_dir: &Path) -> Result<Transport, NotifyError> {
        match &mail.transport {
            Some(MailTransport::Smtp(url)) => {
                let t = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())
                    .map_err(|e| NotifyError::Transport(e.to_string()))?
                    .timeout(Some(SMTP_TIMEOUT))
                    .build();
                Ok(Transport::Smtp(t))
            }
            Some(MailTransport::Files(dir)) => Ok(Transport::Files(dir.clone())),
            None => Ok(Transport::Files(default_dir(data_dir))),
        }
    }

    /// Where the file transport writes, if it is the file transport.
    pub fn dir(&self) -> Option<&Path> {
        match self {
            Transport::Files(d) => Some(d),
            Transport::Smtp(_) => None,
        }
    }

    /// Sends one message; `name` names its file for the file transport.
    pub async fn send(&self, message: &Message, name: &str) -> Result<(), SendError> {
        match self {
            Transport::Smtp(t) => match t.send(message.clone()).await {
                Ok(_) => Ok(()),
                Err(e) if e.is_permanent() => Err(SendError::Permanent(e.to_string())),
                Err(e) => Err(SendError::Temporary(e.to_string())),
            },
            Transport::Files(dir) => {
                let bytes = message.formatted();
                let dir = dir.clone();
                let name = format!("{name}.eml");
                tokio::task::spawn_blocking(move || write_file(&dir, &name, &bytes))
                    .await
                    .map_err(|e| SendError::Temporary(e.to_string()))?
                    .map_err(|e| SendError::Temporary(e.to_string()))
            }
        }
    }

    /// Opens a connection (and TLS and auth, if configured) without
    /// sending anything: `mail test` says which step failed.
    pub async fn check(&self) -> Result<(), String> {
        match self {
            Transport::Smtp(t) => match t.test_connection().await {
                Ok(true) => Ok(()),
                Ok(false) => Err("the server did not answer NOOP".into()),
                Err(e) => Err(e.to_string()),
            },
            Transport::Files(dir) => std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display())),
        }
    }
}

/// The file transport's directory under a data dir.
pub fn default_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("mail").join("sent")
}

fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".{name}.tmp"));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, dir.join(name))
}
