//! Aggregations for the insights page: tantivy's own request language
//! (Elasticsearch's: `terms`, `histogram`, `percentiles`, `avg`, `sum`)
//! run over one shop's orders, on the fast fields of the `facts` JSON
//! field and the order's dates. The store only runs them; what to ask is
//! the insights module's business.

use std::ops::Bound;

use chrono::{DateTime, Utc};
use tantivy::Term;
use tantivy::aggregation::AggregationCollector;
use tantivy::aggregation::agg_req::Aggregations;
use tantivy::query::{AllQuery, BooleanQuery, Occur, Query, RangeQuery, TermQuery};
use tantivy::schema::IndexRecordOption;

use super::schema::to_tantivy_date;
use super::{Store, StoreError};

impl Store {
    /// Runs `request` (an aggregation request as JSON) over the orders of
    /// `shop` (every shop's when `None`) placed from `placed.0` up to,
    /// not including, `placed.1` (any time when `None`). The answer as
    /// JSON, in the request's shape.
    pub fn aggregate(
        &self,
        shop: Option<&str>,
        placed: Option<(DateTime<Utc>, DateTime<Utc>)>,
        request: serde_json::Value,
    ) -> Result<serde_json::Value, StoreError> {
        let aggs: Aggregations =
            serde_json::from_value(request).map_err(|e| StoreError::Read(e.into()))?;
        let query = self.orders_of(shop, placed);
        let searcher = self.reader.searcher();
        let collector = AggregationCollector::from_aggs(aggs, Default::default());
        let result = searcher
            .search(&query, &collector)
            .map_err(|e| StoreError::Read(e.into()))?;
        serde_json::to_value(result).map_err(|e| StoreError::Read(e.into()))
    }
    /// How many orders of `shop` (every shop's when `None`) were placed
    /// from `from` up to, not including, `to`.
    pub fn count_placed(
        &self,
        shop: Option<&str>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let query = self.orders_of(shop, Some((from, to)));
        let n = self
            .reader
            .searcher()
            .search(&query, &tantivy::collector::Count)
            .map_err(|e| StoreError::Read(e.into()))?;
        Ok(n as u64)
    }

    fn orders_of(
        &self,
        shop: Option<&str>,
        placed: Option<(DateTime<Utc>, DateTime<Utc>)>,
    ) -> Box<dyn Query> {
        let f = &self.fields;
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        if let Some(shop) = shop {
            clauses.push((
                Occur::Must,
                Box::new(TermQuery::new(
                    Term::from_field_text(f.shop, shop),
                    IndexRecordOption::Basic,
                )),
            ));
        }
        if let Some((from, to)) = placed {
            let term = |t| Term::from_field_date(f.created_at, to_tantivy_date(t));
            clauses.push((
                Occur::Must,
                Box::new(RangeQuery::new(
                    Bound::Included(term(from)),
                    Bound::Excluded(term(to)),
                )),
            ));
        }
        if clauses.is_empty() {
            Box::new(AllQuery)
        } else {
            Box::new(BooleanQuery::new(clauses))
        }
    }
}
