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

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

use crate::grouping::component::{Component, Text};
use crate::grouping::frames::Frame;

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

/// Platforms whose context lines are trusted for grouping.
const CONTEXT_LINE_PLATFORMS: [&str; 5] = ["javascript", "node", "python", "php", "ruby"];

/// Whether `path` is a URL; `file:` counts only when `files_count` is set.
pub fn has_url_origin(path: Option<&str>, files_count: bool) -> bool {
    let Some(path) = path else {
        return false;
    };
    if ["http:", "https:", "applewebdata:", "blob:"].iter().any(|p| path.starts_with(p)) {
        return true;
    }
    files_count && path.starts_with("file:")
}

/// Builds the frame component (the same for every variant).
pub fn frame_component(frame: &Frame<'_>) -> Component {
    let platform = frame.platform;
    let javascript = frame.family == "javascript";
    let mut filename = filename_component(frame, platform);
    let module = module_component(frame, platform);
    if module.contributes && filename.contributes {
        filename.ignore("ignored because module takes precedence");
    }
    let context_line = frame
        .context_line
        .as_deref()
        .filter(|_| CONTEXT_LINE_PLATFORMS.contains(&platform))
        .map(|line| context_line_component(frame, line, javascript));
    let context_usable = context_line.as_ref().is_some_and(|c| c.contributes);
    let mut function = function_component(frame, platform, context_usable);
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
    let children = [module, filename, function].into_iter().chain(context_line);
    let mut component = Component { contributes, ..Component::with_children("frame", children) };
    if let Some(name) = javascript_name {
        let low_quality_path =
            matches!(frame.abs_path, Some("[native code]" | "native code" | "eval code" | "<anonymous>"));
        if name == Some("eval") || low_quality_path {
            component.ignore("ignored low quality javascript frame");
        }
    }
    component
}

/// `s` with whitespace runs collapsed to one space and trimmed (`split_whitespace` + `join`),
/// borrowed when only the ends had whitespace.
fn collapse_whitespace(s: &str) -> Cow<'_, str> {
    let trimmed = s.trim();
    if trimmed.is_ascii() {
        // Besides ' ', `char::is_whitespace` accepts the ASCII bytes 9..=13. Branch-free folds
        // (no early exit), so both checks vectorize.
        let bytes = trimmed.as_bytes();
        let other_space = bytes.iter().fold(false, |acc, &b| acc | (b.wrapping_sub(9) < 5));
        let pairs = bytes.iter().zip(bytes.iter().skip(1));
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

fn filename_component(frame: &Frame<'_>, platform: &str) -> Component {
    let Some(filename) = frame.filename.as_deref() else {
        return Component::empty("filename");
    };
    let basename = filename.rsplit(['/', '\\']).next().unwrap_or(filename);
    let basename = if basename.bytes().any(|b| !b.is_ascii() || b.is_ascii_uppercase()) {
        Cow::Owned(basename.to_lowercase())
    } else {
        Cow::Borrowed(basename)
    };
    let mut component = Component::leaf("filename", Text::from_cow(basename.clone()));
    if has_url_origin(frame.abs_path, false) {
        component.ignore("ignored because frame points to a URL");
    } else if basename == "<anonymous>" {
        component.ignore("ignored because filename is anonymous");
    } else if basename == "[native code]" {
        component.ignore("ignored because filename suggests native code");
    } else if platform == "java" {
        let cleaned = JAVA_ASSIST.replace_all(&basename, "$1<auto>");
        if cleaned != basename {
            component.replace_text(Text::from_cow(cleaned), "cleaned javassist parts");
        }
    }
    component
}

fn module_component(frame: &Frame<'_>, platform: &str) -> Component {
    let Some(module) = frame.module else {
        return Component::empty("module");
    };
    let mut component = Component::leaf("module", Text::copied(module));
    if platform == "javascript" && module.contains('/') && frame.abs_path.is_some_and(|p| p.ends_with(module)) {
        component.ignore("ignored bad javascript module");
    } else if platform == "java" {
        if module.contains("$$Lambda$") {
            component.ignore("ignored java lambda");
        }
        const REFLECTION: [&str; 2] =
            ["sun.reflect.GeneratedMethodAccessor", "jdk.internal.reflect.GeneratedMethodAccessor"];
        if let Some(prefix) = REFLECTION.iter().find(|p| module.starts_with(*p)) {
            component.replace_text(Text::from(*prefix), "removed reflection marker");
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

fn context_line_component(frame: &Frame<'_>, raw_line: &str, javascript: bool) -> Component {
    let line = collapse_whitespace(raw_line);
    if line.is_empty() {
        return Component::empty("context_line");
    }
    let mut component = Component::leaf("context_line", Text::from_cow(line));
    if raw_line.len() > 120 && raw_line.chars().count() > 120 {
        component.ignore("ignored because line is too long");
    } else if javascript && frame.function.is_none() && has_url_origin(frame.abs_path, true) {
        component.ignore("ignored because file path is a URL and function name is missing");
    }
    component
}

fn function_component(frame: &Frame<'_>, platform: &str, context_usable: bool) -> Component {
    let name = if platform == "csharp" {
        frame.raw_function.or(frame.function.as_deref())
    } else {
        frame.function.as_deref().or(frame.raw_function)
    };
    let Some(name) = name else {
        return Component::empty("function");
    };
    let mut component = Component::leaf("function", Text::copied(name));
    match platform {
        "ruby" => {
            if name.starts_with("block ") {
                component.replace_text("block", "ruby block");
            } else {
                let cleaned = RUBY_ERB.replace(name, "");
                if cleaned != name {
                    component.replace_text(Text::from_cow(cleaned), "removed generated erb template suffix");
                }
            }
        }
        "php" => {
            if name.starts_with("[Anonymous") || name.starts_with("class@anonymous\0") {
                component.ignore("ignored anonymous function");
            }
            if let Some((_, method)) = name.strip_prefix("class@anonymous").and_then(|_| name.rsplit_once("::")) {
                component.replace_text(Text::copied(method), "anonymous class method");
            }
        }
        "java" => {
            if name.starts_with("lambda$") {
                component.ignore("ignored lambda function");
            }
        }
        _ => match frame.family {
            "native" if name == "<redacted>" || name == "<unknown>" => {
                component.ignore("ignored unknown function");
            }
            "javascript" => {
                if let Some((_, short)) = name.rsplit_once('.') {
                    component.replace_text(Text::copied(short), "trimmed javascript function");
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
