//! What the store indexes about an event, computed once from the normalized payload.
//!
//! Titles, culprits and metadata follow Sentry's `eventtypes` and `event_manager`:
//!
//! | type | title | culprit |
//! |---|---|---|
//! | error | `ZeroDivisionError: division by zero` (first line of the value, ≤ 100 chars) | `transaction`, else the newest in-app frame (`app.views in div`), else the request URL |
//! | default | first line of the message, else `<unlabeled event>` | same as error |
//! | transaction | the transaction name | the transaction name |
//!
//! Tags are the event's own plus the ones Sentry derives: `level`, `logger`, `environment`,
//! `release`, `dist`, `transaction`, `url`, `user`, `handled`, `mechanism`, and `os`,
//! `browser`, `runtime`, `device` (+ `.name`/`.family`) from contexts.

use serde::Serialize;
use serde_json::{Map, Value};
use time::OffsetDateTime;

use super::EventKind;
use super::shape::values_mut;
use crate::protocol::timestamp;

/// What kind of event this is (`event.type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EventType {
    /// Has an exception.
    Error,
    /// A message or anything else.
    Default,
    /// Content-Security-Policy report.
    Csp,
    /// HTTP Public Key Pinning report.
    Hpkp,
    /// Expect-CT report.
    ExpectCt,
    /// Expect-Staple report.
    ExpectStaple,
    /// Network Error Logging report.
    Nel,
    /// A performance transaction.
    Transaction,
    /// User feedback.
    Feedback,
}

impl EventType {
    /// The name Sentry uses (`error`, `default`, `expectct`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Default => "default",
            Self::Csp => "csp",
            Self::Hpkp => "hpkp",
            Self::ExpectCt => "expectct",
            Self::ExpectStaple => "expectstaple",
            Self::Nel => "nel",
            Self::Transaction => "transaction",
            Self::Feedback => "feedback",
        }
    }
}

/// The user as the store keeps it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct EventUser {
    /// `user.id`.
    pub id: Option<String>,
    /// `user.username`.
    pub username: Option<String>,
    /// `user.email`.
    pub email: Option<String>,
    /// `user.ip_address` (after `{{auto}}` resolution).
    pub ip_address: Option<String>,
}

impl EventUser {
    /// Sentry's `sentry:user` tag value: `id:…`, else `username:…`, `email:…`, `ip:…`.
    pub fn user_key(&self) -> Option<String> {
        let fields = [("id", &self.id), ("username", &self.username), ("email", &self.email), ("ip", &self.ip_address)];
        fields
            .into_iter()
            .find_map(|(prefix, value)| value.as_deref().filter(|v| !v.is_empty()).map(|v| format!("{prefix}:{v}")))
    }
}

/// Sentry's issue metadata: what the issue list shows under the title.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct IssueMetadata {
    /// Exception type (absent for synthetic exceptions).
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub ty: Option<String>,
    /// Exception value, ≤ 1024 chars.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// File of the crashing frame.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    /// Function of the crashing frame.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    /// Title for non-error events.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// Everything the store needs from an event without parsing its payload again.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EventSummary {
    /// `error`, `default`, `transaction`, …
    #[serde(rename = "type")]
    pub ty: EventType,
    /// The corrected event time.
    #[serde(with = "time::serde::rfc3339")]
    pub timestamp: OffsetDateTime,
    /// `debug`, `info`, `warning`, `error` or `fatal`.
    pub level: String,
    /// A valid platform name.
    pub platform: String,
    /// The issue title.
    pub title: String,
    /// Where it happened (may be empty).
    pub culprit: String,
    /// The formatted message, if any.
    pub message: Option<String>,
    /// `environment`.
    pub environment: Option<String>,
    /// `release`.
    pub release: Option<String>,
    /// `dist`.
    pub dist: Option<String>,
    /// `transaction`.
    pub transaction: Option<String>,
    /// The event's tags plus Sentry's derived tags, keys unique.
    pub tags: Vec<(String, String)>,
    /// The user, if any field identifies one.
    pub user: Option<EventUser>,
    /// Issue metadata.
    pub metadata: IssueMetadata,
    /// `sdk.name`.
    pub sdk_name: Option<String>,
    /// `sdk.version`.
    pub sdk_version: Option<String>,
    /// `contexts.trace.trace_id`.
    pub trace_id: Option<String>,
    /// Transactions: `contexts.trace.status` (`unknown` when missing).
    pub trace_status: Option<String>,
    /// Transactions: `timestamp − start_timestamp` in milliseconds.
    pub duration_ms: Option<f64>,
}

pub(crate) fn event_type(event: &Map<String, Value>, kind: EventKind, is_transaction: bool) -> EventType {
    let has = |key: &str| event.get(key).is_some_and(|v| !v.is_null());
    if is_transaction {
        EventType::Transaction
    } else if kind == EventKind::Feedback || str_at(event, "/type") == Some("feedback") {
        EventType::Feedback
    } else if event
        .get("exception")
        .and_then(|e| e.get("values"))
        .and_then(Value::as_array)
        .is_some_and(|v| !v.is_empty())
    {
        EventType::Error
    } else if has("csp") {
        EventType::Csp
    } else if has("hpkp") {
        EventType::Hpkp
    } else if has("expectct") {
        EventType::ExpectCt
    } else if has("expectstaple") {
        EventType::ExpectStaple
    } else if event.get("contexts").and_then(|c| c.get("nel")).is_some() {
        EventType::Nel
    } else {
        EventType::Default
    }
}

/// `user_key` on a normalized user object.
pub(crate) fn user_key(user: &Map<String, Value>) -> Option<String> {
    event_user(user).and_then(|u| u.user_key())
}

fn event_user(user: &Map<String, Value>) -> Option<EventUser> {
    let get = |key: &str| user.get(key).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned);
    let user =
        EventUser { id: get("id"), username: get("username"), email: get("email"), ip_address: get("ip_address") };
    (user != EventUser::default()).then_some(user)
}

fn str_at<'a>(event: &'a Map<String, Value>, path: &str) -> Option<&'a str> {
    let mut parts = path.split('/').filter(|p| !p.is_empty());
    let mut value = event.get(parts.next()?)?;
    for part in parts {
        value = value.get(part)?;
    }
    value.as_str()
}

fn owned(event: &Map<String, Value>, pointer: &str) -> Option<String> {
    str_at(event, pointer).map(str::to_owned)
}

/// Builds the summary and writes the computed `culprit` into the event when it has none.
pub(crate) fn summarize(event: &mut Map<String, Value>, ty: EventType) -> EventSummary {
    let timestamp = event.get("timestamp").and_then(timestamp::parse_value).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let platform = owned(event, "/platform").unwrap_or_else(|| "other".into());
    let message = owned(event, "/logentry/formatted");
    let transaction = owned(event, "/transaction");
    let metadata = metadata(event, ty, message.as_deref(), transaction.as_deref());
    let title = title(ty, &metadata, transaction.as_deref());
    let culprit = match (owned(event, "/culprit"), &transaction) {
        (Some(culprit), _) => culprit,
        (None, Some(transaction)) => transaction.clone(),
        (None, None) => generate_culprit(event, &platform),
    };
    if !culprit.is_empty() && !event.contains_key("culprit") {
        event.insert("culprit".into(), culprit.clone().into());
    }
    let user = event.get("user").and_then(Value::as_object).and_then(event_user);
    let duration_ms = match (ty, event.get("start_timestamp").and_then(Value::as_f64)) {
        (EventType::Transaction, Some(start)) => {
            event.get("timestamp").and_then(Value::as_f64).map(|end| ((end - start) * 1e6).round() / 1e3)
        }
        _ => None,
    };
    let trace_status = (ty == EventType::Transaction).then(|| owned(event, "/contexts/trace/status")).flatten();
    EventSummary {
        ty,
        timestamp,
        level: owned(event, "/level").unwrap_or_else(|| "error".into()),
        title,
        culprit,
        message,
        environment: owned(event, "/environment"),
        release: owned(event, "/release"),
        dist: owned(event, "/dist"),
        tags: tags(event, user.as_ref()),
        user,
        metadata,
        sdk_name: owned(event, "/sdk/name"),
        sdk_version: owned(event, "/sdk/version"),
        trace_id: owned(event, "/contexts/trace/trace_id"),
        trace_status,
        duration_ms,
        platform,
        transaction,
    }
}

fn metadata(
    event: &mut Map<String, Value>,
    ty: EventType,
    message: Option<&str>,
    transaction: Option<&str>,
) -> IssueMetadata {
    match ty {
        EventType::Error => error_metadata(event),
        EventType::Transaction => IssueMetadata { title: transaction.map(str::to_owned), ..Default::default() },
        EventType::Feedback => IssueMetadata { title: Some("User Feedback".into()), ..Default::default() },
        _ => {
            let first_line = message.map(|m| m.trim().lines().next().unwrap_or_default()).filter(|l| !l.is_empty());
            let title = first_line.map_or_else(|| "<unlabeled event>".to_owned(), |l| truncate(l, 100));
            IssueMetadata { title: Some(title), ..Default::default() }
        }
    }
}

fn error_metadata(event: &mut Map<String, Value>) -> IssueMetadata {
    let Some(exc) = values_mut(event, "exception").and_then(|v| v.last()) else {
        return IssueMetadata::default();
    };
    let synthetic = exc.pointer("/mechanism/synthetic").and_then(Value::as_bool) == Some(true);
    let frame = exc.pointer("/stacktrace/frames").and_then(Value::as_array).and_then(|f| crash_frame(f));
    let frame_str = |key: &str| frame.and_then(|f| f.get(key)).and_then(Value::as_str).map(str::to_owned);
    IssueMetadata {
        ty: (!synthetic).then(|| exc.get("type").and_then(Value::as_str).unwrap_or("Error")).map(|t| truncate(t, 128)),
        value: Some(truncate(exc.get("value").and_then(Value::as_str).unwrap_or_default(), 1024)),
        filename: frame_str("filename").or_else(|| frame_str("abs_path")),
        function: frame_str("function"),
        title: None,
    }
}

/// The newest in-app frame, else the newest frame.
fn crash_frame(frames: &[Value]) -> Option<&Value> {
    frames.iter().rev().find(|f| f.get("in_app").and_then(Value::as_bool) == Some(true)).or_else(|| frames.last())
}

fn title(ty: EventType, metadata: &IssueMetadata, transaction: Option<&str>) -> String {
    match ty {
        EventType::Error => {
            let Some(ty) = &metadata.ty else {
                return metadata.function.clone().unwrap_or_else(|| "<unknown>".into());
            };
            let value = metadata.value.as_deref().unwrap_or_default();
            match value.lines().next().filter(|l| !l.is_empty()) {
                Some(line) => format!("{ty}: {}", truncate(line, 100)),
                None => ty.clone(),
            }
        }
        EventType::Transaction => transaction.unwrap_or("<unlabeled transaction>").to_owned(),
        _ => metadata.title.clone().unwrap_or_else(|| "<unlabeled event>".into()),
    }
}

/// Sentry's `generate_culprit`: the stack of the newest exception (or the top-level stack),
/// else the request URL; synthetic exceptions get none.
fn generate_culprit(event: &mut Map<String, Value>, platform: &str) -> String {
    let url = owned(event, "/request/url");
    let stack_culprit = match values_mut(event, "exception") {
        Some(values) => {
            if values.last().and_then(|e| e.pointer("/mechanism/synthetic")).and_then(Value::as_bool) == Some(true) {
                return String::new();
            }
            values
                .iter()
                .rev()
                .filter_map(|e| e.pointer("/stacktrace/frames"))
                .filter_map(Value::as_array)
                .find(|f| !f.is_empty())
                .and_then(|frames| stacktrace_culprit(frames, platform))
        }
        None => event
            .get("stacktrace")
            .and_then(|s| s.get("frames"))
            .and_then(Value::as_array)
            .and_then(|frames| stacktrace_culprit(frames, platform)),
    };
    truncate(&stack_culprit.or(url).unwrap_or_default(), 200)
}

fn stacktrace_culprit(frames: &[Value], platform: &str) -> Option<String> {
    let mut fallback = None;
    for frame in frames.iter().rev() {
        let culprit = frame_culprit(frame, platform);
        if frame.get("in_app").and_then(Value::as_bool) == Some(true) {
            if culprit.as_deref().is_some_and(|c| !c.is_empty()) {
                return culprit;
            }
        } else if fallback.is_none() {
            fallback = Some(culprit);
        }
    }
    fallback.flatten()
}

fn frame_culprit(frame: &Value, platform: &str) -> Option<String> {
    let get = |key: &str| frame.get(key).and_then(Value::as_str).filter(|s| !s.is_empty());
    let platform = get("platform").unwrap_or(platform);
    let function = get("function").unwrap_or("?");
    if matches!(platform, "objc" | "cocoa" | "native") {
        return Some(function.to_owned());
    }
    let location = get("module").or_else(|| get("filename"))?;
    Some(if matches!(platform, "javascript" | "node") {
        format!("{function}({location})")
    } else {
        format!("{location} in {function}")
    })
}

fn tags(event: &Map<String, Value>, user: Option<&EventUser>) -> Vec<(String, String)> {
    let mut tags: Vec<(String, String)> = event
        .get("tags")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|pair| Some((pair.get(0)?.as_str()?.to_owned(), pair.get(1)?.as_str()?.to_owned())))
        .collect();
    let mut set = |key: &str, value: Option<String>| {
        let Some(value) = value.filter(|v| !v.is_empty()) else {
            return;
        };
        match tags.iter_mut().find(|(k, _)| k == key) {
            Some(entry) => entry.1 = value,
            None => tags.push((key.to_owned(), value)),
        }
    };
    set("level", owned(event, "/level"));
    set("logger", owned(event, "/logger"));
    set("environment", owned(event, "/environment"));
    set("release", owned(event, "/release"));
    set("dist", owned(event, "/dist"));
    set("transaction", owned(event, "/transaction"));
    set("url", owned(event, "/request/url"));
    set("user", user.and_then(EventUser::user_key));
    let mechanisms: Vec<&Value> = event
        .get("exception")
        .and_then(|e| e.get("values"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|e| e.get("mechanism"))
        .collect();
    let handled: Vec<bool> = mechanisms.iter().filter_map(|m| m.get("handled")?.as_bool()).collect();
    if !handled.is_empty() {
        set("handled", Some(if handled.contains(&false) { "no" } else { "yes" }.into()));
    }
    set("mechanism", mechanisms.last().and_then(|m| m.get("type")?.as_str()).map(str::to_owned));
    for (context, name_key, display) in
        [("os", "name", true), ("browser", "name", true), ("runtime", "name", true), ("device", "family", false)]
    {
        let Some(ctx) = event.get("contexts").and_then(|c| c.get(context)) else {
            continue;
        };
        let get = |key: &str| ctx.get(key).and_then(Value::as_str).map(str::to_owned);
        set(&format!("{context}.{name_key}"), get(name_key));
        set(context, if display { get(context) } else { get("model") });
    }
    tags
}

/// Sentry's `truncatechars`: at most `max` characters, ending in `...` when cut.
fn truncate(text: &str, max: usize) -> String {
    let mut text = text.to_owned();
    super::trim::trim_string(&mut text, max);
    text
}
