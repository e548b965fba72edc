//! The built-in stack-trace rules (`builtin.txt`), parsed once.

use std::sync::LazyLock;

use super::parse::parse_rules;
use super::rules::Rule;

static BUILTIN: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    parse_rules(include_str!("builtin.txt"), true)
        .unwrap_or_else(|e| panic!("built-in stack-trace rules must parse: {e}"))
});

/// Built-in rules in file order.
pub fn rules() -> &'static [Rule] {
    &BUILTIN
}
