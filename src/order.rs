//! The domain: what an order is and what a shopper should see of it.
//!
//! Pure data and pure functions, no I/O: no tantivy, axum or Leptos here,
//! so the rules that decide "Arriving Thursday" can be tested state by
//! state and reused by the store, the pages and the JSON API alike.

pub mod insight;
pub mod mail_log;
pub mod merge;
pub mod model;
pub mod problems;
pub mod search;
pub mod status;
pub mod timeline;
mod vocab;

pub use model::*;

use thiserror::Error;

/// Why an incoming order record cannot be accepted.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum InvalidOrder {
    #[error("`id` is missing or 0")]
    MissingId,
    #[error("neither `order_number` nor a numeric `name` is given")]
    MissingNumber,
    #[error("no shop: give `shop` in the record or configure one")]
    MissingShop,
    #[error("`shop` must be a domain name such as example.myshopify.com")]
    BadShop,
    #[error("`{field}` is longer than {max} characters")]
    TooLong { field: &'static str, max: usize },
}

/// Longest email we accept (RFC 5321's path limit).
pub const MAX_EMAIL_LEN: usize = 254;

impl Order {
    /// Checks an incoming record and fills what can be derived: the shop
    /// from `default_shop`, `order_number` from `name` or the other way
    /// round, `updated_at` from the other timestamps.
    pub fn validated(mut self, default_shop: &str) -> Result<Order, InvalidOrder> {
        if self.id == 0 {
            return Err(InvalidOrder::MissingId);
        }
        if self.shop.trim().is_empty() {
            self.shop = default_shop.trim().to_string();
        }
        if self.shop.is_empty() {
            return Err(InvalidOrder::MissingShop);
        }
        self.shop = self.shop.to_ascii_lowercase();
        let shop_ok = self.shop.len() <= 255
            && self
                .shop
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
        if !shop_ok {
            return Err(InvalidOrder::BadShop);
        }
        if self.order_number == 0 {
            self.order_number =
                order_number_in_name(&self.name).ok_or(InvalidOrder::MissingNumber)?;
        }
        if self.name.trim().is_empty() {
            self.name = format!("#{}", self.order_number);
        }
        if self.email.len() > MAX_EMAIL_LEN {
            return Err(InvalidOrder::TooLong {
                field: "email",
                max: MAX_EMAIL_LEN,
            });
        }
        if self.updated_at.is_none() {
            self.updated_at = [
                self.processed_at,
                self.created_at,
                self.cancelled_at,
                self.closed_at,
            ]
            .into_iter()
            .flatten()
            .max();
        }
        Ok(self)
    }
}

/// Longest order name or number a shopper may type.
pub const MAX_ORDER_REF_LEN: usize = 32;

/// The order number a shopper typed, as a number: "#1001", "1001" and
/// " 1001 " are all 1001, and so is the whole name as the shop writes it
/// in its emails ("FK-1001-SE", "#fk-1001-se"), see
/// [`order_number_in_name`]. Anything else is not an order number.
pub fn normalize_order_number(input: &str) -> Option<u64> {
    let s = input.trim();
    let s = s.strip_prefix('#').unwrap_or(s).trim();
    if s.is_empty() || s.len() > MAX_ORDER_REF_LEN {
        return None;
    }
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse().ok().filter(|n| *n > 0);
    }
    let name_like = s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"#-_./ ".contains(&b));
    if name_like {
        order_number_in_name(s)
    } else {
        None
    }
}

/// The order number inside an order name. Shopify builds a name from the
/// shop's prefix, the number and the shop's suffix (`#1001`, `FK-1001-SE`);
/// prefixes and suffixes are short codes, so the number is the longest run
/// of digits, the last one when two are as long (`2026-1001`: a year
/// prefix is commoner than a numeric suffix).
pub fn order_number_in_name(name: &str) -> Option<u64> {
    let mut best: Option<&str> = None;
    for run in name.split(|c: char| !c.is_ascii_digit()) {
        if !run.is_empty() && best.is_none_or(|b| run.len() >= b.len()) {
            best = Some(run);
        }
    }
    let digits = best?.trim_start_matches('0');
    if digits.is_empty() || digits.len() > 19 {
        return None;
    }
    digits.parse().ok()
}

/// An email as compared in lookups: trimmed and lower-cased. (Local parts
/// are case-sensitive in theory; no shop treats them so, and shoppers'
/// phones capitalise the first letter.)
pub fn normalize_email(input: &str) -> String {
    input.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_numbers_normalise() {
        assert_eq!(normalize_order_number("#1001"), Some(1001));
        assert_eq!(normalize_order_number("1001"), Some(1001));
        assert_eq!(normalize_order_number(" 1001 "), Some(1001));
        assert_eq!(normalize_order_number("# 1001"), Some(1001));
        assert_eq!(normalize_order_number(""), None);
        assert_eq!(normalize_order_number("#"), None);
        assert_eq!(normalize_order_number("FK-1001-SE"), Some(1001));
        assert_eq!(normalize_order_number("#fk-1001-se"), Some(1001));
        assert_eq!(normalize_order_number("abc"), None);
        assert_eq!(normalize_order_number("10<1"), None);
        assert_eq!(normalize_order_number("-5"), Some(5));
        assert_eq!(normalize_order_number("0"), None);
        assert_eq!(normalize_order_number("99999999999999999999999"), None);
    }

    #[test]
    fn numbers_come_out_of_prefixed_and_suffixed_names() {
        assert_eq!(order_number_in_name("#1001"), Some(1001));
        assert_eq!(order_number_in_name("FK-1001-SE"), Some(1001));
        assert_eq!(order_number_in_name("A1-20045"), Some(20045));
        assert_eq!(order_number_in_name("2026-1001"), Some(1001));
        assert_eq!(order_number_in_name("ORDER"), None);
        assert_eq!(order_number_in_name("#0000"), None);
    }

    #[test]
    fn emails_normalise() {
        assert_eq!(normalize_email("  Anna@Example.SE "), "anna@example.se");
    }

    #[test]
    fn validation_fills_derivable_fields() {
        let o: Order = serde_json::from_str(r##"{"id": 7, "name": "#1042"}"##).expect("parse");
        let o = o.validated("shop.example").expect("valid");
        assert_eq!(o.order_number, 1042);
        assert_eq!(o.shop, "shop.example");
        let o: Order = serde_json::from_str(r#"{"id": 7, "order_number": 5}"#).expect("parse");
        assert_eq!(o.validated("s").expect("valid").name, "#5");
    }

    #[test]
    fn validation_rejects_what_cannot_be_keyed() {
        let o: Order = serde_json::from_str(r#"{"id": 0, "order_number": 5}"#).expect("parse");
        assert_eq!(o.validated("s"), Err(InvalidOrder::MissingId));
        let o: Order = serde_json::from_str(r#"{"id": 1, "name": "abc"}"#).expect("parse");
        assert_eq!(o.validated("s"), Err(InvalidOrder::MissingNumber));
        let o: Order = serde_json::from_str(r#"{"id": 1, "name": "FK-1001-SE"}"#).expect("parse");
        assert_eq!(
            o.validated("s").expect("a prefixed name").order_number,
            1001
        );
        let o: Order = serde_json::from_str(r#"{"id": 1, "order_number": 5}"#).expect("parse");
        assert_eq!(o.clone().validated(""), Err(InvalidOrder::MissingShop));
        assert_eq!(o.validated("a:b/c"), Err(InvalidOrder::BadShop));
    }
}
