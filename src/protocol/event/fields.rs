//! Scalar fields, the user and contexts: validation, defaults and IP inference.

use std::net::IpAddr;

use serde_json::{Map, Value};

use super::{Errors, EventId, NormalizeOptions};
use crate::protocol::auth::split_client;

/// Platforms Sentry knows; anything else becomes `other`.
pub(crate) const VALID_PLATFORMS: &[&str] = &[
    "as3",
    "c",
    "cfml",
    "cocoa",
    "csharp",
    "elixir",
    "go",
    "groovy",
    "haskell",
    "java",
    "javascript",
    "native",
    "node",
    "objc",
    "other",
    "perl",
    "php",
    "python",
    "ruby",
];

/// Platforms whose SDKs never send `{{auto}}` but whose users' IP is still wanted.
const IP_INFERRING_PLATFORMS: &[&str] = &["javascript", "cocoa", "objc"];

/// Longest logger name; longer names are shortened from the left with a `*` prefix.
const MAX_LOGGER_CHARS: usize = 64;
/// Longest release name.
const MAX_RELEASE_CHARS: usize = 200;
/// Longest environment and dist.
const MAX_ENVIRONMENT_CHARS: usize = 64;

/// Level names in any ASCII case, and the level each means.
const LEVEL_NAMES: [(&str, &str); 9] = [
    ("debug", "debug"),
    ("trace", "debug"),
    ("info", "info"),
    ("log", "info"),
    ("warning", "warning"),
    ("warn", "warning"),
    ("error", "error"),
    ("fatal", "fatal"),
    ("critical", "fatal"),
];

/// Reads a level name or Python logging number: `warn` → `warning`, `critical` → `fatal`,
/// `log` → `info`, `30` → `warning`. No allocation: every breadcrumb has a level.
pub(crate) fn parse_level(value: &Value) -> Option<&'static str> {
    match value {
        Value::String(name) => {
            let name = name.trim();
            LEVEL_NAMES.iter().find(|(alias, _)| alias.eq_ignore_ascii_case(name)).map(|&(_, level)| level)
        }
        Value::Number(n) => match n.as_u64()? {
            10 => Some("debug"),
            20 => Some("info"),
            30 => Some("warning"),
            40 => Some("error"),
            50 => Some("fatal"),
            _ => None,
        },
        _ => None,
    }
}

/// Turns numbers and booleans at `key` into strings, as Relay's lenient strings do, and drops
/// other non-strings.
pub(crate) fn lenient_string(object: &mut Map<String, Value>, key: &str) {
    let Some(value) = object.get_mut(key) else {
        return;
    };
    match value {
        Value::String(_) => {}
        Value::Number(n) => *value = Value::String(n.to_string()),
        Value::Bool(b) => *value = Value::String(b.to_string()),
        _ => {
            object.remove(key);
        }
    }
}

/// The envelope header's id, else the payload's, else a fresh one.
pub(crate) fn event_id(event: &mut Map<String, Value>, opts: &NormalizeOptions, errors: &mut Errors) -> EventId {
    let from_payload = match event.remove("event_id") {
        Some(Value::String(text)) => match text.parse::<EventId>() {
            Ok(id) => Some(id),
            Err(_) => {
                errors.invalid("event_id", "invalid event id", Value::String(text));
                None
            }
        },
        Some(Value::Null) | None => None,
        Some(other) => {
            errors.invalid("event_id", "invalid event id", other);
            None
        }
    };
    opts.envelope_event_id.or(from_payload).unwrap_or_else(EventId::new_random)
}

/// Level, platform, logger, release, environment, dist, transaction, culprit and sdk.
pub(crate) fn normalize_scalars(
    event: &mut Map<String, Value>,
    opts: &NormalizeOptions,
    is_transaction: bool,
    errors: &mut Errors,
) {
    let default_level = if is_transaction { "info" } else { "error" };
    let level = match event.remove("level") {
        None | Some(Value::Null) => default_level,
        Some(value) => parse_level(&value).unwrap_or_else(|| {
            errors.invalid("level", "invalid level", value);
            default_level
        }),
    };
    event.insert("level".into(), level.into());

    let platform = match event.get("platform").and_then(Value::as_str) {
        Some(p) if VALID_PLATFORMS.contains(&p) => p.to_owned(),
        Some(_) => "other".to_owned(),
        None => opts.project_platform.as_deref().filter(|p| VALID_PLATFORMS.contains(p)).unwrap_or("other").to_owned(),
    };
    event.insert("platform".into(), platform.into());

    let logger = event.get("logger").and_then(Value::as_str).map(shorten_logger).unwrap_or_default();
    event.insert("logger".into(), logger.into());

    for key in ["release", "environment", "dist", "transaction", "culprit"] {
        lenient_string(event, key);
        let Some(Value::String(text)) = event.get_mut(key) else {
            continue;
        };
        let trimmed = text.trim();
        if trimmed.len() != text.len() {
            *text = trimmed.to_owned();
        }
        let problem = match key {
            _ if text.is_empty() => Some("expected a non-empty value"),
            "release" => release_problem(text),
            "environment" => environment_problem(text),
            "dist" if text.chars().count() > MAX_ENVIRONMENT_CHARS => Some("value too long"),
            _ => None,
        };
        if let Some(reason) = problem
            && let Some(value) = event.remove(key).filter(|v| v.as_str().is_some_and(|s| !s.is_empty()))
        {
            errors.invalid(key, reason, value);
        }
    }

    if !event.get("sdk").is_some_and(Value::is_object) {
        event.remove("sdk");
        if let Some((name, version)) = opts.client.as_deref().and_then(split_client) {
            let mut sdk = Map::new();
            sdk.insert("name".into(), name.into());
            sdk.insert("version".into(), version.into());
            event.insert("sdk".into(), Value::Object(sdk));
        }
    }
    if event.get("time_spent").and_then(Value::as_u64).is_some_and(|t| t >= (1 << 31) - 1) {
        event.remove("time_spent");
    }
    if let Some(fingerprint) = event.get_mut("fingerprint") {
        normalize_fingerprint(fingerprint);
        if fingerprint.as_array().is_none_or(Vec::is_empty) {
            event.remove("fingerprint");
        }
    }
}

/// Fingerprints are lists of strings; numbers are stringified, other entries dropped.
fn normalize_fingerprint(fingerprint: &mut Value) {
    let Value::Array(parts) = fingerprint else {
        *fingerprint = Value::Null;
        return;
    };
    parts.retain_mut(|part| match part {
        Value::String(_) => true,
        Value::Number(n) => {
            *part = Value::String(n.to_string());
            true
        }
        Value::Bool(b) => {
            *part = Value::String(if *b { "True" } else { "False" }.into());
            true
        }
        _ => false,
    });
}

/// sentry-release-parser's rules: ≤ 200 chars, no newline/tab/slash/backslash, not `.`/`..`
/// or a word Sentry reserves.
fn release_problem(release: &str) -> Option<&'static str> {
    if release.chars().count() > MAX_RELEASE_CHARS {
        return Some("value too long");
    }
    if matches!(release, "." | ".." | "latest") || release.contains(['\n', '\r', '\t', '/', '\\']) {
        return Some("invalid release");
    }
    None
}

fn environment_problem(environment: &str) -> Option<&'static str> {
    if environment.chars().count() > MAX_ENVIRONMENT_CHARS {
        return Some("value too long");
    }
    if environment.contains(['\n', '\r', '\t', '/', '\x0c']) || environment == "." || environment == ".." {
        return Some("invalid environment");
    }
    None
}

/// Relay's logger shortening: keep the last 63 characters, start at a `.` boundary if there is
/// one, and mark the cut with `*`.
fn shorten_logger(logger: &str) -> String {
    let logger = logger.trim();
    let count = logger.chars().count();
    if count <= MAX_LOGGER_CHARS {
        return logger.to_owned();
    }
    let skip = count - (MAX_LOGGER_CHARS - 1);
    let tail: &str = logger.char_indices().nth(skip).map_or("", |(i, _)| &logger[i..]);
    let tail = match tail.find('.') {
        Some(dot) if dot + 1 < tail.len() => &tail[dot..],
        _ => tail,
    };
    format!("*{tail}")
}

/// The user object: ids as strings, unknown keys moved into `data`, `{{auto}}` and missing IPs
/// filled from the client IP when the platform or SDK asks for it, and `sentry_user` set.
pub(crate) fn normalize_user(event: &mut Map<String, Value>, opts: &NormalizeOptions) {
    let platform = event.get("platform").and_then(Value::as_str).unwrap_or("other").to_owned();
    let infer = event
        .get("sdk")
        .and_then(|sdk| sdk.pointer("/settings/infer_ip"))
        .and_then(Value::as_str)
        .map_or(InferIp::Legacy, InferIp::from_setting);
    let client_ip = opts.client_ip.filter(|_| infer != InferIp::Never);

    let remote_addr = resolve_remote_addr(event, client_ip);
    if !event.get("user").is_some_and(Value::is_object) {
        event.remove("user");
    }
    let user_ip = event.get("user").and_then(|u| u.get("ip_address")).and_then(Value::as_str);
    let ip = match (user_ip, client_ip) {
        (Some("{{auto}}"), ip) => ip.map(|ip| ip.to_string()),
        (Some(ip), _) => Some(ip.to_owned()),
        (None, _) if remote_addr.is_some() => remote_addr,
        (None, Some(ip)) if infer == InferIp::Auto || IP_INFERRING_PLATFORMS.contains(&platform.as_str()) => {
            Some(ip.to_string())
        }
        (None, _) => None,
    };
    if let Some(ip) = ip.as_ref() {
        let user = event.entry("user").or_insert_with(|| Value::Object(Map::new()));
        if let Some(user) = user.as_object_mut() {
            user.insert("ip_address".into(), ip.clone().into());
        }
    }
    let Some(Value::Object(user)) = event.get_mut("user") else {
        return;
    };
    if ip.is_none() {
        user.remove("ip_address");
    }
    for key in ["id", "username", "email", "name"] {
        lenient_string(user, key);
    }
    let extra: Vec<String> = user.keys().filter(|k| !USER_FIELDS.contains(&k.as_str())).cloned().collect();
    if !extra.is_empty() {
        let mut data = match user.remove("data") {
            Some(Value::Object(data)) => data,
            _ => Map::new(),
        };
        for key in extra {
            if let Some(value) = user.remove(&key) {
                data.insert(key, value);
            }
        }
        user.insert("data".into(), Value::Object(data));
    }
    match super::summary::user_key(user) {
        Some(key) => user.insert("sentry_user".into(), key.into()),
        None => user.remove("sentry_user"),
    };
    if user.is_empty() {
        event.remove("user");
    }
}

const USER_FIELDS: &[&str] =
    &["id", "email", "ip_address", "username", "name", "geo", "segment", "data", "sentry_user"];

/// `sdk.settings.infer_ip`: `auto` always infers, `never` never does, `legacy` (default) only
/// for `{{auto}}` and browser/mobile platforms.
#[derive(Clone, Copy, PartialEq, Eq)]
enum InferIp {
    Auto,
    Never,
    Legacy,
}

impl InferIp {
    fn from_setting(setting: &str) -> Self {
        match setting {
            "auto" => Self::Auto,
            "never" => Self::Never,
            _ => Self::Legacy,
        }
    }
}

/// Replaces `request.env.REMOTE_ADDR == "{{auto}}"` and returns the address if it is a valid IP.
fn resolve_remote_addr(event: &mut Map<String, Value>, client_ip: Option<IpAddr>) -> Option<String> {
    let env = event.get_mut("request")?.get_mut("env")?.as_object_mut()?;
    let addr = env.get_mut("REMOTE_ADDR")?;
    if addr.as_str() == Some("{{auto}}") {
        *addr = client_ip.map_or(Value::Null, |ip| ip.to_string().into());
    }
    let text = addr.as_str()?;
    text.parse::<IpAddr>().ok().map(|_| text.to_owned())
}

/// Contexts: each an object with a `type` (default: its key), `reprocessing` removed, display
/// strings (`os: "Windows 10"`) added, `trace.status` defaulted, and a trace context derived
/// from the event id for events that have none (as Relay does).
pub(crate) fn normalize_contexts(
    event: &mut Map<String, Value>,
    event_id: EventId,
    is_transaction: bool,
    errors: &mut Errors,
) {
    let contexts = match event.remove("contexts") {
        Some(Value::Object(contexts)) => contexts,
        None | Some(Value::Null) => Map::new(),
        Some(other) => {
            errors.invalid("contexts", "expected an object", other);
            Map::new()
        }
    };
    let mut normalized = Map::new();
    for (key, value) in contexts {
        let Value::Object(mut context) = value else {
            if !value.is_null() {
                errors.invalid(&format!("contexts.{key}"), "expected an object", value);
            }
            continue;
        };
        if key == "reprocessing" {
            continue;
        }
        if !context.get("type").is_some_and(Value::is_string) {
            context.insert("type".into(), key.clone().into());
        }
        let ty = context.get("type").and_then(Value::as_str).unwrap_or_default().to_owned();
        if matches!(ty.as_str(), "os" | "browser" | "runtime")
            && !context.contains_key(&ty)
            && let Some(display) = display_name(&context)
        {
            context.insert(ty.clone(), display.into());
        }
        if ty == "trace" && !context.get("status").is_some_and(Value::is_string) {
            context.insert("status".into(), "unknown".into());
        }
        normalized.insert(key, Value::Object(context));
    }
    if !normalized.contains_key("trace") && !is_transaction {
        let trace_id = event_id.to_string();
        let mut trace = Map::new();
        trace.insert("trace_id".into(), trace_id.clone().into());
        trace.insert("span_id".into(), trace_id[..16].to_owned().into());
        trace.insert("status".into(), "unknown".into());
        trace.insert("type".into(), "trace".into());
        normalized.insert("trace".into(), Value::Object(trace));
    }
    event.insert("contexts".into(), Value::Object(normalized));
}

/// `"{name} {version}"` for os/browser/runtime contexts.
fn display_name(context: &Map<String, Value>) -> Option<String> {
    let name = context.get("name").and_then(Value::as_str)?;
    Some(match context.get("version").and_then(Value::as_str) {
        Some(version) => format!("{name} {version}"),
        None => name.to_owned(),
    })
}

/// A transaction's name defaults to `<unlabeled transaction>` and its source to `unknown`;
/// `spans` is always a list.
pub(crate) fn transaction_defaults(event: &mut Map<String, Value>) {
    if !event.get("transaction").is_some_and(Value::is_string) {
        event.insert("transaction".into(), "<unlabeled transaction>".into());
    }
    let info = event.entry("transaction_info").or_insert_with(|| Value::Object(Map::new()));
    if let Some(info) = info.as_object_mut()
        && !info.get("source").is_some_and(Value::is_string)
    {
        info.insert("source".into(), "unknown".into());
    }
    if !event.get("spans").is_some_and(Value::is_array) {
        event.insert("spans".into(), Value::Array(Vec::new()));
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn level_names_numbers_and_aliases_are_understood() {
        let cases = [
            (json!("warn"), Some("warning")),
            (json!("WARNING"), Some("warning")),
            (json!("critical"), Some("fatal")),
            (json!("log"), Some("info")),
            (json!(10), Some("debug")),
            (json!(50), Some("fatal")),
            (json!(35), None),
            (json!("loud"), None),
            (json!(null), None),
        ];
        for (input, expected) in cases {
            assert_eq!(parse_level(&input), expected, "{input}");
        }
    }

    #[test]
    fn long_loggers_are_shortened_from_the_left_at_a_dot() {
        let logger = format!("{}.io.sentry.SomeVeryLongClassName.inner", "a".repeat(50));
        let short = shorten_logger(&logger);
        assert!(short.starts_with("*.") && short.chars().count() <= 64, "{short}");
        assert!(short.ends_with(".inner"));
        assert_eq!(shorten_logger(&"x".repeat(80)).chars().count(), 64);
        assert_eq!(shorten_logger(" app.views "), "app.views");
    }

    #[test]
    fn releases_with_slashes_or_reserved_names_are_invalid() {
        assert_eq!(release_problem("app@1.2.3"), None);
        assert!(release_problem("latest").is_some());
        assert!(release_problem("a/b").is_some());
        assert!(release_problem(&"r".repeat(201)).is_some());
    }
}
