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
use crate::grouping::event::{frames_of, str_at};
use crate::grouping::functions::{family_for_platform, trim_function_name};

static PYTHON_SPAWN_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^from multiprocessing\.spawn import spawn_main; spawn_main\((?:tracker_fd|parent_pid)=\d+, pipe_handle=\d+\)",
    )
    .unwrap_or_else(|e| panic!("invalid built-in regex: {e}"))
});
static EQUALS_DIGITS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"=\d+").unwrap_or_else(|e| panic!("invalid built-in regex: {e}")));

/// One frame after normalization.
#[derive(Debug, Clone)]
pub struct Frame<'a> {
    pub raw: &'a Value,
    /// The frame's platform, else the event's.
    pub platform: &'a str,
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
            && self.raw.get("lineno") == prev.raw.get("lineno")
            && self.raw.get("colno") == prev.raw.get("colno")
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
        let frames: Vec<Frame<'a>> = frames_of(stacktrace)
            .into_iter()
            .map(|raw| normalize_frame(raw, event_platform))
            .collect();
        let mut rule_frames: Vec<MatchFrame<'a>> = frames.iter().map(match_frame).collect();
        let present = rule_frames
            .iter()
            .fold(0, |acc: Families, f| acc | f.family);
        let rules = config.enhancements.effective(present);
        enhancers::apply_modifiers(&rules, &mut rule_frames, exception);
        for (frame, rule_frame) in frames.iter().zip(&mut rule_frames) {
            let client = frame.raw.get("in_app").and_then(Value::as_bool);
            rule_frame.in_app = Some(rule_frame.in_app.unwrap_or(false));
            if rule_frame.in_app != client {
                rule_frame.orig_in_app = Some(client);
            }
        }
        let frames = frames
            .into_iter()
            .zip(&rule_frames)
            .map(|(frame, rule_frame)| Frame {
                in_app: rule_frame.in_app == Some(true),
                ..frame
            })
            .collect();
        let updates = enhancers::updater_matches(&rules, &rule_frames, exception);
        Stack {
            frames,
            rule_frames,
            updates,
        }
    }
}

fn normalize_frame<'a>(raw: &'a Value, event_platform: &'a str) -> Frame<'a> {
    let platform = str_at(raw, "platform").unwrap_or(event_platform);
    let sdk_raw_function = str_at(raw, "raw_function");
    let (function, raw_function) = match (str_at(raw, "function"), sdk_raw_function) {
        (Some(f), None) => {
            let trimmed = trim_function_name(f, platform);
            if trimmed == f {
                (Some(Cow::Borrowed(f)), None)
            } else {
                (Some(Cow::Owned(trimmed)), Some(f))
            }
        }
        (f, r) => (f.map(Cow::Borrowed), r),
    };
    let mut filename = str_at(raw, "filename").map(Cow::Borrowed);
    if event_platform == "javascript" {
        filename = filename.map(strip_query);
    }
    let module = str_at(raw, "module");
    let mut context_line = str_at(raw, "context_line").map(Cow::Borrowed);
    if event_platform == "python"
        && module == Some("__main__")
        && filename.as_deref() == Some("<string>")
        && function.as_deref() == Some("<module>")
        && let Some(line) = context_line
            .as_deref()
            .filter(|l| PYTHON_SPAWN_LINE.is_match(l))
    {
        let parameterized = EQUALS_DIGITS.replace_all(line, "=<int>").into_owned();
        context_line = Some(Cow::Owned(parameterized));
    }
    let in_app = raw.get("in_app").and_then(Value::as_bool);
    Frame {
        raw,
        platform,
        function,
        raw_function,
        module,
        filename,
        abs_path: str_at(raw, "abs_path"),
        package: str_at(raw, "package"),
        context_line,
        sourcemap: raw
            .get("data")
            .and_then(|d| d.get("sourcemap"))
            .is_some_and(|s| !s.is_null()),
        // Provisional: the SDK's value; replaced after the rules ran.
        in_app: in_app == Some(true),
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
    Cow::Owned(filename.replace(&format!("?{query}"), ""))
}

fn family_bits(platform: &str) -> Families {
    match family_for_platform(platform) {
        "native" => FAMILY_NATIVE,
        "javascript" => FAMILY_JAVASCRIPT,
        _ => FAMILY_OTHER,
    }
}

/// Path-like fields match case-insensitively with `/` separators.
fn path_value(value: &str) -> String {
    value.replace('\\', "/").to_lowercase()
}

fn match_frame<'a>(frame: &Frame<'a>) -> MatchFrame<'a> {
    MatchFrame {
        family: family_bits(frame.platform),
        function: frame.function.clone().unwrap_or(Cow::Borrowed("<unknown>")),
        module: frame.module,
        package: frame.package.map(path_value),
        path: frame.abs_path.or(frame.filename.as_deref()).map(path_value),
        in_app: frame.raw.get("in_app").and_then(Value::as_bool),
        orig_in_app: None,
        category: None,
    }
}
