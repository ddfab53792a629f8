//! Staff search: free text plus filters, sorted and paged.
//!
//! The text is not handed to tantivy's query parser: staff type names,
//! emails and "#1042", not query syntax, and a stray quote or `*:*` must
//! not be an error. The text is tokenised like the `all` field and every
//! word must match, exactly, as the start of a longer word (part of an
//! email), or, for words of five letters or more, with one typo. An exact
//! order number or tracking number adds a large boost so it ranks first.

use std::ops::Bound;

use chrono::{DateTime, Utc};
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, EnableScoring, FuzzyTermQuery, Occur, Query, RangeQuery,
    TermQuery,
};
use tantivy::schema::IndexRecordOption;
use tantivy::tokenizer::TokenStream;
use tantivy::{DocAddress, DocSet, Searcher, TERMINATED, Term};

use super::schema::{Fields, normalize_tracking, to_tantivy_date};
use super::{StoreError, load};
use crate::order::search::{SearchField, searchable};
use crate::order::{
    FinancialStatus, FulfillmentStatus, Order, OrderState, ReturnStatus, normalize_order_number,
};

/// Most tokens a query may have; the rest are ignored.
const MAX_TOKENS: usize = 8;
/// Shortest word also matched as the start of a longer one.
const MIN_PREFIX_CHARS: usize = 3;
/// Shortest word also matched with one typo.
const MIN_FUZZY_CHARS: usize = 5;
/// Longest token the `all` field keeps (tantivy's default tokenizer).
const MAX_TOKEN_BYTES: usize = 40;
/// Largest page size.
pub const MAX_PER_PAGE: usize = 100;

/// Narrowing a search; every set filter must hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filters {
    pub shop: Option<String>,
    pub financial: Option<FinancialStatus>,
    pub fulfillment: Option<FulfillmentStatus>,
    pub return_status: Option<ReturnStatus>,
    pub state: Option<OrderState>,
    /// Created at or after.
    pub created_from: Option<DateTime<Utc>>,
    /// Created before.
    pub created_to: Option<DateTime<Utc>>,
}

/// Result order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Sort {
    /// Best match first; most recently updated first for an empty query.
    #[default]
    Relevance,
    UpdatedDesc,
    CreatedDesc,
}

/// A search: text, filters, sort and page (0-based).
#[derive(Debug, Clone, PartialEq)]
pub struct SearchQuery {
    pub text: String,
    pub filters: Filters,
    pub sort: Sort,
    pub page: usize,
    pub per_page: usize,
}

impl Default for SearchQuery {
    fn default() -> Self {
        SearchQuery {
            text: String::new(),
            filters: Filters::default(),
            sort: Sort::default(),
            page: 0,
            per_page: 20,
        }
    }
}

/// One page of hits and how many there are in all.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchResults {
    /// How many orders match: exact when finding the page walked every
    /// match (a ranked search, a narrow listing), else counted up to
    /// [`COUNT_LIMIT`].
    pub total: usize,
    /// More than `total` match: counting stopped at [`COUNT_LIMIT`].
    pub more: bool,
    pub hits: Vec<Order>,
}

/// Where a listing that did not walk every match stops counting them.
/// Staff page through at most this many (500 pages of 20), and counting
/// every one of 600,000 matches was more than half of a broad listing's
/// time at a million orders.
pub const COUNT_LIMIT: usize = 10_000;

pub(super) fn search(
    searcher: &Searcher,
    f: &Fields,
    q: &SearchQuery,
) -> Result<SearchResults, StoreError> {
    let per_page = q.per_page.clamp(1, MAX_PER_PAGE);
    let offset = q.page.saturating_mul(per_page);
    let query = build(searcher, f, q)?;
    let by_date = match q.sort {
        Sort::Relevance if !q.text.trim().is_empty() => None,
        Sort::Relevance | Sort::UpdatedDesc => Some(f.updated_at),
        Sort::CreatedDesc => Some(f.created_at),
    };
    let (addrs, counted): (Vec<DocAddress>, Option<usize>) = match by_date {
        // Ranking walks every match, so counting them on the way is free.
        None => {
            let top = TopDocs::with_limit(per_page).and_offset(offset);
            let (n, hits) = searcher
                .search(&query, &(Count, top))
                .map_err(StoreError::read)?;
            (hits.into_iter().map(|(_, a)| a).collect(), Some(n))
        }
        Some(field) => {
            let need = offset.saturating_add(per_page);
            let filters_only = q.text.trim().is_empty();
            let mut newest =
                super::newest::newest(searcher, query.as_ref(), field, need, filters_only)?;
            tracing::trace!(way = ?newest.way, need, "newest-first listing");
            newest.hits.drain(..offset.min(newest.hits.len()));
            (newest.hits, newest.counted)
        }
    };
    let (total, more) = match counted {
        Some(n) => (n, false),
        None => count_up_to(searcher, query.as_ref(), COUNT_LIMIT)?,
    };
    let hits = addrs
        .into_iter()
        .map(|a| load(searcher, f, a))
        .collect::<Result<_, _>>()?;
    Ok(SearchResults { total, more, hits })
}

/// How many orders `query` matches, up to `limit`, and whether there are
/// more.
pub(super) fn count_up_to(
    searcher: &Searcher,
    query: &dyn Query,
    limit: usize,
) -> Result<(usize, bool), StoreError> {
    let weight = query
        .weight(EnableScoring::disabled_from_searcher(searcher))
        .map_err(StoreError::read)?;
    let mut n = 0usize;
    for reader in searcher.segment_readers() {
        let alive = reader.alive_bitset();
        let mut scorer = weight.scorer(reader, 1.0).map_err(StoreError::read)?;
        let mut doc = scorer.doc();
        while doc != TERMINATED {
            if alive.is_none_or(|a| a.is_alive(doc)) {
                if n == limit {
                    return Ok((n, true));
                }
                n += 1;
            }
            doc = scorer.advance();
        }
    }
    Ok((n, false))
}

/// The keys of every order `q` matches (its page and sort aside), when
/// there are at most `max`; otherwise only how many there are.
pub(super) fn all_keys(
    searcher: &Searcher,
    f: &Fields,
    q: &SearchQuery,
    max: usize,
) -> Result<(usize, Option<Vec<String>>), StoreError> {
    let query = build(searcher, f, q)?;
    let total = searcher.search(&query, &Count).map_err(StoreError::read)?;
    if total > max {
        return Ok((total, None));
    }
    let addrs = searcher
        .search(&query, &tantivy::collector::DocSetCollector)
        .map_err(StoreError::read)?;
    let mut keys = addrs
        .into_iter()
        .map(|a| load(searcher, f, a).map(|o| o.key()))
        .collect::<Result<Vec<_>, _>>()?;
    keys.sort_unstable();
    Ok((total, Some(keys)))
}

/// Which groups of `order`'s values the words of `text` match, by the
/// rules the search itself uses (see [`token_query`]): for staff, "matched
/// in: email, product".
pub fn matched_fields(order: &Order, text: &str) -> Vec<SearchField> {
    let mut words: Vec<String> = tokens(text).collect();
    words.sort();
    words.dedup();
    words.truncate(MAX_TOKENS);
    let mut found: Vec<SearchField> = Vec::new();
    if words.is_empty() {
        return found;
    }
    let number = order.order_number.to_string();
    let customer = order.customer_name();
    searchable(order, &number, customer.as_deref(), |field, value| {
        if !found.contains(&field)
            && tokens(value).any(|t| words.iter().any(|w| word_matches(w, &t)))
        {
            found.push(field);
        }
    });
    found.sort();
    found
}

/// Text as the `all` field's tokenizer cuts it: runs of letters and
/// digits, lower-cased, over-long ones dropped.
fn tokens(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty() && t.len() <= MAX_TOKEN_BYTES)
        .map(str::to_lowercase)
}

/// Whether a typed word finds an indexed token: the three ways of
/// [`token_query`].
fn word_matches(word: &str, token: &str) -> bool {
    let chars = word.chars().count();
    token == word
        || (chars >= MIN_PREFIX_CHARS && token.starts_with(word))
        || (chars >= MIN_FUZZY_CHARS
            && !word.bytes().any(|b| b.is_ascii_digit())
            && one_edit_apart(token, word))
}

/// At most one insertion, deletion, substitution or swap of neighbours
/// (tantivy's fuzzy distance 1 with transpositions).
fn one_edit_apart(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.len().abs_diff(b.len()) > 1 {
        return false;
    }
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let (ra, rb) = (&a[prefix..], &b[prefix..]);
    match ra.len().cmp(&rb.len()) {
        std::cmp::Ordering::Equal => {
            ra.is_empty()
                || ra[1..] == rb[1..]
                || (ra.len() >= 2 && ra[0] == rb[1] && ra[1] == rb[0] && ra[2..] == rb[2..])
        }
        std::cmp::Ordering::Greater => ra[1..] == *rb,
        std::cmp::Ordering::Less => *ra == rb[1..],
    }
}

/// One typed word: the exact token (ranked highest), a token it is the
/// start of ("lindq" finds "lindqvist", part of an email), and for longer
/// words one typo away ("lindqvst").
fn token_query(f: &Fields, token: &str) -> Box<dyn Query> {
    let term = Term::from_field_text(f.all, token);
    let mut any: Vec<(Occur, Box<dyn Query>)> = vec![(
        Occur::Should,
        Box::new(BoostQuery::new(
            Box::new(TermQuery::new(term.clone(), IndexRecordOption::WithFreqs)),
            3.0,
        )),
    )];
    let chars = token.chars().count();
    if chars >= MIN_PREFIX_CHARS {
        any.push((
            Occur::Should,
            Box::new(FuzzyTermQuery::new_prefix(term.clone(), 0, true)),
        ));
    }
    if chars >= MIN_FUZZY_CHARS && !token.bytes().any(|b| b.is_ascii_digit()) {
        // Words with digits are numbers, SKUs, tracking codes: one typo
        // away is another, real one.
        any.push((Occur::Should, Box::new(FuzzyTermQuery::new(term, 1, true))));
    }
    if any.len() == 1 {
        return any
            .pop()
            .map(|(_, q)| q)
            .unwrap_or_else(|| Box::new(AllQuery));
    }
    Box::new(BooleanQuery::new(any))
}

fn term_query(term: Term) -> Box<dyn Query> {
    Box::new(TermQuery::new(term, IndexRecordOption::Basic))
}

pub(super) fn build(
    searcher: &Searcher,
    f: &Fields,
    q: &SearchQuery,
) -> Result<Box<dyn Query>, StoreError> {
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    let text = q.text.trim();
    // A whole email address: its orders by one exact term, when it has
    // any (its words, "example" and "com" among them, would make every
    // order a candidate); otherwise the words, for an address half typed.
    let email = crate::order::normalize_email(text);
    let email_term = Term::from_field_text(f.email, &email);
    let whole_email = email.contains('@')
        && !email.contains(char::is_whitespace)
        && searcher.doc_freq(&email_term).map_err(StoreError::read)? > 0;
    if whole_email {
        clauses.push((Occur::Must, term_query(email_term)));
    } else if !text.is_empty() {
        let mut analyzer = searcher
            .index()
            .tokenizer_for_field(f.all)
            .map_err(StoreError::read)?;
        let mut stream = analyzer.token_stream(text);
        let mut tokens = Vec::new();
        while stream.advance() && tokens.len() < MAX_TOKENS {
            tokens.push(stream.token().text.clone());
        }
        tokens.sort();
        tokens.dedup();
        let mut text_clauses: Vec<(Occur, Box<dyn Query>)> = tokens
            .iter()
            .map(|t| (Occur::Must, token_query(f, t)))
            .collect();
        if text_clauses.is_empty() {
            // Only punctuation: nothing can match.
            return Ok(Box::new(tantivy::query::EmptyQuery));
        }
        // Exact order number or tracking number: rank first. Only scoring
        // needs it; a search sorted by date skips the work.
        if q.sort == Sort::Relevance {
            let mut exact: Vec<(Occur, Box<dyn Query>)> = vec![(
                Occur::Should,
                term_query(Term::from_field_text(f.tracking, &normalize_tracking(text))),
            )];
            if let Some(n) = normalize_order_number(text) {
                exact.push((
                    Occur::Should,
                    term_query(Term::from_field_text(f.number, &n.to_string())),
                ));
            }
            text_clauses.push((
                Occur::Should,
                Box::new(BoostQuery::new(Box::new(BooleanQuery::new(exact)), 100.0)),
            ));
        }
        clauses.push((Occur::Must, Box::new(BooleanQuery::new(text_clauses))));
    }
    let fl = &q.filters;
    let mut filter = |field, value: &str| {
        clauses.push((Occur::Must, term_query(Term::from_field_text(field, value))));
    };
    if let Some(s) = &fl.shop {
        filter(f.shop, s);
    }
    if let Some(s) = &fl.financial {
        filter(f.financial, s.as_str());
    }
    if let Some(s) = &fl.fulfillment {
        filter(f.fulfillment, s.as_str());
    }
    if let Some(s) = &fl.return_status {
        filter(f.return_status, s.as_str());
    }
    if let Some(s) = fl.state {
        filter(f.state, s.as_str());
    }
    if fl.created_from.is_some() || fl.created_to.is_some() {
        let bound = |t: Option<DateTime<Utc>>, inclusive: bool| match t {
            None => Bound::Unbounded,
            Some(t) => {
                let term = Term::from_field_date(f.created_at, to_tantivy_date(t));
                if inclusive {
                    Bound::Included(term)
                } else {
                    Bound::Excluded(term)
                }
            }
        };
        clauses.push((
            Occur::Must,
            Box::new(RangeQuery::new(
                bound(fl.created_from, true),
                bound(fl.created_to, false),
            )),
        ));
    }
    if clauses.is_empty() {
        return Ok(Box::new(AllQuery));
    }
    Ok(Box::new(BooleanQuery::new(clauses)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_edit_includes_swaps() {
        assert!(one_edit_apart("lindqvist", "lindqvst"));
        assert!(one_edit_apart("nilsson", "nilson"));
        assert!(one_edit_apart("nilsson", "nislson"));
        assert!(one_edit_apart("abc", "abd"));
        assert!(!one_edit_apart("nilsson", "olsson"));
        assert!(!one_edit_apart("abcd", "badc"));
    }

    #[test]
    fn words_match_like_the_search() {
        assert!(word_matches("lindq", "lindqvist"), "prefix of 3+");
        assert!(!word_matches("li", "lindqvist"), "too short for a prefix");
        assert!(word_matches("lindqvst", "lindqvist"), "one typo at 5+");
        assert!(!word_matches("abd", "abc"), "short words need exact");
        assert!(!word_matches("12346", "12345"), "numbers need exact");
    }
}
