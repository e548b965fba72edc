//! Glob patterns of stack-trace and fingerprint rules, compiled to anchored regexes.
//!
//! Two flavours, as upstream uses them:
//!
//! | flavour | `*` | `**` | case | used for |
//! |---|---|---|---|---|
//! | [`GlobKind::Path`] | `[^/]*` | crosses `/` (`**/`, `/**/`, `/**`) | insensitive, `\` → `/` | `path:`, `package:`, `release:` |
//! | [`GlobKind::Text`] | `.*` | `.*` | sensitive unless asked | `function:`, `module:`, `type:`, … |
//!
//! `?` is one character, `[a-z]`/`[!a-z]` are classes, `{a,b}` alternatives, `\x` escapes `x`
//! (text globs only — in path globs `\` is a separator).

use memchr::memmem;
use regex::{Regex, RegexBuilder};

/// How a glob treats separators and case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GlobKind {
    /// Path-like: `*` stops at `/`, case-insensitive, backslashes are separators.
    Path,
    /// Plain text: `*` matches anything.
    Text {
        /// Match case-insensitively.
        ignore_case: bool,
    },
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Literal(char),
    Any,
    ZeroOrMore,
    RecursivePrefix,
    RecursiveSuffix,
    RecursiveZeroOrMore,
    Class { negated: bool, items: Vec<(char, char)> },
    Alternates(Vec<Vec<Token>>),
}

/// Compiles `pattern` into an anchored regex; the error names the problem in lowercase.
pub fn compile(pattern: &str, kind: GlobKind) -> Result<Regex, String> {
    let path = kind == GlobKind::Path;
    let normalized;
    let pattern = if path {
        normalized = pattern.replace('\\', "/");
        normalized.as_str()
    } else {
        pattern
    };
    let mut chars = pattern.chars().peekable();
    let tokens = parse(&mut chars, path, false)?;
    let mut re = String::from("^");
    if tokens == [Token::RecursivePrefix] {
        re.push_str(".*");
    } else {
        render(&tokens, path, &mut re);
    }
    re.push('$');
    let ignore_case = match kind {
        GlobKind::Path => true,
        GlobKind::Text { ignore_case } => ignore_case,
    };
    RegexBuilder::new(&re)
        .case_insensitive(ignore_case)
        .dot_matches_new_line(!path)
        .build()
        .map_err(|e| format!("invalid glob {pattern:?}: {e}"))
}

/// A glob for values that are already normalized (paths lower-cased with `/`). Common shapes
/// (`lit`, `lit*`, `*lit`, `*lit*`, `**/lit/**`, `/lit/**`) skip the regex engine.
#[derive(Debug, Clone)]
pub enum Glob {
    Exact(String),
    Prefix(String),
    Suffix(String),
    Contains(Substring),
    /// `lit*` on a path: the rest stays within one path segment.
    SegmentPrefix(String),
    /// `**/lit/**`, stored as `/lit/`: somewhere in the path, or at its start.
    PathInfix(Substring),
    /// Everything else; `literal` is a run of ASCII characters every match starts with
    /// (`leads`) or contains (at least two of them).
    Regex {
        re: Regex,
        literal: Option<String>,
        leads: bool,
    },
}

/// A literal looked for inside values, with its searcher built once: rules test the same
/// literals against every frame, and setting up a search costs more than most searches.
#[derive(Debug, Clone)]
pub struct Substring {
    text: String,
    /// Boxed: a searcher is a few hundred bytes, and globs sit in every rule matcher.
    finder: Box<memmem::Finder<'static>>,
}

impl Substring {
    fn new(text: String) -> Self {
        let finder = Box::new(memmem::Finder::new(text.as_bytes()).into_owned());
        Self { text, finder }
    }

    fn is_in(&self, value: &str) -> bool {
        self.finder.find(value.as_bytes()).is_some()
    }
}

impl std::ops::Deref for Substring {
    type Target = String;

    fn deref(&self) -> &String {
        &self.text
    }
}

/// Something every value a glob accepts satisfies, for indexing rules by their globs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requirement<'a> {
    Exact(&'a str),
    Prefix(&'a str),
    /// A substring of at least two bytes.
    Contains(&'a str),
}

impl Glob {
    /// Compiles `pattern`; path literals are lower-cased to match normalized values.
    pub fn new(pattern: &str, kind: GlobKind) -> Result<Self, String> {
        let path = kind == GlobKind::Path;
        let normalized = if path { pattern.replace('\\', "/").to_lowercase() } else { pattern.to_owned() };
        if kind == (GlobKind::Text { ignore_case: true }) {
            return compile(pattern, kind).map(|re| Glob::Regex { re, literal: None, leads: false });
        }
        let tokens = parse(&mut normalized.chars().peekable(), path, false)?;
        let literal = |tokens: &[Token]| -> Option<String> {
            tokens
                .iter()
                .map(|t| match t {
                    Token::Literal(c) => Some(*c),
                    _ => None,
                })
                .collect()
        };
        use Token::{RecursivePrefix as Rp, RecursiveSuffix as Rs, ZeroOrMore as Star};
        let fast = match tokens.as_slice() {
            [Rp, inner @ .., Rs] => literal(inner).map(|l| Glob::PathInfix(Substring::new(format!("/{l}/")))),
            [inner @ .., Rs] => literal(inner).map(|l| Glob::Prefix(format!("{l}/"))),
            [inner @ .., Star] if path => literal(inner).map(Glob::SegmentPrefix),
            all if path => literal(all).map(Glob::Exact),
            [Star, inner @ .., Star] => literal(inner).map(|l| Glob::Contains(Substring::new(l))),
            [Star, inner @ ..] => literal(inner).map(Glob::Suffix),
            [inner @ .., Star] => literal(inner).map(Glob::Prefix),
            all => literal(all).map(Glob::Exact),
        };
        match fast {
            Some(glob) => Ok(glob),
            None => {
                let leading = leading_literal(&tokens);
                let leads = leading.is_some();
                let literal = leading.or_else(|| longest_literal(&tokens));
                compile(pattern, kind).map(|re| Glob::Regex { re, literal, leads })
            }
        }
    }

    /// Requirements of which at least one holds for every value this glob accepts, through
    /// [`Glob::is_match`] or, with `path`, [`Glob::is_path_match`] (which also tries `"/" + value`).
    /// Empty when nothing useful is known (the glob may match anything). Byte-exact for ASCII
    /// values only: case-insensitive regexes fold a few non-ASCII characters onto ASCII ones.
    pub fn requirements(&self, path: bool) -> Vec<Requirement<'_>> {
        // What `"/" + value` must satisfy translates to `value` without the leading `/`.
        fn rooted(l: &str, path: bool) -> Option<&str> {
            if path { l.strip_prefix('/') } else { None }
        }
        let rooted = |l| rooted(l, path);
        let long = |l: &str| l.len() >= 2;
        let mut out = Vec::new();
        match self {
            Glob::Exact(l) => {
                out.push(Requirement::Exact(l));
                out.extend(rooted(l).map(Requirement::Exact));
            }
            Glob::Prefix(l) | Glob::SegmentPrefix(l) | Glob::Regex { literal: Some(l), leads: true, .. } => {
                if l.is_empty() || rooted(l).is_some_and(str::is_empty) {
                    return Vec::new();
                }
                out.push(Requirement::Prefix(l));
                out.extend(rooted(l).map(Requirement::Prefix));
            }
            Glob::Suffix(l) if long(l) => out.push(Requirement::Contains(l)),
            Glob::Contains(Substring { text: l, .. }) | Glob::Regex { literal: Some(l), .. } => {
                let l = rooted(l).unwrap_or(l);
                if long(l) {
                    out.push(Requirement::Contains(l));
                }
            }
            Glob::PathInfix(l) if long(&l[1..]) => out.push(Requirement::Contains(&l[1..])),
            Glob::Suffix(_) | Glob::PathInfix(_) | Glob::Regex { literal: None, .. } => {}
        }
        out
    }

    /// Whether `value` matches.
    pub fn is_match(&self, value: &str) -> bool {
        match self {
            Glob::Exact(l) => value == l,
            // Most candidates differ in the first byte; skip the comparison call for those.
            Glob::Prefix(l) if value.as_bytes().first() != l.as_bytes().first() => l.is_empty(),
            Glob::Prefix(l) => value.starts_with(l.as_str()),
            Glob::Suffix(l) => value.ends_with(l.as_str()),
            Glob::Contains(l) => l.is_in(value),
            Glob::SegmentPrefix(l) => value.strip_prefix(l.as_str()).is_some_and(|rest| !rest.contains('/')),
            Glob::PathInfix(l) => l.is_in(value) || value.starts_with(&l[1..]),
            Glob::Regex { re, .. } => re.is_match(value),
        }
    }

    /// Path matching as upstream: a value without leading `/` is retried with one.
    pub fn is_path_match(&self, value: &str) -> bool {
        if self.is_match(value) {
            return true;
        }
        if value.starts_with('/') {
            return false;
        }
        // Each arm asks: does `"/" + value` match?
        match self {
            Glob::Exact(l) => rooted(l.as_str()) == Some(value),
            Glob::Prefix(l) | Glob::Contains(Substring { text: l, .. }) => {
                rooted(l.as_str()).is_some_and(|l| value.starts_with(l))
            }
            Glob::Suffix(_) | Glob::PathInfix(_) => false,
            Glob::SegmentPrefix(l) => {
                rooted(l.as_str()).and_then(|l| value.strip_prefix(l)).is_some_and(|rest| !rest.contains('/'))
            }
            Glob::Regex { re, .. } => re.is_match(&format!("/{value}")),
        }
    }
}

/// The ASCII characters the tokens start with, if any.
fn leading_literal(tokens: &[Token]) -> Option<String> {
    let leading: String = tokens
        .iter()
        .map_while(|t| match t {
            Token::Literal(c) if c.is_ascii() => Some(*c),
            _ => None,
        })
        .collect();
    (!leading.is_empty()).then_some(leading)
}

/// The longest run of plain ASCII characters outside classes and alternatives (≥ 2 bytes).
fn longest_literal(tokens: &[Token]) -> Option<String> {
    let mut best = String::new();
    let mut run = String::new();
    for token in tokens.iter().chain([&Token::Any]) {
        match token {
            Token::Literal(c) if c.is_ascii() => run.push(*c),
            _ => {
                if run.len() > best.len() {
                    best = std::mem::take(&mut run);
                }
                run.clear();
            }
        }
    }
    (best.len() >= 2).then_some(best)
}

/// A path literal without its leading `/`, i.e. what `"/" + value` must start with.
fn rooted(literal: &str) -> Option<&str> {
    literal.strip_prefix('/')
}

type Chars<'a> = std::iter::Peekable<std::str::Chars<'a>>;

fn parse(chars: &mut Chars<'_>, path: bool, in_alternates: bool) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut prev: Option<char> = None;
    while let Some(&c) = chars.peek() {
        if in_alternates && (c == ',' || c == '}') {
            break;
        }
        chars.next();
        match c {
            '\\' if !path => {
                let escaped = chars.next().ok_or("dangling escape at end of glob")?;
                tokens.push(Token::Literal(escaped));
            }
            '?' => tokens.push(Token::Any),
            '*' if chars.peek() == Some(&'*') => {
                chars.next();
                double_star(chars, prev, &mut tokens);
            }
            '*' => tokens.push(Token::ZeroOrMore),
            '[' => tokens.push(parse_class(chars)?),
            '{' => {
                let mut alternates = Vec::new();
                loop {
                    alternates.push(parse(chars, path, true)?);
                    match chars.next() {
                        Some(',') => continue,
                        Some('}') => break,
                        _ => return Err("unclosed alternation in glob".into()),
                    }
                }
                tokens.push(Token::Alternates(alternates));
            }
            c => tokens.push(Token::Literal(c)),
        }
        prev = Some(c);
    }
    Ok(tokens)
}

/// `**` is recursive only as `**/…`, `…/**/…` or `…/**`; elsewhere it is two `*`.
fn double_star(chars: &mut Chars<'_>, prev: Option<char>, tokens: &mut Vec<Token>) {
    let next = chars.peek().copied();
    if tokens.is_empty() {
        if next.is_none_or(|n| n == '/') {
            chars.next();
            tokens.push(Token::RecursivePrefix);
        } else {
            tokens.extend([Token::ZeroOrMore, Token::ZeroOrMore]);
        }
        return;
    }
    let is_suffix = match next {
        _ if prev != Some('/') => None,
        None => Some(true),
        Some('/') => {
            chars.next();
            Some(false)
        }
        Some(_) => None,
    };
    let Some(is_suffix) = is_suffix else {
        tokens.extend([Token::ZeroOrMore, Token::ZeroOrMore]);
        return;
    };
    match tokens.last() {
        Some(Token::RecursivePrefix | Token::RecursiveSuffix) => {}
        _ => {
            tokens.pop();
            tokens.push(if is_suffix { Token::RecursiveSuffix } else { Token::RecursiveZeroOrMore });
        }
    }
}

fn parse_class(chars: &mut Chars<'_>) -> Result<Token, String> {
    let negated = matches!(chars.peek(), Some('!' | '^'));
    if negated {
        chars.next();
    }
    let mut items = Vec::new();
    let mut first = true;
    loop {
        let c = chars.next().ok_or("unclosed character class in glob")?;
        if c == ']' && !first {
            break;
        }
        first = false;
        if chars.peek() == Some(&'-') {
            let mut lookahead = chars.clone();
            lookahead.next();
            if let Some(&end) = lookahead.peek().filter(|&&e| e != ']') {
                chars.next();
                chars.next();
                if end < c {
                    return Err(format!("invalid range {c}-{end} in glob"));
                }
                items.push((c, end));
                continue;
            }
        }
        items.push((c, c));
    }
    Ok(Token::Class { negated, items })
}

fn render(tokens: &[Token], path: bool, re: &mut String) {
    for token in tokens {
        match token {
            Token::Literal(c) => re.push_str(&regex::escape(&c.to_string())),
            Token::Any => re.push_str(if path { "[^/]" } else { "." }),
            Token::ZeroOrMore => re.push_str(if path { "[^/]*" } else { ".*" }),
            Token::RecursivePrefix => re.push_str("(?:/?|.*/)"),
            Token::RecursiveSuffix => re.push_str("/.*"),
            Token::RecursiveZeroOrMore => re.push_str("(?:/|/.*/)"),
            Token::Class { negated, items } => {
                re.push('[');
                if *negated {
                    re.push('^');
                }
                for (start, end) in items {
                    re.push_str(&regex::escape(&start.to_string()));
                    if start != end {
                        re.push('-');
                        re.push_str(&regex::escape(&end.to_string()));
                    }
                }
                re.push(']');
            }
            Token::Alternates(alternates) => {
                re.push_str("(?:");
                for (i, alternate) in alternates.iter().enumerate() {
                    if i > 0 {
                        re.push('|');
                    }
                    render(alternate, path, re);
                }
                re.push(')');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path_matches(pattern: &str, value: &str) -> bool {
        compile(pattern, GlobKind::Path).expect("glob").is_match(value)
    }

    fn text_matches(pattern: &str, value: &str) -> bool {
        let kind = GlobKind::Text { ignore_case: false };
        compile(pattern, kind).expect("glob").is_match(value)
    }

    #[test]
    fn path_globs_need_double_star_to_cross_separators() {
        assert!(path_matches("**/node_modules/**", "/app/node_modules/x/y.js"));
        assert!(path_matches("**/node_modules/**", "node_modules/y.js"));
        assert!(!path_matches("/usr/*", "/usr/lib/x"));
        assert!(path_matches("/usr/**", "/usr/lib/x"));
        assert!(path_matches("**/*.app/contents/**", "/Applications/My.app/Contents/MacOS/My"));
        assert!(path_matches("?:/windows/**", "d:/Windows/System32/kernel32.dll"));
    }

    #[test]
    fn text_globs_match_anything_and_respect_case() {
        assert!(text_matches("std::*", "std::rt::lang_start"));
        assert!(!text_matches("std::*", "Std::rt"));
        assert!(text_matches("?[[]KSCrash*", "-[KSCrash install]"));
        assert!(text_matches(r"*::\{dtor\}", "ns::Foo<T>::{dtor}"));
        assert!(text_matches("{foo,bar}_*", "bar_baz"));
    }

    #[test]
    fn fast_shapes_agree_with_the_regex_translation() {
        let values = [
            "/app/node_modules/x.js",
            "node_modules/a",
            "akka.actor.Foo",
            "Foo.akka.",
            "libobjc.a.dylib",
            "libobjc/x",
            "/usr/lib/x",
            "usr/lib/x",
            "std::rt",
            "x",
        ];
        let cases = [
            ("**/node_modules/**", GlobKind::Path),
            ("/usr/lib/**", GlobKind::Path),
            ("libobjc*", GlobKind::Path),
            ("x", GlobKind::Path),
            ("akka.*", GlobKind::Text { ignore_case: false }),
            ("*.akka.", GlobKind::Text { ignore_case: false }),
            ("*akka*", GlobKind::Text { ignore_case: false }),
            ("@babel/**", GlobKind::Text { ignore_case: false }),
            ("**/akka/**", GlobKind::Text { ignore_case: false }),
            ("std::rt", GlobKind::Text { ignore_case: false }),
        ];
        for (pattern, kind) in cases {
            let fast = Glob::new(pattern, kind).expect("glob");
            assert!(!matches!(fast, Glob::Regex { .. }), "{pattern} should take a fast path");
            let slow = Glob::Regex { re: compile(pattern, kind).expect("glob"), literal: None, leads: false };
            for value in values {
                let value = if kind == GlobKind::Path { value.to_lowercase() } else { value.to_owned() };
                assert_eq!(fast.is_path_match(&value), slow.is_path_match(&value), "{pattern} on {value}");
                assert_eq!(fast.is_match(&value), slow.is_match(&value), "{pattern} on {value}");
            }
        }
    }

    #[test]
    fn malformed_globs_are_errors() {
        assert!(compile("[abc", GlobKind::Path).is_err());
        assert!(compile("{a,b", GlobKind::Text { ignore_case: true }).is_err());
    }
}
