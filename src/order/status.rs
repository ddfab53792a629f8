//! The merchant's own statuses on an order ("In production", "Quality
//! check"): the history of changes kept with the order, and the automatic
//! rules that set one when an order arrives or changes.
//!
//! A status is named by an id from the config (`[[status]]`); its words in
//! each language live there too, so the order keeps only ids. The history
//! is ours (no Shopify channel carries it) and only grows: a change is
//! added once, merges take the union, so a sync, a webhook or a re-import
//! of an export never erases one. The current status is the last change,
//! unless that change cleared it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::model::Order;

/// Longest note for the shopper a change may carry.
pub const MAX_NOTE_CHARS: usize = 500;

/// One change of an order's custom status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChange {
    pub at: DateTime<Utc>,
    /// The status entered; `None` when the change cleared it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The status's place among the merchant's statuses when it was set
    /// (the timeline shows the statuses passed through in this order).
    #[serde(default)]
    pub position: u32,
    /// For the shopper: shown under the status on the page and in its email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Who: `staff:NAME`, `rule`, `import`.
    #[serde(default)]
    pub by: String,
}

impl Order {
    /// The custom status the order is in now, if any.
    pub fn custom_status(&self) -> Option<&StatusChange> {
        self.status_history.last().filter(|c| c.status.is_some())
    }

    /// The merchant step the order is in at `now`, by name or status id,
    /// with when it began: the later of the current custom status and the
    /// latest imported stage that has begun.
    pub fn current_stage(&self, now: DateTime<Utc>) -> Option<(&str, DateTime<Utc>)> {
        let status = self
            .custom_status()
            .filter(|c| c.at <= now)
            .and_then(|c| Some((c.status.as_deref()?, c.at)));
        let stage = self
            .custom_stages
            .iter()
            .filter(|s| s.at <= now)
            .max_by_key(|s| s.at)
            .map(|s| (s.name.as_str(), s.at));
        match (status, stage) {
            (Some(a), Some(b)) => Some(if b.1 > a.1 { b } else { a }),
            (a, b) => a.or(b),
        }
    }

    /// The statuses the order went through up to its current one, each
    /// with when it was last entered, in their configured order. Empty
    /// when no status is current.
    pub fn statuses_passed(&self) -> Vec<(&str, DateTime<Utc>)> {
        let Some(current) = self.custom_status() else {
            return Vec::new();
        };
        let mut passed: Vec<(&str, u32, DateTime<Utc>)> = Vec::new();
        for c in &self.status_history {
            let Some(id) = c.status.as_deref() else {
                continue;
            };
            if c.position > current.position {
                continue;
            }
            match passed.iter_mut().find(|(p, _, _)| *p == id) {
                Some(p) => p.2 = c.at,
                None => passed.push((id, c.position, c.at)),
            }
        }
        passed.sort_by_key(|(_, pos, at)| (*pos, *at));
        passed.into_iter().map(|(id, _, at)| (id, at)).collect()
    }
}

/// The prefix of the tag that carries a status in Shopify.
pub const TAG_PREFIX: &str = "status:";

/// The tag that carries a status in Shopify (`status:qc`).
pub fn status_tag(id: &str) -> String {
    format!("{TAG_PREFIX}{id}")
}

impl Order {
    /// Whether the order's tags disagree with its status: the current
    /// status's tag is missing, or another status's tag is there. (Only
    /// shops that write statuses back to Shopify act on it.)
    pub fn status_tag_stale(&self) -> bool {
        let wanted = self
            .custom_status()
            .and_then(|c| c.status.as_deref())
            .map(status_tag);
        let mut tags = self.tags.iter().map(|t| t.trim());
        let other = tags
            .clone()
            .any(|t| t.starts_with(TAG_PREFIX) && Some(t) != wanted.as_deref());
        let missing = wanted.as_deref().is_some_and(|w| !tags.any(|t| t == w));
        other || missing
    }
}

/// Adds the changes of `from` that `into` lacks, keeping time order (a
/// change is the same change when every field is).
pub fn merge_history(into: &mut Vec<StatusChange>, from: &[StatusChange]) {
    let mut added = false;
    for c in from {
        if !into.contains(c) {
            into.push(c.clone());
            added = true;
        }
    }
    if added {
        // Stable: changes at the same instant keep the order they came in.
        into.sort_by_key(|c| c.at);
    }
}

/// Adds `change` unless it changes nothing (the same status, and no new
/// note). Returns whether it was added.
pub fn record(history: &mut Vec<StatusChange>, change: StatusChange) -> bool {
    let last = history.last();
    let current = last.and_then(|c| c.status.as_deref());
    let same = current == change.status.as_deref()
        && (change.note.is_none() || last.and_then(|c| c.note.as_ref()) == change.note.as_ref());
    if same || history.contains(&change) {
        return false;
    }
    history.push(change);
    true
}

/// What an automatic rule looks for in an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// The order has this tag (case ignored).
    Tag(String),
    /// A line's SKU starts with this (case ignored).
    SkuPrefix(String),
    /// A line's product title has this word (case ignored).
    TitleWord(String),
    /// A fulfillment order is assigned to this location (case ignored).
    Location(String),
}

impl Condition {
    /// Whether `order` meets it.
    pub fn matches(&self, order: &Order) -> bool {
        match self {
            Condition::Tag(t) => order.tags.iter().any(|x| x.trim().eq_ignore_ascii_case(t)),
            Condition::SkuPrefix(p) => order.line_items.iter().any(|li| {
                li.sku
                    .as_deref()
                    .is_some_and(|s| s.to_lowercase().starts_with(&p.to_lowercase()))
            }),
            Condition::TitleWord(w) => {
                let w = w.to_lowercase();
                order.line_items.iter().any(|li| {
                    li.title
                        .to_lowercase()
                        .split(|c: char| !c.is_alphanumeric())
                        .any(|x| x == w)
                })
            }
            Condition::Location(l) => order.fulfillment_orders.iter().any(|fo| {
                fo.assigned_location
                    .as_ref()
                    .and_then(|a| a.name.as_deref())
                    .is_some_and(|n| n.trim().eq_ignore_ascii_case(l))
            }),
        }
    }
}

/// Sets `status` on orders that meet any of `when`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub status: String,
    pub position: u32,
    pub when: Vec<Condition>,
}

impl Rule {
    fn matches(&self, order: &Order) -> bool {
        self.when.iter().any(|c| c.matches(order))
    }
}

/// Applies the rules to an order being written (`old`: the stored
/// version). A rule applies when its condition has just become true (or
/// the order is new and meets it), the order has not shipped and is not
/// cancelled, and the rule never set its status on this order before (so
/// staff clearing it is final). Of the rules that apply, the one furthest
/// along the merchant's statuses sets its status, unless the order is
/// already as far along: a rule never moves an order back.
pub fn apply_rules(rules: &[Rule], old: Option<&Order>, new: &mut Order, now: DateTime<Utc>) {
    if rules.is_empty() || new.cancelled_at.is_some() || !new.fulfillments.is_empty() {
        return;
    }
    let applies = |rule: &&Rule| {
        rule.matches(new)
            && !old.is_some_and(|o| rule.matches(o))
            && !new
                .status_history
                .iter()
                .any(|c| c.by == "rule" && c.status.as_ref() == Some(&rule.status))
    };
    let Some(rule) = rules.iter().filter(applies).max_by_key(|r| r.position) else {
        return;
    };
    if new
        .custom_status()
        .is_some_and(|c| c.position >= rule.position)
    {
        return;
    }
    let change = StatusChange {
        at: now,
        status: Some(rule.status.clone()),
        position: rule.position,
        note: None,
        by: "rule".into(),
    };
    record(&mut new.status_history, change);
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    fn order(v: serde_json::Value) -> Order {
        let mut base = json!({"id": 1, "order_number": 1001, "line_items": [
            {"id": 1, "title": "Oak desk, large", "sku": "OAK-DESK-L", "quantity": 1}
        ]});
        if let (Some(b), Some(extra)) = (base.as_object_mut(), v.as_object()) {
            for (k, x) in extra {
                b.insert(k.clone(), x.clone());
            }
        }
        serde_json::from_value(base).expect("order")
    }

    fn at(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 20, h, 0, 0)
            .single()
            .expect("time")
    }

    fn change(id: Option<&str>, position: u32, h: u32) -> StatusChange {
        StatusChange {
            at: at(h),
            status: id.map(str::to_string),
            position,
            note: None,
            by: "staff:anna".into(),
        }
    }

    #[test]
    fn the_current_status_is_the_last_change_unless_it_cleared() {
        let mut o = order(json!({}));
        assert!(o.custom_status().is_none());
        assert!(record(
            &mut o.status_history,
            change(Some("production"), 1, 8)
        ));
        assert!(record(&mut o.status_history, change(Some("qc"), 2, 9)));
        assert_eq!(
            o.custom_status().and_then(|c| c.status.as_deref()),
            Some("qc")
        );
        assert!(
            !record(&mut o.status_history, change(Some("qc"), 2, 10)),
            "the same status again changes nothing"
        );
        assert!(record(&mut o.status_history, change(None, 0, 11)));
        assert!(o.custom_status().is_none());
        assert_eq!(o.status_history.len(), 3, "history keeps every change");
        assert!(o.statuses_passed().is_empty());
    }

    #[test]
    fn statuses_passed_are_in_configured_order_up_to_the_current_one() {
        let mut o = order(json!({}));
        record(&mut o.status_history, change(Some("qc"), 2, 8));
        record(&mut o.status_history, change(Some("production"), 1, 9));
        record(&mut o.status_history, change(Some("qc"), 2, 10));
        assert_eq!(
            o.statuses_passed(),
            vec![("production", at(9)), ("qc", at(10))]
        );
        // Back to an earlier status: later ones drop out of the path.
        record(&mut o.status_history, change(Some("production"), 1, 11));
        assert_eq!(o.statuses_passed(), vec![("production", at(11))]);
    }

    #[test]
    fn the_tag_is_stale_until_it_says_the_status() {
        let mut o = order(json!({}));
        assert!(!o.status_tag_stale(), "no status, no tag");
        record(&mut o.status_history, change(Some("qc"), 2, 8));
        assert!(o.status_tag_stale());
        o.tags = vec!["gift".into(), "status:qc".into()];
        assert!(!o.status_tag_stale());
        record(&mut o.status_history, change(None, 0, 9));
        assert!(o.status_tag_stale(), "cleared: the tag must go");
        o.tags = vec!["gift".into()];
        assert!(!o.status_tag_stale());
    }

    #[test]
    fn merging_histories_takes_the_union_in_time_order() {
        let mut a = vec![change(Some("production"), 1, 8)];
        let b = vec![change(Some("production"), 1, 8), change(Some("qc"), 2, 9)];
        merge_history(&mut a, &b);
        assert_eq!(a, b);
        merge_history(&mut a, &[]);
        assert_eq!(a.len(), 2, "an empty side erases nothing");
    }

    #[test]
    fn the_current_stage_is_the_later_of_status_and_imported_stage() {
        let mut o =
            order(json!({"custom_stages": [{"name": "Engraving", "at": "2026-11-20T09:00:00Z"}]}));
        assert_eq!(o.current_stage(at(12)), Some(("Engraving", at(9))));
        record(&mut o.status_history, change(Some("qc"), 2, 10));
        assert_eq!(o.current_stage(at(12)), Some(("qc", at(10))));
        assert_eq!(
            o.current_stage(at(8)),
            None,
            "neither has begun at 8 o'clock"
        );
    }

    #[test]
    fn conditions_match_tags_skus_words_and_locations() {
        let o = order(json!({
            "tags": "Engrave, gift",
            "fulfillment_orders": [{"id": 5, "status": "OPEN",
                "assigned_location": {"name": "Workshop"}, "line_items": []}]
        }));
        assert!(Condition::Tag("engrave".into()).matches(&o));
        assert!(!Condition::Tag("engr".into()).matches(&o));
        assert!(Condition::SkuPrefix("oak-".into()).matches(&o));
        assert!(!Condition::SkuPrefix("desk".into()).matches(&o));
        assert!(Condition::TitleWord("DESK".into()).matches(&o));
        assert!(!Condition::TitleWord("des".into()).matches(&o));
        assert!(Condition::Location("workshop".into()).matches(&o));
        assert!(!Condition::Location("Warehouse".into()).matches(&o));
    }

    fn rules() -> Vec<Rule> {
        vec![
            Rule {
                status: "production".into(),
                position: 1,
                when: vec![Condition::SkuPrefix("OAK-".into())],
            },
            Rule {
                status: "engraving".into(),
                position: 2,
                when: vec![Condition::Tag("engrave".into())],
            },
        ]
    }

    #[test]
    fn a_rule_sets_its_status_when_its_condition_becomes_true() {
        let mut new = order(json!({}));
        apply_rules(&rules(), None, &mut new, at(8));
        assert_eq!(
            new.custom_status()
                .map(|c| (c.status.as_deref(), c.by.as_str())),
            Some((Some("production"), "rule"))
        );
        // Still true on the next write: nothing more.
        let old = new.clone();
        apply_rules(&rules(), Some(&old), &mut new, at(9));
        assert_eq!(new.status_history.len(), 1);
        // A tag arrives: the later status.
        new.tags = vec!["engrave".into()];
        apply_rules(&rules(), Some(&old), &mut new, at(10));
        assert_eq!(
            new.custom_status().and_then(|c| c.status.as_deref()),
            Some("engraving")
        );
    }

    #[test]
    fn a_rule_never_undoes_staff_or_moves_an_order_back() {
        let mut o = order(json!({"tags": "engrave"}));
        apply_rules(&rules(), None, &mut o, at(8));
        assert_eq!(
            o.custom_status().and_then(|c| c.status.as_deref()),
            Some("engraving"),
            "of the rules that apply, the furthest along wins"
        );
        // Staff clear it; the tag goes and comes back: the rule set it
        // once already, so it stays cleared.
        record(&mut o.status_history, change(None, 0, 9));
        let mut untagged = o.clone();
        untagged.tags.clear();
        let mut again = o.clone();
        apply_rules(&rules(), Some(&untagged), &mut again, at(10));
        assert!(again.custom_status().is_none());
        // Shipped orders are left alone.
        let mut shipped = order(json!({"fulfillments": [{"id": 3}]}));
        apply_rules(&rules(), None, &mut shipped, at(8));
        assert!(shipped.status_history.is_empty());
    }
}
