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
//!
//! A component holds either one leaf string or a list of children, never both, so [`Values`]
//! stores exactly that: nothing, one [`Text`], or an `Arc`-shared list of child components.
//! Trees share their parts: the app and system trees reuse the same frame contents (only the
//! frame nodes themselves, with their own flag and hint, differ), copying a tree into
//! `GroupingResult::tree` copies one node, and short strings live inline in their `Text`.
//! Components are built bottom-up and never changed below their own node afterwards.

use std::sync::Arc;

use serde::{Serialize, Serializer};

use crate::grouping::hash::Md5Hasher;
pub use crate::grouping::text::Text;

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
    pub hint: Option<Text>,
    /// The leaf string or the child components, in hash order; serializes as a list.
    pub values: Values,
}

/// A value inside a component, as [`Values::iter`] yields it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ComponentValue<'a> {
    /// A child component.
    Component(&'a Component),
    /// A leaf that is hashed when every ancestor contributes.
    Text(&'a Text),
}

/// What a component holds: nothing, one leaf string, or child components (shared between the
/// trees containing them, so cloning is cheap).
#[derive(Debug, Clone, Default)]
pub struct Values(Repr);

#[derive(Debug, Clone, Default)]
enum Repr {
    #[default]
    Empty,
    Text(Text),
    Children(Arc<[Component]>),
}

impl Values {
    /// The values in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = ComponentValue<'_>> {
        let (text, children): (Option<&Text>, &[Component]) = match &self.0 {
            Repr::Empty => (None, &[]),
            Repr::Text(t) => (Some(t), &[]),
            Repr::Children(c) => (None, c),
        };
        let texts = text.into_iter().map(ComponentValue::Text);
        // Exactly one of the two is non-empty.
        ExactChain(texts, children.iter().map(ComponentValue::Component))
    }

    /// The number of values.
    pub fn len(&self) -> usize {
        self.iter().len()
    }

    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        matches!(self.0, Repr::Empty)
    }

    /// The leaf string, if this is a leaf.
    pub fn text(&self) -> Option<&Text> {
        match &self.0 {
            Repr::Text(t) => Some(t),
            Repr::Empty | Repr::Children(_) => None,
        }
    }

    /// The child components (empty for leaves).
    pub fn children(&self) -> &[Component] {
        match &self.0 {
            Repr::Children(c) => c,
            Repr::Empty | Repr::Text(_) => &[],
        }
    }
}

/// `Chain` for two iterators of which at most one yields anything, keeping the exact length.
struct ExactChain<A, B>(A, B);

impl<T, A: Iterator<Item = T>, B: Iterator<Item = T>> Iterator for ExactChain<A, B> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.0.next().or_else(|| self.1.next())
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let (a, b) = (self.0.size_hint().0, self.1.size_hint().0);
        (a + b, Some(a + b))
    }
}

impl<T, A: Iterator<Item = T>, B: Iterator<Item = T>> ExactSizeIterator for ExactChain<A, B> {}

impl PartialEq for Values {
    fn eq(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            (Repr::Empty, Repr::Empty) => true,
            (Repr::Text(a), Repr::Text(b)) => a == b,
            (Repr::Children(a), Repr::Children(b)) => Arc::ptr_eq(a, b) || a == b,
            _ => false,
        }
    }
}

impl Serialize for Values {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

impl Component {
    fn with_values(id: &'static str, contributes: bool, values: Repr) -> Self {
        Self { id, name: major_name(id), contributes, hint: None, values: Values(values) }
    }

    /// A component holding child components; it contributes if one of them does.
    pub fn with_children(id: &'static str, children: impl IntoIterator<Item = Component>) -> Self {
        Self::with_shared_children(id, children.into_iter().collect())
    }

    /// [`Component::with_children`] for children already in an `Arc`.
    pub fn with_shared_children(id: &'static str, children: Arc<[Component]>) -> Self {
        let contributes = children.iter().any(|c| c.contributes);
        let values = if children.is_empty() { Repr::Empty } else { Repr::Children(children) };
        Self::with_values(id, contributes, values)
    }

    /// A component holding a single leaf string; it contributes.
    pub fn leaf(id: &'static str, value: impl Into<Text>) -> Self {
        Self::with_values(id, true, Repr::Text(value.into()))
    }

    /// A component without values; it never contributes.
    pub fn empty(id: &'static str) -> Self {
        Self::with_values(id, false, Repr::Empty)
    }

    /// Switches contribution off (or on) and records why.
    pub fn set_contributes(&mut self, contributes: bool, hint: impl Into<Text>) {
        self.contributes = contributes;
        self.hint = Some(hint.into());
    }

    /// Switches contribution off and records why.
    pub fn ignore(&mut self, hint: impl Into<Text>) {
        self.set_contributes(false, hint);
    }

    /// Sets a hint without touching the contribution flag.
    pub fn with_hint(mut self, hint: impl Into<Text>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Replaces the single leaf value (used for cleaned names), keeping `contributes`.
    pub fn replace_text(&mut self, value: impl Into<Text>, hint: impl Into<Text>) {
        self.values = Values(Repr::Text(value.into()));
        self.hint = Some(hint.into());
    }

    /// The leaf string, if any.
    pub fn text(&self) -> Option<&str> {
        self.values.text().map(Text::as_str)
    }

    /// Child components, in order.
    pub fn children(&self) -> impl Iterator<Item = &Component> {
        self.values.children().iter()
    }

    /// Leaf strings that take part in the hash, in tree order.
    pub fn contributing_values(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.visit_contributing(&mut |text| out.push(text.as_str()));
        out
    }

    /// Whether both components contribute the same leaf strings (and so hash alike).
    pub fn same_contributing_values(&self, other: &Component) -> bool {
        // Cheap first: how many strings and how many bytes.
        let shape = |c: &Component| {
            let (mut count, mut len) = (0, 0);
            c.visit_contributing(&mut |text| {
                count += 1;
                len += text.as_bytes().len();
            });
            (count, len)
        };
        if shape(self) != shape(other) {
            return false;
        }
        fn bytes(c: &Component) -> Vec<&[u8]> {
            let mut out = Vec::new();
            c.visit_contributing(&mut |text| out.push(text.as_bytes()));
            out
        }
        bytes(self) == bytes(other)
    }

    /// Calls `f` with every leaf string that takes part in the hash, in tree order.
    fn visit_contributing<'a>(&'a self, f: &mut impl FnMut(&'a Text)) {
        if !self.contributes {
            return;
        }
        match &self.values.0 {
            Repr::Empty => {}
            Repr::Text(t) => f(t),
            Repr::Children(children) => children.iter().for_each(|c| c.visit_contributing(f)),
        }
    }

    /// MD5 of the contributing leaf values, or `None` when this component does not contribute.
    pub fn hash(&self) -> Option<String> {
        self.contributes.then(|| {
            let mut hasher = Md5Hasher::default();
            self.visit_contributing(&mut |text| hasher.update_bytes(text.as_bytes()));
            hasher.finish()
        })
    }

    /// The longest chain of named contributing components, e.g. `in-app exception stack-trace`.
    pub fn description(&self) -> String {
        fn walk<'a>(c: &'a Component, root: bool, path: &mut Vec<&'a str>, best: &mut Vec<&'a str>) {
            path.extend(c.name);
            for child in c.children().filter(|c| c.contributes) {
                walk(child, false, path, best);
            }
            // An unnamed node's path is its parent's, which the parent compares anyway (the
            // result is the maximum of all compared paths).
            if (root || c.name.is_some()) && (path.len(), &*path) > (best.len(), &*best) {
                best.clone_from(path);
            }
            if c.name.is_some() {
                path.pop();
            }
        }
        let mut best = Vec::new();
        walk(self, true, &mut Vec::new(), &mut best);
        if best.is_empty() { self.name.unwrap_or("others").to_owned() } else { best.join(" ") }
    }

    /// Whether a contributing `stacktrace` is reachable through contributing children.
    pub fn has_contributing_stacktrace(&self) -> bool {
        self.children().filter(|c| c.contributes).any(|c| c.id == "stacktrace" || c.has_contributing_stacktrace())
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
        let frame = Component::with_children("frame", vec![Component::leaf("module", "foo"), filename]);
        assert_eq!(frame.contributing_values(), vec!["foo"]);
        // md5("foo")
        assert_eq!(frame.hash().as_deref(), Some("acbd18db4cc2f85cedef654fccc4a4d8"));
    }

    #[test]
    fn a_non_contributing_component_has_no_hash() {
        let mut c = Component::leaf("type", "ValueError");
        c.ignore("ignored because exception is synthetic");
        assert_eq!(c.hash(), None);
    }
}
