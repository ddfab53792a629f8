//! The insights page over HTTP: a scripted day of shopper visits is
//! counted as it happened (staff previews left out), the page and its CSV
//! say so in every period and language asked for, the numbers survive a
//! restart, and bad choices get clear answers.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::common::{self, Server, client};
use order_status::staff::Role;

/// The CSV of `chart` for the last `days` days as rows of (header ->
/// cell).
async fn csv_of(
    staff: &reqwest::Client,
    server: &Server,
    chart: &str,
    days: u32,
) -> Vec<HashMap<String, String>> {
    let res = staff
        .get(server.url(&format!("/staff/insights.csv?chart={chart}&days={days}")))
        .send()
        .await
        .expect("csv");
    assert_eq!(res.status(), 200, "{chart}");
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    let text = res.text().await.expect("body");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().expect("headers").clone();
    reader
        .records()
        .map(|r| {
            let r = r.expect("row");
            headers
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

/// Today's row of the activity CSV.
async fn today(staff: &reqwest::Client, server: &Server) -> HashMap<String, String> {
    let rows = csv_of(staff, server, "activity", 7).await;
    assert_eq!(rows.len(), 7, "one row per day");
    let today = chrono::Utc::now().date_naive().to_string();
    let row = rows.last().expect("today").clone();
    assert_eq!(row["day"], today);
    row
}

async fn wait_for(
    staff: &reqwest::Client,
    server: &Server,
    what: &str,
    want: &HashMap<&str, &str>,
) -> HashMap<String, String> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let row = today(staff, server).await;
        if want.iter().all(|(k, v)| row[*k] == *v) {
            return row;
        }
        assert!(Instant::now() < deadline, "{what}: {row:?}, want {want:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_day_of_shopper_visits_is_counted_and_survives_a_restart() {
    let server = Server::start(&[]);
    let shopper = client();
    // Three shoppers look their orders up and open the page; the first
    // also opens the link from an email twice.
    let mut paths = Vec::new();
    for (name, email) in server.samples.clone() {
        let path = server.status_path(&name, &email).await;
        let (code, _) = server.page(&path).await;
        assert_eq!(code, 200);
        paths.push(path);
    }
    for _ in 0..2 {
        let (code, _) = server.page(&format!("{}?via=email", paths[0])).await;
        assert_eq!(code, 200);
    }
    // Two lookups that find nothing.
    let (name, _) = server.samples[0].clone();
    for wrong in ["nobody@example.com", "else@example.com"] {
        assert_eq!(server.lookup(&name, wrong).await.status(), 200);
    }
    // "Email me my link", once.
    let (name, email) = server.samples[1].clone();
    let res = shopper
        .post(server.url("/link"))
        .form(&[("order", name.as_str()), ("email", email.as_str())])
        .send()
        .await
        .expect("link");
    assert_eq!(res.status(), 200);
    // One opt-out, from an email's unsubscribe link.
    let order = common::demo_order(2);
    let links = server.links();
    let token = links.sign_unsubscribe(&order.shop, order.id);
    let res = shopper
        .post(server.url(&format!("/unsubscribe/{token}")))
        .form(&[("scope", "address")])
        .send()
        .await
        .expect("opt out");
    assert_eq!(res.status(), 200);

    // Staff opening a shopper's page are not shoppers.
    let staff = common::staff_client(&server, "ana", Role::Viewer).await;
    let res = staff
        .get(server.url(&paths[1]))
        .send()
        .await
        .expect("preview");
    assert_eq!(res.status(), 200);

    let want: HashMap<&str, &str> = [
        ("views", "5"),
        ("lookups_found", "3"),
        ("lookups_not_found", "2"),
        ("links_opened_from_email", "2"),
        ("links_requested", "1"),
        ("emails_sent", "1"),
        ("opt_outs", "1"),
    ]
    .into();
    wait_for(&staff, &server, "the day as scripted", &want).await;
    let emails = csv_of(&staff, &server, "emails", 7).await;
    assert_eq!(emails.len(), 1);
    assert_eq!(
        (emails[0]["event"].as_str(), emails[0]["sent"].as_str()),
        ("link", "1")
    );
    // The three orders looked at were all placed in the last 90 days (the
    // demo's oldest of them, delivered, at most 45 days ago): each counts
    // once, however often it was opened.
    let summary: HashMap<String, String> = csv_of(&staff, &server, "summary", 90)
        .await
        .into_iter()
        .map(|r| (r["figure"].clone(), r["value"].clone()))
        .collect();
    assert_eq!(summary["orders_looked_at"], "3", "{summary:?}");

    // The page says the same, in the staff member's language.
    let page = staff
        .get(server.url("/staff/insights?days=7&lang=sv"))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("body");
    assert!(page.contains("<h1>Insikter</h1>"), "{page}");
    assert!(
        page.contains("Under perioden: 5 visade statussidor, 3 hittade sökningar (2 utan träff), 2 länkar öppnade från mejl."),
        "{page}"
    );
    assert!(
        page.contains("role=\"img\""),
        "charts are images with words"
    );

    // A restart keeps every count.
    let before = today(&staff, &server).await;
    let server = server.restart(&[]);
    let staff = common::staff_client(&server, "bo", Role::Viewer).await;
    assert_eq!(today(&staff, &server).await, before);
}

#[tokio::test]
async fn bad_choices_get_clear_answers() {
    let server = Server::start(&[]);
    let staff = common::staff_client(&server, "ana", Role::Viewer).await;
    let get = |path: &'static str| {
        let (staff, url) = (staff.clone(), server.url(path));
        async move {
            let res = staff.get(url).send().await.expect("get");
            let code = res.status().as_u16();
            (code, res.text().await.expect("body"))
        }
    };
    let (code, page) = get("/staff/insights?from=2026-12-05&to=2026-01-01&lang=en").await;
    assert_eq!(code, 200);
    assert!(
        page.contains("Choose a start date on or before the end date"),
        "{page}"
    );
    let (code, page) = get("/staff/insights?from=2024-01-01&to=2026-01-01&lang=en").await;
    assert_eq!(code, 200, "more than 366 days");
    assert!(page.contains("Choose a start date on or before the end date"));
    let (code, page) = get("/staff/insights?shop=other.myshopify.com&lang=en").await;
    assert_eq!(code, 404);
    assert!(
        page.contains("This site does not serve that shop."),
        "{page}"
    );
    let (code, page) = get("/staff/insights.csv?chart=nonsense&lang=en").await;
    assert_eq!(code, 404);
    assert!(
        page.contains("There is no such chart to download."),
        "{page}"
    );
    // Dates that make a period are that period, in each chart's CSV.
    let (code, text) =
        get("/staff/insights.csv?chart=problems&from=2026-11-01&to=2026-11-03").await;
    assert_eq!(code, 200);
    let days: Vec<&str> = text.lines().skip(1).map(|l| &l[..10]).collect();
    assert_eq!(days, ["2026-11-01", "2026-11-02", "2026-11-03"]);
    // Shoppers do not get in.
    let (code, _) = server.page("/staff/insights").await;
    assert!(code == 303 || code == 401, "{code}");
}
