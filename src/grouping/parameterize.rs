//! Message and exception-value normalization: trim to two lines, then replace volatile values.
//!
//! ```text
//! Wed Apr 17 22:31:45 2019: x@y.invalid logged in (error 42) from 127.0.0.1 at 0xfeedbeef
//! <date>: <email> logged in (error <int>) from <ip> at <hex>
//! ```
//!
//! Upstream runs one big alternation regex with look-arounds through Python's `re.sub`: at each
//! position the first alternative that matches wins, and scanning resumes after the match. The
//! `regex` crate has the same leftmost-first preference but no look-arounds, so each alternative
//! here is a [`Pattern`]: an anchored regex plus explicit checks on the character before the
//! match (`\b`, `(?<!\d)`, `(?<==)`), on the character after it (`(?![\d:])`, written as a
//! consumed character outside capture group 1) and on its content (`(?=[a-f]*[0-9])`).
//!
//! One pass of a [`RegexSet`] first tells which alternatives match anywhere in the input (most
//! messages: none, or a few like `int` and `ip`); only those are tried. Candidate positions are
//! where the alternation of all of them can start a match, leftmost first (one search finds the
//! next); at each, the possible alternatives are tried in upstream order with their context
//! checks, and their capture groups are only resolved for a match. A message of one non-blank
//! line skips the line trimming.

use std::sync::LazyLock;

use regex::{Regex, RegexSet};

/// What must hold for the character before a match.
#[derive(Clone, Copy)]
enum Before {
    Any,
    /// `\b` at the start of an alternative whose first character is a word character.
    Boundary,
    /// `(?<!\w)`
    NotWord,
    /// `(?<![0-9a-zA-Z_])`
    NotAsciiWord,
    /// `(?<!\d)`
    NotDigit,
    /// `(?<==)`
    Equals,
}

/// Extra content checks replacing look-aheads at the start of a match.
#[derive(Clone, Copy)]
enum Content {
    Unchecked,
    HasDigit,
    HasDigitAndLetter,
}

struct Pattern {
    name: &'static str,
    before: Before,
    /// Matched against the text from the candidate position; `^` is prepended. If the regex has
    /// capture groups, the first group that took part is the replaced text (anything after it
    /// stands in for a look-ahead).
    regex: &'static str,
    content: Content,
}

const DAYS: &str = "(?:Sun|Mon|Tue|Wed|Thu|Fri|Sat)";
const MONTHS: &str = "(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)";
const ZONES: &str = "(?:UT|GMT|(?:E|C|M|P)(?:ST|DT)|[A-IK-Z])";
const IPV4: &str = r"(?:(?:25[0-5]|(?:2[0-4]|1{0,1}[0-9]){0,1}[0-9])\.){3}(?:25[0-5]|(?:2[0-4]|1{0,1}[0-9]){0,1}[0-9])";
const TLDS: &str = "(?:COM|NET|ORG|JP|DE|UK|FR|BR|IT|RU|ES|ME|GOV|PL|CA|AU|CN|CO|IN|NL|EDU|INFO|EU|CH|ID|AT|KR|CZ|MX|BE|TV|SE|TR|TW|AL|UA|IR|VN|CL|SK|LY|CC|TO|NO|FI|US|PT|DK|AR|HU|TK|GR|IL|NEWS|RO|MY|BIZ|IE|ZA|NZ|SG|EE|TH|IO|XYZ|PE|BG|HK|RS|LT|LINK|PH|CLUB|SI|SITE|MOBI|BY|CAT|WIKI|LA|GA|XXX|CF|HR|NG|JOBS|ONLINE|KZ|UG|GQ|AE|IS|LV|PRO|FM|TIPS|MS|SA|APP)";

/// The alternatives in upstream order. `{D}`, `{M}`, `{Z}`, `{IPV4}`, `{TLD}` are expanded.
fn patterns() -> Vec<Pattern> {
    use Before::*;
    let checked = |name, before, regex, content| Pattern { name, before, regex, content };
    let p = |name, before, regex| checked(name, before, regex, Content::Unchecked);
    vec![
        p("email", Any, r"[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)*"),
        p("url", Boundary, r"(?:wss?|https?|ftp)://[^\s/$.?#].[^\s]*"),
        p("hostname", Boundary, r"(?:[a-zA-Z0-9\-]{1,63}\.)+?(?:{TLD}|{tld})\b"),
        p(
            "ip",
            NotAsciiWord,
            concat!(
                r"((?:[0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}|(?:[0-9a-fA-F]{1,4}:){1,7}:|",
                r"(?:[0-9a-fA-F]{1,4}:){1,6}:[0-9a-fA-F]{1,4}|(?:[0-9a-fA-F]{1,4}:){1,5}(?::[0-9a-fA-F]{1,4}){1,2}|",
                r"(?:[0-9a-fA-F]{1,4}:){1,4}(?::[0-9a-fA-F]{1,4}){1,3}|(?:[0-9a-fA-F]{1,4}:){1,3}(?::[0-9a-fA-F]{1,4}){1,4}|",
                r"(?:[0-9a-fA-F]{1,4}:){1,2}(?::[0-9a-fA-F]{1,4}){1,5}|[0-9a-fA-F]{1,4}:(?:(?::[0-9a-fA-F]{1,4}){1,6})|",
                r":(?:(?::[0-9a-fA-F]{1,4}){1,7}|:)|fe80:(?::[0-9a-fA-F]{0,4}){0,4}%[0-9a-zA-Z]{1,}|",
                r"::(?:ffff(?::0{1,4}){0,1}:){0,1}{IPV4}|(?:[0-9a-fA-F]{1,4}:){1,4}:{IPV4}\b)(?:[^0-9a-zA-Z]|$)"
            ),
        ),
        p("ip", Boundary, r"{IPV4}\b"),
        p("traceparent", Boundary, r"(?:00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]\b|1-[0-9a-f]{8}-[0-9a-f]{24}\b)"),
        p("uuid", Boundary, r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"),
        p("sha1", Boundary, r"[0-9a-fA-F]{40}\b"),
        p("md5", Boundary, r"[0-9a-fA-F]{32}\b"),
        // RFC822 / RFC1123(Z)
        p("date", Any, r"{D},\s\d{1,2}\s{M}\s\d{2,4}\s\d{1,2}:\d{1,2}(?::\d{1,2})?\s(?:[-\+]\d{2}[0-5]\d|{Z})"),
        // "Mon Jan 02, 1999", "Jan 02, 1999"
        p("date", Any, r"(?:{D}\s)?{M}\s[0-3]\d,\s\d{2,4}"),
        // RFC850
        p(
            "date",
            Any,
            r"(?:Sun|Sunday|Mon|Monday|Tue|Tuesday|Wed|Wednesday|Thu|Thursday|Fri|Friday|Sat|Saturday),\s\d{2}-{M}-\d{2}\s\d{2}:\d{2}:\d{2}\s{Z}",
        ),
        // RFC3339(Nano)
        p("date", Any, r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z?(?:[+-]?\d{2}:\d{2})?"),
        // JavaScript Date.toString()
        p("date", Any, r"{D}\s{M}\s\d{2}\s\d{4}\s\d{2}:\d{2}:\d{2}\sGMT[+-]\d{4}(?:\s\([^)]+\))?"),
        // date-times with offset, then without
        p(
            "date",
            Any,
            r"\d{4}-?[01]\d-?[0-3]\d[\sT][0-2]\d:?[0-5]\d:?[0-5]\d\.\d+(?:[+-][0-2]\d:?[0-5]\d|Z)|\d{4}-?[01]\d-?[0-3]\d[\sT][0-2]\d:?[0-5]\d:?[0-5]\d(?:[+-][0-2]\d:?[0-5]\d|Z)|\d{4}-?[01]\d-?[0-3]\d[\sT][0-2]\d:?[0-5]\d(?:[+-][0-2]\d:?[0-5]\d|Z)",
        ),
        p(
            "date",
            Any,
            r"\d{4}-?[01]\d-?[0-3]\d[\sT][0-2]\d:?[0-5]\d:?[0-5]\d\.\d+|\d{4}-?[01]\d-?[0-3]\d[\sT][0-2]\d:?[0-5]\d:?[0-5]\d|\d{4}-?[01]\d-?[0-3]\d[\sT][0-2]\d:?[0-5]\d",
        ),
        // 12-hour clock: the look-ahead `(?![\d:])` sits before the optional am/pm suffix.
        p(
            "date",
            NotDigit,
            r"((?:[1-9]|1[0-2]):[0-5]\d(?::[0-5]\d)?\s?[aApP][Mm])|((?:[1-9]|1[0-2]):[0-5]\d(?::[0-5]\d)?)(?:[^\d:]|$)",
        ),
        // 24-hour clock
        p("date", NotDigit, r"((?:0?\d|1\d|2[0-3]):[0-5]\d(?::[0-5]\d)?)(?:[^\d:]|$)"),
        p("date", Any, r"\d{4}-[01]\d-[0-3]\d"),
        p("date", Any, r"[0-2]\d:[0-5]\d:[0-5]\d"),
        p("date", Boundary, r"(?:{D}\s+)?{M}\s+\d{1,2}\s+\d{2}:\d{2}:\d{2}\s+\d{4}"),
        p(
            "date",
            Boundary,
            r"(?:{D},\s+)?(?:0[1-9]|[1-2]?\d|3[01])\s+{M}\s+(?:19\d{2}|[2-9]\d{3})\s+(?:2[0-3]|[0-1]\d):[0-5]\d(?::(?:60|[0-5]\d))?\s+(?:[-\+]\d{2}[0-5]\d|{Z})",
        ),
        p("date", Any, r"datetime.datetime\(.*?\)"),
        p("duration", Boundary, r"\d+ms"),
        p("duration", Any, r"\d+(?:\.\d+)?s\b"),
        p("swift_txn_id", Boundary, r"tx[0-9a-f]{21}-[0-9a-f]{10}\S*"),
        p("hex", Boundary, r"0[xX][0-9a-fA-F]+\b"),
        checked("hex", Boundary, r"[0-9a-f]{8,128}\b", Content::HasDigit),
        checked("hex", Boundary, r"[0-9A-F]{8,128}\b", Content::HasDigit),
        checked("git_sha", Boundary, r"[0-9a-f]{7}\b", Content::HasDigitAndLetter),
        p("float", Any, r"-\d+\.\d+\b"),
        p("float", Boundary, r"\d+\.\d+\b"),
        p("int", Boundary, r"\d{1,7}\b"),
        p("int", NotWord, r"-\d{1,7}\b"),
        p("quoted_str", Equals, r#"'[^']+'|"[^"]+""#),
        p("bool", Equals, r"True|true|False|false"),
    ]
}

fn expand(regex: &str) -> String {
    regex
        .replace("{D}", DAYS)
        .replace("{M}", MONTHS)
        .replace("{Z}", ZONES)
        .replace("{IPV4}", IPV4)
        .replace("{TLD}", TLDS)
        .replace("{tld}", &TLDS.to_lowercase())
}

struct Compiled {
    name: &'static str,
    before: Before,
    content: Content,
    anchored: Regex,
}

struct Parameterizer {
    patterns: Vec<Compiled>,
    /// The alternatives as one unanchored set: which of them match anywhere in the input, in
    /// one pass, so only those are tried (in order) at each candidate position.
    anywhere: RegexSet,
    /// The alternatives as one unanchored alternation: where the next candidate position is
    /// (the leftmost start of any alternative), in one search.
    union: Regex,
}

fn compile(pattern: &str) -> Regex {
    Regex::new(pattern).unwrap_or_else(|e| panic!("invalid parameterization regex: {e}"))
}

static PARAMETERIZER: LazyLock<Parameterizer> = LazyLock::new(|| {
    let patterns = patterns();
    let anywhere: Vec<String> = patterns.iter().map(|p| format!("(?:{})", expand(p.regex))).collect();
    Parameterizer {
        patterns: patterns
            .iter()
            .zip(&anywhere)
            .map(|(p, regex)| Compiled {
                name: p.name,
                before: p.before,
                content: p.content,
                anchored: compile(&format!("^{regex}")),
            })
            .collect(),
        anywhere: RegexSet::new(&anywhere).unwrap_or_else(|e| panic!("invalid parameterization regex: {e}")),
        union: compile(&anywhere.join("|")),
    }
});

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

impl Compiled {
    /// Length of this alternative's match at the start of `rest`, if it matches there.
    fn match_len(&self, prev: Option<char>, rest: &str) -> Option<usize> {
        let first = rest.chars().next()?;
        let before_ok = match self.before {
            Before::Any => true,
            Before::Boundary => prev.is_some_and(is_word) != is_word(first),
            Before::NotWord => !prev.is_some_and(is_word),
            Before::NotAsciiWord => !prev.is_some_and(|p| p.is_ascii_alphanumeric() || p == '_'),
            Before::NotDigit => !prev.is_some_and(|p| p.is_numeric()),
            Before::Equals => prev == Some('='),
        };
        if !before_ok {
            return None;
        }
        // The first capture group that took part, else the whole match. Finding a match is
        // much cheaper than resolving its groups, and most tries fail: groups only for a match.
        let m = self.anchored.find(rest)?;
        let (start, end) = if self.anchored.captures_len() == 1 {
            (m.start(), m.end())
        } else {
            let mut locations = self.anchored.capture_locations();
            self.anchored.captures_read(&mut locations, rest)?;
            (1..locations.len()).find_map(|i| locations.get(i)).or_else(|| locations.get(0))?
        };
        let text = &rest[start..end];
        let content_ok = match self.content {
            Content::Unchecked => true,
            Content::HasDigit => text.bytes().any(|b| b.is_ascii_digit()),
            Content::HasDigitAndLetter => {
                text.bytes().any(|b| b.is_ascii_digit()) && text.bytes().any(|b| b.is_ascii_alphabetic())
            }
        };
        (content_ok && end > 0).then_some(end)
    }
}

/// Replaces volatile values (numbers, ids, dates, addresses, …) with `<kind>` placeholders.
pub fn parameterize(input: &str) -> String {
    let engine = &*PARAMETERIZER;
    // An alternative that matches nowhere in the input cannot match at a candidate position
    // (its anchored form matches `input[start..]` exactly where it matches from `start`).
    let possible: Vec<&Compiled> = engine.anywhere.matches(input).iter().map(|i| &engine.patterns[i]).collect();
    if possible.is_empty() {
        return input.to_owned();
    }
    // Candidate positions: where some alternative starts a match (ignoring the context checks),
    // leftmost first: the start of the alternation's next match.
    let next_candidate = |pos: usize| engine.union.find_at(input, pos).map(|m| m.start());
    let mut out = String::with_capacity(input.len());
    let mut copied = 0;
    let mut pos = 0;
    // An e-mail needs `@` right after a run of local-part characters; knowing where the current
    // run ends keeps long runs without `@` from being rescanned at every position.
    let mut run = (0, false);
    while let Some(start) = next_candidate(pos) {
        let prev = input[..start].chars().next_back();
        let rest = &input[start..];
        if start >= run.0 {
            let len = rest.find(|c| !is_email_local(c)).unwrap_or(rest.len());
            run = (start + len.max(1), rest[len..].starts_with('@'));
        }
        let hit = possible
            .iter()
            .filter(|p| p.name != "email" || run.1)
            .find_map(|p| p.match_len(prev, rest).map(|len| (p.name, len)));
        match hit {
            Some((name, len)) => {
                out.push_str(&input[copied..start]);
                out.push('<');
                out.push_str(name);
                out.push('>');
                pos = start + len;
                copied = pos;
            }
            None => pos = start + rest.chars().next().map_or(1, char::len_utf8),
        }
        if pos >= input.len() {
            break;
        }
    }
    out.push_str(&input[copied..]);
    out
}

/// Characters of an e-mail local part, as in the `email` pattern.
fn is_email_local(c: char) -> bool {
    c.is_ascii_alphanumeric() || ".!#$%&'*+/=?^_`{|}~-".contains(c)
}

/// Python's `str.splitlines()` boundaries.
fn is_line_break(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{0b}' | '\u{0c}' | '\u{1c}' | '\u{1d}' | '\u{1e}' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// Keeps the first two non-blank lines (appending `...` if anything was cut).
pub fn trim_to_two_lines(message: &str) -> String {
    let kept: Vec<&str> = message.split(is_line_break).filter(|line| !line.trim().is_empty()).take(2).collect();
    let mut trimmed = kept.join("\n");
    if trimmed != message {
        trimmed.push_str("...");
    }
    trimmed
}

/// Trim to two lines, then parameterize — for exception values and log messages.
pub fn normalize_message(message: &str) -> String {
    // A single non-blank line is kept as it is. The byte test is conservative: it also sends
    // other characters starting with 0xC2/0xE2 down the general path.
    let may_break = message.bytes().any(|b| matches!(b, 0x0a..=0x0d | 0x1c..=0x1e | 0xc2 | 0xe2));
    if !may_break && !message.trim().is_empty() {
        return parameterize(message);
    }
    parameterize(&trim_to_two_lines(message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_volatile_value_is_replaced() {
        let input = "Wed Apr 17 22:31:45 2019: foobar.bazblafasel@example.invalid logged in (error 42) time spent 1234.33 --- correlation id 88ee7c66-29a9-4a4a-bc26-c72d76c5de14, checksum da39a3ee5e6b4b0d3255bfef95601890afd80709 (md5 d41d8cd98f00b204e9800998ecf8427e); payload timestamp 2019-04-17T20:29:05Z (submitted from 127.0.0.1 via 2001:0db8:85a3:0000:0000:8a2e:0370:7334 via ::1) at offset 0xfeedbeef";
        assert_eq!(
            parameterize(input),
            "<date>: <email> logged in (error <int>) time spent <float> --- correlation id <uuid>, checksum <sha1> (md5 <md5>); payload timestamp <date> (submitted from <ip> via <ip> via <ip>) at offset <hex>"
        );
    }

    #[test]
    fn key_value_pairs_are_parameterized_after_the_equals_sign() {
        assert_eq!(parameterize("key1='a' key2=5 key3=true"), "key1=<quoted_str> key2=<int> key3=<bool>");
    }

    #[test]
    fn class_method_separators_are_not_ip_addresses() {
        assert_eq!(parameterize("Foo::bar failed"), "Foo::bar failed");
        assert_eq!(parameterize("dead::beef"), "<ip>");
    }

    #[test]
    fn messages_are_trimmed_to_two_non_empty_lines() {
        assert_eq!(trim_to_two_lines("a\n\n  \nb\nc"), "a\nb...");
        assert_eq!(trim_to_two_lines("a\nb"), "a\nb");
        assert_eq!(
            normalize_message("Loading chunk 158 failed.\n(timeout: https://x.io/a.js)"),
            "Loading chunk <int> failed.\n(timeout: <url>"
        );
    }

    #[test]
    fn numbers_inside_words_and_long_runs_are_kept_or_hexed() {
        assert_eq!(parameterize("HTTP/1.1-8080 abc123"), "HTTP/<float>-<int> abc123");
        assert_eq!(parameterize("id 123456789"), "id <hex>");
        assert_eq!(parameterize("at 10:30 pm"), "at <date>");
    }
}

#[cfg(test)]
mod differential {
    use super::*;

    /// Every alternative tried at every candidate position, in order: what [`parameterize`]
    /// must produce while trying only the alternatives that match somewhere.
    fn reference(input: &str) -> String {
        static UNION: LazyLock<Regex> = LazyLock::new(|| {
            compile(&patterns().iter().map(|p| format!("(?:{})", expand(p.regex))).collect::<Vec<_>>().join("|"))
        });
        let engine = &*PARAMETERIZER;
        let (mut out, mut copied, mut pos, mut run) = (String::new(), 0, 0, (0, false));
        while let Some(candidate) = UNION.find_at(input, pos) {
            let start = candidate.start();
            let prev = input[..start].chars().next_back();
            let rest = &input[start..];
            if start >= run.0 {
                let len = rest.find(|c| !is_email_local(c)).unwrap_or(rest.len());
                run = (start + len.max(1), rest[len..].starts_with('@'));
            }
            let hit = engine
                .patterns
                .iter()
                .filter(|p| p.name != "email" || run.1)
                .find_map(|p| p.match_len(prev, rest).map(|len| (p.name, len)));
            match hit {
                Some((name, len)) => {
                    out.push_str(&input[copied..start]);
                    out.push_str(&format!("<{name}>"));
                    pos = start + len;
                    copied = pos;
                }
                None => pos = start + rest.chars().next().map_or(1, char::len_utf8),
            }
            if pos >= input.len() {
                break;
            }
        }
        out.push_str(&input[copied..]);
        out
    }

    #[test]
    fn skipping_alternatives_that_match_nowhere_changes_nothing() {
        let tokens = [
            "1",
            "123",
            "12:30",
            "10.0.0.1",
            "::1",
            "dead::beef",
            "a",
            "b",
            " ",
            "-",
            ".",
            ":",
            "=",
            "'x'",
            "true",
            "x@y.io",
            "https://a.io/x",
            "0xff",
            "deadbeef12",
            "2019-04-17",
            "Wed",
            "Apr",
            "17",
            "GMT",
            "ms",
            "s",
            "abc1234",
            "da39a3ee5e6b4b0d3255bfef95601890afd80709",
            "/",
            "@",
            "3.5",
            "é",
            "\n",
            "2019-04-17T20:29:05Z",
            "example.com",
            "fe80::1%eth0",
            "tx0123456789abcdef01234-0123456789",
            "datetime.datetime(2019, 1, 1)",
        ];
        let mut seed = 0x9e37_79b9_u64;
        // Few inputs: the reference is slow in debug builds.
        for _ in 0..250 {
            let mut input = String::new();
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            for _ in 0..1 + (seed >> 60) {
                seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                input.push_str(tokens[usize::try_from(seed >> 33).unwrap_or_default() % tokens.len()]);
            }
            assert_eq!(parameterize(&input), reference(&input), "{input:?}");
        }
    }
}

#[cfg(test)]
mod adversarial {
    use super::*;

    #[test]
    fn long_inputs_are_parameterized_in_linear_time() {
        let inputs = [
            "a".repeat(20_000),
            "1".repeat(20_000),
            "a1-".repeat(7_000),
            "x@".repeat(10_000),
            "1:2 ".repeat(5_000),
            "=".repeat(20_000),
            "a.".repeat(10_000),
        ];
        for input in inputs {
            let started = std::time::Instant::now();
            let _ = parameterize(&input);
            assert!(started.elapsed().as_millis() < 2_000, "slow on {}", &input[..8]);
        }
    }
}
