//! Grouping: which issue an event belongs to, and why — computed exactly like Sentry
//! (grouping config `newstyle:2026-01-20`), so teams moving from Sentry see the same issues.
//!
//! [`calculate`] turns a normalized event into one or more *variants*, each a tree of
//! components whose contributing leaves are hashed with MD5:
//!
//! ```text
//! event ──► stack traces normalized, in-app decided by stack-trace rules
//!       ──► fingerprint rules (project, then built-in) may replace the fingerprint
//!       ──► strategies (exception > threads > stacktrace > template > csp/… > message)
//!       ──► variants  app / system / default   (+ custom fingerprint, checksum, fallback)
//!       ──► hashes    ["<app or default or custom>", …, "<system>"]
//! ```
//!
//! Two events land in the same issue when their hash lists share a value. The component trees
//! stay in the result so the issue page can show what contributed and what was ignored:
//!
//! ```json
//! {"hashes": ["b23e…"],
//!  "variants": {"app": {"hash": "b23e…", "type": "component", "description": "in-app exception",
//!                       "component": {"id": "app", "contributes": true, "values": [ … ]}}},
//!  "tree": {"id": "app", …}}
//! ```
//!
//! Everything here is pure: no I/O, no clock, no global state besides compiled regexes and
//! the parsed, indexed built-in rules.
//!
//! Grouping runs for every stored event, so it is built for speed (see `benches/grouping.rs`
//! and BENCHMARKS.md): stack-trace rules are looked up through an index
//! instead of tried on every frame (`enhancers/index.rs`), frames are read from the JSON in
//! one pass, component trees share their parts between the app and system variants and keep
//! a stack trace's strings in one buffer ([`Values`], [`Text`]), and message parameterization
//! only looks for the patterns that occur in the message at all. None of it changes a hash or
//! a tree: the corpus, the snapshots and differential tests against the straightforward rule
//! loop and pattern loop guard that.

mod component;
mod enhancers;
mod event;
mod fingerprint;
mod fingerprint_matchers;
mod fingerprint_rules;
mod frames;
mod functions;
mod glob;
mod hash;
mod parameterize;
mod prepared;
mod strategies;
mod text;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

pub use component::{Component, ComponentValue, Text, Values};
pub use enhancers::{Enhancements, Rule as StackTraceRule};
pub use fingerprint_rules::{FingerprintRule, FingerprintRules};
pub use functions::trim_function_name;
pub use parameterize::{normalize_message, parameterize};

use event::EventView;
use fingerprint::FingerprintKind;
use prepared::PreparedEvent;

/// A rule text (stack-trace or fingerprint rules) could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    /// The rule on `line` (1-based) is malformed.
    #[error("line {line}: {message}")]
    Syntax {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

/// A project's grouping settings; `Default` means built-in rules only.
#[derive(Debug, Clone, Default)]
pub struct GroupingConfig {
    /// Server-side fingerprint rules (tried before the built-in ones).
    pub fingerprint_rules: FingerprintRules,
    /// Stack-trace rules (applied after the built-in ones).
    pub enhancements: Enhancements,
}

/// What kind of variant produced a hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VariantKind {
    /// A component tree (app, system, default).
    Component,
    /// A component tree salted with a hybrid fingerprint.
    SaltedComponent,
    /// A fingerprint sent by the SDK or set by a project rule.
    CustomFingerprint,
    /// A fingerprint set by a built-in rule.
    BuiltInFingerprint,
    /// A 32-hex `checksum` used as is.
    Checksum,
    /// Any other `checksum`, hashed.
    HashedChecksum,
    /// Nothing contributed: every such event shares this hash.
    Fallback,
}

/// One way of grouping the event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Variant {
    /// The hash, or `None` when nothing in this variant contributes.
    pub hash: Option<String>,
    /// How the hash was produced.
    #[serde(rename = "type")]
    pub kind: VariantKind,
    /// Short human description (`in-app exception stack-trace`, `custom client fingerprint`).
    pub description: String,
    /// Why the variant does not contribute, if it does not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// The component tree, for component variants.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub component: Option<Component>,
    /// Fingerprint values or the checksum, for the other variants.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
}

/// Everything grouping decided about one event; serializes to the `faultline grouping hash`
/// output.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupingResult {
    /// Every non-null variant hash, primary first, `system` last.
    pub hashes: Vec<String>,
    /// All variants by name, including non-contributing ones.
    pub variants: BTreeMap<String, Variant>,
    /// The component tree behind the primary hash, if it comes from one.
    pub tree: Option<Component>,
}

impl GroupingResult {
    /// The primary hash (the issue key for a new issue).
    pub fn primary_hash(&self) -> Option<&str> {
        self.hashes.first().map(String::as_str)
    }
}

fn component_variant(component: Component) -> Variant {
    Variant {
        hash: component.hash(),
        kind: VariantKind::Component,
        description: component.description(),
        hint: component.hint.as_deref().map(str::to_owned),
        component: Some(component),
        values: Vec::new(),
    }
}

fn value_variant(kind: VariantKind, description: &str, hash: String, values: Vec<String>) -> Variant {
    Variant { hash: Some(hash), kind, description: description.to_owned(), hint: None, component: None, values }
}

/// Groups one normalized event.
pub fn calculate(event: &Value, config: &GroupingConfig) -> GroupingResult {
    let view = EventView(event);
    if let Some(checksum) = view.str_field("checksum") {
        let is_hash =
            checksum.len() == 32 && checksum.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        let (name, variant) = if is_hash {
            let v = VariantKind::Checksum;
            ("checksum", value_variant(v, "legacy checksum", checksum.to_owned(), vec![checksum.to_owned()]))
        } else {
            let hash = hash::hash_values([checksum]);
            let v = VariantKind::HashedChecksum;
            ("hashed_checksum", value_variant(v, "hashed legacy checksum", hash, vec![checksum.to_owned()]))
        };
        return finish(vec![(name.to_owned(), variant)]);
    }

    let prepared = PreparedEvent::new(event, config);
    let client_fingerprint = view.fingerprint();
    let matched_rule = config.fingerprint_rules.first_match(&prepared);
    let fingerprint = match (matched_rule, client_fingerprint.is_empty()) {
        (Some(rule), _) => rule.fingerprint.clone(),
        (None, false) => client_fingerprint,
        (None, true) => vec!["{{ default }}".to_owned()],
    };
    let kind = fingerprint::kind(&fingerprint);

    let mut variants: Vec<(String, Variant)> = strategies::root_components(&prepared)
        .into_iter()
        .map(|(name, component)| (name.to_owned(), component_variant(component)))
        .collect();

    match kind {
        FingerprintKind::Default => {}
        FingerprintKind::Custom => {
            let resolved = fingerprint::resolve(&fingerprint, &prepared);
            for (_, variant) in &mut variants {
                if let Some(component) = &mut variant.component {
                    component.ignore("custom fingerprint takes precedence");
                    variant.hash = None;
                    variant.hint = component.hint.as_deref().map(str::to_owned);
                }
            }
            let (name, kind, description) = match matched_rule {
                Some(rule) if rule.builtin => {
                    ("built_in_fingerprint", VariantKind::BuiltInFingerprint, "built-in fingerprint")
                }
                Some(_) => ("custom_server_fingerprint", VariantKind::CustomFingerprint, "custom server fingerprint"),
                None => ("custom_client_fingerprint", VariantKind::CustomFingerprint, "custom client fingerprint"),
            };
            let hash = hash::hash_values(resolved.iter().map(String::as_str));
            variants.push((name.to_owned(), value_variant(kind, description, hash, resolved)));
        }
        FingerprintKind::Hybrid => {
            let resolved = fingerprint::resolve(&fingerprint, &prepared);
            for (_, variant) in &mut variants {
                let Some(component) = &variant.component else {
                    continue;
                };
                variant.kind = VariantKind::SaltedComponent;
                variant.description = format!("{} and custom fingerprint", variant.description);
                variant.values = resolved.clone();
                variant.hash = component.contributes.then(|| {
                    let defaults = component.contributing_values();
                    let salted = resolved.iter().flat_map(|entry| {
                        if fingerprint::is_default(entry) { defaults.clone() } else { vec![entry.as_str()] }
                    });
                    hash::hash_values(salted)
                });
            }
        }
    }

    if variants.iter().all(|(_, v)| v.hash.is_none()) {
        let v = VariantKind::Fallback;
        variants
            .push(("fallback".to_owned(), value_variant(v, "fallback grouping", hash::hash_values([]), Vec::new())));
    }
    finish(variants)
}

/// Orders hashes (system last, duplicates dropped) and picks the primary tree.
fn finish(variants: Vec<(String, Variant)>) -> GroupingResult {
    let mut ordered: Vec<&(String, Variant)> = variants.iter().collect();
    ordered.sort_by_key(|(name, _)| name == "system");
    let mut hashes: Vec<String> = Vec::new();
    let mut tree = None;
    for (_, variant) in ordered {
        if let Some(hash) = &variant.hash {
            if hashes.is_empty() {
                tree = variant.component.clone();
            }
            if !hashes.contains(hash) {
                hashes.push(hash.clone());
            }
        }
    }
    GroupingResult { hashes, variants: variants.into_iter().collect(), tree }
}
