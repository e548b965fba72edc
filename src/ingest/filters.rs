//! Inbound filters: per-project rules that drop events before they are stored, so noise (browser
//! extensions, developers' localhost, known-harmless errors, old releases) never becomes an issue.
//!
//! The settings live in `project_filters` (edited under the project's settings); ingest reads them
//! through [`FilterCache`], which keeps each project's compiled filters in memory for [`FILTER_TTL`]
//! and is invalidated by the settings page, so no event waits on a query. Dropped events still get a
//! `200` with their id (as Sentry answers filtered events) and are counted in
//! `ingest_items_total{outcome="filtered"}`.
//!
//! Patterns are globs (`*` any text), case-insensitive: error messages match `Type: value` and the
//! formatted message, error types match exception types, releases match the release.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::store::{ProjectFilters, Store, StoreResult};

/// How long compiled filters stay cached (other nodes see a change within this time).
pub const FILTER_TTL: Duration = Duration::from_secs(30);

/// Paths of scripts that browser extensions inject.
const EXTENSION_SCHEMES: [&str; 5] = [
    "chrome-extension://",
    "moz-extension://",
    "safari-extension://",
    "safari-web-extension://",
    "ms-browser-extension://",
];

/// Errors that browser extensions and injected scripts are known to cause (from Sentry's filter).
const EXTENSION_MESSAGES: [&str; 9] = [
    "top.GLOBALS",
    "originalCreateNotification",
    "canvas.contentDocument",
    "MyApp_RemoveAllHighlights",
    "http://tt.epicplay.com",
    "Can't find variable: ZiteReader",
    "jigsaw is not defined",
    "ComboSearch is not defined",
    "atomicFindClose",
];

/// A case-insensitive glob with `*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob(Vec<String>);

impl Glob {
    /// Compile a pattern.
    pub fn new(pattern: &str) -> Self {
        Self(pattern.to_lowercase().split('*').map(str::to_owned).collect())
    }

    /// Whether the whole text matches.
    pub fn is_match(&self, text: &str) -> bool {
        let text = text.to_lowercase();
        let parts = &self.0;
        let (Some(first), Some(last)) = (parts.first(), parts.last()) else { return false };
        if parts.len() == 1 {
            return text == *first;
        }
        if !text.starts_with(first.as_str()) || !text[first.len()..].ends_with(last.as_str()) {
            return false;
        }
        let mut rest = &text[first.len()..text.len() - last.len()];
        for middle in &parts[1..parts.len() - 1] {
            match rest.find(middle.as_str()) {
                Some(at) => rest = &rest[at + middle.len()..],
                None => return false,
            }
        }
        true
    }
}

fn globs(lines: &str) -> Vec<Glob> {
    lines.lines().map(str::trim).filter(|l| !l.is_empty()).map(Glob::new).collect()
}

/// A project's filters, compiled.
#[derive(Debug, Clone, Default)]
pub struct InboundFilters {
    localhost: bool,
    browser_extensions: bool,
    messages: Vec<Glob>,
    types: Vec<Glob>,
    releases: Vec<Glob>,
}

impl InboundFilters {
    /// Compile stored settings.
    pub fn compile(f: &ProjectFilters) -> Self {
        Self {
            localhost: f.localhost,
            browser_extensions: f.browser_extensions,
            messages: globs(&f.error_messages),
            types: globs(&f.error_types),
            releases: globs(&f.releases),
        }
    }

    /// Whether nothing is filtered.
    pub fn is_empty(&self) -> bool {
        !self.localhost
            && !self.browser_extensions
            && self.messages.is_empty()
            && self.types.is_empty()
            && self.releases.is_empty()
    }

    /// Why a normalized event is dropped (`localhost`, `browser-extensions`, `error-message`,
    /// `error-type`, `release`), or `None` to keep it.
    pub fn reason(&self, payload: &Value) -> Option<&'static str> {
        let str_at = |path: &str| payload.pointer(path).and_then(Value::as_str);
        if let Some(release) = str_at("/release")
            && self.releases.iter().any(|g| g.is_match(release))
        {
            return Some("release");
        }
        let exceptions: Vec<&Value> = payload
            .pointer("/exception/values")
            .and_then(Value::as_array)
            .map(|v| v.iter().collect())
            .unwrap_or_default();
        if !self.types.is_empty()
            && exceptions
                .iter()
                .filter_map(|e| e.get("type").and_then(Value::as_str))
                .any(|t| self.types.iter().any(|g| g.is_match(t)))
        {
            return Some("error-type");
        }
        let mut messages: Vec<String> = exceptions
            .iter()
            .map(|e| {
                let ty = e.get("type").and_then(Value::as_str).unwrap_or_default();
                let value = e.get("value").and_then(Value::as_str).unwrap_or_default();
                if ty.is_empty() {
                    value.to_owned()
                } else if value.is_empty() {
                    ty.to_owned()
                } else {
                    format!("{ty}: {value}")
                }
            })
            .collect();
        if let Some(m) = str_at("/logentry/formatted").or_else(|| str_at("/logentry/message")) {
            messages.push(m.to_owned());
        }
        if messages.iter().any(|m| self.messages.iter().any(|g| g.is_match(m))) {
            return Some("error-message");
        }
        if self.localhost && is_localhost(payload) {
            return Some("localhost");
        }
        if self.browser_extensions && from_extension(&exceptions, &messages) {
            return Some("browser-extensions");
        }
        None
    }
}

fn is_localhost(payload: &Value) -> bool {
    let ip = payload.pointer("/user/ip_address").and_then(Value::as_str);
    if matches!(ip, Some("127.0.0.1" | "::1")) {
        return true;
    }
    let url = payload.pointer("/request/url").and_then(Value::as_str).and_then(|u| url::Url::parse(u).ok());
    url.and_then(|u| u.host_str().map(str::to_owned))
        .is_some_and(|h| h == "localhost" || h == "127.0.0.1" || h == "[::1]" || h.ends_with(".localhost"))
}

fn from_extension(exceptions: &[&Value], messages: &[String]) -> bool {
    let frame_paths = exceptions
        .iter()
        .filter_map(|e| e.pointer("/stacktrace/frames").and_then(Value::as_array))
        .flatten()
        .filter_map(|f| f.get("abs_path").or_else(|| f.get("filename")).and_then(Value::as_str));
    let mut paths = frame_paths;
    paths.any(|p| EXTENSION_SCHEMES.iter().any(|s| p.starts_with(s)))
        || messages.iter().any(|m| EXTENSION_MESSAGES.iter().any(|known| m.contains(known)))
}

/// Compiled filters per project, cached.
#[derive(Debug, Default)]
pub struct FilterCache {
    entries: RwLock<HashMap<i64, (std::sync::Arc<InboundFilters>, Instant)>>,
}

impl FilterCache {
    /// A project's filters, from memory when fresh, else from the store.
    pub async fn get(&self, store: &Store, project_id: i64) -> StoreResult<std::sync::Arc<InboundFilters>> {
        let now = Instant::now();
        if let Ok(entries) = self.entries.read()
            && let Some((filters, at)) = entries.get(&project_id)
            && now.duration_since(*at) < FILTER_TTL
        {
            return Ok(filters.clone());
        }
        let stored = store.find_project_filters(project_id).await?;
        let filters = std::sync::Arc::new(stored.as_ref().map(InboundFilters::compile).unwrap_or_default());
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() > 100_000 {
                entries.clear();
            }
            entries.insert(project_id, (filters.clone(), now));
        }
        Ok(filters)
    }

    /// Forget a project's filters (after they were edited).
    pub fn invalidate(&self, project_id: i64) {
        if let Ok(mut entries) = self.entries.write() {
            entries.remove(&project_id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn globs_match_whole_text_case_insensitively() {
        assert!(Glob::new("*timeout*").is_match("Read TIMEOUT after 3s"));
        assert!(Glob::new("ResizeObserver*").is_match("ResizeObserver loop limit exceeded"));
        assert!(!Glob::new("ResizeObserver*").is_match("a ResizeObserver"));
        assert!(Glob::new("1.0.*").is_match("1.0.3"));
        assert!(Glob::new("exact").is_match("EXACT"));
        assert!(!Glob::new("a*b*c").is_match("acb"));
    }

    #[test]
    fn each_filter_drops_what_it_names() {
        let f = InboundFilters::compile(&ProjectFilters {
            localhost: true,
            browser_extensions: true,
            error_messages: "*ResizeObserver*".into(),
            error_types: "KeyboardInterrupt".into(),
            releases: "0.*".into(),
            ..ProjectFilters::default()
        });
        let ev = |v: Value| f.reason(&v);
        assert_eq!(ev(json!({"release": "0.9"})), Some("release"));
        assert_eq!(ev(json!({"exception": {"values": [{"type": "KeyboardInterrupt"}]}})), Some("error-type"));
        assert_eq!(
            ev(json!({"exception": {"values": [{"type": "Error", "value": "ResizeObserver loop"}]}})),
            Some("error-message")
        );
        assert_eq!(ev(json!({"request": {"url": "http://localhost:3000/x"}})), Some("localhost"));
        assert_eq!(
            ev(
                json!({"exception": {"values": [{"type": "E", "stacktrace": {"frames": [{"abs_path": "chrome-extension://abc/x.js"}]}}]}})
            ),
            Some("browser-extensions")
        );
        assert_eq!(
            ev(json!({"release": "1.0", "exception": {"values": [{"type": "ValueError", "value": "x"}]}})),
            None
        );
        assert!(InboundFilters::default().is_empty());
    }
}
