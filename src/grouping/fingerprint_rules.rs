//! Server-side fingerprint rules: replace an event's fingerprint when it matches.
//!
//! Text syntax, one rule per line (`#` starts a comment):
//!
//! ```text
//! error.type:DatabaseUnavailable                      -> system-down
//! stack.function:"Foo::bar" !app:yes                  -> foo-bar, {{ default }}
//! message:"*timed out*" tags.region:eu-*              -> timeout, {{ tags.region }} title="Timeout in {{ tags.region }}"
//! ```
//!
//! The JSON form is a list of `{"matchers": [[key, pattern], …], "fingerprint": […],
//! "attributes": {"title": …}}` (a `!` before the key negates). Matchers are bucketed by what
//! they look at; a rule matches when, for every bucket, one single item (one exception, one
//! frame, …) satisfies all of that bucket's matchers. Project rules are tried before the
//! built-in ones and the first matching rule wins.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use crate::grouping::RuleError;
use crate::grouping::fingerprint_matchers::{Matcher, Values, bucket_items};
use crate::grouping::functions::family_for_platform;
use crate::grouping::prepared::PreparedEvent;

/// One fingerprint rule.
#[derive(Debug, Clone)]
pub struct FingerprintRule {
    matchers: Vec<Matcher>,
    /// The matchers' buckets, cheapest to build first, each with its matchers' indices.
    buckets: Vec<(&'static str, Vec<usize>)>,
    /// The fingerprint assigned on match (variables unresolved).
    pub fingerprint: Vec<String>,
    /// Custom issue title template (`title="…"`), if any.
    pub title: Option<String>,
    /// Whether the rule ships with Faultline (`builtin_fingerprints.txt`).
    pub builtin: bool,
}

/// A project's fingerprint rules, in order.
#[derive(Debug, Clone, Default)]
pub struct FingerprintRules {
    rules: Vec<FingerprintRule>,
}

/// Faultline's built-in rules: failed chunk loads and React hydration mismatches, grouped as
/// Sentry's default config groups them (the file says why each exists).
const BUILTIN_RULES: &str = include_str!("builtin_fingerprints.txt");

static BUILTIN: LazyLock<Vec<FingerprintRule>> = LazyLock::new(|| {
    let mut rules = FingerprintRules::parse(BUILTIN_RULES)
        .unwrap_or_else(|e| panic!("built-in fingerprint rules must parse: {e}"))
        .rules;
    for rule in &mut rules {
        rule.builtin = true;
    }
    rules
});

static QUOTED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"^"((?:[^"\\]|\\.)*)""#).unwrap_or_else(|e| panic!("invalid regex: {e}")));

impl FingerprintRules {
    /// Parses the text syntax, or the JSON form when the text starts with `[` or `{`.
    pub fn parse(text: &str) -> Result<Self, RuleError> {
        let trimmed = text.trim_start();
        if trimmed.starts_with('[') || trimmed.starts_with('{') {
            let json: Value = serde_json::from_str(trimmed)
                .map_err(|e| RuleError::Syntax { line: e.line(), message: format!("invalid json: {e}") })?;
            return Self::from_json(&json);
        }
        let mut rules = Vec::new();
        for (idx, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let rule = parse_line(line).map_err(|message| RuleError::Syntax { line: idx + 1, message })?;
            rules.push(rule);
        }
        Ok(Self { rules })
    }

    /// Reads the JSON form: a list of rules or `{"rules": [...]}`.
    pub fn from_json(json: &Value) -> Result<Self, RuleError> {
        let list = match json {
            Value::Array(list) => list,
            other => {
                other.get("rules").and_then(Value::as_array).ok_or_else(|| invalid(0, "expected a list of rules"))?
            }
        };
        let mut rules = Vec::new();
        for (idx, rule) in list.iter().enumerate() {
            let line = idx + 1;
            let matchers = rule
                .get("matchers")
                .and_then(Value::as_array)
                .ok_or_else(|| invalid(line, "rule without matchers"))?
                .iter()
                .map(|pair| {
                    let key = pair.get(0).and_then(Value::as_str);
                    let pattern = pair.get(1).and_then(Value::as_str);
                    let (Some(key), Some(pattern)) = (key, pattern) else {
                        return Err(invalid(line, "a matcher must be [key, pattern]"));
                    };
                    let (negated, key) = match key.strip_prefix('!') {
                        Some(k) => (true, k),
                        None => (false, key),
                    };
                    Matcher::new(key, pattern, negated).map_err(|m| invalid(line, &m))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let fingerprint = rule
                .get("fingerprint")
                .and_then(Value::as_array)
                .ok_or_else(|| invalid(line, "rule without fingerprint"))?
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect();
            let title = rule.get("attributes").and_then(|a| a.get("title")).and_then(Value::as_str).map(str::to_owned);
            rules.push(FingerprintRule {
                buckets: bucket_plan(&matchers),
                matchers,
                fingerprint,
                title,
                builtin: rule.get("is_builtin").and_then(Value::as_bool) == Some(true),
            });
        }
        Ok(Self { rules })
    }

    /// The project rules, in order.
    pub fn rules(&self) -> &[FingerprintRule] {
        &self.rules
    }

    /// The first project or built-in rule matching `event`.
    pub(crate) fn first_match(&self, event: &PreparedEvent<'_>) -> Option<&FingerprintRule> {
        let mut cache = Values::default();
        self.rules.iter().chain(BUILTIN.iter()).find(|rule| rule.matches(event, &mut cache))
    }
}

impl FingerprintRule {
    /// Every bucket must have one item satisfying all of the bucket's matchers. Buckets are
    /// independent and their items cached, so the cheap ones are tried first.
    fn matches(&self, event: &PreparedEvent<'_>, cache: &mut Values) -> bool {
        self.buckets.iter().all(|(bucket, matchers)| {
            if *bucket == "family" {
                // One item, the event's platform family: no need to build it (the built-in
                // rules all start here, and most events are not JavaScript).
                let family = family_for_platform(event.platform);
                return matchers.iter().all(|&m| self.matchers[m].matches_family(family));
            }
            bucket_items(bucket, event, cache)
                .iter()
                .any(|item| matchers.iter().all(|&m| self.matchers[m].matches(item)))
        })
    }
}

/// The distinct buckets of `matchers`, cheapest to build first, with their matchers.
fn bucket_plan(matchers: &[Matcher]) -> Vec<(&'static str, Vec<usize>)> {
    let cost = |bucket: &str| match bucket {
        "family" | "sdk" | "release" | "log_info" => 0,
        "frames" => 2,
        _ => 1,
    };
    let mut buckets: Vec<&'static str> = matchers.iter().map(Matcher::bucket).collect();
    buckets.sort_unstable_by_key(|b| (cost(b), *b));
    buckets.dedup();
    buckets
        .into_iter()
        .map(|bucket| (bucket, (0..matchers.len()).filter(|&m| matchers[m].bucket() == bucket).collect()))
        .collect()
}

fn invalid(line: usize, message: &str) -> RuleError {
    RuleError::Syntax { line, message: message.to_owned() }
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// A `"quoted"` string at the start of `input`: its unescaped text and the rest.
fn quoted(input: &str) -> Option<(String, &str)> {
    let caps = QUOTED.captures(input)?;
    let all = caps.get(0)?;
    Some((unescape(caps.get(1)?.as_str()), &input[all.end()..]))
}

fn is_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

fn parse_line(line: &str) -> Result<FingerprintRule, String> {
    let mut rest = line;
    let mut matchers = Vec::new();
    loop {
        rest = rest.trim_start();
        if let Some(after) = rest.strip_prefix("->") {
            rest = after;
            break;
        }
        if rest.is_empty() {
            return Err("expected `->` and a fingerprint".into());
        }
        let (negated, after) = match rest.strip_prefix('!') {
            Some(after) => (true, after),
            None => (false, rest),
        };
        let (key, after) = if let Some((key, after)) = quoted(after) {
            (key, after)
        } else {
            let end = after.find(|c| !is_key_char(c)).unwrap_or(after.len());
            if end == 0 {
                return Err(format!("expected a matcher at `{rest}`"));
            }
            (after[..end].to_owned(), &after[end..])
        };
        let after = after.strip_prefix(':').ok_or_else(|| format!("expected `:` after `{key}`"))?;
        let (pattern, after) = match quoted(after) {
            Some(q) => q,
            None => {
                let end = after.find(char::is_whitespace).unwrap_or(after.len());
                if end == 0 {
                    return Err(format!("missing value for `{key}`"));
                }
                (after[..end].to_owned(), &after[end..])
            }
        };
        matchers.push(Matcher::new(&key, &pattern, negated)?);
        rest = after;
    }
    if matchers.is_empty() {
        return Err("expected at least one matcher".into());
    }
    let (fingerprint, title) = parse_fingerprint(rest)?;
    Ok(FingerprintRule { buckets: bucket_plan(&matchers), matchers, fingerprint, title, builtin: false })
}

fn parse_fingerprint(mut rest: &str) -> Result<(Vec<String>, Option<String>), String> {
    let mut values = Vec::new();
    let mut title = None;
    loop {
        rest = rest.trim_start();
        if rest.is_empty() || rest.starts_with('#') {
            break;
        }
        let key_len = rest.find(|c| !is_key_char(c)).unwrap_or(rest.len());
        if key_len > 0 && rest[key_len..].starts_with("=\"") {
            let key = &rest[..key_len];
            let (value, after) = quoted(&rest[key_len + 1..]).ok_or("unclosed attribute value")?;
            if key != "title" {
                return Err(format!("unknown attribute `{key}`"));
            }
            title = Some(value);
            rest = after;
        } else if let Some((value, after)) = quoted(rest) {
            values.push(value);
            rest = after;
        } else if rest.starts_with("{{") {
            let end = rest.find("}}").ok_or("unclosed `{{`")? + 2;
            let entry = &rest[..end];
            values.push(if crate::grouping::fingerprint::is_default(entry) {
                "{{ default }}".to_owned()
            } else {
                entry.to_owned()
            });
            rest = &rest[end..];
        } else {
            let end = rest.find(|c: char| c.is_whitespace() || c == '{' || c == ',').unwrap_or(rest.len());
            if end == 0 {
                return Err(format!("unexpected `{rest}`"));
            }
            values.push(rest[..end].to_owned());
            rest = &rest[end..];
        }
        rest = rest.trim_start();
        rest = rest.strip_prefix(',').unwrap_or(rest);
    }
    if values.is_empty() {
        return Err("expected a fingerprint after `->`".into());
    }
    Ok((values, title))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn text_rules_parse_quoted_values_variables_and_titles() {
        let rules = FingerprintRules::parse(
            "# comment\nerror.type:DatabaseUnavailable -> system-down\n\
             !stack.function:\"Foo::bar\" message:\"*timed out*\" -> \"a b\", {{ default }} title=\"Timeout in {{ tags.region }}\"",
        )
        .expect("valid rules");
        assert_eq!(rules.rules().len(), 2);
        assert_eq!(rules.rules()[0].fingerprint, vec!["system-down"]);
        let second = &rules.rules()[1];
        assert_eq!(second.fingerprint, vec!["a b", "{{ default }}"]);
        assert_eq!(second.title.as_deref(), Some("Timeout in {{ tags.region }}"));
    }

    #[test]
    fn the_json_form_is_accepted() {
        let rules = FingerprintRules::from_json(&json!([
            {"matchers": [["type", "DatabaseUnavailable"], ["!function", "retry"]],
             "fingerprint": ["system-down"], "attributes": {}}
        ]))
        .expect("valid json rules");
        assert_eq!(rules.rules()[0].fingerprint, vec!["system-down"]);
        assert!(FingerprintRules::parse("[{\"matchers\": [[\"type\", \"X\"]], \"fingerprint\": [\"x\"]}]").is_ok());
    }

    #[test]
    fn malformed_rules_report_their_line() {
        let err = FingerprintRules::parse("type:A -> a\nbogus:x -> b").expect_err("unknown matcher");
        assert_eq!(err.to_string(), "line 2: unknown matcher `bogus`");
        let err = FingerprintRules::parse("type:A").expect_err("no arrow");
        assert_eq!(err.to_string(), "line 1: expected `->` and a fingerprint");
        assert!(FingerprintRules::parse("type:A -> x foo=\"bar\"").is_err());
        assert!(FingerprintRules::parse("type:A ->").is_err());
    }
}
