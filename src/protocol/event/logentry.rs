//! The message of an event: `message`/`logentry` → `logentry.formatted`.
//!
//! ```json
//! {"logentry": {"message": "user %s failed %d times", "params": ["bob", 3]}}
//! → {"logentry": {"formatted": "user bob failed 3 times", "message": "user %s failed %d times", …}}
//! {"message": "hello"} → {"logentry": {"formatted": "hello"}}
//! ```
//!
//! Formatting follows Relay (`normalize/logentry.rs`): Python `%` style if the message contains
//! `%`, else `{}`/`{0}`/`{name}` style if it contains `{`. When formatting fails the message is
//! used as is.

use std::fmt::Write as _;
use std::sync::LazyLock;

use regex::{Captures, Regex};
use serde_json::{Map, Value};

use super::Errors;
use super::fields::lenient_string;

static PYTHON_FORMAT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"%(?:\(([^)]*)\))?[#0 +\-]*(?:\d+|\*)?(?:\.\d+)?[hlL]?([diouxXeEfFgGcrsa%])").expect("static regex")
});

static CURLY_FORMAT: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\{([A-Za-z0-9_]*)\}").expect("static regex"));

pub(crate) fn normalize(event: &mut Map<String, Value>, errors: &mut Errors) {
    let Some(logentry) = event.get_mut("logentry") else {
        return;
    };
    match logentry {
        Value::Object(_) => {}
        Value::Null => {
            event.remove("logentry");
            return;
        }
        Value::String(_) | Value::Number(_) | Value::Bool(_) => {
            let mut object = Map::new();
            object.insert("formatted".into(), std::mem::take(logentry));
            *logentry = Value::Object(object);
        }
        Value::Array(_) => {
            if let Some(bad) = event.remove("logentry") {
                errors.invalid("logentry", "expected a string or an object", bad);
            }
            return;
        }
    }
    let Some(Value::Object(entry)) = event.get_mut("logentry") else {
        return;
    };
    lenient_string(entry, "message");
    lenient_string(entry, "formatted");
    if entry.get("params").is_some_and(Value::is_null) {
        entry.remove("params");
    }
    if entry.is_empty() {
        event.remove("logentry");
        return;
    }
    if !entry.contains_key("message") && !entry.contains_key("formatted") {
        if let Some(bad) = event.remove("logentry") {
            errors.invalid("logentry", "no message present", bad);
        }
        return;
    }
    if !entry.contains_key("formatted") {
        let formatted = match (entry.get("message").and_then(Value::as_str), entry.get("params")) {
            (Some(message), Some(params)) => format_message(message, params),
            _ => None,
        };
        if let Some(formatted) = formatted {
            entry.insert("formatted".into(), formatted.into());
        }
    }
    if (!entry.contains_key("formatted") || entry.get("message") == entry.get("formatted"))
        && let Some(message) = entry.remove("message")
    {
        entry.insert("formatted".into(), message);
    }
}

/// Formats `message` with `params` (an array for positional, an object for named arguments).
pub(crate) fn format_message(message: &str, params: &Value) -> Option<String> {
    if message.contains('%') {
        format_python(message, params)
    } else if message.contains('{') {
        format_curly(message, params)
    } else {
        None
    }
}

fn format_python(message: &str, params: &Value) -> Option<String> {
    let mut next = 0;
    replace_all(&PYTHON_FORMAT, message, |caps| {
        let conversion = caps.get(2).map_or("s", |m| m.as_str());
        if conversion == "%" {
            return Some("%".to_owned());
        }
        let arg = match caps.get(1) {
            Some(name) => params.as_object()?.get(name.as_str())?,
            None => {
                next += 1;
                params.as_array()?.get(next - 1)?
            }
        };
        convert(arg, conversion)
    })
}

fn format_curly(message: &str, params: &Value) -> Option<String> {
    let mut next = 0;
    replace_all(&CURLY_FORMAT, message, |caps| {
        let key = caps.get(1).map_or("", |m| m.as_str());
        let arg = if key.is_empty() {
            next += 1;
            params.as_array()?.get(next - 1)?
        } else if let Ok(index) = key.parse::<usize>() {
            params.as_array()?.get(index)?
        } else {
            params.as_object()?.get(key)?
        };
        convert(arg, "s")
    })
}

/// Replaces every match with `f`'s result; any `None` fails the whole message.
fn replace_all(re: &Regex, text: &str, mut f: impl FnMut(&Captures<'_>) -> Option<String>) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for caps in re.captures_iter(text) {
        let whole = caps.get(0)?;
        out.push_str(&text[last..whole.start()]);
        out.push_str(&f(&caps)?);
        last = whole.end();
    }
    out.push_str(&text[last..]);
    Some(out)
}

/// One argument: strings verbatim, numbers as written (hex for `%x`/`%X`, octal for `%o`),
/// other values as JSON. Numeric conversions of non-numbers fail.
fn convert(arg: &Value, conversion: &str) -> Option<String> {
    let numeric = matches!(conversion, "d" | "i" | "u" | "o" | "x" | "X" | "e" | "E" | "f" | "F" | "g" | "G");
    match arg {
        Value::String(s) if !numeric => Some(s.clone()),
        Value::Number(n) => {
            let mut out = String::new();
            match (conversion, n.as_i64()) {
                ("x", Some(i)) => write!(out, "{i:x}").ok()?,
                ("X", Some(i)) => write!(out, "{i:X}").ok()?,
                ("o", Some(i)) => write!(out, "{i:o}").ok()?,
                _ => write!(out, "{n}").ok()?,
            }
            Some(out)
        }
        _ if numeric => None,
        Value::Bool(true) => Some("True".to_owned()),
        Value::Bool(false) => Some("False".to_owned()),
        Value::Null => Some("None".to_owned()),
        other => Some(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn normalized(input: Value) -> Value {
        let Value::Object(mut event) = input else { unreachable!("test input is an object") };
        normalize(&mut event, &mut Errors::default());
        event.remove("logentry").unwrap_or(Value::Null)
    }

    #[test]
    fn python_positional_and_named_params_are_formatted() {
        assert_eq!(format_message("hello, %s!", &json!(["world"])).as_deref(), Some("hello, world!"));
        assert_eq!(format_message("hello, %(name)s!", &json!({"name": "world"})).as_deref(), Some("hello, world!"));
        assert_eq!(format_message("%d%% of %x", &json!([50, 255])).as_deref(), Some("50% of ff"));
    }

    #[test]
    fn java_and_dotnet_curly_params_are_formatted() {
        assert_eq!(format_message("hello, {}!", &json!(["world"])).as_deref(), Some("hello, world!"));
        assert_eq!(format_message("hello, {0} {0}!", &json!(["world"])).as_deref(), Some("hello, world world!"));
    }

    #[test]
    fn missing_or_mistyped_params_leave_the_message_unformatted() {
        assert_eq!(format_message("a %s %s", &json!(["one"])), None);
        assert_eq!(format_message("a %d", &json!(["seven"])), None);
        assert_eq!(format_message("no placeholders", &json!([1])), None);
    }

    #[test]
    fn a_plain_message_string_becomes_formatted() {
        assert_eq!(normalized(json!({"logentry": "hi"})), json!({"formatted": "hi"}));
        assert_eq!(normalized(json!({"logentry": {"message": "hi"}})), json!({"formatted": "hi"}));
        assert_eq!(normalized(json!({"logentry": {"message": "hi", "formatted": "hi"}})), json!({"formatted": "hi"}));
    }

    #[test]
    fn params_without_any_message_delete_the_logentry() {
        let mut errors = Errors::default();
        let Value::Object(mut event) = json!({"logentry": {"params": [1]}}) else { unreachable!() };
        normalize(&mut event, &mut errors);
        assert!(event.get("logentry").is_none());
        assert_eq!(errors.0.len(), 1);
        assert_eq!(normalized(json!({"logentry": {}})), Value::Null);
    }
}
