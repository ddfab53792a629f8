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

/// Every setting, from its variable and from its flag: a bad value stops
/// the real binary before it serves, with the setting's names and exit 1
/// (not clap's usage code 2), and nothing is written.
#[test]
fn a_bad_value_of_any_setting_is_refused_at_start_by_name() {
    let settings = order_status::config::layers::settings_args();
    assert!(settings.len() > 50, "every setting is listed");
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    // A bell in the value: no type of setting takes a control character.
    let bad = "\u{7}not-a-value\u{7}";
    for arg in &settings {
        let var = arg.get_env().and_then(|v| v.to_str()).expect("a variable");
        let long = arg.get_long().expect("a flag");
        let run = |extra: &dyn Fn(&mut Command)| {
            let mut c = bin();
            c.arg("serve");
            // The test's own address and data dir, unless they are the
            // setting under test.
            if long != "addr" {
                c.args(["--addr", "127.0.0.1:0"]);
            }
            if long != "data-dir" {
                c.arg("--data-dir").arg(&data);
            }
            extra(&mut c);
            c.output().expect("runs")
        };
        let by_var = run(&|c| {
            c.env(var, bad);
        });
        let by_flag = run(&|c| {
            c.arg(format!("--{long}={bad}"));
        });
        for (how, out) in [("variable", by_var), ("flag", by_flag)] {
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{var} by {how}: {stderr}");
            assert!(
                stderr.contains(var) && stderr.contains(&format!("--{long}")),
                "{var} by {how} is not named: {stderr}"
            );
        }
    }
    assert!(!data.exists(), "nothing was written before the refusal");
}

#[test]
fn the_readme_table_of_settings_is_the_code_s() {
    let readme = include_str!("../../README.md");
    let table = order_status::config::settings_table();
    let out = bin().arg("settings").output().expect("runs");
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        table,
        "`order-status settings` prints it"
    );
    let start = readme
        .find("<!-- settings: generated by `order-status settings` -->\n")
        .expect("the README marks its settings table");
    let rest = &readme[start..];
    let rest = &rest[rest.find('\n').expect("line") + 1..];
    let end = rest
        .find("<!-- settings end -->")
        .expect("the table's end is marked");
    assert_eq!(
        &rest[..end],
        table,
        "the README's settings table differs from the code's: run `order-status settings` and paste it between the markers"
    );
}
