//! One stack frame → `frame { module, filename, function, context_line }`.
//!
//! ```text
//! frame
//! ├─ module    "foo.bar.Baz$$EnhancerBySpringCGLIB$$<auto>"   codegen markers cleaned (java)
//! ├─ filename  "baz.java"        ✗ ignored because module takes precedence
//! ├─ function  "render"          `Object.render` trimmed (javascript)
//! └─ context_line "return x"     python, javascript, node, php, ruby only
//! ```
//!
//! Filenames are reduced to their lower-cased basename and dropped for URLs; modules beat
//! filenames; function names get per-platform clean-up; low-quality JavaScript frames (eval,
//! `[native code]`) are ignored as a whole.
//!
//! A stack trace's frames are built together ([`frame_components`]): each frame's leaves are
//! decided (a [`Leaf`] borrows its string from the event where it can) and appended as
//! components to one list for the whole stack trace; strings too long to keep inline are set
//! aside and end up in one shared buffer. So a stack trace costs a handful of allocations
//! instead of several per frame, and its leaves are moved into their shared list in one copy.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::{Arc, LazyLock};

use regex::Regex;

use crate::grouping::component::{Component, Text};
use crate::grouping::enhancers::{FAMILY_JAVASCRIPT, FAMILY_NATIVE};
use crate::grouping::frames::{Frame, Platform};
use crate::grouping::text::INLINE;

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).unwrap_or_else(|e| panic!("invalid built-in regex {pattern}: {e}"))
}

static RUBY_ERB: LazyLock<Regex> = LazyLock::new(|| re(r"__\d{4,}_\d{4,}$"));
static JAVA_REFLECT: LazyLock<Regex> =
    LazyLock::new(|| re(r"(sun\.reflect\.Generated(?:Serialization)?ConstructorAccessor)\d+"));
static JAVA_CGLIB: LazyLock<Regex> = LazyLock::new(|| re(r"(\$\$[\w_]+?CGLIB\$\$)[a-fA-F0-9]+(_[0-9]+)?"));
static JAVA_ASSIST: LazyLock<Regex> = LazyLock::new(|| re(r"(\$\$_javassist)(?:_seam)?(?:_[0-9]+)?"));
static CLOJURE: LazyLock<Regex> = LazyLock::new(|| re(r"(\$fn__)\d+"));
static JAVA_ENHANCER_BY: LazyLock<Regex> = LazyLock::new(|| re(r"(\$\$?EnhancerBy[\w_]+?\$?\$)[a-fA-F0-9]+(_[0-9]+)?"));
static JAVA_FAST_CLASS_BY: LazyLock<Regex> =
    LazyLock::new(|| re(r"(\$\$?FastClassBy[\w_]+?\$?\$)[a-fA-F0-9]+(_[0-9]+)?"));
static JAVA_HIBERNATE: LazyLock<Regex> = LazyLock::new(|| re(r"(\$\$?HibernateProxy\$?\$)\w+(_[0-9]+)?"));

/// Whether `path` is a URL; `file:` counts only when `files_count` is set.
pub fn has_url_origin(path: Option<&str>, files_count: bool) -> bool {
    let Some(path) = path else {
        return false;
    };
    match path.as_bytes().first() {
        Some(b'h') => path.starts_with("http:") || path.starts_with("https:"),
        Some(b'a') => path.starts_with("applewebdata:"),
        Some(b'b') => path.starts_with("blob:"),
        Some(b'f') => files_count && path.starts_with("file:"),
        _ => false,
    }
}

/// A leaf (`module`, `filename`, …) as decided for one frame, before its string has a home.
struct Leaf<'a> {
    id: &'static str,
    /// `None` for an empty component.
    text: Option<Cow<'a, str>>,
    contributes: bool,
    hint: Option<&'static str>,
}

impl<'a> Leaf<'a> {
    fn new(id: &'static str, text: impl Into<Cow<'a, str>>) -> Self {
        Self { id, text: Some(text.into()), contributes: true, hint: None }
    }

    fn empty(id: &'static str) -> Self {
        Self { id, text: None, contributes: false, hint: None }
    }

    fn ignore(&mut self, hint: &'static str) {
        self.contributes = false;
        self.hint = Some(hint);
    }

    fn replace_text(&mut self, text: impl Into<Cow<'a, str>>, hint: &'static str) {
        self.text = Some(text.into());
        self.hint = Some(hint);
    }
}

/// The leaves of a stack trace's frames, as components, while they are decided. Strings too
/// long to keep inline are set aside and become one shared buffer once all are known.
struct LeafList<'a> {
    components: Vec<Component>,
    /// `(index in components, string)` of the leaves whose string goes into the buffer.
    long: Vec<(usize, Cow<'a, str>)>,
}

impl<'a> LeafList<'a> {
    fn push(&mut self, leaf: Leaf<'a>) {
        let mut component = match leaf.text {
            None => Component::empty(leaf.id),
            Some(text) if text.len() > INLINE => {
                self.long.push((self.components.len(), text));
                // A placeholder until the buffer exists (see `finish`).
                Component::empty(leaf.id)
            }
            Some(text) => Component::leaf(leaf.id, Text::copied(&text)),
        };
        component.contributes = leaf.contributes;
        component.hint = leaf.hint.map(Text::from);
        self.components.push(component);
    }

    fn len(&self) -> usize {
        self.components.len()
    }

    /// The leaves, their long strings now ranges of one shared buffer.
    fn finish(self) -> Arc<[Component]> {
        let mut components = self.components;
        let buffer: String = self.long.iter().map(|(_, text)| &**text).collect();
        let buffer: Arc<str> = Arc::from(buffer);
        let mut offset = 0;
        for (idx, text) in &self.long {
            let range = offset..offset + text.len();
            offset = range.end;
            if let Some(placeholder) = components.get_mut(*idx) {
                let mut leaf = Component::leaf_in(placeholder.id, &buffer, range);
                leaf.contributes = placeholder.contributes;
                leaf.hint = placeholder.hint.take();
                *placeholder = leaf;
            }
        }
        Arc::from(components)
    }
}

/// One frame node: its leaves' range and its own flag and hint.
struct FrameNode {
    leaves: Range<usize>,
    contributes: bool,
    hint: Option<&'static str>,
}

/// The frame components of a stack trace (the same for every variant). All their leaves are
/// one shared list and all their long strings one shared buffer: a stack trace costs a handful
/// of allocations, whatever its length.
pub fn frame_components(frames: &[Frame<'_>]) -> Arc<[Component]> {
    let mut leaves =
        LeafList { components: Vec::with_capacity(frames.len() * 4), long: Vec::with_capacity(frames.len()) };
    let nodes: Vec<FrameNode> = frames.iter().map(|frame| frame_node(frame, &mut leaves)).collect();
    let leaves = leaves.finish();
    nodes
        .into_iter()
        .map(|node| {
            let mut component = Component::with_children_in("frame", &leaves, node.leaves);
            component.contributes = node.contributes;
            if let Some(hint) = node.hint {
                component.ignore(hint);
            }
            component
        })
        .collect()
}

/// Decides one frame's leaves (appended to `leaves`) and its flag.
fn frame_node<'a>(frame: &'a Frame<'_>, leaves: &mut LeafList<'a>) -> FrameNode {
    let platform = frame.kind;
    let javascript = frame.family == FAMILY_JAVASCRIPT;
    let mut filename = filename_leaf(frame, platform);
    let module = module_leaf(frame, platform);
    if module.contributes && filename.contributes {
        filename.ignore("ignored because module takes precedence");
    }
    let context_line = frame
        .context_line
        .as_deref()
        .filter(|_| platform.has_context_lines())
        .map(|line| context_line_leaf(frame, line, javascript));
    let context_usable = context_line.as_ref().is_some_and(|c| c.contributes);
    let mut function = function_leaf(frame, platform, context_usable);
    // As upstream, the frame's flag is derived before the JavaScript clean-up below.
    let contributes = [&module, &filename, &function].into_iter().chain(&context_line).any(|c| c.contributes);

    let javascript_name =
        javascript.then(|| frame.raw_function.or(frame.function.as_deref()).map(|f| f.rsplit('.').next().unwrap_or(f)));
    if let Some(name) = javascript_name {
        match name {
            None | Some("") => function.contributes = false,
            Some("?" | "<anonymous function>" | "<anonymous>" | "Anonymous function") => {
                function.ignore("ignored unknown function name");
            }
            Some(n) if n.ends_with("/<") => function.ignore("ignored unknown function name"),
            Some(_) => {}
        }
    }
    let start = leaves.len();
    leaves.push(module);
    leaves.push(filename);
    leaves.push(function);
    if let Some(context_line) = context_line {
        leaves.push(context_line);
    }
    let low_quality = javascript_name.is_some_and(|name| {
        name == Some("eval")
            || matches!(frame.abs_path, Some("[native code]" | "native code" | "eval code" | "<anonymous>"))
    });
    FrameNode {
        leaves: start..leaves.len(),
        contributes,
        hint: low_quality.then_some("ignored low quality javascript frame"),
    }
}

/// `s` with whitespace runs collapsed to one space and trimmed (`split_whitespace` + `join`),
/// borrowed when only the ends had whitespace.
fn collapse_whitespace(s: &str) -> Cow<'_, str> {
    // `str::trim`, byte-wise while the ends are ASCII (its whitespace there is 9..=13 and ' ').
    let ascii_space = |b: &u8| b.wrapping_sub(9) < 5 || *b == b' ';
    let bytes = s.as_bytes();
    let start = bytes.iter().position(|b| !ascii_space(b)).unwrap_or(bytes.len());
    let end = bytes.iter().rposition(|b| !ascii_space(b)).map_or(start, |e| e + 1);
    let ends_ascii =
        bytes.get(start).is_none_or(u8::is_ascii) && end.checked_sub(1).is_none_or(|e| bytes[e].is_ascii());
    let trimmed = if ends_ascii { &s[start..end] } else { s.trim() };
    if trimmed.is_ascii() {
        // Besides ' ', `char::is_whitespace` accepts the ASCII bytes 9..=13. Branch-free folds
        // (no early exit) over slices, so both checks vectorize.
        let bytes = trimmed.as_bytes();
        let other_space = bytes.iter().fold(false, |acc, &b| acc | (b.wrapping_sub(9) < 5));
        let pairs = bytes.iter().zip(bytes.get(1..).unwrap_or_default());
        let double_space = pairs.fold(false, |acc, (&a, &b)| acc | ((a == b' ') & (b == b' ')));
        if !other_space && !double_space {
            return Cow::Borrowed(trimmed);
        }
        return Cow::Owned(s.split_whitespace().collect::<Vec<_>>().join(" "));
    }
    let mut prev_space = false;
    let single_spaced = trimmed.chars().all(|c| {
        let ok = !c.is_whitespace() || (c == ' ' && !prev_space);
        prev_space = c.is_whitespace();
        ok
    });
    if single_spaced {
        return Cow::Borrowed(trimmed);
    }
    Cow::Owned(s.split_whitespace().collect::<Vec<_>>().join(" "))
}

fn filename_leaf<'a>(frame: &'a Frame<'_>, platform: Platform) -> Leaf<'a> {
    let Some(filename) = frame.filename.as_deref() else {
        return Leaf::empty("filename");
    };
    // One backward pass finds the basename and whether it needs lower-casing.
    let bytes = filename.as_bytes();
    let (mut start, mut lower) = (bytes.len(), true);
    while let Some(&b) = start.checked_sub(1).and_then(|i| bytes.get(i)) {
        if b == b'/' || b == b'\\' {
            break;
        }
        lower &= b.is_ascii() && !b.is_ascii_uppercase();
        start -= 1;
    }
    let basename = &filename[start..];
    let basename = if lower { Cow::Borrowed(basename) } else { Cow::Owned(basename.to_lowercase()) };
    let mut component = Leaf::new("filename", basename.clone());
    if has_url_origin(frame.abs_path, false) {
        component.ignore("ignored because frame points to a URL");
    } else if basename == "<anonymous>" {
        component.ignore("ignored because filename is anonymous");
    } else if basename == "[native code]" {
        component.ignore("ignored because filename suggests native code");
    } else if platform == Platform::Java {
        let cleaned = JAVA_ASSIST.replace_all(&basename, "$1<auto>");
        if cleaned != basename {
            component.replace_text(cleaned.into_owned(), "cleaned javassist parts");
        }
    }
    component
}

fn module_leaf<'a>(frame: &Frame<'a>, platform: Platform) -> Leaf<'a> {
    let Some(module) = frame.module else {
        return Leaf::empty("module");
    };
    let mut component = Leaf::new("module", module);
    if platform == Platform::Javascript && module.contains('/') && frame.abs_path.is_some_and(|p| p.ends_with(module)) {
        component.ignore("ignored bad javascript module");
    } else if platform == Platform::Java {
        if module.contains("$$Lambda$") {
            component.ignore("ignored java lambda");
        }
        const REFLECTION: [&str; 2] =
            ["sun.reflect.GeneratedMethodAccessor", "jdk.internal.reflect.GeneratedMethodAccessor"];
        if let Some(prefix) = REFLECTION.iter().find(|p| module.starts_with(*p)) {
            component.replace_text(*prefix, "removed reflection marker");
        } else {
            let mut cleaned = module.to_owned();
            for re in [
                &JAVA_REFLECT,
                &JAVA_CGLIB,
                &JAVA_ASSIST,
                &CLOJURE,
                &JAVA_ENHANCER_BY,
                &JAVA_FAST_CLASS_BY,
                &JAVA_HIBERNATE,
            ] {
                cleaned = re.replace_all(&cleaned, "$1<auto>").into_owned();
            }
            if cleaned != module {
                component.replace_text(cleaned, "removed codegen marker");
            }
        }
    }
    component
}

fn context_line_leaf<'a>(frame: &Frame<'_>, raw_line: &'a str, javascript: bool) -> Leaf<'a> {
    let line = collapse_whitespace(raw_line);
    if line.is_empty() {
        return Leaf::empty("context_line");
    }
    let mut component = Leaf::new("context_line", line);
    if raw_line.len() > 120 && raw_line.chars().count() > 120 {
        component.ignore("ignored because line is too long");
    } else if javascript && frame.function.is_none() && has_url_origin(frame.abs_path, true) {
        component.ignore("ignored because file path is a URL and function name is missing");
    }
    component
}

fn function_leaf<'a>(frame: &'a Frame<'_>, platform: Platform, context_usable: bool) -> Leaf<'a> {
    let name = if platform == Platform::Csharp {
        frame.raw_function.or(frame.function.as_deref())
    } else {
        frame.function.as_deref().or(frame.raw_function)
    };
    let Some(name) = name else {
        return Leaf::empty("function");
    };
    let mut component = Leaf::new("function", name);
    match platform {
        Platform::Ruby => {
            if name.starts_with("block ") {
                component.replace_text("block", "ruby block");
            } else {
                let cleaned = RUBY_ERB.replace(name, "");
                if cleaned != name {
                    component.replace_text(cleaned, "removed generated erb template suffix");
                }
            }
        }
        Platform::Php => {
            if name.starts_with("[Anonymous") || name.starts_with("class@anonymous\0") {
                component.ignore("ignored anonymous function");
            }
            if let Some((_, method)) = name.strip_prefix("class@anonymous").and_then(|_| name.rsplit_once("::")) {
                component.replace_text(method, "anonymous class method");
            }
        }
        Platform::Java => {
            if name.starts_with("lambda$") {
                component.ignore("ignored lambda function");
            }
        }
        _ => match frame.family {
            FAMILY_NATIVE if name == "<redacted>" || name == "<unknown>" => {
                component.ignore("ignored unknown function");
            }
            FAMILY_JAVASCRIPT => {
                if let Some((_, short)) = name.rsplit_once('.') {
                    component.replace_text(short, "trimmed javascript function");
                }
                if frame.sourcemap && context_usable {
                    component.ignore("ignored because sourcemap used and context line available");
                }
            }
            _ => {}
        },
    }
    component
}
