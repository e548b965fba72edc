//! Event normalization: what Relay's store normalizer does to an event before Sentry stores it.
//!
//! SDKs of every age send events in many shapes. A Python SDK sends
//!
//! ```json
//! {"event_id": "…", "level": "warning", "platform": "python", "timestamp": 1714557600.5,
//!  "exception": {"values": [{"type": "ZeroDivisionError", "value": "division by zero",
//!                            "stacktrace": {"frames": [{"filename": "app.py", "function": "div",
//!                                                       "in_app": true, "lineno": 3}]}}]},
//!  "user": {"ip_address": "{{auto}}"}, "tags": {"handled": "no"}}
//! ```
//!
//! while a raven-era client sends `"sentry.interfaces.Exception": [{…}]`, tags as a list of
//! pairs, a `message` string and an RFC 3339 timestamp without zone. [`normalize_event`] parses
//! the payload once into a [`serde_json::Value`] and rewrites it in place into the one shape the
//! rest of Faultline reads (protocol.md §5.3): canonical keys, `{"values": […]}` lists, a
//! `logentry.formatted` message, float-second timestamps corrected for clock drift, valid
//! level/platform/release/environment, the client IP in place of `{{auto}}`, tags as pairs,
//! and Relay's trimming limits. Unknown keys are kept. Alongside the payload it returns an
//! [`EventSummary`]: the title, culprit, tags, user and metadata the store indexes, so nothing
//! downstream parses the JSON again.
//!
//! Invalid *fields* never reject an event: they are dropped and listed in the payload's
//! `errors` (`{"type": "invalid_data", "name": "level", "value": "loud"}`), as Relay does.
//! Only a payload that is not a JSON object, is nested deeper than serde_json's limit of 128,
//! or is a transaction Relay would drop is an [`EventError`].
//!
//! # Deliberate differences from Relay
//!
//! Twenty-odd fixtures under `tests/fixtures/events/` were compared field by field with
//! `sentry_relay.processing.StoreNormalizer` (sentry-relay 0.10.1). Apart from generated ids,
//! every remaining difference is one of these:
//! - Unknown keys are kept, at the top level and inside known objects (Relay's `remove_other`
//!   drops them); the payload stays forward compatible and nothing is lost.
//! - `culprit` is computed the way Sentry does after Relay (`transaction`, else the newest
//!   in-app frame, else the request URL) and written into the payload.
//! - Levels are case-insensitive and `warn` means `warning` (Relay records `invalid level` and
//!   uses the default); SDK loggers commonly send both.
//! - Relay keeps invalid list entries as `null` (exception values, tag pairs) and tags with a
//!   `null` value; we remove them. There is no `_meta`: dropped values are listed in `errors`.
//! - `{{auto}}`, `REMOTE_ADDR` and browser/mobile platforms get the client IP by the classic
//!   rules (protocol.md §5.3.5), honouring `sdk.settings.infer_ip` `never`/`auto`; the Python
//!   normalizer leaves `{{auto}}` alone and relies on later server stages.
//! - Clock drift, future/past clamping and trimming run here; Relay runs them in later server
//!   stages, so the Python oracle cannot confirm them. Breadcrumbs are capped at the newest 100
//!   (the SDKs' default; Relay keeps all).
//! - An empty `user.id` does not identify a user (Relay writes `sentry_user: "id:"`).
//! - Not done: GeoIP, user-agent parsing into contexts, `device.class`, PII scrubbing, span
//!   tree repair, exclusive time, measurement normalization, transaction-name rules, and the
//!   json-forensics rewrite of bare `NaN`/`Infinity` from old Python clients.

mod fields;
mod logentry;
mod request;
mod shape;
mod summary;
mod timestamps;
mod trim;
mod user_agent;

use std::net::IpAddr;

use serde_json::{Map, Value};
use time::OffsetDateTime;

pub use crate::protocol::ids::EventId;
pub use summary::{EventSummary, EventType, EventUser, IssueMetadata};

/// Seconds an event may lie in the future after clock-drift correction (Relay default).
pub const MAX_SECS_IN_FUTURE: i64 = 60;
/// Seconds an event may lie in the past: the default retention of 90 days.
pub const MAX_SECS_IN_PAST: i64 = 90 * 24 * 3600;

/// Which item the payload came in; decides transaction rules and the event type.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EventKind {
    /// An `event` item or the store endpoint: error, message, security report.
    #[default]
    Event,
    /// A `transaction` item.
    Transaction,
    /// A `feedback` item.
    Feedback,
}

/// Request facts the payload cannot know.
#[derive(Clone, Debug)]
pub struct NormalizeOptions {
    /// When the request arrived.
    pub received_at: OffsetDateTime,
    /// The envelope header's `sent_at`, for clock-drift correction.
    pub sent_at: Option<OffsetDateTime>,
    /// The client's address, for `{{auto}}` and browser/mobile platforms.
    pub client_ip: Option<IpAddr>,
    /// The envelope header's `event_id`; wins over the payload's.
    pub envelope_event_id: Option<EventId>,
    /// The project's platform, used only when the payload names none.
    pub project_platform: Option<String>,
    /// The item the payload came in.
    pub kind: EventKind,
    /// The request's `sentry_client`, to backfill a missing `sdk`.
    pub client: Option<String>,
    /// See [`MAX_SECS_IN_FUTURE`].
    pub max_secs_in_future: i64,
    /// See [`MAX_SECS_IN_PAST`].
    pub max_secs_in_past: i64,
}

impl NormalizeOptions {
    /// Options for an `event` item received at `received_at`, with Relay's default limits.
    pub fn new(received_at: OffsetDateTime) -> Self {
        Self {
            received_at,
            sent_at: None,
            client_ip: None,
            envelope_event_id: None,
            project_platform: None,
            kind: EventKind::Event,
            client: None,
            max_secs_in_future: MAX_SECS_IN_FUTURE,
            max_secs_in_past: MAX_SECS_IN_PAST,
        }
    }
}

/// A normalized event, ready for grouping and storage.
#[derive(Clone, Debug, PartialEq)]
pub struct NormalizedEvent {
    /// The final id (envelope header, else payload, else generated).
    pub event_id: EventId,
    /// The normalized event JSON, unknown keys preserved.
    pub payload: Value,
    /// What the store indexes, computed from the payload.
    pub summary: EventSummary,
}

/// Why an event payload was rejected.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    /// Not JSON, or nested deeper than serde_json's recursion limit.
    #[error("invalid event json")]
    InvalidJson(#[source] serde_json::Error),
    /// Valid JSON, but not an object.
    #[error("event payload is not a json object")]
    NotAnObject,
    /// A transaction Relay would drop (missing timestamps or trace context, end before start).
    #[error("invalid transaction: {0}")]
    InvalidTransaction(&'static str),
}

/// The `errors` list Relay writes into events: one entry per dropped or corrected value.
#[derive(Debug, Default)]
pub(crate) struct Errors(Vec<Value>);

impl Errors {
    /// Records a problem with the field `name` (a dotted path).
    pub(crate) fn push(&mut self, ty: &str, name: &str, reason: Option<&str>, value: Option<Value>) {
        let mut entry = Map::new();
        entry.insert("type".into(), ty.into());
        entry.insert("name".into(), name.into());
        if let Some(reason) = reason {
            entry.insert("reason".into(), reason.into());
        }
        if let Some(value) = value {
            entry.insert("value".into(), value);
        }
        self.0.push(Value::Object(entry));
    }

    /// Records a value that was removed because it is invalid.
    pub(crate) fn invalid(&mut self, name: &str, reason: &str, value: Value) {
        self.push("invalid_data", name, Some(reason), Some(value));
    }
}

/// Parses and normalizes one event payload.
pub fn normalize_event(payload: &[u8], opts: &NormalizeOptions) -> Result<NormalizedEvent, EventError> {
    let value: Value = match std::str::from_utf8(payload) {
        // Checked once here instead of string by string in the parser (3% of an 8 KiB event's
        // processing, `examples/ingest_profile` under callgrind).
        Ok(text) => serde_json::from_str(text),
        // Not UTF-8, so not JSON: the parser says where.
        Err(_) => serde_json::from_slice(payload),
    }
    .map_err(EventError::InvalidJson)?;
    normalize_value(value, opts)
}

/// Normalizes an already parsed event (e.g. from the legacy store endpoint).
pub fn normalize_value(mut value: Value, opts: &NormalizeOptions) -> Result<NormalizedEvent, EventError> {
    let Value::Object(event) = &mut value else {
        return Err(EventError::NotAnObject);
    };
    let mut errors = Errors::default();
    shape::strip_server_fields(event);
    shape::resolve_aliases(event);
    let event_id = fields::event_id(event, opts, &mut errors);
    let is_transaction = opts.kind == EventKind::Transaction
        || (opts.kind == EventKind::Event && event.get("type").and_then(Value::as_str) == Some("transaction"));

    shape::normalize_values(event, &mut errors);
    shape::normalize_tags(event, &mut errors);
    logentry::normalize(event, &mut errors);
    request::normalize(event);
    fields::normalize_scalars(event, opts, is_transaction, &mut errors);
    fields::normalize_user(event, opts);
    user_agent::infer_contexts(event);
    fields::normalize_contexts(event, event_id, is_transaction, &mut errors);
    let had_timestamp = timestamps::normalize(event, opts, &mut errors);
    if is_transaction {
        timestamps::validate_transaction(event, had_timestamp)?;
        fields::transaction_defaults(event);
    } else {
        event.remove("measurements");
        event.remove("breakdowns");
    }
    let ty = summary::event_type(event, opts.kind, is_transaction);
    event.insert("type".into(), ty.as_str().into());
    trim::trim_event(event);
    if !errors.0.is_empty() {
        event.insert("errors".into(), Value::Array(errors.0));
    }
    event.insert("event_id".into(), event_id.to_string().into());
    let summary = summary::summarize(event, ty);
    Ok(NormalizedEvent { event_id, payload: value, summary })
}

#[cfg(test)]
mod tests;
