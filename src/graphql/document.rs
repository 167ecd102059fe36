//! Looks at a parsed document before it runs: which operation it selects and
//! how many aliases it uses (async-graphql has no alias limit of its own).

use async_graphql::parser::types::{
    ExecutableDocument, OperationDefinition, OperationType, Selection, SelectionSet,
};

/// The operation that `operation_name` selects (or the first one).
pub fn selected_operation<'a>(
    doc: &'a ExecutableDocument,
    operation_name: Option<&str>,
) -> Option<&'a OperationDefinition> {
    let mut operations = doc.operations.iter();
    let selected = match operation_name {
        Some(wanted) => operations.find(|(name, _)| name.is_some_and(|n| n.as_str() == wanted)),
        None => operations.next(),
    };
    selected.map(|(_, op)| &op.node)
}

/// The type of the operation that `operation_name` selects (or the only one).
pub fn operation_type(
    doc: &ExecutableDocument,
    operation_name: Option<&str>,
) -> Option<OperationType> {
    selected_operation(doc, operation_name).map(|op| op.ty)
}

/// Names of the root fields the selected operation asks for, through
/// fragments too (`None` when no operation is selected).
pub fn root_fields<'a>(
    doc: &'a ExecutableDocument,
    operation_name: Option<&str>,
) -> Option<Vec<&'a str>> {
    let operation = selected_operation(doc, operation_name)?;
    let mut names = Vec::new();
    collect_fields(doc, &operation.selection_set.node, &mut names, 0);
    Some(names)
}

fn collect_fields<'a>(
    doc: &'a ExecutableDocument,
    set: &'a SelectionSet,
    names: &mut Vec<&'a str>,
    depth: usize,
) {
    // Fragment cycles are a validation error; the depth bound keeps this walk finite meanwhile.
    if depth > 16 {
        return;
    }
    for item in &set.items {
        match &item.node {
            Selection::Field(field) => names.push(field.node.name.node.as_str()),
            Selection::InlineFragment(fragment) => {
                collect_fields(doc, &fragment.node.selection_set.node, names, depth + 1)
            }
            Selection::FragmentSpread(spread) => {
                if let Some(fragment) = doc.fragments.get(&spread.node.fragment_name.node) {
                    collect_fields(doc, &fragment.node.selection_set.node, names, depth + 1);
                }
            }
        }
    }
}

/// Aliases in every operation and fragment of the document.
pub fn alias_count(doc: &ExecutableDocument) -> usize {
    let operations: usize = doc
        .operations
        .iter()
        .map(|(_, op)| aliases_in(&op.node.selection_set.node))
        .sum();
    let fragments: usize = doc
        .fragments
        .values()
        .map(|f| aliases_in(&f.node.selection_set.node))
        .sum();
    operations + fragments
}

fn aliases_in(set: &SelectionSet) -> usize {
    set.items
        .iter()
        .map(|item| match &item.node {
            Selection::Field(field) => {
                usize::from(field.node.alias.is_some()) + aliases_in(&field.node.selection_set.node)
            }
            Selection::InlineFragment(fragment) => aliases_in(&fragment.node.selection_set.node),
            Selection::FragmentSpread(_) => 0,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::parser::parse_query;

    #[test]
    fn finds_the_selected_operation_and_counts_aliases() {
        let doc = parse_query(
            "query A { a: viewer { b: kind } } mutation B { x } fragment F on Q { c: y }",
        );
        let doc = doc.expect("the test document parses");
        assert_eq!(
            operation_type(&doc, Some("B")),
            Some(OperationType::Mutation)
        );
        assert_eq!(operation_type(&doc, Some("A")), Some(OperationType::Query));
        assert_eq!(operation_type(&doc, Some("C")), None);
        assert_eq!(alias_count(&doc), 3);
        assert_eq!(root_fields(&doc, Some("A")), Some(vec!["viewer"]));
        let doc = parse_query("{ __schema { types { name } } ...F } fragment F on Query { __type(name: \"X\") { name } }")
            .expect("the test document parses");
        assert_eq!(root_fields(&doc, None), Some(vec!["__schema", "__type"]));
    }
}
