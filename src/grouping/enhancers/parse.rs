//! Parser for the stack-trace rule text syntax, one rule per line:
//!
//! ```text
//! # comment
//! [ caller-matcher ] |  matcher+  | [ callee-matcher ]  action+   # trailing comment
//! matcher = ["!"] name ":" (argument | "quoted argument")
//! action  = ["^" | "v"] ("+" | "-") ("app" | "group")
//!         | max-frames=N | min-frames=N | invert-stacktrace=BOOL | category=NAME
//! ```
//!
//! Inside arguments `\\` stands for one backslash. Unknown matcher names, bad actions and
//! missing actions are errors carrying the 1-based line number.

use crate::grouping::RuleError;
use crate::grouping::glob::GlobKind;

use super::rules::{
    Action, ExceptionField, ExceptionMatcher, Families, Field, Flag, FrameMatcher, FrameTest, Offset, Pattern, Range,
    Rule, families,
};

/// Parses every rule of `text`.
pub fn parse_rules(text: &str, builtin: bool) -> Result<Vec<Rule>, RuleError> {
    let mut rules = Vec::new();
    for (idx, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let rule = parse_rule(line, builtin).map_err(|message| RuleError::Syntax { line: idx + 1, message })?;
        rules.push(rule);
    }
    Ok(rules)
}

enum Matcher {
    Frame(FrameMatcher),
    Exception(ExceptionMatcher),
}

fn parse_rule(line: &str, builtin: bool) -> Result<Rule, String> {
    let mut rest = line;
    let mut matchers = Vec::new();
    if let Some(after) = rest.strip_prefix('[') {
        let (m, after) = parse_matcher(after, Offset::Caller)?;
        let after = after.trim_start().strip_prefix(']').ok_or("expected `]`")?;
        rest = after.trim_start().strip_prefix('|').ok_or("expected `|`")?;
        matchers.push(m);
    }
    loop {
        let trimmed = rest.trim_start();
        if !starts_matcher(trimmed) {
            rest = trimmed;
            break;
        }
        let (m, after) = parse_matcher(trimmed, Offset::Frame)?;
        matchers.push(m);
        rest = after;
    }
    if let Some(after) = rest.strip_prefix('|') {
        let after = after.trim_start().strip_prefix('[').ok_or("expected `[`")?;
        let (m, after) = parse_matcher(after, Offset::Callee)?;
        rest = after.trim_start().strip_prefix(']').ok_or("expected `]`")?;
        matchers.push(m);
    }
    if !matchers.iter().any(|m| matches!(m, Matcher::Frame(_) | Matcher::Exception(_))) {
        return Err("expected at least one matcher".into());
    }
    let actions = parse_actions(rest)?;

    let mut frame_matchers = Vec::new();
    let mut exception_matchers = Vec::new();
    for m in matchers {
        match m {
            Matcher::Frame(m) => frame_matchers.push(m),
            Matcher::Exception(m) => exception_matchers.push(m),
        }
    }
    let families =
        frame_matchers.iter().filter_map(FrameMatcher::required_families).fold(Families::MAX, |acc, bits| acc & bits);
    let mut rule = Rule {
        exception_matchers,
        frame_matchers,
        actions,
        builtin,
        families,
        display: String::new(),
        hints: Default::default(),
    };
    rule.display = rule.render();
    Ok(rule)
}

/// Matchers start with a name and `:` (optionally negated); actions never contain `:`.
fn starts_matcher(input: &str) -> bool {
    let input = input.strip_prefix('!').unwrap_or(input);
    let name_len =
        input.find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))).unwrap_or(input.len());
    name_len > 0 && input[name_len..].starts_with(':')
}

fn parse_matcher(input: &str, offset: Offset) -> Result<(Matcher, &str), String> {
    let input = input.trim_start();
    let (negated, input) = match input.strip_prefix('!') {
        Some(rest) => (true, rest),
        None => (false, input),
    };
    let (name, rest) = input.split_once(':').ok_or_else(|| format!("expected matcher at `{input}`"))?;
    let (raw, rest) = parse_argument(rest)?;
    let frame = |key: &'static str, test: FrameTest| {
        Matcher::Frame(FrameMatcher { negated, offset, test, key, raw: raw.clone() })
    };
    let field = |key, field, kind| frame(key, FrameTest::Field(field, Pattern::new(&raw, kind)));
    let text = GlobKind::Text { ignore_case: false };
    let exception = |field| {
        Matcher::Exception(ExceptionMatcher { negated, field, pattern: Pattern::new(&raw, text), raw: raw.clone() })
    };
    let matcher = match name {
        "stack.function" | "function" => field("function", Field::Function, text),
        "stack.module" | "module" => field("module", Field::Module, text),
        "stack.abs_path" | "path" => field("path", Field::Path, GlobKind::Path),
        "stack.package" | "package" => field("package", Field::Package, GlobKind::Path),
        "category" => field("category", Field::Category, text),
        "family" => frame("family", FrameTest::Family(families(&raw))),
        "app" => frame(
            "app",
            match raw.as_str() {
                "1" | "yes" | "true" => FrameTest::InApp(true),
                "0" | "no" | "false" => FrameTest::InApp(false),
                _ => FrameTest::Never,
            },
        ),
        "error.type" | "type" => exception(ExceptionField::Type),
        "error.value" | "value" => exception(ExceptionField::Value),
        "error.mechanism" | "mechanism" => exception(ExceptionField::Mechanism),
        other => return Err(format!("unknown matcher `{other}`")),
    };
    if offset != Offset::Frame && matches!(matcher, Matcher::Exception(_)) {
        return Err("caller and callee matchers must be frame matchers".into());
    }
    Ok((matcher, rest))
}

/// A `"quoted"` or whitespace-delimited argument; `\\` unescapes to `\`.
fn parse_argument(input: &str) -> Result<(String, &str), String> {
    let (raw, rest) = if let Some(quoted) = input.strip_prefix('"') {
        let end = quoted.find('"').ok_or("unclosed `\"`")?;
        (&quoted[..end], &quoted[end + 1..])
    } else {
        let end = input.find(char::is_whitespace).unwrap_or(input.len());
        input.split_at(end)
    };
    if raw.is_empty() {
        return Err("empty matcher argument".into());
    }
    Ok((raw.replace("\\\\", "\\"), rest))
}

fn parse_actions(input: &str) -> Result<Vec<Action>, String> {
    let mut actions = Vec::new();
    for word in input.split_whitespace() {
        if word.starts_with('#') {
            break;
        }
        actions.push(parse_action(word)?);
    }
    if actions.is_empty() {
        return Err("expected at least one action".into());
    }
    Ok(actions)
}

fn parse_action(word: &str) -> Result<Action, String> {
    if let Some((name, value)) = word.split_once('=') {
        let number = || value.parse::<usize>().map_err(|_| format!("`{name}` needs a number, got `{value}`"));
        return Ok(match name {
            "max-frames" => Action::MaxFrames(number()?),
            "min-frames" => Action::MinFrames(number()?),
            "category" if !value.is_empty() => Action::Category(value.to_owned()),
            "invert-stacktrace" => Action::InvertStacktrace(match value {
                "1" | "yes" | "true" => true,
                "0" | "no" | "false" => false,
                _ => return Err(format!("invalid boolean `{value}`")),
            }),
            _ => return Err(format!("invalid action `{word}`")),
        });
    }
    let (range, rest) = match word.as_bytes().first() {
        Some(b'^') => (Some(Range::Up), &word[1..]),
        Some(b'v') => (Some(Range::Down), &word[1..]),
        _ => (None, word),
    };
    let (value, name) = if let Some(name) = rest.strip_prefix('+') {
        (true, name)
    } else if let Some(name) = rest.strip_prefix('-') {
        (false, name)
    } else {
        return Err(format!("invalid action `{word}`"));
    };
    let flag = match name {
        "app" => Flag::App,
        "group" => Flag::Group,
        _ => return Err(format!("invalid action `{word}`")),
    };
    Ok(Action::Flag { range, value, flag })
}
