//! Relay's trimming (`trimming.rs`, `processor/attrs.rs`): bounded strings, databags and frames.
//!
//! - Strings over their field limit (plus a small allowance) are cut to the limit, ending
//!   in `...`: `"This is my long string I want to have trimmed!"` at 20 → `"This is my long s..."`.
//! - Databags (`extra`, each context, `request.data`, breadcrumb `data`, frame `vars`,
//!   `user.data`) are limited in depth and estimated JSON size. At the last allowed level a
//!   nested object or array is replaced by its JSON text; once the size budget is spent,
//!   the remaining entries are dropped.
//! - A stack trace keeps its newest 250 frames; beyond 50 frames, `vars` and context lines
//!   are removed from the middle frames, keeping in-app frames longest.

use serde_json::{Map, Value};

use super::shape::{for_each_stacktrace, values_mut};

/// A field's character limit and the overshoot tolerated before cutting.
#[derive(Clone, Copy)]
struct MaxChars {
    limit: usize,
    allowance: usize,
}

const CULPRIT: MaxChars = MaxChars { limit: 200, allowance: 0 };
const MESSAGE: MaxChars = MaxChars { limit: 8192, allowance: 200 };
const SYMBOL: MaxChars = MaxChars { limit: 256, allowance: 20 };
const PATH: MaxChars = MaxChars { limit: 256, allowance: 40 };
const SUMMARY: MaxChars = MaxChars { limit: 1024, allowance: 100 };
const ENUM_LIKE: MaxChars = MaxChars { limit: 128, allowance: 0 };

/// A databag's depth and estimated size limits.
#[derive(Clone, Copy)]
struct BagSize {
    depth: usize,
    bytes: usize,
}

const MEDIUM_BAG: BagSize = BagSize { depth: 5, bytes: 2048 };
const LARGE_BAG: BagSize = BagSize { depth: 7, bytes: 8192 };

/// Frames kept per stack trace (the newest).
pub(crate) const MAX_FRAMES: usize = 250;
/// Frames that keep their variables and context lines.
const FRAME_ALLOWANCE: usize = 50;

pub(crate) fn trim_event(event: &mut Map<String, Value>) {
    trim_field(event, "culprit", CULPRIT);
    trim_field(event, "transaction", CULPRIT);
    if let Some(Value::Object(logentry)) = event.get_mut("logentry") {
        trim_field(logentry, "formatted", MESSAGE);
        trim_field(logentry, "message", MESSAGE);
    }
    if let Some(values) = values_mut(event, "exception") {
        for exc in values.iter_mut().filter_map(Value::as_object_mut) {
            trim_field(exc, "type", SYMBOL);
            trim_field(exc, "value", MESSAGE);
            trim_field(exc, "module", SYMBOL);
        }
    }
    if let Some(crumbs) = values_mut(event, "breadcrumbs") {
        for crumb in crumbs.iter_mut().filter_map(Value::as_object_mut) {
            trim_field(crumb, "message", MESSAGE);
            trim_field(crumb, "category", ENUM_LIKE);
            trim_bag_field(crumb, "data", MEDIUM_BAG);
        }
    }
    for_each_stacktrace(event, trim_stacktrace);
    trim_bag_field(event, "extra", LARGE_BAG);
    if let Some(Value::Object(contexts)) = event.get_mut("contexts") {
        for context in contexts.values_mut() {
            trim_bag(context, LARGE_BAG);
        }
    }
    if let Some(Value::Object(request)) = event.get_mut("request") {
        trim_field(request, "url", PATH);
        trim_bag_field(request, "data", LARGE_BAG);
    }
    if let Some(Value::Object(user)) = event.get_mut("user") {
        trim_bag_field(user, "data", MEDIUM_BAG);
    }
}

fn trim_stacktrace(stacktrace: &mut Map<String, Value>) {
    let Some(Value::Array(frames)) = stacktrace.get_mut("frames") else {
        return;
    };
    if frames.len() > MAX_FRAMES {
        frames.drain(..frames.len() - MAX_FRAMES);
    }
    for frame in frames.iter_mut().filter_map(Value::as_object_mut) {
        trim_field(frame, "function", SYMBOL);
        trim_field(frame, "raw_function", SYMBOL);
        trim_field(frame, "module", SYMBOL);
        trim_field(frame, "filename", PATH);
        trim_field(frame, "abs_path", PATH);
        trim_field(frame, "package", PATH);
        trim_field(frame, "context_line", SUMMARY);
        trim_bag_field(frame, "vars", MEDIUM_BAG);
    }
    slim_frame_data(frames, FRAME_ALLOWANCE);
}

/// Sentry's `slim_frame_data`: strip variables and context from middle frames beyond the
/// allowance, system frames first.
fn slim_frame_data(frames: &mut [Value], allowance: usize) {
    if frames.len() <= allowance {
        return;
    }
    let in_app = |f: &Value| f.get("in_app").and_then(Value::as_bool) == Some(true);
    let app: Vec<usize> = (0..frames.len()).filter(|&i| in_app(&frames[i])).collect();
    let system: Vec<usize> = (0..frames.len()).filter(|&i| !in_app(&frames[i])).collect();
    let system_half = allowance.saturating_sub(app.len()) / 2;
    let system_strip = system.get(system_half..system.len().saturating_sub(system_half)).unwrap_or(&[]);
    let remaining = frames.len().saturating_sub(allowance).saturating_sub(system_strip.len());
    let app_half = app.len().saturating_sub(remaining) / 2;
    let app_strip = app.get(app_half..app.len().saturating_sub(app_half)).unwrap_or(&[]);
    for &i in system_strip.iter().chain(app_strip) {
        if let Some(frame) = frames[i].as_object_mut() {
            for key in ["vars", "pre_context", "post_context"] {
                frame.remove(key);
            }
        }
    }
}

fn trim_field(object: &mut Map<String, Value>, key: &str, max: MaxChars) {
    // A string has at most as many characters as bytes: most are short enough not to be counted.
    if let Some(Value::String(text)) = object.get_mut(key)
        && text.len() > max.limit + max.allowance
        && text.chars().count() > max.limit + max.allowance
    {
        trim_string(text, max.limit);
    }
}

/// Cuts `text` to `max_chars` characters, the last three being `...`.
pub(crate) fn trim_string(text: &mut String, max_chars: usize) {
    if text.len() <= max_chars || text.chars().count() <= max_chars {
        return;
    }
    let keep = max_chars.saturating_sub(3);
    let cut = text.char_indices().nth(keep).map_or(text.len(), |(i, _)| i);
    text.truncate(cut);
    text.push_str("...");
}

fn trim_bag_field(object: &mut Map<String, Value>, key: &str, bag: BagSize) {
    if let Some(value) = object.get_mut(key) {
        trim_bag(value, bag);
    }
}

fn trim_bag(value: &mut Value, bag: BagSize) {
    let mut budget = bag.bytes;
    trim_bag_value(value, bag.depth, &mut budget);
}

/// Trims one value with `levels` levels of depth left; returns false if it must be removed.
fn trim_bag_value(value: &mut Value, levels: usize, budget: &mut usize) -> bool {
    if *budget == 0 || levels == 0 {
        return false;
    }
    if levels == 1 && (value.is_array() || value.is_object()) {
        *value = Value::String(value.to_string());
    }
    match value {
        Value::String(text) => trim_string(text, *budget),
        Value::Array(items) => {
            let mut keep = items.len();
            for (index, item) in items.iter_mut().enumerate() {
                if !trim_bag_value(item, levels - 1, budget) {
                    keep = index;
                    break;
                }
            }
            items.truncate(keep);
        }
        Value::Object(entries) => {
            let mut cut_from = None;
            for (key, item) in entries.iter_mut() {
                if !trim_bag_value(item, levels - 1, budget) {
                    cut_from = Some(key.clone());
                    break;
                }
            }
            if let Some(first) = cut_from {
                let doomed: Vec<String> = entries.keys().skip_while(|k| **k != first).cloned().collect();
                for key in doomed {
                    entries.remove(&key);
                }
            }
        }
        _ => {}
    }
    *budget = budget.saturating_sub(flat_size(value) + 1);
    true
}

/// Relay's `estimate_size_flat`: the JSON size of a value without its children.
fn flat_size(value: &Value) -> usize {
    match value {
        Value::Null => 4,
        Value::Bool(b) => {
            if *b {
                4
            } else {
                5
            }
        }
        Value::Number(n) => n.to_string().len(),
        Value::String(s) => s.len() + 2,
        Value::Array(_) | Value::Object(_) => 2,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn nested(depth: usize) -> Value {
        (0..depth).fold(json!("max depth"), |inner, i| json!({ format!("key{}", i + 1): inner }))
    }

    #[test]
    fn long_strings_end_in_three_dots_at_the_limit() {
        let mut text = "This is my long string I want to have trimmed!".to_owned();
        trim_string(&mut text, 20);
        assert_eq!(text, "This is my long s...");
        let mut short = "short".to_owned();
        trim_string(&mut short, 20);
        assert_eq!(short, "short");
    }

    #[test]
    fn strings_within_the_allowance_are_kept_whole() {
        let mut object = Map::new();
        object.insert("culprit".into(), json!("x".repeat(300)));
        object.insert("transaction".into(), json!("y".repeat(200)));
        trim_field(&mut object, "culprit", CULPRIT);
        trim_field(&mut object, "transaction", CULPRIT);
        assert_eq!(object["culprit"].as_str().map(|s| s.chars().count()), Some(200));
        assert_eq!(object["transaction"].as_str().map(str::len), Some(200));
    }

    #[test]
    fn deep_extra_is_stringified_at_the_last_level_like_relay() {
        let mut extra = json!({"key_1": "value 1", "key_2": nested(8), "key_3": nested(5)});
        trim_bag(&mut extra, LARGE_BAG);
        assert_eq!(extra["key_3"], nested(5));
        assert_eq!(
            extra["key_2"]["key8"]["key7"]["key6"]["key5"]["key4"],
            json!(r#"{"key3":{"key2":{"key1":"max depth"}}}"#)
        );
    }

    #[test]
    fn oversized_databags_lose_their_last_entries() {
        let mut extra = json!({"big": vec!["x".repeat(100); 200]});
        trim_bag(&mut extra, LARGE_BAG);
        let kept = extra["big"].as_array().map_or(0, Vec::len);
        assert!(kept > 10 && kept < 200, "kept {kept}");
    }

    #[test]
    fn only_the_newest_250_frames_are_kept_and_middle_frames_slimmed() {
        let frames: Vec<Value> =
            (0..300).map(|i| json!({"function": format!("f{i}"), "vars": {"i": i}, "pre_context": ["x"]})).collect();
        let mut stacktrace = Map::new();
        stacktrace.insert("frames".into(), Value::Array(frames));
        trim_stacktrace(&mut stacktrace);
        let frames = stacktrace["frames"].as_array().expect("frames stay a list");
        assert_eq!(frames.len(), MAX_FRAMES);
        assert_eq!(frames[0]["function"], json!("f50"));
        assert!(frames[0].get("vars").is_some() && frames[249].get("vars").is_some());
        assert!(frames[125].get("vars").is_none() && frames[125].get("pre_context").is_none());
        assert_eq!(frames.iter().filter(|f| f.get("vars").is_some()).count(), FRAME_ALLOWANCE);
    }
}
