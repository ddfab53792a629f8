//! The settings as an operator meets them: defaults, the file, the
//! environment and flags layered; every bad value refused by name.

use super::*;
use std::collections::HashMap;
use std::path::PathBuf;

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k| map.get(k).cloned()
}

fn file(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("c.toml");
    std::fs::write(&path, text).expect("write");
    (dir, path)
}

#[test]
fn defaults_need_no_file_and_no_env() {
    let c = Config::load(None, env(&[])).expect("defaults");
    assert_eq!(c.addr.to_string(), "127.0.0.1:3000");
    assert_eq!(*c.data_dir, PathBuf::from("data"));
    assert_eq!(c.limits.lookup.to_string(), "10/1m:5");
    assert_eq!(c.mail.workers.get(), 4);
    assert!(c.seeds_demo());
    assert_eq!(Config::default().shop.name.to_string(), "Demo Store");
}

#[test]
fn the_environment_overrides_the_file_and_the_file_the_defaults() {
    let (_d, path) = file(
        "addr = \"0.0.0.0:8080\"\ndata_dir = \"/var/lib/os\"\n[shop]\nname = \"Fika\"\ntimezone = \"America/New_York\"\n[limits]\nlogin = \"7/m\"\n",
    );
    let c = Config::load(
        Some(&path),
        env(&[
            ("ORDER_STATUS_DATA_DIR", "/tmp/x"),
            ("ORDER_STATUS_LIMIT_PAGES", "9/s"),
        ]),
    )
    .expect("load");
    assert_eq!(
        c.addr.to_string(),
        "0.0.0.0:8080",
        "the file over the default"
    );
    assert_eq!(
        *c.data_dir,
        PathBuf::from("/tmp/x"),
        "the variable over the file"
    );
    assert_eq!(c.shop.name.to_string(), "Fika");
    assert_eq!(*c.shop.timezone, chrono_tz::America::New_York);
    assert_eq!(c.limits.login.count, 7);
    assert_eq!(c.limits.pages.count, 9);
    assert_eq!(c.limits.api.count, 6000, "untouched: the default");
}

#[test]
fn bad_values_are_named_by_key_variable_and_flag() {
    let e = Config::load(None, env(&[("ORDER_STATUS_ADDR", "nowhere")])).expect_err("bad addr");
    let text = e.to_string();
    assert!(
        text.contains("addr") && text.contains("ORDER_STATUS_ADDR") && text.contains("--addr"),
        "{text}"
    );
    let e = Config::load(None, env(&[("ORDER_STATUS_TIMEZONE", "Mars/Olympus")])).expect_err("tz");
    assert!(e.to_string().contains("Mars/Olympus"), "{e}");
    let e = Config::load(None, env(&[("ORDER_STATUS_ACCENT_COLOR", "red;}")])).expect_err("colour");
    assert!(e.to_string().contains("accent_color"), "{e}");
    let e = Config::load(None, env(&[("ORDER_STATUS_SEED_DEMO", "maybe")])).expect_err("bool");
    assert!(e.to_string().contains("ORDER_STATUS_SEED_DEMO"), "{e}");
    // What was silently ignored before.
    let e = Config::load(None, env(&[("ORDER_STATUS_MAIL_WORKERS", "lots")])).expect_err("workers");
    assert!(e.to_string().contains("ORDER_STATUS_MAIL_WORKERS"), "{e}");
    let e = Config::load(None, env(&[("ORDER_STATUS_MAIL_MAX_RATE", "-3")])).expect_err("rate");
    assert!(e.to_string().contains("ORDER_STATUS_MAIL_MAX_RATE"), "{e}");
    for bad in [
        "javascript:alert(1)",
        "//shop.example",
        "https://",
        "https://a b",
    ] {
        let e = Config::load(None, env(&[("ORDER_STATUS_SHOP_URL", bad)])).expect_err(bad);
        assert!(e.to_string().contains("shop] url"), "{e}");
    }
    let c = Config::load(
        None,
        env(&[(
            "ORDER_STATUS_SHOP_URL",
            " https://shop.example/collections/all ",
        )]),
    )
    .expect("shop url");
    assert_eq!(
        c.shop.url.as_deref(),
        Some("https://shop.example/collections/all")
    );
}

#[test]
fn bad_values_in_the_file_are_named_with_the_file() {
    let (_d, path) = file("[limits]\npages = \"lots\"\n");
    let e = Config::load(Some(&path), env(&[])).expect_err("bad rate");
    let text = e.to_string();
    assert!(
        text.contains("[limits] pages") && text.contains("c.toml"),
        "{text}"
    );
    let (_d, path) = file("[mail]\nworkers = 0\n");
    let e = Config::load(Some(&path), env(&[])).expect_err("no workers");
    assert!(e.to_string().contains("workers"), "{e}");
    let (_d, path) = file("sync_interval = 5\n");
    let e = Config::load(Some(&path), env(&[])).expect_err("a number for a period");
    assert!(e.to_string().contains("sync_interval"), "{e}");
}

#[test]
fn unknown_file_keys_are_errors_not_silently_ignored() {
    let (_d, path) = file("adr = \"1.2.3.4:5\"\n");
    let e = Config::load(Some(&path), env(&[])).expect_err("typo");
    assert!(e.to_string().contains("adr"), "{e}");
    let (_d, path) = file("[shop]\nnmae = \"x\"\n");
    assert!(Config::load(Some(&path), env(&[])).is_err());
    let (_d, path) = file("log_format = \"json\"\n");
    assert!(
        Config::load(Some(&path), env(&[])).is_err(),
        "logging is set up before the file is read"
    );
}

#[test]
fn a_missing_named_file_is_an_error() {
    let e = Config::load(Some(Path::new("/nonexistent/c.toml")), env(&[])).expect_err("missing");
    assert!(matches!(e, ConfigError::Read { .. }), "{e}");
}

#[test]
fn link_keys_and_urls() {
    let c = Config::load(
        None,
        env(&[
            (
                "ORDER_STATUS_LINK_KEYS",
                "k2=0123456789abcdefXYZ,k1=fedcba9876543210abc",
            ),
            ("ORDER_STATUS_PUBLIC_URL", "https://track.example.com/"),
        ]),
    )
    .expect("load");
    let ids: Vec<&str> = c.link_keys().map(|k| k.id.as_str()).collect();
    assert_eq!(ids, ["k2", "k1"]);
    assert_eq!(c.public_url.as_deref(), Some("https://track.example.com"));
    assert!(
        !format!("{c:?}").contains("0123456789abcdefXYZ"),
        "secrets stay out of Debug"
    );
    assert!(!c.seeds_demo(), "an https address is production");
    let c = Config::load(
        None,
        env(&[("ORDER_STATUS_METRICS_TOKEN", "a-long-metrics-token-secret")]),
    )
    .expect("load");
    assert!(!format!("{c:?}").contains("a-long-metrics-token-secret"));
    let e = Config::load(None, env(&[("ORDER_STATUS_LINK_KEYS", "k1=tiny1")])).expect_err("short");
    assert!(!e.to_string().contains("tiny1"), "{e}");
    // The same from the file, as a list.
    let (_d, path) = file("link_keys = [\"k3=0123456789abcdefXYZ\"]\n");
    let c = Config::load(Some(&path), env(&[])).expect("file keys");
    assert_eq!(c.link_keys().count(), 1);
}

#[test]
fn rates_and_networks_from_the_environment() {
    let c = Config::load(
        None,
        env(&[
            ("ORDER_STATUS_TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1"),
            ("ORDER_STATUS_PUBLIC_URL", "http://track.test"),
        ]),
    )
    .expect("proxies");
    assert_eq!(c.trusted_proxies.len(), 2);
    assert!(c.trusted_proxies[1].contains("127.0.0.1".parse().expect("ip")));
    let e = Config::load(None, env(&[("ORDER_STATUS_LIMIT_LOOKUP", "lots")])).expect_err("bad");
    assert!(e.to_string().contains("[limits] lookup"), "{e}");
    let e = Config::load(
        None,
        env(&[("ORDER_STATUS_TRUSTED_PROXIES", "10.0.0.0/33")]),
    )
    .expect_err("bad network");
    assert!(e.to_string().contains("trusted_proxies"), "{e}");
}

#[test]
fn shopify_from_env_and_file() {
    let c = Config::load(
        None,
        env(&[
            ("ORDER_STATUS_SHOPIFY_SHOP", "Fika.myshopify.com"),
            ("ORDER_STATUS_SHOPIFY_ACCESS_TOKEN", "shpat_secret_token"),
            (
                "ORDER_STATUS_SHOPIFY_WEBHOOK_SECRET",
                "old-webhook-secret-1,new-webhook-secret-2",
            ),
        ]),
    )
    .expect("load");
    let s = c.shopify_shop("fika.myshopify.com").expect("configured");
    assert_eq!(s.api_version, DEFAULT_API_VERSION);
    assert_eq!(s.api_base, "https://fika.myshopify.com");
    assert_eq!(s.webhook_secrets.len(), 2);
    assert!(!c.seeds_demo(), "a shop is production");
    let debug = format!("{c:?}");
    assert!(
        !debug.contains("shpat_secret_token") && !debug.contains("old-webhook"),
        "{debug}"
    );

    let (_d, path) = file(
        "sync_interval = \"2m\"\n[[shopify]]\ndomain = \"a.myshopify.com\"\n[[shopify]]\ndomain = \"b.myshopify.com\"\napi_version = \"2026-01\"\n",
    );
    let c = Config::load(Some(&path), env(&[])).expect("load");
    assert_eq!(c.shopify.len(), 2);
    assert_eq!(c.sync_interval.as_secs(), 120);
    // The variables' store beside the file's (and replacing the same one).
    let c = Config::load(
        Some(&path),
        env(&[
            ("ORDER_STATUS_SHOPIFY_SHOP", "b.myshopify.com"),
            ("ORDER_STATUS_SHOPIFY_WRITE_BACK", "yes"),
        ]),
    )
    .expect("load");
    assert_eq!(c.shopify.len(), 2);
    let b = c.shopify_shop("b.myshopify.com").expect("b");
    assert!(b.write_back);
    assert_eq!(
        b.api_version, DEFAULT_API_VERSION,
        "the file's b is replaced"
    );
    let e = Config::load(
        None,
        env(&[
            ("ORDER_STATUS_SHOPIFY_SHOP", "x.myshopify.com"),
            ("ORDER_STATUS_SHOPIFY_API_VERSION", "latest"),
        ]),
    )
    .expect_err("bad version");
    assert!(e.to_string().contains("API version"), "{e}");
    let e = Config::load(
        None,
        env(&[("ORDER_STATUS_SHOPIFY_ACCESS_TOKEN", "shpat_x")]),
    )
    .expect_err("credentials without a shop");
    assert!(e.to_string().contains("needs a domain"), "{e}");
}

#[test]
fn shopify_credentials_are_a_token_or_a_client_id_and_secret() {
    let load = |pairs: &[(&str, &str)]| {
        let mut all = vec![("ORDER_STATUS_SHOPIFY_SHOP", "x.myshopify.com")];
        all.extend_from_slice(pairs);
        Config::load(None, env(&all))
    };
    let c = load(&[
        ("ORDER_STATUS_SHOPIFY_CLIENT_ID", "id-123"),
        ("ORDER_STATUS_SHOPIFY_CLIENT_SECRET", "client-secret-abc"),
    ])
    .expect("client credentials");
    let s = &c.shopify[0];
    assert!(matches!(
        s.credentials,
        Credentials::ClientCredentials { .. }
    ));
    assert_eq!(
        s.webhook_secrets,
        vec!["client-secret-abc".to_string()],
        "a Dev Dashboard app signs webhooks with its client secret"
    );
    assert!(!format!("{c:?}").contains("client-secret-abc"));
    assert_eq!(s.bulk_after, DEFAULT_BULK_AFTER);
    let e = load(&[
        ("ORDER_STATUS_SHOPIFY_ACCESS_TOKEN", "shpat_x"),
        ("ORDER_STATUS_SHOPIFY_CLIENT_ID", "id-123"),
        ("ORDER_STATUS_SHOPIFY_CLIENT_SECRET", "s"),
    ])
    .expect_err("both");
    assert!(e.to_string().contains("not both"), "{e}");
    let e = load(&[("ORDER_STATUS_SHOPIFY_CLIENT_ID", "id-123")]).expect_err("half");
    assert!(e.to_string().contains("client secret"), "{e}");
    let c = load(&[("ORDER_STATUS_SHOPIFY_BULK_AFTER", "2d")]).expect("bulk_after");
    assert_eq!(c.shopify[0].bulk_after.as_secs(), 2 * 86_400);
    assert_eq!(c.shopify[0].credentials, Credentials::None);
    assert!(load(&[("ORDER_STATUS_SHOPIFY_BULK_AFTER", "soon")]).is_err());
}

#[test]
fn mail_events_lists_and_none() {
    let (_d, path) = file("[mail]\nevents = [\"shipped\", \"delivered\"]\n");
    let c = Config::load(Some(&path), env(&[])).expect("list");
    assert_eq!(c.mail.events.0.len(), 2);
    let c = Config::load(None, env(&[("ORDER_STATUS_MAIL_EVENTS", "none")])).expect("none");
    assert!(c.mail.events.0.is_empty());
    assert!(
        Config::load(
            None,
            env(&[("ORDER_STATUS_MAIL_EVENTS", "shipped,teleported")])
        )
        .is_err()
    );
}

#[test]
fn every_setting_has_a_variable_a_flag_and_words() {
    for arg in layers::settings_args() {
        let id = arg.get_id().as_str();
        assert!(arg.get_env().is_some(), "{id} has no variable");
        assert!(arg.get_long().is_some(), "{id} has no flag");
        assert!(arg.get_help().is_some(), "{id} has no help");
    }
}

#[test]
fn every_setting_id_is_its_place_in_the_file() {
    // The layers put what clap read at the id's path: an id that is not a
    // key of the file would drop a variable on the floor. For each one, a
    // file with a table at that key must fail for its type, not as an
    // unknown key.
    for arg in layers::settings_args() {
        let id = arg.get_id().as_str();
        if id.starts_with("shopify.") || id == "log_format" {
            continue;
        }
        let text = match id.split_once('.') {
            Some((section, key)) => format!("[{section}]\n{key} = {{ x = 1 }}\n"),
            None => format!("{id} = {{ x = 1 }}\n"),
        };
        let (_d, path) = file(&text);
        let e = Config::load(Some(&path), env(&[]))
            .expect_err(id)
            .to_string();
        assert!(
            !e.contains("unknown field"),
            "{id} is not a key of the file: {e}"
        );
        assert!(e.contains(&layers::file_key(id)), "{id}: {e}");
    }
}

#[test]
fn nats_credentials_come_from_the_addresses_or_the_settings_and_are_never_shown() {
    let pass = "p4ss-word-9";
    let load = |pairs: &[(&str, &str)]| Config::load(None, env(pairs));
    let c = load(&[(
        "ORDER_STATUS_REPLICATE",
        &format!("nats://replica:{pass}@10.0.0.1:4222,nats://replica:{pass}@10.0.0.2:4222"),
    )])
    .expect("credentials in the addresses");
    assert_eq!(
        c.replicate.auth,
        NatsAuth::UserPassword {
            user: Secret::new("replica".into()),
            password: Secret::new(pass.into()),
        }
    );
    assert_eq!(
        c.replicate.servers[0].redacted(),
        "nats://***@10.0.0.1:4222"
    );
    assert_eq!(
        c.replicate.servers[1].without_credentials(),
        "nats://10.0.0.2:4222"
    );
    assert!(!format!("{c:?}").contains(pass), "the password in Debug");
    let c = load(&[
        ("ORDER_STATUS_REPLICATE", "tls://10.0.0.1:4222"),
        ("ORDER_STATUS_REPLICATE_TOKEN", "a-token-of-ours"),
    ])
    .expect("a token");
    assert_eq!(
        c.replicate.auth,
        NatsAuth::Token(Secret::new("a-token-of-ours".into()))
    );
    assert!(c.replicate.tls_required, "tls:// asks for TLS");
    let c = load(&[("ORDER_STATUS_REPLICATE", "nats://t0ken@10.0.0.1:4222")]).expect("token");
    assert_eq!(
        c.replicate.auth,
        NatsAuth::Token(Secret::new("t0ken".into()))
    );

    // Refused, by name, and never with the secret in the words.
    for (pairs, name) in [
        (
            vec![
                ("ORDER_STATUS_REPLICATE", "nats://10.0.0.1:4222"),
                ("ORDER_STATUS_REPLICATE_USER", "replica"),
            ],
            "replicate_user",
        ),
        (
            vec![
                (
                    "ORDER_STATUS_REPLICATE",
                    "nats://u:p4ss-word-9@10.0.0.1:4222",
                ),
                ("ORDER_STATUS_REPLICATE_TOKEN", "another-token"),
            ],
            "more than one way",
        ),
        (
            vec![(
                "ORDER_STATUS_REPLICATE",
                "nats://u:p4ss-word-9@10.0.0.1:4222,nats://v:other@10.0.0.2:4222",
            )],
            "different credentials",
        ),
        (
            vec![("ORDER_STATUS_REPLICATE", "http://u:p4ss-word-9@10.0.0.1")],
            "nats://",
        ),
        (
            vec![
                ("ORDER_STATUS_REPLICATE", "nats://10.0.0.1:4222"),
                ("ORDER_STATUS_REPLICATE_TLS_CERT", "/etc/replica.pem"),
            ],
            "replicate_tls_key",
        ),
        (
            vec![
                ("ORDER_STATUS_REPLICATE", "nats://10.0.0.1:4222"),
                ("ORDER_STATUS_REPLICATE_NKEY", "p4ss-word-9"),
            ],
            "SU",
        ),
    ] {
        let e = load(&pairs).expect_err(name);
        let text = crate::errors::chain(&e).to_string();
        assert!(text.contains(name), "{name}: {text}");
        assert!(!text.contains(pass), "{name}: the secret in {text}");
    }
}
