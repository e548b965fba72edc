//! Structural normalization: legacy aliases, `Values` lists, stack frames and tags.

use serde_json::{Map, Value};

use super::Errors;
use super::fields::lenient_string;
use crate::protocol::timestamp;

/// Keys only the server writes; values sent by clients are discarded.
const SERVER_FIELDS: &[&str] =
    &["_meta", "errors", "received", "project", "key_id", "grouping_config", "ingest_path", "version"];

/// Legacy interface names and the key they stand for (canonical key wins when both are set).
const ALIASES: &[(&str, &str)] = &[
    ("sentry.interfaces.Exception", "exception"),
    ("sentry.interfaces.Stacktrace", "stacktrace"),
    ("sentry.interfaces.User", "user"),
    ("sentry.interfaces.Http", "request"),
    ("sentry.interfaces.Contexts", "contexts"),
    ("sentry.interfaces.Breadcrumbs", "breadcrumbs"),
    ("sentry.interfaces.Message", "logentry"),
    ("message", "logentry"),
    ("sentry.interfaces.Template", "template"),
    ("sentry.interfaces.DebugMeta", "debug_meta"),
    ("sentry.interfaces.Csp", "csp"),
    ("sentry.interfaces.Hpkp", "hpkp"),
    ("sentry.interfaces.ExpectCT", "expectct"),
    ("sentry.interfaces.ExpectStaple", "expectstaple"),
];

/// Tag keys Sentry reserves for its own derived tags.
const RESERVED_TAGS: &[&str] = &["release", "dist", "user", "filename", "function"];

/// Most breadcrumbs kept (the newest), matching the SDKs' default `max_breadcrumbs`.
pub(crate) const MAX_BREADCRUMBS: usize = 100;

pub(crate) fn strip_server_fields(event: &mut Map<String, Value>) {
    for key in SERVER_FIELDS {
        event.remove(*key);
    }
}

pub(crate) fn resolve_aliases(event: &mut Map<String, Value>) {
    for (alias, canonical) in ALIASES {
        if let Some(value) = event.remove(*alias)
            && event.get(*canonical).is_none_or(|v| v.is_null())
        {
            event.insert((*canonical).to_owned(), value);
        }
    }
}

/// Coerces `exception`, `threads` and `breadcrumbs` into `{"values": [...]}`, hoists a lone
/// top-level stacktrace into the single exception, and normalizes every stack trace.
pub(crate) fn normalize_values(event: &mut Map<String, Value>, errors: &mut Errors) {
    for key in ["exception", "threads", "breadcrumbs"] {
        coerce_values(event, key, errors);
    }
    if let Some(values) = values_mut(event, "exception") {
        let before = values.len();
        values.retain(|exc| {
            exc.get("type").is_some_and(|t| !t.is_null()) || exc.get("value").is_some_and(|v| !v.is_null())
        });
        if values.len() != before {
            errors.push("missing_attribute", "exception.values", Some("type or value"), None);
        }
        for exc in values.iter_mut().filter_map(Value::as_object_mut) {
            for key in ["type", "value", "module"] {
                lenient_string(exc, key);
            }
        }
        if values.is_empty() {
            event.remove("exception");
        }
    }
    hoist_stacktrace(event);
    if let Some(crumbs) = values_mut(event, "breadcrumbs") {
        if crumbs.len() > MAX_BREADCRUMBS {
            crumbs.drain(..crumbs.len() - MAX_BREADCRUMBS);
        }
        for crumb in crumbs.iter_mut().filter_map(Value::as_object_mut) {
            normalize_breadcrumb(crumb, errors);
        }
    }
    for_each_stacktrace(event, normalize_stacktrace);
}

fn coerce_values(event: &mut Map<String, Value>, key: &str, errors: &mut Errors) {
    let Some(value) = event.remove(key) else {
        return;
    };
    let list = match value {
        Value::Null => return,
        Value::Array(list) => list,
        Value::Object(mut object) => match object.remove("values") {
            Some(Value::Array(list)) => {
                let mut list_object = object;
                list_object.insert("values".into(), Value::Array(filter_objects(list)));
                event.insert(key.to_owned(), Value::Object(list_object));
                return;
            }
            Some(Value::Null) | None if object.is_empty() => return,
            None => vec![Value::Object(object)],
            Some(other) => {
                errors.invalid(key, "expected a list or values object", other);
                return;
            }
        },
        other => {
            errors.invalid(key, "expected a list or values object", other);
            return;
        }
    };
    let mut object = Map::new();
    object.insert("values".into(), Value::Array(filter_objects(list)));
    event.insert(key.to_owned(), Value::Object(object));
}

fn filter_objects(mut list: Vec<Value>) -> Vec<Value> {
    list.retain(Value::is_object);
    list
}

/// The `values` array of a coerced list, if present.
pub(crate) fn values_mut<'a>(event: &'a mut Map<String, Value>, key: &str) -> Option<&'a mut Vec<Value>> {
    event.get_mut(key)?.get_mut("values")?.as_array_mut()
}

fn hoist_stacktrace(event: &mut Map<String, Value>) {
    let single_bare =
        values_mut(event, "exception").is_some_and(|values| values.len() == 1 && values[0].get("stacktrace").is_none());
    if !single_bare {
        return;
    }
    let Some(stacktrace) = event.remove("stacktrace") else {
        return;
    };
    if let Some(exc) = values_mut(event, "exception").and_then(|v| v[0].as_object_mut()) {
        exc.insert("stacktrace".into(), stacktrace);
    }
}

/// Calls `f` on every stack trace object in the event: top-level, exceptions, threads.
pub(crate) fn for_each_stacktrace(event: &mut Map<String, Value>, mut f: impl FnMut(&mut Map<String, Value>)) {
    if let Some(Value::Object(st)) = event.get_mut("stacktrace") {
        f(st);
    }
    for key in ["exception", "threads"] {
        let Some(values) = values_mut(event, key) else {
            continue;
        };
        for entry in values.iter_mut() {
            for st_key in ["stacktrace", "raw_stacktrace"] {
                if let Some(Value::Object(st)) = entry.get_mut(st_key) {
                    f(st);
                }
            }
        }
    }
}

fn normalize_stacktrace(stacktrace: &mut Map<String, Value>) {
    let Some(Value::Array(frames)) = stacktrace.get_mut("frames") else {
        stacktrace.remove("frames");
        return;
    };
    frames.retain(Value::is_object);
    for frame in frames.iter_mut().filter_map(Value::as_object_mut) {
        normalize_frame(frame);
    }
}

/// Fills `abs_path` from `filename` and `filename` from `abs_path` (URL path only for URLs).
fn normalize_frame(frame: &mut Map<String, Value>) {
    let filename = frame.get("filename").and_then(Value::as_str).filter(|s| !s.is_empty());
    let abs_path = frame.get("abs_path").and_then(Value::as_str).filter(|s| !s.is_empty());
    match (filename, abs_path) {
        (Some(filename), None) => {
            let filename = filename.to_owned();
            frame.insert("abs_path".into(), filename.into());
        }
        (None, Some(abs_path)) => {
            let filename = url_path(abs_path).unwrap_or(abs_path).to_owned();
            frame.insert("filename".into(), filename.into());
        }
        _ => {}
    }
}

/// The path of an absolute URL (`http://foo.com/foo.js?x` → `/foo.js`).
fn url_path(url: &str) -> Option<&str> {
    let (scheme, rest) = url.split_once("://")?;
    if scheme.is_empty() || !scheme.bytes().all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b)) {
        return None;
    }
    let path = &rest[rest.find('/')?..];
    Some(path.split(['?', '#']).next().unwrap_or(path))
}

/// Values are replaced in place: a payload carries up to 100 breadcrumbs, and a key removed and
/// inserted again costs a map removal and a new key string each time.
fn normalize_breadcrumb(crumb: &mut Map<String, Value>, errors: &mut Errors) {
    if let Some(value) = crumb.get_mut("timestamp") {
        match timestamp::parse_value(value) {
            Some(ts) => *value = timestamp::to_value(ts),
            None => {
                if let Some(bad) = crumb.remove("timestamp").filter(|v| !v.is_null()) {
                    errors.invalid("breadcrumbs.timestamp", "invalid timestamp", bad);
                }
            }
        }
    }
    let level = crumb.get("level").map_or(Some("info"), super::fields::parse_level).unwrap_or("info");
    match crumb.get_mut("level") {
        Some(Value::String(name)) if name == level => {}
        Some(value) => *value = level.into(),
        None => {
            crumb.insert("level".into(), level.into());
        }
    }
    if !crumb.get("type").is_some_and(Value::is_string) {
        crumb.insert("type".into(), "default".into());
    }
    lenient_string(crumb, "message");
    lenient_string(crumb, "category");
}

/// Tags become a list of `[key, value]` string pairs: objects and pair lists are accepted,
/// values are stringified leniently, invalid pairs, reserved keys and duplicates are removed,
/// `server_name`/`site` move into tags and `tags.environment` moves to `environment`.
pub(crate) fn normalize_tags(event: &mut Map<String, Value>, errors: &mut Errors) {
    let raw: Vec<(String, Value)> = match event.remove("tags") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Object(object)) => object.into_iter().collect(),
        Some(Value::Array(list)) => list.into_iter().filter_map(pair).collect(),
        Some(other) => {
            errors.invalid("tags", "expected an object or a list of pairs", other);
            Vec::new()
        }
    };
    let mut tags: Vec<(String, String)> = Vec::with_capacity(raw.len() + 2);
    for (key, value) in raw {
        let Some(value) = tag_value(value) else {
            continue;
        };
        let key = key.trim();
        if key.is_empty() || value.is_empty() || RESERVED_TAGS.contains(&key) {
            continue;
        }
        if key.contains(['\n', '\r']) || value.contains(['\n', '\r']) {
            errors.invalid("tags", "invalid character", Value::String(value));
            continue;
        }
        if key == "environment" {
            if event.get("environment").is_none_or(Value::is_null) {
                event.insert("environment".into(), value.into());
            }
            continue;
        }
        if !tags.iter().any(|(k, _)| k == key) {
            tags.push((key.to_owned(), value));
        }
    }
    for key in ["server_name", "site"] {
        if let Some(Value::String(value)) = event.remove(key).as_mut().map(std::mem::take) {
            if value.is_empty() {
                continue;
            }
            match tags.iter_mut().find(|(k, _)| k == key) {
                Some(entry) => entry.1 = value,
                None => tags.push((key.to_owned(), value)),
            }
        }
    }
    if !tags.is_empty() {
        let pairs = tags.into_iter().map(|(k, v)| Value::Array(vec![k.into(), v.into()])).collect();
        event.insert("tags".into(), Value::Array(pairs));
    }
}

fn pair(entry: Value) -> Option<(String, Value)> {
    let Value::Array(mut pair) = entry else {
        return None;
    };
    if pair.len() != 2 {
        return None;
    }
    let value = pair.pop()?;
    match pair.pop()? {
        Value::String(key) => Some((key, value)),
        _ => None,
    }
}

/// Tag values as Sentry stringifies them (`true` → `True`); objects and arrays are invalid.
fn tag_value(value: Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(true) => Some("True".into()),
        Value::Bool(false) => Some("False".into()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn tags_of(input: Value) -> Value {
        let Value::Object(mut event) = input else { unreachable!("test input is an object") };
        normalize_tags(&mut event, &mut Errors::default());
        Value::Object(event)
    }

    #[test]
    fn tags_as_object_and_as_pairs_become_the_same_pairs() {
        let from_object = tags_of(json!({"tags": {"a": "1", "b": 2, "c": true}}));
        let from_pairs = tags_of(json!({"tags": [["a", "1"], ["b", 2], ["c", true], ["bad"], 7]}));
        assert_eq!(from_object, from_pairs);
        assert_eq!(from_object["tags"], json!([["a", "1"], ["b", "2"], ["c", "True"]]));
    }

    #[test]
    fn reserved_duplicate_and_empty_tags_are_removed_and_server_name_moves_in() {
        let event = tags_of(json!({
            "server_name": "web-1",
            "tags": [["release", "x"], ["a", "1"], ["a", "2"], ["e", ""], ["server_name", "old"],
                     ["environment", "prod"]]
        }));
        assert_eq!(event["tags"], json!([["a", "1"], ["server_name", "web-1"]]));
        assert_eq!(event["environment"], json!("prod"));
        assert!(event.get("server_name").is_none());
    }

    #[test]
    fn url_paths_are_taken_from_absolute_urls_only() {
        assert_eq!(url_path("http://foo.com/static/app.js?v=1"), Some("/static/app.js"));
        assert_eq!(url_path("app:///main.js"), Some("/main.js"));
        assert_eq!(url_path("/usr/lib/python3/x.py"), None);
    }
}
