//! Connection floods: silent sockets, half-sent requests and idle HTTP/2
//! connections from one client must not stop the site answering others,
//! and every such connection is closed on time. Counts are bounded and
//! everything stays on loopback (127.0.0.1 attacks, 127.0.0.2 is the
//! shopper: Linux routes all of 127/8 to the loopback interface).

use crate::common;

use common::Server;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

const ATTACKER_SOCKETS: usize = 150;

fn addr(server: &Server) -> String {
    server.base.trim_start_matches("http://").to_string()
}

/// Reads until the peer closes (or the timeout); returns how long it took
/// and what was read.
fn wait_closed(mut s: TcpStream, limit: Duration) -> (Duration, Vec<u8>) {
    let started = Instant::now();
    s.set_read_timeout(Some(limit)).expect("timeout");
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    (started.elapsed(), got)
}

fn shopper() -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(Some("127.0.0.2".parse().expect("ip")))
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client")
}

#[tokio::test]
async fn one_client_holding_sockets_does_not_stop_others() {
    let server = Server::start_process(&[
        ("ORDER_STATUS_LIMIT_CONNECTIONS_PER_CLIENT", "40"),
        ("ORDER_STATUS_LIMIT_FIRST_BYTE_TIMEOUT", "3s"),
        ("ORDER_STATUS_LIMIT_IDLE_TIMEOUT", "3s"),
    ]);
    let target = addr(&server);
    // Silent sockets, half requests and h2c prefaces, all from 127.0.0.1,
    // far more than the per-client cap.
    let attacker = tokio::task::spawn_blocking(move || {
        let mut held = Vec::new();
        for i in 0..ATTACKER_SOCKETS {
            let Ok(mut s) = TcpStream::connect(&target) else {
                continue;
            };
            match i % 3 {
                0 => {}
                1 => {
                    let _ = s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n");
                }
                _ => {
                    let _ = s.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
                }
            }
            held.push(s);
        }
        held
    })
    .await
    .expect("join");
    assert!(attacker.len() > 40, "the attack opened its sockets");

    // Meanwhile a shopper from another address is served quickly, several
    // times over.
    let client = shopper();
    for _ in 0..5 {
        let started = Instant::now();
        let res = client
            .get(server.url("/healthz"))
            .send()
            .await
            .expect("shopper is answered");
        assert_eq!(res.status(), 200);
        let took = started.elapsed();
        // Starved, it would wait for the attacker's sockets to time out
        // (10 s); the bound leaves room for a machine busy with other work.
        assert!(took < Duration::from_secs(3), "shopper waited {took:?}");
    }

    // The attacker's connections over its cap were refused with a 503 and
    // closed; the rest close at the timeouts. None stays open.
    let results = tokio::task::spawn_blocking(move || {
        attacker
            .into_iter()
            .map(|s| wait_closed(s, Duration::from_secs(20)))
            .collect::<Vec<_>>()
    })
    .await
    .expect("join");
    let refused = results
        .iter()
        .filter(|(_, got)| got.starts_with(b"HTTP/1.1 503"))
        .count();
    assert!(
        refused >= ATTACKER_SOCKETS - 40,
        "over-cap sockets answered 503: {refused}"
    );
    for (took, _) in &results {
        assert!(
            *took < Duration::from_secs(15),
            "a socket was held {took:?}"
        );
    }
    // And the attacker's own later requests are served again.
    let res = common::client()
        .get(server.url("/healthz"))
        .send()
        .await
        .expect("after the flood");
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn silent_and_idle_connections_are_closed_on_time() {
    let server = Server::start_process(&[
        ("ORDER_STATUS_LIMIT_FIRST_BYTE_TIMEOUT", "1s"),
        ("ORDER_STATUS_LIMIT_IDLE_TIMEOUT", "2s"),
    ]);
    let target = addr(&server);
    tokio::task::spawn_blocking(move || {
        // Sends nothing at all.
        let silent = TcpStream::connect(&target).expect("connect");
        let (took, got) = wait_closed(silent, Duration::from_secs(15));
        assert!(got.is_empty());
        assert!(took < Duration::from_secs(4), "silent socket held {took:?}");

        // An h2c connection after its preface and SETTINGS, then quiet.
        let mut h2 = TcpStream::connect(&target).expect("connect");
        h2.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
            .expect("preface");
        let (took, got) = wait_closed(h2, Duration::from_secs(15));
        // The server spoke HTTP/2 (its SETTINGS frame, type 4) before closing.
        assert!(got.len() >= 9 && got[3] == 4, "h2 settings: {got:?}");
        assert!(took < Duration::from_secs(6), "idle h2c held {took:?}");

        // HTTP/1.1 keep-alive after one answered request.
        let mut ka = TcpStream::connect(&target).expect("connect");
        ka.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .expect("request");
        let (took, got) = wait_closed(ka, Duration::from_secs(15));
        assert!(got.starts_with(b"HTTP/1.1 200"), "answered first");
        assert!(
            took < Duration::from_secs(6),
            "idle keep-alive held {took:?}"
        );
    })
    .await
    .expect("join");
}

#[tokio::test]
async fn the_server_raises_its_open_file_limit_to_the_hard_limit() {
    let server = Server::start_wrapped(&["prlimit", "--nofile=256:4096", "--"], &[]);
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", server.pid())).expect("limits");
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .expect("open files line");
    let numbers: Vec<&str> = line.split_whitespace().skip(3).take(2).collect();
    assert_eq!(numbers, ["4096", "4096"], "{line}");
}
