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

use crate::store::IssueFilter;

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

/// Parse a query into store filters.
pub fn parse(query: &str) -> Result<Vec<IssueFilter>, SearchError> {
    let mut filters = Vec::new();
    let mut text = Vec::new();
    for term in terms(query)? {
        match term {
            Term::Text(word) => text.push(word),
            Term::Pair { key, value, negated } => filters.push(pair_filter(&key, value, negated)?),
        }
    }
    if !text.is_empty() {
        filters.push(IssueFilter::Text(text.join(" ")));
    }
    Ok(filters)
}

fn pair_filter(key: &str, value: String, negated: bool) -> Result<IssueFilter, SearchError> {
    let filter = match key {
        "is" => match value.as_str() {
            "unresolved" | "resolved" | "ignored" => IssueFilter::Status(value),
            "archived" => IssueFilter::Status("ignored".to_owned()),
            "regressed" | "new" | "ongoing" => IssueFilter::Substatus(value),
            other => {
                return Err(SearchError(format!(
                    "unsupported is: value {other:?} (use unresolved, resolved, ignored, regressed, new or ongoing)"
                )));
            }
        },
        "level" => IssueFilter::Level(value),
        "release" => IssueFilter::Tag { key: "release".to_owned(), value },
        "environment" => IssueFilter::Tag { key: "environment".to_owned(), value },
        _ => IssueFilter::Tag { key: key.trim_start_matches("tags[").trim_end_matches(']').to_owned(), value },
    };
    Ok(if negated { IssueFilter::Not(Box::new(filter)) } else { filter })
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
            "unsupported is: value \"sleeping\" (use unresolved, resolved, ignored, regressed, new or ongoing)"
        );
        assert!(parse("browser:\"open").is_err());
        assert_eq!(parse("").expect("empty"), vec![]);
    }
}
