//! What the HTTP shell needs to know of a GraphQL document before running it, read in one
//! parse: the operation's name (for logs and metrics), how many aliases it uses (a cap), and
//! whether it is a mutation (idempotency keys). A document that does not parse yields the
//! defaults; the executor reports the parse error.

use async_graphql::parser::types::{ExecutableDocument, OperationType, Selection, SelectionSet};

/// Parsed documents by their text. Clients send the same few queries over and over, and
/// copying a parsed document costs a fraction of parsing it again. A document is a pure
/// function of its text, so the cache holds nothing of any tenant.
#[derive(Clone)]
pub struct Documents {
    parsed: moka::sync::Cache<String, ExecutableDocument>,
}

/// Longer documents are parsed every time rather than kept.
const CACHED_DOCUMENT_MAX_BYTES: usize = 16 * 1024;

impl Default for Documents {
    fn default() -> Self {
        Documents {
            parsed: moka::sync::Cache::builder().max_capacity(2_000).build(),
        }
    }
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Inspected {
    /// The chosen operation's name: the request's `operationName`, or the name of the
    /// document's only operation.
    pub operation: Option<String>,
    pub aliases: usize,
    pub mutation: bool,
}

fn count_aliases(set: &SelectionSet) -> usize {
    set.items
        .iter()
        .map(|s| match &s.node {
            Selection::Field(f) => {
                usize::from(f.node.alias.is_some()) + count_aliases(&f.node.selection_set.node)
            }
            Selection::InlineFragment(i) => count_aliases(&i.node.selection_set.node),
            Selection::FragmentSpread(_) => 0,
        })
        .sum()
}

fn total_aliases(doc: &ExecutableDocument) -> usize {
    doc.operations
        .iter()
        .map(|(_, op)| count_aliases(&op.node.selection_set.node))
        .sum::<usize>()
        + doc
            .fragments
            .values()
            .map(|f| count_aliases(&f.node.selection_set.node))
            .sum::<usize>()
}

impl Inspected {
    /// Parses the request's document (or takes it from `documents`) once: the executor
    /// reuses the parse kept in `request`.
    pub fn of_request(request: &mut async_graphql::Request, documents: &Documents) -> Inspected {
        let name = request.operation_name.clone();
        if request.query.len() <= CACHED_DOCUMENT_MAX_BYTES {
            let known = documents.parsed.get(&request.query).or_else(|| {
                let doc = async_graphql::parser::parse_query(&request.query).ok()?;
                documents.parsed.insert(request.query.clone(), doc.clone());
                Some(doc)
            });
            if let Some(doc) = known {
                request.set_parsed_query(doc);
            }
        }
        match request.parsed_query() {
            Ok(doc) => Self::of_document(doc, name.as_deref()),
            Err(_) => Self::unparsable(name.as_deref()),
        }
    }

    #[cfg(test)]
    fn of(query: &str, operation_name: Option<&str>) -> Inspected {
        match async_graphql::parser::parse_query(query) {
            Ok(doc) => Self::of_document(&doc, operation_name),
            Err(_) => Self::unparsable(operation_name),
        }
    }

    /// A document that does not parse: the executor reports why.
    fn unparsable(operation_name: Option<&str>) -> Inspected {
        Inspected {
            operation: operation_name.map(str::to_owned),
            ..Default::default()
        }
    }

    fn of_document(doc: &ExecutableDocument, operation_name: Option<&str>) -> Inspected {
        let ops: Vec<_> = doc.operations.iter().collect();
        let chosen = ops.iter().find(|(name, _)| match (operation_name, name) {
            (Some(want), Some(n)) => want == n.as_str(),
            (None, _) => ops.len() == 1,
            (Some(_), None) => false,
        });
        Inspected {
            operation: operation_name
                .map(str::to_owned)
                .or_else(|| chosen.and_then(|(name, _)| name.map(|n| n.to_string()))),
            aliases: total_aliases(doc),
            mutation: chosen.is_some_and(|(_, op)| op.node.ty == OperationType::Mutation),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Inspected;

    #[test]
    fn aliases_are_counted_everywhere() {
        let q = "{ a: me { s: subject } b: me { subject } ... on Query { c: me { subject } } }";
        assert_eq!(Inspected::of(q, None).aliases, 4);
        assert_eq!(
            Inspected::of(
                "query Q { ...F } fragment F on Query { x: me { subject } }",
                None
            )
            .aliases,
            1
        );
        assert_eq!(Inspected::of("not graphql", None), Inspected::default());
    }

    #[test]
    fn a_document_is_parsed_once_and_reused_whole() {
        let documents = super::Documents::default();
        let text = "query Q { a: me { subject } }";
        let first = Inspected::of_request(&mut async_graphql::Request::new(text), &documents);
        assert!(documents.parsed.contains_key(text));
        let mut again = async_graphql::Request::new(text);
        let second = Inspected::of_request(&mut again, &documents);
        assert_eq!(first, second);
        assert_eq!(second.aliases, 1);
        let bad = Inspected::of_request(&mut async_graphql::Request::new("{ a"), &documents);
        assert_eq!(bad, Inspected::default());
        assert!(
            !documents.parsed.contains_key("{ a"),
            "only documents that parse are kept"
        );
    }

    #[test]
    fn the_operation_is_named_and_typed() {
        let one = Inspected::of("mutation Make { a }", None);
        assert_eq!(
            (one.operation.as_deref(), one.mutation),
            (Some("Make"), true)
        );
        let two = "query A { a } mutation B { b }";
        assert!(Inspected::of(two, Some("B")).mutation);
        assert!(!Inspected::of(two, Some("A")).mutation);
        assert_eq!(
            Inspected::of(two, None),
            Inspected {
                operation: None,
                aliases: 0,
                mutation: false
            }
        );
        assert_eq!(Inspected::of("{ a }", None).operation, None);
    }
}
