//! Release health: `session` (one session's update) and `sessions` (pre-aggregated counts)
//! items, protocol.md §7.
//!
//! ```json
//! {"sid":"7c7b6585-f901-4351-bf8d-02711b721929","did":"user-123","init":true,
//!  "started":"2020-02-07T14:16:00Z","timestamp":"2020-02-07T14:17:00Z","seq":0,"duration":60.0,
//!  "status":"exited","errors":0,"attrs":{"release":"my-app@1.0.0","environment":"production"}}
//!
//! {"aggregates":[{"started":"2020-02-07T14:16:00Z","exited":123,"errored":3,"crashed":1}],
//!  "attrs":{"release":"my-app@1.0.0","environment":"production"}}
//! ```
//!
//! Parsing is lenient where SDKs differ (timestamps as text or numbers, `did` as a number,
//! missing `sid`) and strict where counting would go wrong: `started` and `attrs.release` are
//! required. A nil UUID `did` means "no user", as in Relay.

use serde::{Serialize, Serializer};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::protocol::timestamp;

/// Why a session payload was rejected (the item is dropped, the envelope still accepted).
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// Not JSON.
    #[error("invalid session json")]
    InvalidJson(#[source] serde_json::Error),
    /// JSON, but not an object.
    #[error("session payload is not a json object")]
    NotAnObject,
    /// A required field is missing or unreadable.
    #[error("session without valid {0}")]
    Missing(&'static str),
}

/// Where a session ended up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionStatus {
    /// Still running.
    Ok,
    /// Ended normally.
    Exited,
    /// Ended in a crash.
    Crashed,
    /// Ended abnormally (e.g. ANR, killed).
    Abnormal,
    /// Had errors (internal).
    Errored,
    /// A status this server does not know.
    Unknown(String),
}

impl SessionStatus {
    fn parse(text: &str) -> Self {
        match text {
            "ok" => Self::Ok,
            "exited" => Self::Exited,
            "crashed" => Self::Crashed,
            "abnormal" => Self::Abnormal,
            "errored" => Self::Errored,
            other => Self::Unknown(other.to_owned()),
        }
    }

    /// The wire name.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Ok => "ok",
            Self::Exited => "exited",
            Self::Crashed => "crashed",
            Self::Abnormal => "abnormal",
            Self::Errored => "errored",
            Self::Unknown(other) => other,
        }
    }

    /// Whether the session is over.
    pub fn is_terminal(&self) -> bool {
        !matches!(self, Self::Ok)
    }
}

impl Serialize for SessionStatus {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// `attrs` of a session or of aggregates.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SessionAttributes {
    /// Required.
    pub release: String,
    /// Optional environment.
    pub environment: Option<String>,
    /// IP, possibly `{{auto}}`.
    pub ip_address: Option<String>,
    /// User agent of the client.
    pub user_agent: Option<String>,
}

/// One `session` item.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SessionUpdate {
    /// `sid`; absent for single-shot sessions.
    pub session_id: Option<String>,
    /// `did`: the distinct user, `None` when absent or nil.
    pub distinct_id: Option<String>,
    /// `seq`, ordering updates of one session.
    pub sequence: Option<u64>,
    /// `init`: this is the session's first update (counts it once).
    pub init: bool,
    /// When the session started.
    #[serde(with = "time::serde::rfc3339")]
    pub started: OffsetDateTime,
    /// When this update was made.
    #[serde(with = "time::serde::rfc3339::option")]
    pub timestamp: Option<OffsetDateTime>,
    /// Seconds the session lasted.
    pub duration: Option<f64>,
    /// Where it is.
    pub status: SessionStatus,
    /// Running error count (at least 1 when crashed).
    pub errors: u64,
    /// `abnormal_mechanism`, e.g. `anr_foreground`.
    pub abnormal_mechanism: Option<String>,
    /// Release and environment.
    pub attributes: SessionAttributes,
}

impl SessionUpdate {
    /// Whether this update marks the session as errored (errors, crash or abnormal end).
    pub fn is_errored(&self) -> bool {
        self.errors > 0
            || matches!(self.status, SessionStatus::Errored | SessionStatus::Crashed | SessionStatus::Abnormal)
    }
}

/// One bucket of `sessions` aggregates.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SessionAggregate {
    /// Start of the bucket (SDKs round to the minute).
    #[serde(with = "time::serde::rfc3339")]
    pub started: OffsetDateTime,
    /// The user, if the SDK aggregates per user.
    pub distinct_id: Option<String>,
    /// Sessions that ended cleanly.
    pub exited: u64,
    /// Sessions that ended with errors.
    pub errored: u64,
    /// Sessions that ended abnormally.
    pub abnormal: u64,
    /// Sessions that crashed.
    pub crashed: u64,
}

impl SessionAggregate {
    /// All sessions in the bucket.
    pub fn total(&self) -> u64 {
        self.exited + self.errored + self.abnormal + self.crashed
    }
}

/// One `sessions` item.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SessionAggregates {
    /// The buckets; unreadable ones are skipped.
    pub aggregates: Vec<SessionAggregate>,
    /// Release and environment of all buckets.
    pub attributes: SessionAttributes,
}

/// Parses a `session` item payload.
pub fn parse_session(payload: &[u8]) -> Result<SessionUpdate, SessionError> {
    let mut object = parse_object(payload)?;
    let attributes = attributes(&object)?;
    let started = object.get("started").and_then(timestamp::parse_value).ok_or(SessionError::Missing("started"))?;
    let status = SessionStatus::parse(object.get("status").and_then(Value::as_str).unwrap_or("ok"));
    let mut errors = count(object.get("errors"));
    if status == SessionStatus::Crashed {
        errors = errors.max(1);
    }
    Ok(SessionUpdate {
        session_id: text(object.remove("sid")),
        distinct_id: distinct_id(object.remove("did")),
        sequence: object.get("seq").and_then(Value::as_u64),
        init: object.get("init").and_then(Value::as_bool).unwrap_or(false),
        started,
        timestamp: object.get("timestamp").and_then(timestamp::parse_value),
        duration: object.get("duration").and_then(Value::as_f64).filter(|d| d.is_finite() && *d >= 0.0),
        status,
        errors,
        abnormal_mechanism: text(object.remove("abnormal_mechanism")),
        attributes,
    })
}

/// Parses a `sessions` item payload.
pub fn parse_sessions(payload: &[u8]) -> Result<SessionAggregates, SessionError> {
    let object = parse_object(payload)?;
    let attributes = attributes(&object)?;
    let aggregates = object
        .get("aggregates")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|bucket| {
            Some(SessionAggregate {
                started: bucket.get("started").and_then(timestamp::parse_value)?,
                distinct_id: distinct_id(bucket.get("did").cloned()),
                exited: count(bucket.get("exited")),
                errored: count(bucket.get("errored")),
                abnormal: count(bucket.get("abnormal")),
                crashed: count(bucket.get("crashed")),
            })
        })
        .collect();
    Ok(SessionAggregates { aggregates, attributes })
}

fn parse_object(payload: &[u8]) -> Result<Map<String, Value>, SessionError> {
    match serde_json::from_slice(payload).map_err(SessionError::InvalidJson)? {
        Value::Object(object) => Ok(object),
        _ => Err(SessionError::NotAnObject),
    }
}

fn attributes(object: &Map<String, Value>) -> Result<SessionAttributes, SessionError> {
    let attrs = object.get("attrs");
    let get = |key: &str| {
        attrs
            .and_then(|a| a.get(key))
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    Ok(SessionAttributes {
        release: get("release").ok_or(SessionError::Missing("attrs.release"))?,
        environment: get("environment"),
        ip_address: get("ip_address"),
        user_agent: get("user_agent"),
    })
}

fn text(value: Option<Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.is_empty() => Some(s),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn distinct_id(value: Option<Value>) -> Option<String> {
    text(value).filter(|did| did != "00000000-0000-0000-0000-000000000000")
}

fn count(value: Option<&Value>) -> u64 {
    value.and_then(Value::as_u64).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_documented_session_update_is_parsed() {
        let update = parse_session(
            br#"{"sid":"7c7b6585-f901-4351-bf8d-02711b721929","did":"user-123","init":true,
            "started":"2020-02-07T14:16:00Z","timestamp":"2020-02-07T14:17:00Z","seq":0,"duration":60.0,
            "status":"exited","errors":0,"attrs":{"release":"my-app@1.0.0","environment":"production"}}"#,
        )
        .expect("valid session");
        assert_eq!(update.distinct_id.as_deref(), Some("user-123"));
        assert!(update.init && update.status.is_terminal() && !update.is_errored());
        assert_eq!(update.attributes.release, "my-app@1.0.0");
        assert_eq!(update.started.unix_timestamp(), 1581084960);
    }

    #[test]
    fn crashed_sessions_count_at_least_one_error_and_nil_users_are_none() {
        let update = parse_session(
            br#"{"did":"00000000-0000-0000-0000-000000000000","started":1581084960,
            "status":"crashed","attrs":{"release":"r"}}"#,
        )
        .expect("valid session");
        assert!(update.is_errored());
        assert_eq!((update.errors, update.distinct_id, update.session_id), (1, None, None));
    }

    #[test]
    fn sessions_without_release_or_start_are_rejected() {
        let no_release = parse_session(br#"{"started":"2020-02-07T14:16:00Z","attrs":{}}"#).expect_err("no release");
        assert_eq!(no_release.to_string(), "session without valid attrs.release");
        let no_start = parse_session(br#"{"attrs":{"release":"r"}}"#).expect_err("no start");
        assert_eq!(no_start.to_string(), "session without valid started");
        assert!(matches!(parse_session(b"[]"), Err(SessionError::NotAnObject)));
    }

    #[test]
    fn aggregates_are_parsed_and_unreadable_buckets_skipped() {
        let sessions = parse_sessions(
            br#"{"aggregates":[
            {"started":"2020-02-07T14:16:00Z","exited":123,"errored":3,"crashed":1,"abnormal":0},
            {"started":"2020-02-07T14:17:00Z","did":"user-1","exited":12},
            {"exited":5}],
            "attrs":{"release":"my-app@1.0.0","environment":"production"}}"#,
        )
        .expect("valid aggregates");
        assert_eq!(sessions.aggregates.len(), 2);
        assert_eq!(sessions.aggregates[0].total(), 127);
        assert_eq!(sessions.aggregates[1].distinct_id.as_deref(), Some("user-1"));
        assert_eq!(sessions.attributes.environment.as_deref(), Some("production"));
    }
}
