//! Log messages and templates → `message` / `template` in the `default` variant.
//!
//! The message template (`logentry.message`, e.g. `Hello %s!`) is preferred over the rendered
//! text, so events differing only in parameters group together; either is trimmed to two lines
//! and parameterized (`Order 1234 failed` → `Order <int> failed`).

use serde_json::Value;

use crate::grouping::component::{Component, Text};
use crate::grouping::event::{LogEntry, str_at};
use crate::grouping::parameterize::normalize_message;

use super::{DEFAULT, Variants};

/// The `default` variant for a log message.
pub fn message_variants(log: &LogEntry<'_>) -> Variants {
    let raw = log.message.or(log.formatted).unwrap_or_default();
    let normalized = normalize_message(raw);
    let component = if normalized != raw {
        Component::leaf("message", normalized).with_hint("stripped event-specific values")
    } else {
        Component::leaf("message", normalized)
    };
    vec![(DEFAULT, component)]
}

/// The `default` variant for a rendered template (`filename` + `context_line`).
pub fn template_variants(template: &Value) -> Variants {
    let part = |id, key| match str_at(template, key) {
        Some(v) => Component::leaf(id, Text::copied(v)),
        None => Component::empty(id),
    };
    let component =
        Component::with_children("template", vec![part("filename", "filename"), part("context_line", "context_line")]);
    vec![(DEFAULT, component)]
}
