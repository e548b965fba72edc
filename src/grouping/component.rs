//! The grouping component tree: what was looked at, what contributed, and why not.
//!
//! Every strategy turns a part of the event into a small tree. Leaves are strings; inner nodes
//! carry an `id`, a `contributes` flag and an optional `hint` explaining a decision:
//!
//! ```text
//! app (contributes)
//! └─ exception
//!    ├─ type "ValueError"
//!    ├─ value "hello <int>"          ✗ ignored because stacktrace takes precedence
//!    └─ stacktrace
//!       ├─ frame
//!       │  ├─ module "foo.bar"
//!       │  ├─ filename "bar.py"      ✗ ignored because module takes precedence
//!       │  └─ function "run"
//!       └─ frame                     ✗ non app frame
//! ```
//!
//! A component's `contributes` flag is computed once from its values when they are set (any
//! string value, or any contributing child) and is only changed explicitly afterwards, exactly as
//! upstream does. The hash of a tree is the MD5 of the leaf strings reachable through
//! contributing components, concatenated without separators ([`Component::hash`]).

use serde::Serialize;

use crate::grouping::hash::Md5Hasher;

/// One node of a grouping component tree.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Component {
    /// Machine name, e.g. `exception`, `frame`, `function`.
    pub id: &'static str,
    /// Human name for the UI for major components (`stack-trace`, `in-app`, …).
    pub name: Option<&'static str>,
    /// Whether this node's values take part in the hash.
    pub contributes: bool,
    /// Why the node was changed or ignored, if it was.
    pub hint: Option<String>,
    /// Leaf strings or child components, in hash order.
    pub values: Vec<ComponentValue>,
}

/// A value inside a component: a leaf string or a child component.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ComponentValue {
    /// A child component.
    Component(Component),
    /// A leaf that is hashed when every ancestor contributes.
    Text(String),
}

impl Component {
    /// A component whose `contributes` flag is derived from `values`.
    pub fn new(id: &'static str, values: Vec<ComponentValue>) -> Self {
        let contributes = values.iter().any(|v| match v {
            ComponentValue::Text(_) => true,
            ComponentValue::Component(c) => c.contributes,
        });
        Self {
            id,
            name: major_name(id),
            contributes,
            hint: None,
            values,
        }
    }

    /// A component holding child components.
    pub fn with_children(id: &'static str, children: Vec<Component>) -> Self {
        Self::new(
            id,
            children
                .into_iter()
                .map(ComponentValue::Component)
                .collect(),
        )
    }

    /// A component holding a single leaf string.
    pub fn leaf(id: &'static str, value: impl Into<String>) -> Self {
        Self::new(id, vec![ComponentValue::Text(value.into())])
    }

    /// A component without values; it never contributes.
    pub fn empty(id: &'static str) -> Self {
        Self::new(id, Vec::new())
    }

    /// Switches contribution off (or on) and records why.
    pub fn set_contributes(&mut self, contributes: bool, hint: impl Into<String>) {
        self.contributes = contributes;
        self.hint = Some(hint.into());
    }

    /// Switches contribution off and records why.
    pub fn ignore(&mut self, hint: impl Into<String>) {
        self.set_contributes(false, hint);
    }

    /// Sets a hint without touching the contribution flag.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Replaces the single leaf value (used for cleaned names), keeping `contributes`.
    pub fn replace_text(&mut self, value: impl Into<String>, hint: impl Into<String>) {
        self.values = vec![ComponentValue::Text(value.into())];
        self.hint = Some(hint.into());
    }

    /// The first leaf string, if any.
    pub fn text(&self) -> Option<&str> {
        self.values.iter().find_map(|v| match v {
            ComponentValue::Text(t) => Some(t.as_str()),
            ComponentValue::Component(_) => None,
        })
    }

    /// Child components, in order.
    pub fn children(&self) -> impl Iterator<Item = &Component> {
        self.values.iter().filter_map(|v| match v {
            ComponentValue::Component(c) => Some(c),
            ComponentValue::Text(_) => None,
        })
    }

    /// Child components, mutable.
    pub fn children_mut(&mut self) -> impl Iterator<Item = &mut Component> {
        self.values.iter_mut().filter_map(|v| match v {
            ComponentValue::Component(c) => Some(c),
            ComponentValue::Text(_) => None,
        })
    }

    /// The first direct child with the given id.
    pub fn child_mut(&mut self, id: &str) -> Option<&mut Component> {
        self.children_mut().find(|c| c.id == id)
    }

    /// Leaf strings that take part in the hash, in tree order.
    pub fn contributing_values(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.collect_values(&mut out);
        out
    }

    fn collect_values<'a>(&'a self, out: &mut Vec<&'a str>) {
        if !self.contributes {
            return;
        }
        for value in &self.values {
            match value {
                ComponentValue::Text(t) => out.push(t),
                ComponentValue::Component(c) => c.collect_values(out),
            }
        }
    }

    /// MD5 of the contributing leaf values, or `None` when this component does not contribute.
    pub fn hash(&self) -> Option<String> {
        self.contributes.then(|| {
            let mut hasher = Md5Hasher::default();
            for value in self.contributing_values() {
                hasher.update(value);
            }
            hasher.finish()
        })
    }

    /// The longest chain of named contributing components, e.g. `in-app exception stack-trace`.
    pub fn description(&self) -> String {
        fn walk<'a>(c: &'a Component, path: &mut Vec<&'a str>, best: &mut Vec<&'a str>) {
            path.extend(c.name);
            for child in c.children().filter(|c| c.contributes) {
                walk(child, path, best);
            }
            if (path.len(), &*path) > (best.len(), &*best) {
                *best = path.clone();
            }
            if c.name.is_some() {
                path.pop();
            }
        }
        let mut best = Vec::new();
        walk(self, &mut Vec::new(), &mut best);
        if best.is_empty() {
            self.name.unwrap_or("others").to_owned()
        } else {
            best.join(" ")
        }
    }

    /// Whether a contributing `stacktrace` is reachable through contributing children.
    pub fn has_contributing_stacktrace(&self) -> bool {
        self.children()
            .filter(|c| c.contributes)
            .any(|c| c.id == "stacktrace" || c.has_contributing_stacktrace())
    }
}

/// UI names for the components the issue page calls out.
fn major_name(id: &str) -> Option<&'static str> {
    Some(match id {
        "app" => "in-app",
        "exception" => "exception",
        "stacktrace" => "stack-trace",
        "threads" => "thread",
        "hostname" => "hostname",
        "violation" => "violation",
        "uri" => "URL",
        "message" => "message",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contribution_is_derived_from_values_when_built() {
        let empty = Component::empty("function");
        let frame = Component::with_children("frame", vec![empty, Component::leaf("module", "m")]);
        assert!(frame.contributes);
        assert!(!Component::with_children("frame", vec![Component::empty("module")]).contributes);
    }

    #[test]
    fn hash_skips_values_below_ignored_components() {
        let mut filename = Component::leaf("filename", "foo.py");
        filename.ignore("ignored because module takes precedence");
        let frame =
            Component::with_children("frame", vec![Component::leaf("module", "foo"), filename]);
        assert_eq!(frame.contributing_values(), vec!["foo"]);
        // md5("foo")
        assert_eq!(
            frame.hash().as_deref(),
            Some("acbd18db4cc2f85cedef654fccc4a4d8")
        );
    }

    #[test]
    fn a_non_contributing_component_has_no_hash() {
        let mut c = Component::leaf("type", "ValueError");
        c.ignore("ignored because exception is synthetic");
        assert_eq!(c.hash(), None);
    }
}
