//! Replicas fed by NATS JetStream: a real 3-node `nats-server` cluster on
//! loopback and two or three real `order-status serve --replicate`
//! processes, talked to over HTTP as a load balancer's clients would.

use crate::common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::nats::Cluster;
use common::{Server, client, webhook};

const SHOP: &str = "jsmith.myshopify.com";
const SECRET: &str = "webhook-secret-0123";
const LINK_KEY: &str = "t1=replicated-link-key-0123456789";

fn replica_env(cluster: &Cluster) -> Vec<(&'static str, String)> {
    vec![
        ("ORDER_STATUS_REPLICATE", cluster.urls()),
        ("ORDER_STATUS_REPLICATE_COPIES", "3".into()),
        ("ORDER_STATUS_SEED_DEMO", "false".into()),
        ("ORDER_STATUS_SHOPIFY_SHOP", SHOP.into()),
        ("ORDER_STATUS_SHOPIFY_WEBHOOK_SECRET", SECRET.into()),
        // The same link keys on every replica (config), so a link made on
        // one opens on all.
        ("ORDER_STATUS_LINK_KEYS", LINK_KEY.into()),
    ]
}

fn start_replica(cluster: &Cluster) -> Server {
    start_replica_with(cluster, &[])
}

fn start_replica_with(cluster: &Cluster, extra: &[(&str, &str)]) -> Server {
    let env = replica_env(cluster);
    let mut env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    env.extend_from_slice(extra);
    Server::start_process(&env)
}

fn restart_replica(server: Server, cluster: &Cluster) -> Server {
    let env = replica_env(cluster);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    server.restart(&env)
}

/// Waits until the replica says it is ready (caught up, epochs loaded).
async fn ready(server: &Server) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (code, body) = server.page("/readyz").await;
        if code == 200 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "replica not ready in time: {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Order `i` of the test: a Shopify sample with its own id, number and
/// email.
fn order(i: u64) -> (serde_json::Value, String, String) {
    let mut o = webhook::sample(
        "rest_order_get_partially_refunded_with_fulfillment_and_refund.json",
        "order",
    );
    let number = 5000 + i;
    let email = format!("r{i}@example.com");
    o["id"] = (9_000_000 + i).into();
    o["order_number"] = number.into();
    o["name"] = format!("#{number}").into();
    o["email"] = email.clone().into();
    o["updated_at"] = "2026-11-20T10:00:00Z".into();
    (o, format!("#{number}"), email)
}

/// Delivers order `i` to `server` as Shopify would: again until it is
/// acknowledged (a 503 while NATS elects a leader is retried).
async fn deliver_until_acknowledged(server: &Server, i: u64) {
    let (body, _, _) = order(i);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (code, text) = webhook::deliver(
            &server.base,
            SHOP,
            SECRET,
            "orders/create",
            &body,
            &format!("evt-{i}"),
        )
        .await;
        if code == 200 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "order {i} never acknowledged: {code} {text}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn found(server: &Server, name: &str, email: &str) -> bool {
    server.lookup(name, email).await.status() == 303
}

/// Polls until the order is found on `server`; returns how long it took.
async fn wait_found(server: &Server, name: &str, email: &str) -> Duration {
    let started = Instant::now();
    while !found(server, name, email).await {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{name} never reached {}",
            server.base
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    started.elapsed()
}

fn export(server: &Server) -> Vec<String> {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_order-status"))
        .arg("--data-dir")
        .arg(server.dir.path().join("data"))
        .arg("export")
        .output()
        .expect("export runs");
    assert!(out.status.success(), "export: {out:?}");
    let mut lines: Vec<String> = String::from_utf8(out.stdout)
        .expect("utf-8")
        .lines()
        .map(str::to_string)
        .collect();
    lines.sort();
    lines
}

async fn metric(server: &Server, what: &str) -> u64 {
    let text = server.metrics().await;
    let needle = format!("replication{{what=\"{what}\"}} ");
    text.lines()
        .find_map(|l| l.split(&needle).nth(1))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {needle} in the metrics"))
}

/// Polls `check` until it holds; fails the test with `what` after
/// `limit`.
async fn eventually<F: std::future::Future<Output = bool>>(
    limit: Duration,
    what: &str,
    mut check: impl FnMut() -> F,
) {
    let deadline = Instant::now() + limit;
    while !check().await {
        assert!(Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until the replica's metrics say it has applied all it knows of.
async fn caught_up(server: &Server) {
    let what = format!("{} lags", server.base);
    eventually(Duration::from_secs(10), &what, || async {
        metric(server, "lag").await == 0
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_links_and_revocations_reach_every_replica() {
    let cluster = Cluster::start(3);
    let mut replicas = vec![
        start_replica(&cluster),
        start_replica(&cluster),
        start_replica(&cluster),
    ];
    for r in &replicas {
        ready(r).await;
    }

    // A webhook acknowledged by one replica is found on the next.
    let mut delays = Vec::new();
    for i in 0..30u64 {
        let (on, then) = (&replicas[i as usize % 3], &replicas[(i as usize + 1) % 3]);
        deliver_until_acknowledged(on, i).await;
        let (_, name, email) = order(i);
        delays.push(wait_found(then, &name, &email).await);
    }
    delays.sort();
    eprintln!(
        "acknowledged on one replica -> found on another: p50 {:?}, max {:?} over {}",
        delays[delays.len() / 2],
        delays[delays.len() - 1],
        delays.len()
    );
    for r in &replicas {
        caught_up(r).await;
        assert!(metric(r, "applied").await >= 30);
    }

    // A link made on one replica opens on the others.
    let (_, name, email) = order(0);
    let link = replicas[0].status_path(&name, &email).await;
    for r in &replicas {
        let (code, html) = r.page(&link).await;
        assert_eq!(code, 200, "{} opens the link", r.base);
        assert!(html.contains(&name));
    }

    // A revocation on one holds on all.
    let staff = common::staff_client(&replicas[1], "ops", order_status::staff::Role::Agent).await;
    let res = staff
        .post(replicas[1].url(&format!("/staff/orders/{SHOP}/9000000/revoke")))
        .send()
        .await
        .expect("revoke");
    assert_eq!(res.status(), 303);
    for r in &replicas {
        let what = format!("{} still opens a revoked link", r.base);
        eventually(Duration::from_secs(5), &what, || async {
            r.page(&link).await.0 == 404
        })
        .await;
    }
    // Links made after the revocation work everywhere.
    let fresh = replicas[2].status_path(&name, &email).await;
    for r in &replicas {
        assert_eq!(r.page(&fresh).await.0, 200);
    }
    // A replica restarted after the revocation reads it from the bucket:
    // it gets ready (it never did: its watch saw only later changes) and
    // still refuses the revoked link.
    let first = replicas.remove(0);
    let first = restart_replica(first, &cluster);
    ready(&first).await;
    assert_eq!(
        first.page(&link).await.0,
        404,
        "revoked after a restart too"
    );
    assert_eq!(first.page(&fresh).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_nats_node_and_replica_lose_nothing_acknowledged() {
    let mut cluster = Cluster::start(3);
    let a = start_replica(&cluster);
    let b = start_replica(&cluster);
    ready(&a).await;
    ready(&b).await;
    const N: u64 = 120;
    let env = replica_env(&cluster);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let progress = AtomicU64::new(0);
    let writes = async {
        for i in 0..N {
            deliver_until_acknowledged(&a, i).await;
            progress.store(i + 1, Ordering::Release);
        }
    };
    let at = |n: u64| {
        let progress = &progress;
        async move {
            while progress.load(Ordering::Acquire) < n {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    };
    // Mid-stream, one NATS node and replica B die (SIGKILL both); B is
    // down for a third of the writes and comes back on its data dir.
    let chaos = async {
        at(40).await;
        cluster.kill_node(0);
        let stopped = b.stop();
        at(80).await;
        Server::start_process_in(stopped, &env)
    };
    let ((), b) = tokio::join!(writes, chaos);
    ready(&b).await;
    for i in 0..N {
        let (_, name, email) = order(i);
        assert!(found(&a, &name, &email).await, "A lost {name}");
        wait_found(&b, &name, &email).await;
    }
    caught_up(&b).await;
    let (ea, eb) = (export(&a), export(&b));
    assert_eq!(ea.len(), N as usize);
    assert!(
        ea == eb,
        "the restarted replica exports what the other does"
    );

    // The NATS node comes back, and a replica restarted with it goes on.
    cluster.start_node(0);
    let b = restart_replica(b, &cluster);
    ready(&b).await;
    deliver_until_acknowledged(&b, N).await;
    let (_, name, email) = order(N);
    wait_found(&a, &name, &email).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_status_email_is_sent_by_exactly_one_replica() {
    let smtp = common::smtp::Smtpd::start();
    let cluster = Cluster::start(3);
    let url = smtp.url();
    let mail = [
        ("ORDER_STATUS_SMTP_URL", url.as_str()),
        ("ORDER_STATUS_MAIL_FROM", "Shop <orders@jsmith.example>"),
        ("ORDER_STATUS_MAIL_EVENTS", "shipped"),
        // Shopify's samples are dated years ago; they are news here.
        ("ORDER_STATUS_MAIL_MAX_AGE", "100000d"),
    ];
    let replicas = [
        start_replica_with(&cluster, &mail),
        start_replica_with(&cluster, &mail),
        start_replica_with(&cluster, &mail),
    ];
    for r in &replicas {
        ready(r).await;
    }
    const N: u64 = 12;
    for i in 0..N {
        let on = &replicas[i as usize % 3];
        deliver_until_acknowledged(on, i).await;
        let mut shipment = webhook::sample(
            "rest_fulfillment_create_with_tracking_ups.json",
            "fulfillment",
        );
        shipment["id"] = (8_000_000 + i).into();
        shipment["order_id"] = (9_000_000 + i).into();
        let (code, text) = webhook::deliver(
            &on.base,
            SHOP,
            SECRET,
            "fulfillments/create",
            &shipment,
            &format!("ship-{i}"),
        )
        .await;
        assert_eq!(code, 200, "{text}");
    }
    // Exactly once is what this counts, not how fast. The bound is
    // generous: an offer pulled by a replica whose pull then fails comes
    // back only when the outbox's ack wait (30 s) runs out, and on a
    // loaded machine the next pull can fail too. It returns as soon as
    // all are there. (11 of 12 after 270 s in CI was no slowness: a
    // replica handed a shipment it had not applied yet settled the offer
    // as done, and nobody sent it; see `NOT_HERE_TRIES`.)
    let got = smtp.wait_for(N as usize, Duration::from_secs(270)).await;
    assert_eq!(got.len(), N as usize, "one email a shipment");
    // Every replica has seen every shipment; give a second sender time
    // to (wrongly) send again before counting.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut to: Vec<String> = smtp.messages().iter().map(|m| m.header("to")).collect();
    to.sort();
    let mut want: Vec<String> = (0..N).map(|i| order(i).2).collect();
    want.sort();
    assert_eq!(to, want, "each shopper got exactly one email");
    // Shopper 0 stops every email to their address on one replica; an
    // order of theirs shipped through another sends nothing.
    let (kid, secret) = LINK_KEY.split_once('=').expect("id=secret");
    let links = order_status::links::Links::new(vec![
        order_status::links::LinkKey::new(kid, secret.as_bytes()).expect("key"),
    ])
    .expect("links");
    let token = links.sign_unsubscribe(SHOP, 9_000_000);
    let res = client()
        .post(replicas[1].url(&format!("/unsubscribe/{token}")))
        .form(&[("scope", "address")])
        .send()
        .await
        .expect("opt out");
    assert_eq!(res.status(), 200);
    let (mut again, _, email) = order(100);
    again["email"] = order(0).2.into();
    let _ = email;
    let on = &replicas[2];
    let (code, _) = webhook::deliver(&on.base, SHOP, SECRET, "orders/create", &again, "o100").await;
    assert_eq!(code, 200);
    let mut shipment = webhook::sample(
        "rest_fulfillment_create_with_tracking_ups.json",
        "fulfillment",
    );
    shipment["id"] = 8_000_100.into();
    shipment["order_id"] = 9_000_100.into();
    let (code, _) = webhook::deliver(
        &on.base,
        SHOP,
        SECRET,
        "fulfillments/create",
        &shipment,
        "s100",
    )
    .await;
    assert_eq!(code, 200);
    // The replica that did not take the opt-out knows of it.
    let staff = common::staff_client(&replicas[2], "ops", order_status::staff::Role::Viewer).await;
    let page = staff
        .get(replicas[2].url(&format!("/staff/orders/{SHOP}/9000100")))
        .send()
        .await
        .expect("order page")
        .text()
        .await
        .expect("body");
    assert!(
        page.contains("This address asked for no order emails at all."),
        "{page}"
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        smtp.messages().len(),
        N as usize,
        "nothing to an address that opted out on another replica"
    );
    // Every replica learns they were sent.
    for r in &replicas {
        let what = format!("{} still has mail queued", r.base);
        eventually(Duration::from_secs(10), &what, || async {
            let text = r.metrics().await;
            text.lines().any(|l| l.ends_with("mail_queued_orders 0"))
        })
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn budgets_and_order_locks_are_counted_across_replicas() {
    let cluster = Cluster::start(3);
    let limits = [
        ("ORDER_STATUS_LIMIT_LOOKUP", "6/h:6"),
        ("ORDER_STATUS_LIMIT_ORDER_FAILURES", "3/15m"),
    ];
    let a = start_replica_with(&cluster, &limits);
    let b = start_replica_with(&cluster, &limits);
    ready(&a).await;
    ready(&b).await;
    deliver_until_acknowledged(&a, 0).await;
    let (_, name, email) = order(0);
    wait_found_quietly(&b, &name).await;
    // Three wrong emails for one order number, spread over the replicas.
    for (i, r) in [&a, &b, &a].into_iter().enumerate() {
        let res = r.lookup(&name, &format!("wrong{i}@example.com")).await;
        assert_eq!(res.status(), 200, "a wrong email is not found");
    }
    // The number is locked on both: even the right pair is not let in.
    let res = b.lookup(&name, &email).await;
    assert_eq!(
        res.status(),
        200,
        "the lock counted failures on both replicas"
    );
    // Four lookups so far from this client; two more fit the budget of
    // six, wherever they go, and the next is refused.
    assert_eq!(a.lookup("#1", "x@example.com").await.status(), 200);
    assert_eq!(b.lookup("#1", "x@example.com").await.status(), 200);
    let over = a.lookup("#1", "x@example.com").await;
    assert_eq!(over.status(), 429, "one budget for both replicas");
    assert!(over.headers().contains_key("retry-after"));
    assert_eq!(b.lookup("#1", "x@example.com").await.status(), 429);

    // The insight counters are the cluster's too: what shoppers did on
    // either replica adds up on both. So far six lookups found nothing
    // (three wrong emails, the locked right pair, two unknown numbers;
    // refused ones are not lookups). Now two views on one, three on the
    // other.
    let (kid, secret) = LINK_KEY.split_once('=').expect("kid=secret");
    let links = order_status::links::Links::new(vec![
        order_status::links::LinkKey::new(kid, secret.as_bytes()).expect("key"),
    ])
    .expect("links");
    let token = links.sign(&order_status::links::LinkClaims {
        shop: SHOP.into(),
        order_id: 9_000_000,
        expires: chrono::Utc::now() + chrono::Duration::days(1),
        epoch: 0,
    });
    for (r, n) in [(&a, 2), (&b, 3)] {
        for _ in 0..n {
            assert_eq!(r.page(&format!("/status/{token}")).await.0, 200);
        }
    }
    // One account, made through one replica, is the cluster's.
    let _ = common::staff_client(&a, "ana", order_status::staff::Role::Viewer).await;
    for r in [&a, &b] {
        let (staff, code) = common::sign_in(r, "ana").await;
        assert_eq!(code, 303, "{} signs ana in", r.base);
        let what = format!("{} does not show both replicas' counts", r.base);
        eventually(Duration::from_secs(20), &what, || async {
            let csv = staff
                .get(r.url("/staff/insights.csv?chart=activity&days=7"))
                .send()
                .await
                .expect("csv")
                .text()
                .await
                .expect("body");
            // day,views,lookups_found,lookups_not_found,...
            let today = csv.lines().last().unwrap_or_default().to_string();
            today.starts_with(&format!("{},5,0,6,", chrono::Utc::now().date_naive()))
        })
        .await;
    }
}

/// Waits until a replica holds order `name` (by a staff-free route: the
/// JSON readiness detail counts orders), without spending lookups.
async fn wait_found_quietly(server: &Server, name: &str) {
    let what = format!("{name} never reached {}", server.base);
    eventually(Duration::from_secs(10), &what, || async {
        server.page("/readyz").await.1.contains("\"orders\":1")
    })
    .await;
}

/// An admin adds the account `name` with `role` on `server`
/// (redirected: added).
async fn add_account(admin: &reqwest::Client, server: &Server, name: &str, role: &str) {
    let res = admin
        .post(server.url("/staff/accounts"))
        .form(&[
            ("name", name),
            ("password", common::STAFF_PASSWORD),
            ("role", role),
        ])
        .send()
        .await
        .expect("add an account");
    assert_eq!(res.status(), 303, "{name} added");
}

async fn staff_home(c: &reqwest::Client, server: &Server) -> u16 {
    c.get(server.url("/staff"))
        .send()
        .await
        .expect("staff page")
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_accounts_and_sessions_hold_on_every_replica() {
    use order_status::staff::Role;
    let cluster = Cluster::start(3);
    let a = start_replica(&cluster);
    let b = start_replica(&cluster);
    ready(&a).await;
    ready(&b).await;
    // The first admin, made in A's data dir, is brought to the bucket by
    // A's first sign-in.
    let admin = common::staff_client(&a, "boss", Role::Admin).await;
    // A session made on A is good on B (one session key).
    assert_eq!(staff_home(&admin, &b).await, 200);
    // An account the admin adds on A signs in on B.
    add_account(&admin, &a, "helper", "agent").await;
    let (helper, code) = common::sign_in(&b, "helper").await;
    assert_eq!(code, 303, "the new account signs in on the other replica");
    assert_eq!(staff_home(&helper, &a).await, 200);
    // Signing out in one browser on B ends the session of another
    // browser on A too.
    let (elsewhere, code) = common::sign_in(&a, "helper").await;
    assert_eq!(code, 303);
    assert_eq!(staff_home(&elsewhere, &a).await, 200);
    let res = helper
        .post(b.url("/staff/logout"))
        .send()
        .await
        .expect("logout");
    assert_eq!(res.status(), 303);
    assert_ne!(
        staff_home(&elsewhere, &a).await,
        200,
        "signed out everywhere"
    );
    // The admin's removal on A ends the helper's new session on B.
    let (again, code) = common::sign_in(&b, "helper").await;
    assert_eq!(code, 303);
    let res = admin
        .post(a.url("/staff/accounts/helper/remove"))
        .send()
        .await
        .expect("remove");
    assert_eq!(res.status(), 303);
    for r in [&a, &b] {
        let code = staff_home(&again, r).await;
        assert_ne!(code, 200, "a removed account's session ends on {}", r.base);
    }
    let (_, code) = common::sign_in(&a, "helper").await;
    assert_eq!(code, 401, "a removed account cannot sign in anywhere");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_publishes_to_the_stream_and_every_replica_applies_it() {
    let cluster = Cluster::start(3);
    let a = start_replica(&cluster);
    let b = start_replica(&cluster);
    ready(&a).await;
    ready(&b).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("orders.ndjson");
    let lines: Vec<String> = (0..25)
        .map(|i| serde_json::to_string(&common::demo_order(i)).expect("json"))
        .collect();
    std::fs::write(&file, lines.join("\n") + "\n").expect("write");
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_order-status"))
            .args(args)
            .arg("--data-dir")
            .arg(dir.path().join("no-data-needed"))
            .env("ORDER_STATUS_REPLICATE", cluster.urls())
            .env("ORDER_STATUS_REPLICATE_COPIES", "3")
            .output()
            .expect("runs")
    };
    let out = run(&["import", file.to_str().expect("utf-8")]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("Published 25 orders"), "{stdout}");
    for r in [&a, &b] {
        let what = format!("{} did not apply the import", r.base);
        eventually(Duration::from_secs(10), &what, || async {
            r.page("/readyz").await.1.contains("\"orders\":25")
        })
        .await;
    }
    let o = common::demo_order(3);
    assert!(found(&b, &o.name, &o.email).await);
    // Commands that write one data dir say why they are not for replicas.
    let out = run(&["reindex", "--from", file.to_str().expect("utf-8")]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("rebuilt from the stream"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Seconds since each replica's last Shopify sync (`None`: never), from
/// the operator's `/readyz`.
async fn synced(server: &Server) -> Option<i64> {
    let (_, body) = server.page("/readyz").await;
    let v: serde_json::Value = serde_json::from_str(&body).expect("json");
    v["shops"][0]["last_sync_age_seconds"].as_i64()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_replica_at_a_time_syncs_with_shopify() {
    use common::fake_shopify::{FakeShopify, Rules, STATIC_TOKEN, graphql_order};
    let orders: Vec<_> = (0..20)
        .map(|i| order_status::ingest::demo::order(7, i, chrono::Utc::now(), SHOP))
        .collect();
    let fake =
        FakeShopify::start(Rules::default(), orders.iter().map(graphql_order).collect()).await;
    let cluster = Cluster::start(3);
    let shopify = [
        ("ORDER_STATUS_SHOPIFY_API_BASE", fake.base.as_str()),
        ("ORDER_STATUS_SHOPIFY_ACCESS_TOKEN", STATIC_TOKEN),
        ("ORDER_STATUS_SYNC_INTERVAL", "10s"),
    ];
    let mut a = Some(start_replica_with(&cluster, &shopify));
    let b = start_replica_with(&cluster, &shopify);
    let a_ref = a.as_ref().expect("a");
    ready(a_ref).await;
    ready(&b).await;
    // One of them takes the lease and syncs; the other does not.
    let deadline = Instant::now() + Duration::from_secs(30);
    let (leader_is_a, other) = loop {
        match (synced(a_ref).await, synced(&b).await) {
            (Some(_), None) => break (true, &b),
            (None, Some(_)) => break (false, a_ref),
            (Some(_), Some(_)) => panic!("both replicas synced with Shopify"),
            (None, None) => {}
        }
        assert!(Instant::now() < deadline, "no replica synced");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    // Both hold what the one sync brought.
    let o = &orders[5];
    wait_found(other, &o.name, &o.email).await;
    tokio::time::sleep(Duration::from_secs(12)).await;
    assert_eq!(synced(other).await, None, "the other still waits");
    // The leader dies: the other takes over within the lease's life.
    let survivor = if leader_is_a {
        drop(a.take());
        &b
    } else {
        drop(b);
        a.as_ref().expect("a")
    };
    assert_eq!(
        fake.counters().bulk_started,
        1,
        "the first sync read it all"
    );
    eventually(
        Duration::from_secs(45),
        "nobody took over the sync",
        || async { synced(survivor).await.is_some() },
    )
    .await;
    // From the cluster's checkpoint: changes since the last sync, paged,
    // not the whole shop again.
    let counters = fake.counters();
    assert_eq!(counters.bulk_started, 1, "no second bulk operation");
    let (_, query) = counters.order_pages.last().expect("a page of changes");
    assert!(
        query.as_deref().is_some_and(|q| q.contains("updated_at")),
        "{query:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_nats_reads_go_on_and_writes_answer_503_until_it_is_back() {
    let mut cluster = Cluster::start(1);
    let r = start_replica_with(&cluster, &[("ORDER_STATUS_REPLICATE_COPIES", "1")]);
    ready(&r).await;
    deliver_until_acknowledged(&r, 0).await;
    let (_, name, email) = order(0);
    assert!(found(&r, &name, &email).await);
    cluster.kill_node(0);
    // Reads: from the local index.
    assert!(found(&r, &name, &email).await, "lookups go on without NATS");
    let link = r.status_path(&name, &email).await;
    assert_eq!(r.page(&link).await.0, 200);
    // Writes: 503, so Shopify tries again.
    let (body, _, _) = order(1);
    let (code, _) = webhook::deliver(&r.base, SHOP, SECRET, "orders/create", &body, "evt-1").await;
    assert_eq!(code, 503, "a write NATS cannot store is refused");
    let (_, name1, email1) = order(1);
    assert!(!found(&r, &name1, &email1).await);
    // NATS back: Shopify's retry goes through.
    cluster.start_node(0);
    deliver_until_acknowledged(&r, 1).await;
    assert!(found(&r, &name1, &email1).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_behind_a_trimmed_stream_starts_again_on_a_snapshot() {
    let cluster = Cluster::start(3);
    let a = start_replica(&cluster);
    ready(&a).await;
    for i in 0..10 {
        deliver_until_acknowledged(&a, i).await;
    }
    // A snapshot of A, taken while it serves.
    let snapshots = tempfile::tempdir().expect("dir");
    let snap = snapshots.path().join("index");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_order-status"))
        .arg("--data-dir")
        .arg(a.dir.path().join("data"))
        .args(["snapshot", "--out"])
        .arg(&snap)
        .output()
        .expect("snapshot runs");
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{said} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("Snapshot of 10 orders"), "{said}");
    let at: u64 = said
        .split("up to entry ")
        .nth(1)
        .and_then(|s| s.split(':').next())
        .and_then(|s| s.trim().parse().ok())
        .expect("the snapshot's position");
    for i in 10..20 {
        deliver_until_acknowledged(&a, i).await;
    }
    // The operator trims the stream: what the snapshot holds goes.
    let first = cluster.urls().split(',').next().expect("a url").to_string();
    let js = async_nats::jetstream::new(async_nats::connect(first).await.expect("nats"));
    let stream = js
        .get_stream(order_status::replicate::STREAM)
        .await
        .expect("stream");
    stream.purge().sequence(at + 1).await.expect("purged");
    // A new replica cannot catch up from the stream alone, and says so by
    // not becoming ready.
    let lost = start_replica(&cluster);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (code, body) = lost.page("/readyz").await;
    assert_eq!(code, 503, "{body}");
    drop(lost);
    // One started on the snapshot goes on from it.
    let dir = tempfile::tempdir().expect("dir");
    std::fs::create_dir_all(dir.path().join("data")).expect("data dir");
    std::fs::rename(&snap, dir.path().join("data/index")).expect("snapshot in place");
    let env = replica_env(&cluster);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let c = Server::start_process_in(dir, &env);
    ready(&c).await;
    caught_up(&c).await;
    let (ea, ec) = (export(&a), export(&c));
    assert_eq!(ea.len(), 20);
    assert!(
        ea == ec,
        "the replica started on the snapshot holds what A holds"
    );
}

/// Values in NATS this site did not write (whoever can reach NATS could
/// put them there): a replica restarted over them keeps serving, refuses
/// each, logs and counts it. A session key too short to sign with is
/// replaced (it made a restarting replica panic), unreadable accounts give
/// way to the replica's own file (not a 503 for every sign-in), junk link
/// epochs and opt-outs are skipped, a junk stream entry is passed over and
/// the writes after it still replicate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_in_nats_is_refused_counted_and_replicas_keep_serving() {
    use order_status::staff::Role;
    let cluster = Cluster::start(3);
    let a = start_replica(&cluster);
    let b = start_replica(&cluster);
    ready(&a).await;
    ready(&b).await;
    // The first admin goes to the shared accounts from A's file.
    let admin = common::staff_client(&a, "boss", Role::Admin).await;
    assert_eq!(staff_home(&admin, &b).await, 200);

    let first = cluster
        .urls()
        .split(',')
        .next()
        .expect("a node")
        .to_string();
    let nats = async_nats::connect(first).await.expect("a NATS client");
    let js = async_nats::jetstream::new(nats);
    let staff = js
        .get_key_value("order_status_staff")
        .await
        .expect("the staff bucket");
    staff
        .put("session-key", "12345".into())
        .await
        .expect("a short key");
    staff
        .put("accounts", "{ not accounts".into())
        .await
        .expect("junk accounts");
    for (bucket, key, value) in [
        ("order_status_link_epochs", "bm90LWFuLW9yZGVy", "many"),
        ("order_status_optouts", "not-a-digest", "1"),
    ] {
        let kv = js.get_key_value(bucket).await.expect(bucket);
        kv.put(key, value.into()).await.expect("junk");
    }
    js.publish(order_status::replicate::SUBJECT, "not a change".into())
        .await
        .expect("published")
        .await
        .expect("stored");

    // A restart reads the session key again.
    let a = restart_replica(a, &cluster);
    ready(&a).await;
    assert_eq!(a.page("/").await.0, 200, "A serves");
    let key = staff
        .get("session-key")
        .await
        .expect("read")
        .expect("a key");
    assert!(key.len() >= 32, "the short key was replaced");
    // Signing in works, with A's own accounts.
    let (again, code) = common::sign_in(&a, "boss").await;
    assert_eq!(code, 303, "boss signs in on A");
    assert_eq!(staff_home(&again, &a).await, 200);
    // The writes after the junk entry reach both replicas.
    deliver_until_acknowledged(&a, 1).await;
    let (_, name, email) = order(1);
    wait_found(&a, &name, &email).await;
    wait_found(&b, &name, &email).await;
    // Each refusal counted once: since its restart, A the key, the
    // accounts, the epoch and the opt-out; B, running all along, the
    // epoch, the opt-out and the stream entry.
    let what = "A counts what it refused";
    eventually(Duration::from_secs(10), what, || async {
        metric(&a, "refused").await >= 4
    })
    .await;
    assert!(metric(&b, "refused").await >= 3, "B counts what it refused");

    // A junk bulk job: the lease holder, looking every second, counts it
    // once. (The bucket is made by the holder's first look.)
    let bulk = loop {
        if let Ok(kv) = js.get_key_value("order_status_bulk_jobs").await {
            break kv;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    tokio::time::sleep(Duration::from_secs(2)).await;
    let both = || async { metric(&a, "refused").await + metric(&b, "refused").await };
    let before = both().await;
    bulk.put("20260101000000junk", "{ not a job".into())
        .await
        .expect("junk job");
    let what = "the lease holder counts the junk job";
    eventually(Duration::from_secs(30), what, || async {
        both().await > before
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(both().await, before + 1, "counted once");
    assert_eq!(a.page("/").await.0, 200, "A serves");

    // Junk in the audit stream: the export passes over it and counts it.
    let export = |server: &Server| {
        let c = again.clone();
        let url = server.url("/staff/audit.ndjson");
        async move {
            let res = c.get(url).send().await.expect("export");
            assert_eq!(res.status(), 200);
            res.text().await.expect("body")
        }
    };
    export(&a).await;
    js.publish("order-status.audit._", "{ not a line".into())
        .await
        .expect("published")
        .await
        .expect("stored");
    let before = metric(&a, "refused").await;
    let text = export(&a).await;
    assert!(text.lines().count() >= 1, "{text}");
    for line in text.lines() {
        assert!(
            serde_json::from_str::<serde_json::Value>(line).is_ok(),
            "only audit lines are exported: {text}"
        );
    }
    assert!(
        metric(&a, "refused").await > before,
        "the junk line counted"
    );

    // Junk in the shared lookup locks: taken as no lock, counted.
    assert_ne!(a.lookup("#5001", "nobody@example.com").await.status(), 303);
    let limits = js
        .get_key_value("order_status_limits")
        .await
        .expect("the limits bucket");
    limits
        .put("lock.5001", "locked forever".into())
        .await
        .expect("junk lock");
    let before = metric(&a, "refused").await;
    let (_, name, email) = order(1);
    assert_eq!(
        a.lookup(&name, &email).await.status(),
        303,
        "the junk is no lock"
    );
    assert!(
        metric(&a, "refused").await > before,
        "the junk lock counted"
    );

    // Junk in the email work queue: dropped by whichever replica pulls
    // it, counted.
    let before = metric(&a, "refused").await + metric(&b, "refused").await;
    js.publish("order-status.outbox.junk", "not an offer".into())
        .await
        .expect("published")
        .await
        .expect("stored");
    eventually(
        Duration::from_secs(30),
        "the junk offer counted",
        || async { metric(&a, "refused").await + metric(&b, "refused").await > before },
    )
    .await;

    // Junk under a delivery's claim would make it a "duplicate" and lose
    // it: refused and claimed over, the delivery applied.
    use base64::Engine as _;
    let claim = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(format!("{SHOP}\torders/create\tevt-junk-claim"));
    js.get_key_value("order_status_webhooks_seen")
        .await
        .expect("the claims bucket")
        .put(&claim, "x".into())
        .await
        .expect("junk claim");
    let before = metric(&a, "refused").await;
    let (body, name, email) = order(2);
    let (code, text) = webhook::deliver(
        &a.base,
        SHOP,
        SECRET,
        "orders/create",
        &body,
        "evt-junk-claim",
    )
    .await;
    assert_eq!(code, 200, "{text}");
    assert!(!text.contains("duplicate"), "applied: {text}");
    wait_found(&b, &name, &email).await;
    assert!(
        metric(&a, "refused").await > before,
        "the junk claim counted"
    );

    // Junk as the jobs lease's holder: taken over by a replica, counted.
    let lease = js
        .get_key_value("order_status_jobs")
        .await
        .expect("the lease bucket");
    let before = metric(&a, "refused").await + metric(&b, "refused").await;
    lease
        .put("leader", "nobody at all".into())
        .await
        .expect("junk leader");
    eventually(Duration::from_secs(30), "the lease taken over", || async {
        let holder = lease.get("leader").await.ok().flatten().unwrap_or_default();
        holder.len() == 16 && holder.iter().all(u8::is_ascii_hexdigit)
    })
    .await;
    assert!(
        metric(&a, "refused").await + metric(&b, "refused").await > before,
        "the junk holder counted"
    );

    assert_eq!(a.page("/").await.0, 200, "A serves");
    assert_eq!(b.page("/").await.0, 200, "B serves");
}

/// A NATS cluster that requires a user and password: a client without
/// them is refused by NATS; replicas given them (in the address, or as
/// settings) connect and replicate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_sign_in_to_a_nats_cluster_that_requires_a_password() {
    use common::nats::Guard;
    let (user, pass) = ("replica", "s3cret-nats-pass");
    let cluster = Cluster::start_guarded(3, Guard::UserPassword(user.into(), pass.into()));
    let first = cluster
        .urls()
        .split(',')
        .next()
        .expect("a node")
        .to_string();
    let refused = async_nats::ConnectOptions::new()
        .connection_timeout(Duration::from_secs(2))
        .connect(first.as_str())
        .await;
    assert!(
        refused.is_err(),
        "NATS lets in a client without credentials"
    );
    // A: the credentials in the addresses; B: as settings.
    let with_credentials = cluster
        .urls()
        .replace("nats://", &format!("nats://{user}:{pass}@"));
    let a = start_replica_with(&cluster, &[("ORDER_STATUS_REPLICATE", &with_credentials)]);
    let b = start_replica_with(
        &cluster,
        &[
            ("ORDER_STATUS_REPLICATE_USER", user),
            ("ORDER_STATUS_REPLICATE_PASSWORD", pass),
        ],
    );
    ready(&a).await;
    ready(&b).await;
    deliver_until_acknowledged(&a, 1).await;
    let (_, name, email) = order(1);
    wait_found(&b, &name, &email).await;
    deliver_until_acknowledged(&b, 2).await;
    let (_, name, email) = order(2);
    wait_found(&a, &name, &email).await;
}

/// A NATS server that speaks only TLS and verifies its clients'
/// certificates: a replica with the CA and its own certificate connects
/// and serves writes; a client without a certificate is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_reaches_nats_over_mutual_tls() {
    use common::nats::{Guard, Pki};
    let pki = Pki::new();
    let cluster = Cluster::start_guarded(
        1,
        Guard::Tls {
            cert: pki.server_cert.clone(),
            key: pki.server_key.clone(),
            verify_with: Some(pki.ca.clone()),
        },
    );
    let url = cluster.urls();
    let refused = async_nats::ConnectOptions::new()
        .add_root_certificates(pki.ca.clone())
        .require_tls(true)
        .connection_timeout(Duration::from_secs(2))
        .connect(url.as_str())
        .await;
    assert!(
        refused.is_err(),
        "NATS lets in a client without a certificate"
    );
    let path = |p: &std::path::Path| p.display().to_string();
    let (ca, cert, key) = (path(&pki.ca), path(&pki.client_cert), path(&pki.client_key));
    let a = start_replica_with(
        &cluster,
        &[
            ("ORDER_STATUS_REPLICATE_COPIES", "1"),
            ("ORDER_STATUS_REPLICATE_TLS_CA", &ca),
            ("ORDER_STATUS_REPLICATE_TLS_CERT", &cert),
            ("ORDER_STATUS_REPLICATE_TLS_KEY", &key),
        ],
    );
    ready(&a).await;
    deliver_until_acknowledged(&a, 1).await;
    let (_, name, email) = order(1);
    wait_found(&a, &name, &email).await;
}

/// Shopify's retry landing on another replica, or one delivery at two
/// replicas at once: applied by one, a duplicate on the other, and
/// again a duplicate later on either; a delivery that is new is applied;
/// a shipment delivered to both sends the shopper one email.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_delivery_at_two_replicas_is_applied_once() {
    let smtp = common::smtp::Smtpd::start();
    let cluster = Cluster::start(3);
    let url = smtp.url();
    let mail = [
        ("ORDER_STATUS_SMTP_URL", url.as_str()),
        ("ORDER_STATUS_MAIL_FROM", "Shop <orders@jsmith.example>"),
        ("ORDER_STATUS_MAIL_EVENTS", "shipped"),
        ("ORDER_STATUS_MAIL_MAX_AGE", "100000d"),
    ];
    let a = start_replica_with(&cluster, &mail);
    let b = start_replica_with(&cluster, &mail);
    ready(&a).await;
    ready(&b).await;
    let outcome = |text: &str| -> String {
        serde_json::from_str::<serde_json::Value>(text).expect("json")["outcome"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    for round in 0..5u64 {
        let (body, name, email) = order(100 + round);
        let event = format!("evt-twice-{round}");
        let ((ca, ta), (cb, tb)) = tokio::join!(
            webhook::deliver(&a.base, SHOP, SECRET, "orders/create", &body, &event),
            webhook::deliver(&b.base, SHOP, SECRET, "orders/create", &body, &event),
        );
        assert_eq!((ca, cb), (200, 200), "{ta} {tb}");
        let outcomes = [outcome(&ta), outcome(&tb)];
        assert_eq!(
            outcomes.iter().filter(|o| *o == "duplicate").count(),
            1,
            "round {round}: one applies, one is a duplicate: {outcomes:?}"
        );
        wait_found(&a, &name, &email).await;
        wait_found(&b, &name, &email).await;
        // A retry later, on either: a duplicate.
        for r in [&a, &b] {
            let (code, text) =
                webhook::deliver(&r.base, SHOP, SECRET, "orders/create", &body, &event).await;
            assert_eq!((code, outcome(&text).as_str()), (200, "duplicate"));
        }
    }
    // A shipment's notification at both at once: one email.
    let (_, name, email) = order(200);
    deliver_until_acknowledged(&a, 200).await;
    wait_found(&b, &name, &email).await;
    let to_shopper = || {
        smtp.messages()
            .iter()
            .filter(|m| m.header("to") == email)
            .count()
    };
    tokio::time::sleep(Duration::from_secs(3)).await;
    let before = to_shopper();
    let mut shipment = webhook::sample(
        "rest_fulfillment_create_with_tracking_ups.json",
        "fulfillment",
    );
    shipment["id"] = 8_000_200.into();
    shipment["order_id"] = 9_000_200.into();
    let ((ca, ta), (cb, tb)) = tokio::join!(
        webhook::deliver(
            &a.base,
            SHOP,
            SECRET,
            "fulfillments/create",
            &shipment,
            "ship-twice"
        ),
        webhook::deliver(
            &b.base,
            SHOP,
            SECRET,
            "fulfillments/create",
            &shipment,
            "ship-twice"
        ),
    );
    assert_eq!((ca, cb), (200, 200), "{ta} {tb}");
    let outcomes = [outcome(&ta), outcome(&tb)];
    assert_eq!(
        outcomes.iter().filter(|o| *o == "duplicate").count(),
        1,
        "{outcomes:?}"
    );
    eventually(Duration::from_secs(270), "the shipment's email", || async {
        to_shopper() > before
    })
    .await;
    // Time for a second sender to (wrongly) send again.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(to_shopper(), before + 1, "one email for the shipment");
}

/// The `staff` commands with the replication settings change the
/// accounts every replica shares: an account added from another host
/// (with a data dir of its own, empty) signs in on a running replica, and
/// one removed there can no longer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_commands_change_the_replicas_shared_accounts() {
    use std::io::Write;
    let cluster = Cluster::start(3);
    let a = start_replica(&cluster);
    ready(&a).await;
    let elsewhere = tempfile::tempdir().expect("another host's data dir");
    let staff = |args: &[&str], stdin: &str| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_order-status"));
        cmd.arg("--data-dir")
            .arg(elsewhere.path())
            .args(["--replicate", &cluster.urls(), "--replicate-copies", "3"])
            .arg("staff")
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = cmd.spawn().expect("staff runs");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(stdin.as_bytes())
            .expect("password");
        let out = child.wait_with_output().expect("staff ends");
        assert!(out.status.success(), "staff {args:?}: {out:?}");
        String::from_utf8(out.stdout).expect("utf-8")
    };
    let said = staff(
        &["add", "nora", "--role", "admin"],
        &format!("{}\n", common::STAFF_PASSWORD),
    );
    assert!(said.contains("Added staff account nora (admin)"), "{said}");
    assert!(staff(&["list"], "").contains("nora\tadmin"));
    let (c, code) = common::sign_in(&a, "nora").await;
    assert_eq!(code, 303, "the account made from elsewhere signs in on A");
    assert_eq!(staff_home(&c, &a).await, 200);
    staff(
        &["add", "sam", "--role", "agent"],
        &format!("{}\n", common::STAFF_PASSWORD),
    );
    staff(&["remove", "sam"], "");
    let (_, code) = common::sign_in(&a, "sam").await;
    assert_ne!(code, 303, "removed from elsewhere: no sign-in on A");
}

/// One audit log for the cluster: an admin's action on A and an agent's
/// on B are both in the export from either replica, in the order they
/// were done, and each replica's order page tells the other's action.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_log_is_the_clusters() {
    use order_status::staff::Role;
    let cluster = Cluster::start(3);
    let a = start_replica(&cluster);
    let b = start_replica(&cluster);
    ready(&a).await;
    ready(&b).await;
    let (body, name, email) = order(300);
    let id = body["id"].as_u64().expect("id");
    deliver_until_acknowledged(&a, 300).await;
    wait_found(&b, &name, &email).await;
    let page = format!("/staff/orders/{SHOP}/{id}");

    let boss = common::staff_client(&a, "boss", Role::Admin).await;
    let res = boss
        .post(a.url(&format!("{page}/revoke")))
        .send()
        .await
        .expect("revoke on A");
    assert_eq!(res.status(), 303);
    add_account(&boss, &a, "ben", "agent").await;
    let (ben, code) = common::sign_in(&b, "ben").await;
    assert_eq!(code, 303);
    let res = ben
        .post(b.url(&format!("{page}/share")))
        .form(&[("days", "7")])
        .send()
        .await
        .expect("share on B");
    assert_eq!(res.status(), 303);

    for r in [&a, &b] {
        let text = boss
            .get(r.url("/staff/audit.ndjson"))
            .send()
            .await
            .expect("export")
            .text()
            .await
            .expect("body");
        let actions: Vec<(String, String)> = text
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).expect("a JSON line");
                (
                    v["by"].as_str().unwrap_or_default().to_string(),
                    v["action"].as_str().unwrap_or_default().to_string(),
                )
            })
            .filter(|(_, action)| action.starts_with("link.") || action.starts_with("account."))
            .collect();
        let revoke = actions
            .iter()
            .position(|(who, action)| who.contains("boss") && action == "link.revoke");
        let share = actions
            .iter()
            .position(|(who, action)| who.contains("ben") && action == "link.share");
        assert!(
            matches!((revoke, share), (Some(x), Some(y)) if x < y),
            "the export from {} lists A's revoke, then B's share: {actions:?}\n{text}",
            r.base
        );
    }
    // Each replica's order page tells what was done on the other.
    let read = |c: &reqwest::Client, url: String| {
        let c = c.clone();
        async move {
            let res = c.get(url).send().await.expect("order page");
            assert_eq!(res.status(), 200);
            res.text().await.expect("body")
        }
    };
    let html = read(&ben, a.url(&page)).await;
    assert!(
        html.contains("boss stopped every status link issued so far."),
        "{html}"
    );
    assert!(html.contains("ben made a status link valid for"), "{html}");
    let html = read(&boss, b.url(&page)).await;
    assert!(
        html.contains("boss stopped every status link issued so far."),
        "{html}"
    );
}

/// A bulk change started on the replica running the cluster's jobs,
/// killed midway (while it writes each order's status back to a
/// throttling Shopify), is finished by the other replica once the jobs
/// lease passes to it: every order changed once, here and in Shopify,
/// with a report that counts each order once, and the audit log tells
/// the start on one replica and the resumption on the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_change_whose_replica_dies_is_finished_by_another() {
    use common::fake_shopify::{FakeShopify, Rules, STATIC_TOKEN, graphql_order};
    use order_status::staff::Role;
    const N: usize = 20;
    let orders: Vec<_> = (0..N as u64)
        .map(|i| order_status::ingest::demo::order(7, i, chrono::Utc::now(), SHOP))
        .collect();
    let fake =
        FakeShopify::start(Rules::default(), orders.iter().map(graphql_order).collect()).await;
    let config = tempfile::NamedTempFile::new().expect("a config file");
    std::fs::write(
        config.path(),
        "[[status]]\nid = \"qc\"\ntitle = { en = \"Quality check\" }\n\
         description = { en = \"We check it.\" }\n",
    )
    .expect("config");
    let config_path = config.path().display().to_string();
    let cluster = Cluster::start(3);
    let settings = [
        ("ORDER_STATUS_CONFIG", config_path.as_str()),
        ("ORDER_STATUS_SHOPIFY_API_BASE", fake.base.as_str()),
        ("ORDER_STATUS_SHOPIFY_ACCESS_TOKEN", STATIC_TOKEN),
        ("ORDER_STATUS_SHOPIFY_WRITE_BACK", "true"),
        ("ORDER_STATUS_SYNC_INTERVAL", "10m"),
    ];
    let a = start_replica_with(&cluster, &settings);
    let b = start_replica_with(&cluster, &settings);
    ready(&a).await;
    ready(&b).await;
    // The lease holder syncs: that one runs the jobs.
    let deadline = Instant::now() + Duration::from_secs(30);
    let leader_is_a = loop {
        match (synced(&a).await, synced(&b).await) {
            (Some(_), None) => break true,
            (None, Some(_)) => break false,
            (Some(_), Some(_)) => panic!("both replicas synced with Shopify"),
            (None, None) => {}
        }
        assert!(Instant::now() < deadline, "no replica synced");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let (leader, survivor) = if leader_is_a { (a, b) } else { (b, a) };
    for o in &orders {
        wait_found(&survivor, &o.name, &o.email).await;
    }
    // Shopify throttles now: about two orders' writes a second.
    fake.set_rules(|r| {
        r.bucket_max = 40.0;
        r.restore_rate = 40.0;
    });
    fake.drain_bucket();

    let boss = common::staff_client(&leader, "boss", Role::Admin).await;
    let res = boss
        .post(leader.url("/staff/bulk"))
        .form(&[("q", ""), ("status", "qc")])
        .send()
        .await
        .expect("prepare");
    assert_eq!(res.status(), 303);
    let job = res.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_string();
    let res = boss
        .post(leader.url(&format!("{job}/confirm")))
        .form(&[("count", N.to_string())])
        .send()
        .await
        .expect("confirm");
    assert_eq!(res.status(), 303, "confirmed");
    let tagged = || {
        fake.orders()
            .iter()
            .filter(|o| {
                o["tags"]
                    .as_array()
                    .is_some_and(|t| t.iter().any(|t| t == "status:qc"))
            })
            .count()
    };
    eventually(
        Duration::from_secs(30),
        "the leader started writing",
        || async { tagged() >= 3 },
    )
    .await;
    assert!(tagged() < N, "killed midway, not after the end");
    drop(leader);

    // The survivor takes the lease and finishes the job.
    let deadline = Instant::now() + Duration::from_secs(120);
    let report = loop {
        let res = boss
            .get(survivor.url(&job))
            .send()
            .await
            .expect("the job's page");
        assert_eq!(res.status(), 200, "the job is the cluster's");
        let html = res.text().await.expect("body");
        if html.contains("Done:") {
            break html;
        }
        assert!(Instant::now() < deadline, "never finished: {html}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert!(report.contains(&format!("Done: {N} changed")), "{report}");
    assert_eq!(tagged(), N, "every order's status is in Shopify");
    let o = &orders[N - 1];
    let res = boss
        .get(survivor.url(&format!("/staff/orders/{SHOP}/{}", o.id)))
        .send()
        .await
        .expect("order page");
    assert!(
        res.text()
            .await
            .expect("body")
            .contains("Now: Quality check")
    );
    let log = boss
        .get(survivor.url("/staff/audit.ndjson"))
        .send()
        .await
        .expect("export")
        .text()
        .await
        .expect("body");
    let count = |action: &str| log.matches(&format!("\"action\":\"{action}\"")).count();
    assert_eq!(count("bulk.start"), 1, "{log}");
    assert_eq!(count("bulk.resume"), 1, "{log}");
    assert_eq!(count("status.set"), N, "each order once: {log}");
}
