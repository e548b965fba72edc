//! Sentry's issue search syntax, parsed once for the API (`?query=`) and the UI search box.
//!
//! ```text
//! is:unresolved level:error !environment:staging browser:"Mobile Safari" timeout
//! └─ status ──┘ └─ column ┘ └─ negated tag ───┘ └─ quoted tag value ─┘ └ free text
//! ```
//!
//! A query is a list of terms; each is `key:value`, `!key:value` or free text. Values may be quoted.
//! [`parse`] turns the text into [`IssueFilter`]s the store understands; unknown `is:` values and
//! malformed terms are errors with a message meant for the person who typed them.
//!
//! | term | meaning |
//! |---|---|
//! | `is:unresolved` `is:resolved` `is:ignored` (`archived`) | status |
//! | `is:regressed` `is:new` `is:ongoing` `is:escalating` | substatus |
//! | `is:bookmarked` `is:assigned` `is:unassigned` | the viewer's bookmarks, assignment |
//! | `assigned:me` `assigned:<email>` `assigned:none` | assignee |
//! | `level:` `firstRelease:` `user.email:` | columns and rollups |
//! | `release:` `environment:` any `key:value`, `tags[key]:value` | some event carried the tag |
//! | `has:key` | some event carried the tag key |
//! | `timesSeen:>10` (`>`, `>=`, `<`, `<=`, none = equal) | event count |
//! | `age:-24h` (first seen within 24 h), `age:+7d` (older), `lastSeen:-1h`, `firstSeen:>2026-01-31` | times |
//! | `!term` | negation |
//! | anything else | free text over title, culprit and message |

use crate::store::{AssigneeFilter, Cmp, IssueFilter, Millis};

/// Why a query could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SearchError(String);

/// One term of a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Term {
    /// `key:value`, maybe negated.
    Pair {
        /// The key, as typed.
        key: String,
        /// The value, unquoted.
        value: String,
        /// Written with a leading `!`.
        negated: bool,
    },
    /// Anything else.
    Text(String),
}

/// Split a query into terms, honouring double quotes.
pub fn terms(query: &str) -> Result<Vec<Term>, SearchError> {
    let mut terms = Vec::new();
    let mut chars = query.trim().chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let mut word = String::new();
        let mut quoted_value = false;
        while let Some(&c) = chars.peek() {
            if c.is_whitespace() {
                break;
            }
            chars.next();
            if c == '"' {
                quoted_value = true;
                let mut closed = false;
                for q in chars.by_ref() {
                    if q == '"' {
                        closed = true;
                        break;
                    }
                    word.push(q);
                }
                if !closed {
                    return Err(SearchError("unterminated quote in search".to_owned()));
                }
            } else {
                word.push(c);
            }
        }
        let negated = word.starts_with('!');
        let body = word.trim_start_matches('!');
        match body.split_once(':') {
            Some((key, value)) if !key.is_empty() && !key.contains(' ') && (!value.is_empty() || quoted_value) => {
                terms.push(Term::Pair { key: key.to_owned(), value: value.to_owned(), negated });
            }
            _ => terms.push(Term::Text(word)),
        }
    }
    Ok(terms)
}

/// Parse a query into store filters, with relative times counted from now.
pub fn parse(query: &str) -> Result<Vec<IssueFilter>, SearchError> {
    parse_at(query, Millis::now())
}

/// Parse a query into store filters, with relative times (`age:-24h`) counted from `now`.
pub fn parse_at(query: &str, now: Millis) -> Result<Vec<IssueFilter>, SearchError> {
    let mut filters = Vec::new();
    let mut text = Vec::new();
    for term in terms(query)? {
        match term {
            Term::Text(word) => text.push(word),
            Term::Pair { key, value, negated } => filters.push(pair_filter(&key, value, negated, now)?),
        }
    }
    if !text.is_empty() {
        filters.push(IssueFilter::Text(text.join(" ")));
    }
    Ok(filters)
}

fn pair_filter(key: &str, value: String, negated: bool, now: Millis) -> Result<IssueFilter, SearchError> {
    let filter = match key {
        "is" => match value.as_str() {
            "unresolved" | "resolved" | "ignored" => IssueFilter::Status(value),
            "archived" => IssueFilter::Status("ignored".to_owned()),
            "regressed" | "new" | "ongoing" | "escalating" => IssueFilter::Substatus(value),
            "bookmarked" => IssueFilter::Bookmarked,
            "assigned" => IssueFilter::Assigned(AssigneeFilter::Anyone),
            "unassigned" => IssueFilter::Assigned(AssigneeFilter::Nobody),
            other => {
                return Err(SearchError(format!(
                    "unsupported is: value {other:?} (use unresolved, resolved, ignored, regressed, new, ongoing, \
                     escalating, bookmarked, assigned or unassigned)"
                )));
            }
        },
        "assigned" | "assigned_to" | "assignedTo" => IssueFilter::Assigned(match value.as_str() {
            "me" => AssigneeFilter::Me,
            "none" | "nobody" => AssigneeFilter::Nobody,
            email if email.contains('@') => AssigneeFilter::Email(email.to_lowercase()),
            other => {
                return Err(SearchError(format!("unsupported assigned: value {other:?} (use me, none or an e-mail)")));
            }
        }),
        "bookmarks" if value == "me" => IssueFilter::Bookmarked,
        "level" => IssueFilter::Level(value),
        "firstRelease" | "first_release" | "first-release" => IssueFilter::FirstRelease(value),
        "user.email" => IssueFilter::UserEmail(value),
        "has" => IssueFilter::Has(value),
        "timesSeen" | "times_seen" => {
            let (cmp, number) = comparison(&value);
            let n = number
                .parse::<i64>()
                .map_err(|_| SearchError(format!("timesSeen needs a number, like timesSeen:>10 (got {value:?})")))?;
            IssueFilter::TimesSeen(cmp, n)
        }
        "age" | "firstSeen" | "first_seen" => {
            let (cmp, at) = time_bound(key, &value, now)?;
            IssueFilter::FirstSeen(cmp, at)
        }
        "lastSeen" | "last_seen" => {
            let (cmp, at) = time_bound(key, &value, now)?;
            IssueFilter::LastSeen(cmp, at)
        }
        "release" => IssueFilter::Tag { key: "release".to_owned(), value },
        "environment" => IssueFilter::Tag { key: "environment".to_owned(), value },
        _ => IssueFilter::Tag { key: key.trim_start_matches("tags[").trim_end_matches(']').to_owned(), value },
    };
    Ok(if negated { IssueFilter::Not(Box::new(filter)) } else { filter })
}

/// A leading `>`, `>=`, `<`, `<=` or `=`, and the rest.
fn comparison(value: &str) -> (Cmp, &str) {
    for (prefix, cmp) in [(">=", Cmp::Ge), ("<=", Cmp::Le), (">", Cmp::Gt), ("<", Cmp::Lt), ("=", Cmp::Eq)] {
        if let Some(rest) = value.strip_prefix(prefix) {
            return (cmp, rest);
        }
    }
    (Cmp::Eq, value)
}

/// `-24h` (within the last 24 hours), `+7d` (longer ago than 7 days), or `>2026-01-31` / `<…` (an
/// absolute date or RFC 3339 time).
fn time_bound(key: &str, value: &str, now: Millis) -> Result<(Cmp, Millis), SearchError> {
    let bad = || {
        SearchError(format!(
            "{key} needs a relative time like -24h or +7d (units m, h, d, w) or a date like >2026-01-31 (got {value:?})"
        ))
    };
    if let Some(sign) = value.chars().next().filter(|c| *c == '-' || *c == '+') {
        let body = &value[1..];
        let unit = body.chars().last().ok_or_else(bad)?;
        let n: i64 = body[..body.len() - unit.len_utf8()].parse().map_err(|_| bad())?;
        let secs = match unit {
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 604_800,
            _ => return Err(bad()),
        };
        let at = now.plus_secs(-n.saturating_mul(secs));
        return Ok((if sign == '-' { Cmp::Ge } else { Cmp::Lt }, at));
    }
    let (cmp, rest) = comparison(value);
    let at = time::OffsetDateTime::parse(rest, &time::format_description::well_known::Rfc3339)
        .map(Millis::from)
        .or_else(|_| {
            time::Date::parse(rest, time::macros::format_description!("[year]-[month]-[day]"))
                .map(|d| Millis::from(d.midnight().assume_utc()))
        })
        .map_err(|_| bad())?;
    Ok((cmp, at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_split_into_pairs_negations_quotes_and_text() {
        let parsed = terms(r#"is:unresolved !environment:staging browser:"Mobile Safari" time out"#).expect("parses");
        assert_eq!(
            parsed,
            vec![
                Term::Pair { key: "is".into(), value: "unresolved".into(), negated: false },
                Term::Pair { key: "environment".into(), value: "staging".into(), negated: true },
                Term::Pair { key: "browser".into(), value: "Mobile Safari".into(), negated: false },
                Term::Text("time".into()),
                Term::Text("out".into()),
            ]
        );
    }

    #[test]
    fn filters_map_to_store_filters() {
        let filters = parse("is:unresolved level:error !release:1.0 url:http://x/y oops").expect("parses");
        assert_eq!(
            filters,
            vec![
                IssueFilter::Status("unresolved".into()),
                IssueFilter::Level("error".into()),
                IssueFilter::Not(Box::new(IssueFilter::Tag { key: "release".into(), value: "1.0".into() })),
                IssueFilter::Tag { key: "url".into(), value: "http://x/y".into() },
                IssueFilter::Text("oops".into()),
            ]
        );
    }

    #[test]
    fn bad_queries_say_what_is_wrong() {
        assert_eq!(
            parse("is:sleeping").expect_err("unknown").to_string(),
            "unsupported is: value \"sleeping\" (use unresolved, resolved, ignored, regressed, new, ongoing, escalating, \
             bookmarked, assigned or unassigned)"
        );
        assert!(parse("browser:\"open").is_err());
        assert_eq!(parse("").expect("empty"), vec![]);
        assert!(parse("timesSeen:>many").is_err());
        assert!(parse("age:-24parsecs").is_err());
        assert!(parse("assigned:#team").is_err());
    }

    #[test]
    fn workflow_counts_and_times_parse() {
        let now = Millis(10_000_000_000);
        let filters = parse_at(
            "is:bookmarked assigned:me assigned:Dev@Example.com is:unassigned timesSeen:>=5 age:-24h lastSeen:+1h",
            now,
        )
        .expect("parses");
        assert_eq!(
            filters,
            vec![
                IssueFilter::Bookmarked,
                IssueFilter::Assigned(AssigneeFilter::Me),
                IssueFilter::Assigned(AssigneeFilter::Email("dev@example.com".into())),
                IssueFilter::Assigned(AssigneeFilter::Nobody),
                IssueFilter::TimesSeen(Cmp::Ge, 5),
                IssueFilter::FirstSeen(Cmp::Ge, now.plus_secs(-86_400)),
                IssueFilter::LastSeen(Cmp::Lt, now.plus_secs(-3600)),
            ]
        );
        let filters = parse_at("firstRelease:1.2 user.email:a@b.c has:url !has:browser firstSeen:>2026-01-31", now)
            .expect("parses");
        assert_eq!(filters[0], IssueFilter::FirstRelease("1.2".into()));
        assert_eq!(filters[1], IssueFilter::UserEmail("a@b.c".into()));
        assert_eq!(filters[2], IssueFilter::Has("url".into()));
        assert_eq!(filters[3], IssueFilter::Not(Box::new(IssueFilter::Has("browser".into()))));
        assert!(matches!(filters[4], IssueFilter::FirstSeen(Cmp::Gt, _)));
    }
}
