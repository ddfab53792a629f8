//! Property tests: token parsing and verification, the normalisation of
//! what shoppers type, and that no input from outside makes the lookup
//! path panic.

use chrono::{DateTime, Utc};
use order_status::links::{LinkClaims, LinkKey, Links};
use order_status::order::{normalize_email, normalize_order_number};
use proptest::prelude::*;

fn links() -> Links {
    Links::new(vec![
        LinkKey::new("k1", b"property-test-secret-01").expect("key"),
    ])
    .expect("links")
}

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000, 0).expect("time")
}

proptest! {
    #[test]
    fn any_string_is_safely_refused_as_a_token(token in ".{0,600}") {
        // Never panics; random text never verifies.
        prop_assert!(links().verify(&token, now()).is_err());
    }

    #[test]
    fn any_ascii_token_shape_is_safely_refused(p in "[A-Za-z0-9_=-]{0,120}", m in "[0-9a-f]{0,70}") {
        let token = format!("{p}.{m}");
        prop_assert!(links().verify(&token, now()).is_err());
    }

    #[test]
    fn signed_claims_round_trip(
        shop in "[a-z0-9][a-z0-9.-]{0,60}",
        order_id in 1u64..u64::MAX,
        ahead in 1i64..10_000_000,
        epoch in any::<u32>(),
    ) {
        let claims = LinkClaims {
            shop,
            order_id,
            expires: DateTime::from_timestamp(now().timestamp() + ahead, 0).expect("time"),
            epoch,
        };
        let l = links();
        let token = l.sign(&claims);
        prop_assert_eq!(l.verify(&token, now()), Ok(claims));
    }

    #[test]
    fn flipping_any_token_character_breaks_it(idx in any::<prop::sample::Index>(), order_id in 1u64..1_000_000_000) {
        let l = links();
        let claims = LinkClaims {
            shop: "shop.example".into(),
            order_id,
            expires: DateTime::from_timestamp(1_900_000_000, 0).expect("time"),
            epoch: 0,
        };
        let token = l.sign(&claims);
        let i = idx.index(token.len());
        let mut bytes = token.clone().into_bytes();
        bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).expect("ascii");
        prop_assume!(tampered != token);
        // Either refused, or (base64 padding bits) decoding to the same claims.
        match l.verify(&tampered, now()) {
            Err(_) => {}
            Ok(c) => prop_assert_eq!(c, claims),
        }
    }

    #[test]
    fn order_numbers_read_however_typed(n in 1u64..10_000_000_000, pre in "[ \t]{0,3}", hash in any::<bool>(), post in "[ \t]{0,3}") {
        let typed = format!("{pre}{}{n}{post}", if hash { "#" } else { "" });
        prop_assert_eq!(normalize_order_number(&typed), Some(n));
    }

    #[test]
    fn order_number_normalisation_never_panics(s in ".{0,64}") {
        if let Some(n) = normalize_order_number(&s) {
            prop_assert!(n > 0);
        }
    }

    #[test]
    fn email_normalisation_is_idempotent_and_case_blind(s in ".{0,80}") {
        let once = normalize_email(&s);
        prop_assert_eq!(normalize_email(&once), once.clone());
        prop_assert_eq!(normalize_email(&s.to_ascii_uppercase()), normalize_email(&s.to_ascii_lowercase()));
    }
}
