//! Day counters of shopper activity: per UTC day, shop and kind, how many
//! status pages were viewed, lookups found or missed, links opened from
//! emails, "email me my link" requests, status emails sent (by event) and
//! opt-outs; and per order-placed day, how many orders' shoppers looked at
//! least once. Numbers only: no address, order number or IP is kept (the
//! set of orders already looked at holds 64-bit digests of order keys).
//!
//! Counting must cost a page nothing, so [`DayCounters::add`] only bumps a
//! number in memory; [`DayCounters::run`] stores what was counted every
//! [`FLUSH_EVERY`] and once more when the site stops. Alone, the counters
//! live in `<data dir>/insights/days.json` (rewritten whole, atomically:
//! a few thousand numbers) and the digests in `insights/looked` (eight
//! bytes each, appended). A crash loses at most the last seconds' counts.
//!
//! With replicas the counters are the cluster's ([`SharedCounters`], a
//! NATS key-value bucket): each replica adds its counts to the stored
//! totals with compare-and-set, and follows the bucket, so every replica
//! shows the sum of all. Whether an order was looked at before is asked
//! of the bucket too (a create that only one replica wins).

use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::order::insight::day_number;

/// How often counts are stored.
pub const FLUSH_EVERY: Duration = Duration::from_secs(2);

/// What is counted.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// A status page shown to a shopper (staff signed in are not counted).
    View,
    /// A lookup that found the order.
    LookupFound,
    /// A lookup that found nothing.
    LookupMissed,
    /// A status link opened from one of our emails.
    LinkOpened,
    /// "Email me my link" asked for (found or not: the shopper asked).
    LinkRequested,
    /// An address opted out of every order email.
    OptOut,
    /// A status email sent, by its event (`shipped`, ...).
    Sent(String),
    /// An order's shopper looked for the first time; counted on the day
    /// the order was placed.
    FirstLook,
}

impl Kind {
    /// The stored name (`view`, `sent.shipped`, ...).
    pub fn name(&self) -> String {
        match self {
            Kind::View => "view".into(),
            Kind::LookupFound => "lookup_found".into(),
            Kind::LookupMissed => "lookup_missed".into(),
            Kind::LinkOpened => "link_opened".into(),
            Kind::LinkRequested => "link_requested".into(),
            Kind::OptOut => "opt_out".into(),
            Kind::Sent(event) => format!("sent.{event}"),
            Kind::FirstLook => "first_look".into(),
        }
    }

    /// The kind a stored name names (`None`: not one of ours).
    pub fn parse(name: &str) -> Option<Kind> {
        Some(match name {
            "view" => Kind::View,
            "lookup_found" => Kind::LookupFound,
            "lookup_missed" => Kind::LookupMissed,
            "link_opened" => Kind::LinkOpened,
            "link_requested" => Kind::LinkRequested,
            "opt_out" => Kind::OptOut,
            "first_look" => Kind::FirstLook,
            other => {
                let event = other.strip_prefix("sent.")?;
                if event.is_empty()
                    || !event
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b == b'_' || b.is_ascii_digit())
                {
                    return None;
                }
                Kind::Sent(event.to_string())
            }
        })
    }
}

/// One counter: a day ([`day_number`]), a shop and a kind.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Key {
    pub day: u64,
    pub shop: String,
    pub kind: String,
}

impl Key {
    /// The bucket key: `<day>.<shop, hex>.<kind>` (NATS keys allow few
    /// characters; a shop domain in hex is always one).
    pub fn to_bucket_key(&self) -> String {
        format!("{}.{}.{}", self.day, hex::encode(&self.shop), self.kind)
    }

    /// The key a bucket key names (`None`: not one of ours).
    pub fn from_bucket_key(s: &str) -> Option<Key> {
        let mut parts = s.splitn(3, '.');
        let day = parts.next()?.parse().ok()?;
        let shop = String::from_utf8(hex::decode(parts.next()?).ok()?).ok()?;
        let kind = parts.next()?;
        Kind::parse(kind)?;
        Some(Key {
            day,
            shop,
            kind: kind.to_string(),
        })
    }
}

/// Counters kept where every replica sees them.
pub trait SharedCounters: Send + Sync + 'static {
    /// Adds `n` to the stored total of `key`; resolves once stored, with
    /// the new total.
    fn add(&self, key: Key, n: u64) -> BoxFuture<'static, std::io::Result<u64>>;
    /// Records that an order (by digest) was looked at; whether this was
    /// the first time anywhere.
    fn first_look(&self, digest: u64) -> BoxFuture<'static, std::io::Result<bool>>;
}

impl std::fmt::Debug for dyn SharedCounters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedCounters")
    }
}

/// Why the counters could not be read or stored.
#[derive(Debug, thiserror::Error)]
pub enum CounterError {
    #[error("the insight counters in {path}")]
    File {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the insight counters in {path} are not ours")]
    Corrupt {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
}

#[derive(Debug, Default)]
struct Counts {
    /// Totals stored (on disk, or in the shared bucket as last seen).
    stored: BTreeMap<Key, u64>,
    /// Counted here, not stored yet.
    pending: BTreeMap<Key, u64>,
    /// Orders looked at (digests), and those not yet stored.
    looked: HashSet<u64>,
    looked_pending: Vec<(u64, String, Option<u64>)>,
}

/// The day counters (see the module's words).
#[derive(Debug)]
pub struct DayCounters {
    dir: PathBuf,
    counts: Mutex<Counts>,
    /// One flush at a time.
    flushing: tokio::sync::Mutex<()>,
    shared: OnceLock<Arc<dyn SharedCounters>>,
}

#[derive(Serialize, Deserialize)]
struct File {
    counters: Vec<Stored>,
}

#[derive(Serialize, Deserialize)]
struct Stored {
    day: u64,
    shop: String,
    kind: String,
    n: u64,
}

/// The 64-bit digest an order key is remembered by.
pub fn order_digest(order_key: &str) -> u64 {
    let d = Sha256::digest(order_key.as_bytes());
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    u64::from_le_bytes(b)
}

impl DayCounters {
    /// Loads `<data_dir>/insights` (absent: nothing counted yet).
    pub fn open(data_dir: &Path) -> Result<DayCounters, CounterError> {
        let dir = data_dir.join("insights");
        let mut counts = Counts::default();
        let days = dir.join("days.json");
        match std::fs::read(&days) {
            Ok(bytes) => {
                // Shoppers come before statistics: a file that is not ours
                // (edited by hand, damaged) is kept aside, said, and the
                // site starts counting afresh rather than not at all.
                let file: File = match serde_json::from_slice(&bytes) {
                    Ok(f) => f,
                    Err(e) => {
                        let aside = dir.join(format!(
                            "days.json.unreadable-{}",
                            chrono::Utc::now().format("%Y%m%dT%H%M%S")
                        ));
                        std::fs::rename(&days, &aside).map_err(|source| CounterError::File {
                            path: days.clone(),
                            source,
                        })?;
                        let e = CounterError::Corrupt {
                            path: days.clone(),
                            source: e,
                        };
                        tracing::error!(error = %crate::errors::chain(&e), kept = %aside.display(), "insight counters unreadable; kept aside, counting afresh");
                        File {
                            counters: Vec::new(),
                        }
                    }
                };
                for s in file.counters {
                    if Kind::parse(&s.kind).is_some() {
                        counts.stored.insert(
                            Key {
                                day: s.day,
                                shop: s.shop,
                                kind: s.kind,
                            },
                            s.n,
                        );
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(CounterError::File { path: days, source }),
        }
        let looked = dir.join("looked");
        match std::fs::read(&looked) {
            // A torn last record (a crash mid-append) is left out.
            Ok(bytes) => counts.looked.extend(
                bytes
                    .chunks_exact(8)
                    .map(|c| u64::from_le_bytes(c.try_into().unwrap_or([0; 8]))),
            ),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(CounterError::File {
                    path: looked,
                    source,
                });
            }
        }
        Ok(DayCounters {
            dir,
            counts: Mutex::new(counts),
            flushing: tokio::sync::Mutex::new(()),
            shared: OnceLock::new(),
        })
    }

    /// Keeps the counters where every replica sees them from now on.
    pub fn set_shared(&self, shared: Arc<dyn SharedCounters>) {
        let _ = self.shared.set(shared);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Counts one `kind` for `shop` at `at`.
    pub fn add(&self, shop: &str, kind: Kind, at: DateTime<Utc>) {
        let key = Key {
            day: day_number(at),
            shop: shop.to_string(),
            kind: kind.name(),
        };
        *self.lock().pending.entry(key).or_insert(0) += 1;
    }

    /// A shopper looked at the order `order_key` of `shop`, placed at
    /// `placed`: counted as [`Kind::FirstLook`] if nobody looked before.
    pub fn looked(&self, shop: &str, order_key: &str, placed: Option<DateTime<Utc>>) {
        let digest = order_digest(order_key);
        let mut c = self.lock();
        if c.looked.insert(digest) {
            c.looked_pending
                .push((digest, shop.to_string(), placed.map(day_number)));
        }
    }

    /// A total as stored from elsewhere (a replica's bucket); whether the
    /// key was one of ours.
    pub fn observe(&self, bucket_key: &str, value: &[u8]) -> bool {
        let Some(key) = Key::from_bucket_key(bucket_key) else {
            return false;
        };
        let Some(n) = std::str::from_utf8(value)
            .ok()
            .and_then(|s| s.parse::<u64>().ok())
        else {
            return false;
        };
        self.raise(key, n);
        true
    }

    /// Totals only grow: the watch and this replica's own adds may bring
    /// the same total in either order.
    fn raise(&self, key: Key, total: u64) {
        let mut c = self.lock();
        let stored = c.stored.entry(key).or_insert(0);
        *stored = (*stored).max(total);
    }

    /// Every total of `shop` (all shops when `None`) from day `from` to
    /// day `to`, both included, counted but not yet stored ones too.
    pub fn totals(&self, shop: Option<&str>, from: u64, to: u64) -> BTreeMap<(u64, String), u64> {
        let c = self.lock();
        let mut out = BTreeMap::new();
        for (key, n) in c.stored.iter().chain(c.pending.iter()) {
            if key.day < from || key.day > to || shop.is_some_and(|s| s != key.shop) {
                continue;
            }
            *out.entry((key.day, key.kind.clone())).or_insert(0) += n;
        }
        // Orders looked at but not yet counted (with replicas the bucket
        // decides whether they were the first; until then, not counted).
        if self.shared.get().is_none() {
            for (_, s, day) in &c.looked_pending {
                if let Some(day) = day
                    && *day >= from
                    && *day <= to
                    && shop.is_none_or(|x| x == s)
                {
                    *out.entry((*day, Kind::FirstLook.name())).or_insert(0) += 1;
                }
            }
        }
        out
    }

    /// Stores what was counted since the last time.
    pub async fn flush(&self) -> std::io::Result<()> {
        let _one = self.flushing.lock().await;
        let (pending, looked) = {
            let mut c = self.lock();
            (
                std::mem::take(&mut c.pending),
                std::mem::take(&mut c.looked_pending),
            )
        };
        if pending.is_empty() && looked.is_empty() {
            return Ok(());
        }
        match self.shared.get() {
            Some(shared) => self.flush_shared(shared, pending, looked).await,
            None => self.flush_local(pending, looked),
        }
    }

    async fn flush_shared(
        &self,
        shared: &Arc<dyn SharedCounters>,
        mut pending: BTreeMap<Key, u64>,
        looked: Vec<(u64, String, Option<u64>)>,
    ) -> std::io::Result<()> {
        let mut result = Ok(());
        let mut unasked = Vec::new();
        for (digest, shop, day) in looked {
            if result.is_err() {
                unasked.push((digest, shop, day));
                continue;
            }
            match shared.first_look(digest).await {
                Ok(true) => {
                    if let Some(day) = day {
                        *pending
                            .entry(Key {
                                day,
                                shop,
                                kind: Kind::FirstLook.name(),
                            })
                            .or_insert(0) += 1;
                    }
                }
                Ok(false) => {}
                Err(e) => {
                    unasked.push((digest, shop, day));
                    result = Err(e);
                }
            }
        }
        let mut unstored = BTreeMap::new();
        for (key, n) in pending {
            if result.is_err() {
                unstored.insert(key, n);
                continue;
            }
            match shared.add(key.clone(), n).await {
                Ok(total) => self.raise(key, total),
                Err(e) => {
                    unstored.insert(key, n);
                    result = Err(e);
                }
            }
        }
        self.put_back(unstored, unasked);
        result
    }

    fn put_back(&self, pending: BTreeMap<Key, u64>, looked: Vec<(u64, String, Option<u64>)>) {
        let mut c = self.lock();
        for (key, n) in pending {
            *c.pending.entry(key).or_insert(0) += n;
        }
        c.looked_pending.extend(looked);
    }

    fn flush_local(
        &self,
        mut pending: BTreeMap<Key, u64>,
        looked: Vec<(u64, String, Option<u64>)>,
    ) -> std::io::Result<()> {
        for (_, shop, day) in &looked {
            if let Some(day) = day {
                *pending
                    .entry(Key {
                        day: *day,
                        shop: shop.clone(),
                        kind: Kind::FirstLook.name(),
                    })
                    .or_insert(0) += 1;
            }
        }
        let mut next = self.lock().stored.clone();
        for (key, n) in &pending {
            *next.entry(key.clone()).or_insert(0) += n;
        }
        let written = self.write_local(&next, &looked);
        match written {
            Ok(()) => {
                self.lock().stored = next;
                Ok(())
            }
            Err(e) => {
                // Counted again next time: the totals file was not replaced.
                let mut c = self.lock();
                for (key, n) in pending {
                    if key.kind != Kind::FirstLook.name() {
                        *c.pending.entry(key).or_insert(0) += n;
                    }
                }
                c.looked_pending.extend(looked);
                Err(e)
            }
        }
    }

    fn write_local(
        &self,
        totals: &BTreeMap<Key, u64>,
        looked: &[(u64, String, Option<u64>)],
    ) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        // The digests first: a crash between the two files then counts a
        // first look never rather than twice.
        if !looked.is_empty() {
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(self.dir.join("looked"))?;
            let bytes: Vec<u8> = looked
                .iter()
                .flat_map(|(d, _, _)| d.to_le_bytes())
                .collect();
            f.write_all(&bytes)?;
            f.sync_data()?;
        }
        let file = File {
            counters: totals
                .iter()
                .map(|(k, n)| Stored {
                    day: k.day,
                    shop: k.shop.clone(),
                    kind: k.kind.clone(),
                    n: *n,
                })
                .collect(),
        };
        let tmp = self.dir.join("days.json.tmp");
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&serde_json::to_vec(&file).map_err(std::io::Error::other)?)?;
        f.sync_data()?;
        std::fs::rename(&tmp, self.dir.join("days.json"))?;
        if let Ok(d) = std::fs::File::open(&self.dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }

    /// Stores the counts every [`FLUSH_EVERY`] until `stopping`, then once
    /// more.
    pub async fn run(self: Arc<Self>, stopping: impl std::future::Future<Output = ()>) {
        tokio::pin!(stopping);
        loop {
            tokio::select! {
                () = &mut stopping => break,
                () = tokio::time::sleep(FLUSH_EVERY) => {}
            }
            if let Err(e) = self.flush().await {
                tracing::warn!(error = %crate::errors::chain(&e), "insight counters not stored yet; trying again");
            }
        }
        if let Err(e) = self.flush().await {
            tracing::error!(error = %crate::errors::chain(&e), "insight counters of the last seconds were not stored");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(day: u32) -> DateTime<Utc> {
        chrono::NaiveDate::from_ymd_opt(2026, 11, day)
            .and_then(|d| d.and_hms_opt(12, 0, 0))
            .map(|t| t.and_utc())
            .unwrap_or_default()
    }

    #[tokio::test]
    async fn counts_survive_a_restart_and_add_up() {
        let dir = tempfile::tempdir().expect("dir");
        let c = DayCounters::open(dir.path()).expect("open");
        c.add("a.myshopify.com", Kind::View, at(3));
        c.add("a.myshopify.com", Kind::View, at(3));
        c.add("b.myshopify.com", Kind::View, at(3));
        c.add("a.myshopify.com", Kind::Sent("shipped".into()), at(4));
        c.looked("a.myshopify.com", "a/1", Some(at(1)));
        c.looked("a.myshopify.com", "a/1", Some(at(1)));
        c.flush().await.expect("flush");
        c.add("a.myshopify.com", Kind::View, at(3));
        c.flush().await.expect("flush");
        drop(c);

        let c = DayCounters::open(dir.path()).expect("reopen");
        c.looked("a.myshopify.com", "a/1", Some(at(1)));
        c.looked("a.myshopify.com", "a/2", Some(at(2)));
        let d = |n| day_number(at(n));
        let t = c.totals(Some("a.myshopify.com"), d(1), d(30));
        assert_eq!(t.get(&(d(3), "view".into())), Some(&3));
        assert_eq!(t.get(&(d(4), "sent.shipped".into())), Some(&1));
        assert_eq!(t.get(&(d(1), "first_look".into())), Some(&1));
        assert_eq!(t.get(&(d(2), "first_look".into())), Some(&1));
        let all = c.totals(None, d(3), d(3));
        assert_eq!(all.get(&(d(3), "view".into())), Some(&4));
    }

    #[test]
    fn an_unreadable_file_is_kept_aside_and_counting_goes_on() {
        let dir = tempfile::tempdir().expect("dir");
        let insights = dir.path().join("insights");
        std::fs::create_dir_all(&insights).expect("dir");
        std::fs::write(insights.join("days.json"), "{ not json").expect("write");
        let c = DayCounters::open(dir.path()).expect("opens all the same");
        assert!(c.totals(None, 0, u64::MAX).is_empty());
        let kept: Vec<String> = std::fs::read_dir(&insights)
            .expect("dir")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            kept.iter().any(|n| n.starts_with("days.json.unreadable-")),
            "{kept:?}"
        );
        assert!(!insights.join("days.json").exists());
    }

    #[test]
    fn bucket_keys_name_their_counter_and_nothing_else() {
        let key = Key {
            day: 20_000,
            shop: "a.myshopify.com".into(),
            kind: "sent.out_for_delivery".into(),
        };
        assert_eq!(Key::from_bucket_key(&key.to_bucket_key()), Some(key));
        for bad in [
            "x.61.view",
            "1.zz.view",
            "1.61.nonsense",
            "1.61",
            "1.61.sent.",
        ] {
            assert_eq!(Key::from_bucket_key(bad), None, "{bad}");
        }
    }
}
