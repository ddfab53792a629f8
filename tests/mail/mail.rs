//! Status emails end to end: Shopify's webhooks change an order, the site
//! sends through a real SMTP server (aiosmtpd, see `common::smtp`), and the
//! test reads the messages back from its Maildir.

use crate::common;

use std::time::Duration;

use common::smtp::{Secure, Smtpd, TEST_CA, free_port};
use common::webhook::{deliver, sample};
use common::{Server, client};

const SHOP: &str = "jsmith.myshopify.com";
const SECRET: &str = "webhook-secret-for-mail";
const ORDER_ID: u64 = 450789469;

fn env(smtp_url: &str) -> Vec<(&'static str, String)> {
    vec![
        ("ORDER_STATUS_SEED_DEMO", "false".into()),
        ("ORDER_STATUS_SHOPIFY_SHOP", SHOP.into()),
        ("ORDER_STATUS_SHOPIFY_WEBHOOK_SECRET", SECRET.into()),
        ("ORDER_STATUS_SMTP_URL", smtp_url.into()),
        (
            "ORDER_STATUS_MAIL_FROM",
            "Jsmith Shop <orders@jsmith.example>".into(),
        ),
        ("ORDER_STATUS_SUPPORT_EMAIL", "help@jsmith.example".into()),
        (
            "ORDER_STATUS_MAIL_EVENTS",
            "shipped,out_for_delivery,delivered,delivery_problem,refunded,cancelled".into(),
        ),
        // Shopify's samples are dated years ago; they are news here.
        ("ORDER_STATUS_MAIL_MAX_AGE", "100000d".into()),
        ("ORDER_STATUS_MAIL_RETRY_FIRST", "1s".into()),
        ("ORDER_STATUS_MAIL_RETRY_MAX", "1s".into()),
    ]
}

fn start(smtp_url: &str, extra: &[(&str, &str)]) -> Server {
    let vars = env(smtp_url);
    let mut all: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    all.extend_from_slice(extra);
    Server::start(&all)
}

/// Shopify's sample order #1001, with the email `email`.
fn order(email: &str) -> serde_json::Value {
    let mut o = sample(
        "rest_order_get_partially_refunded_with_fulfillment_and_refund.json",
        "order",
    );
    o["email"] = email.into();
    o
}

/// Shopify's sample UPS shipment of #1001.
fn shipment() -> serde_json::Value {
    sample(
        "rest_fulfillment_create_with_tracking_ups.json",
        "fulfillment",
    )
}

async fn send(server: &Server, topic: &str, body: &serde_json::Value, event: &str) {
    let (code, text) = deliver(&server.base, SHOP, SECRET, topic, body, event).await;
    assert_eq!(code, 200, "{topic}: {text}");
}

/// The order arrives (`orders/create`), then Shopify's sample shipment
/// of it (`fulfillments/create`).
async fn create_and_ship(server: &Server, order: &serde_json::Value) {
    send(server, "orders/create", order, "o1").await;
    send(server, "fulfillments/create", &shipment(), "f1").await;
}

/// A second order, #1077 (id 777) to `email`, arrives and ships.
async fn create_and_ship_second(server: &Server, email: &str) {
    let mut other = order(email);
    other["id"] = 777.into();
    other["name"] = "#1077".into();
    other["order_number"] = 1077.into();
    send(server, "orders/create", &other, "o2").await;
    let mut f = shipment();
    f["id"] = 778.into();
    f["order_id"] = 777.into();
    send(server, "fulfillments/create", &f, "f2").await;
}

/// Waits up to 10 s for `done`, failing with `what`.
async fn wait_until(done: impl Fn() -> bool, what: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(std::time::Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_shipment_emails_the_shopper_once_with_the_link_and_the_tracking_number() {
    let smtp = Smtpd::start();
    let server = start(&smtp.url(), &[]);
    create_and_ship(&server, &order("bob.norman@mail.example.com")).await;
    let got = smtp.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 1, "one email for one shipment");
    let m = &got[0];
    assert_eq!(m.header("from"), "\"Jsmith Shop\" <orders@jsmith.example>");
    assert_eq!(m.header("reply-to"), "help@jsmith.example");
    assert_eq!(m.header("to"), "bob.norman@mail.example.com");
    assert_eq!(m.header("subject"), "Your order #1001 is on its way");
    assert!(
        m.header("message-id").ends_with("@jsmith.example>"),
        "{}",
        m.header("message-id")
    );
    assert!(!m.header("date").is_empty());
    let unsubscribe = m.header("list-unsubscribe");
    assert!(
        unsubscribe.starts_with('<') && unsubscribe.contains("/unsubscribe/"),
        "{unsubscribe}"
    );
    assert_eq!(
        m.header("list-unsubscribe-post"),
        "List-Unsubscribe=One-Click"
    );
    for part in [&m.text, &m.html] {
        assert!(
            part.contains("1Z001985YW99744790"),
            "the tracking number in both parts"
        );
        assert!(part.contains("/status/"), "the status link in both parts");
        assert!(!part.contains("<img"), "no images, no pixels");
    }
    assert!(m.text.contains("A package with your order has shipped."));
    // The link opens this order's page.
    let link = m.status_link().expect("a status link");
    let path = link
        .strip_prefix(&server.base)
        .expect("a link to this site");
    let (code, html) = server.page(path).await;
    assert_eq!(code, 200);
    assert!(html.contains("#1001") && html.contains("1Z001985YW99744790"));

    // Shopify retries, a second delivery, an orders/updated with the same
    // shipment: nothing new to say.
    send(&server, "fulfillments/create", &shipment(), "f1-retry").await;
    send(&server, "fulfillments/update", &shipment(), "f1-update").await;
    send(
        &server,
        "orders/updated",
        &order("bob.norman@mail.example.com"),
        "o2",
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(smtp.messages().len(), 1, "replays send nothing");

    // One click (as a mail provider posts it: no cookie, no Origin) stops
    // the emails about this order.
    let url = unsubscribe
        .trim_matches(|c| c == '<' || c == '>')
        .to_string();
    let res = client()
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .expect("one-click");
    assert_eq!(res.status(), 200);
    let mut delivered = shipment();
    delivered["shipment_status"] = "delivered".into();
    delivered["updated_at"] = "2025-04-03T10:00:00-05:00".into();
    send(&server, "fulfillments/update", &delivered, "f1-delivered").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(smtp.messages().len(), 1, "nothing after the opt-out");
}

#[tokio::test]
async fn a_parcel_past_its_estimate_gets_a_running_late_email() {
    let smtp = Smtpd::start();
    let server = start(&smtp.url(), &[("ORDER_STATUS_MAIL_EVENTS", "running_late")]);
    send(
        &server,
        "orders/create",
        &order("bob.norman@mail.example.com"),
        "o1",
    )
    .await;
    // Due two seconds from now, and then nothing: no order change says
    // it is late; the sender's clock notices.
    let mut f = shipment();
    f["estimated_delivery_at"] = (chrono::Utc::now() + chrono::Duration::seconds(2))
        .to_rfc3339()
        .into();
    send(&server, "fulfillments/create", &f, "f1").await;
    let got = smtp.wait_for(1, Duration::from_secs(20)).await;
    assert_eq!(got.len(), 1, "one running-late email");
    assert_eq!(got[0].header("subject"), "Your order #1001 is running late");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(smtp.messages().len(), 1, "once");
}

#[tokio::test]
async fn erasing_an_order_erases_its_email_files() {
    // No SMTP: the file transport, as in the demo.
    let server = Server::start(&[
        ("ORDER_STATUS_SEED_DEMO", "false"),
        ("ORDER_STATUS_SHOPIFY_SHOP", SHOP),
        ("ORDER_STATUS_SHOPIFY_WEBHOOK_SECRET", SECRET),
        ("ORDER_STATUS_MAIL_EVENTS", "shipped"),
        ("ORDER_STATUS_MAIL_MAX_AGE", "100000d"),
    ]);
    create_and_ship(&server, &order("bob.norman@mail.example.com")).await;
    let sent = server.dir.path().join("data/mail/sent");
    let count = || std::fs::read_dir(&sent).map_or(0, |d| d.count());
    wait_until(|| count() > 0, "the email was written").await;
    let redact = serde_json::json!({
        "shop_id": 954889, "shop_domain": SHOP,
        "customer": {"id": 191167, "email": "bob.norman@mail.example.com"},
        "orders_to_redact": [ORDER_ID]
    });
    send(&server, "customers/redact", &redact, "r1").await;
    assert_eq!(count(), 0, "the .eml is gone with the order");
    let res = server.lookup("1001", "bob.norman@mail.example.com").await;
    assert_eq!(res.status(), 200, "not found: no redirect to a status page");

    // The whole shop (48 hours after it uninstalls): every file goes.
    create_and_ship_second(&server, "ann@mail.example.com").await;
    wait_until(|| count() > 0, "written again").await;
    let shop = serde_json::json!({"shop_id": 954889, "shop_domain": SHOP});
    send(&server, "shop/redact", &shop, "r2").await;
    assert_eq!(count(), 0, "the shop's .eml files are gone");
}

#[tokio::test]
async fn the_shoppers_language_is_used() {
    let smtp = Smtpd::start();
    let server = start(&smtp.url(), &[]);
    let mut o = order("sv@mail.example.com");
    o["customer_locale"] = "sv-SE".into();
    create_and_ship(&server, &o).await;
    let got = smtp.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].header("subject"), "Din order #1001 är på väg");
    assert_eq!(got[0].header("content-language"), "sv");
    let text = &got[0].text;
    // The shop's header, the order, a greeting by first name, the parcel's
    // items, the carrier with Swedish punctuation, the link: all Swedish.
    for part in [
        "Demo Store",
        "Order #1001",
        "Hej Bob!",
        "Ett paket med din order har skickats.",
        "Transportör: UPS",
        "1 × Crafty Shoes - Red",
        "Se din orderstatus",
    ] {
        assert!(text.contains(part), "{part:?} in {text}");
    }
    assert!(!text.contains("Where it stands"), "{text}");
}

/// A shopper whose order does not say their language asks for their link
/// from the Swedish page: the link comes in Swedish (the page's language),
/// and so do the order's later emails.
#[tokio::test]
async fn a_link_asked_for_in_swedish_comes_in_swedish() {
    let smtp = Smtpd::start();
    let server = start(&smtp.url(), &[]);
    let o = order("noloc@mail.example.com");
    assert!(o.get("customer_locale").is_none_or(|l| l.is_null()));
    send(&server, "orders/create", &o, "o1").await;
    let res = client()
        .post(server.url("/link?lang=sv"))
        .form(&[("order", "1001"), ("email", "noloc@mail.example.com")])
        .send()
        .await
        .expect("link");
    assert_eq!(res.status(), 200);
    let got = smtp.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].header("content-language"), "sv");
    assert!(got[0].text.contains("Hej Bob!"), "{}", got[0].text);
    // The next email about the order speaks Swedish too.
    send(&server, "fulfillments/create", &shipment(), "f1").await;
    let got = smtp.wait_for(2, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 2);
    // The mailbox lists messages in no particular order.
    assert!(
        got.iter()
            .any(|m| m.header("subject") == "Din order #1001 är på väg"),
        "{:?}",
        got.iter().map(|m| m.header("subject")).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn a_mail_server_that_is_down_gets_the_message_when_it_is_back() {
    let port = free_port();
    let server = start(&format!("smtp://127.0.0.1:{port}"), &[]);
    create_and_ship(&server, &order("late@mail.example.com")).await;
    // Tried and failed at least once against the closed port.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let smtp = Smtpd::start_on(port, tempfile::tempdir().expect("maildir"));
    let got = smtp.wait_for(1, Duration::from_secs(15)).await;
    assert_eq!(got.len(), 1, "delivered once the server is back");
    assert_eq!(got[0].header("to"), "late@mail.example.com");
}

#[tokio::test]
async fn a_4xx_is_retried_and_a_5xx_fails_for_staff_to_see() {
    let smtp = Smtpd::start();
    let server = start(&smtp.url(), &[]);
    // busy@ gets 451 twice, then is accepted.
    create_and_ship(&server, &order("busy@mail.example.com")).await;
    let got = smtp.wait_for(1, Duration::from_secs(15)).await;
    assert_eq!(got.len(), 1, "accepted on the third try");
    assert_eq!(got[0].header("to"), "busy@mail.example.com");

    // reject@ gets 550: marked failed with the server's words, not retried.
    create_and_ship_second(&server, "reject@mail.example.com").await;
    let cookie = sign_in_demo_staff(&server).await;
    let page = format!("/staff/orders/{SHOP}/777");
    let html = staff_page_with(&server, &cookie, &page, "Failed").await;
    assert!(html.contains("Failed"), "the failure is shown");
    assert!(html.contains("550"), "with the server's reply");
    assert_eq!(smtp.messages().len(), 1, "nothing delivered to reject@");
    // And the 4xx one's history says it went out, after three attempts.
    let html = staff_page(
        &server,
        &cookie,
        &format!("/staff/orders/{SHOP}/{ORDER_ID}"),
    )
    .await;
    assert!(html.contains("<td>Sent</td>"), "{html}");
    assert!(
        html.contains("<td>3</td>"),
        "two refusals, then accepted: {html}"
    );
    // An operator sees the same in /metrics.
    let metrics = server.metrics().await;
    for line in [
        "order_status_mail_messages_total{outcome=\"sent\"} 1",
        "order_status_mail_messages_total{outcome=\"retried\"} 2",
        "order_status_mail_messages_total{outcome=\"failed\"} 1",
        "order_status_mail_queued_orders 0",
    ] {
        assert!(metrics.contains(line), "{line} in {metrics}");
    }
}

async fn sign_in_demo_staff(server: &Server) -> String {
    let dir = server.dir.path().join("data");
    let mut accounts = order_status::staff::Accounts::load(&dir).expect("accounts");
    accounts
        .add("mailstaff", "a-long-password-1")
        .expect("account");
    sign_in(server, "mailstaff", "a-long-password-1").await
}

/// A staff page, fetched again until it contains `needle` (a sent
/// message is recorded a moment after it went out) or 10 s pass.
async fn staff_page_with(server: &Server, cookie: &str, path: &str, needle: &str) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let html = staff_page(server, cookie, path).await;
        if html.contains(needle) || std::time::Instant::now() > deadline {
            return html;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Staff's "send the status email again" on the order at `base`: it
/// answers with a redirect to the order's page (post, redirect, get),
/// which shows the notice it carries in its cookie. Returns that page.
async fn resend(server: &Server, cookie: &str, base: &str) -> String {
    let res = client()
        .post(server.url(&format!("{base}/resend")))
        .header("cookie", cookie)
        .send()
        .await
        .expect("resend");
    assert_eq!(res.status(), 303, "a resend redirects");
    assert_eq!(res.headers()["location"], base);
    let flash = res.headers()["set-cookie"]
        .to_str()
        .expect("cookie")
        .split(';')
        .next()
        .expect("the notice's cookie")
        .to_string();
    staff_page(server, &format!("{cookie}; {flash}"), base).await
}

async fn staff_page(server: &Server, cookie: &str, path: &str) -> String {
    let res = client()
        .get(server.url(path))
        .header("cookie", cookie)
        .send()
        .await
        .expect("GET");
    assert_eq!(res.status(), 200, "{path}");
    res.text().await.expect("body")
}

#[tokio::test]
async fn email_me_my_link_answers_alike_and_reaches_only_the_address_on_file() {
    let smtp = Smtpd::start();
    let server = start(
        &smtp.url(),
        &[("ORDER_STATUS_LIMIT_ORDER_FAILURES", "3/15m")],
    );
    send(
        &server,
        "orders/create",
        &order("owner@mail.example.com"),
        "o1",
    )
    .await;
    let ask = |email: &'static str| {
        let url = server.url("/link");
        async move {
            let res = client()
                .post(url)
                .form(&[("order", "1001"), ("email", email)])
                .send()
                .await
                .expect("POST /link");
            (res.status().as_u16(), res.text().await.expect("body"))
        }
    };
    let wrong = ask("stranger@mail.example.com").await;
    // Lock the order number with failed lookups: the lookup form now says
    // "not found" even to the owner...
    for _ in 0..3 {
        server.lookup("1001", "guess@mail.example.com").await;
    }
    let res = server.lookup("1001", "owner@mail.example.com").await;
    assert_eq!(res.status(), 200, "locked: no redirect to the page");
    // ...but the owner can still get in by email.
    let right = ask("Owner@Mail.example.com").await;
    assert_eq!(wrong, right, "the same answer whether or not it matched");
    assert_eq!(right.0, 200);
    assert!(right.1.contains("If an order matches"));
    let got = smtp.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 1, "only the matching request sends");
    assert_eq!(got[0].header("to"), "owner@mail.example.com");
    assert_eq!(
        got[0].header("subject"),
        "The status link for your order #1001"
    );
    let link = got[0].status_link().expect("link");
    let (code, html) = server
        .page(link.strip_prefix(&server.base).expect("ours"))
        .await;
    assert_eq!((code, html.contains("#1001")), (200, true));
    // Bad input: field messages, nothing sent.
    let res = client()
        .post(server.url("/link"))
        .form(&[("order", "abc"), ("email", "nope")])
        .send()
        .await
        .expect("POST");
    assert_eq!(res.status(), 422);
}

#[tokio::test]
async fn the_address_budget_of_email_me_my_link() {
    let smtp = Smtpd::start();
    let server = start(
        &smtp.url(),
        &[("ORDER_STATUS_MAIL_LINK_PER_ADDRESS", "2/h:2")],
    );
    send(
        &server,
        "orders/create",
        &order("owner@mail.example.com"),
        "o1",
    )
    .await;
    for _ in 0..4 {
        let res = client()
            .post(server.url("/link"))
            .form(&[("order", "1001"), ("email", "owner@mail.example.com")])
            .send()
            .await
            .expect("POST");
        assert_eq!(res.status(), 200);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(smtp.messages().len(), 2, "two a hour for one address");
}

async fn sign_in(server: &Server, name: &str, password: &str) -> String {
    let res = client()
        .post(server.url("/staff/login"))
        .form(&[("name", name), ("password", password)])
        .send()
        .await
        .expect("login");
    assert_eq!(res.status(), 303);
    common::session_pair(&res)
}

#[tokio::test]
async fn the_demo_writes_emails_to_files_that_staff_can_read() {
    // No SMTP configured: the demo's file transport.
    let server = Server::start(&[]);
    let (name, password) = order_status::staff::DEMO_STAFF;
    let cookie = sign_in(&server, name, password).await;
    let order = common::demo_order(0);
    let base = format!("/staff/orders/{}/{}", order.shop, order.id);
    let page = resend(&server, &cookie, &base).await;
    assert!(page.contains("A status email is queued"));
    let list = staff_page_with(&server, &cookie, "/staff/mail", "href=\"/staff/mail/").await;
    let subject = format!("An update on your order {}", order.name);
    assert!(list.contains(&subject), "listed: {list}");
    // Dated as the console dates things, in the shop's zone, named.
    assert!(
        list.contains(" CET</td>") || list.contains(" CEST</td>"),
        "the console's date format: {list}"
    );
    assert!(
        !list.contains(" +0000</td>"),
        "not the raw Date header: {list}"
    );
    let href = list
        .split("href=\"/staff/mail/")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a link to the message");
    let one = staff_page(&server, &cookie, &format!("/staff/mail/{href}")).await;
    assert!(one.contains("Here is the latest on your order."));
    assert!(one.contains(&order.email));
    let res = client()
        .get(server.url(&format!("/staff/mail/{href}/html")))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("html");
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .expect("csp")
        .to_string();
    assert!(csp.starts_with("sandbox"), "{csp}");
    assert!(
        res.text()
            .await
            .expect("body")
            .contains("View your order status")
    );
    // Written where the README says.
    let files = std::fs::read_dir(server.dir.path().join("data/mail/sent"))
        .expect("mail dir")
        .count();
    assert_eq!(files, 1);
    // The history on the order page (recorded just after sending).
    let page = staff_page_with(&server, &cookie, &base, "<td>Sent</td>").await;
    assert!(page.contains("<td>Sent</td>"), "{page}");
    // Previews: every email in both languages, nothing sent.
    let previews = staff_page(&server, &cookie, &format!("{base}/emails")).await;
    assert!(previews.contains(&format!("Your order {} is on its way", order.name)));
    assert!(previews.contains(&format!("Din order {} är på väg", order.name)));
    // Only the emails that can be about this order: it has a parcel, and
    // no cancellation, refund or return.
    assert!(previews.contains("/emails/delivered/en"));
    // One fold per email, named in the console's language; the shopper's
    // language first in each.
    assert!(
        previews.contains("<details class=\"preview-event\"><summary><h2>Shipped</h2>"),
        "{previews}"
    );
    let lang = order
        .customer_locale
        .as_deref()
        .and_then(order_status::i18n::Lang::negotiate)
        .expect("demo shoppers check out in a language");
    let shipped = previews
        .split("<summary><h2>Shipped</h2></summary>")
        .nth(1)
        .expect("the shipped fold");
    let first = shipped
        .split("/emails/shipped/")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a preview");
    assert_eq!(first, lang.code(), "the shopper's language first");
    for never in ["cancelled", "refunded", "return_received"] {
        assert!(
            !previews.contains(&format!("/emails/{never}/")),
            "{never} is previewed for an order it cannot be about"
        );
        let res = client()
            .get(server.url(&format!("{base}/emails/{never}/en")))
            .header("cookie", &cookie)
            .send()
            .await
            .expect("preview html");
        assert_eq!(res.status(), 404, "{never}");
    }
    let res = client()
        .get(server.url(&format!("{base}/emails/running_late/sv")))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("preview html");
    assert_eq!(res.status(), 200);
    assert!(res.text().await.expect("body").contains("lang=\"sv\""));
    for bad in [
        "/emails/nope/sv",
        "/emails/shipped/xx",
        "/emails/shipped/SV",
    ] {
        let res = client()
            .get(server.url(&format!("{base}{bad}")))
            .header("cookie", &cookie)
            .send()
            .await
            .expect("bad preview");
        assert_eq!(res.status(), 404, "{bad}");
    }
    for bad in ["nope", "..%2F..%2Fetc%2Fpasswd", "x.eml"] {
        let res = client()
            .get(server.url(&format!("/staff/mail/{bad}")))
            .header("cookie", &cookie)
            .send()
            .await
            .expect("bad name");
        assert_eq!(res.status(), 404, "{bad}");
    }
    assert_eq!(
        std::fs::read_dir(server.dir.path().join("data/mail/sent"))
            .expect("mail dir")
            .count(),
        1,
        "previews send nothing"
    );
}

#[tokio::test]
async fn an_address_opt_out_holds_for_every_order_and_staff_see_it() {
    let server = Server::start(&[]);
    let (name, password) = order_status::staff::DEMO_STAFF;
    let cookie = sign_in(&server, name, password).await;
    let order = common::demo_order(0);
    let base = format!("/staff/orders/{}/{}", order.shop, order.id);
    // The unsubscribe link of the order, as an email carries it.
    let links = server.links();
    let token = links.sign_unsubscribe(&order.shop, order.id);
    let (code, ask) = server.page(&format!("/unsubscribe/{token}?lang=en")).await;
    assert_eq!(code, 200);
    assert!(ask.contains(&format!("Stop emails about order {}?", order.name)));
    let (code, _) = server.page("/unsubscribe/not-a-token").await;
    assert_eq!(code, 404);
    let res = client()
        .post(server.url(&format!("/unsubscribe/{token}")))
        .form(&[("scope", "address")])
        .send()
        .await
        .expect("opt out");
    assert_eq!(res.status(), 200);
    assert!(res.text().await.expect("body").contains("at this address"));
    let page = resend(&server, &cookie, &base).await;
    assert!(
        page.contains("<td>Skipped</td>") && page.contains("opted out"),
        "{page}"
    );
    assert!(page.contains("This address asked for no order emails at all."));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        std::fs::read_dir(server.dir.path().join("data/mail/sent"))
            .is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound),
        "nothing written"
    );
}

#[test]
fn mail_test_says_what_failed() {
    let run = |url: &str, to: &str| {
        let dir = tempfile::tempdir().expect("dir");
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_order-status"))
            .args(["mail", "test", "--to", to])
            .env("ORDER_STATUS_DATA_DIR", dir.path())
            .env("ORDER_STATUS_SMTP_URL", url)
            .env("RUST_LOG", "warn")
            .output()
            .expect("runs");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).to_string(),
        )
    };
    let smtp = Smtpd::start();
    let (ok, out) = run(&smtp.url(), "admin@mail.example.com");
    assert!(ok, "{out}");
    assert!(out.contains("Sent: the server accepted"), "{out}");
    let got = smtp.messages();
    assert_eq!(got.len(), 1);
    assert!(
        got[0]
            .header("subject")
            .contains("order-status test message")
    );
    let (ok, out) = run(
        &format!("smtp://127.0.0.1:{}", free_port()),
        "admin@mail.example.com",
    );
    assert!(!ok);
    assert!(out.contains("Cannot reach the mail server"), "{out}");
    let (ok, out) = run(&smtp.url(), "reject@mail.example.com");
    assert!(!ok);
    assert!(out.contains("Not sent") && out.contains("550"), "{out}");
    let (ok, out) = run(&smtp.url(), "not an address");
    assert!(!ok);
    assert!(out.contains("is not an email address"), "{out}");
    // A bad URL stops at start-up with the setting's name, password hidden.
    let dir = tempfile::tempdir().expect("dir");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_order-status"))
        .args(["mail", "test", "--to", "a@b.example"])
        .env("ORDER_STATUS_DATA_DIR", dir.path())
        .env("ORDER_STATUS_SMTP_URL", "ftp://me:s3cret@host")
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("ORDER_STATUS_SMTP_URL") && !err.contains("s3cret"),
        "{err}"
    );
}

/// The password has characters a URL must percent-encode.
const SMTP_USER: &str = "shop";
const SMTP_PASSWORD: &str = "p@ss w0rd";

fn secure_url(mode: Secure, port: u16, password: &str) -> String {
    let password = password.replace('@', "%40").replace(' ', "%20");
    match mode {
        Secure::StartTls => {
            format!("smtp://{SMTP_USER}:{password}@127.0.0.1:{port}?tls=required")
        }
        Secure::Smtps => format!("smtps://{SMTP_USER}:{password}@127.0.0.1:{port}"),
    }
}

#[tokio::test]
async fn mail_goes_over_starttls_and_smtps_after_signing_in() {
    for mode in [Secure::StartTls, Secure::Smtps] {
        // The server takes mail only over TLS and after a correct sign-in,
        // so a delivered message proves both.
        let smtp = Smtpd::start_secure(mode, SMTP_USER, SMTP_PASSWORD);
        let url = secure_url(mode, smtp.port, SMTP_PASSWORD);
        let server = start(&url, &[("ORDER_STATUS_MAIL_CA_FILE", TEST_CA)]);
        create_and_ship(&server, &order("bob.norman@mail.example.com")).await;
        let got = smtp.wait_for(1, Duration::from_secs(15)).await;
        assert_eq!(got.len(), 1, "{mode:?}: one email");
        assert!(got[0].text.contains("1Z001985YW99744790"), "{mode:?}");
    }
}

#[tokio::test]
async fn a_server_that_wants_a_sign_in_first_holds_the_mail_until_the_settings_are_fixed() {
    let smtp = Smtpd::start_secure(Secure::StartTls, SMTP_USER, SMTP_PASSWORD);
    // TLS but no credentials: the server answers 530 to MAIL. That is the
    // site's settings, not the message: retried, not failed.
    let url = format!("smtp://127.0.0.1:{}?tls=required", smtp.port);
    let server = start(&url, &[("ORDER_STATUS_MAIL_CA_FILE", TEST_CA)]);
    create_and_ship(&server, &order("bob.norman@mail.example.com")).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(smtp.messages().is_empty());
    // The operator fixes the URL and restarts: the message goes.
    let fixed = secure_url(Secure::StartTls, smtp.port, SMTP_PASSWORD);
    let vars = env(&fixed);
    let mut all: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    all.push(("ORDER_STATUS_MAIL_CA_FILE", TEST_CA));
    let server = server.restart(&all);
    let got = smtp.wait_for(1, Duration::from_secs(15)).await;
    assert_eq!(got.len(), 1, "the held message went out");
    drop(server);
}

#[test]
fn mail_test_says_which_step_of_tls_and_sign_in_failed() {
    let run = |url: &str, ca: Option<&str>| {
        let dir = tempfile::tempdir().expect("dir");
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_order-status"));
        cmd.args(["mail", "test", "--to", "admin@mail.example.com"])
            .env("ORDER_STATUS_DATA_DIR", dir.path())
            .env("ORDER_STATUS_SMTP_URL", url)
            .env("RUST_LOG", "warn");
        if let Some(ca) = ca {
            cmd.env("ORDER_STATUS_MAIL_CA_FILE", ca);
        }
        let out = cmd.output().expect("runs");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    };
    for mode in [Secure::StartTls, Secure::Smtps] {
        let smtp = Smtpd::start_secure(mode, SMTP_USER, SMTP_PASSWORD);
        let good = secure_url(mode, smtp.port, SMTP_PASSWORD);
        let (ok, out) = run(&good, Some(TEST_CA));
        assert!(
            ok && out.contains("Sent: the server accepted"),
            "{mode:?}: {out}"
        );
        assert!(
            !out.contains(SMTP_PASSWORD) && !out.contains("p%40ss"),
            "{out}"
        );
        // A certificate from a CA the site does not know.
        let (ok, out) = run(&good, None);
        assert!(!ok, "{mode:?}: {out}");
        assert!(
            out.contains("Cannot reach the mail server"),
            "{mode:?}: {out}"
        );
        assert!(
            out.to_lowercase().contains("certificate"),
            "{mode:?}: {out}"
        );
        // A wrong password.
        let (ok, out) = run(&secure_url(mode, smtp.port, "wrong"), Some(TEST_CA));
        assert!(!ok, "{mode:?}: {out}");
        assert!(
            out.contains("Cannot reach the mail server") || out.contains("Not sent"),
            "{mode:?}: {out}"
        );
        assert!(out.contains("535"), "{mode:?}: the server's refusal: {out}");
        assert_eq!(smtp.messages().len(), 1, "{mode:?}");
    }
    // A CA file that is not one stops start-up, naming the setting.
    let (ok, out) = run(
        "smtp://127.0.0.1:2525",
        Some(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")),
    );
    assert!(!ok);
    assert!(
        out.contains("mail.ca_file") && out.contains("no PEM certificate"),
        "{out}"
    );
}

#[tokio::test]
async fn messages_are_dkim_signed_when_configured() {
    let smtp = Smtpd::start();
    let dir = tempfile::tempdir().expect("dir");
    // An Ed25519 key as lettre takes it: the base64 of its 32 bytes.
    let key_file = dir.path().join("dkim.key");
    let seed: Vec<u8> = (1..=32u8).collect();
    std::fs::write(
        &key_file,
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &seed),
    )
    .expect("key");
    let key_path = key_file.display().to_string();
    let server = start(
        &smtp.url(),
        &[
            ("ORDER_STATUS_DKIM_DOMAIN", "jsmith.example"),
            ("ORDER_STATUS_DKIM_SELECTOR", "os2026"),
            ("ORDER_STATUS_DKIM_KEY_FILE", &key_path),
        ],
    );
    create_and_ship(&server, &order("dkim@mail.example.com")).await;
    let got = smtp.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 1);
    let sig = got[0].header("dkim-signature");
    assert!(sig.contains("d=jsmith.example"), "{sig}");
    assert!(sig.contains("s=os2026"), "{sig}");
    assert!(sig.contains("a=ed25519-sha256"), "{sig}");
    assert!(sig.contains("b="), "{sig}");
}
