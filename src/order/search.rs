//! What of an order staff search looks in, grouped the way staff think of
//! it (number, email, customer, ...): the store indexes these values and
//! tells staff which group a search matched, from this one list.

use super::Order;

/// Where a staff search found its words: the groups of values the `all`
/// field is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SearchField {
    Number,
    Email,
    Customer,
    Phone,
    Place,
    Product,
    Sku,
    Tags,
    Tracking,
}

impl SearchField {
    pub fn as_str(self) -> &'static str {
        match self {
            SearchField::Number => "number",
            SearchField::Email => "email",
            SearchField::Customer => "customer",
            SearchField::Phone => "phone",
            SearchField::Place => "place",
            SearchField::Product => "product",
            SearchField::Sku => "sku",
            SearchField::Tags => "tags",
            SearchField::Tracking => "tracking",
        }
    }
}

/// Every value staff search looks in, with its group: the one list both
/// the store's index and its `matched_fields` are built from.
/// `number` and `customer` are the order number and customer name, which
/// the caller owns.
pub fn searchable<'a>(
    order: &'a Order,
    number: &'a str,
    customer: Option<&'a str>,
    mut add: impl FnMut(SearchField, &'a str),
) {
    add(SearchField::Number, &order.name);
    add(SearchField::Number, number);
    add(SearchField::Email, &order.email);
    if let Some(c) = customer {
        add(SearchField::Customer, c);
    }
    if let Some(p) = &order.phone {
        add(SearchField::Phone, p);
    }
    if let Some(a) = &order.shipping_address {
        if let Some(n) = &a.name {
            add(SearchField::Customer, n);
        }
        for place in [&a.city, &a.country].into_iter().flatten() {
            add(SearchField::Place, place);
        }
    }
    for li in &order.line_items {
        add(SearchField::Product, &li.title);
        if let Some(v) = &li.variant_title {
            add(SearchField::Product, v);
        }
        if let Some(sku) = &li.sku {
            add(SearchField::Sku, sku);
        }
    }
    for t in &order.tags {
        add(SearchField::Tags, t);
    }
    for f in &order.fulfillments {
        for n in &f.tracking_numbers {
            add(SearchField::Tracking, n);
        }
    }
    for r in &order.returns {
        for n in r.tracking.iter().filter_map(|t| t.number.as_deref()) {
            add(SearchField::Tracking, n);
        }
    }
}
