//! What the sender does with an offer from the shared outbox when this
//! replica's index is behind the one that offered it.

use super::*;
use crate::order::MailEvent;

/// A sender over a fresh store in `dir`, writing emails as files.
fn sender(dir: &Path) -> Arc<Sender> {
    let mut config = Config::default();
    config.data_dir = crate::config::values::FsPath(dir.to_path_buf());
    let store = Store::open(dir, crate::store::StoreOptions::default()).expect("store");
    let links = Arc::new(
        crate::links::Links::new(vec![crate::links::load_or_create_key(dir).expect("key")])
            .expect("links"),
    );
    let composer = Composer::new(
        &config,
        links,
        Arc::new(crate::store::LinkEpochs::open(dir).expect("epochs")),
        Arc::new(config.merchant.catalog().expect("catalog")),
    );
    let transport = Transport::from_config(&config.mail, dir).expect("transport");
    Sender::new(
        &config,
        store,
        composer,
        transport,
        Arc::new(OptOuts::open(dir).expect("opt-outs")),
        Arc::new(DayCounters::open(dir).expect("counters")),
    )
    .expect("sender")
}

fn order() -> Order {
    serde_json::from_value(serde_json::json!({
        "shop": "s.myshopify.com", "id": 7, "order_number": 1007, "name": "#1007",
        "email": "shopper@example.se", "created_at": "2026-11-01T10:00:00Z",
        "line_items": [{"id": 1, "title": "Mug", "quantity": 1}],
    }))
    .expect("order")
}

fn link_message() -> MailMessage {
    MailMessage {
        key: "link:1".into(),
        event: MailEvent::Link,
        part: None,
        detail: None,
        queued_at: Utc::now(),
        state: MailState::Queued,
        at: None,
        attempts: 0,
        note: None,
        lang: None,
    }
}

/// Offers `message` of `order` as the shared outbox would, `tried` times
/// before; what the sender settled it as.
async fn offer(sender: &Sender, order: &str, message: &str, tried: u32) -> Settle {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let settle = move |how: Settle| -> futures_util::future::BoxFuture<'static, ()> {
        let _ = tx.send(how);
        Box::pin(async {})
    };
    sender
        .try_offer(Offer {
            order: order.into(),
            message: message.into(),
            after: 0,
            tried,
            offered_at: Utc::now(),
            settle: Box::new(settle),
        })
        .await;
    rx.await.expect("settled once")
}

fn emails(dir: &Path) -> usize {
    std::fs::read_dir(default_dir(dir)).map_or(0, |d| {
        d.filter_map(Result::ok)
            .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
            .count()
    })
}

fn default_dir(data_dir: &Path) -> PathBuf {
    super::super::transport::default_dir(data_dir)
}

/// Another replica offered a message of an order this index has not yet
/// applied: settling it as done would acknowledge the offer and mark it
/// done for every replica, and nobody would ever send it.
#[tokio::test]
async fn a_message_not_here_yet_goes_back_on_offer_and_is_sent_once_it_is() {
    let dir = tempfile::tempdir().expect("dir");
    let sender = sender(dir.path());
    let order = order();
    let key = order.key();

    // Neither the order nor the message yet.
    let first = offer(&sender, &key, "link:1", 0).await;
    assert_eq!(first, Settle::Again(Duration::from_secs(1)));

    // The order, but not the message yet.
    sender.store.upsert(vec![order]).await.expect("order");
    let second = offer(&sender, &key, "link:1", 1).await;
    assert_eq!(second, Settle::Again(Duration::from_secs(1)));
    assert_eq!(emails(dir.path()), 0);

    // The message arrives: sent, and done.
    sender
        .store
        .apply(vec![Change::Mail {
            key: key.clone(),
            update: MailUpdate::Queue(link_message()),
        }])
        .await
        .expect("queued");
    assert_eq!(offer(&sender, &key, "link:1", 2).await, Settle::Done);
    assert_eq!(emails(dir.path()), 1, "sent once it was here");
    // Offered again by a replica that has not folded the outcome: not
    // sent twice.
    assert_eq!(offer(&sender, &key, "link:1", 0).await, Settle::Done);
    assert_eq!(emails(dir.path()), 1);
}

/// A message that stays missing (the order was erased) is let go after
/// the offer went round long enough.
#[tokio::test]
async fn a_message_missing_for_good_is_let_go() {
    let dir = tempfile::tempdir().expect("dir");
    let sender = sender(dir.path());
    let key = order().key();
    let last = offer(&sender, &key, "link:1", NOT_HERE_TRIES - 1).await;
    assert_eq!(last, Settle::Again(Duration::from_secs(1)));
    assert_eq!(
        offer(&sender, &key, "link:1", NOT_HERE_TRIES).await,
        Settle::Done
    );
}
