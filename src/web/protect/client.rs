//! Who the client is: the peer, or the client behind trusted proxies.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::extract::ConnectInfo;
use axum::http::HeaderMap;
use tower_governor::GovernorError;
use tower_governor::key_extractor::KeyExtractor;

use crate::config::Network;
#[cfg(test)]
use std::str::FromStr;

/// The rate-limit key of a client: its address, IPv6 cut to the /64, or
/// "unidentified" when a proxy passed on a forwarding header that does not
/// parse (all such requests share one budget).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ClientKey {
    Ip(IpAddr),
    Unidentified,
}

/// Who sent a request, as far as can be told.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Client {
    /// A client talking to us directly (no proxy between).
    Direct(IpAddr),
    /// A client behind one of our trusted proxies.
    Proxied(IpAddr),
    /// Behind a trusted proxy, with a forwarding header that does not say
    /// who (garbage, or only proxies).
    Unidentified,
    /// A proxy on this host that is not a trusted one: a loopback peer
    /// passing on someone's request (`X-Forwarded-For`) while
    /// `trusted_proxies` is not set. Not the host itself (never "local"),
    /// and its clients cannot be told apart (they share its budget).
    UntrustedProxy(IpAddr),
}

impl Client {
    /// Whether the request comes from this host itself, not through a
    /// proxy (loopback behind a proxy is the proxy, not the client).
    pub fn is_local(self) -> bool {
        matches!(self, Client::Direct(ip) if ip.is_loopback())
    }

    /// The client's address, when known (for an untrusted proxy, the
    /// proxy's: the only address there is).
    pub fn ip(self) -> Option<IpAddr> {
        match self {
            Client::Direct(ip) | Client::Proxied(ip) | Client::UntrustedProxy(ip) => Some(ip),
            Client::Unidentified => None,
        }
    }
}

/// Finds the client behind a request (see the module doc).
#[derive(Clone, Debug)]
pub struct ClientIp {
    trusted: Arc<Vec<Network>>,
    /// Whether the missing `trusted_proxies` was logged (once).
    warned: Arc<AtomicBool>,
}

impl ClientIp {
    pub fn new(trusted: Vec<Network>) -> ClientIp {
        ClientIp {
            trusted: Arc::new(trusted),
            warned: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Whether `ip` is one of the trusted proxies.
    pub fn is_trusted(&self, ip: IpAddr) -> bool {
        self.trusted.iter().any(|c| c.contains(ip))
    }

    /// The client of a request given the TCP peer and its headers.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> Client {
        if !self.is_trusted(peer) {
            if peer.is_loopback() && headers.contains_key("x-forwarded-for") {
                if !self.warned.swap(true, Ordering::Relaxed) {
                    tracing::warn!(
                        peer = %peer,
                        "requests from a proxy on this host carry X-Forwarded-For, but trusted_proxies (ORDER_STATUS_TRUSTED_PROXIES) is not set: all its clients share one rate-limit budget and none counts as local; set trusted_proxies = [\"{peer}\"]"
                    );
                }
                return Client::UntrustedProxy(peer);
            }
            return Client::Direct(peer);
        }
        let mut values = headers
            .get_all("x-forwarded-for")
            .iter()
            .map(|v| v.to_str().ok())
            .peekable();
        if values.peek().is_none() {
            // A trusted proxy's own request (a health check, say).
            return Client::Direct(peer);
        }
        let Some(values) = values.collect::<Option<Vec<&str>>>() else {
            return Client::Unidentified;
        };
        // Walk right to left through every hop: the first address that is
        // not one of our proxies is the client as our proxies saw it; a hop
        // that does not parse is where the trustworthy part ends.
        for hop in values
            .iter()
            .rev()
            .flat_map(|v| v.rsplit(','))
            .map(str::trim)
        {
            match hop.parse::<IpAddr>() {
                Ok(ip) if self.is_trusted(ip) => continue,
                Ok(ip) => return Client::Proxied(ip),
                Err(_) => return Client::Unidentified,
            }
        }
        Client::Unidentified
    }

    /// The limiter key of a request.
    pub fn key_of<T>(&self, req: &axum::http::Request<T>) -> Option<ClientKey> {
        let peer = req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())?;
        Some(match self.client(peer, req.headers()).ip() {
            Some(ip) => key(ip),
            None => ClientKey::Unidentified,
        })
    }
}

/// IPv4 as is (also when mapped into IPv6); IPv6 by its /64.
fn key(ip: IpAddr) -> ClientKey {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => ClientKey::Ip(IpAddr::V4(v4)),
            None => {
                let net = u128::from(v6) & (u128::MAX << 64);
                ClientKey::Ip(IpAddr::V6(Ipv6Addr::from(net)))
            }
        },
        v4 => ClientKey::Ip(v4),
    }
}

impl KeyExtractor for ClientIp {
    type Key = ClientKey;

    fn extract<T>(&self, req: &axum::http::Request<T>) -> Result<ClientKey, GovernorError> {
        self.key_of(req).ok_or(GovernorError::UnableToExtractKey)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", HeaderValue::from_str(v).expect("header"));
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn without_trusted_proxies_the_peer_is_the_client() {
        let c = ClientIp::new(vec![]);
        assert_eq!(
            c.client(ip("203.0.113.9"), &headers(&["1.2.3.4"])),
            Client::Direct(ip("203.0.113.9"))
        );
    }

    #[test]
    fn behind_proxies_the_rightmost_untrusted_hop_is_the_client() {
        let c = ClientIp::new(vec![Network::from_str("10.0.0.0/8").expect("cidr")]);
        // The client wrote "6.6.6.6" itself; our proxy appended the real peer.
        let h = headers(&["6.6.6.6, 198.51.100.7, 10.0.0.2"]);
        assert_eq!(
            c.client(ip("10.0.0.1"), &h),
            Client::Proxied(ip("198.51.100.7"))
        );
        // Split over two headers, the same.
        let h = headers(&["6.6.6.6", "198.51.100.7"]);
        assert_eq!(
            c.client(ip("10.0.0.1"), &h),
            Client::Proxied(ip("198.51.100.7"))
        );
        // Only proxies in the chain: nobody to name.
        assert_eq!(
            c.client(ip("10.0.0.1"), &headers(&["10.0.0.5"])),
            Client::Unidentified
        );
        // A garbage hop never makes the proxy the client.
        for garbage in ["garbage, 10.0.0.9", "1.2.3.4, nonsense", "garbage"] {
            let who = c.client(ip("10.0.0.1"), &headers(&[garbage]));
            assert_eq!(who, Client::Unidentified, "{garbage}");
            assert!(!who.is_local());
        }
        // A real client written after the garbage is believed.
        assert_eq!(
            c.client(ip("10.0.0.1"), &headers(&["garbage, 203.0.113.9"])),
            Client::Proxied(ip("203.0.113.9"))
        );
        // A request not from a proxy: its header is ignored.
        assert_eq!(
            c.client(ip("198.51.100.1"), &headers(&["1.1.1.1"])),
            Client::Direct(ip("198.51.100.1"))
        );
        // Loopback through a proxy on loopback is not local.
        let local = ClientIp::new(vec![Network::from_str("127.0.0.1").expect("cidr")]);
        let via = local.client(ip("127.0.0.1"), &headers(&["garbage, 127.0.0.1"]));
        assert!(!via.is_local(), "{via:?}");
        assert!(
            !local
                .client(ip("127.0.0.1"), &headers(&["203.0.113.9"]))
                .is_local()
        );
        assert!(local.client(ip("127.0.0.1"), &headers(&[])).is_local());
    }

    #[test]
    fn a_proxy_on_this_host_that_is_not_trusted_is_not_local() {
        let c = ClientIp::new(vec![]);
        let via = c.client(ip("127.0.0.1"), &headers(&["203.0.113.9"]));
        assert_eq!(via, Client::UntrustedProxy(ip("127.0.0.1")));
        assert!(!via.is_local());
        // Loopback without the header is this host itself.
        assert!(c.client(ip("127.0.0.1"), &headers(&[])).is_local());
        assert!(c.client(ip("::1"), &headers(&[])).is_local());
        // Once trusted, its clients are told apart.
        let trusted = ClientIp::new(vec![Network::from_str("127.0.0.1").expect("cidr")]);
        assert_eq!(
            trusted.client(ip("127.0.0.1"), &headers(&["203.0.113.9"])),
            Client::Proxied(ip("203.0.113.9"))
        );
    }

    #[test]
    fn ipv6_clients_are_keyed_by_their_64() {
        assert_eq!(
            key(ip("2001:db8:1:2:aaaa::1")),
            key(ip("2001:db8:1:2:ffff::9"))
        );
        assert_ne!(key(ip("2001:db8:1:2::1")), key(ip("2001:db8:1:3::1")));
        assert_eq!(key(ip("::ffff:192.0.2.1")), key(ip("192.0.2.1")));
    }
}
