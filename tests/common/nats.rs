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
        ensure_nats_server();
        let dir = tempfile::tempdir().expect("tempdir");
        let nodes = (0..n)
            .map(|i| Node {
                name: format!("n{i}"),
                client: free_port(),
                route: free_port(),
                child: None,
            })
            .collect();
        let mut c = Cluster { nodes, dir };
        for i in 0..n {
            c.start_node(i);
        }
        c
    }

    /// Starts node `i` again (on its ports and store).
    pub fn start_node(&mut self, i: usize) {
        let routes: Vec<String> = self
            .nodes
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, n)| format!("nats://127.0.0.1:{}", n.route))
            .collect();
        let node = &self.nodes[i];
        let store = self.dir.path().join(&node.name);
        let mut cmd = Command::new("nats-server");
        cmd.args(["-js", "-a", "127.0.0.1", "-n", &node.name])
            .args(["-p", &node.client.to_string()])
            .arg("-sd")
            .arg(&store)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if self.nodes.len() > 1 {
            cmd.args(["--cluster_name", "order-status-test"])
                .args(["--cluster", &format!("nats://127.0.0.1:{}", node.route)])
                .args(["--routes", &routes.join(",")]);
        }
        let child = cmd.spawn().expect("nats-server starts");
        self.nodes[i].child = Some(child);
        wait_for_port(self.nodes[i].client);
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

fn wait_for_port(port: u16) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "nats-server did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
