//! Staff accounts and their sign-in sessions.
//!
//! Accounts live in `<data dir>/staff.json` (mode 0600): a name, a random
//! id, an argon2id hash and a session epoch per person, managed with
//! `order-status staff add|passwd|remove|list` and the console. Every
//! change (from the console or the commands, even while the server runs)
//! is made under an exclusive lock on `<data dir>/staff.lock`: load,
//! change, write a temp file of its own, rename; so concurrent changes
//! never overwrite each other. A session is a cookie signed with the key
//! in `<data dir>/session-key` (0600), through axum-extra's signed cookie
//! jar; its value says which account (its random id), until when, and the
//! account's session epoch when it was made:
//!
//! ```text
//! <id>.<epoch>.<expires_unix>.<name>
//! ```
//!
//! Every request re-reads the account: a session of a removed account, of
//! another account made later under the same name (a new id), or one older
//! than the account's epoch, is no session. Signing out, changing the
//! password and removing the account bump or drop the epoch, so each ends
//! every session of that person at once; rotating the key file ends
//! everyone's.
//!
//! With replicas (`--replicate`) the accounts and the session key are kept
//! where every replica reads them ([`SharedAccounts`], a JetStream
//! key-value bucket): the first replica whose data dir has accounts brings
//! them, and from then on the staff console's changes go there (compare-
//! and-set, tried again when another replica changed the accounts
//! meanwhile). The local file is then only a copy.

use std::path::{Path, PathBuf};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use std::sync::Arc;

use futures_util::future::BoxFuture;

use crate::files::{FileLock, write_private};

/// Stored accounts (the file's bytes) and their version.
pub type Versioned = (Vec<u8>, u64);

/// Accounts (and the session key) kept where every replica reads them.
pub trait SharedAccounts: Send + Sync + 'static {
    /// The stored accounts (the file's bytes) and their version; `None`
    /// when nothing is stored yet.
    fn load(&self) -> BoxFuture<'static, Result<Option<Versioned>, StaffError>>;
    /// Stores `bytes` if the stored version is still `version` (`None`:
    /// nothing stored); `Ok(false)` when another change came first.
    fn store(
        &self,
        bytes: Vec<u8>,
        version: Option<u64>,
    ) -> BoxFuture<'static, Result<bool, StaffError>>;
    /// The session key every replica signs with; `local` becomes it when
    /// there is none yet.
    /// The shared accounts at `version` could not be read (not what this
    /// site writes): for the store to log and count where it is.
    fn refused(&self, version: u64, why: &str) {
        tracing::error!(version, why, "the shared staff accounts are unreadable");
    }

    fn session_key(&self, local: Vec<u8>) -> BoxFuture<'static, Result<Vec<u8>, StaffError>>;
}

impl std::fmt::Debug for dyn SharedAccounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedAccounts")
    }
}

/// The demo staff account `serve` creates alongside the demo orders (its
/// password is in the README, so every start warns while it exists).
pub const DEMO_STAFF: (&str, &str) = ("demo", "order-status-demo");

/// Compare-and-set rounds for one change of the shared accounts.
const SHARED_ROUNDS: usize = 8;

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
    #[error("cannot hash the password")]
    Hash(#[source] crate::errors::Cause),
    #[error("this is the last admin account: make another admin first")]
    LastAdmin,
    #[error("the shared staff accounts cannot be reached")]
    Shared(#[source] crate::errors::Cause),
}

/// What a staff member may do. Each role may do what the one before may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Search and read orders, share links.
    Viewer,
    /// Also change orders: statuses, bulk changes, resending emails,
    /// revoking links, Shopify write-backs.
    Agent,
    /// Also manage staff accounts and export the audit log.
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Agent, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Agent => "agent",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s.trim())
    }
}

/// Accounts made before roles existed could do everything; they keep that.
fn role_before_roles() -> Role {
    Role::Admin
}

/// One person who may use the staff console.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Account {
    pub name: String,
    /// Random, made with the account: a session names it, so an account
    /// removed and made again under the same name is another person.
    /// (Accounts from before ids get one on load; their sessions end.)
    #[serde(default)]
    pub id: String,
    /// PHC string of an argon2id hash.
    hash: String,
    pub created_at: DateTime<Utc>,
    /// Sessions made before this epoch have ended.
    #[serde(default)]
    pub session_epoch: u32,
    #[serde(default = "role_before_roles")]
    pub role: Role,
}

/// The accounts file.
#[derive(Debug, Clone)]
pub struct Accounts {
    path: PathBuf,
    list: Vec<Account>,
    /// Some accounts had no id when read (written by an older version).
    needed_ids: bool,
}

/// Gives accounts from before ids one; whether any needed it.
fn give_ids(list: &mut [Account]) -> Result<bool, StaffError> {
    let mut any = false;
    for a in list.iter_mut().filter(|a| a.id.is_empty()) {
        a.id = new_id()?;
        any = true;
    }
    Ok(any)
}

impl Accounts {
    /// The accounts: the shared ones when `shared` is given (brought
    /// there from this data dir's file when nothing is shared yet and the
    /// file has accounts), else the file.
    pub async fn load_from(
        data_dir: &Path,
        shared: Option<&Arc<dyn SharedAccounts>>,
    ) -> Result<Accounts, StaffError> {
        Ok(Self::load_versioned(data_dir, shared).await?.0)
    }

    async fn load_versioned(
        data_dir: &Path,
        shared: Option<&Arc<dyn SharedAccounts>>,
    ) -> Result<(Accounts, Option<u64>), StaffError> {
        let Some(shared) = shared else {
            return Ok((Accounts::load(data_dir)?, None));
        };
        for _ in 0..SHARED_ROUNDS {
            match shared.load().await? {
                Some((bytes, version)) => {
                    let mut list: Vec<Account> = match serde_json::from_slice(&bytes) {
                        Ok(list) => list,
                        Err(e) => {
                            // Not what this site writes: this data dir's
                            // own accounts rather than nobody signing in;
                            // the next change replaces the shared value.
                            shared.refused(
                                version,
                                &format!("unreadable accounts ({e}); this replica's file is used until the next change"),
                            );
                            let local = Accounts::load(data_dir)?;
                            return Ok((local, Some(version)));
                        }
                    };
                    let path = accounts_file(data_dir);
                    if give_ids(&mut list)? {
                        // Shared accounts from before ids: store theirs
                        // once, so every replica reads the same.
                        let with_ids = Accounts {
                            path,
                            list,
                            needed_ids: false,
                        };
                        shared.store(with_ids.to_bytes()?, Some(version)).await?;
                        continue;
                    }
                    return Ok((
                        Accounts {
                            path,
                            list,
                            needed_ids: false,
                        },
                        Some(version),
                    ));
                }
                None => {
                    // Nothing shared yet: this data dir's file, read only now.
                    let local = Accounts::load(data_dir)?;
                    if local.list.is_empty() {
                        return Ok((local, None));
                    }
                    if shared.store(local.to_bytes()?, None).await? {
                        tracing::info!(
                            "staff accounts brought to the shared store from this replica"
                        );
                    }
                }
            }
        }
        Err(StaffError::Shared("the accounts keep changing".into()))
    }

    /// Loads, applies `change` (off the async threads: it may hash a
    /// password) and saves: to the shared store when given, again from
    /// the start when another replica changed the accounts meanwhile;
    /// else the file, under its lock.
    pub async fn change(
        data_dir: &Path,
        shared: Option<&Arc<dyn SharedAccounts>>,
        change: impl Fn(&mut Accounts) -> Result<(), StaffError> + Send + Sync + 'static,
    ) -> Result<(), StaffError> {
        if shared.is_none() {
            let dir = data_dir.to_path_buf();
            return tokio::task::spawn_blocking(move || Accounts::change_file(&dir, change))
                .await
                .map_err(|e| StaffError::Hash(e.into()))?;
        }
        let change = Arc::new(change);
        for _ in 0..SHARED_ROUNDS {
            let (mut accounts, version) = Self::load_versioned(data_dir, shared).await?;
            let f = Arc::clone(&change);
            let changed = tokio::task::spawn_blocking(move || {
                f(&mut accounts)?;
                Ok::<_, StaffError>(accounts)
            })
            .await
            .map_err(|e| StaffError::Hash(e.into()))??;
            let Some(shared) = shared else {
                return Ok(());
            };
            if shared.store(changed.to_bytes()?, version).await? {
                return Ok(());
            }
        }
        Err(StaffError::Shared("the accounts keep changing".into()))
    }

    /// Loads the file, applies `change` (which saves) and releases, all
    /// under the file's lock: the one way the file changes (blocking: the
    /// commands call it, the server from a blocking thread).
    pub fn change_file<T>(
        data_dir: &Path,
        change: impl FnOnce(&mut Accounts) -> Result<T, StaffError>,
    ) -> Result<T, StaffError> {
        std::fs::create_dir_all(data_dir).map_err(|e| StaffError::File {
            path: data_dir.to_path_buf(),
            reason: e.to_string(),
        })?;
        let lock_path = data_dir.join("staff.lock");
        let _lock = FileLock::acquire(&lock_path).map_err(|e| StaffError::File {
            path: lock_path.clone(),
            reason: e.to_string(),
        })?;
        let mut accounts = Accounts::load_raw(data_dir)?;
        change(&mut accounts)
    }

    fn to_bytes(&self) -> Result<Vec<u8>, StaffError> {
        serde_json::to_vec_pretty(&self.list).map_err(|e| StaffError::File {
            path: self.path.clone(),
            reason: e.to_string(),
        })
    }

    /// Loads `<data_dir>/staff.json` (absent: no accounts). Accounts from
    /// before ids are given theirs here, once, under the lock.
    pub fn load(data_dir: &Path) -> Result<Accounts, StaffError> {
        let accounts = Accounts::load_raw(data_dir)?;
        if !accounts.needed_ids {
            return Ok(accounts);
        }
        Accounts::change_file(data_dir, |a| if a.needed_ids { a.save() } else { Ok(()) })?;
        Accounts::load_raw(data_dir)
    }

    fn load_raw(data_dir: &Path) -> Result<Accounts, StaffError> {
        let path = accounts_file(data_dir);
        let file_err = |reason: String| StaffError::File {
            path: path.clone(),
            reason,
        };
        let mut list: Vec<Account> = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| file_err(e.to_string()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(file_err(e.to_string())),
        };
        let needed_ids = give_ids(&mut list)?;
        Ok(Accounts {
            path,
            list,
            needed_ids,
        })
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

    /// The account called `name`.
    pub fn get(&self, name: &str) -> Option<&Account> {
        self.list.iter().find(|a| a.name == name)
    }

    /// Ends every session of `name` (sign-out) and saves the file.
    pub fn end_sessions(&mut self, name: &str) -> Result<(), StaffError> {
        let a = self
            .list
            .iter_mut()
            .find(|a| a.name == name)
            .ok_or_else(|| StaffError::NoSuchAccount(name.to_string()))?;
        a.session_epoch = a.session_epoch.saturating_add(1);
        self.save()
    }

    /// Sets a new password, ending every session of the account.
    pub fn set_password(&mut self, name: &str, password: &str) -> Result<(), StaffError> {
        if password.chars().count() < MIN_PASSWORD_CHARS {
            return Err(StaffError::WeakPassword);
        }
        let hash = hash_password(password)?;
        let a = self
            .list
            .iter_mut()
            .find(|a| a.name == name)
            .ok_or_else(|| StaffError::NoSuchAccount(name.to_string()))?;
        a.hash = hash;
        a.session_epoch = a.session_epoch.saturating_add(1);
        self.save()
    }

    /// Adds an admin account and saves the file.
    pub fn add(&mut self, name: &str, password: &str) -> Result<(), StaffError> {
        self.add_with_role(name, password, Role::Admin)
    }

    /// Adds an account with `role` and saves the file.
    pub fn add_with_role(
        &mut self,
        name: &str,
        password: &str,
        role: Role,
    ) -> Result<(), StaffError> {
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
            id: new_id()?,
            hash,
            created_at: Utc::now(),
            session_epoch: 0,
            role,
        });
        self.save()
    }

    /// Gives `name` another role, ending their sessions (a session carries
    /// no role, but a demoted person should sign in again knowingly). The
    /// last admin cannot stop being one.
    pub fn set_role(&mut self, name: &str, role: Role) -> Result<(), StaffError> {
        let admins = self.list.iter().filter(|a| a.role == Role::Admin).count();
        let a = self
            .list
            .iter_mut()
            .find(|a| a.name == name)
            .ok_or_else(|| StaffError::NoSuchAccount(name.to_string()))?;
        if a.role == role {
            return Ok(());
        }
        if a.role == Role::Admin && admins == 1 {
            return Err(StaffError::LastAdmin);
        }
        a.role = role;
        a.session_epoch = a.session_epoch.saturating_add(1);
        self.save()
    }

    /// Removes an account and saves the file; its sessions end with it.
    /// The last admin cannot be removed while other accounts remain.
    pub fn remove(&mut self, name: &str) -> Result<(), StaffError> {
        let admins = self.list.iter().filter(|a| a.role == Role::Admin).count();
        if self.list.len() > 1
            && admins == 1
            && self.get(name).is_some_and(|a| a.role == Role::Admin)
        {
            return Err(StaffError::LastAdmin);
        }
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
        let bytes = self.to_bytes()?;
        write_private(&self.path, &bytes).map_err(|e| StaffError::File {
            path: self.path.clone(),
            reason: e.to_string(),
        })
    }
}

/// 128 random bits, hex.
fn new_id() -> Result<String, StaffError> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|e| StaffError::Hash(e.into()))?;
    Ok(hex::encode(b))
}

fn accounts_file(data_dir: &Path) -> PathBuf {
    data_dir.join("staff.json")
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
    getrandom::fill(&mut salt).map_err(|e| StaffError::Hash(e.into()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| StaffError::Hash(e.into()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StaffError::Hash(e.into()))
}

/// A signed-in person, as the session cookie says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub name: String,
    /// The account's random id (a later account of the same name has
    /// another).
    pub id: String,
    pub epoch: u32,
    pub expires: DateTime<Utc>,
}

impl Session {
    /// A session of `account` until `expires`.
    pub fn of(account: &Account, expires: DateTime<Utc>) -> Session {
        Session {
            name: account.name.clone(),
            id: account.id.clone(),
            epoch: account.session_epoch,
            expires,
        }
    }

    /// The cookie value (signed by the jar): `id.epoch.expires.name`. The
    /// name goes last, so names with dots in them read back whole.
    pub fn value(&self) -> String {
        format!(
            "{}.{}.{}.{}",
            self.id,
            self.epoch,
            self.expires.timestamp(),
            self.name
        )
    }

    /// Reads a cookie value (already verified by the jar).
    pub fn parse(value: &str) -> Option<Session> {
        let mut parts = value.splitn(4, '.');
        let id = parts.next()?;
        if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let epoch = parts.next()?.parse().ok()?;
        let expires = DateTime::from_timestamp(parts.next()?.parse().ok()?, 0)?;
        let name = parts.next()?;
        check_name(name).ok()?;
        Some(Session {
            name: name.to_string(),
            id: id.to_string(),
            epoch,
            expires,
        })
    }

    /// Whether this session still stands: not expired, of this very
    /// account (name and id), and made at or after its session epoch.
    pub fn is_valid(&self, account: &Account, now: DateTime<Utc>) -> bool {
        self.expires > now
            && self.name == account.name
            && !account.id.is_empty()
            && self.id == account.id
            && self.epoch >= account.session_epoch
    }
}

/// The key session cookies are signed with.
#[derive(Clone)]
pub struct Sessions {
    key: axum_extra::extract::cookie::Key,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sessions(<key redacted>)")
    }
}

/// The shortest session key (the cookie crate derives its keys from 32
/// bytes or more).
pub const MIN_KEY_BYTES: usize = 32;

impl Sessions {
    /// Uses `<data_dir>/session-key`, creating it on first use.
    pub fn open(data_dir: &Path) -> Result<Sessions, StaffError> {
        let secret = Self::secret(data_dir)?;
        Sessions::with_key(&secret).ok_or_else(|| StaffError::File {
            path: data_dir.join("session-key"),
            reason: format!("shorter than {MIN_KEY_BYTES} bytes"),
        })
    }

    /// The secret in `<data_dir>/session-key`, made on first use.
    pub fn secret(data_dir: &Path) -> Result<Vec<u8>, StaffError> {
        let path = data_dir.join("session-key");
        let file_err = |e: std::io::Error| StaffError::File {
            path: path.clone(),
            reason: e.to_string(),
        };
        let secret = match std::fs::read(&path) {
            Ok(k) if k.len() >= MIN_KEY_BYTES => k,
            Ok(_) => {
                return Err(StaffError::File {
                    path,
                    reason: format!("shorter than {MIN_KEY_BYTES} bytes"),
                });
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir_all(data_dir).map_err(file_err)?;
                let mut k = vec![0u8; 32];
                getrandom::fill(&mut k).map_err(|e| StaffError::Hash(e.into()))?;
                write_private(&path, &k).map_err(file_err)?;
                k
            }
            Err(e) => return Err(file_err(e)),
        };
        Ok(secret)
    }

    /// Sessions signed with a key derived from `secret`, which must be
    /// [`MIN_KEY_BYTES`] long or more (`None` if not: a shorter one cannot
    /// be derived from, and is no secret).
    pub fn with_key(secret: &[u8]) -> Option<Sessions> {
        (secret.len() >= MIN_KEY_BYTES).then(|| Sessions {
            key: axum_extra::extract::cookie::Key::derive_from(secret),
        })
    }

    /// The signing key, for the cookie jar.
    pub fn key(&self) -> &axum_extra::extract::cookie::Key {
        &self.key
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn session_values_read_back_with_dots_in_names_and_follow_the_epoch() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut a = Accounts::load(dir.path()).expect("load");
        a.add("anna.berg", "correct horse battery")
            .expect("a dotted name");
        let now = Utc::now();
        let account = a.get("anna.berg").expect("account").clone();
        let s = Session::of(
            &account,
            DateTime::from_timestamp(now.timestamp() + 3600, 0).expect("time"),
        );
        let back = Session::parse(&s.value()).expect("reads back");
        assert_eq!(back, s);
        assert!(back.is_valid(&account, now));
        assert!(
            !back.is_valid(&account, now + chrono::Duration::hours(2)),
            "expired"
        );
        a.end_sessions("anna.berg").expect("sign out");
        let account = a.get("anna.berg").expect("account").clone();
        assert!(!back.is_valid(&account, now), "signed out everywhere");
        a.set_password("anna.berg", "another long password")
            .expect("passwd");
        assert!(a.get("anna.berg").expect("account").session_epoch == 2);
        assert!(
            Accounts::load(dir.path())
                .expect("reload")
                .verify("anna.berg", "another long password")
        );
        let id = "0123456789abcdef0123456789abcdef";
        for junk in [
            "",
            "x",
            "1.2",
            "1.2.",
            "1.2.name",
            "a.1.name",
            "1.99999999999999999999.n",
            "1.5.bad name",
            &format!("{id}.1.2."),
            &format!("{id}.x.2.name"),
            "0123456789abcdef.1.2.name",
        ] {
            assert_eq!(Session::parse(junk), None, "{junk}");
        }
    }

    #[test]
    fn an_account_made_again_under_a_removed_name_is_another_person() {
        let dir = tempfile::tempdir().expect("tempdir");
        Accounts::change_file(dir.path(), |a| {
            a.add("admin", "correct horse battery")?;
            a.add_with_role("sam", "sam's long password", Role::Viewer)
        })
        .expect("add");
        let sam = Accounts::load(dir.path())
            .expect("load")
            .get("sam")
            .cloned()
            .expect("sam");
        let old = Session::of(&sam, Utc::now() + chrono::Duration::hours(1));
        Accounts::change_file(dir.path(), |a| a.remove("sam")).expect("remove");
        Accounts::change_file(dir.path(), |a| {
            a.add_with_role("sam", "a new sam's password", Role::Admin)
        })
        .expect("again");
        let new_sam = Accounts::load(dir.path())
            .expect("load")
            .get("sam")
            .cloned()
            .expect("sam");
        assert_eq!(
            new_sam.session_epoch, old.epoch,
            "the epoch alone would not tell"
        );
        assert!(
            !old.is_valid(&new_sam, Utc::now()),
            "the old cookie is not the new account's"
        );
        assert!(
            Session::of(&new_sam, Utc::now() + chrono::Duration::hours(1))
                .is_valid(&new_sam, Utc::now())
        );
    }

    #[test]
    fn changes_made_at_once_are_all_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::thread::scope(|s| {
            for i in 0..12 {
                let dir = dir.path();
                s.spawn(move || {
                    Accounts::change_file(dir, |a| {
                        a.add_with_role(&format!("p{i}"), "a long enough password", Role::Agent)
                    })
                    .expect("add")
                });
            }
        });
        let a = Accounts::load(dir.path()).expect("load");
        assert_eq!(a.all().len(), 12, "{:?}", a.names());
    }

    #[test]
    fn the_session_key_is_created_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = Sessions::open(dir.path()).expect("create");
        let b = Sessions::open(dir.path()).expect("load");
        assert_eq!(a.key().master(), b.key().master());
    }
}
