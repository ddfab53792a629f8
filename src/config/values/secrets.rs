//! Secret settings: tokens, keys and URLs that may hold a password. Their
//! `Debug` says only that they are there, they have no `Display`, and a
//! refusal names the setting without its value; the strong kinds refuse
//! what a guess would find.

use std::fmt;
use std::ops::Deref;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::Reason;
use crate::links::LinkKey;

/// A secret setting (a token, a password in a URL): its `Debug` says only
/// that it is there, and it has no `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// A secret read from a file (a key), taken as it is.
    pub fn new(secret: String) -> Secret {
        Secret(secret)
    }

    /// The secret itself, for using and comparing; never for logging.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl FromStr for Secret {
    type Err = Reason;
    fn from_str(s: &str) -> Result<Self, Reason> {
        let t = s.trim();
        if t.chars().any(char::is_control) {
            // Never echoed: it is a secret.
            return Err("holds a control character (a line break pasted in?)".into());
        }
        if t.is_empty() {
            return Err("cannot be empty".into());
        }
        Ok(Secret(t.to_string()))
    }
}

/// Serialized as itself: only for merging the layers, never shown.
impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// Fewest characters a configured secret may have.
pub const MIN_SECRET_CHARS: usize = 16;
/// Fewest different characters in it: `aaaaaaaaaaaaaaaa` is 16 long and
/// guessed at once; a random 16-character secret has about 13.
pub const MIN_SECRET_VARIETY: usize = 8;

/// A secret a person could have typed badly is refused: too short, or too
/// little variety (a repeated character or a short pattern). Generated
/// secrets pass easily (`openssl rand -hex 32`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Secret", into = "Secret")]
pub struct StrongSecret(Secret);
newtype!(StrongSecret, Secret);

impl fmt::Debug for StrongSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl TryFrom<Secret> for StrongSecret {
    type Error = Reason;
    fn try_from(secret: Secret) -> Result<Self, Reason> {
        strong(secret.expose())?;
        Ok(StrongSecret(secret))
    }
}

impl From<StrongSecret> for Secret {
    fn from(s: StrongSecret) -> Secret {
        s.0
    }
}

impl FromStr for StrongSecret {
    type Err = Reason;
    fn from_str(s: &str) -> Result<Self, Reason> {
        s.parse::<Secret>()?.try_into()
    }
}

/// Whether a secret is long and varied enough (see [`StrongSecret`]).
pub fn strong(secret: &str) -> Result<(), Reason> {
    let chars = secret.chars().count();
    let mut seen: Vec<char> = secret.chars().collect();
    seen.sort_unstable();
    seen.dedup();
    if chars < MIN_SECRET_CHARS || seen.len() < MIN_SECRET_VARIETY {
        return Err(format!(
            "too weak: a secret needs at least {MIN_SECRET_CHARS} characters, {MIN_SECRET_VARIETY} of them different (this one has {chars} characters, {} different); generate one, e.g. `openssl rand -hex 32`",
            seen.len()
        ));
    }
    Ok(())
}

/// A link signing key, `ID=SECRET` (the secret strong, never echoed).
#[derive(Clone, Serialize, Deserialize)]
#[serde(try_from = "Secret", into = "Secret")]
pub struct LinkKeySetting {
    text: Secret,
    key: LinkKey,
}

impl LinkKeySetting {
    /// The key.
    pub fn key(&self) -> &LinkKey {
        &self.key
    }
}

impl fmt::Debug for LinkKeySetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LinkKey({}=<redacted>)", self.key.id)
    }
}

impl PartialEq for LinkKeySetting {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl TryFrom<Secret> for LinkKeySetting {
    type Error = Reason;
    fn try_from(text: Secret) -> Result<Self, Reason> {
        let (id, secret) = text
            .expose()
            .split_once('=')
            .ok_or_else(|| "each key is ID=SECRET".to_string())?;
        let (id, secret) = (id.trim(), secret.trim());
        strong(secret).map_err(|e| format!("the key {id}: {e}"))?;
        let key = LinkKey::new(id, secret.as_bytes()).map_err(|e| e.to_string())?;
        Ok(LinkKeySetting { text, key })
    }
}

impl From<LinkKeySetting> for Secret {
    fn from(k: LinkKeySetting) -> Secret {
        k.text
    }
}

impl FromStr for LinkKeySetting {
    type Err = Reason;
    fn from_str(s: &str) -> Result<Self, Reason> {
        s.parse::<Secret>()?.try_into()
    }
}

/// An SMTP server in lettre's URL form; a secret (it may hold a password,
/// never shown).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Secret", into = "Secret")]
pub struct SmtpUrl(pub Secret);
newtype!(SmtpUrl, Secret);

impl TryFrom<Secret> for SmtpUrl {
    type Error = Reason;
    fn try_from(url: Secret) -> Result<Self, Reason> {
        // lettre parses it again when the transport is built; checking here
        // stops start-up with a clear word (and no password in it).
        lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(url.expose())
            .map(|_| SmtpUrl(url.clone()))
            .map_err(|e| {
                format!(
                    "{:?} is not an SMTP URL such as smtp://127.0.0.1:2525 or smtps://user:pass@host:465 ({e})",
                    crate::logsafe::url_without_password(url.expose())
                )
            })
    }
}

impl From<SmtpUrl> for Secret {
    fn from(u: SmtpUrl) -> Secret {
        u.0
    }
}

impl FromStr for SmtpUrl {
    type Err = Reason;
    fn from_str(s: &str) -> Result<Self, Reason> {
        s.parse::<Secret>()?.try_into()
    }
}

/// A NATS server address, `nats://host:port` (or `tls://`), with or
/// without credentials (`nats://user:password@host:4222`,
/// `nats://token@host:4222`); a secret: shown only as [`NatsUrl::redacted`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Secret", into = "Secret")]
pub struct NatsUrl(pub Secret);
newtype!(NatsUrl, Secret);

/// What a NATS URL's user part says.
#[derive(Clone, PartialEq, Eq)]
pub enum NatsUrlAuth {
    /// `user:password@`.
    UserPassword(String, String),
    /// `token@`.
    Token(String),
}

impl fmt::Debug for NatsUrlAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NatsUrlAuth::UserPassword(..) => "UserPassword(<redacted>)",
            NatsUrlAuth::Token(_) => "Token(<redacted>)",
        })
    }
}

impl NatsUrl {
    /// The address with any credentials replaced by `***`: for logs and
    /// error messages.
    pub fn redacted(&self) -> String {
        redact_nats(self.0.expose())
    }

    /// The address without its credentials (what the client dials).
    pub fn without_credentials(&self) -> String {
        match url::Url::parse(self.0.expose()) {
            Ok(mut u) => {
                let _ = u.set_username("");
                let _ = u.set_password(None);
                u.to_string().trim_end_matches('/').to_string()
            }
            Err(_) => self.redacted(),
        }
    }

    /// The credentials in the address, if any (percent-decoded).
    pub fn auth(&self) -> Option<NatsUrlAuth> {
        let u = url::Url::parse(self.0.expose()).ok()?;
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        };
        let user = decode(u.username());
        match u.password() {
            Some(p) => Some(NatsUrlAuth::UserPassword(user, decode(p))),
            None if !user.is_empty() => Some(NatsUrlAuth::Token(user)),
            None => None,
        }
    }
}

fn redact_nats(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.rsplit_once('@') {
        Some((_, host)) => format!("{scheme}://***@{host}"),
        None => url.to_string(),
    }
}

impl TryFrom<Secret> for NatsUrl {
    type Error = Reason;
    fn try_from(secret: Secret) -> Result<Self, Reason> {
        let t = secret.expose().trim();
        let bad = |why: &str| format!("{:?} {why} (give nats://host:port)", redact_nats(t));
        let url = url::Url::parse(t).map_err(|_| bad("is not an address"))?;
        if !matches!(url.scheme(), "nats" | "tls") {
            return Err(bad("is not a nats:// or tls:// address"));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(bad("names no host"));
        }
        if !matches!(url.path(), "" | "/") || url.query().is_some() {
            return Err(bad("has a path"));
        }
        Ok(NatsUrl(Secret::new(t.to_string())))
    }
}

impl From<NatsUrl> for Secret {
    fn from(u: NatsUrl) -> Secret {
        u.0
    }
}

impl FromStr for NatsUrl {
    type Err = Reason;
    fn from_str(s: &str) -> Result<Self, Reason> {
        s.parse::<Secret>()?.try_into()
    }
}
