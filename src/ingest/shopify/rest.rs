//! REST bodies (what webhooks carry) to the model.
//!
//! The model reads REST's field names directly, so most of a REST order
//! maps as it is; what needs a hand is money. REST's `total_price` and
//! friends are in the shop's currency, while the shopper paid in the
//! presentment currency, which REST gives in `*_set.presentment_money`:
//! those amounts, and `presentment_currency`, are what the page shows.
//! The shipping method's name comes from `shipping_lines`.

use rust_decimal::Decimal;
use serde_json::Value;

use crate::order::Order;

/// A REST order body as an [`Order`] in the shopper's currency.
pub fn order(body: Value) -> Result<Order, serde_json::Error> {
    let shopper_currency = body["presentment_currency"]
        .as_str()
        .filter(|c| !c.is_empty())
        .map(str::to_string);
    let shop_currency = body["currency"].as_str().map(str::to_string);
    let presentment = |field: &str| -> Option<Decimal> {
        body[field]["presentment_money"]["amount"]
            .as_str()
            .and_then(|a| a.parse().ok())
    };
    let shop_money = |field: &str| -> Option<Decimal> {
        body[field]["shop_money"]["amount"]
            .as_str()
            .and_then(|a| a.parse().ok())
    };
    let subtotal = presentment("subtotal_price_set");
    let total = presentment("total_price_set");
    let tax = presentment("total_tax_set");
    let discounts = presentment("total_discounts_set");
    let shipping = presentment("total_shipping_price_set");
    let shop_total = shop_money("total_price_set");
    let method = body["shipping_lines"]
        .as_array()
        .and_then(|l| l.iter().find(|s| s["is_removed"] != Value::Bool(true)))
        .and_then(|s| s["title"].as_str())
        .map(str::to_string);
    let line_prices: Vec<(u64, Option<Decimal>)> = body["line_items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|li| {
                    let price = li["price_set"]["presentment_money"]["amount"]
                        .as_str()
                        .and_then(|a| a.parse().ok());
                    (li["id"].as_u64().unwrap_or(0), price)
                })
                .collect()
        })
        .unwrap_or_default();

    let mut o: Order = serde_json::from_value(body)?;
    if let Some(c) = shopper_currency {
        if shop_currency.as_deref().is_some_and(|s| s != c) {
            o.shop_currency = shop_currency;
            o.shop_total_price = shop_total.or(o.total_price);
        }
        o.currency = c;
        o.subtotal_price = subtotal.or(o.subtotal_price);
        o.total_price = total.or(o.total_price);
        o.total_tax = tax.or(o.total_tax);
        o.total_discounts = discounts.or(o.total_discounts);
        for li in &mut o.line_items {
            if let Some((_, Some(p))) = line_prices.iter().find(|(id, _)| *id == li.id) {
                li.price = Some(*p);
            }
        }
    }
    o.total_shipping = shipping.or(o.total_shipping);
    o.shipping_method = method.or(o.shipping_method);
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn amounts_are_what_the_shopper_paid() {
        let body = json!({
            "id": 1, "name": "#1001", "currency": "SEK", "presentment_currency": "EUR",
            "total_price": "6890.00",
            "total_price_set": {"shop_money": {"amount": "6890.00", "currency_code": "SEK"},
                                "presentment_money": {"amount": "598.94", "currency_code": "EUR"}},
            "total_shipping_price_set": {"shop_money": {"amount": "49.00"}, "presentment_money": {"amount": "4.50"}},
            "shipping_lines": [{"title": "Old", "is_removed": true}, {"title": "PostNord"}],
            "customer_locale": "de",
            "line_items": [{"id": 7, "title": "Mug", "quantity": 1, "price": "143.00",
                            "price_set": {"presentment_money": {"amount": "12.50"}}}]
        });
        let o = order(body).expect("order");
        assert_eq!(o.currency, "EUR");
        assert_eq!(o.total_price, Some(Decimal::new(59894, 2)));
        assert_eq!(o.shop_currency.as_deref(), Some("SEK"));
        assert_eq!(o.shop_total_price, Some(Decimal::new(689000, 2)));
        assert_eq!(o.total_shipping, Some(Decimal::new(450, 2)));
        assert_eq!(o.shipping_method.as_deref(), Some("PostNord"));
        assert_eq!(o.line_items[0].price, Some(Decimal::new(1250, 2)));
        assert_eq!(o.customer_locale.as_deref(), Some("de"));
    }

    #[test]
    fn one_currency_bodies_map_as_they_are() {
        let o = order(
            json!({"id": 1, "name": "#1", "currency": "USD", "presentment_currency": "USD",
            "total_price": "10.00", "total_price_set": {"presentment_money": {"amount": "10.00"}}}),
        )
        .expect("order");
        assert_eq!(o.currency, "USD");
        assert_eq!(o.shop_currency, None);
    }
}
