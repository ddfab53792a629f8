//! A real NATS cluster for the replication tests: Debian's `nats-server`
//! (installed with apt-get when missing), JetStream on, every node on
//! loopback with its own store in a temp dir.

#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::sync::Once;
use std::time::Duration;

use super::smtp::free_port;

/// One node's ports and process.
struct Node {
    name: String,
    client: u16,
    route: u16,
    child: Option<Child>,
}

/// A running cluster; stopped on drop.
pub struct Cluster {
    nodes: Vec<Node>,
    dir: tempfile::TempDir,
    guard: Guard,
}

/// What the servers require of a client.
#[derive(Clone, Debug, Default)]
pub enum Guard {
    /// Nothing: anyone who reaches them.
    #[default]
    Open,
    /// A user and password.
    UserPassword(String, String),
    /// TLS with this certificate and key (PEM files); with `verify_with`,
    /// a client certificate signed by that CA too (mutual TLS).
    Tls {
        cert: std::path::PathBuf,
        key: std::path::PathBuf,
        verify_with: Option<std::path::PathBuf>,
    },
}

fn has() -> bool {
    Command::new("nats-server")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Installs Debian's nats-server once per test process if it is missing.
pub fn ensure_nats_server() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        super::ensure_debian_package(
            "nats-server",
            has,
            "the replication tests need Debian's nats-server (apt-get install nats-server)",
        );
    });
}

impl Cluster {
    /// Starts `n` nodes routed to each other, JetStream on.
    pub fn start(n: usize) -> Cluster {
        Self::start_guarded(n, Guard::Open)
    }

    /// Starts `n` nodes that require `guard` of their clients.
    ///
    /// A port picked free can be taken by someone else's connection before
    /// the server binds it; the server then exits. The whole cluster is
    /// started again on fresh ports (routes name every node's port), a few
    /// times, before the test gives up with the server's own log.
    pub fn start_guarded(n: usize, guard: Guard) -> Cluster {
        ensure_nats_server();
        let mut last = String::new();
        for _ in 0..3 {
            let dir = tempfile::tempdir().expect("tempdir");
            let nodes = (0..n)
                .map(|i| Node {
                    name: format!("n{i}"),
                    client: free_port(),
                    route: free_port(),
                    child: None,
                })
                .collect();
            let mut c = Cluster {
                nodes,
                dir,
                guard: guard.clone(),
            };
            match (0..n).try_for_each(|i| c.try_start_node(i)) {
                Ok(()) => return c,
                Err(e) => last = e,
            }
        }
        panic!("{last}");
    }

    /// Starts node `i` again (on its ports and store).
    pub fn start_node(&mut self, i: usize) {
        if let Err(e) = self.try_start_node(i) {
            panic!("{e}");
        }
    }

    fn try_start_node(&mut self, i: usize) -> Result<(), String> {
        let routes: Vec<String> = self
            .nodes
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, n)| format!("nats://127.0.0.1:{}", n.route))
            .collect();
        let node = &self.nodes[i];
        let store = self.dir.path().join(&node.name);
        let log = self.dir.path().join(format!("{}.log", node.name));
        let mut cmd = Command::new("nats-server");
        cmd.args(["-js", "-a", "127.0.0.1", "-n", &node.name])
            .args(["-p", &node.client.to_string()])
            .arg("-sd")
            .arg(&store)
            .arg("-l")
            .arg(&log)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        match &self.guard {
            Guard::Open => {}
            Guard::UserPassword(user, pass) => {
                cmd.args(["--user", user, "--pass", pass]);
            }
            Guard::Tls {
                cert,
                key,
                verify_with,
            } => {
                cmd.arg("--tls")
                    .arg("--tlscert")
                    .arg(cert)
                    .arg("--tlskey")
                    .arg(key);
                if let Some(ca) = verify_with {
                    cmd.arg("--tlsverify").arg("--tlscacert").arg(ca);
                }
            }
        }
        if self.nodes.len() > 1 {
            cmd.args(["--cluster_name", "order-status-test"])
                .args(["--cluster", &format!("nats://127.0.0.1:{}", node.route)])
                .args(["--routes", &routes.join(",")]);
        }
        let child = cmd.spawn().expect("nats-server starts");
        let node = &mut self.nodes[i];
        node.child = Some(child);
        let port = node.client;
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            let exited = node
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            if exited.is_some() || std::time::Instant::now() >= deadline {
                let said = std::fs::read_to_string(&log).unwrap_or_default();
                let tail: Vec<&str> = said.lines().rev().take(10).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                return Err(format!(
                    "nats-server {} did not listen on {port} ({}); its log ends:\n{}",
                    node.name,
                    exited.map_or("still starting".into(), |s| s.to_string()),
                    tail.join("\n")
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }

    /// Kills node `i` (SIGKILL: no goodbye to the others).
    pub fn kill_node(&mut self, i: usize) {
        if let Some(mut c) = self.nodes[i].child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Every node's client URL, comma-separated (`ORDER_STATUS_REPLICATE`).
    pub fn urls(&self) -> String {
        self.nodes
            .iter()
            .map(|n| format!("nats://127.0.0.1:{}", n.client))
            .collect::<Vec<_>>()
            .join(",")
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for i in 0..self.nodes.len() {
            self.kill_node(i);
        }
    }
}

/// A CA and the certificates it signed, for TLS to NATS: the server's
/// (for 127.0.0.1 and localhost) and a replica's (a client certificate).
pub struct Pki {
    pub dir: tempfile::TempDir,
    pub ca: std::path::PathBuf,
    pub server_cert: std::path::PathBuf,
    pub server_key: std::path::PathBuf,
    pub client_cert: std::path::PathBuf,
    pub client_key: std::path::PathBuf,
}

impl Pki {
    /// A fresh CA and two certificates, as PEM files in a temp dir.
    pub fn new() -> Pki {
        use rcgen::{
            BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, KeyPair,
            KeyUsagePurpose,
        };
        let dir = tempfile::tempdir().expect("tempdir");
        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_cert = ca.self_signed(&ca_key).expect("CA certificate");
        let signed = |names: Vec<String>, usage: ExtendedKeyUsagePurpose| {
            let key = KeyPair::generate().expect("key");
            let mut p = CertificateParams::new(names).expect("params");
            p.extended_key_usages = vec![usage];
            let cert = p.signed_by(&key, &ca_cert, &ca_key).expect("certificate");
            (cert.pem(), key.serialize_pem())
        };
        let (server_cert, server_key) = signed(
            vec!["127.0.0.1".into(), "localhost".into()],
            ExtendedKeyUsagePurpose::ServerAuth,
        );
        let (client_cert, client_key) =
            signed(vec!["replica".into()], ExtendedKeyUsagePurpose::ClientAuth);
        let write = |name: &str, pem: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, pem).expect("pem");
            path
        };
        Pki {
            ca: write("ca.pem", &ca_cert.pem()),
            server_cert: write("server.pem", &server_cert),
            server_key: write("server-key.pem", &server_key),
            client_cert: write("client.pem", &client_cert),
            client_key: write("client-key.pem", &client_key),
            dir,
        }
    }
}
