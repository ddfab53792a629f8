//! The merchant's tools over HTTP: statuses from the config set by a rule
//! and by staff, seen by the shopper and emailed through a real SMTP
//! server; roles; bad input; bulk changes with their confirmation and
//! resumption; the problem-orders queue and its metrics.

use crate::common;

use std::time::Duration;

use common::Server;
use common::smtp::Smtpd;
use common::webhook::{deliver, sample};
use order_status::actions::bulk::{JobState, Jobs};
use order_status::staff::{Accounts, Role};

const SHOP: &str = "jsmith.myshopify.com";
const SECRET: &str = "webhook-secret-0123";
const ORDER_ID: u64 = 1073459976;

/// Two statuses and a rule; the second status emails the shopper.
const CONFIG: &str = r#"
[[status]]
id = "engraving"
email = false
title = { en = "Engraving", sv = "Gravyr" }
description = { en = "We are engraving your items by hand." }

[[status]]
id = "qc"
title = { en = "Quality check", sv = "Kvalitetskontroll" }
description = { en = "We check every item before it ships." }

[[status_rule]]
status = "engraving"
tag = "engrave"
"#;

fn write_config(dir: &tempfile::TempDir) -> String {
    let path = dir.path().join("order-status.toml");
    std::fs::write(&path, CONFIG).expect("config");
    path.display().to_string()
}

/// A client with its own cookie, signed in as a new account of `role`.
async fn staff(server: &Server, name: &str, role: Role) -> reqwest::Client {
    common::staff_client(server, name, role).await
}

async fn page(c: &reqwest::Client, url: String) -> (u16, String) {
    let res = c
        .get(url)
        .header("accept", "text/html")
        .send()
        .await
        .expect("get");
    (res.status().as_u16(), res.text().await.expect("body"))
}

/// Posts a form as a browser does: the page it leads to (a successful
/// post redirects), or the refusal.
async fn post(c: &reqwest::Client, url: String, form: &[(&str, &str)]) -> (u16, String) {
    let (code, body, _) = common::post_form(c, url, form).await;
    (code, body)
}

fn order_path() -> String {
    format!("/staff/orders/{SHOP}/{ORDER_ID}")
}

#[tokio::test]
async fn statuses_set_by_rule_and_staff_reach_the_shopper_and_survive_shopify() {
    let smtp = Smtpd::start();
    let dir = tempfile::tempdir().expect("dir");
    let config = write_config(&dir);
    let server = Server::start_in(
        dir,
        &[
            ("ORDER_STATUS_CONFIG", &config),
            ("ORDER_STATUS_SEED_DEMO", "false"),
            ("ORDER_STATUS_SHOPIFY_SHOP", SHOP),
            ("ORDER_STATUS_SHOPIFY_WEBHOOK_SECRET", SECRET),
            ("ORDER_STATUS_SMTP_URL", &smtp.url()),
        ],
    );
    // The order arrives tagged "engrave": the rule sets its status.
    let mut order = sample("rest_order_create_paid_unfulfilled.json", "order");
    order["email"] = "anna@mail.example.com".into();
    order["tags"] = "engrave, gift".into();
    let (code, text) = deliver(&server.base, SHOP, SECRET, "orders/create", &order, "o1").await;
    assert_eq!(code, 200, "{text}");
    let agent = staff(&server, "agent1", Role::Agent).await;
    let (code, html) = page(&agent, server.url(&order_path())).await;
    assert_eq!(code, 200);
    assert!(html.contains("Now: Engraving"), "set by the rule");
    assert!(html.contains("</strong> · A rule"), "the history says who");

    // A bulk change first says what it would do: this order, one email
    // (the status emails, the shopper has an address); nothing changes
    // until it is confirmed.
    let res = agent
        .post(server.url("/staff/bulk"))
        .form(&[("payment", "PAID"), ("status", "qc")])
        .send()
        .await
        .expect("prepare");
    assert_eq!(res.status(), 303);
    let to = res.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_string();
    let (_, html) = page(&agent, server.url(&to)).await;
    assert!(
        html.contains("Orders it changes: 1. Emails it sends to shoppers: 1."),
        "{html}"
    );
    assert!(html.contains("(Payment: Paid)"), "{html}");

    // Staff move it on, with a note for the shopper.
    let (code, html) = post(
        &agent,
        server.url(&format!("{}/status", order_path())),
        &[("status", "qc"), ("note", "Polished and checked twice.")],
    )
    .await;
    assert_eq!(code, 200);
    assert!(html.contains("Status saved."));
    assert!(html.contains("Now: Quality check"));
    assert!(
        html.contains("agent1 set the status to “Quality check”."),
        "the activity says it in a sentence: {html}"
    );

    // The status emails the shopper, with the note and the link.
    let got = smtp.wait_for(1, Duration::from_secs(20)).await;
    assert_eq!(got.len(), 1, "one email: engraving does not email");
    let mail = &got[0];
    assert_eq!(mail.header("to"), "anna@mail.example.com");
    assert!(
        mail.header("subject").contains("Quality check"),
        "{}",
        mail.header("subject")
    );
    assert!(
        mail.text.contains("Polished and checked twice."),
        "{}",
        mail.text
    );
    let link = mail.status_link().expect("a status link");
    let path = link
        .split_once("/status/")
        .map(|(_, t)| format!("/status/{t}"))
        .expect("path");
    let (code, shopper) = server.page(&path).await;
    assert_eq!(code, 200);
    for want in [
        "Quality check",
        "We check every item before it ships.",
        "Polished and checked twice.",
        "Engraving",
    ] {
        assert!(shopper.contains(want), "the shopper's page says {want:?}");
    }
    // In Swedish, the Swedish title; the description falls back to English.
    // The email's link carries `?via=email` (counted on the insights page).
    assert!(path.ends_with("?via=email"), "{path}");
    let (_, sv) = server.page(&format!("{path}&lang=sv")).await;
    assert!(sv.contains("Kvalitetskontroll"));

    // Shopify knows nothing of our statuses: a later update keeps them.
    order["updated_at"] = "2026-11-20T10:00:00Z".into();
    order["tags"] = "gift".into();
    let (code, _) = deliver(&server.base, SHOP, SECRET, "orders/updated", &order, "o2").await;
    assert_eq!(code, 200);
    let (_, html) = page(&agent, server.url(&order_path())).await;
    assert!(
        html.contains("Now: Quality check"),
        "a webhook never erases it"
    );
    assert!(html.contains("Polished and checked twice."));

    // The same status again changes nothing and sends nothing.
    let (_, html) = post(
        &agent,
        server.url(&format!("{}/status", order_path())),
        &[("status", "qc")],
    )
    .await;
    assert!(html.contains("already had that status"));
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(smtp.messages().len(), 1);
}

#[tokio::test]
async fn roles_and_bad_input_change_nothing() {
    let dir = tempfile::tempdir().expect("dir");
    let config = write_config(&dir);
    let server = Server::start_in(
        dir,
        &[
            ("ORDER_STATUS_CONFIG", &config),
            ("ORDER_STATUS_SEED_DEMO", "false"),
            ("ORDER_STATUS_SHOPIFY_SHOP", SHOP),
            ("ORDER_STATUS_SHOPIFY_WEBHOOK_SECRET", SECRET),
        ],
    );
    let mut order = sample("rest_order_create_paid_unfulfilled.json", "order");
    order["email"] = "bo@mail.example.com".into();
    deliver(&server.base, SHOP, SECRET, "orders/create", &order, "o1").await;
    let status_url = server.url(&format!("{}/status", order_path()));

    let viewer = staff(&server, "viewer1", Role::Viewer).await;
    let (code, html) = page(&viewer, server.url(&order_path())).await;
    assert_eq!(code, 200, "a viewer reads");
    assert!(html.contains("Your role lets you look, not change orders."));
    assert!(!html.contains("name=\"note\""), "and gets no form");
    let (code, _) = post(&viewer, status_url.clone(), &[("status", "qc")]).await;
    assert_eq!(code, 403);
    let (code, _) = post(
        &viewer,
        server.url(&format!("{}/revoke", order_path())),
        &[],
    )
    .await;
    assert_eq!(code, 403, "revoking links changes the order's links");
    let (code, _) = post(&viewer, server.url("/staff/bulk"), &[("status", "qc")]).await;
    assert_eq!(code, 403);

    let agent = staff(&server, "agent1", Role::Agent).await;
    let (code, html) = post(&agent, status_url.clone(), &[("status", "shipped-ish")]).await;
    assert_eq!(code, 422);
    assert!(html.contains("not one of the statuses in the config"));
    // Nothing chosen in the menu sends no status: refused, not "clear".
    let (code, html) = post(&agent, status_url.clone(), &[("note", "hello")]).await;
    assert_eq!(code, 422);
    assert!(html.contains("Choose a status first"), "{html}");
    let (code, html) = post(&agent, server.url("/staff/bulk"), &[("payment", "PAID")]).await;
    assert_eq!(code, 422);
    assert!(html.contains("Choose a status first"), "{html}");
    let (_, html) = page(&agent, server.url(&order_path())).await;
    assert!(
        html.contains("<option value=\"\" disabled selected>Choose a status</option>"),
        "the menu starts on no choice: {html}"
    );
    let long = "x".repeat(501);
    let (code, html) = post(
        &agent,
        status_url.clone(),
        &[("status", "qc"), ("note", &long)],
    )
    .await;
    assert_eq!(code, 422);
    assert!(html.contains("longer than 500 characters"));
    let (_, html) = page(&agent, server.url(&order_path())).await;
    assert!(html.contains("none of the shop's own statuses"));
    let (code, _) = post(
        &agent,
        server.url(&format!("/staff/orders/{SHOP}/999/status")),
        &[("status", "qc")],
    )
    .await;
    assert_eq!(code, 404, "no such order");
    let (code, _) = page(&agent, server.url("/staff/audit.ndjson")).await;
    assert_eq!(code, 403, "only admins export the log");

    // A real change, then the admin's export has who, what and which.
    assert_eq!(post(&agent, status_url, &[("status", "qc")]).await.0, 200);
    let admin = staff(&server, "admin1", Role::Admin).await;
    let res = admin
        .get(server.url("/staff/audit.ndjson"))
        .send()
        .await
        .expect("export");
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .expect("ascii")
            .contains("attachment")
    );
    let lines: Vec<serde_json::Value> = res
        .text()
        .await
        .expect("body")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    let set = lines
        .iter()
        .find(|l| l["action"] == "status.set")
        .expect("the change is logged");
    assert_eq!(set["by"], "staff:agent1");
    assert_eq!(set["order"], format!("{SHOP}/{ORDER_ID}"));
    assert_eq!(set["detail"], "qc");
}

#[tokio::test]
async fn the_cli_gives_roles_and_keeps_an_admin() {
    let dir = tempfile::tempdir().expect("dir");
    let run = |args: &[&str], stdin: &str| {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_order-status"))
            .args(args)
            .arg("--data-dir")
            .arg(dir.path())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("runs");
        {
            use std::io::Write;
            let mut i = child.stdin.take().expect("stdin");
            i.write_all(stdin.as_bytes()).expect("write");
        }
        let out = child.wait_with_output().expect("waits");
        (
            out.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    };
    let (ok, out) = run(&["staff", "add", "first"], "a-long-password-1\n");
    assert!(ok, "{out}");
    assert!(
        out.contains("(admin)"),
        "the first account is an admin: {out}"
    );
    let (ok, out) = run(&["staff", "add", "second"], "a-long-password-1\n");
    assert!(ok && out.contains("(agent)"), "later ones agents: {out}");
    let (ok, out) = run(
        &["staff", "add", "third", "--role", "boss"],
        "a-long-password-1\n",
    );
    assert!(!ok && out.contains("not a role"), "{out}");
    let (ok, out) = run(&["staff", "role", "first", "viewer"], "");
    assert!(!ok && out.contains("last admin"), "{out}");
    let (ok, _) = run(&["staff", "role", "second", "admin"], "");
    assert!(ok);
    let (ok, out) = run(&["staff", "role", "first", "viewer"], "");
    assert!(ok, "{out}");
    let (_, list) = run(&["staff", "list"], "");
    assert!(
        list.contains("first\tviewer") && list.contains("second\tadmin"),
        "{list}"
    );
}

/// The bulk form's fields for every demo order awaiting payment.
const PENDING: &[(&str, &str)] = &[("q", ""), ("payment", "PENDING"), ("status", "qc")];

async fn wait_done(jobs: &Jobs, id: &str) -> order_status::actions::bulk::Job {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let job = jobs.get(id).await.expect("read").expect("job");
        if job.state == JobState::Done {
            return job;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the job finishes: {:?}",
            job.state
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_bulk_change_is_confirmed_by_its_count_and_resumes_after_a_restart() {
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("order-status.toml");
    // Not emailed: thousands of demo shoppers need not hear of it.
    std::fs::write(
        &config,
        "[[status]]\nid = \"qc\"\nemail = false\ntitle = { en = \"Quality check\" }\ndescription = { en = \"Checked.\" }\n",
    )
    .expect("config");
    let env = [("ORDER_STATUS_CONFIG", config.display().to_string())];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let server = Server::start_in(dir, &env);
    let agent = staff(&server, "agent1", Role::Agent).await;

    // The search page offers the change under the results.
    let (_, html) = page(&agent, server.url("/staff?payment=PENDING")).await;
    assert!(html.contains("Change every order of this search"));
    let res = agent
        .post(server.url("/staff/bulk"))
        .form(PENDING)
        .send()
        .await
        .expect("prepare");
    assert_eq!(res.status(), 303);
    let to = res.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_string();
    let id = to.trim_start_matches("/staff/bulk/").to_string();
    let jobs = Jobs::new(&server.dir.path().join("data"));
    let job = jobs.get(&id).await.expect("read").expect("prepared");
    let n = job.keys.len();
    assert!(n > 0);
    let (code, html) = page(&agent, server.url(&to)).await;
    assert_eq!(code, 200);
    assert!(
        html.contains(&format!("on {n} orders")),
        "the count is shown"
    );
    assert!(
        html.contains("(Payment: Pending)"),
        "the search in words: {html}"
    );
    assert!(
        html.contains(&format!(
            "Orders it changes: {n}. Emails it sends to shoppers: 0."
        )),
        "what it will do (the status sends no email): {html}"
    );
    assert_eq!(
        job.state,
        JobState::Prepared,
        "nothing changes before confirming"
    );

    let confirm = server.url(&format!("{to}/confirm"));
    let (code, _) = post(&agent, confirm.clone(), &[("count", &(n + 1).to_string())]).await;
    assert_eq!(code, 409, "another count is refused");
    // A double click (and two more): one runner, one start, a true report.
    let clicks: Vec<_> = (0..4)
        .map(|_| {
            let (agent, confirm, count) = (agent.clone(), confirm.clone(), n.to_string());
            tokio::spawn(async move { post(&agent, confirm, &[("count", &count)]).await.0 })
        })
        .collect();
    for c in clicks {
        assert_eq!(c.await.expect("click"), 200, "each shows the job");
    }
    let job = wait_done(&jobs, &id).await;
    assert_eq!((job.changed, job.unchanged, job.missing.len()), (n, 0, 0));
    let log = std::fs::read_to_string(server.dir.path().join("data/audit.ndjson")).expect("audit");
    assert_eq!(log.matches("\"bulk.start\"").count(), 1, "one start: {log}");
    let sets = log
        .lines()
        .filter(|l| l.contains("\"status.set\"") && l.contains(&format!("(bulk {id})")))
        .count();
    assert_eq!(sets, n, "one status.set per order");
    let (_, html) = page(&agent, server.url(&to)).await;
    assert!(html.contains(&format!("Done: {n} changed")), "the report");
    let (_, html) = page(
        &agent,
        server.url(&format!("/staff/orders/{}", job.keys[0])),
    )
    .await;
    assert!(html.contains("Now: Quality check"));

    // Stopped midway: the process restarts and finishes the job, and the
    // orders it had already changed are not changed twice.
    let mut interrupted = job.clone();
    interrupted.state = JobState::Running;
    interrupted.done = 0;
    interrupted.changed = 0;
    interrupted.finished_at = None;
    jobs.save(&mut interrupted).await.expect("save");
    let server = server.restart(&env);
    let job = wait_done(&jobs, &id).await;
    assert_eq!(
        (job.changed, job.unchanged),
        (0, n),
        "applying again adds nothing to any order"
    );
    let agent = staff(&server, "agent2", Role::Agent).await;
    let (_, html) = page(
        &agent,
        server.url(&format!("/staff/orders/{}", job.keys[0])),
    )
    .await;
    assert_eq!(
        html.matches(&format!("(bulk {id})")).count(),
        3,
        "'now', one history line and one activity line: not two of each"
    );
}

#[tokio::test]
async fn the_problem_queue_lists_orders_that_need_a_person_and_metrics_count_them() {
    let server = Server::start(&[]);
    let viewer = staff(&server, "viewer1", Role::Viewer).await;
    let (code, html) = page(&viewer, server.url("/staff/problems")).await;
    assert_eq!(code, 200);
    for reason in [
        "Delivery failed",
        "On hold too long",
        "Estimated delivery passed",
    ] {
        assert!(html.contains(reason), "{reason}");
    }
    let (code, failed) = page(
        &viewer,
        server.url("/staff/problems?reason=delivery_failed"),
    )
    .await;
    assert_eq!(code, 200);
    let rows = failed.matches("class=\"card problem\"").count();
    assert!(rows > 0, "the demo has failed deliveries");
    // Every row is an order whose parcel failed.
    let first = failed
        .split("href=\"/staff/orders/")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a row links its order");
    let (_, order) = page(&viewer, server.url(&format!("/staff/orders/{first}"))).await;
    assert!(
        order.contains("<!>Delivery failed</h3>") || order.contains("<!>Not delivered</h3>"),
        "the linked order's parcel failed"
    );

    let metrics = server.metrics().await;
    let count = metrics
        .lines()
        .find(|l| l.starts_with("order_status_problem_orders{reason=\"delivery_failed\"}"))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|n| n.parse::<usize>().ok())
        .expect("a count per reason");
    assert_eq!(count, rows, "the metric counts what the queue lists");
}

/// The first order a queue page lists (`shop/id`).
fn first_row(html: &str) -> Option<String> {
    html.split("class=\"card problem\"")
        .nth(1)?
        .split("href=\"/staff/orders/")
        .nth(1)?
        .split('"')
        .next()
        .map(str::to_string)
}

#[tokio::test]
async fn a_problem_order_is_taken_snoozed_and_handled_by_one_and_seen_by_all() {
    let server = Server::start(&[]);
    let alex = staff(&server, "alex", Role::Agent).await;
    let bo = staff(&server, "bo", Role::Agent).await;
    let viewer = staff(&server, "vera", Role::Viewer).await;
    let queue = "/staff/problems?reason=on_hold";
    let (code, html) = page(&alex, server.url(queue)).await;
    assert_eq!(code, 200);
    let order = first_row(&html).expect("the demo has orders on hold too long");
    let order_page = format!("/staff/orders/{order}");
    let work = server.url(&format!("{order_page}/problem"));
    let listed = |html: &str| html.contains(&format!("href=\"{order_page}\""));
    // Each row says why the order is on hold, whose it is, and for how long.
    assert!(html.contains("Nobody has taken it"), "{html}");

    // A viewer reads the queue but cannot work it.
    let (code, _) = post(&viewer, work.clone(), &[("do", "take")]).await;
    assert_eq!(code, 403);

    // Alex takes it: the answer is the queue again (post, redirect, get)
    // with a notice; Bo sees whose it is, and "Mine" lists it for Alex.
    let (code, html, redirected) =
        common::post_form(&alex, work.clone(), &[("do", "take"), ("back", queue)]).await;
    assert!(redirected && code == 200);
    assert!(html.contains("You took order"), "{html}");
    let (_, html) = page(&bo, server.url(queue)).await;
    assert!(html.contains("Taken by alex"), "{html}");
    let (_, mine) = page(&alex, server.url("/staff/problems?reason=on_hold&who=me")).await;
    assert!(listed(&mine), "Alex's own list has it");
    let (_, nobodys) = page(&bo, server.url("/staff/problems?reason=on_hold&who=nobody")).await;
    assert!(!listed(&nobodys), "not among the orders nobody took");

    // Snoozed until the day after tomorrow: out of everyone's queue, and
    // the order page says until when; back at once when asked.
    let day = (chrono::Utc::now() + chrono::Duration::days(2))
        .format("%Y-%m-%d")
        .to_string();
    let (code, _) = post(&alex, work.clone(), &[("do", "snooze"), ("until", &day)]).await;
    assert_eq!(code, 200);
    let (_, html) = page(&bo, server.url(queue)).await;
    assert!(!listed(&html), "a snoozed order is out of the queue");
    let (_, html) = page(&bo, server.url(&order_page)).await;
    assert!(html.contains("Snoozed until"), "{html}");
    let (code, _) = post(&alex, work.clone(), &[("do", "unsnooze")]).await;
    assert_eq!(code, 200);
    let (_, html) = page(&bo, server.url(queue)).await;
    assert!(listed(&html), "back in the queue");

    // Refused, and nothing changes: a snooze into the past, a problem the
    // order does not have, a note too long.
    for form in [
        vec![("do", "snooze"), ("until", "2020-01-01")],
        vec![("do", "handled"), ("kind", "return_waiting")],
        vec![("do", "dance")],
    ] {
        let (code, _) = post(&alex, work.clone(), &form).await;
        assert_eq!(code, 422, "{form:?}");
    }
    let long = "x".repeat(501);
    let (code, _) = post(
        &alex,
        work.clone(),
        &[("do", "handled"), ("kind", "on_hold"), ("note", &long)],
    )
    .await;
    assert_eq!(code, 422);

    // Handled, with a note: out of the queue, and Bo reads who handled it,
    // the note, and every step in the order's activity, in sentences.
    let (code, _) = post(
        &alex,
        work.clone(),
        &[
            ("do", "handled"),
            ("kind", "on_hold"),
            ("note", "Called the warehouse"),
        ],
    )
    .await;
    assert_eq!(code, 200);
    let (_, html) = page(&bo, server.url(queue)).await;
    assert!(!listed(&html), "a handled problem leaves the queue");
    let (_, html) = page(&bo, server.url(&order_page)).await;
    for said in [
        "“On hold too long” handled by alex",
        "Called the warehouse",
        "alex took the order.",
        "alex snoozed the order until",
        "alex put the order back in the queue.",
        "alex marked “On hold too long” handled.",
    ] {
        assert!(html.contains(said), "{said}: {html}");
    }
    // The same page in Swedish says it in Swedish.
    let (_, sv) = page(&bo, server.url(&format!("{order_page}?lang=sv"))).await;
    assert!(sv.contains("alex tog ordern."), "{sv}");

    // In the audit log, and counted.
    let admin = staff(&server, "boss", Role::Admin).await;
    let (_, log) = page(&admin, server.url("/staff/audit.ndjson")).await;
    for action in [
        "problem.take",
        "problem.snooze",
        "problem.unsnooze",
        "problem.handled",
    ] {
        assert!(
            log.lines()
                .any(|l| l.contains(action) && l.contains("staff:alex")),
            "{action}: {log}"
        );
    }
    let metrics = server.metrics().await;
    assert!(
        metrics.contains("order_status_problem_work_total{action=\"problem.handled\"} 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn admins_manage_accounts_in_the_console_and_others_only_read() {
    let server = Server::start(&[("ORDER_STATUS_SEED_DEMO", "false")]);
    let admin = staff(&server, "boss", Role::Admin).await;
    let agent = staff(&server, "agent1", Role::Agent).await;
    let (code, html) = page(&agent, server.url("/staff/accounts")).await;
    assert_eq!(code, 200, "everyone sees who has access");
    assert!(html.contains("boss") && html.contains("Only admins add"));
    let add = server.url("/staff/accounts");
    let form = [
        ("name", "newbie"),
        ("password", "a-long-password-1"),
        ("role", "viewer"),
    ];
    assert_eq!(post(&agent, add.clone(), &form).await.0, 403);

    let (code, html) = post(&admin, add.clone(), &form).await;
    assert_eq!(code, 200);
    assert!(html.contains("Account added."));
    let accounts = Accounts::load(&server.dir.path().join("data")).expect("accounts");
    assert_eq!(accounts.get("newbie").map(|a| a.role), Some(Role::Viewer));
    for (bad, why) in [
        (
            [
                ("name", "newbie"),
                ("password", "a-long-password-1"),
                ("role", "agent"),
            ],
            "already an account",
        ),
        (
            [
                ("name", "new bie"),
                ("password", "a-long-password-1"),
                ("role", "agent"),
            ],
            "letters, digits",
        ),
        (
            [("name", "other"), ("password", "short"), ("role", "agent")],
            "at least 10",
        ),
    ] {
        let (code, html) = post(&admin, add.clone(), &bad).await;
        assert_eq!(code, 422, "{why}");
        assert!(html.contains(why), "{why}");
    }
    assert_eq!(
        post(
            &admin,
            add.clone(),
            &[
                ("name", "x"),
                ("password", "a-long-password-1"),
                ("role", "owner")
            ]
        )
        .await
        .0,
        422
    );

    // The only admin cannot demote or remove itself.
    let (code, html) = post(
        &admin,
        server.url("/staff/accounts/boss/role"),
        &[("role", "agent")],
    )
    .await;
    assert_eq!(code, 422);
    assert!(html.contains("last admin"));
    let (code, _) = post(&admin, server.url("/staff/accounts/boss/remove"), &[]).await;
    assert_eq!(code, 422);
    // A role change ends that person's sessions.
    let (code, _) = post(
        &admin,
        server.url("/staff/accounts/agent1/role"),
        &[("role", "viewer")],
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(
        page(&agent, server.url("/staff")).await.0,
        303,
        "signed out"
    );
    let (code, html) = post(&admin, server.url("/staff/accounts/newbie/remove"), &[]).await;
    assert_eq!(code, 200);
    assert!(html.contains("Account removed"));
    let log = std::fs::read_to_string(server.dir.path().join("data/audit.ndjson")).expect("log");
    for action in ["account.add", "account.role", "account.remove"] {
        assert!(log.contains(action), "{action} is in the audit log");
    }
}
