//! The issue page's grouping explanation: the shown event's grouping recomputed from its stored
//! payload with the project's current rules ([`crate::grouping::calculate`]), flattened for the
//! template — every variant, which of them produced a hash of this issue, and the component tree with
//! what contributed and what was ignored and why (the components' hints).

use serde_json::Value;

use crate::grouping::{Component, ComponentValue, GroupingConfig, GroupingResult, calculate};

/// Most tree rows shown per variant (deep stacks are cut, with a note).
const MAX_ROWS: usize = 400;

/// One line of a component tree.
pub struct ComponentRow {
    /// Nesting depth (0 for the root).
    pub depth: usize,
    /// Machine name (`exception`, `frame`, `function`, …).
    pub id: String,
    /// The leaf value, for leaves.
    pub value: Option<String>,
    /// Whether it takes part in the hash.
    pub contributes: bool,
    /// Why it was changed or ignored.
    pub hint: Option<String>,
}

/// One variant of the event's grouping.
pub struct VariantView {
    /// `app`, `system`, `default`, `custom_fingerprint`, ….
    pub name: String,
    /// `in-app exception stack-trace`, `custom client fingerprint`, ….
    pub description: String,
    /// How the hash was produced (`component`, `custom_fingerprint`, …).
    pub kind: String,
    /// The hash, if the variant contributes.
    pub hash: Option<String>,
    /// Why it does not contribute, if it does not.
    pub hint: Option<String>,
    /// Whether its hash is one of the issue's hashes.
    pub groups_issue: bool,
    /// Fingerprint values or the checksum, for value variants.
    pub values: Vec<String>,
    /// The component tree, flattened.
    pub rows: Vec<ComponentRow>,
    /// Rows left out beyond [`MAX_ROWS`].
    pub rows_cut: usize,
}

/// The explanation of one event.
pub struct GroupingView {
    /// Variants, the one that groups this issue first.
    pub variants: Vec<VariantView>,
    /// Whether no variant's hash belongs to the issue (the rules changed, or the issue was merged).
    pub regrouped: bool,
}

/// Explain `payload`'s grouping under `config`, marking variants whose hash is in `issue_hashes`.
pub fn explain(payload: &Value, config: &GroupingConfig, issue_hashes: &[String]) -> GroupingView {
    view(&calculate(payload, config), issue_hashes)
}

fn view(result: &GroupingResult, issue_hashes: &[String]) -> GroupingView {
    let mut variants: Vec<VariantView> = result
        .variants
        .iter()
        .map(|(name, v)| {
            let mut rows = Vec::new();
            let mut cut = 0;
            if let Some(component) = &v.component {
                flatten(component, 0, &mut rows, &mut cut);
            }
            VariantView {
                name: name.clone(),
                description: v.description.clone(),
                kind: serde_json::to_value(v.kind).ok().and_then(|k| k.as_str().map(str::to_owned)).unwrap_or_default(),
                groups_issue: v.hash.as_ref().is_some_and(|h| issue_hashes.contains(h)),
                hash: v.hash.clone(),
                hint: v.hint.clone(),
                values: v.values.clone(),
                rows,
                rows_cut: cut,
            }
        })
        .collect();
    variants.sort_by_key(|v| (!v.groups_issue, v.hash.is_none()));
    let regrouped = !variants.iter().any(|v| v.groups_issue);
    GroupingView { variants, regrouped }
}

fn flatten(component: &Component, depth: usize, rows: &mut Vec<ComponentRow>, cut: &mut usize) {
    if rows.len() >= MAX_ROWS {
        *cut += 1;
        return;
    }
    let value = component.values.text().map(str::to_owned);
    rows.push(ComponentRow {
        depth,
        id: component.id.to_owned(),
        value,
        contributes: component.contributes,
        hint: component.hint.as_ref().map(|h| h.as_str().to_owned()),
    });
    for child in component.values.iter() {
        if let ComponentValue::Component(child) = child {
            flatten(child, depth + 1, rows, cut);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_variant_of_the_issue_comes_first_with_its_tree() {
        let event = json!({"platform": "python", "exception": {"values": [{"type": "KeyError", "value": "x",
            "stacktrace": {"frames": [{"module": "app.views", "function": "load", "in_app": true},
                                      {"module": "lib", "function": "get", "in_app": false}]}}]}});
        let result = calculate(&event, &GroupingConfig::default());
        let primary = result.hashes[0].clone();
        let explained = view(&result, std::slice::from_ref(&primary));
        assert!(!explained.regrouped);
        let first = &explained.variants[0];
        assert!(first.groups_issue && first.hash.as_deref() == Some(primary.as_str()));
        assert!(first.rows.iter().any(|r| r.value.as_deref() == Some("load") && r.contributes));
        assert!(explained.variants.iter().flat_map(|v| &v.rows).any(|r| !r.contributes && r.hint.is_some()));
        assert!(view(&result, &[]).regrouped);
    }
}
