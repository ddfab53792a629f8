//! Languages: translation files, choosing a language, and writing dates,
//! days and money the local way.
//!
//! The texts live in `src/i18n/locales/<code>.toml` (one file a language,
//! compiled in), flattened to `section.key` and parsed once at start-up
//! into a [`Catalog`]. A request's language is, in order: `?lang=` (which
//! is then remembered in a `lang` cookie), the `lang` cookie, the best
//! supported match in `Accept-Language`, English. Dates and times are
//! shown in the shop's time zone. We keep our own small catalogue instead
//! of a crate such as leptos_i18n: seven languages and a few hundred
//! strings do not justify a build-time code generator, and this one is
//! testable (every language has every key, and every key the code names
//! exists).

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc, Weekday};
use chrono_tz::Tz;
use fixed_decimal::Decimal as FixedDecimal;
use icu_decimal::DecimalFormatter;
use icu_experimental::displaynames::{DisplayNamesOptions, RegionDisplayNames};
use icu_locale_core::Locale;
use icu_locale_core::subtags::Region;
use icu_plurals::{PluralCategory, PluralRules};
use rust_decimal::Decimal;
use writeable::Writeable;

use crate::order::timeline::{
    CarrierWords, Day, Headline, Problem, RefundState, Step, StepKind, WaitReason,
};
use crate::shopper::Place;

/// A language the site speaks. As a setting it is its code (`sv`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Default,
    serde_with::SerializeDisplay,
    serde_with::DeserializeFromStr,
)]
pub enum Lang {
    /// The fallback where nothing says otherwise.
    #[default]
    En,
    Sv,
    De,
    Fr,
    Da,
    /// Norwegian bokmål.
    Nb,
    Fi,
}

/// How many languages there are.
const LANGS: usize = 7;

impl std::str::FromStr for Lang {
    type Err = String;
    fn from_str(s: &str) -> Result<Lang, String> {
        Lang::from_code(s).ok_or_else(|| {
            format!(
                "{s:?} is not a language the site speaks ({})",
                Lang::ALL.map(Lang::code).join(", ")
            )
        })
    }
}

impl std::fmt::Display for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

impl Lang {
    /// Every language, in the order the switch lists them.
    pub const ALL: [Lang; LANGS] = [
        Lang::En,
        Lang::Sv,
        Lang::De,
        Lang::Fr,
        Lang::Da,
        Lang::Nb,
        Lang::Fi,
    ];

    /// The BCP 47 code, as in `<html lang>`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Sv => "sv",
            Lang::De => "de",
            Lang::Fr => "fr",
            Lang::Da => "da",
            Lang::Nb => "nb",
            Lang::Fi => "fi",
        }
    }

    /// The language of a code such as `sv`, `sv-SE` or `EN-gb`.
    pub fn from_code(code: &str) -> Option<Lang> {
        let primary = code.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Lang::En),
            "sv" => Some(Lang::Sv),
            "de" => Some(Lang::De),
            "fr" => Some(Lang::Fr),
            "da" => Some(Lang::Da),
            // Norwegian: bokmål is what we have; `no` is the macrolanguage
            // and a nynorsk reader reads bokmål.
            "nb" | "no" | "nn" => Some(Lang::Nb),
            "fi" => Some(Lang::Fi),
            _ => None,
        }
    }

    /// The best supported language in an `Accept-Language` header.
    pub fn negotiate(accept_language: &str) -> Option<Lang> {
        let mut best: Option<(f32, usize, Lang)> = None;
        for (pos, part) in accept_language.split(',').enumerate().take(32) {
            let mut bits = part.split(';');
            let Some(lang) = bits.next().and_then(Lang::from_code) else {
                continue;
            };
            let q = bits
                .find_map(|b| b.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if q <= 0.0 {
                continue;
            }
            // Highest q wins; on a tie, the one listed first.
            if best.is_none_or(|(bq, bpos, _)| q > bq || (q == bq && pos < bpos)) {
                best = Some((q, pos, lang));
            }
        }
        best.map(|(_, _, l)| l)
    }

    /// Its position in [`Lang::ALL`] (for per-language tables).
    pub fn index(self) -> usize {
        self as usize
    }
}

/// Every text of every language, loaded once.
#[derive(Debug)]
pub struct Catalog {
    texts: [HashMap<String, String>; LANGS],
    cldr: Vec<Cldr>,
}

/// What CLDR (ICU4X's compiled data) knows about one language: country
/// names, how numbers are written, which plural form a count takes.
struct Cldr {
    regions: RegionDisplayNames,
    numbers: DecimalFormatter,
    plurals: PluralRules,
}

impl std::fmt::Debug for Cldr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cldr")
    }
}

impl Cldr {
    fn load(lang: Lang) -> Result<Cldr, String> {
        let locale = Locale::try_from_str(lang.code()).map_err(|e| e.to_string())?;
        let failed = |what: &str, e: icu_provider::DataError| {
            format!("CLDR {what} for {}: {e}", lang.code())
        };
        Ok(Cldr {
            regions: RegionDisplayNames::try_new((&locale).into(), DisplayNamesOptions::default())
                .map_err(|e| failed("country names", e))?,
            numbers: DecimalFormatter::try_new((&locale).into(), Default::default())
                .map_err(|e| failed("number formats", e))?,
            plurals: PluralRules::try_new_cardinal((&locale).into())
                .map_err(|e| failed("plural rules", e))?,
        })
    }
}

const SOURCES: [&str; LANGS] = [
    include_str!("i18n/locales/en.toml"),
    include_str!("i18n/locales/sv.toml"),
    include_str!("i18n/locales/de.toml"),
    include_str!("i18n/locales/fr.toml"),
    include_str!("i18n/locales/da.toml"),
    include_str!("i18n/locales/nb.toml"),
    include_str!("i18n/locales/fi.toml"),
];

impl Catalog {
    /// Parses the compiled-in translation files.
    pub fn load() -> Result<Catalog, String> {
        let mut texts: [HashMap<String, String>; LANGS] = Default::default();
        for (lang, src) in Lang::ALL.iter().zip(SOURCES) {
            let table: toml::Table =
                toml::from_str(src).map_err(|e| format!("locales/{}.toml: {e}", lang.code()))?;
            flatten("", &table, &mut texts[lang.index()]);
        }
        let cldr = Lang::ALL
            .iter()
            .map(|l| Cldr::load(*l))
            .collect::<Result<_, _>>()?;
        Ok(Catalog { texts, cldr })
    }

    /// Adds (or replaces) a text: the merchant's own words, such as a
    /// custom status's title, said like any other.
    pub fn add(&mut self, lang: Lang, key: String, text: String) {
        self.texts[lang.index()].insert(key, text);
    }

    /// The keys of one language, sorted (for the completeness test).
    pub fn keys(&self, lang: Lang) -> Vec<&str> {
        let mut k: Vec<&str> = self.texts[lang.index()]
            .keys()
            .map(String::as_str)
            .collect();
        k.sort_unstable();
        k
    }
}

fn flatten(prefix: &str, table: &toml::Table, out: &mut HashMap<String, String>) {
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::Table(t) => flatten(&key, t, out),
            toml::Value::String(s) => {
                out.insert(key, s.clone());
            }
            other => {
                out.insert(key, other.to_string());
            }
        }
    }
}

/// One request's language, with the shop's time zone: what pages use to
/// say anything.
#[derive(Debug, Clone)]
pub struct I18n {
    pub lang: Lang,
    pub tz: Tz,
    catalog: Arc<Catalog>,
}

impl I18n {
    pub fn new(lang: Lang, tz: Tz, catalog: Arc<Catalog>) -> I18n {
        I18n { lang, tz, catalog }
    }

    /// The shared catalogue, for rendering another language's text.
    pub fn catalog(&self) -> Arc<Catalog> {
        Arc::clone(&self.catalog)
    }

    /// The name of the country with ISO code `code` (`SE`) in this
    /// language: "Sweden", "Sverige".
    pub fn country(&self, code: &str) -> Option<String> {
        let region = Region::try_from_str(&code.trim().to_ascii_uppercase()).ok()?;
        self.cldr().regions.of(region).map(str::to_string)
    }

    fn cldr(&self) -> &Cldr {
        &self.catalog.cldr[self.lang.index()]
    }

    /// `one` or `other` by this language's plural rule for `n` (CLDR:
    /// French says "0 seconde", English "0 seconds"), with `{n}` filled.
    pub fn plural(&self, n: u64, one: &str, other: &str) -> String {
        let key = match self.cldr().plurals.category_for(n) {
            PluralCategory::One => one,
            _ => other,
        };
        self.tf(key, &[("n", &self.number(n))])
    }

    /// [`I18n::plural`] with more placeholders than `{n}`.
    pub fn plural_tf(&self, n: u64, one: &str, other: &str, args: &[(&str, &str)]) -> String {
        let key = match self.cldr().plurals.category_for(n) {
            PluralCategory::One => one,
            _ => other,
        };
        let number = self.number(n);
        let mut all = vec![("n", number.as_str())];
        all.extend_from_slice(args);
        self.tf(key, &all)
    }

    /// A whole number written the local way ("1,234", "1 234").
    pub fn number(&self, n: u64) -> String {
        self.cldr()
            .numbers
            .format(&FixedDecimal::from(n))
            .write_to_string()
            .into_owned()
    }

    /// `x` with `digits` decimals, written the local way ("1.5", "1,5").
    pub fn decimal(&self, x: f64, digits: usize) -> String {
        self.local_digits(format!("{x:.digits$}"))
    }

    /// A plain decimal ("1234.5") written by CLDR's rules for this
    /// language (grouping, decimal mark, minus sign); as it is if it is
    /// not one.
    fn local_digits(&self, text: String) -> String {
        match FixedDecimal::try_from_str(&text) {
            Ok(d) => self
                .cldr()
                .numbers
                .format(&d)
                .write_to_string()
                .into_owned(),
            Err(_) => text,
        }
    }

    /// A share (0 to 1) as a whole percentage ("42%", "42 %").
    pub fn percent(&self, share: f64) -> String {
        self.tf(
            "insights.percent",
            &[("n", &self.decimal((share * 100.0).round(), 0))],
        )
    }

    /// A country as a carrier scan gives it: a code (`DE`) named in this
    /// language, anything else as it is.
    /// "Malmö, Sverige": where a carrier scanned a parcel, the country named
    /// in this language.
    pub fn scan_place(&self, city: Option<&str>, country: Option<&str>) -> String {
        let country = country.map(|c| self.country_or_name(c));
        [city.map(str::trim).map(str::to_string), country]
            .into_iter()
            .flatten()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// "The carrier's latest: “Sorted” (Malmö, Sverige)".
    pub fn carrier_says(&self, w: &CarrierWords) -> String {
        let place = self.scan_place(w.city.as_deref(), w.country.as_deref());
        if place.is_empty() {
            self.tf("package.carrier_says", &[("message", &w.message)])
        } else {
            self.tf(
                "package.carrier_says_at",
                &[("message", &w.message), ("place", &place)],
            )
        }
    }

    pub fn country_or_name(&self, country: &str) -> String {
        let c = country.trim();
        if c.len() == 2
            && c.bytes().all(|b| b.is_ascii_alphabetic())
            && let Some(name) = self.country(c)
        {
            return name;
        }
        c.to_string()
    }

    /// The text for `key`; English if this language lacks it, the key
    /// itself if no language has it (a test keeps that from happening).
    pub fn t(&self, key: &str) -> String {
        self.catalog.texts[self.lang.index()]
            .get(key)
            .or_else(|| self.catalog.texts[Lang::En.index()].get(key))
            .cloned()
            .unwrap_or_else(|| key.to_string())
    }

    /// The text for `key` with `{name}` placeholders filled in.
    pub fn tf(&self, key: &str, args: &[(&str, &str)]) -> String {
        fill(&self.t(key), args)
    }

    /// `key` if this language has it, else `fallback` (for enum values
    /// Shopify may add later).
    fn t_or(&self, key: &str, fallback: &str, args: &[(&str, &str)]) -> String {
        if self.catalog.texts[Lang::En.index()].contains_key(key) {
            self.tf(key, args)
        } else {
            self.tf(fallback, args)
        }
    }

    /// "1 Dec" / "1 dec.".
    pub fn date(&self, d: NaiveDate) -> String {
        self.date_with("date.short", d, None)
    }

    /// "1 Dec" this year (the year of `today`), "1 Dec 2025" another.
    pub fn date_near(&self, d: NaiveDate, today: NaiveDate) -> String {
        if d.year() == today.year() {
            self.date(d)
        } else {
            self.date_with("date.short_year", d, None)
        }
    }

    /// "1 December 2026".
    pub fn long_date(&self, d: NaiveDate) -> String {
        self.date_with("date.long", d, None)
    }

    /// "1 Dec, 14:05" in the shop's time zone.
    pub fn date_time(&self, t: DateTime<Utc>) -> String {
        let local = t.with_timezone(&self.tz);
        let time = format!("{:02}:{:02}", local.hour(), local.minute());
        self.date_with("date.date_time", local.date_naive(), Some(&time))
    }

    /// "1 Dec, 14:05 CET": [`I18n::date_time`] with the shop's zone named,
    /// for a shopper who may live in another one.
    pub fn date_time_zoned(&self, t: DateTime<Utc>) -> String {
        use chrono_tz::OffsetName;
        let local = t.with_timezone(&self.tz);
        // Zones without a letter abbreviation (tzdata writes "+03") get
        // their offset from UTC.
        let zone = local
            .offset()
            .abbreviation()
            .filter(|a| a.starts_with(|c: char| c.is_ascii_alphabetic()))
            .map_or_else(|| format!("UTC{}", local.format("%:z")), str::to_string);
        format!("{} {zone}", self.date_time(t))
    }

    /// The local calendar date of an instant.
    pub fn local_date(&self, t: DateTime<Utc>) -> NaiveDate {
        t.with_timezone(&self.tz).date_naive()
    }

    fn date_with(&self, key: &str, d: NaiveDate, time: Option<&str>) -> String {
        let month = d.month0() as usize;
        let short = self.t("date.months_short");
        let long = self.t("date.months");
        let mon = short.split(' ').nth(month).unwrap_or("");
        let month_name = long.split(' ').nth(month).unwrap_or("");
        fill(
            &self.t(key),
            &[
                ("d", &d.day().to_string()),
                ("mon", mon),
                ("month", month_name),
                ("yyyy", &d.year().to_string()),
                ("time", time.unwrap_or("")),
            ],
        )
    }

    /// "today", "tomorrow", "Thursday", "3 Dec".
    pub fn day(&self, day: Day) -> String {
        match day {
            Day::Today => self.t("day.today"),
            Day::Tomorrow => self.t("day.tomorrow"),
            Day::Weekday(w) => self.t(match w {
                Weekday::Mon => "day.mon",
                Weekday::Tue => "day.tue",
                Weekday::Wed => "day.wed",
                Weekday::Thu => "day.thu",
                Weekday::Fri => "day.fri",
                Weekday::Sat => "day.sat",
                Weekday::Sun => "day.sun",
            }),
            Day::Date(d) => self.date(d),
        }
    }

    /// Money in the order's currency, written the local way:
    /// "$1,234.50", "1 234,50 kr", "€95.00", "95,00 €".
    /// An amount that may be unknown (an impossible sum): "unavailable".
    pub fn money_or_unavailable(&self, amount: Option<Decimal>, currency: &str) -> String {
        match amount {
            Some(a) => self.money(a, currency),
            None => self.t("payment.unavailable"),
        }
    }

    pub fn money(&self, amount: Decimal, currency: &str) -> String {
        // The number from CLDR (grouping, decimal mark, minus sign); where
        // the currency goes is ours: English puts the symbol first, the
        // other six languages after, and each writes its own krona/krone.
        let number = self.local_digits(format!("{:.2}", amount.round_dp(2)));
        let symbol = match currency {
            "USD" => Some("$"),
            "EUR" => Some("€"),
            "GBP" => Some("£"),
            _ => None,
        };
        let local = match (self.lang, currency) {
            (Lang::Sv, "SEK") | (Lang::Nb, "NOK") => Some("kr"),
            (Lang::Da, "DKK") => Some("kr."),
            _ => None,
        };
        match (self.lang, local.or(symbol), currency) {
            (_, None, "") => number,
            (Lang::En, Some(s), _) => format!("{s}{number}"),
            (Lang::En, None, c) => format!("{c}\u{a0}{number}"),
            (_, Some(s), _) => format!("{number}\u{a0}{s}"),
            (_, None, c) => format!("{number}\u{a0}{c}"),
        }
    }

    /// "45 seconds", "1 minute", "15 minutes" (rounded up).
    pub fn duration(&self, secs: u64) -> String {
        if secs < 60 {
            self.plural(secs.max(1), "time.second", "time.seconds")
        } else {
            self.plural(secs.div_ceil(60), "time.minute", "time.minutes")
        }
    }

    /// The headline in this language.
    pub fn headline(&self, h: &Headline) -> String {
        match h {
            Headline::AwaitingPayment => self.t("headline.awaiting_payment"),
            Headline::Preparing => self.t("headline.preparing"),
            Headline::InStage(stage) => {
                self.tf("headline.in_stage", &[("stage", &self.stage(stage))])
            }
            Headline::OnHold(r) => self.tf(
                "headline.on_hold_reason",
                &[("reason", &self.enum_text("hold", r.as_str(), &[]))],
            ),
            Headline::Scheduled(Some(d)) => {
                self.tf("headline.scheduled", &[("date", &self.date(*d))])
            }
            Headline::Scheduled(None) => self.t("headline.scheduled_undated"),
            Headline::PartlyShipped => self.t("headline.partly_shipped"),
            Headline::OnItsWay => self.t("headline.on_its_way"),
            Headline::Arriving(day) => self.tf("headline.arriving", &[("day", &self.day(*day))]),
            Headline::OutForDelivery => self.t("headline.out_for_delivery"),
            Headline::ReadyForPickup => self.t("headline.ready_for_pickup"),
            Headline::Delivered(d) => self.tf("headline.delivered", &[("date", &self.date(*d))]),
            Headline::DeliveryProblem(Problem::Failed) => self.t("headline.problem_failed"),
            Headline::DeliveryProblem(Problem::AttemptedDelivery) => {
                self.t("headline.problem_attempted")
            }
            Headline::DeliveryProblem(Problem::Delayed) => self.t("headline.problem_delayed"),
            Headline::Cancelled(r) => self.t(match r {
                RefundState::Refunded => "headline.cancelled_refunded",
                RefundState::PartiallyRefunded => "headline.cancelled_partly_refunded",
                RefundState::Voided => "headline.cancelled_voided",
                RefundState::NotRefunded => "headline.cancelled",
            }),
            Headline::ReturnRequested => self.t("headline.return_requested"),
            Headline::ReturnInProgress => self.t("headline.return_in_progress"),
            Headline::Returned { refunded: true } => self.t("headline.returned_refunded"),
            Headline::Returned { refunded: false } => self.t("headline.returned"),
            Headline::Refunded => self.t("headline.refunded"),
            Headline::NothingToShip => self.t("headline.nothing_to_ship"),
        }
    }

    /// Why an item has not shipped yet, in a sentence.
    pub fn wait_reason(&self, reason: &WaitReason) -> String {
        match reason {
            WaitReason::Preparing => self.t("waiting.preparing"),
            WaitReason::AwaitingPayment => self.t("waiting.awaiting_payment"),
            WaitReason::Stage(s) => self.tf("waiting.stage", &[("stage", &self.stage(s))]),
            WaitReason::OnHold(r) => {
                let reason = self.enum_text("hold", r.as_str(), &[]);
                self.tf("waiting.on_hold", &[("reason", &reason)])
            }
            WaitReason::Scheduled(Some(d)) => {
                self.tf("waiting.scheduled", &[("date", &self.date(*d))])
            }
            WaitReason::Scheduled(None) => self.t("waiting.scheduled_undated"),
            WaitReason::Cancelled => self.t("waiting.cancelled"),
            WaitReason::Refunded => self.t("waiting.refunded"),
        }
    }

    /// Where some units of a line are: "in package 2 of 3: In transit".
    pub fn place(&self, place: &Place) -> String {
        match place {
            Place::Package {
                of: Some(1),
                status,
                ..
            } => self.tf(
                "items.shipped",
                &[("status", &self.enum_text("shipment", status.as_str(), &[]))],
            ),
            Place::Package {
                number,
                of: Some(of),
                status,
            } => self.tf(
                "items.in_package",
                &[
                    ("number", &number.to_string()),
                    ("of", &of.to_string()),
                    ("status", &self.enum_text("shipment", status.as_str(), &[])),
                ],
            ),
            Place::Package {
                number,
                of: None,
                status,
            } => self.tf(
                "items.in_package_so_far",
                &[
                    ("number", &number.to_string()),
                    ("status", &self.enum_text("shipment", status.as_str(), &[])),
                ],
            ),
            Place::Shipped => self.t("items.sent"),
            Place::Cancelled => self.t("items.cancelled"),
            Place::Refunded => self.t("items.refunded"),
            Place::Waiting(reason) => {
                self.tf("items.waiting", &[("reason", &self.wait_reason(reason))])
            }
            Place::Returned(state) => self.tf(
                "items.returned",
                &[("state", &self.enum_text("returns", state.as_str(), &[]))],
            ),
            Place::Removed => self.t("items.removed"),
            Place::NoShipping => self.t("items.no_shipping"),
        }
    }

    /// A package's title: "Package 2 of 3", or "Package 2" while more are
    /// to come.
    pub fn package_title(&self, number: usize, of: Option<usize>) -> String {
        match of {
            Some(of) => self.tf(
                "package.title",
                &[("n", &number.to_string()), ("of", &of.to_string())],
            ),
            None => self.tf("package.title_so_far", &[("n", &number.to_string())]),
        }
    }

    /// A merchant step's name: a configured status's title, or the name as
    /// given (stages imported by name).
    pub fn stage(&self, name_or_id: &str) -> String {
        self.known(&format!("custom_status.{name_or_id}.title"))
            .unwrap_or_else(|| name_or_id.to_string())
    }

    /// A step's name: a merchant status's title, or the step's own.
    pub fn step(&self, s: &Step) -> String {
        match &s.label {
            Some(l) => self.stage(l),
            None if s.pickup && s.kind == StepKind::OutForDelivery => {
                self.t("step.ready_for_pickup")
            }
            None if s.pickup && s.kind == StepKind::Delivered => self.t("step.picked_up"),
            None => self.t(match s.kind {
                StepKind::Confirmed => "step.confirmed",
                StepKind::Preparing => "step.preparing",
                StepKind::Shipped => "step.shipped",
                StepKind::OutForDelivery => "step.out_for_delivery",
                StepKind::Delivered => "step.delivered",
                StepKind::Cancelled => "step.cancelled",
                StepKind::Return => "step.return",
                StepKind::Refunded => "step.refunded",
            }),
        }
    }

    /// The text of `key` in this language, when there is one.
    fn known(&self, key: &str) -> Option<String> {
        self.catalog.texts[self.lang.index()].get(key).cloned()
    }

    /// The one-line explanation under some headlines.
    pub fn headline_detail(&self, h: &Headline) -> Option<String> {
        let key = match h {
            Headline::InStage(id) => {
                return self.known(&format!("custom_status.{id}.description"));
            }
            Headline::AwaitingPayment => "detail.awaiting_payment",
            Headline::OnHold(r) => {
                // What the shopper can do, when the hold waits for them.
                return Some(
                    self.known(&format!("hold_action.{}", r.as_str()))
                        .unwrap_or_else(|| self.t("detail.on_hold")),
                );
            }
            Headline::DeliveryProblem(Problem::Failed) => "detail.problem_failed",
            Headline::DeliveryProblem(Problem::AttemptedDelivery) => "detail.problem_attempted",
            Headline::DeliveryProblem(Problem::Delayed) => "detail.problem_delayed",
            Headline::ReadyForPickup => "detail.ready_for_pickup",
            Headline::PartlyShipped => "detail.partly_shipped",
            _ => return None,
        };
        Some(self.t(key))
    }

    /// A Shopify enum value's text from `section`, e.g. `shipment.IN_TRANSIT`;
    /// values we do not know yet get the section's `unknown` text.
    pub fn enum_text(&self, section: &str, value: &str, args: &[(&str, &str)]) -> String {
        let mut all = args.to_vec();
        all.push(("status", value));
        self.t_or(
            &format!("{section}.{value}"),
            &format!("{section}.unknown"),
            &all,
        )
    }
}

/// Replaces `{name}` with its value; unknown placeholders stay as written.
pub fn fill(template: &str, args: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let name = &after[..close];
                match args.iter().find(|(k, _)| *k == name) {
                    Some((_, v)) => out.push_str(v),
                    None => {
                        out.push('{');
                        out.push_str(name);
                        out.push('}');
                    }
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn i18n(lang: Lang) -> I18n {
        I18n::new(
            lang,
            chrono_tz::Europe::Stockholm,
            Arc::new(Catalog::load().expect("catalog")),
        )
    }

    #[test]
    fn countries_are_named_in_the_pages_language_from_cldr() {
        assert_eq!(i18n(Lang::En).country("SE").as_deref(), Some("Sweden"));
        assert_eq!(i18n(Lang::Sv).country("se").as_deref(), Some("Sverige"));
        assert_eq!(i18n(Lang::Sv).country("DE").as_deref(), Some("Tyskland"));
        assert_eq!(i18n(Lang::En).country("QQ"), None);
        assert_eq!(i18n(Lang::En).country("not a code"), None);
    }

    #[test]
    fn a_date_names_its_year_only_when_it_is_not_this_one() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 5).expect("day");
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).expect("day");
        assert_eq!(i18n(Lang::En).date_near(d(2026, 11, 30), today), "30 Nov");
        assert_eq!(
            i18n(Lang::En).date_near(d(2025, 11, 30), today),
            "30 Nov 2025"
        );
        assert_eq!(
            i18n(Lang::De).date_near(d(2025, 3, 1), today),
            "1. März 2025"
        );
    }

    #[test]
    fn plurals_with_more_to_say_take_the_languages_rule() {
        let args = [("status", "QC"), ("search", "x")];
        let q = |lang, n| {
            i18n(lang).plural_tf(n, "tools.bulk_confirm_q_one", "tools.bulk_confirm_q", &args)
        };
        assert_eq!(q(Lang::En, 1), "Set “QC” on 1 order (x)?");
        assert_eq!(q(Lang::En, 2), "Set “QC” on 2 orders (x)?");
        assert_eq!(q(Lang::Sv, 1), "Sätta ”QC” på 1 order (x)?");
        assert_eq!(q(Lang::Sv, 1_000), "Sätta ”QC” på 1\u{a0}000 ordrar (x)?");
    }

    #[test]
    fn every_language_has_exactly_the_english_keys() {
        let c = Catalog::load().expect("catalog");
        for lang in Lang::ALL {
            assert_eq!(c.keys(lang), c.keys(Lang::En), "{}", lang.code());
        }
        assert!(c.keys(Lang::En).len() > 150);
    }

    #[test]
    fn every_translation_fills_the_same_placeholders_as_english() {
        let c = Catalog::load().expect("catalog");
        let names = |text: &str| {
            let mut found: Vec<String> = text
                .split('{')
                .skip(1)
                .filter_map(|rest| rest.split_once('}').map(|(name, _)| name.to_string()))
                .collect();
            found.sort();
            found.dedup();
            found
        };
        for lang in Lang::ALL {
            for (key, text) in &c.texts[lang.index()] {
                let english = &c.texts[Lang::En.index()][key];
                assert_eq!(names(text), names(english), "{}: {key}", lang.code());
            }
        }
    }

    #[test]
    fn accept_language_picks_the_best_supported() {
        assert_eq!(Lang::negotiate("sv-SE,sv;q=0.9,en;q=0.8"), Some(Lang::Sv));
        assert_eq!(Lang::negotiate("ja, en;q=0.5, sv;q=0.7"), Some(Lang::Sv));
        assert_eq!(Lang::negotiate("fr-CA, de"), Some(Lang::Fr));
        assert_eq!(Lang::negotiate("no, en;q=0.1"), Some(Lang::Nb));
        assert_eq!(Lang::negotiate("ja, zh"), None);
        assert_eq!(Lang::negotiate("sv;q=0, en"), Some(Lang::En));
        assert_eq!(Lang::negotiate(""), None);
        assert_eq!(Lang::negotiate(";;;,,q=abc"), None);
    }

    #[test]
    fn dates_days_and_money_the_local_way() {
        let en = i18n(Lang::En);
        let sv = i18n(Lang::Sv);
        let d = NaiveDate::from_ymd_opt(2026, 12, 1).expect("date");
        assert_eq!(en.date(d), "1 Dec");
        assert_eq!(sv.date(d), "1 dec.");
        assert_eq!(sv.long_date(d), "1 december 2026");
        assert_eq!(en.day(Day::Weekday(Weekday::Thu)), "Thursday");
        assert_eq!(
            sv.headline(&Headline::Arriving(Day::Weekday(Weekday::Thu))),
            "Kommer på torsdag"
        );
        let t = DateTime::parse_from_rfc3339("2026-11-30T23:30:00Z")
            .expect("time")
            .with_timezone(&Utc);
        assert_eq!(en.date_time(t), "1 Dec, 00:30", "shown in the shop's zone");
        let m = Decimal::new(123_450, 2);
        assert_eq!(en.money(m, "USD"), "$1,234.50");
        assert_eq!(sv.money(m, "SEK"), "1\u{a0}234,50\u{a0}kr");
        assert_eq!(en.money(m, "SEK"), "SEK\u{a0}1,234.50");
        assert_eq!(sv.money(Decimal::new(9500, 2), "EUR"), "95,00\u{a0}€");
    }

    #[test]
    fn every_language_writes_money_dates_and_counts_its_own_way() {
        let m = Decimal::new(123_450, 2);
        let d = NaiveDate::from_ymd_opt(2026, 12, 1).expect("date");
        let cases = [
            (
                Lang::De,
                "1.234,50\u{a0}€",
                "1. Dez.",
                "1 Sekunde",
                "2 Sekunden",
            ),
            (
                Lang::Fr,
                "1\u{202f}234,50\u{a0}€",
                "1 déc.",
                "1 seconde",
                "2 secondes",
            ),
            (
                Lang::Da,
                "1.234,50\u{a0}€",
                "1. dec.",
                "1 sekund",
                "2 sekunder",
            ),
            (
                Lang::Nb,
                "1\u{a0}234,50\u{a0}€",
                "1. des.",
                "1 sekund",
                "2 sekunder",
            ),
            (
                Lang::Fi,
                "1\u{a0}234,50\u{a0}€",
                "1. jouluk.",
                "1 sekunti",
                "2 sekuntia",
            ),
        ];
        for (lang, money, date, one, two) in cases {
            let i = i18n(lang);
            assert_eq!(i.money(m, "EUR"), money, "{}", lang.code());
            assert_eq!(i.date(d), date, "{}", lang.code());
            assert_eq!(i.duration(1), one, "{}", lang.code());
            assert_eq!(i.duration(2), two, "{}", lang.code());
        }
        // Each Nordic language writes its own crown.
        assert_eq!(i18n(Lang::Da).money(m, "DKK"), "1.234,50\u{a0}kr.");
        assert_eq!(i18n(Lang::Nb).money(m, "NOK"), "1\u{a0}234,50\u{a0}kr");
        assert_eq!(i18n(Lang::De).money(m, "SEK"), "1.234,50\u{a0}SEK");
        // CLDR's plural rules, not "n == 1": French puts 0 in the singular.
        assert_eq!(
            i18n(Lang::Fr).plural(0, "staff.results_one", "staff.results"),
            "0 commande"
        );
        assert_eq!(
            i18n(Lang::En).plural(0, "staff.results_one", "staff.results"),
            "0 orders"
        );
        assert_eq!(
            i18n(Lang::En).plural(1_500, "staff.results_one", "staff.results"),
            "1,500 orders"
        );
        assert_eq!(i18n(Lang::Fi).country("SE").as_deref(), Some("Ruotsi"));
        assert_eq!(i18n(Lang::De).country("SE").as_deref(), Some("Schweden"));
    }

    #[test]
    fn unknown_enum_values_get_a_generic_text() {
        let en = i18n(Lang::En);
        assert_eq!(en.enum_text("shipment", "IN_TRANSIT", &[]), "In transit");
        assert_eq!(
            en.enum_text("shipment", "TELEPORTED", &[]),
            "Update from the carrier"
        );
    }

    #[test]
    fn fill_replaces_known_placeholders_only() {
        assert_eq!(fill("a {x} b {y}", &[("x", "1")]), "a 1 b {y}");
        assert_eq!(fill("unclosed {x", &[("x", "1")]), "unclosed {x");
    }

    /// Every text key written in the code (a literal `"section.key"` of a
    /// section the catalogue has) is in every language: a typo would show
    /// the key itself to a shopper. Keys put together at run time
    /// (`format!("email.subject_{}", ...)`) are checked where they are made,
    /// by rendering every variant (see notify and the timeline's tests).
    #[test]
    fn every_key_the_code_uses_is_in_every_language() {
        let c = Catalog::load().expect("catalog");
        let sections: std::collections::BTreeSet<&str> = c
            .keys(Lang::En)
            .into_iter()
            .filter_map(|k| k.split_once('.').map(|(s, _)| s))
            .collect();
        // Literals of that shape that are not texts: audit actions, a
        // setting's name in an error, and file names (`staff.json`).
        let not_texts = [
            "status.set",
            "status.bulk",
            "status.clear",
            "link.share",
            "link.revoke",
            "status.id",
        ];
        let file_kinds = ["json", "js", "lock", "toml", "css"];
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = vec![root];
        let mut used = std::collections::BTreeMap::new();
        while let Some(path) = files.pop() {
            if path.is_dir() {
                for entry in std::fs::read_dir(&path).expect("src dir") {
                    files.push(entry.expect("entry").path());
                }
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("source");
            for literal in text.split('"').skip(1).step_by(2) {
                let Some((section, key)) = literal.split_once('.') else {
                    continue;
                };
                let shaped = !key.is_empty()
                    && key
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
                if shaped
                    && sections.contains(section)
                    && !not_texts.contains(&literal)
                    && !file_kinds.contains(&key)
                {
                    used.entry(literal.to_string())
                        .or_insert_with(|| path.display().to_string());
                }
            }
        }
        assert!(used.len() > 200, "the scan finds the keys ({})", used.len());
        let mut missing = Vec::new();
        for lang in Lang::ALL {
            let have = c.keys(lang);
            for (key, file) in &used {
                if have.binary_search(&key.as_str()).is_err() {
                    missing.push(format!("{key} (used in {file}) in {}", lang.code()));
                }
            }
        }
        assert!(missing.is_empty(), "missing texts: {missing:#?}");
    }
}
