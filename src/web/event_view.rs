//! An event's normalized payload turned into what the event view shows: the exception chain with
//! frames (context lines, local variables), the message, breadcrumbs, request, user, contexts, tags,
//! extra data and SDK.
//!
//! Everything stays text: the template escapes it, so hostile values (`<script>` in an exception
//! value, a tag key or a breadcrumb) render inert. Long values are cut to keep pages light.

use serde_json::{Map, Value};

/// Longest value shown before it is cut.
const MAX_VALUE_CHARS: usize = 4000;

/// One frame of a stack trace.
pub struct FrameView {
    /// File, path or module.
    pub location: String,
    /// Function name.
    pub function: String,
    /// `:12:5`.
    pub line: String,
    /// Part of the application (not a library).
    pub in_app: bool,
    /// `(line number, source line, is the failing line)`.
    pub context: Vec<(i64, String, bool)>,
    /// Local variables.
    pub vars: Vec<(String, String)>,
}

/// One exception of the chain.
pub struct ExceptionView {
    /// Type (`ZeroDivisionError`).
    pub ty: String,
    /// Value (`division by zero`).
    pub value: String,
    /// Module of the type.
    pub module: String,
    /// `mechanism.type`, and whether it was handled.
    pub mechanism: String,
    /// Frames, the failing one first.
    pub frames: Vec<FrameView>,
    /// Frames not shown because they are not in-app.
    pub hidden_frames: usize,
}

/// One breadcrumb.
pub struct CrumbView {
    /// Time.
    pub time: String,
    /// Category (or type).
    pub category: String,
    /// Level.
    pub level: String,
    /// Message.
    pub message: String,
    /// Data, as `k: v` text.
    pub data: String,
}

/// The HTTP request of the event.
pub struct RequestView {
    /// `GET`.
    pub method: String,
    /// URL.
    pub url: String,
    /// Query string.
    pub query: String,
    /// Headers.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub data: String,
}

/// The event view.
#[derive(Default)]
pub struct EventView {
    /// Exceptions, the last raised first.
    pub exceptions: Vec<ExceptionView>,
    /// Formatted message.
    pub message: Option<String>,
    /// Breadcrumbs, newest last.
    pub breadcrumbs: Vec<CrumbView>,
    /// Request.
    pub request: Option<RequestView>,
    /// User fields.
    pub user: Vec<(String, String)>,
    /// Contexts: name and fields.
    pub contexts: Vec<(String, Vec<(String, String)>)>,
    /// Tags.
    pub tags: Vec<(String, String)>,
    /// Extra data.
    pub extra: Vec<(String, String)>,
    /// `sentry.python 2.19.0`.
    pub sdk: Option<String>,
    /// Some frame is not in-app (the toggle is worth showing).
    pub has_system_frames: bool,
}

/// A JSON value as display text: strings as they are, everything else as compact JSON; cut when long.
pub fn text(value: &Value) -> String {
    let s = match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    cut(s)
}

fn cut(mut s: String) -> String {
    if s.chars().count() > MAX_VALUE_CHARS {
        s = s.chars().take(MAX_VALUE_CHARS).collect();
        s.push('…');
    }
    s
}

fn str_of(obj: &Value, key: &str) -> String {
    obj.get(key).map(text).unwrap_or_default()
}

fn pairs(value: Option<&Value>) -> Vec<(String, String)> {
    match value {
        Some(Value::Object(map)) => map.iter().map(|(k, v)| (cut(k.clone()), text(v))).collect(),
        // `[[k, v], …]` as headers and tags are sent.
        Some(Value::Array(items)) => {
            items.iter().filter_map(|item| Some((text(item.get(0)?), text(item.get(1)?)))).collect()
        }
        _ => Vec::new(),
    }
}

fn frame(f: &Value) -> FrameView {
    let location = ["filename", "abs_path", "module", "package"]
        .iter()
        .find_map(|k| f.get(*k).and_then(Value::as_str).filter(|s| !s.is_empty()))
        .unwrap_or("?")
        .to_owned();
    let lineno = f.get("lineno").and_then(Value::as_i64);
    let line = match (lineno, f.get("colno").and_then(Value::as_i64)) {
        (Some(l), Some(c)) => format!(":{l}:{c}"),
        (Some(l), None) => format!(":{l}"),
        _ => String::new(),
    };
    let mut context = Vec::new();
    if let Some(current) = f.get("context_line").and_then(Value::as_str) {
        let at = lineno.unwrap_or(0);
        let pre: Vec<&Value> =
            f.get("pre_context").and_then(Value::as_array).map(|a| a.iter().collect()).unwrap_or_default();
        for (i, l) in pre.iter().enumerate() {
            context.push((at - (pre.len() - i) as i64, text(l), false));
        }
        context.push((at, cut(current.to_owned()), true));
        for (i, l) in f.get("post_context").and_then(Value::as_array).into_iter().flatten().enumerate() {
            context.push((at + 1 + i as i64, text(l), false));
        }
    }
    FrameView {
        location: cut(location),
        function: str_of(f, "function"),
        line,
        in_app: f.get("in_app") == Some(&Value::Bool(true)),
        context,
        vars: pairs(f.get("vars")),
    }
}

/// Build the view; `all_frames` shows library frames too (otherwise they are hidden when the
/// exception has in-app frames).
pub fn build(payload: &Value, all_frames: bool) -> EventView {
    let empty = Map::new();
    let p = payload.as_object().unwrap_or(&empty);
    let mut view = EventView::default();
    let values = p.get("exception").and_then(|e| e.get("values")).and_then(Value::as_array);
    for e in values.into_iter().flatten().rev() {
        let raw: Vec<&Value> = e
            .pointer("/stacktrace/frames")
            .and_then(Value::as_array)
            .map(|frames| frames.iter().rev().collect())
            .unwrap_or_default();
        let frames: Vec<FrameView> = raw.into_iter().map(frame).collect();
        let any_in_app = frames.iter().any(|f| f.in_app);
        view.has_system_frames |= frames.iter().any(|f| !f.in_app);
        let total = frames.len();
        let frames: Vec<FrameView> =
            if all_frames || !any_in_app { frames } else { frames.into_iter().filter(|f| f.in_app).collect() };
        let mechanism = match e.get("mechanism") {
            Some(m) => {
                let handled = match m.get("handled") {
                    Some(Value::Bool(true)) => " (handled)",
                    Some(Value::Bool(false)) => " (unhandled)",
                    _ => "",
                };
                format!("{}{handled}", str_of(m, "type"))
            }
            None => String::new(),
        };
        view.exceptions.push(ExceptionView {
            ty: str_of(e, "type"),
            value: str_of(e, "value"),
            module: str_of(e, "module"),
            mechanism,
            hidden_frames: total - frames.len(),
            frames,
        });
    }
    view.message = p
        .get("logentry")
        .and_then(|l| l.get("formatted").or_else(|| l.get("message")))
        .or_else(|| p.get("message"))
        .map(text)
        .filter(|m| !m.is_empty());
    let crumbs = p.get("breadcrumbs").and_then(|b| b.get("values").or(Some(b))).and_then(Value::as_array);
    for c in crumbs.into_iter().flatten().rev().take(100).collect::<Vec<_>>().into_iter().rev() {
        let time = match c.get("timestamp") {
            Some(Value::Number(n)) => n
                .as_f64()
                .map(|secs| super::format::datetime(crate::store::Millis((secs * 1000.0) as i64)))
                .unwrap_or_default(),
            Some(other) => text(other),
            None => String::new(),
        };
        let category = c.get("category").or_else(|| c.get("type")).map(text).unwrap_or_default();
        let data = pairs(c.get("data")).into_iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join(", ");
        view.breadcrumbs.push(CrumbView {
            time,
            category,
            level: str_of(c, "level"),
            message: str_of(c, "message"),
            data,
        });
    }
    if let Some(r) = p.get("request") {
        let query = match r.get("query_string") {
            Some(Value::Array(_)) => {
                pairs(r.get("query_string")).into_iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
            }
            Some(other) => text(other),
            None => String::new(),
        };
        view.request = Some(RequestView {
            method: str_of(r, "method"),
            url: str_of(r, "url"),
            query,
            headers: pairs(r.get("headers")),
            data: r.get("data").map(text).unwrap_or_default(),
        });
    }
    view.user = pairs(p.get("user"));
    if let Some(Value::Object(contexts)) = p.get("contexts") {
        for (name, ctx) in contexts {
            view.contexts
                .push((cut(name.clone()), pairs(Some(ctx)).into_iter().filter(|(k, _)| k != "type").collect()));
        }
    }
    view.tags = pairs(p.get("tags"));
    view.extra = pairs(p.get("extra"));
    view.sdk = p.get("sdk").map(|s| format!("{} {}", str_of(s, "name"), str_of(s, "version")).trim().to_owned());
    view
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn chains_frames_and_toggles_library_frames() {
        let payload = json!({
            "exception": {"values": [
                {"type": "KeyError", "value": "'a'"},
                {"type": "ValueError", "value": "bad", "mechanism": {"type": "generic", "handled": false},
                 "stacktrace": {"frames": [
                    {"filename": "lib.py", "function": "lib", "lineno": 1, "in_app": false},
                    {"filename": "app.py", "function": "main", "lineno": 10, "in_app": true,
                     "context_line": "x = y", "pre_context": ["a", "b"], "post_context": ["c"], "vars": {"y": 1}}
                 ]}}
            ]},
            "tags": [["browser", "Firefox"]],
            "breadcrumbs": {"values": [{"timestamp": 1.5, "category": "http", "message": "<script>"}]},
            "request": {"method": "GET", "url": "http://x/", "headers": [["Accept", "*/*"]]},
        });
        let view = build(&payload, false);
        assert_eq!(view.exceptions[0].ty, "ValueError", "the last raised comes first");
        assert_eq!(view.exceptions[0].mechanism, "generic (unhandled)");
        assert_eq!(view.exceptions[0].frames.len(), 1);
        assert_eq!(view.exceptions[0].hidden_frames, 1);
        let f = &view.exceptions[0].frames[0];
        assert_eq!(
            f.context,
            vec![(8, "a".into(), false), (9, "b".into(), false), (10, "x = y".into(), true), (11, "c".into(), false)]
        );
        assert_eq!(f.vars, vec![("y".to_owned(), "1".to_owned())]);
        assert_eq!(build(&payload, true).exceptions[0].frames.len(), 2);
        assert_eq!(view.tags, vec![("browser".to_owned(), "Firefox".to_owned())]);
        assert_eq!(view.breadcrumbs[0].message, "<script>");
        assert_eq!(view.request.as_ref().map(|r| r.headers.len()), Some(1));
        assert!(view.has_system_frames);
    }
}
