//! Store behaviour against a real on-disk index in a temp dir.

use serde_json::json;

use super::*;
use crate::order::{FinancialStatus, OrderState};

fn order(id: u64, number: u64, email: &str, updated: &str) -> Order {
    serde_json::from_value(json!({
        "shop": "shop.example", "id": id, "order_number": number, "name": format!("#{number}"),
        "email": email, "updated_at": updated, "created_at": "2026-11-01T10:00:00Z",
        "financial_status": "paid",
        "customer": {"first_name": "Anna", "last_name": "Lindqvist"},
        "shipping_address": {"city": "Göteborg", "country": "Sweden"},
        "tags": "vip, gift",
        "line_items": [{"id": 1, "title": "Linen shirt", "sku": "LS-42-BLUE", "quantity": 1}],
        "fulfillments": [{"id": 9, "tracking_numbers": [format!("PN{id}SE")]}]
    }))
    .expect("valid order")
}

fn open(dir: &tempfile::TempDir) -> Store {
    Store::open(dir.path(), StoreOptions::default()).expect("store opens")
}

#[tokio::test]
async fn an_acknowledged_upsert_is_readable_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir);
    let o = order(1, 1001, "anna@example.se", "2026-11-02T10:00:00Z");
    let r = store.upsert(vec![o.clone()]).await.expect("upsert");
    assert_eq!(
        r,
        WriteReport {
            applied: 1,
            stale: 0,
            ..WriteReport::default()
        }
    );
    assert_eq!(store.get(&o.key()).expect("get"), Some(o.clone()));
    assert_eq!(store.get("shop.example/2").expect("get"), None);
    assert_eq!(store.count(), 1);
}

#[tokio::test]
async fn lookup_normalises_what_shoppers_type() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir);
    store
        .upsert(vec![order(
            1,
            1001,
            "Anna@Example.SE",
            "2026-11-02T10:00:00Z",
        )])
        .await
        .expect("upsert");
    for email in ["anna@example.se", "  ANNA@example.se ", "Anna@Example.SE"] {
        let found = store.lookup(1001, email).expect("lookup");
        assert_eq!(found.map(|o| o.id), Some(1), "{email}");
    }
    assert_eq!(
        store.lookup(1001, "other@example.se").expect("lookup"),
        None
    );
    assert_eq!(store.lookup(1002, "anna@example.se").expect("lookup"), None);
}

#[tokio::test]
async fn the_newest_updated_at_wins() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir);
    let mut newer = order(1, 1001, "a@example.se", "2026-11-05T10:00:00Z");
    newer.financial_status = FinancialStatus::Refunded;
    let older = order(1, 1001, "a@example.se", "2026-11-03T10:00:00Z");
    store.upsert(vec![newer.clone()]).await.expect("upsert");
    let r = store.upsert(vec![older.clone()]).await.expect("upsert");
    assert_eq!(
        r,
        WriteReport {
            applied: 0,
            stale: 1,
            ..WriteReport::default()
        }
    );
    assert_eq!(store.get(&newer.key()).expect("get"), Some(newer.clone()));

    // Within one batch too, in either order.
    let dir2 = tempfile::tempdir().expect("tempdir");
    let store2 = open(&dir2);
    let r = store2
        .upsert(vec![newer.clone(), older.clone()])
        .await
        .expect("upsert");
    assert_eq!(
        r,
        WriteReport {
            applied: 1,
            stale: 1,
            ..WriteReport::default()
        }
    );
    assert_eq!(store2.get(&newer.key()).expect("get"), Some(newer.clone()));
    assert_eq!(store2.count(), 1);
}

#[tokio::test]
async fn upserting_the_same_order_twice_keeps_one_copy() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir);
    let o = order(1, 1001, "a@example.se", "2026-11-05T10:00:00Z");
    store.upsert(vec![o.clone()]).await.expect("upsert");
    store.upsert(vec![o.clone()]).await.expect("upsert");
    assert_eq!(store.count(), 1);
    assert_eq!(
        store.search(&SearchQuery::default()).expect("search").total,
        1
    );
}

#[tokio::test]
async fn the_same_id_in_two_shops_is_two_orders() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir);
    let a = order(1, 1001, "a@example.se", "2026-11-05T10:00:00Z");
    let mut b = a.clone();
    b.shop = "other.example".into();
    store
        .upsert(vec![a.clone(), b.clone()])
        .await
        .expect("upsert");
    assert_eq!(store.count(), 2);
    assert_eq!(store.get(&b.key()).expect("get"), Some(b));
}

#[tokio::test]
async fn delete_removes_and_reports() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir);
    let o = order(1, 1001, "a@example.se", "2026-11-05T10:00:00Z");
    store.upsert(vec![o.clone()]).await.expect("upsert");
    let r = store
        .delete(vec![o.key(), "shop.example/404".into()])
        .await
        .expect("delete");
    assert_eq!(r.applied, 1);
    assert_eq!(store.get(&o.key()).expect("get"), None);
    assert_eq!(store.lookup(1001, "a@example.se").expect("lookup"), None);
}

#[tokio::test]
async fn concurrent_writers_are_all_acknowledged_and_visible() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir);
    let mut tasks = Vec::new();
    for i in 1..=200u64 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let o = order(i, 1000 + i, "a@example.se", "2026-11-05T10:00:00Z");
            store.upsert(vec![o]).await.expect("upsert");
            // Acknowledged means visible to the next read.
            assert!(
                store
                    .lookup(1000 + i, "a@example.se")
                    .expect("lookup")
                    .is_some()
            );
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    assert_eq!(store.count(), 200);
}

#[tokio::test]
async fn data_survives_reopening() {
    let dir = tempfile::tempdir().expect("tempdir");
    let o = order(1, 1001, "a@example.se", "2026-11-05T10:00:00Z");
    {
        let store = open(&dir);
        store.upsert(vec![o.clone()]).await.expect("upsert");
    }
    // The writer thread releases its lock once the last handle is gone.
    let mut reopened = None;
    for _ in 0..100 {
        match Store::open(dir.path(), StoreOptions::default()) {
            Ok(s) => {
                reopened = Some(s);
                break;
            }
            Err(StoreError::Locked(_)) => {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await
            }
            Err(e) => panic!("reopen failed: {e}"),
        }
    }
    let store = reopened.expect("reopened");
    assert_eq!(store.get(&o.key()).expect("get"), Some(o));
}

#[tokio::test]
async fn a_second_owner_of_the_data_dir_gets_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let _first = open(&dir);
    let second = Store::open(dir.path(), StoreOptions::default());
    match second {
        Err(StoreError::Locked(p)) => {
            assert_eq!(p, dir.path());
            let msg = StoreError::Locked(p).to_string();
            assert!(
                msg.contains("in use by another order-status process"),
                "{msg}"
            );
        }
        other => panic!("expected Locked, got {other:?}"),
    }
}

async fn searchable_store(dir: &tempfile::TempDir) -> Store {
    let store = open(dir);
    let mut orders = Vec::new();
    for i in 1..=30u64 {
        let mut o = order(
            i,
            1000 + i,
            &format!("buyer{i}@example.com"),
            &format!("2026-11-{:02}T10:00:00Z", i % 28 + 1),
        );
        o.created_at = o.updated_at;
        if i % 3 == 0 {
            o.financial_status = FinancialStatus::Refunded;
        }
        if i == 7 {
            o.customer = Some(crate::order::Customer {
                first_name: Some("Björn".into()),
                last_name: Some("Nilsson".into()),
            });
            o.cancelled_at = o.updated_at;
        }
        orders.push(o);
    }
    store.upsert(orders).await.expect("upsert");
    store
}

fn text(t: &str) -> SearchQuery {
    SearchQuery {
        text: t.into(),
        ..SearchQuery::default()
    }
}

#[tokio::test]
async fn search_finds_by_each_kind_of_field() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = searchable_store(&dir).await;
    let ids = |q: SearchQuery| -> Vec<u64> {
        store
            .search(&q)
            .expect("search")
            .hits
            .iter()
            .map(|o| o.id)
            .collect()
    };
    assert_eq!(ids(text("#1007"))[0], 7, "order number ranks first");
    assert_eq!(ids(text("björn nilsson")), vec![7]);
    assert_eq!(ids(text("bjorn nilson")), vec![7], "a typo in each name");
    assert_eq!(ids(text("nilss")), vec![7], "the start of a name");
    assert_eq!(ids(text("buyer12@exam"))[0], 12, "part of an email");
    assert_eq!(
        ids(text(" Buyer12@Example.com ")),
        vec![12],
        "a whole address: exactly its orders, case and spaces aside"
    );
    assert_eq!(
        ids(text("buyer12@exampl.com"))[0],
        12,
        "an address not on file is searched by its words"
    );
    assert_eq!(ids(text("pn12se")), vec![12], "tracking number, any case");
    assert_eq!(store.search(&text("LS-42-BLUE")).expect("search").total, 30);
    assert_eq!(store.search(&text("göteborg")).expect("search").total, 30);
    assert_eq!(store.search(&text("vip")).expect("search").total, 30);
    assert_eq!(store.search(&text("nobody-here")).expect("search").total, 0);
}

#[tokio::test]
async fn hostile_queries_are_just_text() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = searchable_store(&dir).await;
    for q in [
        "\"unbalanced",
        "*:*",
        "title:(",
        "AND OR NOT",
        "))))",
        "🙂",
        "",
    ] {
        store
            .search(&text(q))
            .unwrap_or_else(|e| panic!("{q}: {e}"));
    }
    assert_eq!(store.search(&text("*:*")).expect("search").total, 0);
    assert_eq!(store.search(&text("")).expect("search").total, 30);
}

#[tokio::test]
async fn filters_sort_and_pages() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = searchable_store(&dir).await;
    let q = SearchQuery {
        filters: Filters {
            financial: Some(FinancialStatus::Refunded),
            ..Filters::default()
        },
        sort: Sort::UpdatedDesc,
        per_page: 4,
        ..SearchQuery::default()
    };
    let page0 = store.search(&q).expect("search");
    assert_eq!(page0.total, 10);
    assert_eq!(page0.hits.len(), 4);
    assert!(
        page0
            .hits
            .windows(2)
            .all(|w| w[0].updated_at >= w[1].updated_at)
    );
    let page2 = store
        .search(&SearchQuery {
            page: 2,
            ..q.clone()
        })
        .expect("search");
    assert_eq!(page2.hits.len(), 2);
    let far = store
        .search(&SearchQuery {
            page: 99,
            ..q.clone()
        })
        .expect("search");
    assert_eq!((far.total, far.hits.len()), (10, 0));

    let cancelled = SearchQuery {
        filters: Filters {
            state: Some(OrderState::Cancelled),
            ..Filters::default()
        },
        ..SearchQuery::default()
    };
    let r = store.search(&cancelled).expect("search");
    assert_eq!(r.hits.iter().map(|o| o.id).collect::<Vec<_>>(), vec![7]);

    let range = SearchQuery {
        filters: Filters {
            created_from: "2026-11-10T00:00:00Z".parse().ok(),
            created_to: "2026-11-12T00:00:00Z".parse().ok(),
            ..Filters::default()
        },
        ..SearchQuery::default()
    };
    // Days 10 and 11 of the month: i % 28 + 1 in {10, 11} -> i = 9, 10.
    let mut days: Vec<u64> = store
        .search(&range)
        .expect("search")
        .hits
        .iter()
        .map(|o| o.id)
        .collect();
    days.sort();
    assert_eq!(days, vec![9, 10]);
}

#[tokio::test]
async fn newest_first_pages_match_a_full_sort() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir);
    let now = chrono::Utc::now();
    let mut orders = Vec::new();
    for i in 1..=300u64 {
        // Ages from minutes to years, in no particular order.
        let age =
            chrono::Duration::minutes(((i * 7919) % 300) as i64 * (1 + (i % 5) as i64 * 4000));
        let mut o = order(i, 1000 + i, "a@example.se", "2026-11-05T10:00:00Z");
        o.updated_at = Some(now - age);
        o.created_at = o.updated_at;
        orders.push(o);
    }
    store.upsert(orders.clone()).await.expect("upsert");
    let mut expected: Vec<(Option<chrono::DateTime<chrono::Utc>>, u64)> =
        orders.iter().map(|o| (o.updated_at, o.id)).collect();
    expected.sort_by_key(|e| std::cmp::Reverse(e.0));
    for page in [0usize, 1, 7, 14] {
        let r = store
            .search(&SearchQuery {
                sort: Sort::UpdatedDesc,
                per_page: 20,
                page,
                ..SearchQuery::default()
            })
            .expect("search");
        assert_eq!(r.total, 300);
        let got: Vec<_> = r.hits.iter().map(|o| o.updated_at).collect();
        let want: Vec<_> = expected
            .iter()
            .skip(page * 20)
            .take(20)
            .map(|e| e.0)
            .collect();
        assert_eq!(got, want, "page {page}");
    }
}

#[tokio::test]
async fn counting_stops_at_the_limit_and_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = searchable_store(&dir).await;
    // A newer version of a refunded order: the old one is deleted, not
    // counted.
    let mut again = order(3, 1003, "buyer3@example.com", "2026-11-28T10:00:00Z");
    again.financial_status = FinancialStatus::Refunded;
    store.upsert(vec![again]).await.expect("upsert");
    let searcher = store.reader.searcher();
    let q = SearchQuery {
        filters: Filters {
            financial: Some(FinancialStatus::Refunded),
            ..Filters::default()
        },
        ..SearchQuery::default()
    };
    let query = super::query::Plan::new(&searcher, &store.fields, &store.typos, &q)
        .expect("query")
        .query(&store.fields);
    let count = |limit| super::query::count_up_to(&searcher, query.as_ref(), limit).expect("count");
    assert_eq!(count(100), (10, false));
    assert_eq!(count(10), (10, false));
    assert_eq!(count(9), (9, true));
    assert_eq!(count(0), (0, true));
    let r = store.search(&q).expect("search");
    assert_eq!((r.total, r.more), (10, false));
}

/// Under a stream of writes, commits come no closer than `commits_apart`
/// and the writes that came meanwhile share one; a lone write after a
/// quiet spell is committed without waiting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commits_keep_their_interval_and_writes_meanwhile_share_one() {
    let apart = std::time::Duration::from_secs(2);
    let dir = tempfile::tempdir().expect("tempdir");
    let options = StoreOptions {
        commits_apart: apart,
        ..StoreOptions::default()
    };
    let store = Store::open(dir.path(), options).expect("store opens");
    let write = |id: u64| {
        let store = store.clone();
        async move {
            let o = order(id, 1000 + id, "a@example.se", "2026-11-02T10:00:00Z");
            store.upsert(vec![o]).await.expect("upsert");
        }
    };
    let first = std::time::Instant::now();
    write(1).await;
    let (commits, _) = store.commit_stats();
    futures_util::future::join_all((2..=11).map(write)).await;
    assert!(
        first.elapsed() >= apart,
        "the next commit began {:?} after the last",
        first.elapsed()
    );
    assert_eq!(
        store.commit_stats().0,
        commits + 1,
        "ten writes, one commit"
    );
    tokio::time::sleep(apart).await;
    let lone = std::time::Instant::now();
    write(12).await;
    assert!(
        lone.elapsed() < apart,
        "a lone write waited {:?}",
        lone.elapsed()
    );
    assert_eq!(store.count(), 12);
}

/// A bulk change's keys: every live order the search matches, once, in
/// key order, whatever segment or shop it is in; none past the limit.
#[tokio::test]
async fn search_keys_gives_each_matching_order_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir);
    // Three commits (three segments), the same ids in a second shop, and
    // rewrites that leave deleted versions behind.
    for batch in [1..=30u64, 31..=60, 61..=90] {
        let orders: Vec<Order> = batch
            .flat_map(|i| {
                let mut other = order(i, 1000 + i, "b@example.se", "2026-11-02T10:00:00Z");
                other.shop = "other.example".into();
                [
                    order(i, 1000 + i, "a@example.se", "2026-11-02T10:00:00Z"),
                    other,
                ]
            })
            .collect();
        store.upsert(orders).await.expect("upsert");
    }
    let refunded: Vec<Order> = (1..=90u64)
        .filter(|i| i % 3 == 0)
        .map(|i| {
            let mut o = order(i, 1000 + i, "a@example.se", "2026-11-03T10:00:00Z");
            o.financial_status = FinancialStatus::Refunded;
            o
        })
        .collect();
    store.upsert(refunded).await.expect("rewrite");
    let q = SearchQuery {
        filters: Filters {
            financial: Some(FinancialStatus::Refunded),
            ..Filters::default()
        },
        ..SearchQuery::default()
    };
    let mut want: Vec<String> = (1..=90u64)
        .filter(|i| i % 3 == 0)
        .map(|i| crate::order::order_key("shop.example", i))
        .collect();
    want.sort();
    assert_eq!(store.search_keys(&q, 30).expect("keys"), (30, Some(want)));
    assert_eq!(store.search_keys(&q, 29).expect("keys"), (30, None));
    let (total, keys) = store.search_keys(&text("anna"), 1000).expect("keys");
    let keys = keys.expect("under the limit");
    assert_eq!((total, keys.len()), (180, 180));
    assert!(keys.windows(2).all(|w| w[0] < w[1]), "sorted, each once");
    assert!(keys.contains(&crate::order::order_key("other.example", 90)));
}

/// A store with more deleted orders than live ones (tantivy keeps them in
/// their segment until a merge): the listing must still end. Its first
/// window was once sized to nothing, since the estimate counts deleted
/// orders, and never widened.
#[tokio::test]
async fn a_listing_over_mostly_deleted_orders_ends() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir);
    // Each its own second; the one left is the oldest.
    let orders: Vec<Order> = (0..100u64)
        .map(|i| {
            let at = format!("2026-11-05T10:{:02}:{:02}Z", i / 60, i % 60);
            order(i + 1, 1001 + i, "a@example.se", &at)
        })
        .collect();
    store.upsert(orders.clone()).await.expect("upsert");
    let gone: Vec<String> = orders[1..].iter().map(Order::key).collect();
    store.delete(gone).await.expect("delete");
    // On a thread of its own, so that a listing that never ends fails the
    // test instead of hanging it.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(store.search(&SearchQuery {
            per_page: 1,
            ..SearchQuery::default()
        }));
    });
    let r = rx
        .recv_timeout(std::time::Duration::from_secs(20))
        .expect("the listing ends")
        .expect("search");
    assert_eq!((r.total, r.more, r.hits.len()), (1, false, 1));
}

/// The "now" of the newest-first tests: their orders are dated back from
/// it.
fn newest_first_base() -> chrono::DateTime<chrono::Utc> {
    use chrono::TimeZone;
    chrono::Utc
        .with_ymd_and_hms(2026, 11, 20, 12, 0, 0)
        .single()
        .expect("valid time")
}

/// The 20 newest orders of `filters` by update, by windows (a window's
/// order priced at `cost` walk matches) and by the walk: the same page
/// both ways, and the windows' answer.
fn newest_both_ways(store: &Store, filters: Filters, cost: u64) -> super::newest::Newest {
    use super::newest::newest_at_cost;
    let searcher = store.reader.searcher();
    let q = SearchQuery {
        filters,
        sort: Sort::UpdatedDesc,
        ..SearchQuery::default()
    };
    let query = super::query::Plan::new(&searcher, &store.fields, &store.typos, &q)
        .expect("query")
        .query(&store.fields);
    let field = store.fields.updated_at;
    let windows =
        newest_at_cost(&searcher, query.as_ref(), field, 20, Some(cost)).expect("windows");
    let walked = newest_at_cost(&searcher, query.as_ref(), field, 20, None).expect("walk");
    assert_eq!(windows.hits, walked.hits, "the same page both ways");
    windows
}

/// The newest-first listing walks windows of time for broad queries and
/// the matches for narrow ones. Both must give what a full sort gives,
/// across segments, replaced versions (deleted documents), filters, text,
/// orders without a date and orders updated in the same second.
#[tokio::test]
async fn newest_first_is_exact_both_ways() {
    use super::newest::{Way, newest_at_cost};
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir);
    let base = newest_first_base();
    // Most within the last day, some months back, a few years back; every
    // 25th shares its second with the one before.
    let age = |i: u64| -> i64 {
        let i = if i % 25 == 1 { i - 1 } else { i };
        let secs = match i % 10 {
            0..=6 => (i * 37) % 86_400,
            7 | 8 => 86_400 + (i * 7_919) % (86_400 * 200),
            _ => (i * 104_729) % (86_400 * 900),
        };
        secs as i64
    };
    // Words with many prefix words: "lina" stands for 40 (a few as terms,
    // the rest one term set), "ulla" for 300 (tantivy's prefix query).
    let email = |i: u64| match i % 3 {
        0 => format!("lina{}@example.se", i % 40),
        1 => format!("ulla{}@example.se", i % 300),
        _ => "a@example.se".to_string(),
    };
    let make = |i: u64, newer: bool| {
        let mut o = order(i, 1000 + i, &email(i), "2026-11-05T10:00:00Z");
        let a = if newer { age(i) / 3 } else { age(i) };
        o.updated_at = (i % 97 != 5).then(|| base - chrono::Duration::seconds(a));
        o.created_at = Some(base - chrono::Duration::seconds(age(i) + 3_600));
        if i.is_multiple_of(3) {
            o.financial_status = FinancialStatus::Refunded;
        }
        if i.is_multiple_of(7) {
            o.cancelled_at = o.created_at;
        }
        o
    };
    let mut all = std::collections::BTreeMap::new();
    for batch in 0..6u64 {
        let orders: Vec<Order> = (batch * 500..(batch + 1) * 500)
            .map(|i| make(i, false))
            .collect();
        for o in &orders {
            all.insert(o.id, o.clone());
        }
        store.upsert(orders).await.expect("upsert");
    }
    for part in 0..2u64 {
        let orders: Vec<Order> = (0..3_000u64)
            .filter(|i| i % 4 == part && i % 97 != 5)
            .map(|i| make(i, true))
            .collect();
        for o in &orders {
            all.insert(o.id, o.clone());
        }
        store.upsert(orders).await.expect("upsert");
    }
    let searcher = store.reader.searcher();
    assert!(
        searcher.segment_readers().len() > 1,
        "the test means several segments"
    );
    type Keep = fn(&Order) -> bool;
    type DateOf = fn(&Order) -> Option<chrono::DateTime<chrono::Utc>>;
    let listing = |filters: Filters, sort: Sort| SearchQuery {
        filters,
        sort,
        ..SearchQuery::default()
    };
    let paid = Filters {
        financial: Some(FinancialStatus::Paid),
        ..Filters::default()
    };
    let refunded = Filters {
        financial: Some(FinancialStatus::Refunded),
        ..Filters::default()
    };
    let state = |s| Filters {
        state: Some(s),
        ..Filters::default()
    };
    let cases: Vec<(SearchQuery, Keep)> = vec![
        (SearchQuery::default(), |_| true),
        (listing(paid, Sort::UpdatedDesc), |o| {
            o.financial_status == FinancialStatus::Paid
        }),
        (listing(refunded, Sort::CreatedDesc), |o| {
            o.financial_status == FinancialStatus::Refunded
        }),
        (
            listing(state(OrderState::Cancelled), Sort::UpdatedDesc),
            |o| o.state() == OrderState::Cancelled,
        ),
        (
            SearchQuery {
                text: "anna".into(),
                ..listing(state(OrderState::Open), Sort::UpdatedDesc)
            },
            |o| o.state() == OrderState::Open,
        ),
        (
            SearchQuery {
                text: "lina".into(),
                ..listing(state(OrderState::Open), Sort::UpdatedDesc)
            },
            |o| o.state() == OrderState::Open && o.email.starts_with("lina"),
        ),
        (
            SearchQuery {
                text: "ulla".into(),
                ..listing(Filters::default(), Sort::CreatedDesc)
            },
            |o| o.email.starts_with("ulla"),
        ),
        (
            SearchQuery {
                text: "nosuchword".into(),
                ..listing(Filters::default(), Sort::UpdatedDesc)
            },
            |_| false,
        ),
    ];
    let mut windows_used = 0;
    for (q, keep) in &cases {
        let (field, date): (_, DateOf) = if q.sort == Sort::CreatedDesc {
            (store.fields.created_at, |o| o.created_at)
        } else {
            (store.fields.updated_at, |o| o.updated_at)
        };
        let query = super::query::Plan::new(&searcher, &store.fields, &store.typos, q)
            .expect("query")
            .query(&store.fields);
        let mut want: Vec<_> = all.values().filter(|o| keep(o)).map(date).collect();
        // Newest first; orders without the date last.
        want.sort_by(|a, b| b.cmp(a));
        for need in [1usize, 20, 140, 3_100] {
            let windows =
                newest_at_cost(&searcher, query.as_ref(), field, need, Some(1)).expect("windows");
            let walked =
                newest_at_cost(&searcher, query.as_ref(), field, need, None).expect("walk");
            assert_eq!(walked.way, Way::Walk);
            assert_eq!(walked.counted, Some(want.len()), "{q:?}: the walk counts");
            if windows.way == Way::Windows {
                windows_used += 1;
            }
            assert_eq!(windows.hits, walked.hits, "{q:?} need {need}");
            let walked = walked.hits;
            let got: Vec<_> = walked
                .iter()
                .map(|a| load(&searcher, &store.fields, *a).map(|o| date(&o)))
                .collect::<Result<_, _>>()
                .expect("load");
            let want: Vec<_> = want.iter().take(need).copied().collect();
            assert_eq!(got, want, "{q:?} need {need}");
        }
    }
    assert!(windows_used >= 8, "windows were used {windows_used} times");
}

/// A burst of writes in one second (webhooks, a bulk change) makes a small
/// segment whose orders share their date. A listing that matches none of
/// them must look further back in the next window, not at that second
/// again: it pinned every window there, and under writes every listing
/// walked the whole store (1.4 s at 100,000 orders in a debug build).
#[tokio::test]
async fn a_burst_in_one_second_does_not_pin_the_windows() {
    use super::newest::Way;
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir);
    let base = newest_first_base();
    let open_orders: Vec<Order> = (0..1_900u64)
        .map(|i| {
            let mut o = order(i, 1000 + i, "a@example.se", "2026-11-05T10:00:00Z");
            o.updated_at = Some(base - chrono::Duration::seconds(60 + i as i64 * 60));
            o
        })
        .collect();
    store.upsert(open_orders).await.expect("upsert");
    let burst: Vec<Order> = (1_900..2_000u64)
        .map(|i| {
            let mut o = order(i, 1000 + i, "b@example.se", "2026-11-05T10:00:00Z");
            o.updated_at = Some(base);
            o.cancelled_at = Some(base);
            o
        })
        .collect();
    store.upsert(burst).await.expect("upsert");
    let searcher = store.reader.searcher();
    assert_eq!(
        searcher.segment_readers().len(),
        2,
        "two commits, two segments"
    );
    // A window's order costs what a match of the walk does: the windows
    // stay cheaper only if each reaches past the burst's second.
    let open = Filters {
        state: Some(OrderState::Open),
        ..Filters::default()
    };
    let windows = newest_both_ways(&store, open, 1);
    assert_eq!(
        windows.way,
        Way::Windows,
        "the second window reached past the burst"
    );
    let newest = load(&searcher, &store.fields, windows.hits[0]).expect("load");
    assert_eq!(newest.id, 0, "the newest open order");
}

/// Webhooks leave small segments that hold only the newest orders. Such a
/// segment's share of a window (by its size) is a few orders, reached a
/// few seconds back: a window started there held almost nothing, and so
/// did every one after it, until the search walked. A listing whose
/// matches are all older than that segment must still be answered by
/// windows, each holding about its target.
#[tokio::test]
async fn a_small_segment_of_the_newest_orders_does_not_shrink_the_windows() {
    use super::newest::Way;
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir);
    let base = newest_first_base();
    // An import: 4,000 orders a minute apart, the last an hour ago; one
    // in four refunded.
    let imported: Vec<Order> = (0..4_000u64)
        .map(|i| {
            let mut o = order(i, 1000 + i, "a@example.se", "2026-11-05T10:00:00Z");
            o.updated_at = Some(base - chrono::Duration::minutes(60 + i as i64));
            if i % 4 == 0 {
                o.financial_status = FinancialStatus::Refunded;
            }
            o
        })
        .collect();
    store.upsert(imported).await.expect("upsert");
    // Then webhooks: ten new orders in the last ten seconds, none refunded.
    let recent: Vec<Order> = (4_000..4_010u64)
        .map(|i| {
            let mut o = order(i, 1000 + i, "b@example.se", "2026-11-05T10:00:00Z");
            o.updated_at = Some(base - chrono::Duration::seconds((i - 4_000) as i64));
            o
        })
        .collect();
    store.upsert(recent).await.expect("upsert");
    let searcher = store.reader.searcher();
    assert_eq!(searcher.segment_readers().len(), 2, "two segments");
    // 1,000 matches at a cost of 4 a window's order: windows may read 250
    // orders before the walk is cheaper. The 20 newest refunded orders are
    // among the newest 80 imported ones, so a first window that holds its
    // target (160 orders) answers.
    let refunded = Filters {
        financial: Some(FinancialStatus::Refunded),
        ..Filters::default()
    };
    let windows = newest_both_ways(&store, refunded, 4);
    assert_eq!(windows.way, Way::Windows, "the windows answered");
    let newest = load(&searcher, &store.fields, windows.hits[0]).expect("load");
    assert_eq!(newest.id, 0, "the newest refunded order");
}

/// Thousands of orders in one second, across segments (a bulk change; the
/// demo's whole minutes): that second is asked in address order and stops
/// at the page's last order. It must still give what the walk gives, for
/// pages that end inside the second, at its end and past it.
#[tokio::test]
async fn a_second_of_thousands_of_orders_gives_the_walks_page() {
    use super::newest::{Way, newest_at_cost};
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir);
    let base = newest_first_base();
    // Three segments; in each, 2,000 orders at `base` and 1,000 older
    // ones, a second apart, some of them also at the same second.
    for batch in 0..3u64 {
        let orders: Vec<Order> = (batch * 3_000..(batch + 1) * 3_000)
            .map(|i| {
                let mut o = order(i, 1000 + i, "a@example.se", "2026-11-05T10:00:00Z");
                let age = if i % 3_000 < 2_000 {
                    0
                } else {
                    60 + (i % 3_000 - 2_000) as i64 / 2
                };
                o.updated_at = Some(base - chrono::Duration::seconds(age));
                if i % 5 == 0 {
                    o.financial_status = FinancialStatus::Refunded;
                }
                o
            })
            .collect();
        store.upsert(orders).await.expect("upsert");
    }
    // Some of the second's orders written again: deleted versions inside it.
    let again: Vec<Order> = (0..6_000u64)
        .step_by(7)
        .filter(|i| i % 3_000 < 2_000)
        .map(|i| {
            let mut o = order(i, 1000 + i, "a@example.se", "2026-11-05T10:00:00Z");
            o.updated_at = Some(base);
            o.financial_status = FinancialStatus::Refunded;
            o
        })
        .collect();
    store.upsert(again).await.expect("upsert");
    let searcher = store.reader.searcher();
    assert!(searcher.segment_readers().len() >= 3, "several segments");
    let refunded = SearchQuery {
        filters: Filters {
            financial: Some(FinancialStatus::Refunded),
            ..Filters::default()
        },
        sort: Sort::UpdatedDesc,
        ..SearchQuery::default()
    };
    for q in [refunded, SearchQuery::default()] {
        let query = super::query::Plan::new(&searcher, &store.fields, &store.typos, &q)
            .expect("query")
            .query(&store.fields);
        let field = store.fields.updated_at;
        for need in [1usize, 20, 500, 1_400, 2_500, 6_500] {
            // Windows priced at nothing: taken whenever they can answer.
            let windows =
                newest_at_cost(&searcher, query.as_ref(), field, need, Some(0)).expect("windows");
            let walked =
                newest_at_cost(&searcher, query.as_ref(), field, need, None).expect("walk");
            assert_eq!(windows.hits, walked.hits, "{q:?} need {need}");
            if need <= 500 {
                assert_eq!(windows.way, Way::Windows, "{q:?} need {need}");
            }
        }
    }
}

#[tokio::test]
async fn the_write_hook_changes_the_very_version_that_is_committed() {
    use crate::order::mail_log::{Detected, MailEvent, MailUpdate, apply_update};
    let dir = tempfile::tempdir().expect("tempdir");
    // A hook that queues a message for every second version of an order.
    let hook = WriteHook(std::sync::Arc::new(
        |old: Option<&Order>, new: &mut Order, now: chrono::DateTime<chrono::Utc>| {
            if old.is_some() {
                let d = Detected {
                    key: format!("shipped:{}", new.updated_at.map_or(0, |t| t.timestamp())),
                    event: MailEvent::Shipped,
                    part: None,
                    detail: None,
                    at: None,
                };
                apply_update(&mut new.mail, MailUpdate::Queue(d.message(now)));
            }
        },
    ));
    let options = StoreOptions {
        on_write: Some(hook),
        ..StoreOptions::default()
    };
    let store = Store::open(dir.path(), options).expect("store opens");
    let first = order(1, 1001, "anna@example.se", "2026-11-02T10:00:00Z");
    store.upsert(vec![first.clone()]).await.expect("upsert");
    assert!(
        store.mail_queued(10).expect("queue").is_empty(),
        "a first version queues nothing"
    );
    let second = order(1, 1001, "anna@example.se", "2026-11-03T10:00:00Z");
    store.upsert(vec![second]).await.expect("upsert");
    let queued = store.mail_queued(10).expect("queue");
    assert_eq!(
        queued.len(),
        1,
        "found by the index term in the same commit"
    );
    assert_eq!(queued[0].mail.messages.len(), 1);
    // An outcome folded in: no longer queued, and kept through the next
    // version from outside.
    let key = first.key();
    let msg = queued[0].mail.messages[0].key.clone();
    store
        .apply(vec![Change::Mail {
            key: key.clone(),
            update: MailUpdate::Outcome {
                key: msg.clone(),
                state: crate::order::MailState::Sent,
                at: chrono::Utc::now(),
                attempts: 1,
                note: None,
            },
        }])
        .await
        .expect("fold");
    assert!(store.mail_queued(10).expect("queue").is_empty());
    let third = order(1, 1001, "anna@example.se", "2026-11-04T10:00:00Z");
    store.upsert(vec![third]).await.expect("upsert");
    let stored = store.get(&key).expect("get").expect("there");
    let sent: Vec<_> = stored
        .mail
        .messages
        .iter()
        .filter(|m| m.state == crate::order::MailState::Sent)
        .map(|m| m.key.clone())
        .collect();
    assert_eq!(sent, [msg], "the log survives a replace");
    assert_eq!(
        stored.mail.messages.len(),
        2,
        "the third version queued its own"
    );
}

/// A log in memory that hands each entry to a follower applying it to
/// `followers` stores, as the JetStream consumer of every replica does.
struct MemLog {
    entries: std::sync::Mutex<Vec<Vec<u8>>>,
    tx: tokio::sync::mpsc::UnboundedSender<(u64, Vec<u8>)>,
}

impl log::ChangeLog for MemLog {
    fn append(
        &self,
        entry: Vec<u8>,
    ) -> futures_util::future::BoxFuture<'static, Result<u64, StoreError>> {
        let mut entries = self.entries.lock().expect("lock");
        entries.push(entry.clone());
        let seq = entries.len() as u64;
        let _ = self.tx.send((seq, entry));
        Box::pin(async move { Ok(seq) })
    }
}

fn follow(stores: Vec<Store>) -> (std::sync::Arc<MemLog>, tokio::task::JoinHandle<()>) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(u64, Vec<u8>)>();
    let log = std::sync::Arc::new(MemLog {
        entries: std::sync::Mutex::default(),
        tx,
    });
    let task = tokio::spawn(async move {
        while let Some((seq, entry)) = rx.recv().await {
            for s in &stores {
                let (w, _) = s.submit_logged(seq, &entry).await.expect("queued");
                let r = w.committed().await;
                s.log_entry_done(seq, r);
            }
        }
    });
    (log, task)
}

#[tokio::test]
async fn a_logged_write_is_applied_once_in_order_and_read_back_by_its_writer() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir);
    let (log, task) = follow(vec![store.clone()]);
    store.set_log(log.clone());
    let o = order(1, 1001, "anna@example.se", "2026-11-02T10:00:00Z");
    let r = store.upsert(vec![o.clone()]).await.expect("upsert");
    assert_eq!(r.applied, 1);
    assert_eq!(store.get(&o.key()).expect("get"), Some(o.clone()));
    assert_eq!(store.log_applied(), 1);
    // Entry 1 delivered again (a redelivery): passed over.
    let entry = log.entries.lock().expect("lock")[0].clone();
    let (again, readable) = store.submit_logged(1, &entry).await.expect("queued");
    assert!(readable);
    assert_eq!(again.committed().await.expect("ok"), WriteReport::default());
    // Entry 3 before entry 2 (a gap): refused until 2 is in.
    let (early, _) = store.submit_logged(3, &entry).await.expect("queued");
    assert!(matches!(
        early.committed().await,
        Err(StoreError::Unavailable)
    ));
    assert_eq!(store.log_applied(), 1);
    task.abort();
    let _ = task.await;
    store.set_log(log); // no-op: the first log stays
    store.close(std::time::Duration::from_secs(5)).await;
    // The index remembers how much of the log it holds.
    let reopened = open(&dir);
    assert_eq!(reopened.log_applied(), 1);
    assert_eq!(reopened.count(), 1);
}

#[tokio::test]
async fn replicas_applying_one_log_with_a_clocked_hook_end_up_alike() {
    use crate::order::mail_log::{Detected, MailEvent, MailUpdate, apply_update};
    // A hook that writes its "now" into the order, as the mail detection
    // and the status rules do.
    let hook = WriteHook(std::sync::Arc::new(
        |old: Option<&Order>, new: &mut Order, now: chrono::DateTime<chrono::Utc>| {
            if old.is_some() {
                let d = Detected {
                    key: "shipped:1".into(),
                    event: MailEvent::Shipped,
                    part: None,
                    detail: None,
                    at: None,
                };
                apply_update(&mut new.mail, MailUpdate::Queue(d.message(now)));
            }
        },
    ));
    let with_hook = || StoreOptions {
        on_write: Some(hook.clone()),
        ..StoreOptions::default()
    };
    let dirs = [
        tempfile::tempdir().expect("a"),
        tempfile::tempdir().expect("b"),
    ];
    let a = Store::open(dirs[0].path(), with_hook()).expect("a");
    let b = Store::open(dirs[1].path(), with_hook()).expect("b");
    let (log, task) = follow(vec![a.clone(), b.clone()]);
    a.set_log(log);
    let o = order(1, 1001, "anna@example.se", "2026-11-02T10:00:00Z");
    a.upsert(vec![o.clone()]).await.expect("first");
    let mut later = o.clone();
    later.updated_at = Some("2026-11-03T10:00:00Z".parse().expect("time"));
    a.upsert(vec![later]).await.expect("second");
    // b applies after a; give it a moment.
    for _ in 0..100 {
        if b.log_applied() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let (ga, gb) = (a.get(&o.key()).expect("a"), b.get(&o.key()).expect("b"));
    assert!(ga.as_ref().is_some_and(|o| !o.mail.messages.is_empty()));
    assert_eq!(ga, gb);
    task.abort();
}

#[tokio::test]
async fn a_snapshot_taken_while_writing_opens_with_its_orders_and_log_position() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir);
    let (log, task) = follow(vec![store.clone()]);
    store.set_log(log);
    for i in 1..=5 {
        let o = order(i, 1000 + i, "anna@example.se", "2026-11-02T10:00:00Z");
        store.upsert(vec![o]).await.expect("upsert");
    }
    let dest = tempfile::tempdir().expect("dest");
    let target = dest.path().join("index");
    // Writes go on while the snapshot is taken.
    let writing = {
        let store = store.clone();
        tokio::spawn(async move {
            for i in 6..=40 {
                let o = order(i, 1000 + i, "bo@example.se", "2026-11-02T10:00:00Z");
                store.upsert(vec![o]).await.expect("upsert");
            }
        })
    };
    let snap = tokio::task::spawn_blocking({
        let (src, target) = (dir.path().to_path_buf(), target.clone());
        move || snapshot::take(&src, &target)
    })
    .await
    .expect("joined")
    .expect("snapshot");
    writing.await.expect("writes");
    assert!(snap.log_seq >= 5, "{snap:?}");
    assert!(
        snapshot::take(dir.path(), &target).is_err(),
        "never over an existing directory"
    );
    let copy = Store::open(dest.path(), StoreOptions::default()).expect("opens");
    assert_eq!(copy.count(), snap.orders);
    assert_eq!(copy.log_applied(), snap.log_seq);
    // One logged write is one order here, so the position is the count.
    assert_eq!(snap.orders, snap.log_seq);
    assert!(copy.get("shop.example/3").expect("get").is_some());
    task.abort();
}

/// A broad ranked search stops scoring every match and ranks each tier
/// by WAND, checking each order it offers against the tier's words and
/// filters. Forced onto that way (a count limit of 0), it must give the
/// very page walking every match gives: across segments and replaced
/// versions, for exact words, prefixes, typos, filters and an exact
/// order number, and pages that reach into the prefix and typo tier.
#[tokio::test]
async fn pruned_ranking_finds_the_page_a_full_walk_finds() {
    use super::rank::ranked;
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir);
    let firsts = ["Anna", "Annika", "Björn", "Erik", "Maria", "Anneli"];
    let lasts = ["Lindqvist", "Nilsson", "Berg"];
    let cities = ["Stockholm", "Göteborg", "Malmö", "Uppsala"];
    let items = [
        "Linen shirt",
        "Linen trousers",
        "Wool beanie",
        "Ceramic mug",
        "Running shoes",
    ];
    let make = |i: u64, version: u64| -> Order {
        let first = firsts[(i % 6) as usize];
        let last = lasts[(i / 6 % 3) as usize];
        let lines: Vec<_> = (0..1 + (i * 7 + version) % 4)
            .map(|k| {
                json!({"id": k + 1, "title": items[((i + k * 3) % 5) as usize],
                       "sku": format!("SKU-{}", (i + k) % 9), "quantity": 1})
            })
            .collect();
        serde_json::from_value(json!({
            "shop": "shop.example", "id": i, "order_number": 1000 + i, "name": format!("#{}", 1000 + i),
            "email": format!("{}.{}{}@example.se", first.to_lowercase(), last.to_lowercase(), i % 100),
            "updated_at": format!("2026-11-{:02}T10:00:00Z", 1 + version),
            "created_at": "2026-11-01T10:00:00Z",
            "financial_status": if i.is_multiple_of(3) { "refunded" } else { "paid" },
            "customer": {"first_name": first, "last_name": last},
            "shipping_address": {"city": cities[(i / 18 % 4) as usize], "country": "Sweden"},
            "line_items": lines,
            "fulfillments": [{"id": 9, "tracking_numbers": [format!("PN{i}SE")]}]
        }))
        .expect("valid order")
    };
    for batch in 0..6u64 {
        let orders = (batch * 500..(batch + 1) * 500)
            .map(|i| make(i, 0))
            .collect();
        store.upsert(orders).await.expect("upsert");
    }
    let replaced = (0..3_000u64).filter(|i| i % 4 == 1).map(|i| make(i, 1));
    store.upsert(replaced.collect()).await.expect("upsert");
    let searcher = store.reader.searcher();
    assert!(searcher.segment_readers().len() > 1, "several segments");
    let refunded = Filters {
        financial: Some(FinancialStatus::Refunded),
        ..Filters::default()
    };
    let cases = [
        ("linen shirt", Filters::default()),
        ("anna stockholm", Filters::default()),
        ("anna", Filters::default()),
        ("lindqvst", Filters::default()),
        // "lindqvist0" to "lindqvist99" from the emails: most in one set.
        ("lindqvist stockholm", Filters::default()),
        ("linen", refunded.clone()),
        ("mug göteborg", refunded),
        ("#1005", Filters::default()),
        ("pn12se", Filters::default()),
    ];
    for (text, filters) in cases {
        let q = SearchQuery {
            text: text.into(),
            filters,
            ..SearchQuery::default()
        };
        let plan =
            super::query::Plan::new(&searcher, &store.fields, &store.typos, &q).expect("plan");
        let query = plan.query(&store.fields);
        let tiers = plan.tiers(&store.fields).expect("words");
        assert!(tiers.rest.scoring.is_some(), "{text}: every term listed");
        for need in [1usize, 20, 137] {
            let walk =
                ranked(&searcher, query.as_ref(), Some(&tiers), need, usize::MAX).expect("walk");
            let wand = ranked(&searcher, query.as_ref(), Some(&tiers), need, 0).expect("wand");
            assert!(!walk.more && walk.total > 0, "{text}: the walk counts all");
            assert!(wand.more, "{text}: a limit of 0 ranks by WAND");
            assert_eq!(wand.hits, walk.hits, "{text}, {need} wanted");
            assert_eq!(walk.hits.len(), need.min(walk.total), "{text}");
        }
    }
    // Through the store, the exact number still ranks first.
    let hits = store.search(&text("#1005")).expect("search").hits;
    assert_eq!(hits.first().map(|o| o.order_number), Some(1005));
}

/// A word that starts hundreds of indexed words is not listed term by
/// term: it falls back to tantivy's prefix query, and finds them all.
#[tokio::test]
async fn a_word_starting_hundreds_of_others_still_finds_them_all() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir);
    let orders = (0..300u64)
        .map(|i| {
            let email = format!("zed{i}@example.com");
            order(i, 1000 + i, &email, "2026-11-02T10:00:00Z")
        })
        .collect();
    store.upsert(orders).await.expect("upsert");
    let searcher = store.reader.searcher();
    let plan = super::query::Plan::new(&searcher, &store.fields, &store.typos, &text("zed"))
        .expect("plan");
    let tiers = plan.tiers(&store.fields).expect("words");
    assert!(tiers.rest.scoring.is_none(), "too many words to list");
    let found = store.search(&text("zed")).expect("search");
    assert_eq!((found.total, found.more), (300, false));
    let found = store.search(&text("zed12")).expect("search");
    assert_eq!(found.total, 11, "zed12 and zed120 to zed129");
}

/// A word's prefix and typo matches rank below the word itself, however
/// rare they are: BM25 alone would put a one-off "annaxyz" from an email
/// above every order with the name Anna.
#[tokio::test]
async fn the_typed_word_outranks_rarer_words_it_starts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir);
    let mut orders: Vec<Order> = (1..=40u64)
        .map(|i| order(i, 1000 + i, "buyer@example.com", "2026-11-02T10:00:00Z"))
        .collect();
    let mut maria = order(99, 1099, "annaxyz@example.com", "2026-11-02T10:00:00Z");
    maria.customer = Some(crate::order::Customer {
        first_name: Some("Maria".into()),
        last_name: Some("Berg".into()),
    });
    orders.push(maria);
    store.upsert(orders).await.expect("upsert");
    let q = SearchQuery {
        per_page: 100,
        ..text("anna")
    };
    let ids: Vec<u64> = store
        .search(&q)
        .expect("search")
        .hits
        .iter()
        .map(|o| o.id)
        .collect();
    assert_eq!(ids.len(), 41, "the prefix match is found");
    assert_eq!(ids.last(), Some(&99), "and ranked last: {ids:?}");
}

/// The kept, decoded orders of `get_shared` never hide a newer version or
/// a deletion, however often the old one was opened.
#[tokio::test]
async fn a_shared_order_is_always_the_stored_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir);
    let first = order(1, 1001, "anna@example.se", "2026-11-02T10:00:00Z");
    store.upsert(vec![first.clone()]).await.expect("upsert");
    let a = store.get_shared(&first.key()).expect("get").expect("there");
    let b = store.get_shared(&first.key()).expect("get").expect("there");
    assert_eq!(*a, first);
    assert!(Arc::ptr_eq(&a, &b), "opened again, not decoded again");

    let mut newer = first.clone();
    newer.updated_at = Some("2026-11-03T10:00:00Z".parse().expect("time"));
    newer.tags = vec!["moved".into()];
    store.upsert(vec![newer.clone()]).await.expect("upsert");
    let c = store.get_shared(&first.key()).expect("get").expect("there");
    assert_eq!(*c, newer, "the newer version, not the kept one");

    store.delete(vec![first.key()]).await.expect("delete");
    assert_eq!(store.get_shared(&first.key()).expect("get"), None);
}

/// Every rewrite leaves a deleted version behind; a segment whose deleted
/// share passes the threshold is rewritten without them, one too big for
/// the ordinary merges included.
#[tokio::test]
async fn deleted_versions_are_merged_away_in_big_segments_too() {
    let dir = tempfile::tempdir().expect("tempdir");
    let options = StoreOptions {
        merge_max_orders: 50,
        ..StoreOptions::default()
    };
    let store = Store::open(dir.path(), options).expect("store opens");
    // One segment of 200 orders, over the 50 an ordinary merge takes.
    let orders: Vec<Order> = (1..=200)
        .map(|i| order(i, 1000 + i, "a@example.se", "2026-11-02T10:00:00Z"))
        .collect();
    store.upsert(orders.clone()).await.expect("upsert");
    // 120 of them rewritten: 60% of the big segment is deleted versions.
    let newer: Vec<Order> = orders
        .iter()
        .take(120)
        .map(|o| {
            let mut o = o.clone();
            o.updated_at = Some("2026-11-03T10:00:00Z".parse().expect("time"));
            o
        })
        .collect();
    store.upsert(newer).await.expect("rewrite");
    // Closing waits for the merges in progress.
    store.close(std::time::Duration::from_secs(60)).await;
    let index = tantivy::Index::open_in_dir(dir.path().join("index")).expect("index");
    let metas = index.searchable_segment_metas().expect("segments");
    let live: u32 = metas.iter().map(|m| m.num_docs()).sum();
    let deleted: u32 = metas.iter().map(|m| m.num_deleted_docs()).sum();
    assert_eq!(live, 200);
    assert!(
        deleted as f32 <= merges::DELETED_SHARE * (live + deleted) as f32,
        "{deleted} deleted versions kept beside {live} orders"
    );
}

/// A bulk write ends by merging its small segments into one: every order
/// still there, once, and the big segments left alone.
#[tokio::test]
async fn compact_merges_the_small_segments_into_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Segments as a bulk write leaves them: its merges cut off.
    let unmerged = StoreOptions {
        merge_factor: 100,
        ..StoreOptions::default()
    };
    let store = Store::open(dir.path(), unmerged).expect("store opens");
    // Four commits: segments of 5, 2, 2 and 6 orders.
    for batch in [1..=5, 6..=7, 8..=9, 10..=15] {
        let orders: Vec<Order> = batch
            .map(|i| order(i, 1000 + i, "a@example.se", "2026-11-02T10:00:00Z"))
            .collect();
        store.upsert(orders).await.expect("upsert");
    }
    // A rewrite leaves a deleted version in the first segment (a fifth of
    // it: under the share the server's policy merges for).
    let mut newer = order(1, 1001, "a@example.se", "2026-11-02T10:00:00Z");
    newer.updated_at = Some("2026-11-03T10:00:00Z".parse().expect("time"));
    store.upsert(vec![newer.clone()]).await.expect("rewrite");
    store.close(std::time::Duration::from_secs(60)).await;
    let segments = |dir: &tempfile::TempDir| {
        let index = tantivy::Index::open_in_dir(dir.path().join("index")).expect("index");
        let mut sizes: Vec<(u32, u32)> = index
            .searchable_segment_metas()
            .expect("segments")
            .iter()
            .map(|m| (m.num_docs(), m.num_deleted_docs()))
            .collect();
        sizes.sort_unstable();
        sizes
    };
    let before = segments(&dir);
    assert_eq!(before.len(), 5, "{before:?}");
    assert_eq!(before.iter().map(|s| s.0).sum::<u32>(), 15);

    // Segments under 6 orders (deleted versions counted) become one; the
    // one of 6 stays.
    let done = compact(dir.path(), 6).expect("compact");
    assert_eq!((done.before, done.after), (5, 2));
    assert_eq!(
        segments(&dir),
        [(6, 0), (9, 0)],
        "the deleted version dropped"
    );
    // The merged segments' files are gone from the disk, not only from
    // the index's list (a 1,000,000-order import left 134 MB of them).
    let index = tantivy::Index::open_in_dir(dir.path().join("index")).expect("index");
    let kept: std::collections::HashSet<String> = index
        .searchable_segment_ids()
        .expect("segments")
        .iter()
        .map(|id| id.uuid_string())
        .collect();
    let left: Vec<String> = std::fs::read_dir(dir.path().join("index"))
        .expect("index dir")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| {
            let segment = name.split('.').next().unwrap_or_default();
            segment.len() == 32 && !kept.contains(segment)
        })
        .collect();
    assert!(left.is_empty(), "files of merged segments left: {left:?}");
    let store = open(&dir);
    assert_eq!(store.count(), 15);
    assert_eq!(store.get(&newer.key()).expect("get"), Some(newer));
    // Nothing small left: nothing to do.
    store.close(std::time::Duration::from_secs(60)).await;
    assert_eq!(compact(dir.path(), 6).expect("again").after, 2);
}
