//! Signed status links: the token in `/status/{token}`.
//!
//! A token says "this link opens order `key` until `expires`", signed with
//! HMAC-SHA256 under a key named by `kid`:
//!
//! ```text
//! token   = base64url(payload) "." hex(HMAC-SHA256(secret, payload))
//! payload = "v1:" kid ":" shop ":" order_id ":" expires_unix ":" epoch
//! ```
//!
//! The payload is plain text on purpose: a merchant can build the very same
//! token inside a Shopify notification template with nothing but Liquid's
//! `base64_url_safe_encode` and `hmac_sha256` filters (see the README). It
//! holds no personal data: a shop domain, Shopify's order id, a time and
//! two small numbers. `epoch` is the order's link epoch when the link was
//! made; bumping an order's epoch revokes every older link. The full
//! 256-bit MAC is kept and compared in constant time.
//!
//! Keys: several may be configured at once (rotation); new links are
//! signed with the first. With none configured, one is generated on first
//! start and kept in `<data dir>/link-keys` (mode 0600), so links survive
//! restarts.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use thiserror::Error;

use crate::files::write_private;

type HmacSha256 = Hmac<Sha256>;

/// Longest token we look at; anything longer is rejected unparsed.
pub const MAX_TOKEN_LEN: usize = 512;

/// One signing key.
#[derive(Clone)]
pub struct LinkKey {
    /// Short name carried in tokens, e.g. `k1`.
    pub id: String,
    secret: Vec<u8>,
    /// A merchant's key signs links to its own shop's orders only.
    shop: Option<String>,
}

impl std::fmt::Debug for LinkKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkKey")
            .field("id", &self.id)
            .field("secret", &"<redacted>")
            .finish()
    }
}

impl LinkKey {
    /// A key from its id and secret (at least 16 bytes).
    pub fn new(id: &str, secret: &[u8]) -> Result<LinkKey, LinkError> {
        if id.is_empty()
            || !id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(LinkError::BadKey(
                "a key id is letters, digits, '-' and '_'".into(),
            ));
        }
        if secret.len() < 16 {
            return Err(LinkError::BadKey(format!(
                "the secret of key {id} is shorter than 16 bytes"
            )));
        }
        Ok(LinkKey {
            id: id.to_string(),
            secret: secret.to_vec(),
            shop: None,
        })
    }

    /// The key a shop's notification templates sign links with (see the
    /// README's Liquid snippet): valid for that shop's orders only.
    pub fn for_shop(shop: &str, secret: &[u8]) -> Result<LinkKey, LinkError> {
        let mut key = LinkKey::new(&shop_key_id(shop), secret)?;
        key.shop = Some(shop.to_string());
        Ok(key)
    }
}

/// Why a link could not be made or read.
#[derive(Debug, Error)]
pub enum LinkError {
    #[error("malformed token")]
    Malformed,
    #[error("unknown signing key")]
    UnknownKey,
    #[error("bad signature")]
    BadSignature,
    #[error("link expired")]
    Expired,
    #[error("link revoked")]
    Revoked,
    #[error("link key: {0}")]
    BadKey(String),
    #[error("cannot keep the link key")]
    KeyFile(#[source] crate::errors::Cause),
}

/// Two errors are the same when they say the same (a key file's cause is
/// compared by its words): what tests of a token's refusal compare.
impl PartialEq for LinkError {
    fn eq(&self, other: &LinkError) -> bool {
        match (self, other) {
            (LinkError::BadKey(a), LinkError::BadKey(b)) => a == b,
            (LinkError::KeyFile(a), LinkError::KeyFile(b)) => a.to_string() == b.to_string(),
            (a, b) => std::mem::discriminant(a) == std::mem::discriminant(b),
        }
    }
}

impl Eq for LinkError {}

/// What a valid token grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkClaims {
    pub shop: String,
    pub order_id: u64,
    pub expires: DateTime<Utc>,
    pub epoch: u32,
}

impl LinkClaims {
    /// The store key of the order.
    pub fn order_key(&self) -> String {
        crate::order::order_key(&self.shop, self.order_id)
    }
}

/// Signs and verifies status links.
#[derive(Clone, Debug)]
pub struct Links {
    keys: Vec<LinkKey>,
}

impl Links {
    /// Signs with the first key, verifies with any of them.
    pub fn new(keys: Vec<LinkKey>) -> Result<Links, LinkError> {
        if keys.is_empty() {
            return Err(LinkError::BadKey("no link key".into()));
        }
        Ok(Links { keys })
    }

    /// The key new links are signed with.
    pub fn signing_key(&self) -> &LinkKey {
        &self.keys[0]
    }

    /// A token for `claims`.
    pub fn sign(&self, claims: &LinkClaims) -> String {
        let key = self.signing_key();
        seal(key, &payload(&key.id, claims))
    }

    /// A token's payload and the key that signed it, once the MAC checks
    /// out; the payload's fields are split on `:`.
    fn open(&self, token: &str) -> Result<(Vec<String>, &LinkKey), LinkError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(LinkError::Malformed);
        }
        let (p64, mac_hex) = token.rsplit_once('.').ok_or(LinkError::Malformed)?;
        let payload_bytes = URL_SAFE
            .decode(p64)
            .or_else(|_| URL_SAFE_NO_PAD.decode(p64))
            .map_err(|_| LinkError::Malformed)?;
        let given = decode_hex(mac_hex).ok_or(LinkError::Malformed)?;
        let payload = std::str::from_utf8(&payload_bytes).map_err(|_| LinkError::Malformed)?;
        let fields: Vec<String> = payload.split(':').map(String::from).collect();
        let kid = fields.get(1).ok_or(LinkError::Malformed)?;
        let key = self
            .keys
            .iter()
            .find(|k| &k.id == kid)
            .ok_or(LinkError::UnknownKey)?;
        // One spelling per link: the site writes base64url without
        // padding; Liquid's base64_url_safe_encode (a shop's template key)
        // always pads. Any other spelling of the same payload is refused.
        let canonical = if key.shop.is_some() {
            URL_SAFE.encode(&payload_bytes)
        } else {
            URL_SAFE_NO_PAD.encode(&payload_bytes)
        };
        if canonical != p64 {
            return Err(LinkError::Malformed);
        }
        mac(key, payload.as_bytes())
            .verify_slice(&given)
            .map_err(|_| LinkError::BadSignature)?;
        Ok((fields, key))
    }

    /// Checks a token: well-formed, signed by a known key, not expired at
    /// `now`, not older than the order's link epoch (checked by the caller
    /// with [`LinkClaims::epoch`] once the order is loaded, see
    /// [`check_epoch`]).
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<LinkClaims, LinkError> {
        let (fields, key) = self.open(token)?;
        let [version, _kid, shop, id, exp, epoch] = fields.as_slice() else {
            return Err(LinkError::Malformed);
        };
        if version != "v1" {
            return Err(LinkError::Malformed);
        }
        if key.shop.as_deref().is_some_and(|bound| bound != shop) {
            return Err(LinkError::BadSignature);
        }
        let (shop, id, exp, epoch) = (shop.as_str(), id.as_str(), exp.as_str(), epoch.as_str());
        // Signed by us: the fields are ours, but parse defensively anyway.
        let order_id = id.parse().map_err(|_| LinkError::Malformed)?;
        let expires = exp
            .parse::<i64>()
            .ok()
            .and_then(|s| DateTime::from_timestamp(s, 0))
            .ok_or(LinkError::Malformed)?;
        let epoch = epoch.parse().map_err(|_| LinkError::Malformed)?;
        if shop.is_empty() {
            return Err(LinkError::Malformed);
        }
        if expires < now {
            return Err(LinkError::Expired);
        }
        Ok(LinkClaims {
            shop: shop.to_string(),
            order_id,
            expires,
            epoch,
        })
    }
}

impl Links {
    /// A token for the unsubscribe link of an order's emails. It never
    /// expires (RFC 8058 wants the link to keep working) and grants only
    /// "stop emails about this order": its payload starts `u1:`, so it
    /// can never pass as a status link, nor a status link as it.
    pub fn sign_unsubscribe(&self, shop: &str, order_id: u64) -> String {
        let key = self.signing_key();
        seal(key, &format!("u1:{}:{shop}:{order_id}", key.id))
    }

    /// The order (shop, id) an unsubscribe token names, if it is ours.
    pub fn verify_unsubscribe(&self, token: &str) -> Result<(String, u64), LinkError> {
        let (fields, key) = self.open(token)?;
        let [version, _kid, shop, id] = fields.as_slice() else {
            return Err(LinkError::Malformed);
        };
        if version != "u1" || shop.is_empty() {
            return Err(LinkError::Malformed);
        }
        // A shop's template key (its merchant knows the secret) speaks for
        // that shop's orders only, as for status links.
        if key.shop.as_deref().is_some_and(|bound| bound != shop) {
            return Err(LinkError::BadSignature);
        }
        let id = id.parse().map_err(|_| LinkError::Malformed)?;
        Ok((shop.clone(), id))
    }
}

/// The key id of a shop's template key: its domain with dots as dashes.
pub fn shop_key_id(shop: &str) -> String {
    shop.replace('.', "-")
}

/// The Liquid that builds a status link in a Shopify notification
/// template, for `shop` signing with `secret`, valid `days` from sending.
///
/// It uses only what Shopify documents for notification templates: the
/// order's `id`, which the templates expose at the top level (there is no
/// `order` object there), and the `date`, `plus`, `base64_url_safe_encode`
/// and `hmac_sha256` filters. A test renders it with a Liquid engine.
/// The link ends in `?via=email`, as our own emails' links do, so the
/// insights page counts it as opened from an email.
pub fn liquid_snippet(base_url: &str, shop: &str, secret: &str, days: u32) -> String {
    let kid = shop_key_id(shop);
    let seconds = u64::from(days) * 86_400;
    format!(
        "{{%- assign os_expires = 'now' | date: '%s' | plus: {seconds} -%}}\n\
         {{%- capture os_payload -%}}v1:{kid}:{shop}:{{{{ id }}}}:{{{{ os_expires }}}}:0{{%- endcapture -%}}\n\
         {{%- assign os_token = os_payload | base64_url_safe_encode -%}}\n\
         {{%- assign os_mac = os_payload | hmac_sha256: '{secret}' -%}}\n\
         {base_url}/status/{{{{ os_token }}}}.{{{{ os_mac }}}}?via=email"
    )
}

/// The Liquid for a shop without a link secret: the lookup form with the
/// order number filled in (the shopper types the email). Notification
/// templates expose the order's properties at the top level, so it is
/// `{{ order_number }}`, not `order.order_number`.
pub fn liquid_lookup_snippet(base_url: &str) -> String {
    format!("{base_url}/?order={{{{ order_number }}}}")
}

/// A link made before the order's current link epoch is revoked.
pub fn check_epoch(claims: &LinkClaims, current_epoch: u32) -> Result<(), LinkError> {
    if claims.epoch < current_epoch {
        Err(LinkError::Revoked)
    } else {
        Ok(())
    }
}

/// The signed text; shared with the README's Liquid snippet, keep in step.
fn payload(kid: &str, c: &LinkClaims) -> String {
    format!(
        "v1:{kid}:{}:{}:{}:{}",
        c.shop,
        c.order_id,
        c.expires.timestamp(),
        c.epoch
    )
}

/// `base64url(payload) "." hex(mac)`.
/// `base64url(payload) "." hex(mac)`, spelled as the key's links are: a
/// shop's template key as Liquid writes it (padded), the site's own keys
/// without padding.
fn seal(key: &LinkKey, payload: &str) -> String {
    let mac = mac(key, payload.as_bytes()).finalize().into_bytes();
    let p64 = if key.shop.is_some() {
        URL_SAFE.encode(payload.as_bytes())
    } else {
        URL_SAFE_NO_PAD.encode(payload.as_bytes())
    };
    format!("{p64}.{}", hex::encode(mac))
}

fn mac(key: &LinkKey, payload: &[u8]) -> HmacSha256 {
    let mut m =
        HmacSha256::new_from_slice(&key.secret).expect("HMAC-SHA256 takes keys of any length");
    m.update(payload);
    m
}

/// Lower-case hex only: one spelling per link (an upper-case MAC would be
/// a second URL for the same link).
/// A MAC in its one spelling: 64 lower-case hex digits.
fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if s.len() != 64 || !s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    hex::decode(s).ok()
}

/// The key kept in `<data dir>/link-keys`, created (mode 0600) on first use.
pub fn load_or_create_key(data_dir: &Path) -> Result<LinkKey, LinkError> {
    let path = data_dir.join("link-keys");
    let err = |e: std::io::Error| {
        LinkError::KeyFile(crate::errors::context(path.display().to_string(), e))
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let line = text
                .lines()
                .find(|l| !l.trim().is_empty() && !l.starts_with('#'));
            let (id, secret) = line.and_then(|l| l.trim().split_once(' ')).ok_or_else(|| {
                LinkError::KeyFile(format!("{}: expected `ID SECRET`", path.display()).into())
            })?;
            LinkKey::new(id, secret.trim().as_bytes())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(data_dir).map_err(err)?;
            let mut raw = [0u8; 32];
            getrandom::fill(&mut raw).map_err(|e| LinkError::KeyFile(e.into()))?;
            let secret = URL_SAFE_NO_PAD.encode(raw);
            let key = LinkKey::new("k1", secret.as_bytes())?;
            write_private(
                &path,
                format!("# order-status link signing key: ID SECRET\nk1 {secret}\n").as_bytes(),
            )
            .map_err(err)?;
            Ok(key)
        }
        Err(e) => Err(err(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn links(id: &str, secret: &str) -> Links {
        Links::new(vec![LinkKey::new(id, secret.as_bytes()).expect("key")]).expect("links")
    }

    fn claims() -> LinkClaims {
        LinkClaims {
            shop: "demo.example".into(),
            order_id: 5_100_000_001,
            expires: DateTime::from_timestamp(1_900_000_000, 0).expect("time"),
            epoch: 0,
        }
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).expect("time")
    }

    #[test]
    fn unsubscribe_tokens_and_status_links_are_not_interchangeable() {
        let l = links("k1", "0123456789abcdef0123");
        let u = l.sign_unsubscribe("demo.example", 42);
        assert_eq!(l.verify_unsubscribe(&u), Ok(("demo.example".into(), 42)));
        assert_eq!(l.verify(&u, now()), Err(LinkError::Malformed));
        let status = l.sign(&claims());
        assert_eq!(l.verify_unsubscribe(&status), Err(LinkError::Malformed));
        let other = links("k1", "another-secret-0123456");
        assert_eq!(other.verify_unsubscribe(&u), Err(LinkError::BadSignature));
        let last = if u.ends_with('0') { '1' } else { '0' };
        let tampered = format!("{}{last}", &u[..u.len() - 1]);
        assert_eq!(
            l.verify_unsubscribe(&tampered),
            Err(LinkError::BadSignature)
        );
    }

    #[test]
    fn a_signed_token_verifies_to_its_claims() {
        let l = links("k1", "0123456789abcdef0123");
        let t = l.sign(&claims());
        assert_eq!(l.verify(&t, now()), Ok(claims()));
        assert!(
            t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        );
        assert!(!t.contains('@'));
    }

    #[test]
    fn tampering_anywhere_is_caught() {
        let l = links("k1", "0123456789abcdef0123");
        let t = l.sign(&claims());
        // Flip each character in turn.
        for i in 0..t.len() {
            let mut b = t.clone().into_bytes();
            b[i] = if b[i] == b'a' { b'b' } else { b'a' };
            let Ok(s) = String::from_utf8(b) else {
                continue;
            };
            if s == t {
                continue;
            }
            assert!(l.verify(&s, now()).is_err(), "flipped byte {i} of {t}");
        }
        // Another order id with the old signature.
        let other = LinkClaims {
            order_id: 5_100_000_002,
            ..claims()
        };
        let forged_payload = t
            .split('.')
            .next()
            .map(|_| URL_SAFE_NO_PAD.encode(payload("k1", &other)));
        let forged = format!(
            "{}.{}",
            forged_payload.expect("payload"),
            t.rsplit('.').next().expect("mac")
        );
        assert_eq!(l.verify(&forged, now()), Err(LinkError::BadSignature));
    }

    #[test]
    fn only_the_lower_case_mac_verifies() {
        let l = links("k1", "0123456789abcdef0123");
        let t = l.sign(&claims());
        let (p, mac) = t.rsplit_once('.').expect("dot");
        assert!(
            mac.bytes().any(|b| b.is_ascii_alphabetic()),
            "a mac with letters"
        );
        let upper = format!("{p}.{}", mac.to_ascii_uppercase());
        assert_eq!(l.verify(&upper, now()), Err(LinkError::Malformed));
        assert!(l.verify(&t, now()).is_ok());
    }

    #[test]
    fn expired_tokens_fail() {
        let l = links("k1", "0123456789abcdef0123");
        let t = l.sign(&claims());
        assert_eq!(
            l.verify(&t, claims().expires + Duration::seconds(1)),
            Err(LinkError::Expired)
        );
    }

    #[test]
    fn another_key_fails_and_rotation_keeps_old_links() {
        let a = links("k1", "0123456789abcdef0123");
        let b = links("k1", "another-secret-value!");
        let t = a.sign(&claims());
        assert_eq!(b.verify(&t, now()), Err(LinkError::BadSignature));
        let c = links("k2", "0123456789abcdef0123");
        assert_eq!(c.verify(&t, now()), Err(LinkError::UnknownKey));
        let rotated = Links::new(vec![
            LinkKey::new("k2", b"a-brand-new-secret-1").expect("key"),
            LinkKey::new("k1", b"0123456789abcdef0123").expect("key"),
        ])
        .expect("links");
        assert_eq!(rotated.verify(&t, now()), Ok(claims()));
        assert!(rotated.sign(&claims()) != t);
    }

    #[test]
    fn a_shop_key_signs_its_own_shop_only() {
        let key = LinkKey::for_shop("fika.myshopify.com", b"merchant-secret-12345").expect("key");
        assert_eq!(key.id, "fika-myshopify-com");
        let l = Links::new(vec![key]).expect("links");
        let mine = LinkClaims {
            shop: "fika.myshopify.com".into(),
            ..claims()
        };
        assert_eq!(l.verify(&l.sign(&mine), now()), Ok(mine));
        let theirs = l.sign(&claims());
        assert_eq!(l.verify(&theirs, now()), Err(LinkError::BadSignature));
    }

    #[test]
    fn garbage_is_malformed_not_a_panic() {
        let l = links("k1", "0123456789abcdef0123");
        for t in [
            "",
            ".",
            "abc",
            "a.b",
            "!!!.00",
            &"x".repeat(5000),
            "djE6azE6.zz",
        ] {
            assert!(l.verify(t, now()).is_err(), "{t}");
        }
    }

    #[test]
    fn revocation_by_epoch() {
        let c = claims();
        assert_eq!(check_epoch(&c, 0), Ok(()));
        assert_eq!(
            check_epoch(
                &LinkClaims {
                    epoch: 1,
                    ..c.clone()
                },
                1
            ),
            Ok(())
        );
        assert_eq!(check_epoch(&c, 1), Err(LinkError::Revoked));
    }

    #[test]
    fn one_spelling_per_token() {
        // The site's own keys: base64url without padding, and only so.
        let l = links("k1", "0123456789abcdef0123");
        // An id whose payload does not fill whole base64 groups.
        let claims = || LinkClaims {
            order_id: 51,
            ..claims()
        };
        let t = l.sign(&claims());
        let (p, m) = t.rsplit_once('.').expect("dot");
        let bytes = URL_SAFE_NO_PAD.decode(p).expect("b64");
        assert!(bytes.len() % 3 != 0, "the payload needs padding to test it");
        let padded = URL_SAFE.encode(&bytes);
        assert_eq!(
            l.verify(&format!("{padded}.{m}"), now()),
            Err(LinkError::Malformed)
        );
        assert_eq!(l.verify(&t, now()), Ok(claims()));
        assert_eq!(
            l.verify(&format!("{p}.{}", m.to_uppercase()), now()),
            Err(LinkError::Malformed)
        );
        // A shop's template key: as Liquid writes it (padded), and only so.
        let key = LinkKey::for_shop("fika.myshopify.com", b"merchant-secret-12345").expect("key");
        let shop = Links::new(vec![key]).expect("links");
        let mine = LinkClaims {
            shop: "fika.myshopify.com".into(),
            ..claims()
        };
        let t = shop.sign(&mine);
        let (p, m) = t.rsplit_once('.').expect("dot");
        assert!(p.ends_with('='), "Liquid pads: {p}");
        assert_eq!(shop.verify(&t, now()), Ok(mine));
        let unpadded = p.trim_end_matches('=');
        assert_eq!(
            shop.verify(&format!("{unpadded}.{m}"), now()),
            Err(LinkError::Malformed)
        );
    }

    #[test]
    fn a_shop_key_makes_unsubscribe_tokens_for_its_own_shop_only() {
        let key = LinkKey::for_shop("fika.myshopify.com", b"merchant-secret-12345").expect("key");
        let own = LinkKey::new("k1", b"0123456789abcdef0123").expect("key");
        let l = Links::new(vec![own, key.clone()]).expect("links");
        // What the merchant, who knows the template secret, could make.
        let forger = Links::new(vec![key]).expect("links");
        let fika = forger.sign_unsubscribe("fika.myshopify.com", 7);
        assert_eq!(
            l.verify_unsubscribe(&fika),
            Ok(("fika.myshopify.com".into(), 7))
        );
        let other = forger.sign_unsubscribe("other.myshopify.com", 7);
        assert_eq!(l.verify_unsubscribe(&other), Err(LinkError::BadSignature));
        // The site's own key speaks for every shop it serves.
        let site = l.sign_unsubscribe("other.myshopify.com", 7);
        assert_eq!(
            l.verify_unsubscribe(&site),
            Ok(("other.myshopify.com".into(), 7))
        );
    }

    #[test]
    fn the_key_file_is_created_once_private_and_reused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let k1 = load_or_create_key(dir.path()).expect("created");
        let k2 = load_or_create_key(dir.path()).expect("loaded");
        assert_eq!(k1.secret, k2.secret);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("link-keys"))
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(!format!("{k1:?}").contains(&*String::from_utf8_lossy(&k1.secret)));
    }
}
