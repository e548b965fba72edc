//! Event time: parsing, clock-drift correction and transaction checks (protocol.md §5.4).
//!
//! `received_at` is the truth. When the envelope's `sent_at` differs from it by 55 minutes or
//! more, the SDK's clock is wrong and every timestamp in the event is shifted by the
//! difference. Less than that is latency and left alone. Afterwards an event more than a
//! minute in the future or older than the retention window is moved to `received_at`, again
//! shifting all its timestamps so that durations and breadcrumb order survive.

use serde_json::{Map, Value};
use time::{Duration, OffsetDateTime};

use super::shape::values_mut;
use super::{Errors, EventError, NormalizeOptions};
use crate::protocol::timestamp;

/// Drift below this is treated as network latency, not a wrong clock (Relay's value).
const MINIMUM_CLOCK_DRIFT: Duration = Duration::minutes(55);

/// Parses, corrects and writes back every timestamp; sets `received`. Returns whether the
/// payload had a valid `timestamp` of its own.
pub(crate) fn normalize(event: &mut Map<String, Value>, opts: &NormalizeOptions, errors: &mut Errors) -> bool {
    let received = opts.received_at;
    let mut ts = parse_field(event, "timestamp", errors);
    let had_timestamp = ts.is_some();
    if let Some(start) = parse_field(event, "start_timestamp", errors) {
        event.insert("start_timestamp".into(), timestamp::to_value(start));
    }
    if let Some(spans) = event.get_mut("spans").and_then(Value::as_array_mut) {
        spans.retain(Value::is_object);
        for span in spans.iter_mut().filter_map(Value::as_object_mut) {
            for key in ["start_timestamp", "timestamp"] {
                match span.get(key).and_then(timestamp::parse_value) {
                    Some(parsed) => span.insert(key.into(), timestamp::to_value(parsed)),
                    None => span.remove(key),
                };
            }
        }
    }

    if let Some(sent_at) = opts.sent_at {
        let drift = received - sent_at;
        if drift.abs() >= MINIMUM_CLOCK_DRIFT {
            ts = ts.map(|t| t + drift);
            shift_all(event, drift);
            errors.0.push(drift_error("clock_drift", sent_at, received));
        }
    }
    if let Some(current) = ts {
        let kind = if current > received + Duration::seconds(opts.max_secs_in_future) {
            Some("future_timestamp")
        } else if current < received - Duration::seconds(opts.max_secs_in_past) {
            Some("past_timestamp")
        } else {
            None
        };
        if let Some(kind) = kind {
            let shift = received - current;
            ts = Some(received);
            shift_all(event, shift);
            errors.0.push(drift_error(kind, current, received));
        }
    }
    event.insert("timestamp".into(), timestamp::to_value(ts.unwrap_or(received)));
    event.insert("received".into(), timestamp::to_value(received));
    had_timestamp
}

fn parse_field(event: &mut Map<String, Value>, key: &str, errors: &mut Errors) -> Option<OffsetDateTime> {
    let value = event.remove(key)?;
    let parsed = timestamp::parse_value(&value);
    if parsed.is_none() && !value.is_null() {
        errors.invalid(key, "invalid timestamp", value);
    }
    parsed
}

fn drift_error(kind: &str, sdk_time: OffsetDateTime, server_time: OffsetDateTime) -> Value {
    let mut entry = Map::new();
    entry.insert("type".into(), kind.into());
    entry.insert("name".into(), "timestamp".into());
    entry.insert("sdk_time".into(), timestamp::to_rfc3339(sdk_time).into());
    entry.insert("server_time".into(), timestamp::to_rfc3339(server_time).into());
    Value::Object(entry)
}

/// Shifts `start_timestamp`, breadcrumb and span timestamps (the caller moves `timestamp`).
fn shift_all(event: &mut Map<String, Value>, by: Duration) {
    shift(event.get_mut("start_timestamp"), by);
    if let Some(crumbs) = values_mut(event, "breadcrumbs") {
        for crumb in crumbs.iter_mut() {
            shift(crumb.get_mut("timestamp"), by);
        }
    }
    if let Some(spans) = event.get_mut("spans").and_then(Value::as_array_mut) {
        for span in spans.iter_mut() {
            shift(span.get_mut("start_timestamp"), by);
            shift(span.get_mut("timestamp"), by);
        }
    }
}

fn shift(value: Option<&mut Value>, by: Duration) {
    let Some(value) = value else { return };
    if let Some(ts) = timestamp::parse_value(value) {
        *value = timestamp::to_value(ts + by);
    }
}

/// The checks that make Relay drop a transaction (validation.rs): both timestamps, end not
/// before start, a trace context with valid ids, and complete spans.
pub(crate) fn validate_transaction(event: &mut Map<String, Value>, had_timestamp: bool) -> Result<(), EventError> {
    let invalid = EventError::InvalidTransaction;
    if !had_timestamp {
        return Err(invalid("missing timestamp"));
    }
    let end = event.get("timestamp").and_then(Value::as_f64).ok_or(invalid("missing timestamp"))?;
    let start = event.get("start_timestamp").and_then(Value::as_f64).ok_or(invalid("missing start_timestamp"))?;
    if end < start {
        return Err(invalid("end timestamp is before start timestamp"));
    }
    let trace = event
        .get_mut("contexts")
        .and_then(|c| c.get_mut("trace"))
        .and_then(Value::as_object_mut)
        .ok_or(invalid("missing trace context"))?;
    normalize_id(trace, "trace_id", 32).ok_or(invalid("invalid trace_id"))?;
    normalize_id(trace, "span_id", 16).ok_or(invalid("invalid span_id"))?;
    let Some(spans) = event.get_mut("spans").and_then(Value::as_array_mut) else {
        return Ok(());
    };
    for span in spans.iter_mut().filter_map(Value::as_object_mut) {
        let start =
            span.get("start_timestamp").and_then(Value::as_f64).ok_or(invalid("span without start_timestamp"))?;
        let end = span.get("timestamp").and_then(Value::as_f64).ok_or(invalid("span without timestamp"))?;
        if end < start {
            return Err(invalid("span ends before it starts"));
        }
        normalize_id(span, "trace_id", 32).ok_or(invalid("span with invalid trace_id"))?;
        normalize_id(span, "span_id", 16).ok_or(invalid("span with invalid span_id"))?;
    }
    Ok(())
}

/// Checks a hex id of `len` digits (dashes allowed, as in UUIDs) and stores it lowercase.
fn normalize_id(object: &mut Map<String, Value>, key: &str, len: usize) -> Option<()> {
    let Value::String(id) = object.get_mut(key)? else {
        return None;
    };
    let clean: String = id.chars().filter(|c| *c != '-').collect::<String>().to_ascii_lowercase();
    if clean.len() != len || !clean.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    *id = clean;
    Some(())
}
