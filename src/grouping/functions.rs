//! Function-name trimming: reduce demangled signatures to a stable name.
//!
//! Native symbolication yields full signatures that change with unrelated edits (argument
//! types, return types, template arguments, compiler-specific lambda names). Grouping keys on
//! the bare qualified name instead:
//!
//! ```text
//! unsigned int foo::bar<std::string>(int) const      →  foo::bar<T>
//! ?A0xc3a0617d::crash                                →  `anonymous namespace'::crash
//! <lambda_5db80dab47756d3e72c2dcd38b80b1dd>::operator()  →  <lambda>::operator()
//! log_demo::main::h1234567890abcdef                  →  log_demo::main
//! Foo.Bar(System.String) (C#)                        →  Foo.Bar
//! ```
//!
//! Other platforms keep their function names unchanged.

use std::sync::LazyLock;

use regex::Regex;

/// Platform behaviour family used by frame rules: `native`, `javascript` or `other`.
pub fn family_for_platform(platform: &str) -> &'static str {
    match platform {
        "objc" | "cocoa" | "swift" | "native" | "c" => "native",
        "javascript" | "node" => "javascript",
        _ => "other",
    }
}

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).unwrap_or_else(|e| panic!("invalid built-in regex {pattern}: {e}"))
}

static WINDECL_HASH: LazyLock<Regex> = LazyLock::new(|| re(r"^@?(.*?)@[0-9]+$"));
static RUST_HASH: LazyLock<Regex> = LazyLock::new(|| re(r"::h[a-z0-9]{16}$"));
static GNU_VERSION: LazyLock<Regex> = LazyLock::new(|| re(r"@@?GLIBC_([0-9.]+)$"));
static CPP_TRAILER: LazyLock<Regex> = LazyLock::new(|| re(r"(\bconst\b|&)$"));
static RUST_BLANKET: LazyLock<Regex> = LazyLock::new(|| re(r"^[A-Z] as "));
static LAMBDA: LazyLock<Regex> = LazyLock::new(|| re(r"\{lambda\(.*?\)#\d+\}|\blambda_[a-f0-9]{32}\b|\$_\d+\b"));
static LAMBDA_AT_START: LazyLock<Regex> =
    LazyLock::new(|| re(r"^(?:\{lambda\(.*?\)#\d+\}|\blambda_[a-f0-9]{32}\b|\$_\d+\b)"));
static ANON_NAMESPACE: LazyLock<Regex> = LazyLock::new(|| re(r"\?A0x[a-f0-9]{8}::"));

/// Whether [`trim_function_name`] can change names of `platform` (others are kept as they are).
pub fn trims_function_names(platform: &str) -> bool {
    platform == "csharp" || family_for_platform(platform) == "native"
}

/// Trims `function` for grouping and rule matching (`platform` is the frame's platform).
pub fn trim_function_name(function: &str, platform: &str) -> String {
    if platform == "csharp" {
        return function.split(" (").next().unwrap_or(function).to_owned();
    }
    if family_for_platform(platform) == "native" {
        return trim_native(function, platform);
    }
    function.to_owned()
}

/// Rewrites every balanced `open…close` run through `replace`, which sees the inner text and
/// the byte offset of the opening bracket. Text at depth > 0 is dropped, as is any text after
/// an unbalanced closing bracket (matching upstream's behaviour on malformed input).
fn replace_enclosed(s: &str, open: char, close: char, mut replace: impl FnMut(&str, usize) -> String) -> String {
    if !s.contains(open) {
        return s.to_owned();
    }
    let mut depth = 0i64;
    let mut out = String::with_capacity(s.len());
    let mut pair_start = 0;
    for (idx, ch) in s.char_indices() {
        if ch == open {
            if depth == 0 {
                pair_start = idx;
            }
            depth += 1;
        } else if ch == close {
            depth -= 1;
            if depth == 0 {
                out.push_str(&replace(&s[pair_start + open.len_utf8()..idx], pair_start));
            }
        } else if depth == 0 {
            out.push(ch);
        }
    }
    out
}

/// Splits on whitespace outside of `()`, `{}`, `[]` and `<>` pairs.
fn split_func_tokens(s: &str) -> Vec<String> {
    let breaks = |c: char| c.is_whitespace() || matches!(c, '(' | '{' | '<' | '[');
    if !s.is_empty() && !s.contains(breaks) {
        return vec![s.to_owned()];
    }
    let closing = |c: char| match c {
        '(' => Some(')'),
        '{' => Some('}'),
        '[' => Some(']'),
        '<' => Some('>'),
        _ => None,
    };
    let mut tokens = Vec::new();
    let mut buf = String::new();
    let mut stack: Vec<char> = Vec::new();
    let mut end = 0;
    for (idx, ch) in s.char_indices() {
        let next = idx + ch.len_utf8();
        if let Some(close) = closing(ch) {
            stack.push(close);
        } else if stack.last() == Some(&ch) {
            stack.pop();
            if stack.is_empty() {
                buf.push_str(&s[end..next]);
                end = next;
            }
        } else if stack.is_empty() {
            if ch.is_whitespace() {
                if !buf.is_empty() {
                    tokens.push(std::mem::take(&mut buf));
                }
            } else {
                buf.push_str(&s[end..next]);
            }
            end = next;
        }
    }
    if !buf.is_empty() {
        tokens.push(buf);
    }
    tokens
}

fn process_generics(value: &str, start: usize) -> String {
    if value == "lambda" || LAMBDA_AT_START.is_match(value) {
        return format!("<{value}>");
    }
    if start > 0 {
        return "<T>".to_owned();
    }
    let value = RUST_BLANKET.replace(value, "");
    let value = replace_enclosed(&value, '<', '>', process_generics);
    value.split(" as ").next().unwrap_or_default().to_owned()
}

fn trim_native(original: &str, platform: &str) -> String {
    if original == "<redacted>" || original == "<unknown>" {
        return original.to_owned();
    }
    let function = original.trim();
    if function.starts_with('[') || function.starts_with("+[") || function.starts_with("-[") {
        return function.to_owned();
    }
    // `[clone .cold]`-style annotations go, other bracketed text stays.
    let mut function = replace_enclosed(function, '[', ']', |inner, _| {
        if inner.starts_with("clone .") { String::new() } else { format!("[{inner}]") }
    })
    .trim_end()
    .to_owned();
    while let Some(m) = CPP_TRAILER.find(&function) {
        function = function[..m.start()].trim_end().to_owned();
    }
    // Hide brackets that are part of operator names from the balancing below.
    let mut function = function
        .replace("operator<<", "operator⟨⟨")
        .replace("operator<", "operator⟨")
        .replace("operator()", "operator◯")
        .replace("operator->", "operator⟿")
        .replace(" -> ", " ⟿ ")
        .replace("`anonymous namespace'", "〔anonymousnamespace〕");
    if function.contains("lambda") || function.contains("$_") {
        function = LAMBDA.replace_all(&function, "lambda").into_owned();
    }
    if function.contains("?A0x") {
        function = ANON_NAMESPACE.replace_all(&function, "〔anonymousnamespace〕::").into_owned();
    }
    let function = replace_enclosed(&function, '(', ')', |inner, _| {
        let inner = inner.trim();
        if inner == "anonymous namespace" || inner == "operator" { format!("({inner})") } else { String::new() }
    });
    let function = replace_enclosed(&function, '<', '>', process_generics);
    let is_thunk = function.contains("thunk for ");
    let mut tokens = split_func_tokens(&function);
    if tokens.len() > 1 && tokens.last().map(String::as_str) == Some("<T>") {
        tokens.pop();
        if let Some(last) = tokens.last_mut() {
            last.push_str(" <T>");
        }
    }
    let func_token = pick_function_token(&function, &tokens);
    let mut result = match func_token {
        Some(mut token) => {
            if token.starts_with('@') && (platform == "cocoa" || platform == "swift") {
                token = format!("{}closure", if is_thunk { "thunk for " } else { "" });
            } else if token != "closure" && tokens.iter().any(|t| t == "closure") {
                token = format!("closure in {token}");
            }
            token
                .replace('⟨', "<")
                .replace('◯', "()")
                .replace('⟿', "->")
                .replace("〔anonymousnamespace〕", "`anonymous namespace'")
        }
        None => original.to_owned(),
    };
    if result.contains("::h") {
        result = RUST_HASH.replace(&result, "").into_owned();
    }
    if result.contains("@GLIBC_") {
        result = GNU_VERSION.replace(&result, "").into_owned();
    }
    if result.contains('@') {
        result = WINDECL_HASH.replace(&result, "$1").into_owned();
    }
    result
}

/// The token naming the function: the one before a Swift `->` (skipping `throws`), the one
/// after `initialization expression of`, else the last token.
fn pick_function_token(function: &str, tokens: &[String]) -> Option<String> {
    if function.contains("initialization expression of") {
        let of = tokens.iter().rposition(|t| t == "of")?;
        let mut token = tokens.get(of + 1)?.as_str();
        if token == "static" {
            token = tokens.get(of + 2)?.as_str();
        }
        let token = token.strip_prefix(':').unwrap_or(token);
        return Some(format!("initializer expression of {token}"));
    }
    if let Some(arrow) = tokens.iter().rposition(|t| t == "⟿") {
        let mut idx = arrow.checked_sub(1);
        if idx.and_then(|i| tokens.get(i)).map(String::as_str) == Some("throws") {
            idx = arrow.checked_sub(2);
        }
        // Python's negative indexing: an arrow at the start picks the last token.
        return match idx {
            Some(i) => tokens.get(i).cloned(),
            None => tokens.last().cloned(),
        };
    }
    tokens.last().cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn native(f: &str) -> String {
        trim_function_name(f, "native")
    }

    #[test]
    fn native_signatures_are_reduced_to_the_qualified_name() {
        assert_eq!(native("unsigned int foo::bar<std::string>(int) const"), "foo::bar<T>");
        assert_eq!(
            native("Scaleform::GFx::AS3::IMEManager::DispatchEvent(char const *,char const *)"),
            "Scaleform::GFx::AS3::IMEManager::DispatchEvent"
        );
        assert_eq!(native("?A0xc3a0617d::crash"), "`anonymous namespace'::crash");
        assert_eq!(native("<lambda_5db80dab47756d3e72c2dcd38b80b1dd>::operator()"), "<lambda>::operator()");
        assert_eq!(native("log_demo::main::h1234567890abcdef"), "log_demo::main");
        assert_eq!(native("@foo@12"), "foo");
    }

    #[test]
    fn objective_c_and_unknown_names_are_left_alone() {
        assert_eq!(native("-[UIApplication _run]"), "-[UIApplication _run]");
        assert_eq!(native("<unknown>"), "<unknown>");
    }

    #[test]
    fn csharp_drops_the_argument_list_and_others_are_unchanged() {
        assert_eq!(trim_function_name("Foo.Bar (System.String)", "csharp"), "Foo.Bar");
        assert_eq!(trim_function_name("Object.foo(bar)", "javascript"), "Object.foo(bar)");
    }
}
