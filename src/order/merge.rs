//! How a change from outside lands on a stored order, part by part.
//!
//! Shopify tells us about one order through several channels that arrive
//! in any order: the API (sync, bulk operations), whole-order webhooks
//! (REST bodies that lack returns, fulfillment orders and carrier scans)
//! and webhooks for single parts. No single clock orders them all, so each
//! part is judged by its own:
//!
//! - Order-level fields (statuses, money, address, line items, tags) by the
//!   order's `updated_at` as Shopify sets it: an older version loses, an
//!   equal one is applied again (so replays are harmless).
//! - A shipment by its own `updated_at`; a fulfillment order by its own
//!   `updated_at`; a return by the time its status was set, and between
//!   equal (or unknown) times by the later status of REQUESTED -> OPEN ->
//!   CLOSED / DECLINED / CANCELED, so a late `returns/approve` never
//!   reopens a closed return.
//! - Carrier scans and refunds never change once made: they are added once,
//!   by id, and a snapshot never forgets one a webhook brought.
//! - Nothing but Shopify's own order `updated_at` moves the order's clock:
//!   a scan dated 2099 must not make the next real update look stale.
//! - What is ours (custom stages, the status history, scans waiting for
//!   their shipment) survives every change from Shopify; the status
//!   history only ever grows.
//!
//! Everything here is pure; the store's single writer calls [`apply`] with
//! the stored version, so two changes to one order can never interleave.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::mail_log::{MailUpdate, apply_update};
use super::model::*;
use super::status::{StatusChange, merge_history, record};

/// A change to one order, from one of the channels above.
/// Serialisable: with replication on, changes travel through the
/// replication log as they are and every replica applies them alike.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Change {
    /// A whole order in our own format (NDJSON import, demo data): replaces
    /// the stored one unless it is older; keeps what is ours.
    Replace(Order),
    /// A whole order read from Shopify's API at `as_of`, with what the
    /// query could not include said in `complete`.
    Snapshot {
        order: Order,
        as_of: DateTime<Utc>,
        complete: Completeness,
    },
    /// An `orders/*` webhook body (REST): order-level fields, line items,
    /// shipments and refunds; no returns, fulfillment orders or scans.
    Rest(Order),
    /// One shipment (`fulfillments/*`).
    Fulfillment {
        key: String,
        fulfillment: Fulfillment,
    },
    /// One carrier scan (`fulfillment_events/create`).
    Event {
        key: String,
        fulfillment_id: u64,
        event: TrackingEvent,
    },
    /// A carrier scan removed (`fulfillment_events/delete`).
    EventDeleted { key: String, event_id: u64 },
    /// One refund (`refunds/create`).
    Refund { key: String, refund: Refund },
    /// One return as a `returns/*` webhook describes it.
    Return { key: String, ret: Return },
    /// A fulfillment order's new status and holds (`fulfillment_orders/*`).
    FulfillmentOrder {
        key: String,
        id: u64,
        status: FulfillmentOrderStatus,
        /// `None`: the webhook did not say (keep the stored holds).
        holds: Option<Vec<FulfillmentHold>>,
        at: DateTime<Utc>,
        /// A fulfillment service request's new status, when the webhook
        /// says (`None`: keep the stored one).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        request_status: Option<RequestStatus>,
    },
    /// A change to the order's emails (ours; never from Shopify).
    Mail { key: String, update: MailUpdate },
    /// The merchant's status set or cleared (ours; staff or a bulk change).
    Status { key: String, change: StatusChange },
    /// Staff's work on the order's problems (ours; the problem queue).
    Desk {
        key: String,
        update: super::problems::DeskUpdate,
    },
}

/// Which of a snapshot's lists the query could fetch. A bulk operation
/// may have five connections only, two deep, so it brings neither
/// fulfillment orders nor returns whole; what a snapshot lacks is kept as
/// stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Completeness {
    pub fulfillment_orders: bool,
    pub returns: bool,
}

impl Completeness {
    /// Everything was fetched.
    pub const FULL: Completeness = Completeness {
        fulfillment_orders: true,
        returns: true,
    };
}

/// What applying a change comes to.
#[derive(Debug, Clone, PartialEq)]
pub enum Merged {
    /// Write this order.
    Write(Box<Order>),
    /// Nothing new (a replay, or only parts we already have).
    Unchanged,
    /// The change is older than what is stored.
    Stale,
    /// A change to a part of an order we do not have.
    UnknownOrder,
}

impl Change {
    /// The store key of the order it changes.
    pub fn key(&self) -> String {
        match self {
            Change::Replace(o) | Change::Rest(o) | Change::Snapshot { order: o, .. } => o.key(),
            Change::Fulfillment { key, .. }
            | Change::Event { key, .. }
            | Change::EventDeleted { key, .. }
            | Change::Refund { key, .. }
            | Change::Return { key, .. }
            | Change::FulfillmentOrder { key, .. }
            | Change::Mail { key, .. }
            | Change::Status { key, .. }
            | Change::Desk { key, .. } => key.clone(),
        }
    }

    /// The whole order, for the changes that carry one.
    pub fn order(&self) -> Option<&Order> {
        match self {
            Change::Replace(o) | Change::Rest(o) | Change::Snapshot { order: o, .. } => Some(o),
            _ => None,
        }
    }

    /// Whether the change can be judged by `updated_at` alone (no need to
    /// read the stored order): a replace.
    pub fn is_replace(&self) -> bool {
        matches!(self, Change::Replace(_))
    }
}

/// Applies `change` to the stored version of its order.
pub fn apply(stored: Option<&Order>, change: Change) -> Merged {
    let merged = match change {
        Change::Replace(incoming) => match stored {
            Some(s) if older(&incoming, s) => return Merged::Stale,
            Some(s) => {
                let mut o = incoming;
                keep_ours(&mut o, s);
                o
            }
            None => incoming,
        },
        Change::Snapshot {
            order,
            as_of,
            complete,
        } => match stored {
            None => settle(order),
            Some(s) => snapshot(s, order, as_of, complete),
        },
        Change::Rest(incoming) => match stored {
            None => settle(incoming),
            Some(s) => rest(s, incoming),
        },
        part => {
            let Some(s) = stored else {
                return Merged::UnknownOrder;
            };
            let mut o = s.clone();
            apply_part(&mut o, part);
            o
        }
    };
    match stored {
        Some(s) if *s == merged => Merged::Unchanged,
        Some(s) if older(&merged, s) => Merged::Stale,
        _ => Merged::Write(Box::new(merged)),
    }
}

fn older(a: &Order, b: &Order) -> bool {
    matches!((a.updated_at, b.updated_at), (Some(x), Some(y)) if x < y)
        || (a.updated_at.is_none() && b.updated_at.is_some())
}

/// A first version: scans that name their shipment join it.
fn settle(mut o: Order) -> Order {
    adopt_pending(&mut o);
    o
}

/// What is ours and no Shopify channel carries.
fn keep_ours(o: &mut Order, stored: &Order) {
    // The stored log is the record of what was sent; nothing from outside
    // may rewrite it.
    o.mail = stored.mail.clone();
    o.desk = stored.desk.clone();
    if o.custom_stages.is_empty() {
        o.custom_stages = stored.custom_stages.clone();
    }
    // Statuses only accumulate: an import of an export brings the same
    // changes again, a Shopify payload none.
    let incoming = std::mem::replace(&mut o.status_history, stored.status_history.clone());
    merge_history(&mut o.status_history, &incoming);
    for p in &stored.pending_events {
        if !o.pending_events.contains(p) {
            o.pending_events.push(p.clone());
        }
    }
    adopt_pending(o);
}

fn snapshot(stored: &Order, incoming: Order, as_of: DateTime<Utc>, c: Completeness) -> Order {
    let fresh = !older(&incoming, stored);
    let mut o = if fresh {
        incoming.clone()
    } else {
        stored.clone()
    };
    // Shipments and refunds: every one either side knows, the newer
    // version of each.
    o.fulfillments = stored.fulfillments.clone();
    for f in incoming.fulfillments {
        merge_fulfillment(&mut o, f);
    }
    o.refunds = stored.refunds.clone();
    for r in incoming.refunds {
        merge_refund(&mut o, r);
    }
    // Fulfillment orders: the snapshot's list as of `as_of`, except one a
    // webhook changed after that.
    if c.fulfillment_orders {
        let mut fos = incoming.fulfillment_orders;
        for fo in &mut fos {
            if let Some(old) = stored.fulfillment_orders.iter().find(|s| s.id == fo.id)
                && old.updated_at > fo.updated_at.max(Some(as_of))
            {
                *fo = old.clone();
            }
        }
        for old in &stored.fulfillment_orders {
            if !fos.iter().any(|f| f.id == old.id) && old.updated_at > Some(as_of) {
                fos.push(old.clone());
            }
        }
        o.fulfillment_orders = fos;
    } else {
        o.fulfillment_orders = stored.fulfillment_orders.clone();
    }
    // Returns: read at `as_of`; a webhook's newer word wins.
    if c.returns {
        o.returns = stored.returns.clone();
        for mut r in incoming.returns {
            r.updated_at = r.updated_at.or(Some(as_of));
            merge_return(&mut o, r);
        }
        if fresh {
            o.return_status = incoming.return_status;
        }
    } else {
        o.returns = stored.returns.clone();
        o.return_status = stored.return_status.clone();
    }
    if !fresh {
        o.updated_at = stored.updated_at;
    }
    keep_withheld(&mut o, stored);
    keep_ours(&mut o, stored);
    o
}

/// Protected data Shopify withheld from this read but an earlier one (or
/// a webhook) brought: kept, so a lost approval does not blank what the
/// store already had; a mark stays only where the value is still blank.
fn keep_withheld(o: &mut Order, stored: &Order) {
    if o.withheld.is_empty() {
        return;
    }
    if o.is_withheld("email") && o.email.trim().is_empty() {
        o.email = stored.email.clone();
    }
    if o.is_withheld("phone") && o.phone.is_none() {
        o.phone = stored.phone.clone();
    }
    if o.is_withheld("name")
        && o.customer
            .as_ref()
            .is_none_or(|c| c.first_name.is_none() && c.last_name.is_none())
        && let Some(c) = &stored.customer
    {
        let mine = o.customer.get_or_insert_with(Default::default);
        mine.first_name = c.first_name.clone();
        mine.last_name = c.last_name.clone();
    }
    if o.is_withheld("address") || o.is_withheld("customer") {
        match (&mut o.shipping_address, &stored.shipping_address) {
            (Some(a), Some(s)) if a.address1.is_none() => {
                a.name = a.name.take().or_else(|| s.name.clone());
                a.address1 = s.address1.clone();
                a.address2 = a.address2.take().or_else(|| s.address2.clone());
                a.zip = a.zip.take().or_else(|| s.zip.clone());
            }
            (None, Some(s)) => o.shipping_address = Some(s.clone()),
            _ => {}
        }
    }
    let blank = |o: &Order, w: &str| match w {
        "email" => o.email.trim().is_empty(),
        "phone" => o.phone.is_none(),
        "name" => o
            .customer
            .as_ref()
            .is_none_or(|c| c.first_name.is_none() && c.last_name.is_none()),
        "address" => o
            .shipping_address
            .as_ref()
            .is_none_or(|a| a.address1.is_none()),
        _ => o.customer.is_none() && o.shipping_address.is_none(),
    };
    let marks = std::mem::take(&mut o.withheld);
    o.withheld = marks.into_iter().filter(|w| blank(o, w)).collect();
}

fn rest(stored: &Order, incoming: Order) -> Order {
    let fresh = !older(&incoming, stored);
    let mut o = if fresh {
        let mut o = incoming.clone();
        // What REST bodies do not carry.
        o.fulfillment_orders = stored.fulfillment_orders.clone();
        o.returns = stored.returns.clone();
        o.return_status = stored.return_status.clone();
        for li in &mut o.line_items {
            if let Some(old) = stored.line_items.iter().find(|s| s.id == li.id) {
                li.image_url = li.image_url.take().or_else(|| old.image_url.clone());
            }
        }
        if o.customer_locale.is_none() {
            o.customer_locale = stored.customer_locale.clone();
        }
        if o.shipping_method.is_none() {
            o.shipping_method = stored.shipping_method.clone();
        }
        o
    } else {
        stored.clone()
    };
    o.fulfillments = stored.fulfillments.clone();
    for f in incoming.fulfillments {
        merge_fulfillment(&mut o, f);
    }
    o.refunds = stored.refunds.clone();
    for r in incoming.refunds {
        merge_refund(&mut o, r);
    }
    keep_ours(&mut o, stored);
    o
}

fn apply_part(o: &mut Order, part: Change) {
    match part {
        Change::Status { change, .. } => {
            record(&mut o.status_history, change);
        }
        Change::Desk { update, .. } => o.desk.apply(update),
        Change::Fulfillment { fulfillment, .. } => {
            merge_fulfillment(o, fulfillment);
            adopt_pending(o);
        }
        Change::Event {
            fulfillment_id,
            event,
            ..
        } => {
            if o.fulfillments.iter().any(|f| f.id == fulfillment_id) {
                merge_event(o, fulfillment_id, event);
            } else {
                let p = PendingEvent {
                    fulfillment_id,
                    event,
                };
                let dup = o.pending_events.iter().any(|q| {
                    q.fulfillment_id == p.fulfillment_id && same_event(&q.event, &p.event)
                });
                if !dup {
                    o.pending_events.push(p);
                }
            }
        }
        Change::EventDeleted { event_id, .. } => {
            for f in &mut o.fulfillments {
                f.events.retain(|e| e.id != event_id);
            }
            o.pending_events.retain(|p| p.event.id != event_id);
        }
        Change::Refund { refund, .. } => merge_refund(o, refund),
        Change::Return { ret, .. } => {
            merge_return(o, ret);
            // Shopify's summary predates this return change: derive it.
            o.return_status = None;
        }
        Change::FulfillmentOrder {
            id,
            status,
            holds,
            at,
            request_status,
            ..
        } => match o.fulfillment_orders.iter_mut().find(|f| f.id == id) {
            Some(fo) if fo.updated_at.is_some_and(|t| t > at) => {}
            Some(fo) => {
                fo.status = status;
                if let Some(h) = holds {
                    fo.fulfillment_holds = h;
                }
                if request_status.is_some() {
                    fo.request_status = request_status;
                }
                fo.updated_at = Some(at);
            }
            None => o.fulfillment_orders.push(FulfillmentOrder {
                id,
                status,
                request_status,
                fulfill_at: None,
                assigned_location: None,
                fulfillment_holds: holds.unwrap_or_default(),
                line_items: Vec::new(),
                updated_at: Some(at),
            }),
        },
        Change::Mail { update, .. } => apply_update(&mut o.mail, update),
        Change::Replace(_) | Change::Snapshot { .. } | Change::Rest(_) => {}
    }
}

/// Adds or replaces a shipment: the newer `updated_at` wins (equal: the
/// incoming one), and what the incoming one lacks is kept. Lines named by
/// id only get their titles from the order.
pub fn merge_fulfillment(order: &mut Order, mut f: Fulfillment) {
    for item in &mut f.line_items {
        if item.title.is_empty()
            && let Some(li) = order.line_items.iter().find(|l| l.id == item.id)
        {
            item.title = li.title.clone();
            item.variant_title = item
                .variant_title
                .take()
                .or_else(|| li.variant_title.clone());
        }
    }
    match order.fulfillments.iter_mut().find(|o| o.id == f.id) {
        Some(old) => {
            if let (Some(new), Some(prev)) = (f.updated_at, old.updated_at)
                && new < prev
            {
                // Older than stored; it may still know scans we lack.
                for e in f.events {
                    add_event(old, e);
                }
                return;
            }
            carry_fulfillment(&mut f, old);
            *old = f;
        }
        None => order.fulfillments.push(f),
    }
}

/// Fields of a shipment that one channel lacks, kept from the stored one.
fn carry_fulfillment(f: &mut Fulfillment, old: &Fulfillment) {
    for e in &old.events {
        if !f.events.iter().any(|n| same_event(n, e)) {
            f.events.push(e.clone());
        }
    }
    f.location_name = f.location_name.take().or_else(|| old.location_name.clone());
    f.location_id = f.location_id.or(old.location_id);
    f.estimated_delivery_at = f.estimated_delivery_at.or(old.estimated_delivery_at);
    f.in_transit_at = f.in_transit_at.or(old.in_transit_at);
    f.delivered_at = f.delivered_at.or(old.delivered_at);
    f.name = f.name.take().or_else(|| old.name.clone());
    if f.display_status.is_none() && f.shipment_status.is_none() {
        f.display_status = old.display_status.clone();
        f.shipment_status = old.shipment_status.clone();
    }
    if f.line_items.is_empty() {
        f.line_items = old.line_items.clone();
    }
    for li in &mut f.line_items {
        if li.title.is_empty()
            && let Some(t) = old.line_items.iter().find(|o| o.id == li.id)
        {
            li.title = t.title.clone();
            li.variant_title = li.variant_title.take().or_else(|| t.variant_title.clone());
        }
    }
}

fn same_event(a: &TrackingEvent, b: &TrackingEvent) -> bool {
    if a.id != 0 && b.id != 0 {
        a.id == b.id
    } else {
        a.status == b.status && a.happened_at == b.happened_at
    }
}

fn add_event(f: &mut Fulfillment, e: TrackingEvent) -> bool {
    if f.events.iter().any(|old| same_event(old, &e)) {
        return false;
    }
    f.events.push(e);
    true
}

/// Adds a carrier scan to its shipment (once) and moves the shipment's
/// status to it when it is the newest scan. The order's clock stays.
pub fn merge_event(order: &mut Order, fulfillment_id: u64, e: TrackingEvent) {
    let Some(f) = order
        .fulfillments
        .iter_mut()
        .find(|f| f.id == fulfillment_id)
    else {
        return;
    };
    let newest = f.events.iter().all(|old| old.happened_at <= e.happened_at);
    let (status, eta, at) = (e.status.clone(), e.estimated_delivery_at, e.happened_at);
    if !add_event(f, e) {
        return;
    }
    if newest {
        f.shipment_status = Some(status.clone());
        // GraphQL's display status is replaced by what the newest scan says.
        f.display_status = None;
        if eta.is_some() {
            f.estimated_delivery_at = eta;
        }
        if status == TrackingStatus::Delivered {
            f.delivered_at = at;
        }
    }
}

/// Moves waiting scans into shipments that have arrived.
fn adopt_pending(o: &mut Order) {
    if o.pending_events.is_empty() {
        return;
    }
    let pending = std::mem::take(&mut o.pending_events);
    for p in pending {
        if o.fulfillments.iter().any(|f| f.id == p.fulfillment_id) {
            merge_event(o, p.fulfillment_id, p.event);
        } else {
            o.pending_events.push(p);
        }
    }
}

/// Adds a refund once (by id; refunds never change).
pub fn merge_refund(order: &mut Order, r: Refund) {
    if r.id != 0 && order.refunds.iter().any(|o| o.id == r.id) {
        return;
    }
    if r.id == 0 && order.refunds.contains(&r) {
        return;
    }
    order.refunds.push(r);
}

/// How far along a return's status is; a later one wins a tie in time.
fn return_rank(s: &ReturnState) -> u8 {
    match s {
        ReturnState::Requested => 0,
        ReturnState::Open | ReturnState::Unknown(_) => 1,
        ReturnState::Closed | ReturnState::Declined | ReturnState::Canceled => 2,
    }
}

/// Adds or updates a return by the rules above. Items named only by id
/// get their titles from the stored return or the order's line items.
pub fn merge_return(order: &mut Order, mut r: Return) {
    let titles: Vec<(u64, String)> = order
        .line_items
        .iter()
        .map(|l| (l.id, l.title.clone()))
        .collect();
    let title_of = |id: u64| {
        titles
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, t)| t.clone())
    };
    match order.returns.iter_mut().find(|o| o.id == r.id) {
        Some(old) => {
            let newer = match (r.updated_at, old.updated_at) {
                (Some(n), Some(o)) if n != o => n > o,
                (None, Some(_)) => false,
                _ => return_rank(&r.status) >= return_rank(&old.status),
            };
            if r.line_items.is_empty() {
                r.line_items = old.line_items.clone();
            }
            for li in &mut r.line_items {
                if li.title.is_empty() {
                    li.title = old
                        .line_items
                        .iter()
                        .find(|o| o.line_item_id == li.line_item_id && !o.title.is_empty())
                        .map(|o| o.title.clone())
                        .or_else(|| title_of(li.line_item_id))
                        .unwrap_or_default();
                }
                if li.return_reason.is_none() {
                    li.return_reason = old
                        .line_items
                        .iter()
                        .find(|o| o.line_item_id == li.line_item_id)
                        .and_then(|o| o.return_reason.clone());
                }
            }
            if r.tracking.is_empty() {
                r.tracking = old.tracking.clone();
            }
            r.name = r.name.take().or_else(|| old.name.clone());
            r.created_at = r.created_at.or(old.created_at);
            if newer {
                r.closed_at = r.closed_at.or(old.closed_at);
                *old = r;
            } else {
                // Keep the newer status, learn what else the older word says.
                old.line_items = r.line_items;
                old.tracking = r.tracking;
                old.name = r.name;
                old.created_at = r.created_at;
            }
        }
        None => {
            for li in &mut r.line_items {
                if li.title.is_empty() {
                    li.title = title_of(li.line_item_id).unwrap_or_default();
                }
            }
            order.returns.push(r);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn order(v: serde_json::Value) -> Order {
        serde_json::from_value(v).expect("order")
    }

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).expect("time").to_utc()
    }

    fn stored() -> Order {
        order(json!({
            "shop": "s.example", "id": 1, "name": "#1", "updated_at": "2026-11-01T10:00:00Z",
            "financial_status": "PAID",
            "line_items": [{"id": 3, "title": "Mug", "quantity": 1, "image_url": "https://cdn.example/m.png"}],
            "fulfillments": [{"id": 9, "updated_at": "2026-11-01T10:00:00Z", "location_name": "Main",
                              "events": [{"id": 1, "status": "IN_TRANSIT", "happened_at": "2026-11-01T09:00:00Z"}]}],
            "returns": [{"id": 5, "status": "OPEN", "updated_at": "2026-11-01T10:00:00Z",
                         "line_items": [{"line_item_id": 3, "title": "Mug", "quantity": 1}]}],
            "custom_stages": [{"name": "Engraving", "at": "2026-11-01T08:00:00Z"}],
            "status_history": [{"at": "2026-11-01T08:30:00Z", "status": "qc", "position": 2, "by": "staff:anna"}]
        }))
    }

    fn written(m: Merged) -> Order {
        match m {
            Merged::Write(o) => *o,
            other => panic!("expected a write, got {other:?}"),
        }
    }

    #[test]
    fn withheld_data_does_not_blank_what_the_store_had() {
        let mut known = stored();
        known.email = "anna@example.se".into();
        known.customer = Some(Customer {
            first_name: Some("Anna".into()),
            last_name: None,
        });
        let mut read = known.clone();
        read.updated_at = Some(t("2026-11-02T10:00:00Z"));
        read.email = String::new();
        read.customer = None;
        read.phone = None;
        read.withheld = vec!["email".into(), "name".into(), "phone".into()];
        let o = written(apply(
            Some(&known),
            Change::Snapshot {
                order: read.clone(),
                as_of: t("2026-11-02T10:00:00Z"),
                complete: Completeness::FULL,
            },
        ));
        assert_eq!(o.email, "anna@example.se");
        assert_eq!(
            o.customer.and_then(|c| c.first_name).as_deref(),
            Some("Anna")
        );
        // Still blank (never known): still marked.
        assert_eq!(o.withheld, vec!["phone".to_string()]);
        // A first read keeps its marks.
        let first = written(apply(
            None,
            Change::Snapshot {
                order: read,
                as_of: t("2026-11-02T10:00:00Z"),
                complete: Completeness::FULL,
            },
        ));
        assert!(first.is_withheld("email") && first.email.is_empty());
    }

    #[test]
    fn statuses_survive_every_channel_and_an_export_reimported_adds_none() {
        let s = stored();
        let mut newer = s.clone();
        newer.updated_at = Some(t("2026-11-02T10:00:00Z"));
        // A file (or a Shopify body) without our statuses keeps them.
        let mut plain = newer.clone();
        plain.status_history.clear();
        for change in [
            Change::Replace(plain.clone()),
            Change::Rest(plain.clone()),
            Change::Snapshot {
                order: plain,
                as_of: t("2026-11-02T10:00:00Z"),
                complete: Completeness::FULL,
            },
        ] {
            assert_eq!(
                written(apply(Some(&s), change)).status_history,
                s.status_history
            );
        }
        // An export of the stored order, imported again: the same history.
        assert_eq!(
            written(apply(Some(&s), Change::Replace(newer))).status_history,
            s.status_history
        );
        // A status change is added once.
        let c = StatusChange {
            at: t("2026-11-03T10:00:00Z"),
            status: Some("packed".into()),
            position: 3,
            note: None,
            by: "staff:bo".into(),
        };
        let once = written(apply(
            Some(&s),
            Change::Status {
                key: s.key(),
                change: c.clone(),
            },
        ));
        assert_eq!(once.status_history.len(), 2);
        assert_eq!(
            apply(
                Some(&once),
                Change::Status {
                    key: s.key(),
                    change: c,
                },
            ),
            Merged::Unchanged
        );
    }

    #[test]
    fn a_scan_never_moves_the_orders_clock() {
        let s = stored();
        let e: TrackingEvent = serde_json::from_value(
            json!({"id": 2, "status": "DELIVERED", "happened_at": "2099-01-01T00:00:00Z"}),
        )
        .expect("event");
        let o = written(apply(
            Some(&s),
            Change::Event {
                key: s.key(),
                fulfillment_id: 9,
                event: e.clone(),
            },
        ));
        assert_eq!(o.updated_at, s.updated_at);
        assert_eq!(
            o.fulfillments[0].display_status(),
            FulfillmentDisplayStatus::Delivered
        );
        // A later cancellation is not "stale" because of that scan.
        let mut cancel = s.clone();
        cancel.updated_at = Some(t("2026-11-02T10:00:00Z"));
        cancel.cancelled_at = cancel.updated_at;
        cancel.fulfillments.clear();
        let after = written(apply(Some(&o), Change::Rest(cancel)));
        assert!(after.cancelled_at.is_some());
        assert_eq!(after.fulfillments[0].events.len(), 2, "scans kept");
        assert_eq!(
            apply(
                Some(&after),
                Change::Event {
                    key: s.key(),
                    fulfillment_id: 9,
                    event: e
                }
            ),
            Merged::Unchanged,
            "a replay"
        );
    }

    #[test]
    fn a_scan_before_its_shipment_waits_for_it() {
        let s = stored();
        let e: TrackingEvent = serde_json::from_value(
            json!({"id": 7, "status": "OUT_FOR_DELIVERY", "happened_at": "2026-11-02T08:00:00Z"}),
        )
        .expect("event");
        let o = written(apply(
            Some(&s),
            Change::Event {
                key: s.key(),
                fulfillment_id: 10,
                event: e,
            },
        ));
        assert_eq!(o.pending_events.len(), 1);
        assert_eq!(o.fulfillments.len(), 1, "no package made up");
        let f: Fulfillment = serde_json::from_value(
            json!({"id": 10, "status": "success", "updated_at": "2026-11-02T07:00:00Z"}),
        )
        .expect("f");
        let o = written(apply(
            Some(&o),
            Change::Fulfillment {
                key: s.key(),
                fulfillment: f,
            },
        ));
        assert!(o.pending_events.is_empty());
        assert_eq!(
            o.fulfillments[1].display_status(),
            FulfillmentDisplayStatus::OutForDelivery
        );
    }

    #[test]
    fn a_late_approve_never_reopens_a_closed_return() {
        let s = stored();
        let close = Return {
            id: 5,
            name: None,
            status: ReturnState::Closed,
            created_at: None,
            closed_at: Some(t("2026-11-03T10:00:00Z")),
            line_items: vec![],
            tracking: vec![],
            updated_at: Some(t("2026-11-03T10:00:00Z")),
        };
        let o = written(apply(
            Some(&s),
            Change::Return {
                key: s.key(),
                ret: close,
            },
        ));
        let late_approve = Return {
            status: ReturnState::Open,
            updated_at: Some(t("2026-11-02T10:00:00Z")),
            closed_at: None,
            line_items: vec![ReturnItem {
                line_item_id: 3,
                title: String::new(),
                quantity: 1,
                return_reason: Some("DEFECTIVE".into()),
            }],
            ..o.returns[0].clone()
        };
        let o = match apply(
            Some(&o),
            Change::Return {
                key: s.key(),
                ret: late_approve.clone(),
            },
        ) {
            Merged::Write(o) => *o,
            Merged::Unchanged => o,
            other => panic!("{other:?}"),
        };
        assert_eq!(o.returns[0].status, ReturnState::Closed);
        assert_eq!(
            o.returns[0].line_items[0].title, "Mug",
            "title never blanked"
        );
        assert_eq!(o.updated_at, s.updated_at, "returns keep their own clock");
        // Without times, the later status still wins.
        let untimed = Return {
            updated_at: None,
            ..late_approve
        };
        let mut s2 = s.clone();
        s2.returns[0].status = ReturnState::Closed;
        s2.returns[0].updated_at = None;
        let o2 = apply(
            Some(&s2),
            Change::Return {
                key: s.key(),
                ret: untimed,
            },
        );
        if let Merged::Write(o2) = o2 {
            assert_eq!(o2.returns[0].status, ReturnState::Closed);
        }
    }

    #[test]
    fn a_rest_body_keeps_what_only_other_channels_know() {
        let rest = order(json!({
            "shop": "s.example", "id": 1, "name": "#1", "financial_status": "refunded",
            "updated_at": "2026-11-02T10:00:00Z",
            "line_items": [{"id": 3, "title": "Mug", "quantity": 1}],
            "fulfillments": [{"id": 9, "status": "success", "updated_at": "2026-11-02T10:00:00Z"}]
        }));
        let o = written(apply(Some(&stored()), Change::Rest(rest)));
        assert_eq!(o.financial_status, FinancialStatus::Refunded);
        assert_eq!(o.fulfillments[0].events.len(), 1, "events kept");
        assert_eq!(o.fulfillments[0].location_name.as_deref(), Some("Main"));
        assert_eq!(o.returns.len(), 1);
        assert_eq!(o.custom_stages.len(), 1);
        assert_eq!(
            o.line_items[0].image_url.as_deref(),
            Some("https://cdn.example/m.png")
        );
    }

    #[test]
    fn an_older_body_changes_only_newer_parts() {
        let mut old = stored();
        old.updated_at = Some(t("2026-10-01T00:00:00Z"));
        old.financial_status = FinancialStatus::Pending;
        old.fulfillments.clear();
        assert_eq!(
            apply(Some(&stored()), Change::Rest(old.clone())),
            Merged::Unchanged
        );
        assert_eq!(apply(Some(&stored()), Change::Replace(old)), Merged::Stale);
    }

    #[test]
    fn a_snapshot_keeps_webhook_news_newer_than_itself() {
        let mut s = stored();
        s.fulfillment_orders = vec![FulfillmentOrder {
            request_status: None,
            id: 70,
            status: FulfillmentOrderStatus::OnHold,
            fulfill_at: None,
            assigned_location: None,
            fulfillment_holds: vec![],
            line_items: vec![FulfillmentOrderLineItem {
                line_item_id: 3,
                quantity: 1,
            }],
            updated_at: Some(t("2026-11-05T00:00:00Z")),
        }];
        let mut snap = stored();
        snap.updated_at = Some(t("2026-11-04T00:00:00Z"));
        snap.custom_stages.clear();
        snap.returns.clear();
        snap.fulfillment_orders = vec![FulfillmentOrder {
            status: FulfillmentOrderStatus::Open,
            updated_at: Some(t("2026-11-03T00:00:00Z")),
            ..s.fulfillment_orders[0].clone()
        }];
        let o = written(apply(
            Some(&s),
            Change::Snapshot {
                order: snap.clone(),
                as_of: t("2026-11-04T00:00:00Z"),
                complete: Completeness::FULL,
            },
        ));
        assert_eq!(o.updated_at, Some(t("2026-11-04T00:00:00Z")));
        assert_eq!(
            o.fulfillment_orders[0].status,
            FulfillmentOrderStatus::OnHold,
            "the hold came after the snapshot was read"
        );
        assert_eq!(o.custom_stages.len(), 1, "ours survive");
        assert_eq!(o.status_history, s.status_history, "statuses survive");
        // A bulk snapshot has neither fulfillment orders nor returns whole.
        let mut bulk = snap;
        bulk.fulfillment_orders.clear();
        bulk.returns.clear();
        let o = written(apply(
            Some(&s),
            Change::Snapshot {
                order: bulk,
                as_of: t("2026-11-04T00:00:00Z"),
                complete: Completeness {
                    fulfillment_orders: false,
                    returns: false,
                },
            },
        ));
        assert_eq!(o.fulfillment_orders.len(), 1);
        assert_eq!(o.returns.len(), 1);
    }
}
