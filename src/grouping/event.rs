//! Read-only accessors over the event JSON — the only place that knows payload shapes.
//!
//! Grouping is specified against Relay-normalized events (`exception.values[]`,
//! `logentry {message, formatted}`, …). Until every caller normalizes first, these accessors also
//! accept the legacy shapes SDKs still send and the conformance corpus contains:
//!
//! ```json
//! {"exception": {"type": "ValueError"}}                  // a bare exception object
//! {"exception": [{"type": "ValueError"}, …]}             // a bare list
//! {"sentry.interfaces.Exception": {"values": […]}}       // old interface keys
//! {"message": "Hello world"}                             // message as a plain string
//! ```
//!
//! Everything returns borrowed data or `None`; malformed parts are skipped, never an error.

use serde_json::Value;

/// Borrowed view of one event.
#[derive(Clone, Copy)]
pub struct EventView<'a>(pub &'a Value);

/// The message of an event: the template (`message`) and the rendered text (`formatted`).
#[derive(Debug, Clone, Copy, Default)]
pub struct LogEntry<'a> {
    pub message: Option<&'a str>,
    pub formatted: Option<&'a str>,
}

/// Non-empty string at `key` of an object.
pub fn str_at<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get(key)?.as_str().filter(|s| !s.is_empty())
}

impl<'a> EventView<'a> {
    /// Looks up an interface by its current name or its legacy `sentry.interfaces.*` alias.
    pub fn interface(&self, name: &str, legacy: &str) -> Option<&'a Value> {
        self.0.get(name).or_else(|| self.0.get(legacy)).filter(|v| !v.is_null())
    }

    /// Event platform; Relay defaults a missing one to `other`.
    pub fn platform(&self) -> &'a str {
        str_at(self.0, "platform").unwrap_or("other")
    }

    /// Non-empty top-level string field such as `transaction`, `level`, `logger`, `release`.
    pub fn str_field(&self, key: &str) -> Option<&'a str> {
        str_at(self.0, key)
    }

    /// `exception.values`, oldest first, accepting a bare list or a bare exception object.
    pub fn exceptions(&self) -> Vec<&'a Value> {
        let Some(exc) = self.interface("exception", "sentry.interfaces.Exception") else {
            return Vec::new();
        };
        let list = match exc {
            Value::Array(list) => list,
            Value::Object(obj) => match obj.get("values") {
                Some(Value::Array(list)) => list,
                Some(_) => return Vec::new(),
                None => return vec![exc],
            },
            _ => return Vec::new(),
        };
        list.iter().filter(|v| v.is_object()).collect()
    }

    /// The event-level `stacktrace` interface.
    pub fn stacktrace(&self) -> Option<&'a Value> {
        self.interface("stacktrace", "sentry.interfaces.Stacktrace").filter(|v| v.is_object())
    }

    /// `threads.values`, if the interface is present.
    pub fn threads(&self) -> Option<Vec<&'a Value>> {
        let threads = self.interface("threads", "sentry.interfaces.Threads")?;
        let list = match threads {
            Value::Array(list) => list,
            other => other.get("values")?.as_array()?,
        };
        Some(list.iter().filter(|v| v.is_object()).collect())
    }

    /// The log message, from `logentry`, the legacy message interface or a string `message`.
    pub fn logentry(&self) -> Option<LogEntry<'a>> {
        let entry = match self.interface("logentry", "sentry.interfaces.Message") {
            Some(entry) => entry,
            None => match self.0.get("message")? {
                Value::String(s) if !s.is_empty() => {
                    return Some(LogEntry { message: None, formatted: Some(s) });
                }
                other => other,
            },
        };
        let log = LogEntry { message: str_at(entry, "message"), formatted: str_at(entry, "formatted") };
        (log.message.is_some() || log.formatted.is_some()).then_some(log)
    }

    /// The SDK-sent (or rule-assigned) fingerprint; non-string entries are stringified.
    pub fn fingerprint(&self) -> Vec<String> {
        let Some(Value::Array(list)) = self.0.get("fingerprint") else {
            return Vec::new();
        };
        list.iter()
            .filter_map(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                Value::Bool(b) => Some(b.to_string()),
                _ => None,
            })
            .collect()
    }

    /// `tags` as `(key, value)` pairs, from either the list or the object form.
    pub fn tags(&self) -> Vec<(&'a str, &'a str)> {
        match self.0.get("tags") {
            Some(Value::Array(list)) => list
                .iter()
                .filter_map(|pair| {
                    let pair = pair.as_array()?;
                    Some((pair.first()?.as_str()?, pair.get(1)?.as_str()?))
                })
                .collect(),
            Some(Value::Object(map)) => map.iter().filter_map(|(k, v)| Some((k.as_str(), v.as_str()?))).collect(),
            _ => Vec::new(),
        }
    }

    /// The SDK name as the `sdk` tag shows it (e.g. `sentry.javascript.react`).
    pub fn sdk_name(&self) -> Option<&'a str> {
        str_at(self.0.get("sdk")?, "name")
    }
}

/// The frames of a stacktrace object (`null` entries skipped).
pub fn frames_of(stacktrace: &Value) -> impl Iterator<Item = &Value> {
    let frames = stacktrace.get("frames").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    frames.iter().filter(|f| f.is_object())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_bare_exception_object_is_read_as_a_one_element_list() {
        let event = json!({"exception": {"type": "ValueError"}});
        assert_eq!(EventView(&event).exceptions().len(), 1);
        let event = json!({"exception": [{"type": "A"}, {"type": "B"}]});
        assert_eq!(EventView(&event).exceptions().len(), 2);
    }

    #[test]
    fn a_plain_string_message_becomes_the_formatted_message() {
        let event = json!({"message": "Dogs are great!"});
        let log = EventView(&event).logentry().expect("logentry");
        assert_eq!(log.formatted, Some("Dogs are great!"));
        assert_eq!(log.message, None);
    }

    #[test]
    fn tags_are_read_from_pairs_and_objects() {
        let pairs = json!({"tags": [["a", "1"]]});
        let object = json!({"tags": {"a": "1"}});
        assert_eq!(EventView(&pairs).tags(), vec![("a", "1")]);
        assert_eq!(EventView(&object).tags(), vec![("a", "1")]);
    }
}
