//! Stack-trace rules: matchers that select frames, actions that change them.
//!
//! A rule such as `family:native function:std::* -app -group` has frame matchers (all must hold
//! for the frame, or for its caller `[ … ] |` / callee `| [ … ]`), optional exception matchers
//! (`error.type:`, `error.value:`, `error.mechanism:`) that gate the whole rule, and actions:
//! `+app`/`-app` and `category=` change the frame ("modifiers"), `+group`/`-group`,
//! `max-frames`, `min-frames` and `invert-stacktrace` change grouping ("updaters"). `^` applies
//! a flag to every frame after the match (towards the crash), `v` to every frame before it.

use std::borrow::Cow;
use std::fmt;
use std::sync::OnceLock;

use crate::grouping::glob::{Glob, GlobKind};
use crate::grouping::text::Text;

/// Behaviour families as bits: `other`, `native`, `javascript`; `all` sets every bit.
pub type Families = u8;
pub const FAMILY_OTHER: Families = 0b001;
pub const FAMILY_NATIVE: Families = 0b010;
pub const FAMILY_JAVASCRIPT: Families = 0b100;

/// Parses a comma-separated family list (`native,javascript`, `all`).
pub fn families(list: &str) -> Families {
    list.split(',').fold(0, |bits, family| {
        bits | match family.trim() {
            "other" => FAMILY_OTHER,
            "native" => FAMILY_NATIVE,
            "javascript" => FAMILY_JAVASCRIPT,
            "all" => Families::MAX,
            _ => 0,
        }
    })
}

/// A frame as rules see it: trimmed function (`<unknown>` if none), lower-cased `/` paths.
#[derive(Debug, Clone)]
pub struct MatchFrame<'a> {
    pub family: Families,
    pub function: Cow<'a, str>,
    pub module: Option<&'a str>,
    pub package: Option<Cow<'a, str>>,
    pub path: Option<Cow<'a, str>>,
    pub in_app: Option<bool>,
    /// The SDK's value, kept when a rule changes `in_app` (for hints).
    pub orig_in_app: Option<Option<bool>>,
    pub category: Option<&'a str>,
}

/// The exception a stack trace belongs to; missing values read as `<unknown>`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ExceptionData<'a> {
    pub ty: Option<&'a str>,
    pub value: Option<&'a str>,
    pub mechanism: Option<&'a str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Function,
    Module,
    Path,
    Package,
    Category,
}

/// A compiled glob; invalid globs never match (as upstream).
#[derive(Debug, Clone)]
pub struct Pattern(Option<Glob>);

impl Pattern {
    pub fn new(raw: &str, kind: GlobKind) -> Self {
        Self(Glob::new(raw, kind).ok())
    }

    /// The compiled glob, `None` if the pattern is invalid (and never matches).
    pub fn glob(&self) -> Option<&Glob> {
        self.0.as_ref()
    }

    fn is_match(&self, value: &str) -> bool {
        self.0.as_ref().is_some_and(|g| g.is_match(value))
    }

    /// Path globs are retried with a leading `/` (`foo/bar.js` matches `/foo/**`).
    fn is_path_match(&self, value: &str) -> bool {
        self.0.as_ref().is_some_and(|g| g.is_path_match(value))
    }
}

#[derive(Debug, Clone)]
pub enum FrameTest {
    Field(Field, Pattern),
    Family(Families),
    InApp(bool),
    /// An unparseable argument (bad `app:` value): never matches, as upstream.
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offset {
    /// `[ m ] |`: the frame before (outer, index − 1).
    Caller,
    /// The frame itself.
    Frame,
    /// `| [ m ]`: the frame after (inner, index + 1).
    Callee,
}

#[derive(Debug, Clone)]
pub struct FrameMatcher {
    pub negated: bool,
    pub offset: Offset,
    pub test: FrameTest,
    pub key: &'static str,
    pub raw: String,
}

impl FrameMatcher {
    pub fn matches(&self, frames: &[MatchFrame<'_>], idx: usize) -> bool {
        let idx = match self.offset {
            Offset::Caller => idx.checked_sub(1),
            Offset::Frame => Some(idx),
            Offset::Callee => idx.checked_add(1),
        };
        let Some(frame) = idx.and_then(|i| frames.get(i)) else {
            return false;
        };
        let hit = match &self.test {
            FrameTest::Field(field, pattern) => match field {
                Field::Function => pattern.is_match(&frame.function),
                Field::Module => frame.module.is_some_and(|v| pattern.is_match(v)),
                Field::Category => frame.category.is_some_and(|v| pattern.is_match(v)),
                Field::Path => frame.path.as_deref().is_some_and(|v| pattern.is_path_match(v)),
                Field::Package => frame.package.as_deref().is_some_and(|v| pattern.is_path_match(v)),
            },
            FrameTest::Family(bits) => bits & frame.family != 0,
            FrameTest::InApp(expected) => frame.in_app.unwrap_or(false) == *expected,
            FrameTest::Never => false,
        };
        hit != self.negated
    }

    /// Families this matcher requires of the frame itself, if it pins them.
    pub fn required_families(&self) -> Option<Families> {
        match (&self.test, self.offset, self.negated) {
            (FrameTest::Family(bits), Offset::Frame, false) => Some(*bits),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExceptionField {
    Type,
    Value,
    Mechanism,
}

#[derive(Debug, Clone)]
pub struct ExceptionMatcher {
    pub negated: bool,
    pub field: ExceptionField,
    pub pattern: Pattern,
    pub raw: String,
}

impl ExceptionMatcher {
    pub fn matches(&self, exc: &ExceptionData<'_>) -> bool {
        let value = match self.field {
            ExceptionField::Type => exc.ty,
            ExceptionField::Value => exc.value,
            ExceptionField::Mechanism => exc.mechanism,
        };
        self.pattern.is_match(value.unwrap_or("<unknown>")) != self.negated
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Range {
    /// `^`: every frame after the matched one.
    Up,
    /// `v`: every frame before the matched one.
    Down,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flag {
    App,
    Group,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Flag { range: Option<Range>, value: bool, flag: Flag },
    Category(String),
    MaxFrames(usize),
    MinFrames(usize),
    InvertStacktrace(bool),
}

impl Action {
    /// Modifiers change frames while the event is normalized.
    pub fn is_modifier(&self) -> bool {
        matches!(self, Action::Flag { flag: Flag::App, .. } | Action::Category(_))
    }

    /// The indices of `len` frames an action at `idx` applies to.
    pub fn targets(range: Option<Range>, idx: usize, len: usize) -> std::ops::Range<usize> {
        match range {
            None => idx..(idx + 1).min(len),
            Some(Range::Up) => (idx + 1).min(len)..len,
            Some(Range::Down) => 0..idx.min(len),
        }
    }
}

/// One parsed rule line.
#[derive(Debug, Clone)]
pub struct Rule {
    pub exception_matchers: Vec<ExceptionMatcher>,
    pub frame_matchers: Vec<FrameMatcher>,
    pub actions: Vec<Action>,
    /// Whether the rule is one of the built-in rules (for hints).
    pub builtin: bool,
    /// Families the rule can match at all (pre-filter).
    pub families: Families,
    /// The rule in its canonical text form (see [`Rule::render`]), for hints.
    pub display: String,
    /// The hints this rule leaves on frames, built on first use (see [`Rule::hint`]).
    pub hints: [OnceLock<Text>; 4],
}

/// What a rule did to a frame, as the frame's hint tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleHint {
    Ignored,
    Unignored,
    InApp,
    OutOfApp,
}

impl Rule {
    pub fn has_modifier(&self) -> bool {
        self.actions.iter().any(Action::is_modifier)
    }

    pub fn has_updater(&self) -> bool {
        self.actions.iter().any(|a| !matches!(a, Action::Category(_)))
    }

    pub fn matches_exception(&self, exc: &ExceptionData<'_>) -> bool {
        self.exception_matchers.iter().all(|m| m.matches(exc))
    }

    pub fn matches_frame(&self, frames: &[MatchFrame<'_>], idx: usize) -> bool {
        frames.get(idx).is_some_and(|f| f.family & self.families != 0)
            && self.frame_matchers.iter().all(|m| m.matches(frames, idx))
    }

    /// `built-in` or `custom`, for hints.
    pub fn origin(&self) -> &'static str {
        if self.builtin { "built-in" } else { "custom" }
    }

    /// The hint for a frame this rule changed, e.g. `ignored by built-in stack trace rule (…)`.
    pub fn hint(&self, kind: RuleHint) -> Text {
        let text = || {
            let what = match kind {
                RuleHint::Ignored => "ignored",
                RuleHint::Unignored => "un-ignored",
                RuleHint::InApp => "marked in-app",
                RuleHint::OutOfApp => "marked out of app",
            };
            Text::from(format!("{what} by {} stack trace rule ({})", self.origin(), self.display))
        };
        self.hints[kind as usize].get_or_init(text).clone()
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display)
    }
}

impl Rule {
    /// The canonical text form: matchers, then actions, single-spaced.
    pub fn render(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        for m in &self.exception_matchers {
            let key = match m.field {
                ExceptionField::Type => "type",
                ExceptionField::Value => "value",
                ExceptionField::Mechanism => "mechanism",
            };
            parts.push(format!("{}{key}:{}", if m.negated { "!" } else { "" }, m.raw));
        }
        for m in &self.frame_matchers {
            let inner = format!("{}{}:{}", if m.negated { "!" } else { "" }, m.key, m.raw);
            parts.push(match m.offset {
                Offset::Caller => format!("[{inner}] |"),
                Offset::Frame => inner,
                Offset::Callee => format!("| [{inner}]"),
            });
        }
        for a in &self.actions {
            parts.push(match a {
                Action::Flag { range, value, flag } => format!(
                    "{}{}{}",
                    match range {
                        Some(Range::Up) => "^",
                        Some(Range::Down) => "v",
                        None => "",
                    },
                    if *value { "+" } else { "-" },
                    match flag {
                        Flag::App => "app",
                        Flag::Group => "group",
                    }
                ),
                Action::Category(c) => format!("category={c}"),
                Action::MaxFrames(n) => format!("max-frames={n}"),
                Action::MinFrames(n) => format!("min-frames={n}"),
                Action::InvertStacktrace(b) => format!("invert-stacktrace={b}"),
            });
        }
        parts.join(" ")
    }
}
