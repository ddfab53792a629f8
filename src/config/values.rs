//! The kinds of values a setting can have, and how text becomes one:
//! rate and failure budgets, periods, networks, addresses, URLs, origins,
//! link keys, colours. Each parser says what was wrong in words.

use std::net::SocketAddr;

use super::ConfigError;
use crate::links::LinkKey;

/// Rate limits per client IP, and the per-order-number lock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Every request (pages, files), per IP.
    pub pages: RateSpec,
    /// Lookup form posts, per IP.
    pub lookup: RateSpec,
    /// Staff sign-in posts, per IP.
    pub login: RateSpec,
    /// Webhooks and the JSON API, per IP.
    pub api: RateSpec,
    /// Failed lookups of one order number (from any IP) before it is
    /// locked, and for how long.
    pub order_failures: FailureSpec,
    /// Connections open at once in all (0: three quarters of the open-file
    /// limit).
    pub connections: usize,
    /// Connections open at once from one client address (trusted proxies
    /// are exempt).
    pub connections_per_client: usize,
    /// How long a new connection may take to send its first byte.
    pub first_byte_timeout: std::time::Duration,
    /// How long a connection may sit with nothing in flight and no bytes
    /// moving.
    pub idle_timeout: std::time::Duration,
}

impl Default for Limits {
    fn default() -> Self {
        let spec = |s: &str| RateSpec::parse(s).expect("valid built-in limit");
        Limits {
            pages: spec("600/m:120"),
            lookup: spec("10/m:5"),
            login: spec("5/m:3"),
            api: spec("6000/m:600"),
            order_failures: FailureSpec::parse("5/15m").expect("valid built-in lock"),
            connections: 0,
            connections_per_client: 64,
            first_byte_timeout: std::time::Duration::from_secs(10),
            idle_timeout: std::time::Duration::from_secs(30),
        }
    }
}

/// "N per period, bursts of B": `10/m:5`, `100/s`, `30/10m:10`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateSpec {
    pub count: u32,
    pub period: std::time::Duration,
    pub burst: u32,
}

impl RateSpec {
    pub fn parse(s: &str) -> Option<RateSpec> {
        let (rate, burst) = match s.trim().split_once(':') {
            Some((r, b)) => (r, Some(b.trim().parse::<u32>().ok()?)),
            None => (s.trim(), None),
        };
        let (count, period) = rate.split_once('/')?;
        let count: u32 = count.trim().parse().ok().filter(|c| *c > 0)?;
        let period = parse_period(period.trim())?;
        Some(RateSpec {
            count,
            period,
            burst: burst.unwrap_or(count).max(1),
        })
    }

    /// Time to earn back one request.
    pub fn replenish_every(&self) -> std::time::Duration {
        (self.period / self.count).max(std::time::Duration::from_nanos(1))
    }
}

/// "N failures within a window": `5/15m`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FailureSpec {
    pub max: u32,
    pub window: std::time::Duration,
}

impl FailureSpec {
    pub fn parse(s: &str) -> Option<FailureSpec> {
        let (max, window) = s.trim().split_once('/')?;
        Some(FailureSpec {
            max: max.trim().parse().ok().filter(|m| *m > 0)?,
            window: parse_period(window.trim())?,
        })
    }
}

/// `s`, `m`, `h`, `d`, optionally with a count: `15m`, `10s`, `2d`.
pub(super) fn parse_period(s: &str) -> Option<std::time::Duration> {
    let unit = s.chars().last()?;
    let n = &s[..s.len() - unit.len_utf8()];
    let n: u64 = if n.is_empty() { 1 } else { n.parse().ok()? };
    let secs = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return None,
    };
    Some(std::time::Duration::from_secs(n.checked_mul(secs)?)).filter(|d| !d.is_zero())
}

/// An IP network such as `10.0.0.0/8` or `::1/128` (a bare address is /32
/// or /128).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    addr: std::net::IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn parse(s: &str) -> Option<Cidr> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (
                a.parse::<std::net::IpAddr>().ok()?,
                Some(p.parse::<u8>().ok()?),
            ),
            None => (s.parse().ok()?, None),
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(Cidr { addr, prefix })
    }

    /// Whether `ip` is inside this network (IPv4-mapped IPv6 counts as IPv4).
    pub fn contains(&self, ip: std::net::IpAddr) -> bool {
        use std::net::IpAddr;
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// Parses `host:port`, also `localhost:port` and a bare port.
pub fn parse_addr(s: &str) -> Result<SocketAddr, ConfigError> {
    let s = s.trim();
    let invalid = || ConfigError::Invalid {
        name: "addr".into(),
        reason: format!("{s:?} is not an address such as 127.0.0.1:3000"),
    };
    if let Ok(port) = s.parse::<u16>() {
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    if let Some(port) = s.strip_prefix("localhost:") {
        return port
            .parse::<u16>()
            .map(|p| SocketAddr::from(([127, 0, 0, 1], p)))
            .map_err(|_| invalid());
    }
    s.parse().map_err(|_| invalid())
}

pub(super) fn list(v: &str) -> Vec<String> {
    v.split(',').map(str::to_string).collect()
}

/// `https://shop.example.com` (scheme, host, optional port; no path).
pub(super) fn parse_origin(name: &str, s: &str) -> Result<String, ConfigError> {
    let s = s.trim().trim_end_matches('/');
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"));
    let ok = rest.is_some_and(|r| {
        !r.is_empty()
            && r.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
    });
    if ok {
        Ok(s.to_ascii_lowercase())
    } else {
        Err(ConfigError::Invalid {
            name: name.into(),
            reason: format!("{s:?} is not an origin such as https://shop.example.com"),
        })
    }
}

/// `ID=SECRET`; the secret is never echoed in errors.
pub(super) fn parse_link_key(s: &str) -> Result<LinkKey, ConfigError> {
    let invalid = |reason: String| ConfigError::Invalid {
        name: "link_keys".into(),
        reason,
    };
    let (id, secret) = s
        .trim()
        .split_once('=')
        .ok_or_else(|| invalid("each key is ID=SECRET".into()))?;
    strong_secret(&format!("link_keys ({})", id.trim()), secret.trim())?;
    LinkKey::new(id.trim(), secret.trim().as_bytes()).map_err(|e| invalid(e.to_string()))
}

/// Fewest characters a configured secret may have.
pub const MIN_SECRET_CHARS: usize = 16;
/// Fewest different characters in it: `aaaaaaaaaaaaaaaa` is 16 long and
/// guessed at once; a random 16-character secret has about 13.
pub const MIN_SECRET_VARIETY: usize = 8;

/// Refuses a secret a person typed badly: too short, or too little
/// variety (a repeated character or a short pattern). Generated secrets
/// pass easily (`openssl rand -hex 32`).
pub fn strong_secret(name: &str, secret: &str) -> Result<(), ConfigError> {
    let chars = secret.chars().count();
    let mut seen: Vec<char> = secret.chars().collect();
    seen.sort_unstable();
    seen.dedup();
    if chars < MIN_SECRET_CHARS || seen.len() < MIN_SECRET_VARIETY {
        return Err(ConfigError::Invalid {
            name: name.into(),
            reason: format!(
                "too weak: a secret needs at least {MIN_SECRET_CHARS} characters, {MIN_SECRET_VARIETY} of them different (this one has {chars} characters, {} different); generate one, e.g. `openssl rand -hex 32`",
                seen.len()
            ),
        });
    }
    Ok(())
}

/// An http(s) base URL without a trailing slash.
pub(super) fn parse_public_url(s: &str) -> Result<String, ConfigError> {
    let s = s.trim().trim_end_matches('/');
    let ok = (s.starts_with("https://") || s.starts_with("http://"))
        && s.len() > 8
        && !s.contains(char::is_whitespace);
    if ok {
        Ok(s.to_string())
    } else {
        Err(ConfigError::Invalid {
            name: "public_url".into(),
            reason: format!("{s:?} is not a base URL such as https://track.example.com"),
        })
    }
}

/// An absolute http(s) address a visitor may be sent to (with a path or
/// not): nothing a browser would run or resolve elsewhere.
pub(super) fn parse_web_url(name: &str, v: &str) -> Result<String, ConfigError> {
    let s = v.trim();
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"));
    let host = rest.map(|r| r.split(['/', '?', '#']).next().unwrap_or(""));
    let ok = host.is_some_and(|h| !h.is_empty())
        && s.len() <= 2048
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '<');
    if ok {
        Ok(s.to_string())
    } else {
        Err(ConfigError::Invalid {
            name: name.into(),
            reason: format!("{s:?} is not an http(s) address such as https://shop.example.com"),
        })
    }
}

/// A NATS server address: `nats://host:port` (or `tls://`).
pub(super) fn parse_nats_url(s: &str) -> Result<String, ConfigError> {
    let bad = |why: &str| ConfigError::Invalid {
        name: "replicate".into(),
        reason: format!("{s:?} {why} (give nats://host:port)"),
    };
    let url = url::Url::parse(s).map_err(|_| bad("is not an address"))?;
    if !matches!(url.scheme(), "nats" | "tls") {
        return Err(bad("is not a nats:// or tls:// address"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("names no host"));
    }
    if !matches!(url.path(), "" | "/") || url.query().is_some() {
        return Err(bad("has a path"));
    }
    Ok(s.to_string())
}

pub(super) fn parse_count(name: &str, v: &str) -> Result<u64, ConfigError> {
    v.trim().parse().map_err(|_| ConfigError::Invalid {
        name: name.into(),
        reason: format!("{v:?} is not a whole number"),
    })
}

pub(super) fn parse_bool(name: &str, v: &str) -> Result<bool, ConfigError> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(ConfigError::Invalid {
            name: name.into(),
            reason: format!("{v:?} is not true or false"),
        }),
    }
}

/// Only `#rgb` / `#rrggbb` colours: the value goes into a style attribute.
pub(super) fn parse_color(v: &str) -> Result<String, ConfigError> {
    let v = v.trim();
    let hex = v.strip_prefix('#').unwrap_or("");
    if (hex.len() == 3 || hex.len() == 6) && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(v.to_ascii_lowercase())
    } else {
        Err(ConfigError::Invalid {
            name: "accent_color".into(),
            reason: format!("{v:?} is not a colour such as #1f6f5c"),
        })
    }
}
