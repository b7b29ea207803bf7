//! What the HTTP shell needs to know of a GraphQL document before running it, read in one
//! parse: the operation's name (for logs and metrics), how many aliases it uses (a cap), and
//! whether it is a mutation (idempotency keys). A document that does not parse yields the
//! defaults; the executor reports the parse error.

use async_graphql::parser::types::{ExecutableDocument, OperationType, Selection, SelectionSet};

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
    /// Parses the request's document once: the executor reuses the parse kept in `request`.
    pub fn of_request(request: &mut async_graphql::Request) -> Inspected {
        let name = request.operation_name.clone();
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
