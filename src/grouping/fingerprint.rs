//! Fingerprints: the SDK's or a rule's override of the computed grouping.
//!
//! ```text
//! ["{{ default }}"]                         default: the strategies decide
//! ["{{ default }}", "timeout"]              hybrid:  each variant hash is salted with "timeout"
//! ["{{ type }}", "{{ tags.region }}"]       custom:  only these resolved values are hashed
//! ```
//!
//! An entry is a variable only if the whole entry has the form `{{ name }}`.

use crate::grouping::event::str_at;
use crate::grouping::prepared::PreparedEvent;
use crate::grouping::strategies::exception::exception_value;

/// How a fingerprint relates to the computed grouping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FingerprintKind {
    /// Exactly `{{ default }}`.
    Default,
    /// `{{ default }}` plus other entries.
    Hybrid,
    /// No `{{ default }}` at all.
    Custom,
}

/// The variable name of an entry like `{{ error.type }}`, if the whole entry is a variable.
pub fn variable_name(entry: &str) -> Option<&str> {
    let inner = entry.strip_prefix("{{")?.strip_suffix("}}")?;
    let name = inner.trim();
    (!name.is_empty() && !name.contains(char::is_whitespace)).then_some(name)
}

/// Whether `entry` is some spelling of `{{ default }}`.
pub fn is_default(entry: &str) -> bool {
    variable_name(entry) == Some("default")
}

/// Classifies a (non-empty) fingerprint.
pub fn kind(fingerprint: &[String]) -> FingerprintKind {
    match fingerprint {
        [only] if is_default(only) => FingerprintKind::Default,
        _ if fingerprint.iter().any(|e| is_default(e)) => FingerprintKind::Hybrid,
        _ => FingerprintKind::Custom,
    }
}

/// Resolves every variable of `fingerprint`; `{{ default }}` is kept as the marker
/// `{{ default }}`.
pub fn resolve(fingerprint: &[String], event: &PreparedEvent<'_>) -> Vec<String> {
    fingerprint
        .iter()
        .map(|entry| match variable_name(entry) {
            Some("default") => "{{ default }}".to_owned(),
            Some(name) => resolve_variable(name, event),
            None => entry.clone(),
        })
        .collect()
}

/// The value of one fingerprint (or title) variable, with upstream's `<no-…>` placeholders.
pub fn resolve_variable(name: &str, event: &PreparedEvent<'_>) -> String {
    let view = event.view;
    let last_exception = event.exceptions.last().map(|e| e.raw);
    let crash = || event.crash_frame();
    let or = |value: Option<String>, missing: &str| value.unwrap_or_else(|| missing.to_owned());
    match name {
        "transaction" => or(view.str_field("transaction").map(str::to_owned), "<no-transaction>"),
        "message" => {
            let log = view.logentry();
            let message = log
                .and_then(|l| l.formatted.or(l.message))
                .map(str::to_owned)
                .or_else(|| last_exception.and_then(exception_value))
                .filter(|m| !m.is_empty());
            or(message, "<no-message>")
        }
        "type" | "error.type" => or(last_exception.and_then(|e| str_at(e, "type")).map(str::to_owned), "<no-type>"),
        "value" | "error.value" => or(last_exception.and_then(exception_value).filter(|v| !v.is_empty()), "<no-value>"),
        "function" | "stack.function" => {
            or(crash().and_then(|f| f.function.as_deref().map(str::to_owned)), "<no-function>")
        }
        "path" | "stack.abs_path" => {
            or(crash().and_then(|f| f.abs_path.or(f.filename.as_deref()).map(str::to_owned)), "<no-abs-path>")
        }
        "stack.filename" => {
            or(crash().and_then(|f| f.filename.as_deref().or(f.abs_path).map(str::to_owned)), "<no-filename>")
        }
        "module" | "stack.module" => or(crash().and_then(|f| f.module.map(str::to_owned)), "<no-module>"),
        "package" | "stack.package" => or(
            crash()
                .and_then(|f| f.package)
                .map(|p| p.rsplit(['/', '\\']).next().unwrap_or(p).to_owned())
                .filter(|p| !p.is_empty()),
            "<no-package>",
        ),
        "level" => or(view.str_field("level").map(str::to_owned), "<no-level>"),
        "logger" => or(view.str_field("logger").map(str::to_owned), "<no-logger>"),
        _ => match name.strip_prefix("tags.") {
            Some(tag) => view
                .tags()
                .into_iter()
                .find(|(k, _)| *k == tag)
                .map(|(_, v)| v.to_owned())
                .unwrap_or_else(|| format!("<no-value-for-tag-{tag}>")),
            None => format!("<unrecognized-variable-{name}>"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn only_whole_entries_in_double_braces_are_variables() {
        assert_eq!(variable_name("{{ default }}"), Some("default"));
        assert_eq!(variable_name("{{default}}"), Some("default"));
        assert_eq!(variable_name("x {{ default }}"), None);
        assert_eq!(variable_name("{{ a b }}"), None);
    }

    #[test]
    fn fingerprints_are_classified_by_their_default_entries() {
        assert_eq!(kind(&strings(&["{{ default }}"])), FingerprintKind::Default);
        assert_eq!(kind(&strings(&["{{ default }}", "x"])), FingerprintKind::Hybrid);
        assert_eq!(kind(&strings(&["{{ type }}", "x"])), FingerprintKind::Custom);
    }
}
