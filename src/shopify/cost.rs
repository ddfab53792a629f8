//! What a GraphQL Admin API query costs, by Shopify's documented rules.
//!
//! Shopify refuses a query whose *requested* cost is over 1,000 points
//! (`MAX_COST_EXCEEDED`) before running it, and takes the requested cost
//! out of the app's leaky bucket before running one that fits. So the
//! client has to know a query's cost before sending it: to prove every
//! query it can send fits (a test walks them all), and to wait for the
//! bucket instead of being throttled. The rules (shopify.dev, "GraphQL
//! Admin API rate limits"): scalars and enums cost 0, an object 1, an
//! interface or union the most expensive of its possible selections, a
//! connection 2 plus `first` (or `last`) times the cost of one node, so
//! nested connections multiply; a mutation costs 10.
//!
//! Two details the documentation leaves open are decided here and kept in
//! one place: a plain list with a `first` argument (`Order.fulfillments`,
//! `Order.refunds`, `Fulfillment.trackingInfo`) is charged like the nodes
//! of a connection, `first` times one element, without the connection's
//! 2; an unsized list of objects (`fulfillmentHolds`) is charged as one.
//!
//! The schema is the subset of the 2026-10 Admin API this site uses
//! (`admin-2026-10.graphql`); the tests' fake Shopify executes queries
//! against the same file.

use std::collections::HashMap;

use graphql_parser::query as q;
use graphql_parser::schema as s;
use serde_json::Value;
use thiserror::Error;

use super::scopes::Protected;

/// The Admin API schema subset, as SDL.
pub const ADMIN_SCHEMA: &str = include_str!("admin-2026-10.graphql");
/// Shopify's limit on the requested cost of a single query.
pub const MAX_QUERY_COST: u64 = 1_000;
/// What a mutation costs.
pub const MUTATION_COST: u64 = 10;
/// The largest `first` / `last` Shopify accepts.
pub const MAX_PAGE: u64 = 250;
/// What Shopify answers a bulk query with a connection inside a plain
/// list field (`Order.fulfillments { events { ... } }`): the docs only
/// imply it; production connectors report it (estuary/connectors #4650).
pub const BULK_CONNECTION_IN_LIST: &str =
    "Queries that contain a connection field within a list field are not currently supported.";
/// Bulk queries: at most this many connections...
pub const BULK_MAX_CONNECTIONS: usize = 5;
/// ...nested at most this deep.
pub const BULK_MAX_DEPTH: usize = 2;

/// A parsed query document.
pub type Document = q::Document<'static, String>;
type Selection = q::Selection<'static, String>;
type Field = q::Field<'static, String>;

/// Why a query has no cost (it is not a query this schema can run).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum CostError {
    #[error("cannot parse the query: {0}")]
    Parse(String),
    #[error("cannot parse the schema: {0}")]
    Schema(String),
    #[error("the document has no operation")]
    NoOperation,
    #[error("`{field}` is not a field of {ty}")]
    UnknownField { ty: String, field: String },
    #[error("unknown fragment `{0}`")]
    UnknownFragment(String),
    #[error("you must provide one of first or last for the `{0}` connection")]
    MissingSize(String),
    #[error("`{field}` asks for {size} records; the maximum is {MAX_PAGE}")]
    TooLarge { field: String, size: u64 },
}

/// What kind of type a name is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Scalar,
    Enum,
    Object,
    Interface,
    Union,
    Input,
}

/// One field of an object or interface.
#[derive(Debug, Clone)]
pub struct FieldDef {
    /// The named type the field returns (lists and non-null unwrapped).
    pub ty: String,
    /// Whether it returns a list.
    pub list: bool,
    /// Access scopes, any one of which grants the field (empty: none needed).
    pub scopes: Vec<String>,
    /// Protected customer data of this kind (null without the grant).
    pub protected: Option<Protected>,
}

#[derive(Debug, Clone)]
struct TypeDef {
    kind: Kind,
    fields: HashMap<String, FieldDef>,
    /// Interfaces an object implements; members of a union.
    related: Vec<String>,
    /// The values of an enum.
    values: Vec<String>,
}

/// The types of the Admin API subset.
#[derive(Debug, Clone)]
pub struct Schema {
    types: HashMap<String, TypeDef>,
}

/// The operation of a document and the root type it runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperationKind {
    Query,
    Mutation,
}

impl Schema {
    /// The schema of [`ADMIN_SCHEMA`].
    pub fn admin() -> Result<Schema, CostError> {
        Schema::parse(ADMIN_SCHEMA)
    }

    /// Reads SDL.
    pub fn parse(sdl: &str) -> Result<Schema, CostError> {
        let doc = s::parse_schema::<String>(sdl).map_err(|e| CostError::Schema(e.to_string()))?;
        let mut types = HashMap::new();
        for def in doc.definitions {
            let s::Definition::TypeDefinition(t) = def else {
                continue;
            };
            let (name, def) = match t {
                s::TypeDefinition::Scalar(t) => (t.name, TypeDef::leaf(Kind::Scalar)),
                s::TypeDefinition::Enum(t) => (
                    t.name,
                    TypeDef {
                        values: t.values.into_iter().map(|v| v.name).collect(),
                        ..TypeDef::leaf(Kind::Enum)
                    },
                ),
                s::TypeDefinition::InputObject(t) => (t.name, TypeDef::leaf(Kind::Input)),
                s::TypeDefinition::Object(t) => (
                    t.name,
                    TypeDef {
                        kind: Kind::Object,
                        fields: fields(t.fields),
                        related: t.implements_interfaces,
                        values: Vec::new(),
                    },
                ),
                s::TypeDefinition::Interface(t) => (
                    t.name,
                    TypeDef {
                        kind: Kind::Interface,
                        fields: fields(t.fields),
                        related: t.implements_interfaces,
                        values: Vec::new(),
                    },
                ),
                s::TypeDefinition::Union(t) => (
                    t.name,
                    TypeDef {
                        kind: Kind::Union,
                        fields: HashMap::new(),
                        related: t.types,
                        values: Vec::new(),
                    },
                ),
            };
            types.insert(name, def);
        }
        Ok(Schema { types })
    }

    /// The kind of a named type.
    pub fn kind(&self, ty: &str) -> Option<Kind> {
        self.types.get(ty).map(|t| t.kind)
    }

    /// The values of an enum type.
    pub fn enum_values(&self, ty: &str) -> Option<&[String]> {
        self.types
            .get(ty)
            .filter(|t| t.kind == Kind::Enum)
            .map(|t| &t.values[..])
    }

    /// A field of an object or interface type.
    pub fn field(&self, ty: &str, name: &str) -> Option<&FieldDef> {
        self.types.get(ty)?.fields.get(name)
    }

    /// The node type of a connection type (`OrderConnection` -> `Order`).
    pub fn connection_node(&self, ty: &str) -> Option<&str> {
        if !ty.ends_with("Connection") {
            return None;
        }
        let nodes = self.field(ty, "nodes")?;
        Some(nodes.ty.as_str())
    }

    /// Whether a fragment on `condition` applies to an object of type `ty`.
    pub fn applies(&self, condition: &str, ty: &str) -> bool {
        if condition == ty {
            return true;
        }
        let Some(t) = self.types.get(ty) else {
            return false;
        };
        match self.kind(condition) {
            Some(Kind::Interface) => t.related.iter().any(|i| i == condition),
            Some(Kind::Union) => self
                .types
                .get(condition)
                .is_some_and(|u| u.related.iter().any(|m| m == ty)),
            _ => false,
        }
    }

    /// The requested cost of `doc`'s operation with `variables`.
    pub fn requested_cost(&self, doc: &Document, variables: &Value) -> Result<u64, CostError> {
        let (kind, items) = operation(doc).ok_or(CostError::NoOperation)?;
        let cx = Walk {
            schema: self,
            fragments: fragments(doc),
            variables,
        };
        match kind {
            OperationKind::Mutation => {
                let fields = items
                    .iter()
                    .filter(|s| matches!(s, q::Selection::Field(f) if f.name != "__typename"));
                Ok(MUTATION_COST * fields.count() as u64)
            }
            OperationKind::Query => cx.selection_cost("QueryRoot", items),
        }
    }

    /// Checks a bulk query against Shopify's restrictions (one top-level
    /// connection, not `node`/`nodes`; at most five connections, nested at
    /// most two deep; no connection inside a plain list field; a nested
    /// connection's parent selects `id`). The error texts are what Shopify
    /// puts in `userErrors`.
    pub fn check_bulk_query(&self, doc: &Document) -> Result<BulkShape, String> {
        let Some((OperationKind::Query, items)) = operation(doc) else {
            return Err("Bulk queries must be a query operation.".into());
        };
        let roots: Vec<&Field> = items
            .iter()
            .filter_map(|s| match s {
                q::Selection::Field(f) if f.name != "__typename" => Some(f),
                _ => None,
            })
            .collect();
        let [root] = roots[..] else {
            return Err("Bulk queries must contain exactly one top-level field.".into());
        };
        if root.name == "node" || root.name == "nodes" {
            return Err("Bulk queries cannot contain a top-level `node` or `nodes` field.".into());
        }
        let cx = Walk {
            schema: self,
            fragments: fragments(doc),
            variables: &Value::Null,
        };
        let ty = self
            .field("QueryRoot", &root.name)
            .ok_or_else(|| format!("Field '{}' doesn't exist on type 'QueryRoot'", root.name))?;
        if self.connection_node(&ty.ty).is_none() {
            return Err("Bulk queries must contain at least one connection.".into());
        }
        let mut shape = BulkShape {
            root: root.name.clone(),
            connections: 0,
            depth: 0,
        };
        cx.bulk_walk(&ty.ty, root, 0, false, &mut shape)?;
        if shape.connections > BULK_MAX_CONNECTIONS {
            return Err(format!(
                "Bulk queries cannot contain more than {BULK_MAX_CONNECTIONS} connections."
            ));
        }
        if shape.depth > BULK_MAX_DEPTH {
            return Err(format!(
                "Bulk queries cannot contain connections with a nesting depth greater than {BULK_MAX_DEPTH}."
            ));
        }
        Ok(shape)
    }
}

/// What a bulk query contains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkShape {
    pub root: String,
    pub connections: usize,
    pub depth: usize,
}

impl TypeDef {
    fn leaf(kind: Kind) -> TypeDef {
        TypeDef {
            kind,
            fields: HashMap::new(),
            related: Vec::new(),
            values: Vec::new(),
        }
    }
}

fn fields(list: Vec<s::Field<'_, String>>) -> HashMap<String, FieldDef> {
    list.into_iter()
        .map(|f| {
            let (ty, list) = unwrap_type(&f.field_type);
            let scopes = f
                .directives
                .iter()
                .filter(|d| d.name == "scope")
                .flat_map(|d| d.arguments.iter())
                .filter_map(|(_, v)| match v {
                    s::Value::String(s) => Some(s.split_whitespace().map(str::to_string)),
                    _ => None,
                })
                .flatten()
                .collect();
            let protected = f
                .directives
                .iter()
                .filter(|d| d.name == "protected")
                .flat_map(|d| d.arguments.iter())
                .find_map(|(_, v)| match v {
                    s::Value::String(s) => Protected::parse(s),
                    _ => None,
                });
            (
                f.name,
                FieldDef {
                    ty,
                    list,
                    scopes,
                    protected,
                },
            )
        })
        .collect()
}

fn unwrap_type(t: &s::Type<'_, String>) -> (String, bool) {
    match t {
        s::Type::NamedType(n) => (n.clone(), false),
        s::Type::NonNullType(inner) => unwrap_type(inner),
        s::Type::ListType(inner) => (unwrap_type(inner).0, true),
    }
}

/// Parses a query document.
pub fn parse_query(text: &str) -> Result<Document, CostError> {
    q::parse_query::<String>(text)
        .map(|d| d.into_static())
        .map_err(|e| CostError::Parse(e.to_string()))
}

/// The (first) operation of a document and its top-level selections.
pub fn operation(doc: &Document) -> Option<(OperationKind, &[Selection])> {
    doc.definitions.iter().find_map(|d| match d {
        q::Definition::Operation(op) => Some(match op {
            q::OperationDefinition::SelectionSet(s) => (OperationKind::Query, &s.items[..]),
            q::OperationDefinition::Query(q) => (OperationKind::Query, &q.selection_set.items[..]),
            q::OperationDefinition::Mutation(m) => {
                (OperationKind::Mutation, &m.selection_set.items[..])
            }
            q::OperationDefinition::Subscription(s) => {
                (OperationKind::Query, &s.selection_set.items[..])
            }
        }),
        q::Definition::Fragment(_) => None,
    })
}

/// The named fragments of a document.
pub fn fragments(doc: &Document) -> HashMap<&str, &q::FragmentDefinition<'static, String>> {
    doc.definitions
        .iter()
        .filter_map(|d| match d {
            q::Definition::Fragment(f) => Some((f.name.as_str(), f)),
            q::Definition::Operation(_) => None,
        })
        .collect()
}

/// An integer argument (`first: 10` or `first: $first`).
pub fn int_argument(f: &Field, name: &str, variables: &Value) -> Option<i64> {
    let (_, v) = f.arguments.iter().find(|(n, _)| n == name)?;
    match v {
        q::Value::Int(n) => n.as_i64(),
        q::Value::Variable(var) => variables.get(var.as_str())?.as_i64(),
        _ => None,
    }
}

/// The selections of one node of a connection field: those under `nodes`
/// and under `edges { node }`, together.
pub fn node_selections(f: &Field) -> Vec<&Selection> {
    let mut out = Vec::new();
    for s in &f.selection_set.items {
        if let q::Selection::Field(sub) = s {
            match sub.name.as_str() {
                "nodes" => out.extend(sub.selection_set.items.iter()),
                "edges" => {
                    for e in &sub.selection_set.items {
                        if let q::Selection::Field(n) = e
                            && n.name == "node"
                        {
                            out.extend(n.selection_set.items.iter());
                        }
                    }
                }
                _ => {}
            }
        }
    }
    out
}

struct Walk<'a> {
    schema: &'a Schema,
    fragments: HashMap<&'a str, &'a q::FragmentDefinition<'static, String>>,
    variables: &'a Value,
}

impl Walk<'_> {
    /// The cost of selecting `items` on an object of type `ty` (the
    /// object's own point is counted by its field). On an abstract type,
    /// fragments for different concrete types are alternatives: the most
    /// expensive one counts.
    fn selection_cost<'s>(
        &self,
        ty: &str,
        items: impl IntoIterator<Item = &'s Selection>,
    ) -> Result<u64, CostError> {
        let mut direct = 0u64;
        let mut branches: HashMap<String, u64> = HashMap::new();
        for item in items {
            let (condition, sub) = match item {
                q::Selection::Field(f) => {
                    direct = direct.saturating_add(self.field_cost(ty, f)?);
                    continue;
                }
                q::Selection::InlineFragment(fr) => (
                    fr.type_condition
                        .as_ref()
                        .map(|q::TypeCondition::On(c)| c.as_str()),
                    &fr.selection_set.items,
                ),
                q::Selection::FragmentSpread(sp) => {
                    let fr = self
                        .fragments
                        .get(sp.fragment_name.as_str())
                        .ok_or_else(|| CostError::UnknownFragment(sp.fragment_name.clone()))?;
                    let q::TypeCondition::On(c) = &fr.type_condition;
                    (Some(c.as_str()), &fr.selection_set.items)
                }
            };
            match condition {
                None => direct = direct.saturating_add(self.selection_cost(ty, sub)?),
                Some(c) if self.schema.applies(c, ty) => {
                    direct = direct.saturating_add(self.selection_cost(ty, sub)?)
                }
                Some(c) => {
                    let cost = self.selection_cost(c, sub)?;
                    let e = branches.entry(c.to_string()).or_default();
                    *e = e.saturating_add(cost);
                }
            }
        }
        Ok(direct.saturating_add(branches.into_values().max().unwrap_or(0)))
    }

    fn field_cost(&self, parent: &str, f: &Field) -> Result<u64, CostError> {
        if f.name == "__typename" {
            return Ok(0);
        }
        let def = self
            .schema
            .field(parent, &f.name)
            .ok_or_else(|| CostError::UnknownField {
                ty: parent.to_string(),
                field: f.name.clone(),
            })?;
        match self.schema.kind(&def.ty) {
            Some(Kind::Scalar | Kind::Enum) | None => return Ok(0),
            _ => {}
        }
        if let Some(node) = self.schema.connection_node(&def.ty) {
            let size = self
                .size(f)?
                .ok_or_else(|| CostError::MissingSize(f.name.clone()))?;
            let one = 1 + self.selection_cost(node, node_selections(f))?;
            return Ok(2u64.saturating_add(size.saturating_mul(one)));
        }
        let one = 1 + self.selection_cost(&def.ty, &f.selection_set.items)?;
        if def.list {
            let size = self.size(f)?.unwrap_or(1);
            return Ok(size.saturating_mul(one));
        }
        Ok(one)
    }

    /// `first` or `last`, checked against the maximum.
    fn size(&self, f: &Field) -> Result<Option<u64>, CostError> {
        let n = int_argument(f, "first", self.variables)
            .or_else(|| int_argument(f, "last", self.variables));
        match n {
            Some(n) if n < 0 || n as u64 > MAX_PAGE => Err(CostError::TooLarge {
                field: f.name.clone(),
                size: n.unsigned_abs(),
            }),
            Some(n) => Ok(Some(n as u64)),
            None => Ok(None),
        }
    }

    /// Counts connections and their nesting under `f` (of type `ty`, a
    /// connection at `depth` already entered by the caller for the root).
    /// `in_list`: `f` is an element of a plain list field (or below one),
    /// where Shopify's bulk operations refuse any connection.
    fn bulk_walk(
        &self,
        ty: &str,
        f: &Field,
        depth: usize,
        in_list: bool,
        shape: &mut BulkShape,
    ) -> Result<(), String> {
        let (node_ty, items, depth): (&str, Vec<&Selection>, usize) =
            match self.schema.connection_node(ty) {
                Some(node) => {
                    shape.connections += 1;
                    shape.depth = shape.depth.max(depth + 1);
                    (node, node_selections(f), depth + 1)
                }
                None => (ty, f.selection_set.items.iter().collect(), depth),
            };
        let has_id = items
            .iter()
            .any(|s| matches!(s, q::Selection::Field(x) if x.name == "id"));
        for item in items {
            let sub_fields: Vec<(&str, &Field)> = match item {
                q::Selection::Field(x) => vec![(node_ty, x)],
                q::Selection::InlineFragment(fr) => {
                    let c = fr
                        .type_condition
                        .as_ref()
                        .map_or(node_ty, |q::TypeCondition::On(c)| c.as_str());
                    fr.selection_set
                        .items
                        .iter()
                        .filter_map(|s| match s {
                            q::Selection::Field(x) => Some((c, x)),
                            _ => None,
                        })
                        .collect()
                }
                q::Selection::FragmentSpread(_) => {
                    return Err("Bulk queries cannot contain fragment spreads.".into());
                }
            };
            for (on, x) in sub_fields {
                if x.name == "__typename" {
                    continue;
                }
                let def = self
                    .schema
                    .field(on, &x.name)
                    .ok_or_else(|| format!("Field '{}' doesn't exist on type '{on}'", x.name))?;
                let connection = self.schema.connection_node(&def.ty).is_some();
                if connection && in_list {
                    return Err(BULK_CONNECTION_IN_LIST.into());
                }
                if connection && !has_id {
                    return Err(format!(
                        "The parent 'node' field for a nested connection must select the 'id' field. Connection fields without 'id': {}.",
                        x.name
                    ));
                }
                if matches!(
                    self.schema.kind(&def.ty),
                    Some(Kind::Object | Kind::Interface | Kind::Union)
                ) {
                    // Inside a connection's nodes the list is over: each
                    // node is a line of its own in the result.
                    let below_list = (in_list || def.list) && !connection;
                    self.bulk_walk(&def.ty, x, depth, below_list, shape)?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cost(query: &str, vars: Value) -> Result<u64, CostError> {
        let schema = Schema::admin().expect("schema");
        schema.requested_cost(&parse_query(query)?, &vars)
    }

    #[test]
    fn the_schema_parses_and_knows_its_connections() {
        let s = Schema::admin().expect("schema");
        assert_eq!(s.connection_node("OrderConnection"), Some("Order"));
        assert_eq!(s.connection_node("Order"), None);
        assert_eq!(s.kind("Order"), Some(Kind::Object));
        assert!(s.applies("Node", "Order"));
        assert!(s.applies("ReturnLineItemType", "ReturnLineItem"));
        assert!(s.applies(
            "ReverseDeliveryDeliverable",
            "ReverseDeliveryShippingDeliverable"
        ));
        assert!(!s.applies("Order", "Fulfillment"));
        let returns = s.field("Order", "returns").expect("field");
        assert!(returns.scopes.iter().any(|x| x == "read_returns"));
        assert_eq!(
            s.field("Order", "email").expect("email").protected,
            Some(Protected::Email)
        );
        assert_eq!(
            s.field("Order", "customer").expect("customer").protected,
            Some(Protected::Customer)
        );
    }

    #[test]
    fn scalars_are_free_objects_cost_one() {
        assert_eq!(cost("{ shop { name myshopifyDomain } }", json!({})), Ok(1));
        assert_eq!(
            cost(
                "{ currentAppInstallation { accessScopes { handle } } }",
                json!({})
            ),
            Ok(2)
        );
    }

    #[test]
    fn connections_cost_two_plus_first_times_a_node_and_multiply() {
        // 2 + 10 * (1 order + (2 + 5 * 1 line item)) = 82.
        let q = "{ orders(first: 10) { nodes { id lineItems(first: 5) { nodes { title } } } } }";
        assert_eq!(cost(q, json!({})), Ok(82));
        // Edges and nodes are the same nodes; pageInfo is in the 2.
        let q =
            "{ orders(first: 10) { pageInfo { hasNextPage } edges { cursor node { id name } } } }";
        assert_eq!(cost(q, json!({})), Ok(12));
        let q = "query($n: Int!) { orders(first: $n) { nodes { id } } }";
        assert_eq!(cost(q, json!({"n": 50})), Ok(52));
    }

    #[test]
    fn sized_lists_abstract_types_and_mutations() {
        // fulfillments(first: 3): 3 * (1 + trackingInfo(first: 2): 2 * 1).
        let q = r#"{ node(id: "gid://shopify/Order/1") { ... on Order { fulfillments(first: 3) { id trackingInfo(first: 2) { number } } } } }"#;
        assert_eq!(cost(q, json!({})), Ok(1 + 3 * (1 + 2)));
        // An interface costs its most expensive selection.
        let q = r#"{ node(id: "x") { id ... on Order { customer { id } } ... on Fulfillment { location { id } trackingInfo(first: 4) { number } } } }"#;
        assert_eq!(cost(q, json!({})), Ok(1 + 5));
        assert_eq!(
            cost(
                r#"mutation { bulkOperationRunQuery(query: "{}", groupObjects: true) { bulkOperation { id } userErrors { message } } }"#,
                json!({})
            ),
            Ok(MUTATION_COST)
        );
    }

    #[test]
    fn what_shopify_refuses_before_counting() {
        assert_eq!(
            cost("{ orders { nodes { id } } }", json!({})),
            Err(CostError::MissingSize("orders".into()))
        );
        assert!(matches!(
            cost("{ orders(first: 251) { nodes { id } } }", json!({})),
            Err(CostError::TooLarge { size: 251, .. })
        ));
        assert!(matches!(
            cost("{ orders(first: 1) { nodes { nope } } }", json!({})),
            Err(CostError::UnknownField { .. })
        ));
        assert!(matches!(
            cost("{ orders(", json!({})),
            Err(CostError::Parse(_))
        ));
    }

    #[test]
    fn bulk_restrictions() {
        let s = Schema::admin().expect("schema");
        let check = |q: &str| s.check_bulk_query(&parse_query(q).expect("parses"));
        let ok = check("{ orders { edges { node { id lineItems { edges { node { id } } } } } } }")
            .expect("valid");
        assert_eq!((ok.connections, ok.depth), (2, 2));
        assert!(
            check(r#"{ node(id: "gid://shopify/Order/1") { id } }"#)
                .expect_err("node")
                .contains("node")
        );
        assert!(
            check("{ orders { nodes { lineItems { nodes { id } } } } }")
                .expect_err("no id")
                .contains("must select the 'id' field")
        );
        assert!(
            check("{ orders { nodes { id fulfillmentOrders { nodes { id lineItems { nodes { id } } } } } } }")
                .expect_err("three deep")
                .contains("nesting depth")
        );
        assert!(
            check("{ orders { nodes { id lineItems { nodes { id } } fulfillmentOrders { nodes { id } } returns { nodes { id } } refunds { id } } } }")
                .is_ok(),
            "four connections and a plain list of objects"
        );
        assert!(
            check("{ orders { nodes { id lineItems { nodes { id } } fulfillmentOrders { nodes { id } } returns { nodes { id } } a: lineItems { nodes { id } } b: returns { nodes { id } } } } }")
                .expect_err("six")
                .contains("more than 5 connections")
        );
        // A connection inside a plain list (a shipment's scans), directly
        // or below an object of the list.
        for q in [
            "{ orders { nodes { id fulfillments { id events { nodes { id } } } } } }",
            "{ orders { edges { node { id fulfillments { id fulfillmentLineItems { edges { node { id } } } } } } } }",
        ] {
            assert_eq!(check(q).expect_err(q), BULK_CONNECTION_IN_LIST);
        }
        // A plain list inside a connection's nodes is fine.
        assert!(
            check("{ orders { nodes { id fulfillments { id trackingInfo { number } } lineItems { nodes { id } } } } }")
                .is_ok()
        );
    }
}
