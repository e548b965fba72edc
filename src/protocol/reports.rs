//! Small item types the ingest layer stores or counts as they are: client reports, legacy user
//! reports, cron check-ins, and the feedback context of `feedback` events.
//!
//! ```json
//! client_report: {"timestamp":1714557600,"discarded_events":[{"reason":"queue_overflow","category":"error","quantity":3}]}
//! user_report:   {"event_id":"9ec79c33ec9942ab8353589fcb2e04dc","name":"Jane","email":"jane@example.com","comments":"It broke"}
//! check_in:      {"check_in_id":"83a7c0b0e3d44a1e9c1c2c6e1f7e0d3a","monitor_slug":"nightly","status":"ok","duration":12.5}
//! ```

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use crate::protocol::ids::EventId;
use crate::protocol::timestamp;

/// Why a small item could not be read (the item is dropped, the envelope still accepted).
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Not JSON of the expected shape.
    #[error("invalid {kind} payload")]
    Invalid {
        /// The item type.
        kind: &'static str,
        /// What serde_json reported.
        #[source]
        source: serde_json::Error,
    },
}

/// One outcome line of a client report.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct DiscardedEvent {
    /// Why the SDK dropped it (`queue_overflow`, `ratelimit_backoff`, `sample_rate`, …).
    pub reason: String,
    /// Data category (`error`, `transaction`, `attachment`, …).
    pub category: String,
    /// How many.
    #[serde(default)]
    pub quantity: u64,
}

/// What an SDK reports it dropped before sending.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub struct ClientReport {
    /// When the report was made.
    #[serde(default, deserialize_with = "lenient_timestamp")]
    #[serde(serialize_with = "serialize_timestamp")]
    pub timestamp: Option<OffsetDateTime>,
    /// Dropped by the SDK.
    #[serde(default)]
    pub discarded_events: Vec<DiscardedEvent>,
    /// Dropped because of server rate limits.
    #[serde(default)]
    pub rate_limited_events: Vec<DiscardedEvent>,
    /// Dropped by inbound filters.
    #[serde(default)]
    pub filtered_events: Vec<DiscardedEvent>,
    /// Dropped by dynamic sampling.
    #[serde(default)]
    pub filtered_sampling_events: Vec<DiscardedEvent>,
}

/// Legacy user feedback attached to an event.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct UserReport {
    /// The event the feedback is about.
    pub event_id: EventId,
    /// Reporter's name.
    #[serde(default)]
    pub name: Option<String>,
    /// Reporter's email.
    #[serde(default)]
    pub email: Option<String>,
    /// What the user wrote.
    #[serde(default)]
    pub comments: String,
}

/// `contexts.feedback` of a `feedback` event.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct FeedbackContext {
    /// What the user wrote.
    #[serde(default)]
    pub message: String,
    /// Reporter's email.
    #[serde(default)]
    pub contact_email: Option<String>,
    /// Reporter's name.
    #[serde(default)]
    pub name: Option<String>,
    /// Page the feedback was given on.
    #[serde(default)]
    pub url: Option<String>,
    /// The error event it refers to.
    #[serde(default)]
    pub associated_event_id: Option<EventId>,
    /// The session replay it refers to.
    #[serde(default)]
    pub replay_id: Option<String>,
}

/// Status of a cron check-in.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckInStatus {
    /// The job started.
    InProgress,
    /// The job finished successfully.
    Ok,
    /// The job failed.
    Error,
    /// The job missed its schedule (sent by the server, tolerated here).
    Missed,
    /// Anything else.
    #[serde(other)]
    Unknown,
}

/// A cron monitor check-in.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub struct CheckIn {
    /// Id shared by the `in_progress` and final check-in of one run.
    pub check_in_id: String,
    /// The monitor.
    pub monitor_slug: String,
    /// Where the run is.
    pub status: CheckInStatus,
    /// Seconds the run took.
    #[serde(default)]
    pub duration: Option<f64>,
    /// Environment of the run.
    #[serde(default)]
    pub environment: Option<String>,
    /// Upsert configuration (`schedule`, `checkin_margin`, …), kept as sent.
    #[serde(default)]
    pub monitor_config: Option<Value>,
    /// Trace context, kept as sent.
    #[serde(default)]
    pub contexts: Option<Value>,
}

fn parse<T: for<'de> Deserialize<'de>>(kind: &'static str, payload: &[u8]) -> Result<T, ReportError> {
    serde_json::from_slice(payload).map_err(|source| ReportError::Invalid { kind, source })
}

/// Parses a `client_report` item.
pub fn parse_client_report(payload: &[u8]) -> Result<ClientReport, ReportError> {
    parse("client_report", payload)
}

/// Parses a `user_report` item.
pub fn parse_user_report(payload: &[u8]) -> Result<UserReport, ReportError> {
    parse("user_report", payload)
}

/// Parses a `check_in` item.
pub fn parse_check_in(payload: &[u8]) -> Result<CheckIn, ReportError> {
    parse("check_in", payload)
}

/// Reads `contexts.feedback` from a normalized feedback event.
pub fn feedback_context(event: &Value) -> Option<FeedbackContext> {
    serde_json::from_value(event.get("contexts")?.get("feedback")?.clone()).ok()
}

fn lenient_timestamp<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<OffsetDateTime>, D::Error> {
    Ok(timestamp::parse_value(&Value::deserialize(deserializer)?))
}

fn serialize_timestamp<S: serde::Serializer>(ts: &Option<OffsetDateTime>, serializer: S) -> Result<S::Ok, S::Error> {
    match ts {
        Some(ts) => serializer.serialize_str(&timestamp::to_rfc3339(*ts)),
        None => serializer.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn client_reports_accept_numeric_and_text_timestamps() {
        let numeric = parse_client_report(br#"{"timestamp":1714557600,"discarded_events":[{"reason":"queue_overflow","category":"error","quantity":3}]}"#)
            .expect("valid report");
        let text = parse_client_report(br#"{"timestamp":"2024-05-01T10:00:00Z","rate_limited_events":[{"reason":"ratelimit_backoff","category":"transaction","quantity":1}]}"#)
            .expect("valid report");
        assert_eq!(numeric.timestamp, text.timestamp);
        assert_eq!(numeric.discarded_events[0].quantity, 3);
        assert_eq!(text.rate_limited_events[0].category, "transaction");
    }

    #[test]
    fn user_reports_need_a_valid_event_id() {
        let report = parse_user_report(br#"{"event_id":"9ec79c33-ec99-42ab-8353-589fcb2e04dc","name":null,"email":"j@x.io","comments":"It broke"}"#)
            .expect("valid report");
        assert_eq!(report.event_id.to_string(), "9ec79c33ec9942ab8353589fcb2e04dc");
        assert_eq!(report.name, None);
        let err = parse_user_report(br#"{"event_id":"nope","comments":""}"#).expect_err("bad id");
        assert_eq!(err.to_string(), "invalid user_report payload");
    }

    #[test]
    fn check_ins_parse_known_and_unknown_statuses() {
        let check_in = parse_check_in(br#"{"check_in_id":"83a7c0b0e3d44a1e9c1c2c6e1f7e0d3a","monitor_slug":"nightly","status":"in_progress","monitor_config":{"schedule":{"type":"crontab","value":"0 * * * *"}}}"#)
            .expect("valid check-in");
        assert_eq!(check_in.status, CheckInStatus::InProgress);
        assert!(check_in.monitor_config.is_some());
        let odd = parse_check_in(br#"{"check_in_id":"x","monitor_slug":"m","status":"timeout"}"#).expect("valid");
        assert_eq!(odd.status, CheckInStatus::Unknown);
        assert!(parse_check_in(br#"{"monitor_slug":"m","status":"ok"}"#).is_err());
    }

    #[test]
    fn feedback_context_is_read_from_the_event() {
        let event = json!({"contexts": {"feedback": {"message": "Great", "contact_email": "a@b.c",
            "associated_event_id": "9ec79c33ec9942ab8353589fcb2e04dc"}}});
        let feedback = feedback_context(&event).expect("feedback present");
        assert_eq!(feedback.message, "Great");
        assert!(feedback.associated_event_id.is_some());
        assert_eq!(feedback_context(&json!({})), None);
    }
}
