//! Exceptions → `exception { type, value, [ns_error], stacktrace }`, chains and groups.
//!
//! ```text
//! chained_exception
//! ├─ exception  ValueError + stacktrace        (an inner exception with in-app frames)
//! └─ exception  ValueError + "hello world"     (no usable stack: the value decides)
//! ```
//!
//! Within one exception the stack trace beats the value: with a contributing stack trace the
//! (parameterized) value is ignored. A chain of one exception is just that exception. Exception
//! groups (RFC 0079, linked by `mechanism.exception_id`/`parent_id`) are reduced to their
//! distinct leaf exceptions first.

use serde_json::Value;

use crate::grouping::component::{Component, Text};
use crate::grouping::event::str_at;
use crate::grouping::frames::Stack;
use crate::grouping::parameterize::normalize_message;

use super::stacktrace::stacktrace_variants;
use super::{APP, Variants};

/// One exception of `exception.values` with its prepared stack trace.
pub struct PreparedException<'a> {
    pub raw: &'a Value,
    pub stack: Option<Stack<'a>>,
}

/// The exception value as a string (SDKs occasionally send numbers).
pub fn exception_value(raw: &Value) -> Option<String> {
    match raw.get("value")? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn mechanism(raw: &Value) -> Option<&Value> {
    raw.get("mechanism").filter(|m| m.is_object())
}

fn single_exception(exc: &PreparedException<'_>) -> Variants {
    let mut ty = match str_at(exc.raw, "type") {
        Some(t) => Component::leaf("type", Text::copied(t)),
        None => Component::empty("type"),
    };
    let mechanism = mechanism(exc.raw);
    if mechanism.and_then(|m| m.get("synthetic")).and_then(Value::as_bool) == Some(true) {
        ty.ignore("ignored because exception is synthetic");
    }
    let ns_error = mechanism.and_then(|m| m.get("meta")).and_then(|m| m.get("ns_error")).map(|ns| {
        let text = |v: Option<&Value>| match v {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => "None".to_owned(),
            Some(other) => other.to_string(),
        };
        Component::with_children(
            "ns_error",
            vec![Component::leaf("domain", text(ns.get("domain"))), Component::leaf("code", text(ns.get("code")))],
        )
    });
    // Built once; every variant shares it.
    let value = match exception_value(exc.raw) {
        Some(raw) => {
            let normalized = normalize_message(&raw);
            let changed = normalized != raw;
            match normalized.is_empty() {
                true => Component::empty("value"),
                false if changed => Component::leaf("value", normalized).with_hint("stripped event-specific values"),
                false => Component::leaf("value", normalized),
            }
        }
        None => Component::empty("value"),
    };
    let stacks = match &exc.stack {
        Some(stack) => stacktrace_variants(stack),
        None => vec![(APP, Component::empty("stacktrace"))],
    };
    stacks
        .into_iter()
        .map(|(name, stack)| {
            let mut value_component = value.clone();
            if stack.contributes && value_component.contributes {
                value_component.ignore("ignored because stacktrace takes precedence");
            }
            if ns_error.as_ref().is_some_and(|n| n.contributes) && value_component.contributes {
                value_component.ignore("ignored because ns-error info takes precedence");
            }
            let children = [ty.clone(), value_component].into_iter().chain(ns_error.clone()).chain([stack]);
            (name, Component::with_children("exception", children))
        })
        .collect()
}

/// All exceptions of the event → per-variant `exception` or `chained_exception` components.
pub fn chained_exception_variants(
    exceptions: &[PreparedException<'_>],
    platform: &str,
    sdk_version: Option<&str>,
) -> Variants {
    let mut per_exception: Vec<Option<Variants>> = exceptions.iter().map(|e| Some(single_exception(e))).collect();
    let selected = if platform == "python" && sdk_version.is_some_and(|v| v.starts_with('3')) {
        (0..exceptions.len()).collect()
    } else {
        select_for_exception_groups(exceptions, &per_exception)
    };
    if let [only] = selected[..] {
        return per_exception[only].take().unwrap_or_default();
    }
    let mut merged: Vec<(&'static str, Vec<Component>)> = Vec::new();
    for idx in selected {
        for (name, component) in per_exception[idx].take().unwrap_or_default() {
            match merged.iter_mut().find(|(n, _)| *n == name) {
                Some((_, list)) => list.push(component),
                None => merged.push((name, vec![component])),
            }
        }
    }
    merged.into_iter().map(|(name, list)| (name, Component::with_children("chained_exception", list))).collect()
}

struct Node {
    exception: Option<usize>,
    children: Vec<usize>,
}

fn mechanism_int(raw: &Value, key: &str) -> Option<i64> {
    mechanism(raw)?.get(key)?.as_i64()
}

/// Indices of the exceptions that take part in grouping (RFC 0079). Malformed trees keep all.
fn select_for_exception_groups(exceptions: &[PreparedException<'_>], components: &[Option<Variants>]) -> Vec<usize> {
    let all: Vec<usize> = (0..exceptions.len()).collect();
    if exceptions.len() <= 1 {
        return all;
    }
    let mut tree: std::collections::HashMap<i64, Node> = std::collections::HashMap::new();
    for (idx, exc) in exceptions.iter().enumerate().rev() {
        let id = mechanism_int(exc.raw, "exception_id");
        let parent = mechanism_int(exc.raw, "parent_id");
        let Some(id) = id.filter(|id| Some(*id) != parent && tree.get(id).is_none_or(|n| n.exception.is_none())) else {
            return all;
        };
        tree.entry(id).or_insert(Node { exception: None, children: Vec::new() }).exception = Some(idx);
        if let Some(parent) = parent {
            tree.entry(parent).or_insert(Node { exception: None, children: Vec::new() }).children.push(idx);
        }
    }
    let children_of = |idx: usize| -> &[usize] {
        mechanism_int(exceptions[idx].raw, "exception_id")
            .and_then(|id| tree.get(&id))
            .map(|n| n.children.as_slice())
            .unwrap_or_default()
    };
    let is_group = |idx: usize| {
        mechanism(exceptions[idx].raw).and_then(|m| m.get("is_exception_group")).and_then(Value::as_bool) == Some(true)
    };
    let Some(root) = tree.get(&0).and_then(|n| n.exception) else {
        return all;
    };
    // Leaves reached from the root through exception groups; a cycle keeps everything.
    let mut top_level = Vec::new();
    let mut stack = vec![(root, 0usize)];
    while let Some((idx, depth)) = stack.pop() {
        if depth > exceptions.len() {
            return all;
        }
        if is_group(idx) {
            stack.extend(children_of(idx).iter().rev().map(|&c| (c, depth + 1)));
        } else {
            top_level.push(idx);
        }
    }
    if top_level.is_empty() {
        return all;
    }
    let type_of = |idx: usize| str_at(exceptions[idx].raw, "type").unwrap_or("None").to_owned();
    top_level.sort_by_key(|&idx| std::cmp::Reverse(type_of(idx)));
    let mut distinct: Vec<usize> = Vec::new();
    for idx in top_level {
        if distinct.last().is_none_or(|&last| components[last] != components[idx]) {
            distinct.push(idx);
        }
    }
    if let [main] = distinct[..] {
        let mut path = vec![main];
        let mut current = main;
        while let Some(&first) = children_of(current).first() {
            if path.len() > exceptions.len() {
                return all;
            }
            path.push(first);
            current = first;
        }
        return path;
    }
    distinct.push(root);
    distinct
}
