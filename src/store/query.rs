//! Staff search: free text plus filters, sorted and paged.
//!
//! The text is not handed to tantivy's query parser: staff type names,
//! emails and "#1042", not query syntax, and a stray quote or `*:*` must
//! not be an error. The text is tokenised like the `all` field and every
//! word must match, exactly, as the start of a longer word (part of an
//! email), or, for words of five letters or more, with one typo. Those
//! longer and mistyped words are looked up in the term dictionary and
//! searched as plain terms. Ranking (exact order or tracking number
//! first, then every word as typed, then the rest) is `rank`'s.

use std::collections::BTreeMap;
use std::ops::Bound;

use chrono::{DateTime, Utc};
use levenshtein_automata::{DFA, Distance, LevenshteinAutomatonBuilder};
use tantivy::collector::Count;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, EmptyQuery, EnableScoring, FuzzyTermQuery, Occur, Query,
    RangeQuery, TermQuery, TermSetQuery,
};
use tantivy::schema::IndexRecordOption;
use tantivy::tokenizer::TokenStream;
use tantivy::{DocAddress, DocSet, Score, Searcher, TERMINATED, Term};

use super::made_once::MadeOnce;
use super::rank::{Tier, Tiers};
use super::schema::{Fields, normalize_tracking, to_tantivy_date};
use super::{StoreError, load, load_as};
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

/// Where a search stops counting its matches (a listing that did not
/// walk them all, a search with words). Staff page through at most this
/// many (500 pages of 20), and counting every one of 600,000 matches was
/// more than half of a broad listing's time at a million orders.
pub const COUNT_LIMIT: usize = 10_000;

pub(super) fn search(
    searcher: &Searcher,
    f: &Fields,
    typos: &Typos,
    q: &SearchQuery,
) -> Result<SearchResults, StoreError> {
    let per_page = q.per_page.clamp(1, MAX_PER_PAGE);
    let offset = q.page.saturating_mul(per_page);
    let need = offset.saturating_add(per_page);
    let plan = Plan::new(searcher, f, typos, q)?;
    let query = plan.query(f);
    let by_date = match q.sort {
        Sort::Relevance if !q.text.trim().is_empty() => None,
        Sort::Relevance | Sort::UpdatedDesc => Some(f.updated_at),
        Sort::CreatedDesc => Some(f.created_at),
    };
    let (mut addrs, counted): (Vec<DocAddress>, Option<(usize, bool)>) = match by_date {
        None => {
            let tiers = plan.tiers(f);
            let ranked =
                super::rank::ranked(searcher, query.as_ref(), tiers.as_ref(), need, COUNT_LIMIT)?;
            (ranked.hits, Some((ranked.total, ranked.more)))
        }
        Some(field) => {
            let newest = super::newest::newest(searcher, query.as_ref(), field, need)?;
            tracing::trace!(way = ?newest.way, need, "newest-first listing");
            (newest.hits, newest.counted.map(|n| (n, false)))
        }
    };
    addrs.drain(..offset.min(addrs.len()));
    let (total, more) = match counted {
        Some(counted) => counted,
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
    typos: &Typos,
    q: &SearchQuery,
    max: usize,
) -> Result<(usize, Option<Vec<String>>), StoreError> {
    let query = Plan::new(searcher, f, typos, q)?.query(f);
    let total = searcher.search(&query, &Count).map_err(StoreError::read)?;
    if total > max {
        return Ok((total, None));
    }
    let mut addrs: Vec<DocAddress> = searcher
        .search(&query, &tantivy::collector::DocSetCollector)
        .map_err(StoreError::read)?
        .into_iter()
        .collect();
    // In address order, the document store's blocks are each read and
    // unpacked once for all their orders; in the set's order, each order
    // unpacked a block of its own. Matches spread over the whole store
    // still unpack most of it: a day's 618,234 unfulfilled orders at
    // 10,000,000 take longer than a request may (BENCHMARKS.md).
    addrs.sort_unstable();
    let mut keys = addrs
        .into_iter()
        .map(|a| key_of(searcher, f, a))
        .collect::<Result<Vec<_>, _>>()?;
    keys.sort_unstable();
    Ok((total, Some(keys)))
}

/// The key of the order at `addr`, read without the rest of the order.
fn key_of(searcher: &Searcher, f: &Fields, addr: DocAddress) -> Result<String, StoreError> {
    /// The two parts of an order's key, as [`Order`] stores them.
    #[derive(serde::Deserialize)]
    struct KeyParts {
        #[serde(default)]
        shop: String,
        id: u64,
    }
    let parts: KeyParts = load_as(searcher, f, addr)?;
    Ok(crate::order::order_key(&parts.shop, parts.id))
}

/// Which groups of `order`'s values the words of `text` match, by the
/// rules the search itself uses (see [`Word`]): for staff, "matched
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

/// Whether a typed word finds an indexed token: the three ways of a
/// [`Word`].
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

/// Builds the automata that find a word's one-typo matches in the term
/// dictionary. Its tables take a while to make, so a store makes it once.
pub struct Typos(LevenshteinAutomatonBuilder);

impl Typos {
    pub fn new() -> Typos {
        // Distance 1, a swap of neighbours counting as one (as `one_edit_apart`).
        Typos(LevenshteinAutomatonBuilder::new(1, true))
    }
}

impl Default for Typos {
    fn default() -> Self {
        Typos::new()
    }
}

/// A word's one-typo automaton, as the term dictionary walks it.
struct OneTypo(DFA);

impl tantivy_fst::Automaton for OneTypo {
    type State = u32;

    fn start(&self) -> u32 {
        self.0.initial_state()
    }

    fn is_match(&self, state: &u32) -> bool {
        matches!(self.0.distance(*state), Distance::Exact(_))
    }

    fn can_match(&self, state: &u32) -> bool {
        *state != levenshtein_automata::SINK_STATE
    }

    fn accept(&self, state: &u32, byte: u8) -> u32 {
        self.0.transition(*state, byte)
    }
}

/// Most other indexed words one typed word may stand for and still be
/// searched as plain terms ("anna" also finds anna0 to anna99 from
/// emails); past that, tantivy's prefix and fuzzy queries find them (and
/// rank them all alike).
const MAX_OTHERS: usize = 256;

/// A typed word and the other indexed words it finds: words it is the
/// start of ("lindq" finds "lindqvist", part of an email), and for longer
/// words those one typo away ("lindqvst").
struct Word {
    text: String,
    /// Not `text` itself, each with its boost (see [`Word::expand`]);
    /// `None` when more than [`MAX_OTHERS`].
    others: Option<Vec<(String, Score)>>,
}

impl Word {
    /// Looks `text`'s other words up in every segment's term dictionary.
    ///
    /// BM25 weighs a rare word far above a common one, so "anna42" (from
    /// an email) would outrank "anna" itself. Each other word's boost
    /// undoes that: it counts as the typed word would (the rarity of the
    /// commonest of them), a third as much as the word itself. That also
    /// keeps WAND's bound on them low, so it can skip them.
    fn expand(
        searcher: &Searcher,
        f: &Fields,
        typos: &Typos,
        text: String,
    ) -> Result<Word, StoreError> {
        let chars = text.chars().count();
        let prefix = chars >= MIN_PREFIX_CHARS;
        // Words with digits are numbers, SKUs, tracking codes: one typo
        // away is another, real one.
        let typo = chars >= MIN_FUZZY_CHARS && !text.bytes().any(|b| b.is_ascii_digit());
        let dfa = typo.then(|| OneTypo(typos.0.build_dfa(&text)));
        // Orders holding each word, the typed one included.
        let mut held: BTreeMap<String, u64> = BTreeMap::new();
        let io = |e: std::io::Error| StoreError::Read(e.into());
        for reader in searcher.segment_readers() {
            let index = reader.inverted_index(f.all).map_err(StoreError::read)?;
            let terms = index.terms();
            // A word can be both a prefix and a typo match: count it once.
            let mut here: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
            if prefix {
                let mut stream = terms.range().ge(&text).into_stream().map_err(io)?;
                while stream.advance() && stream.key().starts_with(text.as_bytes()) {
                    here.insert(stream.key().to_vec(), stream.value().doc_freq.into());
                }
            }
            if let Some(dfa) = &dfa {
                let mut stream = terms.search(dfa).into_stream().map_err(io)?;
                while stream.advance() {
                    here.insert(stream.key().to_vec(), stream.value().doc_freq.into());
                }
            }
            for (key, n) in here {
                if let Ok(word) = String::from_utf8(key) {
                    *held.entry(word).or_default() += n;
                }
            }
            if held.len() > MAX_OTHERS + 1 {
                return Ok(Word { text, others: None });
            }
        }
        let docs = searcher.num_docs();
        let reference = idf(held.values().copied().max().unwrap_or(0), docs);
        let others = held
            .into_iter()
            .filter(|(word, _)| *word != text)
            .map(|(word, n)| (word, reference / idf(n, docs)))
            .collect::<Vec<_>>();
        if others.len() > MAX_OTHERS {
            return Ok(Word { text, others: None });
        }
        Ok(Word {
            text,
            others: Some(others),
        })
    }

    /// The word as a ranked query: its own term weighs three times the
    /// others, so an exact word ranks above a prefix or a typo.
    fn ranked(&self, f: &Fields) -> Box<dyn Query> {
        match self.scoring_terms(f) {
            Some(terms) => weighted(terms),
            None => {
                let own = TermQuery::new(self.term(f), IndexRecordOption::WithFreqs);
                self.automata(f, Box::new(BoostQuery::new(Box::new(own), OWN_WORD_BOOST)))
            }
        }
    }

    /// Orders with any of the word's terms, unscored. The commonest other
    /// words are a term each (read lazily, so a frequent one costs only
    /// the seeks made in it); the rest, rare words ("anna0" to "anna99"),
    /// go into one set, which costs one walk of the term dictionary a
    /// segment instead of a lookup each.
    fn matching(&self, f: &Fields) -> Box<dyn Query> {
        let own = term_query(self.term(f));
        let Some(others) = &self.others else {
            return Box::new(MadeOnce(self.automata(f, own)));
        };
        if others.is_empty() {
            return own;
        }
        let mut any = vec![(Occur::Should, own)];
        // The boosts order them: the commonest have the highest.
        let mut by_commonness: Vec<&(String, Score)> = others.iter().collect();
        by_commonness.sort_by(|a, b| b.1.total_cmp(&a.1));
        let (common, rare) = by_commonness.split_at(by_commonness.len().min(COMMON_OTHERS));
        any.extend(
            common
                .iter()
                .map(|(o, _)| (Occur::Should, term_query(Term::from_field_text(f.all, o)))),
        );
        if !rare.is_empty() {
            let set = TermSetQuery::new(rare.iter().map(|(o, _)| Term::from_field_text(f.all, o)));
            any.push((Occur::Should, Box::new(MadeOnce(Box::new(set)))));
        }
        Box::new(BooleanQuery::new(any))
    }

    /// The word's terms with their boosts, as WAND ranks them; `None` when
    /// it has too many to list.
    fn scoring_terms(&self, f: &Fields) -> Option<Vec<(Term, Score)>> {
        let others = self.others.as_ref()?;
        let mut terms = vec![(self.term(f), OWN_WORD_BOOST)];
        terms.extend(
            others
                .iter()
                .map(|(o, boost)| (Term::from_field_text(f.all, o), *boost)),
        );
        Some(terms)
    }

    /// `own` or tantivy's prefix and fuzzy queries, for a word with too
    /// many other words to list.
    fn automata(&self, f: &Fields, own: Box<dyn Query>) -> Box<dyn Query> {
        let term = self.term(f);
        let chars = self.text.chars().count();
        let mut any: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Should, own)];
        if chars >= MIN_PREFIX_CHARS {
            any.push((
                Occur::Should,
                Box::new(FuzzyTermQuery::new_prefix(term.clone(), 0, true)),
            ));
        }
        if chars >= MIN_FUZZY_CHARS && !self.text.bytes().any(|b| b.is_ascii_digit()) {
            any.push((Occur::Should, Box::new(FuzzyTermQuery::new(term, 1, true))));
        }
        Box::new(BooleanQuery::new(any))
    }

    fn term(&self, f: &Fields) -> Term {
        Term::from_field_text(f.all, &self.text)
    }
}

/// How many of a word's other words, the commonest, [`Word::matching`]
/// keeps as a term each.
const COMMON_OTHERS: usize = 8;

/// How much more a word's own term weighs than its prefix and typo
/// matches.
const OWN_WORD_BOOST: Score = 3.0;

/// BM25's rarity of a word `held` of `docs` orders (tantivy's formula).
fn idf(held: u64, docs: u64) -> Score {
    let held = held.min(docs);
    (1.0 + ((docs - held) as Score + 0.5) / (held as Score + 0.5)).ln()
}

fn term_query(term: Term) -> Box<dyn Query> {
    Box::new(TermQuery::new(term, IndexRecordOption::Basic))
}

/// What the typed text asks for.
enum Text {
    /// Nothing typed: filters alone.
    None,
    /// Only punctuation: nothing can match.
    Nothing,
    /// A whole email address on file: its orders, by one exact term (its
    /// words, "example" and "com" among them, would make every order a
    /// candidate).
    Email(Term),
    /// Every word must match; an exact order or tracking number (`exact`)
    /// ranks first.
    Words { words: Vec<Word>, exact: Vec<Term> },
}

/// A search taken apart: its text and its filters.
pub(super) struct Plan {
    text: Text,
    filters: Vec<Box<dyn Query>>,
}

impl Plan {
    pub(super) fn new(
        searcher: &Searcher,
        f: &Fields,
        typos: &Typos,
        q: &SearchQuery,
    ) -> Result<Plan, StoreError> {
        Ok(Plan {
            text: text(searcher, f, typos, q.text.trim())?,
            filters: filters(f, &q.filters),
        })
    }

    /// The search as one query: what it matches (ranking goes by
    /// [`Plan::tiers`]).
    pub(super) fn query(&self, f: &Fields) -> Box<dyn Query> {
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        match &self.text {
            Text::None => {}
            Text::Nothing => return Box::new(EmptyQuery),
            Text::Email(term) => clauses.push((Occur::Must, term_query(term.clone()))),
            Text::Words { words, .. } => {
                clauses.extend(words.iter().map(|w| (Occur::Must, w.matching(f))));
            }
        }
        clauses.extend(self.filters.iter().map(|q| (Occur::Must, q.box_clone())));
        if clauses.is_empty() {
            return Box::new(AllQuery);
        }
        Box::new(BooleanQuery::new(clauses))
    }

    /// A search with words, in the tiers it ranks by; `None` for any
    /// other (nothing typed, a whole email address).
    pub(super) fn tiers(&self, f: &Fields) -> Option<Tiers> {
        let Text::Words { words, exact } = &self.text else {
            return None;
        };
        let filters = || self.filters.iter().map(|q| (Occur::Must, q.box_clone()));
        let own = |option| -> Vec<(Occur, Box<dyn Query>)> {
            words
                .iter()
                .map(|w| {
                    let q: Box<dyn Query> = Box::new(TermQuery::new(w.term(f), option));
                    (Occur::Must, q)
                })
                .collect()
        };
        let every_own =
            || -> Box<dyn Query> { Box::new(BooleanQuery::new(own(IndexRecordOption::Basic))) };
        let exact_tier = Tier {
            query: Box::new(BooleanQuery::new(
                own(IndexRecordOption::WithFreqs)
                    .into_iter()
                    .chain(filters())
                    .collect(),
            )),
            scoring: Some(union(words.iter().map(|w| (w.term(f), 1.0)).collect())),
            required: Box::new(BooleanQuery::new(
                own(IndexRecordOption::Basic)
                    .into_iter()
                    .chain(filters())
                    .collect(),
            )),
        };
        let mut rest: Vec<(Occur, Box<dyn Query>)> =
            words.iter().map(|w| (Occur::Must, w.ranked(f))).collect();
        rest.extend(filters());
        rest.push((Occur::MustNot, every_own()));
        let matching = || {
            words
                .iter()
                .map(|w| (Occur::Must, w.matching(f)))
                .chain(filters())
                .collect::<Vec<_>>()
        };
        let mut required = matching();
        required.push((Occur::MustNot, every_own()));
        let first = (!exact.is_empty()).then(|| -> Box<dyn Query> {
            let mut first = matching();
            first.push((Occur::Must, any_of(exact)));
            Box::new(BooleanQuery::new(first))
        });
        let scoring = words
            .iter()
            .map(|w| w.scoring_terms(f))
            .collect::<Option<Vec<_>>>()
            .map(|terms| union(terms.into_iter().flatten().collect()));
        Some(Tiers {
            first,
            exact: exact_tier,
            rest: Tier {
                query: Box::new(BooleanQuery::new(rest)),
                scoring,
                required: Box::new(BooleanQuery::new(required)),
            },
        })
    }
}

/// Terms with their boosts, any of them, scored: the shape tantivy ranks
/// by WAND.
fn union(mut terms: Vec<(Term, Score)>) -> Box<dyn Query> {
    if terms.len() == 1 {
        // Alone, a term is ranked by tantivy's single-term WAND; a boost
        // would only hide it (and changes no order).
        let (term, _) = terms.swap_remove(0);
        return Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs));
    }
    weighted(terms)
}

/// Terms with their boosts, any of them, scored by the sum of theirs.
fn weighted(mut terms: Vec<(Term, Score)>) -> Box<dyn Query> {
    let boosted = |(term, boost): (Term, Score)| -> Box<dyn Query> {
        Box::new(BoostQuery::new(
            Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs)),
            boost,
        ))
    };
    if terms.len() == 1 {
        return boosted(terms.swap_remove(0));
    }
    Box::new(BooleanQuery::new(
        terms
            .into_iter()
            .map(|t| (Occur::Should, boosted(t)))
            .collect(),
    ))
}

fn any_of(terms: &[Term]) -> Box<dyn Query> {
    Box::new(BooleanQuery::new(
        terms
            .iter()
            .map(|t| (Occur::Should, term_query(t.clone())))
            .collect(),
    ))
}

fn text(searcher: &Searcher, f: &Fields, typos: &Typos, text: &str) -> Result<Text, StoreError> {
    if text.is_empty() {
        return Ok(Text::None);
    }
    let email = crate::order::normalize_email(text);
    let email_term = Term::from_field_text(f.email, &email);
    if email.contains('@')
        && !email.contains(char::is_whitespace)
        && searcher.doc_freq(&email_term).map_err(StoreError::read)? > 0
    {
        return Ok(Text::Email(email_term));
    }
    // Otherwise the words, for an address half typed too.
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
    if tokens.is_empty() {
        return Ok(Text::Nothing);
    }
    let words = tokens
        .into_iter()
        .map(|t| Word::expand(searcher, f, typos, t))
        .collect::<Result<_, _>>()?;
    let mut exact = vec![Term::from_field_text(f.tracking, &normalize_tracking(text))];
    if let Some(n) = normalize_order_number(text) {
        exact.push(Term::from_field_text(f.number, &n.to_string()));
    }
    // Most searches are neither; asking for them costs every word's terms.
    let mut held = Vec::with_capacity(exact.len());
    for term in exact {
        if searcher.doc_freq(&term).map_err(StoreError::read)? > 0 {
            held.push(term);
        }
    }
    Ok(Text::Words { words, exact: held })
}

fn filters(f: &Fields, fl: &Filters) -> Vec<Box<dyn Query>> {
    let mut clauses: Vec<Box<dyn Query>> = Vec::new();
    let mut filter = |field, value: &str| {
        clauses.push(term_query(Term::from_field_text(field, value)));
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
        clauses.push(Box::new(RangeQuery::new(
            bound(fl.created_from, true),
            bound(fl.created_to, false),
        )));
    }
    clauses
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
