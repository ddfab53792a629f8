//! Staff accounts and their sign-in sessions.
//!
//! Accounts live in `<data dir>/staff.json` (mode 0600): a name and an
//! argon2id hash per person, managed with `order-status staff add|remove|
//! list`. A session is a signed cookie value, not server state:
//!
//! ```text
//! v1.<name>.<expires_unix>.<hex HMAC-SHA256(session key, "v1.<name>.<expires>")>
//! ```
//!
//! The session key is generated once into `<data dir>/session-key` (0600).
//! Every request re-checks that the account still exists, so removing a
//! person ends their sessions; rotating the key file ends everyone's.

use std::path::{Path, PathBuf};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use thiserror::Error;

use crate::files::write_private;

/// Shortest password `staff add` accepts.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longest password we hash (argon2 is deliberately slow per byte too).
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Why a staff operation failed.
#[derive(Debug, Error)]
pub enum StaffError {
    #[error("a staff name is 1 to 64 letters, digits, '.', '_' or '-'")]
    BadName,
    #[error("the password must be at least {MIN_PASSWORD_CHARS} characters")]
    WeakPassword,
    #[error("the password is longer than {MAX_PASSWORD_BYTES} bytes")]
    LongPassword,
    #[error("there is already a staff account called {0}")]
    Exists(String),
    #[error("there is no staff account called {0}")]
    NoSuchAccount(String),
    #[error("staff accounts file {path}: {reason}")]
    File { path: PathBuf, reason: String },
    #[error("cannot hash the password: {0}")]
    Hash(String),
}

/// One person who may use the staff console.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Account {
    pub name: String,
    /// PHC string of an argon2id hash.
    hash: String,
    pub created_at: DateTime<Utc>,
}

/// The accounts file.
#[derive(Debug, Clone)]
pub struct Accounts {
    path: PathBuf,
    list: Vec<Account>,
}

impl Accounts {
    /// Loads `<data_dir>/staff.json` (absent: no accounts).
    pub fn load(data_dir: &Path) -> Result<Accounts, StaffError> {
        let path = data_dir.join("staff.json");
        let file_err = |reason: String| StaffError::File {
            path: path.clone(),
            reason,
        };
        let list = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| file_err(e.to_string()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(file_err(e.to_string())),
        };
        Ok(Accounts { path, list })
    }

    /// Names, in the order they were added.
    pub fn names(&self) -> Vec<&str> {
        self.list.iter().map(|a| a.name.as_str()).collect()
    }

    pub fn all(&self) -> &[Account] {
        &self.list
    }

    pub fn exists(&self, name: &str) -> bool {
        self.list.iter().any(|a| a.name == name)
    }

    /// Adds an account and saves the file.
    pub fn add(&mut self, name: &str, password: &str) -> Result<(), StaffError> {
        check_name(name)?;
        if password.chars().count() < MIN_PASSWORD_CHARS {
            return Err(StaffError::WeakPassword);
        }
        if self.exists(name) {
            return Err(StaffError::Exists(name.to_string()));
        }
        let hash = hash_password(password)?;
        self.list.push(Account {
            name: name.to_string(),
            hash,
            created_at: Utc::now(),
        });
        self.save()
    }

    /// Removes an account and saves the file; its sessions end with it.
    pub fn remove(&mut self, name: &str) -> Result<(), StaffError> {
        let before = self.list.len();
        self.list.retain(|a| a.name != name);
        if self.list.len() == before {
            return Err(StaffError::NoSuchAccount(name.to_string()));
        }
        self.save()
    }

    /// Whether `password` is right for `name`. An unknown name costs the
    /// same argon2 work as a known one, so timing does not tell names.
    pub fn verify(&self, name: &str, password: &str) -> bool {
        if password.len() > MAX_PASSWORD_BYTES {
            return false;
        }
        let account = self.list.iter().find(|a| a.name == name);
        let hash = account.map_or(DUMMY_HASH, |a| a.hash.as_str());
        let ok = PasswordHash::new(hash)
            .map(|h| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &h)
                    .is_ok()
            })
            .unwrap_or(false);
        ok && account.is_some()
    }

    fn save(&self) -> Result<(), StaffError> {
        let bytes = serde_json::to_vec_pretty(&self.list).map_err(|e| StaffError::File {
            path: self.path.clone(),
            reason: e.to_string(),
        })?;
        write_private(&self.path, &bytes).map_err(|e| StaffError::File {
            path: self.path.clone(),
            reason: e.to_string(),
        })
    }
}

/// An argon2id hash of a password nobody has, verified against when the
/// name is unknown.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$x3R0oWc+0tGOPqQkXn7bqUdEf9KnB+jN1bYVJvj1Q0o";

fn check_name(name: &str) -> Result<(), StaffError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok { Ok(()) } else { Err(StaffError::BadName) }
}

fn hash_password(password: &str) -> Result<String, StaffError> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(StaffError::LongPassword);
    }
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| StaffError::Hash(e.to_string()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| StaffError::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StaffError::Hash(e.to_string()))
}

/// Signs and reads session cookie values.
#[derive(Clone)]
pub struct Sessions {
    key: Vec<u8>,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sessions(<key redacted>)")
    }
}

impl Sessions {
    /// Uses `<data_dir>/session-key`, creating it on first use.
    pub fn open(data_dir: &Path) -> Result<Sessions, StaffError> {
        let path = data_dir.join("session-key");
        let file_err = |e: std::io::Error| StaffError::File {
            path: path.clone(),
            reason: e.to_string(),
        };
        let key = match std::fs::read(&path) {
            Ok(k) if k.len() >= 32 => k,
            Ok(_) => {
                return Err(StaffError::File {
                    path,
                    reason: "shorter than 32 bytes".into(),
                });
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir_all(data_dir).map_err(file_err)?;
                let mut k = vec![0u8; 32];
                getrandom::fill(&mut k).map_err(|e| StaffError::Hash(e.to_string()))?;
                write_private(&path, &k).map_err(file_err)?;
                k
            }
            Err(e) => return Err(file_err(e)),
        };
        Ok(Sessions { key })
    }

    /// A session with a given key (tests).
    pub fn with_key(key: &[u8]) -> Sessions {
        Sessions { key: key.to_vec() }
    }

    /// The cookie value for `name` until `expires`.
    pub fn sign(&self, name: &str, expires: DateTime<Utc>) -> String {
        let body = format!("v1.{name}.{}", expires.timestamp());
        let mac = self.mac(&body).finalize().into_bytes();
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        format!("{body}.{hex}")
    }

    /// The staff name a cookie value stands for, if signed by us and not
    /// expired at `now`.
    pub fn verify(&self, value: &str, now: DateTime<Utc>) -> Option<String> {
        if value.len() > 200 {
            return None;
        }
        let (body, mac_hex) = value.rsplit_once('.')?;
        let mut parts = body.split('.');
        let (Some("v1"), Some(name), Some(exp), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        if mac_hex.len() != 64 {
            return None;
        }
        let given: Vec<u8> = (0..64)
            .step_by(2)
            .map(|i| u8::from_str_radix(mac_hex.get(i..i + 2)?, 16).ok())
            .collect::<Option<_>>()?;
        self.mac(body).verify_slice(&given).ok()?;
        let expires = DateTime::from_timestamp(exp.parse().ok()?, 0)?;
        (expires > now && check_name(name).is_ok()).then(|| name.to_string())
    }

    fn mac(&self, body: &str) -> Hmac<Sha256> {
        let mut m =
            Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes keys of any length");
        m.update(body.as_bytes());
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn accounts_add_verify_remove_and_persist() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut a = Accounts::load(dir.path()).expect("load");
        a.add("maria", "correct horse battery").expect("add");
        assert!(matches!(
            a.add("maria", "another password"),
            Err(StaffError::Exists(_))
        ));
        assert!(matches!(
            a.add("bad name", "long enough pw"),
            Err(StaffError::BadName)
        ));
        assert!(matches!(
            a.add("sam", "short"),
            Err(StaffError::WeakPassword)
        ));
        let a = Accounts::load(dir.path()).expect("reload");
        assert!(a.verify("maria", "correct horse battery"));
        assert!(!a.verify("maria", "wrong password"));
        assert!(!a.verify("nobody", "correct horse battery"));
        let text = std::fs::read_to_string(dir.path().join("staff.json")).expect("file");
        assert!(!text.contains("correct horse"), "only the hash is kept");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("staff.json"))
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let mut a = a;
        a.remove("maria").expect("remove");
        assert!(!Accounts::load(dir.path()).expect("reload").exists("maria"));
        assert!(matches!(
            a.remove("maria"),
            Err(StaffError::NoSuchAccount(_))
        ));
    }

    #[test]
    fn the_dummy_hash_is_a_valid_argon2_hash() {
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
    }

    #[test]
    fn sessions_sign_verify_expire_and_resist_tampering() {
        let s = Sessions::with_key(b"0123456789abcdef0123456789abcdef");
        let now = Utc::now();
        let v = s.sign("maria", now + Duration::hours(1));
        assert_eq!(s.verify(&v, now).as_deref(), Some("maria"));
        assert_eq!(s.verify(&v, now + Duration::hours(2)), None, "expired");
        let forged = v.replacen("maria", "admin", 1);
        assert_eq!(s.verify(&forged, now), None);
        let other = Sessions::with_key(b"another key, 32 bytes long......");
        assert_eq!(other.verify(&v, now), None);
        for junk in [
            "",
            "v1",
            "v1.a.b.c",
            "v1.maria.99999999999.zz",
            &"x".repeat(500),
        ] {
            assert_eq!(s.verify(junk, now), None, "{junk}");
        }
    }

    #[test]
    fn the_session_key_is_created_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = Sessions::open(dir.path()).expect("create");
        let b = Sessions::open(dir.path()).expect("load");
        let v = a.sign("x", Utc::now() + chrono::Duration::minutes(5));
        assert!(b.verify(&v, Utc::now()).is_some());
    }
}
