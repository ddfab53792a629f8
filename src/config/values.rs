//! The kinds of values a setting can have. Each one parses itself
//! (`FromStr`, for flags and environment variables) and deserializes
//! itself (for the file) through the same checks, and says in words what
//! was wrong; `Serialize` gives back text that parses to the same value,
//! which is how the layers are merged (`super::layers`). Durations are
//! humantime's (`90s`, `15m`, `2h 30m`, `2d`), networks ipnet's.
//!
//! Text settings refuse control characters everywhere: they end up in
//! headers, emails and HTML attributes, and one in a setting is a paste
//! error, not a wish.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::ops::Deref;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_with::{DeserializeFromStr, SerializeDisplay};

/// Why a value is not one: the words shown after the setting's name.
pub type Reason = String;

fn no_control(s: &str) -> Result<(), Reason> {
    if s.chars().any(char::is_control) {
        return Err(format!(
            "{s:?} holds a control character (a line break or tab pasted in?)"
        ));
    }
    Ok(())
}

/// Implements `Deref` to the inner value and `Display` by it.
macro_rules! newtype {
    ($name:ident, $inner:ty) => {
        impl Deref for $name {
            type Target = $inner;
            fn deref(&self) -> &$inner {
                &self.0
            }
        }
    };
}

mod secrets;
pub use secrets::{LinkKeySetting, NatsUrl, NatsUrlAuth, Secret, SmtpUrl, StrongSecret, strong};

/// Where to listen: `127.0.0.1:3000`, `[::1]:3000`, `localhost:3000`, or a
/// bare port (on 127.0.0.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, SerializeDisplay, DeserializeFromStr)]
pub struct ListenAddr(pub SocketAddr);
newtype!(ListenAddr, SocketAddr);

impl FromStr for ListenAddr {
    type Err = Reason;
    fn from_str(s: &str) -> Result<Self, Reason> {
        let s = s.trim();
        let invalid = || format!("{s:?} is not an address such as 127.0.0.1:3000");
        if let Ok(port) = s.parse::<u16>() {
            return Ok(ListenAddr(SocketAddr::from(([127, 0, 0, 1], port))));
        }
        if let Some(port) = s.strip_prefix("localhost:") {
            return port
                .parse::<u16>()
                .map(|p| ListenAddr(SocketAddr::from(([127, 0, 0, 1], p))))
                .map_err(|_| invalid());
        }
        s.parse().map(ListenAddr).map_err(|_| invalid())
    }
}

impl fmt::Display for ListenAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A length of time of at least `MIN_SECS` seconds: `30s`, `15m`, `2h`,
/// `2d`, `1h 30m` (humantime); a bare unit (`m`) is one of it.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, SerializeDisplay, DeserializeFromStr,
)]
pub struct Period<const MIN_SECS: u64 = 1>(pub Duration);

impl<const MIN_SECS: u64> Deref for Period<MIN_SECS> {
    type Target = Duration;
    fn deref(&self) -> &Duration {
        &self.0
    }
}

/// humantime's durations, and a bare unit as one of it (`m` in `10/m`).
pub fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let one = match s {
        "s" => Some(1),
        "m" => Some(60),
        "h" => Some(3600),
        "d" => Some(86_400),
        _ => None,
    };
    match one {
        Some(secs) => Some(Duration::from_secs(secs)),
        None => humantime::parse_duration(s).ok(),
    }
}

impl<const MIN_SECS: u64> FromStr for Period<MIN_SECS> {
    type Err = Reason;
    fn from_str(s: &str) -> Result<Self, Reason> {
        let min = Duration::from_secs(MIN_SECS);
        match parse_duration(s) {
            Some(d) if d >= min && !d.is_zero() => Ok(Period(d)),
            _ if MIN_SECS == 0 => Err(format!(
                "{s:?} is not a length of time over zero, such as 50ms, 2s or 15m"
            )),
            _ => Err(format!(
                "{s:?} is not a length of time of {} or more, such as 30s, 15m, 2h or 2d",
                humantime::format_duration(min)
            )),
        }
    }
}

impl<const MIN_SECS: u64> fmt::Display for Period<MIN_SECS> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        humantime::format_duration(self.0).fmt(f)
    }
}

/// A whole number from `MIN` to `MAX`; in the file a number or a string.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Bounded<const MIN: u64, const MAX: u64>(pub u64);

impl<const MIN: u64, const MAX: u64> Bounded<MIN, MAX> {
    /// The number.
    pub fn get(self) -> u64 {
        self.0
    }

    /// The number as a `usize` (saturating).
    pub fn as_usize(self) -> usize {
        usize::try_from(self.0).unwrap_or(usize::MAX)
    }

    fn check(n: u64) -> Result<Self, Reason> {
        if (MIN..=MAX).contains(&n) {
            Ok(Bounded(n))
        } else {
            Err(format!("{n} is not between {MIN} and {MAX}"))
        }
    }
}

impl<const MIN: u64, const MAX: u64> FromStr for Bounded<MIN, MAX> {
    type Err = Reason;
    fn from_str(s: &str) -> Result<Self, Reason> {
        let n = s
            .trim()
            .parse::<u64>()
            .map_err(|_| format!("{s:?} is not a whole number from {MIN} to {MAX}"))?;
        Self::check(n)
    }
}

impl<const MIN: u64, const MAX: u64> fmt::Display for Bounded<MIN, MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<const MIN: u64, const MAX: u64> Serialize for Bounded<MIN, MAX> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(self.0)
    }
}

/// A number or a string in the file.
#[derive(Deserialize)]
#[serde(untagged)]
enum NumberOrText {
    Number(i64),
    Text(String),
}

impl<'de, const MIN: u64, const MAX: u64> Deserialize<'de> for Bounded<MIN, MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match NumberOrText::deserialize(d)? {
            NumberOrText::Number(n) => u64::try_from(n)
                .map_err(|_| format!("{n} is not between {MIN} and {MAX}"))
                .and_then(Self::check),
            NumberOrText::Text(t) => t.parse(),
        }
        .map_err(serde::de::Error::custom)
    }
}

/// On or off: `true`/`false` in the file; also `yes`/`no`, `on`/`off`,
/// `1`/`0` as text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flag(pub bool);
newtype!(Flag, bool);

impl FromStr for Flag {
    type Err = Reason;
    fn from_str(s: &str) -> Result<Self, Reason> {
        match s.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Ok(Flag(true)),
            "0" | "false" | "no" | "off" => Ok(Flag(false)),
            _ => Err(format!("{s:?} is not true or false")),
        }
    }
}

impl fmt::Display for Flag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Serialize for Flag {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bool(self.0)
    }
}

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum BoolOrText {
            Bool(bool),
            Text(String),
        }
        match BoolOrText::deserialize(d)? {
            BoolOrText::Bool(b) => Ok(Flag(b)),
            BoolOrText::Text(t) => t.parse().map_err(serde::de::Error::custom),
        }
    }
}

/// "N per period, bursts of B": `10/m:5`, `100/s`, `30/10m:10`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, SerializeDisplay, DeserializeFromStr)]
pub struct RateSpec {
    pub count: u32,
    pub period: Duration,
    pub burst: u32,
}

impl RateSpec {
    /// Time to earn back one request.
    pub fn replenish_every(&self) -> Duration {
        (self.period / self.count).max(Duration::from_nanos(1))
    }
}

impl FromStr for RateSpec {
    type Err = Reason;
    fn from_str(s: &str) -> Result<Self, Reason> {
        let parse = || -> Option<RateSpec> {
            let (rate, burst) = match s.trim().split_once(':') {
                Some((r, b)) => (r, Some(b.trim().parse::<u32>().ok()?)),
                None => (s.trim(), None),
            };
            let (count, period) = rate.split_once('/')?;
            let count: u32 = count.trim().parse().ok().filter(|c| *c > 0)?;
            let period = parse_duration(period).filter(|d| !d.is_zero())?;
            Some(RateSpec {
                count,
                period,
                burst: burst.unwrap_or(count).max(1),
            })
        };
        parse()
            .ok_or_else(|| format!("{s:?} is not a rate such as 10/m:5 (10 a minute, bursts of 5)"))
    }
}

impl fmt::Display for RateSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}:{}",
            self.count,
            humantime::format_duration(self.period),
            self.burst
        )
    }
}

/// "N failures within a window": `5/15m`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, SerializeDisplay, DeserializeFromStr)]
pub struct FailureSpec {
    pub max: u32,
    pub window: Duration,
}

impl FromStr for FailureSpec {
    type Err = Reason;
    fn from_str(s: &str) -> Result<Self, Reason> {
        let parse = || -> Option<FailureSpec> {
            let (max, window) = s.trim().split_once('/')?;
            Some(FailureSpec {
                max: max.trim().parse().ok().filter(|m| *m > 0)?,
                window: parse_duration(window).filter(|d| !d.is_zero())?,
            })
        };
        parse().ok_or_else(|| format!("{s:?} is not a count and window such as 5/15m"))
    }
}

impl fmt::Display for FailureSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}",
            self.max,
            humantime::format_duration(self.window)
        )
    }
}

/// An IP network such as `10.0.0.0/8` or `2001:db8::/32`; a bare address
/// is that one address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, SerializeDisplay, DeserializeFromStr)]
pub struct Network(pub ipnet::IpNet);

impl Network {
    /// Whether `ip` is inside this network (IPv4-mapped IPv6 counts as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        self.0.contains(&ip)
    }
}

impl FromStr for Network {
    type Err = Reason;
    fn from_str(s: &str) -> Result<Self, Reason> {
        let t = s.trim();
        t.parse::<ipnet::IpNet>()
            .or_else(|_| t.parse::<IpAddr>().map(ipnet::IpNet::from))
            .map(Network)
            .map_err(|_| format!("{s:?} is not an address or network such as 10.0.0.0/8"))
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Declares a text setting: a `String` newtype checked by `$check`.
macro_rules! text_setting {
    ($(#[$doc:meta])* $name:ident, $check:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, SerializeDisplay, DeserializeFromStr)]
        pub struct $name(pub String);
        newtype!($name, str);

        impl FromStr for $name {
            type Err = Reason;
            fn from_str(s: &str) -> Result<Self, Reason> {
                no_control(s)?;
                let check: fn(&str) -> Result<String, Reason> = $check;
                check(s).map($name)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }
    };
}

text_setting!(
    /// Words shown to people (a shop's name): 1 to 200 characters.
    Text,
    |s| {
        let t = s.trim();
        if t.is_empty() || t.chars().count() > 200 {
            return Err(format!("{s:?} must be 1 to 200 characters"));
        }
        Ok(t.to_string())
    }
);

text_setting!(
    /// A host name such as `fika.myshopify.com` (lower-cased; a leading
    /// `https://` and a trailing `/` are dropped).
    Domain,
    |s| {
        let d = s
            .trim()
            .trim_start_matches("https://")
            .trim_end_matches('/')
            .to_ascii_lowercase();
        let ok = !d.is_empty()
            && d.len() <= 253
            && d.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
        if ok {
            Ok(d)
        } else {
            Err(format!("{s:?} is not a domain such as example.myshopify.com"))
        }
    }
);

text_setting!(
    /// An email address such as `help@fika.example`.
    Email,
    |s| {
        let t = s.trim();
        t.parse::<lettre::Address>()
            .map(|_| t.to_string())
            .map_err(|_| format!("{s:?} is not an email address such as help@shop.example"))
    }
);

text_setting!(
    /// An ISO 3166 country code such as `SE` (upper-cased).
    CountryCode,
    |s| {
        let t = s.trim();
        if t.len() != 2 || !t.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(format!("{s:?} is not a country code (two letters, such as SE)"));
        }
        Ok(t.to_ascii_uppercase())
    }
);

text_setting!(
    /// `#rgb` or `#rrggbb` only: the value goes into a style attribute.
    Color,
    |s| {
        let v = s.trim();
        let hex = v.strip_prefix('#').unwrap_or("");
        if (hex.len() == 3 || hex.len() == 6) && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(v.to_ascii_lowercase())
        } else {
            Err(format!("{s:?} is not a colour such as #1f6f5c"))
        }
    }
);

text_setting!(
    /// An origin, `https://shop.example.com` (scheme, host, optional port;
    /// no path), lower-cased.
    Origin,
    |s| {
        let t = s.trim().trim_end_matches('/');
        let rest = t
            .strip_prefix("https://")
            .or_else(|| t.strip_prefix("http://"));
        let ok = rest.is_some_and(|r| {
            !r.is_empty()
                && r.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
        });
        if ok {
            Ok(t.to_ascii_lowercase())
        } else {
            Err(format!("{s:?} is not an origin such as https://shop.example.com"))
        }
    }
);

text_setting!(
    /// An http(s) base URL without a trailing slash:
    /// `https://track.example.com`.
    BaseUrl,
    |s| {
        let t = s.trim().trim_end_matches('/');
        let ok = (t.starts_with("https://") || t.starts_with("http://"))
            && t.len() > 8
            && !t.contains(char::is_whitespace)
            && url::Url::parse(t).is_ok_and(|u| u.host_str().is_some_and(|h| !h.is_empty()));
        if ok {
            Ok(t.to_string())
        } else {
            Err(format!("{s:?} is not a base URL such as https://track.example.com"))
        }
    }
);

/// An absolute http(s) address a visitor may be sent to (with a path or
/// not): nothing a browser would run or resolve elsewhere.
fn web_url(s: &str) -> Result<String, Reason> {
    let t = s.trim();
    let rest = t
        .strip_prefix("https://")
        .or_else(|| t.strip_prefix("http://"));
    let host = rest.map(|r| r.split(['/', '?', '#']).next().unwrap_or(""));
    let ok = host.is_some_and(|h| !h.is_empty())
        && t.len() <= 2048
        && !t.chars().any(|c| c.is_whitespace() || c == '"' || c == '<');
    if ok {
        Ok(t.to_string())
    } else {
        Err(format!(
            "{s:?} is not an http(s) address such as https://shop.example.com"
        ))
    }
}

text_setting!(
    /// An absolute http(s) address: `https://shop.example/collections/all`.
    WebUrl,
    web_url
);

text_setting!(
    /// A logo: an absolute http(s) address, or a path under `public/`
    /// (`/logo.svg`).
    LogoUrl,
    |s| {
        let t = s.trim();
        if t.starts_with('/') && !t.starts_with("//") && !t.contains(['"', '<', ' ', '\\']) {
            return Ok(t.to_string());
        }
        web_url(t).map_err(|_| format!("{s:?} is neither an http(s) address nor a path such as /logo.svg"))
    }
);

text_setting!(
    /// An Admin API version, `YYYY-MM`, no older than
    /// [`super::OLDEST_API_VERSION`].
    ApiVersion,
    |s| {
        let v = s.trim();
        let shaped = v.len() == 7
            && v.as_bytes()[4] == b'-'
            && v.bytes().enumerate().all(|(i, b)| i == 4 || b.is_ascii_digit());
        if !shaped {
            return Err(format!("{s:?} is not an API version such as 2026-10"));
        }
        if v < super::OLDEST_API_VERSION {
            return Err(format!(
                "API version {v} is older than {}, the oldest this site's queries work with (they use `bulkOperation(id:)` and `returnReasonDefinition`); use {}",
                super::OLDEST_API_VERSION,
                super::DEFAULT_API_VERSION
            ));
        }
        Ok(v.to_string())
    }
);

text_setting!(
    /// A name Shopify shows (a fulfillment service's): 1 to 255 characters.
    ServiceName,
    |s| {
        let t = s.trim();
        if t.is_empty() || t.chars().count() > 255 {
            return Err(format!("{s:?} must be 1 to 255 characters"));
        }
        Ok(t.to_string())
    }
);

text_setting!(
    /// A DNS label such as a DKIM selector (`mail2026`).
    Label,
    |s| {
        let t = s.trim();
        let ok = !t.is_empty()
            && t.len() <= 63
            && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok {
            Ok(t.to_string())
        } else {
            Err(format!("{s:?} is not a name such as mail2026 (letters, digits, - and _)"))
        }
    }
);

text_setting!(
    /// An identifier a provider gave (an app's client id).
    Identifier,
    |s| {
        let t = s.trim();
        if t.is_empty() || t.len() > 255 || t.contains(char::is_whitespace) {
            return Err(format!("{s:?} is not an identifier (1 to 255 characters, no spaces)"));
        }
        Ok(t.to_string())
    }
);

/// A file or directory path (no control characters).
#[derive(Clone, Debug, PartialEq, Eq, SerializeDisplay, DeserializeFromStr)]
pub struct FsPath(pub PathBuf);
newtype!(FsPath, PathBuf);

impl FromStr for FsPath {
    type Err = Reason;
    fn from_str(s: &str) -> Result<Self, Reason> {
        no_control(s)?;
        if s.trim().is_empty() {
            return Err("a path cannot be empty".into());
        }
        Ok(FsPath(PathBuf::from(s.trim())))
    }
}

impl From<PathBuf> for FsPath {
    fn from(p: PathBuf) -> FsPath {
        FsPath(p)
    }
}

impl fmt::Display for FsPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.display().fmt(f)
    }
}

/// A file that must be readable now (a key, certificates).
#[derive(Clone, Debug, PartialEq, Eq, SerializeDisplay, DeserializeFromStr)]
pub struct ReadableFile(pub PathBuf);
newtype!(ReadableFile, PathBuf);

impl FromStr for ReadableFile {
    type Err = Reason;
    fn from_str(s: &str) -> Result<Self, Reason> {
        let FsPath(p) = s.parse()?;
        std::fs::File::open(&p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
        Ok(ReadableFile(p))
    }
}

impl fmt::Display for ReadableFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.display().fmt(f)
    }
}

/// An IANA time zone such as `Europe/Stockholm`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, SerializeDisplay, DeserializeFromStr)]
pub struct TimeZone(pub chrono_tz::Tz);
newtype!(TimeZone, chrono_tz::Tz);

impl FromStr for TimeZone {
    type Err = Reason;
    fn from_str(s: &str) -> Result<Self, Reason> {
        chrono_tz::Tz::from_str(s.trim())
            .map(TimeZone)
            .map_err(|_| format!("{s:?} is not an IANA time zone such as Europe/Stockholm"))
    }
}

impl fmt::Display for TimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.name().fmt(f)
    }
}

/// An email address with an optional name: `Fika <orders@fika.se>`.
#[derive(Clone, Debug, PartialEq, Eq, SerializeDisplay, DeserializeFromStr)]
pub struct MailboxSetting(pub lettre::message::Mailbox);
newtype!(MailboxSetting, lettre::message::Mailbox);

impl FromStr for MailboxSetting {
    type Err = Reason;
    fn from_str(s: &str) -> Result<Self, Reason> {
        no_control(s)?;
        s.trim()
            .parse()
            .map(MailboxSetting)
            .map_err(|_| format!("{s:?} is not an address such as \"Fika <orders@fika.se>\""))
    }
}

impl fmt::Display for MailboxSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_failures_and_periods() {
        let r: RateSpec = "10/m:5".parse().expect("rate");
        assert_eq!((r.count, r.burst), (10, 5));
        assert_eq!(r.replenish_every(), Duration::from_secs(6));
        assert_eq!("100/s".parse::<RateSpec>().expect("rate").burst, 100);
        assert_eq!(
            "3/10m".parse::<RateSpec>().expect("rate").period.as_secs(),
            600
        );
        for bad in ["", "0/m", "10/x", "10", "a/m", "10/m:x"] {
            assert!(bad.parse::<RateSpec>().is_err(), "{bad}");
        }
        // What Display writes parses back to the same value.
        let r: RateSpec = "30/10m:10".parse().expect("rate");
        assert_eq!(r.to_string().parse::<RateSpec>(), Ok(r));
        let f: FailureSpec = "5/15m".parse().expect("lock");
        assert_eq!((f.max, f.window.as_secs()), (5, 900));
        assert_eq!(f.to_string().parse::<FailureSpec>(), Ok(f));
        let p: Period<10> = "1h 30m".parse().expect("period");
        assert_eq!(p.as_secs(), 5400);
        assert_eq!(p.to_string().parse::<Period<10>>(), Ok(p));
        assert!("5s".parse::<Period<10>>().is_err(), "under the minimum");
        assert!("0s".parse::<Period>().is_err());
        let short: Period<0> = "50ms".parse().expect("under a second");
        assert_eq!(*short, Duration::from_millis(50));
        let zero = "0ms".parse::<Period<0>>().expect_err("zero");
        assert!(zero.contains("over zero"), "{zero}");
        assert_eq!("2d".parse::<Period>().expect("days").as_secs(), 172_800);
    }

    #[test]
    fn networks() {
        let net: Network = "10.0.0.0/8".parse().expect("cidr");
        assert!(net.contains("10.1.2.3".parse().expect("ip")));
        assert!(!net.contains("11.0.0.1".parse().expect("ip")));
        assert!(
            net.contains("::ffff:10.9.9.9".parse().expect("ip")),
            "mapped v4"
        );
        let one: Network = "127.0.0.1".parse().expect("bare address");
        assert!(one.contains("127.0.0.1".parse().expect("ip")));
        assert!(!one.contains("127.0.0.2".parse().expect("ip")));
        let v6: Network = "2001:db8::/32".parse().expect("v6");
        assert!(v6.contains("2001:db8:1::5".parse().expect("ip")));
        let all: Network = "0.0.0.0/0".parse().expect("all");
        assert!(all.contains("8.8.8.8".parse().expect("ip")));
        assert!("10.0.0.0/33".parse::<Network>().is_err());
    }

    #[test]
    fn addresses() {
        let a = |s: &str| s.parse::<ListenAddr>().expect(s).to_string();
        assert_eq!(a("8080"), "127.0.0.1:8080");
        assert_eq!(a("localhost:9"), "127.0.0.1:9");
        assert_eq!(a("[::1]:3000"), "[::1]:3000");
        assert!("nowhere".parse::<ListenAddr>().is_err());
    }

    #[test]
    fn text_refuses_control_characters_and_secrets_are_never_echoed() {
        assert!("Fika\nInjected: yes".parse::<Text>().is_err());
        assert!("".parse::<Text>().is_err());
        assert_eq!("  Fika & Co ".parse::<Text>().expect("name").0, "Fika & Co");
        let e = "tiny1".parse::<StrongSecret>().expect_err("weak");
        assert!(!e.contains("tiny1"), "{e}");
        let e = "k1=tiny1".parse::<LinkKeySetting>().expect_err("weak");
        assert!(!e.contains("tiny1"), "{e}");
        let k: LinkKeySetting = "k2=0123456789abcdefXYZ".parse().expect("key");
        assert_eq!(k.key().id, "k2");
        assert!(!format!("{k:?}").contains("0123456789abcdefXYZ"));
    }

    #[test]
    fn numbers_and_flags_from_the_file_or_as_text() {
        #[derive(Deserialize)]
        struct F {
            n: Bounded<1, 64>,
            b: Flag,
        }
        let f: F = toml::from_str("n = 4\nb = true").expect("typed");
        assert_eq!((f.n.get(), *f.b), (4, true));
        let f: F = toml::from_str("n = \"8\"\nb = \"no\"").expect("text");
        assert_eq!((f.n.get(), *f.b), (8, false));
        assert!(toml::from_str::<F>("n = 0\nb = true").is_err());
        assert!(toml::from_str::<F>("n = -1\nb = true").is_err());
        assert!("65".parse::<Bounded<1, 64>>().is_err());
        assert!("maybe".parse::<Flag>().is_err());
    }
}
