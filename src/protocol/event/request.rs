//! The HTTP request interface, shaped the way Relay stores it:
//!
//! ```json
//! {"url": "https://ex.com/p?q=1#top", "method": "post", "headers": {"content-type": "text/html", "Cookie": "a=b"}}
//! → {"url": "https://ex.com/p", "method": "POST", "query_string": [["q", "1"]], "fragment": "top",
//!    "headers": [["Content-Type", "text/html"]], "cookies": [["a", "b"]], "inferred_content_type": "text/html"}
//! ```

use serde_json::{Map, Value};

use crate::protocol::auth::form_decode;

pub(crate) fn normalize(event: &mut Map<String, Value>) {
    let Some(request) = event.get_mut("request") else {
        return;
    };
    let Value::Object(request) = request else {
        event.remove("request");
        return;
    };
    if let Some(Value::String(method)) = request.get_mut("method") {
        method.make_ascii_uppercase();
    }
    split_url(request);
    if let Some(query) = request.remove("query_string")
        && let Some(pairs) = query_pairs(query)
    {
        request.insert("query_string".into(), pairs);
    }
    let mut headers = request.remove("headers").map(pairs_of).unwrap_or_default();
    for (name, _) in headers.iter_mut() {
        *name = title_case(name);
    }
    let cookie_header = headers.iter().position(|(name, _)| name == "Cookie");
    if let Some(index) = cookie_header {
        let (_, cookie) = headers.remove(index);
        if !request.contains_key("cookies") {
            request.insert("cookies".into(), cookie);
        }
    }
    if let Some((_, Value::String(ct))) = headers.iter().find(|(name, _)| name == "Content-Type")
        && !request.contains_key("inferred_content_type")
    {
        request.insert("inferred_content_type".into(), ct.clone().into());
    }
    if !headers.is_empty() {
        request.insert("headers".into(), to_pairs(headers));
    }
    if let Some(cookies) = request.remove("cookies") {
        let cookies = match cookies {
            Value::String(text) => text
                .split(';')
                .filter_map(|c| c.split_once('='))
                .map(|(k, v)| (k.trim().to_owned(), Value::String(v.trim().to_owned())))
                .collect(),
            other => pairs_of(other),
        };
        if !cookies.is_empty() {
            request.insert("cookies".into(), to_pairs(cookies));
        }
    }
}

/// Moves `?query` into `query_string` (unless one is set) and `#fragment` into `fragment`.
fn split_url(request: &mut Map<String, Value>) {
    let Some(Value::String(url)) = request.get_mut("url") else {
        return;
    };
    let mut url_text = std::mem::take(url);
    let mut moved = Vec::new();
    if let Some(hash) = url_text.find('#') {
        moved.push(("fragment", url_text[hash + 1..].to_owned()));
        url_text.truncate(hash);
    }
    if let Some(question) = url_text.find('?') {
        moved.push(("query_string", url_text[question + 1..].to_owned()));
        url_text.truncate(question);
    }
    *url = url_text;
    for (key, value) in moved {
        if !value.is_empty() && !request.contains_key(key) {
            request.insert(key.into(), value.into());
        }
    }
}

fn query_pairs(query: Value) -> Option<Value> {
    let pairs = match query {
        Value::String(text) => text
            .trim_start_matches('?')
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (form_decode(k), Value::String(form_decode(v)))
            })
            .collect(),
        other => pairs_of(other),
    };
    (!pairs.is_empty()).then(|| to_pairs(pairs))
}

/// An object or a list of `[name, value]` pairs, as pairs; values must be strings.
fn pairs_of(value: Value) -> Vec<(String, Value)> {
    let raw: Vec<(String, Value)> = match value {
        Value::Object(object) => object.into_iter().collect(),
        Value::Array(list) => list
            .into_iter()
            .filter_map(|entry| match entry {
                Value::Array(mut pair) if pair.len() == 2 => {
                    let value = pair.pop()?;
                    pair.pop()?.as_str().map(|k| (k.to_owned(), value))
                }
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    raw.into_iter()
        .filter_map(|(k, v)| match v {
            Value::String(_) => Some((k, v)),
            Value::Number(n) => Some((k, Value::String(n.to_string()))),
            Value::Bool(b) => Some((k, Value::String(b.to_string()))),
            _ => None,
        })
        .collect()
}

fn to_pairs(pairs: Vec<(String, Value)>) -> Value {
    Value::Array(pairs.into_iter().map(|(k, v)| Value::Array(vec![Value::String(k), v])).collect())
}

/// `content-type` → `Content-Type`.
fn title_case(name: &str) -> String {
    name.split('-')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_uppercase().chain(chars.flat_map(char::to_lowercase)).collect()
            })
        })
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn url_query_fragment_headers_and_cookies_are_split_out() {
        let Value::Object(mut event) = json!({"request": {
            "url": "https://ex.com/p?q=1#top", "method": "post",
            "headers": {"content-type": "text/html", "Cookie": "a=b; c=d"}
        }}) else {
            unreachable!()
        };
        normalize(&mut event);
        assert_eq!(
            event["request"],
            json!({
                "url": "https://ex.com/p", "method": "POST", "query_string": [["q", "1"]],
                "fragment": "top", "headers": [["Content-Type", "text/html"]],
                "cookies": [["a", "b"], ["c", "d"]], "inferred_content_type": "text/html"
            })
        );
    }

    #[test]
    fn an_explicit_query_string_wins_over_the_url_query() {
        let Value::Object(mut event) = json!({"request": {"url": "http://x/?a=1", "query_string": "b=2"}}) else {
            unreachable!()
        };
        normalize(&mut event);
        assert_eq!(event["request"]["query_string"], json!([["b", "2"]]));
        assert_eq!(event["request"]["url"], json!("http://x/"));
    }
}
