//! The staff console over HTTP: sign-in, the session gate, search, order
//! detail, sharing and revoking links.

use crate::common;

use common::{Server, client, demo_order, scenario_index};
use order_status::ingest::demo::Scenario;
use order_status::staff::DEMO_STAFF;

/// A client with a cookie jar, signed in as the demo account.
async fn signed_in(server: &Server) -> reqwest::Client {
    signed_in_as(server, DEMO_STAFF.0, DEMO_STAFF.1).await.0
}

/// A client signed in as `name`, and its raw session cookie.
async fn signed_in_as(server: &Server, name: &str, password: &str) -> (reqwest::Client, String) {
    let c = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let res = c
        .post(server.url("/staff/login"))
        .header("accept", "text/html")
        .form(&[
            ("name", name),
            ("password", password),
            ("next", "/staff?q=x"),
        ])
        .send()
        .await
        .expect("login");
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/staff?q=x");
    let cookie = common::session_pair(&res);
    (c, cookie)
}

/// A GET of `/staff` with exactly this cookie header.
async fn with_cookie(server: &Server, cookie: &str) -> u16 {
    client()
        .get(server.url("/staff"))
        .header("cookie", cookie)
        .header("accept", "text/html")
        .send()
        .await
        .expect("get")
        .status()
        .as_u16()
}

async fn get(c: &reqwest::Client, url: String) -> (u16, String) {
    let res = c
        .get(url)
        .header("accept", "text/html")
        .send()
        .await
        .expect("get");
    (res.status().as_u16(), res.text().await.expect("body"))
}

#[tokio::test]
async fn without_a_session_browsers_go_to_sign_in_and_apis_get_401() {
    let server = Server::start(&[]);
    for path in [
        "/staff",
        "/staff?q=anna",
        "/staff/orders/demo.example/5100000000",
    ] {
        let res = client()
            .get(server.url(path))
            .header("accept", "text/html")
            .send()
            .await
            .expect("get");
        assert_eq!(res.status(), 303, "{path}");
        let to = res.headers()["location"].to_str().expect("ascii");
        assert!(to.starts_with("/staff/login?next=%2Fstaff"), "{to}");
        let res = client()
            .get(server.url(path))
            .header("accept", "application/json")
            .send()
            .await
            .expect("get");
        assert_eq!(res.status(), 401, "{path}");
    }
    for path in [
        "/staff/orders/demo.example/5100000000/share",
        "/staff/orders/demo.example/5100000000/revoke",
        "/staff/logout",
    ] {
        let res = client().post(server.url(path)).send().await.expect("post");
        assert_eq!(res.status(), 401, "{path}: no action without a session");
    }
    let (code, html) = server.page("/staff/login").await;
    assert_eq!(code, 200);
    assert!(html.contains("name=\"password\""));
}

#[tokio::test]
async fn sign_in_sets_a_strict_cookie_and_a_wrong_password_does_not() {
    let server = Server::start(&[]);
    let res = client()
        .post(server.url("/staff/login"))
        .form(&[("name", DEMO_STAFF.0), ("password", "not the password")])
        .send()
        .await
        .expect("login");
    assert_eq!(res.status(), 401);
    assert!(res.headers().get("set-cookie").is_none());
    assert!(
        res.text()
            .await
            .expect("body")
            .contains("Wrong name or password.")
    );
    let res = client()
        .post(server.url("/staff/login"))
        .form(&[("name", "nobody"), ("password", DEMO_STAFF.1)])
        .send()
        .await
        .expect("login");
    assert_eq!(res.status(), 401);

    let res = client()
        .post(server.url("/staff/login"))
        .form(&[
            ("name", DEMO_STAFF.0),
            ("password", DEMO_STAFF.1),
            ("next", "https://evil.example/"),
        ])
        .send()
        .await
        .expect("login");
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/staff", "no open redirect");
    let cookie = common::set_cookie(&res, "staff_session");
    for part in [
        "HttpOnly",
        "SameSite=Strict",
        "Path=/staff",
        "Max-Age=43200",
    ] {
        assert!(cookie.contains(part), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain http here");
    // Its copy goes to status pages only (so staff previews are not
    // counted as shoppers), never to the console.
    let preview = common::set_cookie(&res, "staff_preview");
    for part in ["HttpOnly", "SameSite=Lax", "Path=/status", "Max-Age=43200"] {
        assert!(preview.contains(part), "{preview}");
    }
}

#[tokio::test]
async fn the_cookie_is_secure_over_https() {
    let server = Server::start(&[
        ("ORDER_STATUS_PUBLIC_URL", "https://track.example.com"),
        // An https address turns the demo off unless asked for.
        ("ORDER_STATUS_SEED_DEMO", "true"),
    ]);
    let res = client()
        .post(server.url("/staff/login"))
        .form(&[("name", DEMO_STAFF.0), ("password", DEMO_STAFF.1)])
        .send()
        .await
        .expect("login");
    assert!(common::set_cookie(&res, "staff_session").contains("; Secure"));
    assert!(common::set_cookie(&res, "staff_preview").contains("; Secure"));
}

#[tokio::test]
async fn sessions_expire_end_on_sign_out_and_on_account_removal() {
    use axum_extra::extract::cookie::{Cookie, SignedCookieJar};
    use order_status::staff::{Session, Sessions};
    let server = Server::start(&[]);
    let data = server.dir.path().join("data");
    let sessions = Sessions::open(&data).expect("session key");
    let demo = order_status::staff::Accounts::load(&data)
        .expect("accounts")
        .get(DEMO_STAFF.0)
        .cloned()
        .expect("the demo account");
    let expired = Session::of(&demo, chrono::Utc::now() - chrono::Duration::seconds(1));
    let jar = SignedCookieJar::new(sessions.key().clone())
        .add(Cookie::new("staff_session", expired.value()));
    let signed = jar.get("staff_session").expect("cookie");
    let res = client()
        .get(server.url("/staff"))
        .header("cookie", format!("staff_session={}", signed.value()))
        .header("accept", "text/html")
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 303, "an expired session is no session");

    let (c, cookie) = signed_in_as(&server, DEMO_STAFF.0, DEMO_STAFF.1).await;
    let (_, other_device) = signed_in_as(&server, DEMO_STAFF.0, DEMO_STAFF.1).await;
    assert_eq!(get(&c, server.url("/staff")).await.0, 200);
    assert_eq!(with_cookie(&server, &other_device).await, 200);
    let res = c
        .post(server.url("/staff/logout"))
        .send()
        .await
        .expect("logout");
    assert_eq!(res.status(), 303);
    assert!(common::set_cookie(&res, "staff_session").contains("Max-Age=0"));
    assert!(common::set_cookie(&res, "staff_preview").contains("Max-Age=0"));
    assert_eq!(get(&c, server.url("/staff")).await.0, 303, "signed out");
    assert_eq!(
        with_cookie(&server, &cookie).await,
        303,
        "the old cookie no longer works"
    );
    assert_eq!(
        with_cookie(&server, &other_device).await,
        303,
        "nor the other device's"
    );

    // A new password ends every session too.
    let (_, cookie) = signed_in_as(&server, DEMO_STAFF.0, DEMO_STAFF.1).await;
    let mut passwd = std::process::Command::new(env!("CARGO_BIN_EXE_order-status"))
        .args(["staff", "passwd", DEMO_STAFF.0, "--data-dir"])
        .arg(&data)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("runs");
    {
        use std::io::Write;
        let mut stdin = passwd.stdin.take().expect("stdin");
        stdin.write_all(b"a brand new password\n").expect("write");
    }
    assert!(passwd.wait().expect("waits").success());
    assert_eq!(
        with_cookie(&server, &cookie).await,
        303,
        "a password change signs out"
    );
    let (_, cookie) = signed_in_as(&server, DEMO_STAFF.0, "a brand new password").await;
    assert_eq!(with_cookie(&server, &cookie).await, 200);

    let (c, _) = signed_in_as(&server, DEMO_STAFF.0, "a brand new password").await;
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_order-status"))
        .args(["staff", "remove", DEMO_STAFF.0, "--data-dir"])
        .arg(&data)
        .status()
        .expect("runs");
    assert!(status.success());
    assert_eq!(
        get(&c, server.url("/staff")).await.0,
        303,
        "a removed account's session ends"
    );
}

#[tokio::test]
async fn names_with_dots_stay_signed_in() {
    let server = Server::start(&[]);
    let mut add = std::process::Command::new(env!("CARGO_BIN_EXE_order-status"))
        .args(["staff", "add", "anna.berg", "--data-dir"])
        .arg(server.dir.path().join("data"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("runs");
    {
        use std::io::Write;
        let mut stdin = add.stdin.take().expect("stdin");
        stdin.write_all(b"long enough password\n").expect("write");
    }
    assert!(add.wait().expect("waits").success());
    let (c, cookie) = signed_in_as(&server, "anna.berg", "long enough password").await;
    assert_eq!(get(&c, server.url("/staff")).await.0, 200);
    assert_eq!(with_cookie(&server, &cookie).await, 200);
    // A cookie we did not sign is no session.
    let forged = cookie.replacen("anna.berg", "demo", 1);
    assert_eq!(with_cookie(&server, &forged).await, 303);
}

#[tokio::test]
async fn sign_in_is_rate_limited() {
    let server = Server::start(&[("ORDER_STATUS_LIMIT_LOGIN", "1/m:2")]);
    for _ in 0..2 {
        let res = client()
            .post(server.url("/staff/login"))
            .form(&[("name", "x"), ("password", "y")])
            .send()
            .await
            .expect("login");
        assert_eq!(res.status(), 401);
    }
    let res = client()
        .post(server.url("/staff/login"))
        .form(&[("name", DEMO_STAFF.0), ("password", DEMO_STAFF.1)])
        .send()
        .await
        .expect("login");
    assert_eq!(res.status(), 429);
}

#[tokio::test]
async fn search_finds_orders_by_whatever_the_customer_gives() {
    let server = Server::start(&[]);
    let c = signed_in(&server).await;
    let o = demo_order(scenario_index(&Scenario::SplitShipment));
    let name = o.customer_name().expect("name");
    let tracking = o.fulfillments[0].tracking_numbers[0].clone();
    let sku = o.line_items[0].sku.clone().expect("sku");
    let local = o.email.split('@').next().expect("local").to_string();
    let search = |q: String| {
        let url = server.url(&format!(
            "/staff?q={}",
            form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()
        ));
        let c = c.clone();
        async move { get(&c, url).await }
    };
    let link = format!("href=\"/staff/orders/demo.example/{}\"", o.id);
    for (q, field) in [
        (o.name.clone(), "order number"),
        (o.order_number.to_string(), "order number"),
        (o.email.clone(), "email"),
        (local[..local.len().min(6)].to_string(), "email"),
        (name.clone(), "customer name"),
        (tracking.to_lowercase(), "tracking number"),
    ] {
        let (code, html) = search(q.clone()).await;
        assert_eq!(code, 200, "{q}");
        assert!(html.contains(&link), "{q} finds {}", o.name);
        assert!(
            html.contains("Matched: ") && html.contains(field),
            "{q}: matched {field}"
        );
    }
    // The exact number and tracking number rank first.
    for q in [o.name.clone(), tracking.clone()] {
        let (_, html) = search(q.clone()).await;
        let start = html.find("<li class=\"hit\">").expect("a hit");
        let end = start + html[start..].find("</li>").expect("end of the hit");
        assert!(html[start..end].contains(&link), "{q} ranks first");
    }
    let (_, html) = search(sku).await;
    assert!(html.contains("Matched: ") && html.contains("SKU"));
    // A typo in a surname still finds the order: the first seeded order
    // with a surname long enough for typo matching (five letters or more).
    let (t, surname) = (0..200)
        .map(demo_order)
        .find_map(|t| {
            let s = t.customer.as_ref()?.last_name.clone()?;
            (s.chars().count() >= 6 && s.chars().all(char::is_alphabetic)).then_some((t, s))
        })
        .expect("a long surname among the demo orders");
    let typo: String = surname
        .chars()
        .enumerate()
        .filter(|(i, _)| *i != 2)
        .map(|(_, c)| c)
        .collect();
    let city = t
        .shipping_address
        .as_ref()
        .and_then(|a| a.city.clone())
        .unwrap_or_default();
    let (_, html) = search(format!("{typo} {city}")).await;
    let wanted = format!("href=\"/staff/orders/demo.example/{}\"", t.id);
    assert!(html.contains(&wanted), "{typo} {city} finds {}", t.name);
}

/// A search matching more orders than the store counts (10,000) says
/// "more than", and its pages still go to the last one staff can reach.
#[tokio::test]
async fn a_search_past_the_count_limit_says_more_than() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    {
        let store =
            order_status::store::Store::open(&data, order_status::store::StoreOptions::default())
                .expect("store");
        let orders: Vec<_> = (0..10_050).map(demo_order).collect();
        for chunk in orders.chunks(2_000) {
            store.upsert(chunk.to_vec()).await.expect("upsert");
        }
        order_status::staff::Accounts::load(&data)
            .expect("accounts")
            .add(DEMO_STAFF.0, DEMO_STAFF.1)
            .expect("staff account");
        // Let go of the data dir before the server takes it.
        store.close(std::time::Duration::from_secs(30)).await;
    }
    let server = Server::start_in(dir, &[]);
    let c = signed_in(&server).await;
    let (code, page1) = get(&c, server.url("/staff")).await;
    assert_eq!(code, 200);
    assert!(page1.contains("More than 10,000 orders"), "{page1}");
    assert!(page1.contains("Page 1 of 500"));
    let (_, last) = get(&c, server.url("/staff?page=500")).await;
    assert!(last.contains("Page 500 of 500") && !last.contains("rel=\"next\""));
    assert_eq!(
        last.matches("class=\"hit\"").count(),
        20,
        "a full last page"
    );
    let (_, cancelled) = get(&c, server.url("/staff?state=cancelled")).await;
    assert!(
        !cancelled.contains("More than") && cancelled.contains(" orders<"),
        "fewer than the limit: the exact count"
    );
    // A word in every order: ranked without scoring every match, counted
    // the same way, and its pages follow on without repeating an order.
    let orders_on = |html: &str| -> Vec<String> {
        html.split("href=\"/staff/orders/")
            .skip(1)
            .filter_map(|rest| rest.split('"').next().map(str::to_owned))
            .collect()
    };
    let (_, words1) = get(&c, server.url("/staff?q=example")).await;
    assert!(words1.contains("More than 10,000 orders") && words1.contains("Page 1 of 500"));
    let (_, words2) = get(&c, server.url("/staff?q=example&page=2")).await;
    let (first, second) = (orders_on(&words1), orders_on(&words2));
    assert_eq!((first.len(), second.len()), (20, 20), "two full pages");
    assert!(
        first.iter().all(|o| !second.contains(o)),
        "no order on both pages: {first:?} {second:?}"
    );
    let (_, words_last) = get(&c, server.url("/staff?q=example&page=500")).await;
    assert_eq!(words_last.matches("class=\"hit\"").count(), 20);
}

#[tokio::test]
async fn filters_sort_paging_and_hostile_queries() {
    let server = Server::start(&[]);
    let c = signed_in(&server).await;
    let (code, html) = get(&c, server.url("/staff?state=cancelled&payment=VOIDED")).await;
    assert_eq!(code, 200);
    assert!(html.contains("Voided") && html.contains("Cancelled"));
    assert!(
        !html.contains("class=\"badge info\">Paid<"),
        "only voided orders"
    );

    let (_, page1) = get(&c, server.url("/staff?sort=created")).await;
    assert!(
        page1.contains("3,000 orders"),
        "every seeded order, counted the English way"
    );
    assert!(page1.contains("Page 1 of 150"));
    assert!(page1.contains("rel=\"next\""));
    let (_, page2) = get(&c, server.url("/staff?sort=created&page=2")).await;
    assert!(page2.contains("Page 2 of 150") && page2.contains("rel=\"prev\""));
    assert_ne!(page1, page2);

    let (_, html) = get(&c, server.url("/staff?from=2001-01-01&to=2001-12-31")).await;
    assert!(html.contains("No orders match."));
    let (code, html) = get(
        &c,
        server.url("/staff?from=yesterday&payment=MAYBE&state=gone"),
    )
    .await;
    assert_eq!(code, 200);
    assert!(html.contains("Dates are written YYYY-MM-DD"));
    assert!(html.contains("MAYBE") && html.contains("was ignored"));

    for q in [
        "\"unbalanced",
        "*:*",
        "title:(",
        "AND OR NOT",
        "%00",
        "🙂",
        &"a".repeat(5000),
    ] {
        let url = server.url(&format!(
            "/staff?q={}",
            form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()
        ));
        let (code, _) = get(&c, url).await;
        assert_eq!(code, 200, "{q}");
    }
    let (code, _) = get(&c, server.url("/staff?page=999999999999999999999")).await;
    assert_eq!(code, 200);
}

#[tokio::test]
async fn the_order_page_shows_everything_and_shares_and_revokes_links() {
    let server = Server::start(&[]);
    let c = signed_in(&server).await;
    let o = demo_order(scenario_index(&Scenario::SplitShipment));
    let page = server.url(&format!("/staff/orders/demo.example/{}", o.id));
    let (code, html) = get(&c, page.clone()).await;
    assert_eq!(code, 200);
    let street = o
        .shipping_address
        .as_ref()
        .and_then(|a| a.address1.clone())
        .expect("street");
    assert!(html.contains(&street), "staff see the full address");
    assert!(html.contains(&o.email));
    assert!(html.contains(&o.fulfillments[1].tracking_numbers[0]));
    assert!(html.contains("What the customer sees"));
    let (missing, _) = get(&c, server.url("/staff/orders/demo.example/1")).await;
    assert_eq!(missing, 404);

    // An old link, from the shopper's own lookup.
    let old = server.status_path(&o.name, &o.email).await;
    assert_eq!(server.page(&old).await.0, 200);

    // Post, redirect, get: the page shows the link once, the 7 days kept.
    let (code, html, redirected) =
        common::post_form(&c, format!("{page}/share"), &[("days", "7")]).await;
    assert!(redirected, "a successful share answers with a redirect");
    assert_eq!(code, 200);
    assert!(
        html.contains(r#"<option value="7" selected"#),
        "the chosen validity is kept"
    );
    let link = html
        .split("id=\"share-link\" type=\"text\" readonly value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a link in the page")
        .to_string();
    assert!(link.starts_with(&server.base) && link.contains("/status/"));
    assert!(html.contains(&format!("mailto:{}", o.email.replace('@', "%40"))));
    // The ready-made message speaks the customer's language, whatever the
    // console's.
    let subject = match o.customer_locale.as_deref().unwrap_or("en").get(..2) {
        Some("sv") => "subject=Din%20best",
        Some("de") => "subject=Deine%20Bestellung",
        Some("fr") => "subject=Votre%20commande",
        _ => "subject=Your%20order",
    };
    assert!(html.contains(subject), "{subject}: {html}");
    // A reload shows the page again: the link is not made twice, nor
    // shown again.
    let (code, again) = get(&c, page.clone()).await;
    assert_eq!(code, 200);
    assert!(
        !again.contains("id=\"share-link\""),
        "the notice is shown once"
    );
    let shared_path = link.trim_start_matches(&server.base).to_string();
    assert_eq!(
        server.page(&shared_path).await.0,
        200,
        "the shared link opens without signing in"
    );

    let (code, html, redirected) = common::post_form(&c, format!("{page}/revoke"), &[]).await;
    assert!(redirected && code == 200);
    assert!(html.contains("have stopped working"));
    assert_eq!(
        server.page(&old).await.0,
        404,
        "the lookup's link is revoked"
    );
    assert_eq!(
        server.page(&shared_path).await.0,
        404,
        "the shared link is revoked"
    );
    // New links work again, and the revocation survives a restart.
    let fresh = server.status_path(&o.name, &o.email).await;
    assert_eq!(server.page(&fresh).await.0, 200);
    let server = server.restart(&[]);
    assert_eq!(server.page(&old).await.0, 404);
    assert_eq!(server.page(&fresh).await.0, 200);
}

#[tokio::test]
async fn staff_accounts_are_managed_from_the_command_line() {
    use std::io::Write;
    let dir = tempfile::tempdir().expect("tempdir");
    let bin = env!("CARGO_BIN_EXE_order-status");
    let add = |name: &str, password: &str| {
        let mut child = std::process::Command::new(bin)
            .args(["staff", "add", name, "--data-dir"])
            .arg(dir.path())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("runs");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(format!("{password}\n").as_bytes())
            .expect("write");
        child.wait_with_output().expect("output")
    };
    assert!(add("maria", "a long enough password").status.success());
    let out = add("maria", "another long password");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already a staff account"));
    let out = add("sam", "short");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 10 characters"));
    let list = std::process::Command::new(bin)
        .args(["staff", "list", "--data-dir"])
        .arg(dir.path())
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&list.stdout);
    assert!(text.contains("maria") && !text.contains("sam"));
    let accounts = order_status::staff::Accounts::load(dir.path()).expect("load");
    assert!(accounts.verify("maria", "a long enough password"));
}

/// An admin's console, as a client signed in as `name`.
async fn admin(server: &Server, name: &str) -> reqwest::Client {
    common::staff_client(server, name, order_status::staff::Role::Admin).await
}

/// Posts a form as a browser does: the page it leads to (a successful
/// post redirects), or the refusal.
async fn post(c: &reqwest::Client, url: String, form: &[(&str, &str)]) -> (u16, String) {
    let (code, body, _) = common::post_form(c, url, form).await;
    (code, body)
}

/// Fifty account changes of every kind at once, from two admins: the
/// accounts afterwards are exactly what the answers said, and nothing
/// failed for being at the same time.
#[tokio::test]
async fn fifty_account_changes_at_once_leave_what_they_answered() {
    use order_status::staff::{Accounts, Role};
    let server = Server::start(&[("ORDER_STATUS_SEED_DEMO", "false")]);
    let data = server.dir.path().join("data");
    let a = admin(&server, "boss1").await;
    let b = admin(&server, "boss2").await;
    // Accounts to change and remove.
    Accounts::change_file(&data, |acc| {
        for i in 0..20 {
            acc.add_with_role(&format!("old{i}"), "an old long password", Role::Viewer)?;
        }
        Ok(())
    })
    .expect("seed accounts");
    let mut tasks = Vec::new();
    for i in 0..50usize {
        let c = if i % 2 == 0 { a.clone() } else { b.clone() };
        let base = server.base.clone();
        tasks.push(tokio::spawn(async move {
            let (url, form): (String, Vec<(String, String)>) = match i % 5 {
                // 20 adds
                0 | 1 => (
                    format!("{base}/staff/accounts"),
                    vec![
                        ("name".into(), format!("new{i}")),
                        ("password".into(), "a new long password".into()),
                        ("role".into(), "agent".into()),
                    ],
                ),
                // 10 role changes
                2 => (
                    format!("{base}/staff/accounts/old{}/role", i / 5),
                    vec![("role".into(), "agent".into())],
                ),
                // 10 removals
                3 => (
                    format!("{base}/staff/accounts/old{}/remove", 10 + i / 5),
                    vec![],
                ),
                // 10 adds of a name another task adds too: one wins
                _ => (
                    format!("{base}/staff/accounts"),
                    vec![
                        ("name".into(), format!("twin{}", i / 10)),
                        ("password".into(), "a twin long password".into()),
                        ("role".into(), "viewer".into()),
                    ],
                ),
            };
            let form: Vec<(&str, &str)> =
                form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let res = c
                .post(url)
                .header("accept", "text/html")
                .form(&form)
                .send()
                .await
                .expect("post");
            (i, res.status().as_u16())
        }));
    }
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.expect("task"));
    }
    assert!(answers.iter().all(|(_, s)| *s < 500), "{answers:?}");
    let accounts = Accounts::load(&data).expect("accounts");
    let names: Vec<&str> = accounts.names();
    for (i, status) in &answers {
        match i % 5 {
            0 | 1 => {
                assert_eq!(*status, 303, "add new{i}");
                assert!(
                    names.contains(&format!("new{i}").as_str()),
                    "new{i}: {names:?}"
                );
            }
            2 => {
                assert_eq!(*status, 303, "role old{}", i / 5);
                let who = accounts.get(&format!("old{}", i / 5)).expect("kept");
                assert_eq!(who.role, Role::Agent);
            }
            3 => {
                assert_eq!(*status, 303, "remove old{}", 10 + i / 5);
                assert!(!names.contains(&format!("old{}", 10 + i / 5).as_str()));
            }
            _ => {}
        }
    }
    // Each twin name: added once, refused once ("already"), both answered.
    for t in 0..5 {
        let ok = answers
            .iter()
            .filter(|(i, s)| i % 5 == 4 && i / 10 == t && *s == 303)
            .count();
        let refused = answers
            .iter()
            .filter(|(i, s)| i % 5 == 4 && i / 10 == t && *s == 422)
            .count();
        assert_eq!((ok, refused), (1, 1), "twin{t}: {answers:?}");
        assert!(names.contains(&format!("twin{t}").as_str()));
    }
    // 2 admins + 20 old - 10 removed + 20 new + 5 twins.
    assert_eq!(names.len(), 2 + 20 - 10 + 20 + 5, "{names:?}");
}

/// A viewer removed, then an account of the same name made again as an
/// admin: the viewer's old cookie stays dead.
#[tokio::test]
async fn a_removed_accounts_session_does_not_come_back_with_its_name() {
    let server = Server::start(&[("ORDER_STATUS_SEED_DEMO", "false")]);
    let boss = admin(&server, "boss").await;
    let (code, _) = post(
        &boss,
        server.url("/staff/accounts"),
        &[
            ("name", "sam"),
            ("password", "sam's first password"),
            ("role", "viewer"),
        ],
    )
    .await;
    assert_eq!(code, 200);
    let (_, viewer_cookie) = signed_in_as(&server, "sam", "sam's first password").await;
    assert_eq!(with_cookie(&server, &viewer_cookie).await, 200);
    let (code, _) = post(&boss, server.url("/staff/accounts/sam/remove"), &[]).await;
    assert_eq!(code, 200);
    assert_eq!(with_cookie(&server, &viewer_cookie).await, 303);
    let (code, _) = post(
        &boss,
        server.url("/staff/accounts"),
        &[
            ("name", "sam"),
            ("password", "a different person's"),
            ("role", "admin"),
        ],
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(
        with_cookie(&server, &viewer_cookie).await,
        303,
        "the removed viewer's cookie is not the new admin's"
    );
    let audit = client()
        .get(server.url("/staff/audit.ndjson"))
        .header("cookie", &viewer_cookie)
        .send()
        .await
        .expect("get");
    assert_ne!(audit.status(), 200, "no audit log for the old cookie");
}

/// The console's routes by the role they need: a viewer is refused every
/// agent and admin action, an agent every admin one, with a page in the
/// visitor's language; without a session every one of them is closed.
#[tokio::test]
async fn every_console_route_takes_its_role_and_refuses_in_the_visitors_language() {
    use order_status::staff::Role;
    let server = Server::start(&[]);
    let viewer = common::staff_client(&server, "vera", Role::Viewer).await;
    let agent = common::staff_client(&server, "alex", Role::Agent).await;
    let order = "/staff/orders/demo.example/5100000000";
    let agents: Vec<(&str, String)> = [
        "revoke",
        "status",
        "resend",
        "ship",
        "shipments/1/tracking",
        "shipments/1/scan",
    ]
    .iter()
    .map(|a| ("POST", format!("{order}/{a}")))
    .chain(
        [
            "/staff/bulk",
            "/staff/bulk/x/confirm",
            "/staff/requests/accept",
            "/staff/requests/reject",
            "/staff/requests/cancellation/accept",
            "/staff/requests/cancellation/reject",
        ]
        .iter()
        .map(|p| ("POST", p.to_string())),
    )
    .chain([("GET", format!("{order}/ship"))])
    .collect();
    let admins: Vec<(&str, String)> = vec![
        ("POST", "/staff/accounts".into()),
        ("POST", "/staff/accounts/vera/role".into()),
        ("POST", "/staff/accounts/vera/remove".into()),
        ("GET", "/staff/audit.ndjson".into()),
    ];
    let send = |c: &reqwest::Client, method: &str, path: &str| {
        let req = match method {
            "POST" => c.post(server.url(path)).form(&[("role", "admin")]),
            _ => c.get(server.url(path)),
        };
        req.header("accept", "text/html")
            .header("accept-language", "sv")
    };
    for (method, path) in agents.iter().chain(&admins) {
        let res = send(&viewer, method, path).send().await.expect("viewer");
        assert_eq!(res.status(), 403, "a viewer: {method} {path}");
        let body = res.text().await.expect("body");
        assert!(
            body.contains("Din roll tillåter inte det här") && body.contains("lang=\"sv\""),
            "{method} {path}: {body}"
        );
        let res = send(&client(), method, path).send().await.expect("nobody");
        assert_eq!(res.status(), 303, "no session: {method} {path}");
    }
    for (method, path) in &admins {
        let res = send(&agent, method, path).send().await.expect("agent");
        assert_eq!(res.status(), 403, "an agent: {method} {path}");
    }
    // What an agent may do gets past the gate (to its own answer).
    let res = send(&agent, "POST", &format!("{order}/status"))
        .send()
        .await
        .expect("agent");
    assert_ne!(res.status(), 403);
}

/// The words on a page a person reads (its text, scripts and styles
/// left out) that are a program's, not a person's: a Shopify value
/// (`ON_HOLD`, `PAID`), one of ours (`in_production`, `status.set`) or a
/// text key with no text (`desk.take`).
fn raw_words(html: &str, enum_values: &[&str]) -> Vec<String> {
    let mut text = String::new();
    let mut rest = html;
    // Leave out what is not read: scripts, styles.
    while let Some(open) = rest.find('<') {
        text.push_str(&rest[..open]);
        text.push(' ');
        let tag = &rest[open..];
        let skip_to = ["<script", "<style"]
            .iter()
            .find(|t| tag.starts_with(**t))
            .and_then(|t| tag.find(&format!("</{}", &t[1..])));
        let after = match skip_to {
            Some(end) => &tag[end..],
            None => tag,
        };
        rest = match after.find('>') {
            Some(close) => &after[close + 1..],
            None => "",
        };
    }
    text.push_str(rest);
    let sections: Vec<String> = std::fs::read_to_string("src/i18n/locales/en.toml")
        .expect("the English texts")
        .lines()
        .filter_map(|l| l.strip_prefix('[').and_then(|l| l.strip_suffix(']')))
        .map(str::to_string)
        .collect();
    text.split(|c: char| c.is_whitespace() || "()“”\"'«»„,;!?·…".contains(c))
        .map(|w| w.trim_end_matches(['.', ':']))
        .filter(|w| !w.is_empty() && !w.contains(['@', '/', '=', '&', '#']))
        .filter(|w| {
            let shopify = w.contains('_') && w.chars().all(|c| c.is_ascii_uppercase() || c == '_');
            let ours = w.contains('_') && w.chars().all(|c| c.is_ascii_lowercase() || c == '_');
            let key = w
                .split_once('.')
                .is_some_and(|(s, k)| sections.iter().any(|x| x == s) && !k.is_empty());
            shopify || ours || key || enum_values.contains(w)
        })
        .map(str::to_string)
        .collect()
}

/// Every console page, in every language, after staff did one of each
/// thing the pages report (a status set, a link shared, an email sent
/// again, a problem taken, snoozed and handled, a bulk change prepared):
/// words, never a raw value or a missing text.
#[tokio::test]
async fn no_console_page_shows_a_raw_value_in_any_language() {
    let enum_values = common::shopify_enum_values();
    // What the check finds: the activity line this test was written for,
    // a Shopify value, a key with no text; not names, amounts, addresses.
    assert_eq!(
        raw_words(
            "<li>staff:ann · <strong>status.set</strong> in_production</li><p>PAID, desk.take</p><script>let a_b = 1;</script>",
            &enum_values
        ),
        ["status.set", "in_production", "PAID", "desk.take"]
    );
    assert!(
        raw_words(
            "<p>USPS 1Z999 · SEK 766.90 · anna_b@mail.example · demo.example</p>",
            &enum_values
        )
        .is_empty()
    );
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("order-status.toml");
    std::fs::write(
        &config,
        "[[status]]\nid = \"in_production\"\ntitle = { en = \"In production\", sv = \"I produktion\" }\ndescription = { en = \"We are making it.\" }\n",
    )
    .expect("config");
    let config = config.display().to_string();
    let server = Server::start_in(dir, &[("ORDER_STATUS_CONFIG", &config)]);
    let c = admin(&server, "boss").await;
    let (_, queue) = get(&c, server.url("/staff/problems?reason=on_hold")).await;
    let worked = queue
        .split("class=\"card problem\"")
        .nth(1)
        .and_then(|s| s.split("href=\"").nth(1))
        .and_then(|s| s.split('"').next())
        .expect("an order on hold too long")
        .to_string();
    let (_, page) = get(&c, server.url(&worked)).await;
    let status = page
        .split("<select id=\"status\"")
        .nth(1)
        .and_then(|s| {
            s.split("<option value=\"")
                .skip(1)
                .map(|o| o.split('"').next().unwrap_or(""))
                .find(|v| !v.is_empty())
        })
        .expect("the demo's statuses")
        .to_string();
    let day = (chrono::Utc::now() + chrono::Duration::days(3))
        .format("%Y-%m-%d")
        .to_string();
    for (path, form) in [
        (
            "status",
            vec![("status", status.as_str()), ("note", "Checked")],
        ),
        ("share", vec![("days", "7")]),
        ("resend", vec![]),
        ("problem", vec![("do", "take")]),
        ("problem", vec![("do", "snooze"), ("until", day.as_str())]),
        ("problem", vec![("do", "unsnooze")]),
        (
            "problem",
            vec![("do", "handled"), ("kind", "on_hold"), ("note", "Called")],
        ),
    ] {
        let (code, html, _) =
            common::post_form(&c, server.url(&format!("{worked}/{path}")), &form).await;
        assert_eq!(code, 200, "{path} {form:?}: {html}");
    }
    let res = c
        .post(server.url("/staff/bulk"))
        .form(&[("payment", "pending"), ("status", status.as_str())])
        .send()
        .await
        .expect("bulk");
    assert_eq!(res.status(), 303);
    let bulk = res.headers()["location"].to_str().expect("job").to_string();

    let mut pages: Vec<String> = [
        "/staff",
        "/staff?payment=paid&fulfillment=on_hold",
        "/staff?q=anna",
        "/staff/problems",
        "/staff/problems?who=me",
        "/staff/mail",
        "/staff/accounts",
        "/staff/requests",
    ]
    .into_iter()
    .map(str::to_string)
    .collect();
    pages.push(bulk);
    pages.push(worked.clone());
    pages.push(format!("{worked}/emails"));
    for index in 0..order_status::ingest::demo::SCENARIOS.len() as u64 {
        let o = demo_order(index);
        pages.push(format!("/staff/orders/{}/{}", o.shop, o.id));
    }
    for lang in ["en", "sv", "de", "fr", "da", "nb", "fi"] {
        for path in &pages {
            let sep = if path.contains('?') { '&' } else { '?' };
            let (code, html) = get(&c, server.url(&format!("{path}{sep}lang={lang}"))).await;
            assert_eq!(code, 200, "{lang} {path}");
            let raw = raw_words(&html, &enum_values);
            assert!(raw.is_empty(), "{lang} {path}: {raw:?}");
        }
    }
}

/// A search without words is a worklist: newest first, each row with the
/// customer, their email, the total and the country.
#[tokio::test]
async fn a_listing_without_words_comes_newest_first_with_what_support_needs() {
    let server = Server::start(&[]);
    let c = signed_in(&server).await;
    for path in [
        "/staff",
        "/staff?state=open",
        "/staff?payment=paid&sort=relevance",
    ] {
        let (code, html) = get(&c, server.url(path)).await;
        assert_eq!(code, 200);
        let names: Vec<u64> = html
            .split("class=\"hit-name\">#")
            .skip(1)
            .filter_map(|s| s.split('<').next()?.parse().ok())
            .collect();
        assert!(names.len() >= 10, "{path}: {names:?}");
        let placed: Vec<_> = names
            .iter()
            .map(|n| demo_order(n - 1001).created_at.expect("placed"))
            .collect();
        assert!(
            placed.windows(2).all(|w| w[0] >= w[1]),
            "{path}: newest first: {names:?}"
        );
        let first = demo_order(names[0] - 1001);
        let row = html.split("class=\"hit\"").nth(1).expect("a row");
        assert!(row.contains(&first.email), "{path}: the email: {row}");
        let country = first
            .shipping_address
            .as_ref()
            .and_then(|a| a.country_code.clone())
            .expect("a country");
        let named = order_status::i18n::I18n::new(
            order_status::i18n::Lang::En,
            chrono_tz::UTC,
            std::sync::Arc::new(order_status::i18n::Catalog::load().expect("texts")),
        )
        .country_or_name(&country);
        assert!(row.contains(&named), "{path}: the country {named}: {row}");
        assert!(
            row.contains("class=\"num hit-total\""),
            "{path}: the total: {row}"
        );
    }
    // Words rank by match.
    let (_, html) = get(&c, server.url("/staff?q=anna")).await;
    assert!(html.contains(r#"<option value="relevance" selected"#));
}
