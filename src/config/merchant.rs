//! The merchant's own statuses (`[[status]]`), the rules that set them
//! (`[[status_rule]]`) and the thresholds of the problem-orders queue
//! (`[problems]`). File only: lists of tables have no sensible spelling as
//! environment variables.
//!
//! Decisions: a status's title and description must be given in the
//! shop's language (`[shop] language`); other languages fall back to it,
//! so a Swedish shop need not write Finnish. Positions follow the file's
//! order unless `position` says otherwise. A rule naming a status that is
//! not defined stops start-up, as does a duplicate id.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::ConfigError;
use crate::i18n::{Catalog, Lang};
use crate::order::status::{Condition, Rule};

/// Longest status id.
const MAX_ID: usize = 40;

/// One of the merchant's statuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusDef {
    /// `in_production`: lower-case letters, digits, `_` and `-`.
    pub id: String,
    /// Its place among the statuses (the timeline shows them in this order).
    pub position: u32,
    /// Whether entering it emails the shopper (with the `custom_stage`
    /// event on for the shop).
    pub email: bool,
    /// Per language, by [`Lang::index`].
    pub title: Vec<String>,
    pub description: Vec<String>,
}

impl StatusDef {
    /// Its title in `lang`.
    pub fn title(&self, lang: Lang) -> &str {
        &self.title[lang.index()]
    }
}

/// When a problem order needs a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProblemThresholds {
    /// On hold longer than this many days.
    pub on_hold_days: u32,
    /// No carrier scan this many days after the label.
    pub no_scan_days: u32,
    /// A return requested or open, not processed, this many days.
    pub return_days: u32,
    /// Payment pending this many days.
    pub payment_pending_days: u32,
}

impl Default for ProblemThresholds {
    fn default() -> Self {
        ProblemThresholds {
            on_hold_days: 3,
            no_scan_days: 3,
            return_days: 7,
            payment_pending_days: 3,
        }
    }
}

/// The merchant's statuses, rules and problem thresholds, resolved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MerchantConfig {
    /// In position order.
    pub statuses: Vec<StatusDef>,
    pub rules: Vec<Rule>,
    pub problems: ProblemThresholds,
}

impl MerchantConfig {
    /// The status with this id.
    pub fn status(&self, id: &str) -> Option<&StatusDef> {
        self.statuses.iter().find(|s| s.id == id)
    }

    /// The site's texts with every status's title and description added
    /// (`custom_status.<id>.title`), so pages and emails say them like any
    /// other text.
    pub fn catalog(&self) -> Result<Catalog, String> {
        let mut c = Catalog::load()?;
        for s in &self.statuses {
            for lang in Lang::ALL {
                c.add(
                    lang,
                    format!("custom_status.{}.title", s.id),
                    s.title[lang.index()].clone(),
                );
                c.add(
                    lang,
                    format!("custom_status.{}.description", s.id),
                    s.description[lang.index()].clone(),
                );
            }
        }
        Ok(c)
    }
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileStatus {
    id: String,
    position: Option<u32>,
    email: Option<bool>,
    #[serde(default)]
    title: BTreeMap<String, String>,
    #[serde(default)]
    description: BTreeMap<String, String>,
}

/// A string or a list of strings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub(super) enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileRule {
    status: String,
    tag: Option<OneOrMany>,
    sku_prefix: Option<OneOrMany>,
    title_word: Option<OneOrMany>,
    location: Option<OneOrMany>,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileProblems {
    on_hold_days: Option<u32>,
    no_scan_days: Option<u32>,
    return_days: Option<u32>,
    payment_pending_days: Option<u32>,
}

fn invalid(name: impl Into<String>, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        name: name.into(),
        reason: reason.into(),
    }
}

/// Checks `[[status]]`, `[[status_rule]]` and `[problems]` from the file.
pub(super) fn resolve(
    statuses: Vec<FileStatus>,
    rules: Vec<FileRule>,
    problems: FileProblems,
    shop_lang: Lang,
) -> Result<MerchantConfig, ConfigError> {
    let mut out = MerchantConfig::default();
    for (n, f) in statuses.into_iter().enumerate() {
        let id = f.id.trim().to_string();
        let name = format!("status {id:?}");
        let id_ok = !id.is_empty()
            && id.len() <= MAX_ID
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if !id_ok {
            return Err(invalid(
                "status.id",
                format!(
                    "{id:?} must be 1 to {MAX_ID} lower-case letters, digits, '_' or '-' (such as in_production)"
                ),
            ));
        }
        if out.status(&id).is_some() {
            return Err(invalid(name, "is defined twice"));
        }
        let texts = |what: &str, map: BTreeMap<String, String>| {
            let mut by_lang: Vec<Option<String>> = vec![None; Lang::ALL.len()];
            for (code, text) in map {
                let lang = Lang::from_code(&code)
                    .filter(|l| l.code() == code)
                    .ok_or_else(|| {
                        invalid(
                            format!("{name}.{what}"),
                            format!(
                                "{code:?} is not a language the site speaks ({})",
                                Lang::ALL.map(Lang::code).join(", ")
                            ),
                        )
                    })?;
                let text = text.trim().to_string();
                if text.is_empty() || text.chars().count() > 200 {
                    return Err(invalid(
                        format!("{name}.{what}.{code}"),
                        "must be 1 to 200 characters",
                    ));
                }
                by_lang[lang.index()] = Some(text);
            }
            let fallback = by_lang[shop_lang.index()].clone().ok_or_else(|| {
                invalid(
                    format!("{name}.{what}"),
                    format!(
                        "needs the shop's language, {} (the others fall back to it)",
                        shop_lang.code()
                    ),
                )
            })?;
            Ok::<Vec<String>, ConfigError>(
                by_lang
                    .into_iter()
                    .map(|t| t.unwrap_or_else(|| fallback.clone()))
                    .collect(),
            )
        };
        let title = texts("title", f.title)?;
        let description = texts("description", f.description)?;
        out.statuses.push(StatusDef {
            id,
            position: f.position.unwrap_or(n as u32 + 1),
            email: f.email.unwrap_or(true),
            title,
            description,
        });
    }
    out.statuses.sort_by_key(|s| s.position);
    for f in rules {
        let status = f.status.trim().to_string();
        let Some(def) = out.status(&status) else {
            return Err(invalid(
                "status_rule.status",
                format!("{status:?} is not a status defined by a [[status]] table"),
            ));
        };
        let mut when = Vec::new();
        let mut add = |v: Option<OneOrMany>, make: fn(String) -> Condition| {
            for s in v.map(OneOrMany::into_vec).unwrap_or_default() {
                let s = s.trim().to_string();
                if !s.is_empty() {
                    when.push(make(s));
                }
            }
        };
        add(f.tag, Condition::Tag);
        add(f.sku_prefix, Condition::SkuPrefix);
        add(f.title_word, Condition::TitleWord);
        add(f.location, Condition::Location);
        if when.is_empty() {
            return Err(invalid(
                format!("status_rule for {status:?}"),
                "needs at least one of tag, sku_prefix, title_word, location",
            ));
        }
        out.rules.push(Rule {
            status,
            position: def.position,
            when,
        });
    }
    let d = ProblemThresholds::default();
    let days = |name: &str, v: Option<u32>, default: u32| match v {
        Some(0) => Err(invalid(
            format!("problems.{name}"),
            "must be at least 1 day",
        )),
        Some(n) => Ok(n),
        None => Ok(default),
    };
    out.problems = ProblemThresholds {
        on_hold_days: days("on_hold_days", problems.on_hold_days, d.on_hold_days)?,
        no_scan_days: days("no_scan_days", problems.no_scan_days, d.no_scan_days)?,
        return_days: days("return_days", problems.return_days, d.return_days)?,
        payment_pending_days: days(
            "payment_pending_days",
            problems.payment_pending_days,
            d.payment_pending_days,
        )?,
    };
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Doc {
        #[serde(default)]
        status: Vec<FileStatus>,
        #[serde(default)]
        status_rule: Vec<FileRule>,
        #[serde(default)]
        problems: FileProblems,
    }

    fn load(toml_text: &str) -> Result<MerchantConfig, String> {
        let d: Doc = toml::from_str(toml_text).map_err(|e| e.to_string())?;
        resolve(d.status, d.status_rule, d.problems, Lang::Sv).map_err(|e| e.to_string())
    }

    #[test]
    fn statuses_fall_back_to_the_shops_language_and_keep_file_order() {
        let m = load(
            r#"
            [[status]]
            id = "production"
            title = { sv = "I produktion", en = "In production" }
            description = { sv = "Vi tillverkar din beställning." }
            [[status]]
            id = "qc"
            email = false
            title = { sv = "Kvalitetskontroll" }
            description = { sv = "Vi kontrollerar allt." }
            [[status_rule]]
            status = "production"
            sku_prefix = ["OAK-", "PINE-"]
            tag = "made-to-order"
            "#,
        )
        .expect("valid");
        assert_eq!(m.statuses[0].title(Lang::En), "In production");
        assert_eq!(m.statuses[0].title(Lang::Fi), "I produktion");
        assert_eq!(m.statuses[1].position, 2);
        assert!(!m.statuses[1].email);
        assert_eq!(m.rules[0].when.len(), 3);
        let c = m.catalog().expect("catalog");
        let i = crate::i18n::I18n::new(Lang::En, chrono_tz::UTC, std::sync::Arc::new(c));
        assert_eq!(i.t("custom_status.qc.title"), "Kvalitetskontroll");
    }

    #[test]
    fn bad_statuses_and_rules_are_refused_with_their_name() {
        let cases = [
            (
                "[[status]]\nid = \"In Production\"\ntitle = {sv = \"x\"}\ndescription = {sv = \"y\"}",
                "status.id",
            ),
            (
                "[[status]]\nid = \"a\"\ntitle = {en = \"x\"}\ndescription = {sv = \"y\"}",
                "needs the shop's language",
            ),
            (
                "[[status]]\nid = \"a\"\ntitle = {sv = \"x\", xx = \"z\"}\ndescription = {sv = \"y\"}",
                "not a language",
            ),
            (
                "[[status]]\nid = \"a\"\ntitle = {sv = \"x\"}\ndescription = {sv = \"y\"}\n[[status]]\nid = \"a\"\ntitle = {sv = \"x\"}\ndescription = {sv = \"y\"}",
                "twice",
            ),
            (
                "[[status_rule]]\nstatus = \"nope\"\ntag = \"x\"",
                "not a status defined",
            ),
            (
                "[[status]]\nid = \"a\"\ntitle = {sv = \"x\"}\ndescription = {sv = \"y\"}\n[[status_rule]]\nstatus = \"a\"",
                "needs at least one",
            ),
            ("[problems]\non_hold_days = 0", "at least 1 day"),
        ];
        for (text, want) in cases {
            let err = load(text).expect_err(text);
            assert!(err.contains(want), "{text}: {err}");
        }
    }
}
