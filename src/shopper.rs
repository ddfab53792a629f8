//! The shopper's view of an order: everything a shopper may see, and
//! nothing else, worked out once from an [`Order`] and the time.
//!
//! The status page, the JSON API and (coming) the status emails all render
//! a [`ShopperView`], so they cannot disagree about what a shopper is told,
//! and every privacy rule lives here: the email masked, the address cut to
//! city and country, no phone, street or card, only web tracking URLs (see
//! `order::timeline`), no zero-amount refunds, impossible money as `None`.
//! Pure: no I/O, no language (the renderers translate).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;

use crate::order::timeline::Timeline;
use crate::order::{CancelReason, FinancialStatus, Order, ReturnState};

/// What a shopper sees of one order.
#[derive(Debug, Clone, PartialEq)]
pub struct ShopperView {
    /// `#1001`.
    pub name: String,
    pub placed_at: Option<DateTime<Utc>>,
    /// Headline, steps, packages with tracking, items not shipped and why.
    pub timeline: Timeline,
    pub cancellation: Option<Cancellation>,
    /// "Göteborg, Sweden": as precise as a shopper page gets.
    pub destination: Option<String>,
    /// `a***@example.se`; `None` for an order without an email.
    pub masked_email: Option<String>,
    pub payment: Payment,
    pub returns: Vec<ReturnView>,
    /// Refunds with an amount (a zero refund is a restock, not money).
    pub refunds: Vec<RefundLine>,
}

/// Why an order was cancelled and what happened to the money.
#[derive(Debug, Clone, PartialEq)]
pub struct Cancellation {
    /// Shopify's reason; an unknown one reads as `Other`.
    pub reason: Option<CancelReason>,
    pub money: CancelMoney,
}

/// The money of a cancelled order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelMoney {
    Refunded,
    PartlyRefunded,
    /// The payment was voided or expired: never taken.
    Voided,
    NotRefunded,
}

impl CancelMoney {
    pub fn as_str(self) -> &'static str {
        match self {
            CancelMoney::Refunded => "refunded",
            CancelMoney::PartlyRefunded => "partly_refunded",
            CancelMoney::Voided => "voided",
            CancelMoney::NotRefunded => "not_refunded",
        }
    }
}

/// Payment in the currency the shopper paid.
#[derive(Debug, Clone, PartialEq)]
pub struct Payment {
    pub status: FinancialStatus,
    pub currency: String,
    pub total: Option<Decimal>,
    /// `None` when the refunds add up to an impossible amount.
    pub refunded: Option<Decimal>,
}

/// One return, as the shopper sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReturnView {
    /// The return's name, or the order's when Shopify gave none.
    pub name: String,
    pub status: ReturnState,
    pub items: Vec<ReturnItemView>,
    /// Return parcels that have a tracking number.
    pub tracking: Vec<ReturnTracking>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReturnItemView {
    pub title: String,
    pub quantity: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReturnTracking {
    pub carrier: Option<String>,
    pub number: String,
}

/// One refund: `None` amount when it cannot be added up.
#[derive(Debug, Clone, PartialEq)]
pub struct RefundLine {
    pub amount: Option<Decimal>,
    pub at: Option<DateTime<Utc>>,
}

impl ShopperView {
    /// The view of `order` as of `now`, with days counted in `tz`.
    pub fn of(order: &Order, now: DateTime<Utc>, tz: Tz) -> ShopperView {
        ShopperView {
            name: order.name.clone(),
            placed_at: order.processed_at.or(order.created_at),
            timeline: Timeline::of(order, now, tz),
            cancellation: order.cancelled_at.is_some().then(|| cancellation(order)),
            destination: destination(order),
            masked_email: (!order.email.trim().is_empty()).then(|| mask_email(&order.email)),
            payment: Payment {
                status: order.financial_status.clone(),
                currency: order.currency.clone(),
                total: order.total_price,
                refunded: order.refunded_amount(),
            },
            returns: order
                .returns
                .iter()
                .map(|r| ReturnView {
                    name: r.name.clone().unwrap_or_else(|| order.name.clone()),
                    status: r.status.clone(),
                    items: r
                        .line_items
                        .iter()
                        .map(|it| ReturnItemView {
                            title: it.title.clone(),
                            quantity: it.quantity,
                        })
                        .collect(),
                    tracking: r
                        .tracking
                        .iter()
                        .filter_map(|t| {
                            let number = t.number.clone().filter(|n| !n.trim().is_empty())?;
                            Some(ReturnTracking {
                                carrier: t.company.clone().filter(|c| !c.trim().is_empty()),
                                number,
                            })
                        })
                        .collect(),
                })
                .collect(),
            refunds: order
                .refunds
                .iter()
                .filter(|r| r.amount().is_none_or(|a| !a.is_zero()))
                .map(|r| RefundLine {
                    amount: r.amount(),
                    at: r.at(),
                })
                .collect(),
        }
    }
}

fn cancellation(order: &Order) -> Cancellation {
    let reason = order.cancel_reason.as_ref().map(|r| match r {
        CancelReason::Unknown(_) => CancelReason::Other,
        other => other.clone(),
    });
    let money = match order.financial_status {
        FinancialStatus::Refunded => CancelMoney::Refunded,
        FinancialStatus::PartiallyRefunded => CancelMoney::PartlyRefunded,
        FinancialStatus::Voided | FinancialStatus::Expired => CancelMoney::Voided,
        _ => CancelMoney::NotRefunded,
    };
    Cancellation { reason, money }
}

fn destination(order: &Order) -> Option<String> {
    let a = order.shipping_address.as_ref()?;
    let parts: Vec<&str> = [a.city.as_deref(), a.country.as_deref()]
        .into_iter()
        .flatten()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// `anna.lindqvist@example.se` -> `a***@example.se`.
pub fn mask_email(email: &str) -> String {
    match email.trim().split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::demo;

    #[test]
    fn emails_are_masked() {
        assert_eq!(mask_email("anna.lindqvist@example.se"), "a***@example.se");
        assert_eq!(mask_email("x@y.z"), "x***@y.z");
        assert_eq!(mask_email("nonsense"), "***");
    }

    #[test]
    fn blank_places_zero_refunds_and_empty_emails_are_left_out() {
        let now = Utc::now();
        let mut order = demo::order(7, 0, now, "demo.example");
        if let Some(a) = order.shipping_address.as_mut() {
            a.city = Some("  ".into());
            a.country = Some("Sweden".into());
        }
        order.email = " ".into();
        order.refunds =
            vec![serde_json::from_value(serde_json::json!({
            "id": 1, "transactions": [{"amount": "0.00", "kind": "refund", "status": "success"}]
        }))
        .expect("refund")];
        let v = ShopperView::of(&order, now, chrono_tz::Europe::Stockholm);
        assert_eq!(v.destination.as_deref(), Some("Sweden"));
        assert_eq!(v.masked_email, None);
        assert!(v.refunds.is_empty());
    }
}
