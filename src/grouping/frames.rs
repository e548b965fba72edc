//! Stack traces prepared for grouping: normalized frames with in-app decided by rules.
//!
//! This mirrors what Sentry does to every stack trace before grouping:
//!
//! 1. trim function names (`foo::bar<std::string>(int) const` → `foo::bar<T>`),
//! 2. for JavaScript events, drop `?query` from filenames,
//! 3. parameterize Python multiprocessing bootstrap lines (`spawn_main(tracker_fd=<int>, …)`),
//! 4. run the modifier stack-trace rules (`+app`, `-app`, `category=`),
//! 5. treat every frame still undecided as not in-app.
//!
//! The result also carries the updater-rule matches, computed once for both variants.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use crate::grouping::GroupingConfig;
use crate::grouping::enhancers::{
    self, ExceptionData, FAMILY_JAVASCRIPT, FAMILY_NATIVE, FAMILY_OTHER, Families, MatchFrame, Rule,
};
use crate::grouping::event::frames_of;
use crate::grouping::functions::{family_for_platform, trim_function_name, trims_function_names};

static PYTHON_SPAWN_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^from multiprocessing\.spawn import spawn_main; spawn_main\((?:tracker_fd|parent_pid)=\d+, pipe_handle=\d+\)",
    )
    .unwrap_or_else(|e| panic!("invalid built-in regex: {e}"))
});
static EQUALS_DIGITS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"=\d+").unwrap_or_else(|e| panic!("invalid built-in regex: {e}")));

/// The platforms whose frames grouping treats in their own way; the others are `Other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    Csharp,
    Java,
    Javascript,
    Node,
    Php,
    Python,
    Ruby,
    Other,
}

impl Platform {
    fn of(platform: &str) -> Self {
        match platform {
            "csharp" => Self::Csharp,
            "java" => Self::Java,
            "javascript" => Self::Javascript,
            "node" => Self::Node,
            "php" => Self::Php,
            "python" => Self::Python,
            "ruby" => Self::Ruby,
            _ => Self::Other,
        }
    }

    /// Whether context lines of this platform's frames are trusted for grouping.
    pub fn has_context_lines(self) -> bool {
        matches!(self, Self::Javascript | Self::Node | Self::Python | Self::Php | Self::Ruby)
    }
}

/// A platform name with what is derived from it, worked out once per name rather than per frame.
#[derive(Debug, Clone, Copy)]
struct PlatformInfo<'a> {
    name: &'a str,
    kind: Platform,
    family: Families,
    trims_functions: bool,
}

impl<'a> PlatformInfo<'a> {
    fn of(name: &'a str) -> Self {
        let family = match family_for_platform(name) {
            "native" => FAMILY_NATIVE,
            "javascript" => FAMILY_JAVASCRIPT,
            _ => FAMILY_OTHER,
        };
        Self { name, kind: Platform::of(name), family, trims_functions: trims_function_names(name) }
    }
}

/// One frame after normalization.
#[derive(Debug, Clone)]
pub struct Frame<'a> {
    /// What grouping treats specially about the frame's platform (else the event's).
    pub kind: Platform,
    /// The platform's behaviour family (`FAMILY_NATIVE`, `FAMILY_JAVASCRIPT` or `FAMILY_OTHER`).
    pub family: Families,
    /// Trimmed function name.
    pub function: Option<Cow<'a, str>>,
    /// The untrimmed name when trimming changed it (or the SDK sent one).
    pub raw_function: Option<&'a str>,
    pub module: Option<&'a str>,
    pub filename: Option<Cow<'a, str>>,
    pub abs_path: Option<&'a str>,
    pub package: Option<&'a str>,
    pub context_line: Option<Cow<'a, str>>,
    /// Whether a source map resolved this frame.
    pub sourcemap: bool,
    /// `in_app` as the SDK sent it.
    pub client_in_app: Option<bool>,
    pub lineno: Option<&'a Value>,
    pub colno: Option<&'a Value>,
    /// `in_app` after stack-trace rules; undecided frames are `false`.
    pub in_app: bool,
}

impl Frame<'_> {
    /// Whether `self` repeats `prev` exactly (recursion).
    pub fn repeats(&self, prev: &Frame<'_>) -> bool {
        self.abs_path == prev.abs_path
            && self.package == prev.package
            && self.module == prev.module
            && self.filename == prev.filename
            && self.function == prev.function
            && self.lineno == prev.lineno
            && self.colno == prev.colno
    }
}

/// A prepared stack trace.
pub struct Stack<'a> {
    pub frames: Vec<Frame<'a>>,
    pub rule_frames: Vec<MatchFrame<'a>>,
    pub updates: Vec<(&'a Rule, usize)>,
}

impl<'a> Stack<'a> {
    /// Normalizes the frames of `stacktrace` and applies the stack-trace rules.
    pub fn prepare(
        stacktrace: &'a Value,
        event_platform: &'a str,
        exception: &ExceptionData<'_>,
        config: &'a GroupingConfig,
    ) -> Self {
        let event_platform = PlatformInfo::of(event_platform);
        let mut frames: Vec<Frame<'a>> =
            frames_of(stacktrace).map(|raw| normalize_frame(raw, &event_platform)).collect();
        let mut rule_frames: Vec<MatchFrame<'a>> = frames.iter().map(match_frame).collect();
        let present = rule_frames.iter().fold(0, |acc: Families, f| acc | f.family);
        // Frame fields never change while rules run: both passes share the index lookups. Most
        // projects have no rules of their own: an empty set has nothing to look up.
        let rule_sets = config.enhancements.rule_sets().map(|set| {
            let candidates = (!set.rules.is_empty()).then(|| set.candidates(&rule_frames));
            (set, candidates)
        });
        for (set, candidates) in &rule_sets {
            if let Some(candidates) = candidates {
                enhancers::apply_modifiers(set, candidates, &mut rule_frames, exception, present);
            }
        }
        for (frame, rule_frame) in frames.iter_mut().zip(&mut rule_frames) {
            rule_frame.in_app = Some(rule_frame.in_app.unwrap_or(false));
            if rule_frame.in_app != frame.client_in_app {
                rule_frame.orig_in_app = Some(frame.client_in_app);
            }
            frame.in_app = rule_frame.in_app == Some(true);
        }
        let mut updates = Vec::with_capacity(frames.len());
        for (set, candidates) in &rule_sets {
            if let Some(candidates) = candidates {
                enhancers::updater_matches(set, candidates, &rule_frames, exception, present, &mut updates);
            }
        }
        Stack { frames, rule_frames, updates }
    }
}

/// The frame fields grouping reads, collected in one pass over the frame object.
#[derive(Default)]
struct RawFrame<'a> {
    platform: Option<&'a str>,
    function: Option<&'a str>,
    raw_function: Option<&'a str>,
    module: Option<&'a str>,
    filename: Option<&'a str>,
    abs_path: Option<&'a str>,
    package: Option<&'a str>,
    context_line: Option<&'a str>,
    in_app: Option<bool>,
    lineno: Option<&'a Value>,
    colno: Option<&'a Value>,
    sourcemap: bool,
}

impl<'a> RawFrame<'a> {
    /// Reads what `str_at`, `get` and friends would read key by key.
    fn read(raw: &'a Value) -> Self {
        let mut f = Self::default();
        let Value::Object(map) = raw else {
            return f;
        };
        let text = |v: &'a Value| v.as_str().filter(|s| !s.is_empty());
        for (key, value) in map {
            match key.as_str() {
                "platform" => f.platform = text(value),
                "function" => f.function = text(value),
                "raw_function" => f.raw_function = text(value),
                "module" => f.module = text(value),
                "filename" => f.filename = text(value),
                "abs_path" => f.abs_path = text(value),
                "package" => f.package = text(value),
                "context_line" => f.context_line = text(value),
                "in_app" => f.in_app = value.as_bool(),
                "lineno" => f.lineno = Some(value),
                "colno" => f.colno = Some(value),
                "data" => f.sourcemap = value.get("sourcemap").is_some_and(|s| !s.is_null()),
                _ => {}
            }
        }
        f
    }
}

fn normalize_frame<'a>(raw: &'a Value, event_platform: &PlatformInfo<'a>) -> Frame<'a> {
    let fields = RawFrame::read(raw);
    let platform = fields.platform.map_or(*event_platform, PlatformInfo::of);
    let (function, raw_function) = match (fields.function, fields.raw_function) {
        (Some(f), None) if platform.trims_functions => {
            let trimmed = trim_function_name(f, platform.name);
            if trimmed == f { (Some(Cow::Borrowed(f)), None) } else { (Some(Cow::Owned(trimmed)), Some(f)) }
        }
        (f, r) => (f.map(Cow::Borrowed), r),
    };
    let mut filename = fields.filename.map(Cow::Borrowed);
    if event_platform.kind == Platform::Javascript {
        filename = filename.map(strip_query);
    }
    let module = fields.module;
    let mut context_line = fields.context_line.map(Cow::Borrowed);
    if event_platform.kind == Platform::Python
        && module == Some("__main__")
        && filename.as_deref() == Some("<string>")
        && function.as_deref() == Some("<module>")
        && let Some(line) = context_line.as_deref().filter(|l| PYTHON_SPAWN_LINE.is_match(l))
    {
        let parameterized = EQUALS_DIGITS.replace_all(line, "=<int>").into_owned();
        context_line = Some(Cow::Owned(parameterized));
    }
    Frame {
        kind: platform.kind,
        family: platform.family,
        function,
        raw_function,
        module,
        filename,
        abs_path: fields.abs_path,
        package: fields.package,
        context_line,
        sourcemap: fields.sourcemap,
        client_in_app: fields.in_app,
        lineno: fields.lineno,
        colno: fields.colno,
        // Provisional: the SDK's value; replaced after the rules ran.
        in_app: fields.in_app == Some(true),
    }
}

/// `app.js?v=3` → `app.js` (only the query, as upstream's `urlparse`).
fn strip_query(filename: Cow<'_, str>) -> Cow<'_, str> {
    let Some(q) = filename.find('?') else {
        return filename;
    };
    let query = &filename[q + 1..];
    let query = query.split('#').next().unwrap_or_default();
    if query.is_empty() {
        return filename;
    }
    if query.len() == filename.len() - q - 1 {
        // No fragment: `?query` runs to the end and occurs only there (it starts with the
        // first `?`), so removing it is cutting it off.
        return match filename {
            Cow::Borrowed(f) => Cow::Borrowed(&f[..q]),
            Cow::Owned(mut f) => {
                f.truncate(q);
                Cow::Owned(f)
            }
        };
    }
    Cow::Owned(filename.replace(&format!("?{query}"), ""))
}

/// Path-like fields match case-insensitively with `/` separators.
fn path_value(value: &str) -> Cow<'_, str> {
    // Branch-free over the byte slice, so it vectorizes.
    let clean = value.as_bytes().iter().fold(true, |ok, &b| ok & (b < 0x80) & (b != b'\\') & !b.is_ascii_uppercase());
    if clean {
        return Cow::Borrowed(value);
    }
    Cow::Owned(value.replace('\\', "/").to_lowercase())
}

fn match_frame<'a>(frame: &Frame<'a>) -> MatchFrame<'a> {
    MatchFrame {
        family: frame.family,
        function: frame.function.clone().unwrap_or(Cow::Borrowed("<unknown>")),
        module: frame.module,
        package: frame.package.map(path_value),
        path: match (frame.abs_path, frame.filename.as_ref()) {
            (Some(path), _) | (None, Some(&Cow::Borrowed(path))) => Some(path_value(path)),
            (None, Some(Cow::Owned(path))) => Some(Cow::Owned(path_value(path).into_owned())),
            (None, None) => None,
        },
        in_app: frame.client_in_app,
        orig_in_app: None,
        category: None,
    }
}
