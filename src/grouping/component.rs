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

use std::ops::Range;
use std::sync::Arc;

use serde::{Serialize, Serializer};

use crate::grouping::hash::Md5Hasher;
pub use crate::grouping::text::Text;

/// One node of a grouping component tree. Serializes with its [`Component::name`].
#[derive(Debug, Clone, PartialEq)]
pub struct Component {
    /// Machine name, e.g. `exception`, `frame`, `function`.
    pub id: &'static str,
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
    Text(&'a str),
}

/// What a component holds: nothing, one leaf string, or child components. Children and long
/// leaf strings can be ranges of lists and buffers shared by a whole stack trace (so its frames
/// cost a few allocations in all, not a few each); cloning is cheap either way.
#[derive(Debug, Clone, Default)]
pub struct Values(Repr);

#[derive(Debug, Clone, Default)]
enum Repr {
    #[default]
    Empty,
    Text(Text),
    /// `buffer[start..end]`.
    TextIn {
        buffer: Arc<str>,
        start: u32,
        end: u32,
    },
    /// `list[start..end]`, never empty.
    Children {
        list: Arc<[Component]>,
        start: u32,
        end: u32,
    },
}

impl Values {
    /// The values in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = ComponentValue<'_>> {
        let texts = self.text().into_iter().map(ComponentValue::Text);
        // At most one of the two yields anything.
        ExactChain(texts, self.children().iter().map(ComponentValue::Component))
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
    pub fn text(&self) -> Option<&str> {
        match &self.0 {
            Repr::Text(t) => Some(t.as_str()),
            Repr::TextIn { buffer, start, end } => buffer.get(*start as usize..*end as usize),
            Repr::Empty | Repr::Children { .. } => None,
        }
    }

    /// The leaf string's bytes (without the UTF-8 check of inline strings), if this is a leaf.
    fn text_bytes(&self) -> Option<&[u8]> {
        match &self.0 {
            Repr::Text(t) => Some(t.as_bytes()),
            Repr::TextIn { buffer, start, end } => buffer.as_bytes().get(*start as usize..*end as usize),
            Repr::Empty | Repr::Children { .. } => None,
        }
    }

    /// The child components (empty for leaves).
    pub fn children(&self) -> &[Component] {
        match &self.0 {
            Repr::Children { list, start, end } => list.get(*start as usize..*end as usize).unwrap_or_default(),
            Repr::Empty | Repr::Text(_) | Repr::TextIn { .. } => &[],
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
        match (self.text_bytes(), other.text_bytes()) {
            (Some(a), Some(b)) => a == b,
            (None, None) => self.is_empty() == other.is_empty() && self.children() == other.children(),
            _ => false,
        }
    }
}

impl Serialize for Component {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut out = serializer.serialize_struct("Component", 5)?;
        out.serialize_field("id", self.id)?;
        out.serialize_field("name", &self.name())?;
        out.serialize_field("contributes", &self.contributes)?;
        out.serialize_field("hint", &self.hint)?;
        out.serialize_field("values", &self.values)?;
        out.end()
    }
}

impl Serialize for Values {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

/// A range as the `u32` pair [`Repr`] stores, if it fits.
fn range32(range: &Range<usize>) -> Option<(u32, u32)> {
    Some((u32::try_from(range.start).ok()?, u32::try_from(range.end).ok()?))
}

impl Component {
    fn with_values(id: &'static str, contributes: bool, values: Repr) -> Self {
        Self { id, contributes, hint: None, values: Values(values) }
    }

    /// Human name for the UI for major components (`stack-trace`, `in-app`, …). It follows
    /// from the id, so it is not stored: a stack trace has hundreds of components.
    pub fn name(&self) -> Option<&'static str> {
        major_name(self.id)
    }

    /// A component holding child components; it contributes if one of them does.
    pub fn with_children(id: &'static str, children: impl IntoIterator<Item = Component>) -> Self {
        Self::with_shared_children(id, children.into_iter().collect())
    }

    /// [`Component::with_children`] for children already in an `Arc`.
    pub fn with_shared_children(id: &'static str, children: Arc<[Component]>) -> Self {
        let len = children.len();
        Self::with_children_in(id, &children, 0..len)
    }

    /// [`Component::with_children`] for the children `list[range]`, sharing `list`.
    pub fn with_children_in(id: &'static str, list: &Arc<[Component]>, range: Range<usize>) -> Self {
        let children = &list[range.clone()];
        let contributes = children.iter().any(|c| c.contributes);
        let values = match range32(&range) {
            _ if children.is_empty() => Repr::Empty,
            Some((start, end)) => Repr::Children { list: Arc::clone(list), start, end },
            None => {
                let copy: Arc<[Component]> = children.iter().cloned().collect();
                let len = u32::try_from(copy.len()).unwrap_or(u32::MAX);
                Repr::Children { list: copy, start: 0, end: len }
            }
        };
        Self::with_values(id, contributes, values)
    }

    /// A component holding a single leaf string; it contributes.
    pub fn leaf(id: &'static str, value: impl Into<Text>) -> Self {
        Self::with_values(id, true, Repr::Text(value.into()))
    }

    /// A leaf holding `buffer[range]`, sharing `buffer`; it contributes.
    pub fn leaf_in(id: &'static str, buffer: &Arc<str>, range: Range<usize>) -> Self {
        let values = match range32(&range) {
            Some((start, end)) if buffer.get(range.clone()).is_some() => {
                Repr::TextIn { buffer: Arc::clone(buffer), start, end }
            }
            _ => Repr::Text(Text::copied(buffer.get(range).unwrap_or_default())),
        };
        Self::with_values(id, true, values)
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
        self.values.text()
    }

    /// Child components, in order.
    pub fn children(&self) -> impl Iterator<Item = &Component> {
        self.values.children().iter()
    }

    /// Leaf strings that take part in the hash, in tree order.
    pub fn contributing_values(&self) -> Vec<&str> {
        let mut out = Vec::new();
        // Leaf bytes always come from a `str`.
        self.visit_contributing(&mut |text| out.push(std::str::from_utf8(text).unwrap_or_default()));
        out
    }

    /// Whether both components contribute the same leaf strings (and so hash alike).
    pub fn same_contributing_values(&self, other: &Component) -> bool {
        // In lockstep, stopping at the first difference (usually the first frame).
        Contributing::new(self).eq(Contributing::new(other))
    }

    /// Calls `f` with every leaf string that takes part in the hash, in tree order.
    fn visit_contributing<'a>(&'a self, f: &mut impl FnMut(&'a [u8])) {
        if !self.contributes {
            return;
        }
        match self.values.text_bytes() {
            Some(text) => f(text),
            None => self.values.children().iter().for_each(|c| c.visit_contributing(f)),
        }
    }

    /// MD5 of the contributing leaf values, or `None` when this component does not contribute.
    pub fn hash(&self) -> Option<String> {
        self.contributes.then(|| {
            let mut hasher = Md5Hasher::default();
            self.visit_contributing(&mut |text| hasher.update_bytes(text));
            hasher.finish()
        })
    }

    /// The longest chain of named contributing components, e.g. `in-app exception stack-trace`.
    pub fn description(&self) -> String {
        fn walk(c: &Component, root: bool, path: &mut NamePath, best: &mut NamePath) {
            let name = c.name();
            if let Some(name) = name {
                path.push(name);
            }
            // An unnamed leaf adds nothing (see below), and below a stack trace there are only
            // frames and their leaves, none of them named: nothing to walk there.
            let children = if c.id == "stacktrace" { &[][..] } else { c.values.children() };
            for child in
                children.iter().filter(|c| c.contributes && (c.name().is_some() || !c.values.children().is_empty()))
            {
                walk(child, false, path, best);
            }
            // An unnamed node's path is its parent's, which the parent compares anyway (the
            // result is the maximum of all compared paths).
            if (root || name.is_some()) && (path.len, path.names()) > (best.len, best.names()) {
                *best = *path;
            }
            if name.is_some() {
                path.len -= 1;
            }
        }
        let mut best = NamePath::default();
        walk(self, true, &mut NamePath::default(), &mut best);
        if best.len == 0 { self.name().unwrap_or("others").to_owned() } else { best.names().join(" ") }
    }

    /// Whether a contributing `stacktrace` is reachable through contributing children.
    pub fn has_contributing_stacktrace(&self) -> bool {
        self.children().filter(|c| c.contributes).any(|c| c.id == "stacktrace" || c.has_contributing_stacktrace())
    }
}

/// The names along a path of a tree, for [`Component::description`]: trees are a few named
/// levels deep, so a small array does (deeper names are counted but not kept).
#[derive(Clone, Copy, Default)]
struct NamePath {
    slots: [&'static str; 8],
    len: usize,
}

impl NamePath {
    fn push(&mut self, name: &'static str) {
        if let Some(slot) = self.slots.get_mut(self.len) {
            *slot = name;
        }
        self.len += 1;
    }

    fn names(&self) -> &[&'static str] {
        &self.slots[..self.len.min(self.slots.len())]
    }
}

/// The contributing leaf strings of a tree, in order (what [`Component::hash`] hashes).
struct Contributing<'a> {
    /// Children still to visit, per level.
    stack: Vec<std::slice::Iter<'a, Component>>,
    /// The root, before the first call.
    root: Option<&'a Component>,
}

impl<'a> Contributing<'a> {
    fn new(root: &'a Component) -> Self {
        Self { stack: Vec::new(), root: Some(root) }
    }

    /// The leaf string of `c`, or `None` after queueing its children.
    fn enter(&mut self, c: &'a Component) -> Option<&'a [u8]> {
        if !c.contributes {
            return None;
        }
        let text = c.values.text_bytes();
        if text.is_none() {
            self.stack.push(c.values.children().iter());
        }
        text
    }
}

impl<'a> Iterator for Contributing<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if let Some(text) = self.root.take().and_then(|root| self.enter(root)) {
            return Some(text);
        }
        loop {
            let child = self.stack.last_mut()?.next();
            match child {
                Some(child) => {
                    if let Some(text) = self.enter(child) {
                        return Some(text);
                    }
                }
                None => {
                    self.stack.pop();
                }
            }
        }
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

    #[test]
    fn shared_buffers_and_lists_look_like_owned_values() {
        let buffer: Arc<str> = Arc::from("a context line longer than inline textsfoo.bar");
        let list: Arc<[Component]> = Arc::from([
            Component::leaf_in("context_line", &buffer, 0..39),
            Component::leaf_in("module", &buffer, 39..46),
            Component::empty("function"),
        ]);
        let shared = Component::with_children_in("frame", &list, 0..2);
        let owned = Component::with_children(
            "frame",
            vec![
                Component::leaf("context_line", String::from("a context line longer than inline texts")),
                Component::leaf("module", "foo.bar"),
            ],
        );
        assert_eq!(shared, owned);
        assert_eq!(serde_json::to_value(&shared).ok(), serde_json::to_value(&owned).ok());
        assert_eq!(shared.hash(), owned.hash());
        assert!(shared.same_contributing_values(&owned));
        assert_ne!(Component::with_children_in("frame", &list, 1..3), owned);
    }

    #[test]
    fn contributing_values_are_compared_in_lockstep() {
        let tree = |texts: &[&'static str], ignore: Option<usize>| {
            let mut leaves: Vec<Component> = texts.iter().map(|t| Component::leaf("module", *t)).collect();
            if let Some(idx) = ignore {
                leaves[idx].ignore("ignored");
            }
            Component::with_children("stacktrace", vec![Component::with_children("frame", leaves)])
        };
        let a = tree(&["x", "y", "z"], Some(1));
        assert_eq!(Contributing::new(&a).collect::<Vec<_>>(), vec![&b"x"[..], b"z"]);
        assert!(a.same_contributing_values(&tree(&["x", "z"], None)));
        // Same bytes, split differently: not the same values.
        assert!(!tree(&["xy"], None).same_contributing_values(&tree(&["x", "y"], None)));
        assert!(!a.same_contributing_values(&tree(&["x", "z", "w"], None)));
    }
}
