//! Grouping strategies and how their results become the `app`, `system` and `default` trees.
//!
//! Strategies run in priority order; the first one producing anything that contributes wins
//! and every later strategy's components are switched off with a "takes precedence" hint:
//!
//! | priority | strategy | variants |
//! |---|---|---|
//! | 1 | exception (single, chained, groups) | app, system |
//! | 2 | threads | app, system |
//! | 3 | stacktrace (top level) | app, system |
//! | 4 | template | default |
//! | 5 | csp, hpkp, expect-staple, expect-ct | default |
//! | 6 | message | default |
//!
//! Within a stack-producing strategy the app variant has priority: a system tree hashing like
//! the app tree is switched off ("ignored because hash matches app variant"), and a variant
//! without a contributing stack trace gives way to one with.

pub mod exception;
mod frame;
mod message;
mod security;
mod stacktrace;
pub mod threads;

use crate::grouping::component::{Component, Text};
use crate::grouping::event::str_at;
use crate::grouping::prepared::PreparedEvent;

/// Components keyed by variant name, in production order.
pub type Variants = Vec<(&'static str, Component)>;

pub const APP: &str = "app";
pub const SYSTEM: &str = "system";
pub const DEFAULT: &str = "default";

struct StrategyResult {
    name: &'static str,
    variants: Variants,
}

/// Runs every applicable strategy and wraps the results into one root component per variant.
pub fn root_components(event: &PreparedEvent<'_>) -> Variants {
    let view = event.view;
    let mut results = Vec::new();
    if !event.exceptions.is_empty() {
        let sdk_version = view.0.get("sdk").and_then(|s| str_at(s, "version"));
        let variants = exception::chained_exception_variants(&event.exceptions, event.platform, sdk_version);
        results.push(StrategyResult { name: "exception", variants: finish_stack_strategy(variants) });
    }
    if let Some(threads) = &event.threads {
        results.push(StrategyResult {
            name: "threads",
            variants: finish_stack_strategy(threads::threads_variants(threads)),
        });
    }
    if let Some(stack) = &event.stacktrace {
        results.push(StrategyResult {
            name: "stacktrace",
            variants: finish_stack_strategy(stacktrace::stacktrace_variants(stack)),
        });
    }
    let default_only = |name, variants| StrategyResult { name, variants };
    if let Some(template) = view.interface("template", "sentry.interfaces.Template") {
        results.push(default_only("template", message::template_variants(template)));
    }
    if let Some(csp) = view.interface("csp", "sentry.interfaces.Csp") {
        results.push(default_only("csp", security::csp_variants(csp)));
    }
    for (key, id, name) in [
        ("hpkp", "hpkp", "hpkp"),
        ("expectstaple", "expect-staple", "expectstaple"),
        ("expectct", "expect-ct", "expectct"),
    ] {
        if let Some(report) = view.0.get(key).filter(|r| r.is_object()) {
            results.push(default_only(name, security::hostname_report_variants(id, report)));
        }
    }
    if let Some(log) = view.logentry() {
        results.push(default_only("message", message::message_variants(&log)));
    }
    apply_precedence(results)
}

/// Deduplicates the system variant against the app variant, then lets a variant with a
/// contributing stack trace silence the others.
fn finish_stack_strategy(mut variants: Variants) -> Variants {
    let same_as_app: Vec<usize> = match variants.iter().find(|(name, c)| *name == APP && c.contributes) {
        Some((_, app)) => {
            // Same values, same hash.
            let same = |c: &Component| c.contributes && c.same_contributing_values(app);
            variants.iter().enumerate().filter(|(_, (n, c))| *n != APP && same(c)).map(|(idx, _)| idx).collect()
        }
        None => Vec::new(),
    };
    for idx in same_as_app {
        variants[idx].1.ignore("ignored because hash matches app variant");
    }
    if variants.len() > 1 {
        let with_stack: Vec<&'static str> =
            variants.iter().filter(|(_, c)| c.has_contributing_stacktrace()).map(|(n, _)| *n).collect();
        if !with_stack.is_empty() {
            let others = match with_stack[..] {
                [one] => format!("the {one} variant does"),
                _ => "others do".to_owned(),
            };
            for (name, component) in &mut variants {
                if !with_stack.contains(name) {
                    component.ignore(format!(
                        "ignored because this variant does not have a contributing stacktrace, but {others}"
                    ));
                }
            }
        }
    }
    variants
}

fn apply_precedence(results: Vec<StrategyResult>) -> Variants {
    let mut winner: Option<(&'static str, Text)> = None;
    let mut roots: Vec<(&'static str, Vec<Component>)> = Vec::new();
    for result in results {
        let contributing: Vec<&'static str> =
            result.variants.iter().filter(|(_, c)| c.contributes).map(|(n, _)| *n).collect();
        match &winner {
            None if !contributing.is_empty() => {
                let mut names = contributing.clone();
                names.sort_unstable();
                let verb = if result.name.ends_with('s') { "take" } else { "takes" };
                let subject = if contributing.contains(&DEFAULT) {
                    result.name.to_owned()
                } else {
                    format!("{} {}", names.join("/"), result.name)
                };
                winner = Some((result.name, Text::from(format!("ignored because {subject} {verb} precedence"))));
            }
            _ => {}
        }
        for (variant, mut component) in result.variants {
            if let Some((winning, hint)) = &winner
                && *winning != result.name
                && component.contributes
            {
                component.ignore(hint.clone());
            }
            match roots.iter_mut().find(|(n, _)| *n == variant) {
                Some((_, list)) => list.push(component),
                None => roots.push((variant, vec![component])),
            }
        }
    }
    roots
        .into_iter()
        .map(|(name, components)| {
            let mut root = Component::with_children(name, components);
            if let Some((_, hint)) = winner.as_ref().filter(|_| !root.contributes) {
                root.hint = Some(hint.clone());
            }
            (name, root)
        })
        .collect()
}
