//! The command line: demo data, import, exit codes.

use std::process::Command;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_order-status"));
    c.env("RUST_LOG", "warn");
    c
}

#[test]
fn demo_data_is_deterministic_for_a_seed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = |seed: &str, name: &str| {
        let out = dir.path().join(name);
        let status = bin()
            .args([
                "demo-data",
                "--orders",
                "300",
                "--seed",
                seed,
                "--now",
                "2026-11-25T12:00:00Z",
                "--out",
            ])
            .arg(&out)
            .status()
            .expect("runs");
        assert!(status.success());
        std::fs::read(out).expect("written")
    };
    let a = run("7", "a.ndjson");
    let b = run("7", "b.ndjson");
    let c = run("8", "c.ndjson");
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_eq!(a.iter().filter(|b| **b == b'\n').count(), 300);
}

#[test]
fn import_reports_bad_lines_and_exits_non_zero() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("orders.ndjson");
    let demo = bin()
        .args([
            "demo-data",
            "--orders",
            "50",
            "--now",
            "2026-11-25T12:00:00Z",
        ])
        .output()
        .expect("runs");
    let mut text = String::from_utf8(demo.stdout).expect("utf8");
    text.push_str("{\"id\": \"not a number\"}\n");
    std::fs::write(&file, &text).expect("write");

    let out = bin()
        .arg("import")
        .arg(&file)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .output()
        .expect("runs");
    assert!(!out.status.success(), "a bad line fails the exit status");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("orders.ndjson:51:"), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("Imported 50 orders"), "{stdout}");

    // The good lines are in; a clean file exits 0.
    std::fs::write(&file, text.lines().take(50).collect::<Vec<_>>().join("\n")).expect("write");
    let out = bin()
        .arg("import")
        .arg(&file)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("The store has 50 orders"));
}

#[test]
fn a_missing_file_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = bin()
        .args(["import", "/no/such/file.ndjson", "--data-dir"])
        .arg(dir.path())
        .output()
        .expect("runs");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot open /no/such/file.ndjson"));
}
