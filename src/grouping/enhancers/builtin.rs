//! The built-in stack-trace rules (`builtin.txt`), parsed and indexed once.
//!
//! `builtin.txt` is Faultline's own rule set: it aims at Sentry's in-app and grouping decisions
//! (grouping config `newstyle:2026-01-20`) without copying Sentry's configuration, whose licence
//! forbids competing use. The conformance corpus checks that it groups like Sentry.

use std::sync::LazyLock;

use super::index::RuleSet;
use super::parse::parse_rules;

static BUILTIN: LazyLock<RuleSet> = LazyLock::new(|| {
    let rules = parse_rules(include_str!("builtin.txt"), true)
        .unwrap_or_else(|e| panic!("built-in stack-trace rules must parse: {e}"));
    RuleSet::new(rules)
});

/// Built-in rules in file order, indexed.
pub fn rules() -> &'static RuleSet {
    &BUILTIN
}
