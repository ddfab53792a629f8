//! Where messages leave the site: an SMTP server (lettre's async
//! transport: plain, STARTTLS or TLS, with auth, as the URL says), or
//! `.eml` files in a directory for a site with no mail server (the demo).
//!
//! The file transport is ours rather than lettre's `AsyncFileTransport`
//! because lettre names each file by a random UUID: here a message's file
//! is named by its idempotency key, so sending the same message again
//! after a crash rewrites the same file instead of adding a second one.
//!
//! For `smtp://` URLs (plain or STARTTLS) the connections are lettre's own
//! `AsyncSmtpConnection`s, but opened here, over sockets with `TCP_NODELAY`
//! ([`Direct`]). lettre's pooled transport leaves Nagle's algorithm on and
//! writes a message and its closing `.` separately, so the `.` waits for
//! the server's delayed ACK: about 40 ms per message on Linux, which capped
//! four workers at under 100 messages a second (benches/mail.rs). `smtps://`
//! (TLS from the first byte) still goes through lettre's transport.

use std::path::{Path, PathBuf};
use std::time::Duration;

use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Certificate, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::NotifyError;
use crate::config::{MailConfig, MailTransport};

/// How long one SMTP conversation may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// A configured transport.
#[derive(Clone)]
pub enum Transport {
    /// `smtp://`: our own connections (see the module docs).
    Direct(std::sync::Arc<Direct>),
    /// `smtps://`: lettre's pooled transport.
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files(PathBuf),
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Transport::Direct(d) => write!(f, "Transport::Direct({}:{})", d.host, d.port),
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
            Some(MailTransport::Smtp(url)) if url.expose().starts_with("smtp://") => {
                let mut direct = Direct::from_url(url.expose())?;
                direct.ca_pem = mail.ca_pem.clone();
                Ok(Transport::Direct(std::sync::Arc::new(direct)))
            }
            Some(MailTransport::Smtp(url)) => {
                let mut builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())
                    .map_err(|e| NotifyError::Transport(e.into()))?;
                if mail.ca_pem.is_some() {
                    // lettre made TLS parameters from the URL with the
                    // public roots only; the same, plus the config's CA.
                    let host = url::Url::parse(url.expose())
                        .ok()
                        .and_then(|u| u.host_str().map(str::to_string))
                        .ok_or_else(|| {
                            NotifyError::Transport("the SMTP URL names no host".into())
                        })?;
                    let params = tls_parameters(&host, mail.ca_pem.as_deref())
                        .map_err(|e| NotifyError::Transport(e.into()))?;
                    builder = builder.tls(Tls::Wrapper(params));
                }
                Ok(Transport::Smtp(builder.timeout(Some(SMTP_TIMEOUT)).build()))
            }
            Some(MailTransport::Files(dir)) => Ok(Transport::Files(dir.clone())),
            None => Ok(Transport::Files(default_dir(data_dir))),
        }
    }

    /// Where the file transport writes, if it is the file transport.
    pub fn dir(&self) -> Option<&Path> {
        match self {
            Transport::Files(d) => Some(d),
            Transport::Smtp(_) | Transport::Direct(_) => None,
        }
    }

    /// Sends one message; `name` names its file for the file transport.
    pub async fn send(&self, message: &Message, name: &str) -> Result<(), SendError> {
        match self {
            Transport::Direct(d) => d.send(message).await,
            Transport::Smtp(t) => t.send(message.clone()).await.map(drop).map_err(smtp_error),
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
            Transport::Direct(d) => d.check().await,
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

/// How `smtp://` connections are secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StartTls {
    No,
    /// `?tls=opportunistic`: if the server offers it.
    IfOffered,
    /// `?tls=required`.
    Required,
}

/// Most idle connections kept for reuse.
const MAX_IDLE: usize = 64;
/// An idle connection older than this is closed rather than reused
/// (servers drop idle clients after a minute or so).
const MAX_IDLE_AGE: Duration = Duration::from_secs(30);

/// `smtp://` with our own connections: lettre's `AsyncSmtpConnection` over
/// a `TCP_NODELAY` socket, reused between messages.
pub struct Direct {
    host: String,
    port: u16,
    starttls: StartTls,
    credentials: Option<Credentials>,
    hello: ClientId,
    /// `mail.ca_file`'s certificates, trusted for STARTTLS too.
    ca_pem: Option<String>,
    idle: std::sync::Mutex<Vec<(AsyncSmtpConnection, std::time::Instant)>>,
}

/// A 5xx fails the message, except 530 ("authentication required",
/// "must issue STARTTLS first"): that says the site's mail settings are
/// wrong, not the message, and the message must still go out once they
/// are fixed.
fn smtp_error(e: lettre::transport::smtp::Error) -> SendError {
    let wants_sign_in = e.status().is_some_and(|c| u16::from(c) == 530);
    if e.is_permanent() && !wants_sign_in {
        SendError::Permanent(e.to_string())
    } else if wants_sign_in {
        SendError::Temporary(format!(
            "{e} (the server wants TLS or a sign-in first: check ORDER_STATUS_SMTP_URL)"
        ))
    } else {
        SendError::Temporary(e.to_string())
    }
}

impl std::fmt::Debug for Direct {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Direct")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("starttls", &self.starttls)
            .finish_non_exhaustive()
    }
}

impl Direct {
    /// Reads an `smtp://` URL the way lettre does: port 25 (587 with
    /// `tls=`), `tls=required|opportunistic` for STARTTLS, credentials
    /// percent-decoded, a path as the EHLO name.
    fn from_url(raw: &str) -> Result<Direct, NotifyError> {
        let bad = |why: &str| NotifyError::Transport(why.to_string().into());
        let url = url::Url::parse(raw).map_err(|e| NotifyError::Transport(e.into()))?;
        let host = url.host_str().ok_or_else(|| bad("no host"))?.to_string();
        let tls = url
            .query_pairs()
            .find(|(k, _)| k == "tls")
            .map(|(_, v)| v.to_string());
        let starttls = match tls.as_deref() {
            None => StartTls::No,
            Some("required") => StartTls::Required,
            Some("opportunistic") => StartTls::IfOffered,
            Some(other) => return Err(bad(&format!("unknown tls={other}"))),
        };
        let default_port = if starttls == StartTls::No { 25 } else { 587 };
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .map(|c| c.into_owned())
                .map_err(|_| bad("credentials are not UTF-8"))
        };
        let credentials = match url.password() {
            Some(p) => Some(Credentials::new(decode(url.username())?, decode(p)?)),
            None => None,
        };
        let path = url.path().trim_matches('/');
        Ok(Direct {
            port: url.port().unwrap_or(default_port),
            host,
            starttls,
            credentials,
            hello: if path.is_empty() {
                ClientId::default()
            } else {
                ClientId::Domain(path.to_string())
            },
            ca_pem: None,
            idle: std::sync::Mutex::default(),
        })
    }

    /// Connects, secures and signs in. Any failure here is temporary,
    /// even a 5xx: a wrong password or a broken TLS set-up is fixed in
    /// the config, and the messages must still go out once it is.
    async fn open(&self) -> Result<AsyncSmtpConnection, SendError> {
        let temporary = |what: &str, e: &dyn std::fmt::Display| {
            SendError::Temporary(format!("{what} {}:{}: {e}", self.host, self.port))
        };
        let connect = tokio::net::TcpStream::connect((self.host.as_str(), self.port));
        let tcp = match tokio::time::timeout(SMTP_TIMEOUT, connect).await {
            Ok(Ok(tcp)) => tcp,
            Ok(Err(e)) => return Err(temporary("cannot connect to", &e)),
            Err(_) => return Err(temporary("timed out connecting to", &"no answer")),
        };
        let _ = tcp.set_nodelay(true);
        let mut conn = AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &self.hello)
            .await
            .map_err(|e| temporary("no SMTP greeting from", &e))?;
        let offered = conn.can_starttls();
        match (self.starttls, offered) {
            (StartTls::No, _) | (StartTls::IfOffered, false) => {}
            (StartTls::Required, _) | (StartTls::IfOffered, true) => {
                let params = tls_parameters(&self.host, self.ca_pem.as_deref())
                    .map_err(|e| temporary("TLS set-up for", &e))?;
                conn.starttls(params, &self.hello)
                    .await
                    .map_err(|e| temporary("STARTTLS failed with", &e))?;
            }
        }
        if let Some(c) = &self.credentials {
            conn.auth(DEFAULT_MECHANISMS, c)
                .await
                .map_err(|e| temporary("sign-in refused by", &e))?;
        }
        Ok(conn)
    }

    fn take_idle(&self) -> Option<AsyncSmtpConnection> {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        while let Some((c, since)) = idle.pop() {
            if since.elapsed() < MAX_IDLE_AGE && !c.has_broken() {
                return Some(c);
            }
        }
        None
    }

    fn put_idle(&self, conn: AsyncSmtpConnection) {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push((conn, std::time::Instant::now()));
        }
    }

    async fn send(&self, message: &Message) -> Result<(), SendError> {
        let bytes = message.formatted();
        // A reused connection the server has meanwhile closed fails at
        // once; that is no reason to wait for a retry: one fresh try.
        if let Some(mut conn) = self.take_idle() {
            match tokio::time::timeout(SMTP_TIMEOUT, conn.send(message.envelope(), &bytes)).await {
                Ok(Ok(_)) => {
                    self.put_idle(conn);
                    return Ok(());
                }
                Ok(Err(e)) if e.is_permanent() || e.is_transient() => {
                    // The server answered: the connection is fine.
                    if !conn.has_broken() {
                        self.put_idle(conn);
                    }
                    return Err(smtp_error(e));
                }
                _ => {}
            }
        }
        let mut conn = match tokio::time::timeout(SMTP_TIMEOUT, self.open()).await {
            Ok(r) => r?,
            Err(_) => return Err(SendError::Temporary("timed out connecting".into())),
        };
        match tokio::time::timeout(SMTP_TIMEOUT, conn.send(message.envelope(), &bytes)).await {
            Ok(Ok(_)) => {
                self.put_idle(conn);
                Ok(())
            }
            Ok(Err(e)) => {
                if !conn.has_broken() {
                    self.put_idle(conn);
                }
                Err(smtp_error(e))
            }
            Err(_) => Err(SendError::Temporary("timed out sending".into())),
        }
    }

    async fn check(&self) -> Result<(), String> {
        let mut conn = self.open().await.map_err(|e| match e {
            SendError::Temporary(e) | SendError::Permanent(e) => e,
        })?;
        let ok = conn.test_connected().await;
        let _ = conn.quit().await;
        if ok {
            Ok(())
        } else {
            Err("the server did not answer NOOP".into())
        }
    }
}

/// TLS for `host`: the public roots, and `ca_pem`'s certificates too.
fn tls_parameters(
    host: &str,
    ca_pem: Option<&str>,
) -> Result<TlsParameters, lettre::transport::smtp::Error> {
    let mut builder = TlsParameters::builder(host.to_string());
    if let Some(pem) = ca_pem {
        builder = builder.add_root_certificate(Certificate::from_pem(pem.as_bytes())?);
    }
    builder.build()
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
