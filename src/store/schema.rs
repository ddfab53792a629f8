//! The index schema and the mapping from an [`Order`] to a tantivy document.
//!
//! Exact-match fields (`key`, `lookup`, `number`, `tracking`, the status
//! facets) are untokenised `STRING`s so lookups are single term queries;
//! `all` is one tokenised text field holding everything staff may search
//! by; `order` stores the whole order as JSON (tantivy compresses the doc
//! store in blocks).

use sha2::{Digest, Sha256};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, JsonObjectOptions, STORED, STRING, Schema,
    TextFieldIndexing, TextOptions,
};
use tantivy::{DateTime as TDateTime, TantivyDocument};

use crate::order::insight::facts;
use crate::order::mail_log::late_watch_hours;
use crate::order::problems::{open_watches, snooze_term, taken_term, watch_term};
use crate::order::search::searchable;
use crate::order::{Order, normalize_email};

/// Separates order number and email before hashing; cannot occur in either
/// (emails are validated on the form, numbers are digits).
const LOOKUP_SEPARATOR: char = '\u{1f}';

/// The fields of the order index, resolved once.
#[derive(Debug, Clone)]
pub struct Fields {
    pub key: Field,
    pub lookup: Field,
    pub shop: Field,
    pub number: Field,
    pub tracking: Field,
    pub all: Field,
    pub financial: Field,
    pub fulfillment: Field,
    pub return_status: Field,
    pub state: Field,
    pub created_at: Field,
    pub updated_at: Field,
    pub order: Field,
    /// Ids of an order's parts (`fo:ID`, `f:ID`, `r:ID`), for webhooks
    /// that name a fulfillment order or a return but not its order.
    pub parts: Field,
    /// What the mailer looks for: `queued` (an email waits to be sent) and
    /// `due:YYYY-MM-DDTHH` (a parcel due in that hour, UTC, for "running
    /// late").
    pub mail: Field,
    /// The order's email, normalised (staff typing a whole address find
    /// its orders with one term, not by its every word).
    pub email: Field,
    /// The order's [`crate::order::insight::Facts`] as a JSON object of
    /// fast fields (`facts.carrier`, `facts.transit`, ...): what the
    /// insights page aggregates. A JSON field, so a new fact needs no new
    /// schema.
    pub facts: Field,
    /// The problem states an order is in and since when
    /// (`on_hold:YYYY-MM-DDTHH`, see `order::problems`), and
    /// [`WATCH_TAG_STALE`] when its status tag disagrees with its status.
    pub watch: Field,
}

/// The `watch` term of an order whose Shopify status tag is not its status.
pub const WATCH_TAG_STALE: &str = "tag_stale";

/// The `mail` term of an order with a message waiting.
pub const MAIL_QUEUED: &str = "queued";
/// The prefix of the `mail` term of the hour a parcel is due.
pub const MAIL_DUE: &str = "due:";

/// Builds the schema; the field names are the on-disk contract.
pub fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let fields = Fields {
        key: b.add_text_field("key", STRING),
        lookup: b.add_bytes_field("lookup", INDEXED),
        shop: b.add_text_field("shop", STRING),
        number: b.add_text_field("number", STRING),
        tracking: b.add_text_field("tracking", STRING),
        // Words with their frequencies (for ranking) but no positions:
        // staff search has no phrase queries, and positions are a good
        // part of what indexing and merging write.
        all: b.add_text_field(
            "all",
            TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer("default")
                    .set_index_option(IndexRecordOption::WithFreqs),
            ),
        ),
        financial: b.add_text_field("financial", STRING),
        fulfillment: b.add_text_field("fulfillment", STRING),
        return_status: b.add_text_field("return_status", STRING),
        state: b.add_text_field("state", STRING),
        created_at: b.add_date_field("created_at", INDEXED | FAST),
        updated_at: b.add_date_field("updated_at", INDEXED | FAST),
        order: b.add_bytes_field("order", STORED),
        parts: b.add_text_field("parts", STRING),
        mail: b.add_text_field("mail", STRING),
        watch: b.add_text_field("watch", STRING),
        email: b.add_text_field("email", STRING),
        facts: b.add_json_field(
            "facts",
            // Fast only: it is aggregated, never searched.
            JsonObjectOptions::default().set_fast(Some("raw")),
        ),
    };
    (b.build(), fields)
}

/// Bytes of the SHA-256 kept as the `lookup` term: 128 bits, no collision
/// in any shop's lifetime, and half the term dictionary of the whole digest
/// (random terms are the dearest part of indexing and merging).
const LOOKUP_BYTES: usize = 16;

/// The `lookup` term of an order number and an (already normalised) email:
/// a SHA-256 of the pair, so the term dictionary walk a lookup does looks
/// the same whatever email is tried (and the index holds no readable pair).
pub fn lookup_term(order_number: u64, email: &str) -> [u8; LOOKUP_BYTES] {
    let digest = Sha256::digest(format!("{order_number}{LOOKUP_SEPARATOR}{email}").as_bytes());
    let mut term = [0u8; LOOKUP_BYTES];
    term.copy_from_slice(&digest[..LOOKUP_BYTES]);
    term
}

/// Tracking numbers compare case-insensitively and without spaces.
pub fn normalize_tracking(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect()
}

/// A kind of order part whose id webhooks may name alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    FulfillmentOrder,
    Fulfillment,
    Return,
}

/// The `parts` term of a part id.
pub fn part_term(kind: Part, id: u64) -> String {
    let prefix = match kind {
        Part::FulfillmentOrder => "fo",
        Part::Fulfillment => "f",
        Part::Return => "r",
    };
    format!("{prefix}:{id}")
}

pub fn to_tantivy_date(t: chrono::DateTime<chrono::Utc>) -> TDateTime {
    TDateTime::from_timestamp_micros(t.timestamp_micros())
}

/// The document for an order.
pub fn document(f: &Fields, order: &Order) -> Result<TantivyDocument, serde_json::Error> {
    let mut doc = TantivyDocument::new();
    let email = normalize_email(&order.email);
    doc.add_text(f.key, order.key());
    doc.add_bytes(f.lookup, &lookup_term(order.order_number, &email));
    doc.add_text(f.shop, &order.shop);
    doc.add_text(f.number, order.order_number.to_string());
    if !email.is_empty() {
        doc.add_text(f.email, &email);
    }
    doc.add_text(f.financial, order.financial_status.as_str());
    doc.add_text(f.fulfillment, order.fulfillment_status.as_str());
    doc.add_text(f.return_status, order.return_status().as_str());
    doc.add_text(f.state, order.state().as_str());
    if let Some(t) = order.created_at.or(order.processed_at) {
        doc.add_date(f.created_at, to_tantivy_date(t));
    }
    if let Some(t) = order.updated_at {
        doc.add_date(f.updated_at, to_tantivy_date(t));
    }

    let number = order.order_number.to_string();
    let name = order.customer_name();
    let mut all = Vec::<&str>::new();
    searchable(order, &number, name.as_deref(), |_, v| all.push(v));
    for f_ in &order.fulfillments {
        for n in &f_.tracking_numbers {
            doc.add_text(f.tracking, normalize_tracking(n));
        }
    }
    for r in &order.returns {
        for t in &r.tracking {
            if let Some(n) = &t.number {
                doc.add_text(f.tracking, normalize_tracking(n));
            }
        }
    }
    for fo in &order.fulfillment_orders {
        doc.add_text(f.parts, part_term(Part::FulfillmentOrder, fo.id));
    }
    for ship in &order.fulfillments {
        doc.add_text(f.parts, part_term(Part::Fulfillment, ship.id));
    }
    for r in &order.returns {
        doc.add_text(f.parts, part_term(Part::Return, r.id));
    }
    if order.mail.queued().next().is_some() {
        doc.add_text(f.mail, MAIL_QUEUED);
    }
    for hour in late_watch_hours(order, chrono::Utc::now()) {
        doc.add_text(f.mail, format!("{MAIL_DUE}{hour}"));
    }
    // A handled problem is out of the queue; a snoozed order is out while
    // its term is after the current hour (see `order::problems`).
    for (kind, since) in open_watches(order) {
        doc.add_text(f.watch, watch_term(kind, since));
    }
    if let Some(until) = order.desk.snoozed_until {
        doc.add_text(f.watch, snooze_term(until));
    }
    if let Some(name) = &order.desk.taken_by {
        doc.add_text(f.watch, taken_term(name));
    }
    if order.status_tag_stale() {
        doc.add_text(f.watch, WATCH_TAG_STALE);
    }
    doc.add_text(f.all, all.join(" \n "));
    if let serde_json::Value::Object(facts) = serde_json::to_value(facts(order))? {
        doc.add_object(
            f.facts,
            facts.into_iter().map(|(k, v)| (k, v.into())).collect(),
        );
    }
    doc.add_bytes(f.order, &serde_json::to_vec(order)?);
    Ok(doc)
}
