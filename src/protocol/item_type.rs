//! The `type` of an envelope item (protocol.md §3.4).
//!
//! Names follow Relay's table. Unknown names are kept as [`ItemType::Unknown`] so that a newer
//! SDK's items are skipped rather than failing the envelope.

use std::fmt;

use serde::{Serialize, Serializer};

/// The type of an envelope item.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ItemType {
    /// An error or message event (JSON).
    Event,
    /// A transaction event (JSON).
    Transaction,
    /// A security report produced by the `/security/` endpoint.
    Security,
    /// Raw bytes with a `filename`.
    Attachment,
    /// Form fields of a minidump upload.
    FormData,
    /// An unparsed security report.
    RawSecurity,
    /// A Network Error Logging report.
    Nel,
    /// An Unreal Engine crash report.
    UnrealReport,
    /// Legacy user feedback `{event_id, name, email, comments}`.
    UserReport,
    /// One session update.
    Session,
    /// Pre-aggregated sessions.
    Sessions,
    /// Deprecated statsd metrics.
    Statsd,
    /// Deprecated metric buckets.
    MetricBuckets,
    /// What the SDK dropped and why.
    ClientReport,
    /// A transaction profile.
    Profile,
    /// Replay metadata (JSON).
    ReplayEvent,
    /// rrweb replay recording (may be gzip).
    ReplayRecording,
    /// Replay video (binary).
    ReplayVideo,
    /// A cron monitor check-in.
    CheckIn,
    /// A span (legacy single span or v2 container).
    Span,
    /// A container of logs.
    Log,
    /// OpenTelemetry logs.
    OtelLog,
    /// An OpenTelemetry span.
    OtelSpan,
    /// OpenTelemetry traces data.
    OtelTracesData,
    /// A container of trace metrics.
    TraceMetric,
    /// New-style user feedback (an event with `contexts.feedback`).
    Feedback,
    /// A continuous profiling chunk (also `profile_chunk_ui`).
    ProfileChunk,
    /// Relay-internal; an SDK must never send it.
    Integration,
    /// Any other name, skipped by ingest.
    Unknown(String),
}

impl ItemType {
    /// Maps a wire name to its type; never fails.
    pub fn from_name(name: &str) -> Self {
        match name {
            "event" => Self::Event,
            "transaction" => Self::Transaction,
            "security" => Self::Security,
            "attachment" => Self::Attachment,
            "form_data" => Self::FormData,
            "raw_security" => Self::RawSecurity,
            "nel" => Self::Nel,
            "unreal_report" => Self::UnrealReport,
            "user_report" => Self::UserReport,
            "session" => Self::Session,
            "sessions" => Self::Sessions,
            "statsd" => Self::Statsd,
            "metric_buckets" => Self::MetricBuckets,
            "client_report" => Self::ClientReport,
            "profile" => Self::Profile,
            "replay_event" => Self::ReplayEvent,
            "replay_recording" => Self::ReplayRecording,
            "replay_video" => Self::ReplayVideo,
            "check_in" => Self::CheckIn,
            "span" => Self::Span,
            "log" => Self::Log,
            "otel_log" => Self::OtelLog,
            "otel_span" => Self::OtelSpan,
            "otel_traces_data" => Self::OtelTracesData,
            "trace_metric" => Self::TraceMetric,
            "feedback" => Self::Feedback,
            "profile_chunk" | "profile_chunk_ui" => Self::ProfileChunk,
            "integration" => Self::Integration,
            other => Self::Unknown(other.to_owned()),
        }
    }

    /// The wire name (`profile_chunk_ui` reads back as `profile_chunk`).
    pub fn as_str(&self) -> &str {
        match self {
            Self::Event => "event",
            Self::Transaction => "transaction",
            Self::Security => "security",
            Self::Attachment => "attachment",
            Self::FormData => "form_data",
            Self::RawSecurity => "raw_security",
            Self::Nel => "nel",
            Self::UnrealReport => "unreal_report",
            Self::UserReport => "user_report",
            Self::Session => "session",
            Self::Sessions => "sessions",
            Self::Statsd => "statsd",
            Self::MetricBuckets => "metric_buckets",
            Self::ClientReport => "client_report",
            Self::Profile => "profile",
            Self::ReplayEvent => "replay_event",
            Self::ReplayRecording => "replay_recording",
            Self::ReplayVideo => "replay_video",
            Self::CheckIn => "check_in",
            Self::Span => "span",
            Self::Log => "log",
            Self::OtelLog => "otel_log",
            Self::OtelSpan => "otel_span",
            Self::OtelTracesData => "otel_traces_data",
            Self::TraceMetric => "trace_metric",
            Self::Feedback => "feedback",
            Self::ProfileChunk => "profile_chunk",
            Self::Integration => "integration",
            Self::Unknown(name) => name,
        }
    }

    /// Items that become an event: at most one of these per envelope.
    pub fn is_event_like(&self) -> bool {
        matches!(
            self,
            Self::Event
                | Self::Transaction
                | Self::Security
                | Self::RawSecurity
                | Self::ReplayEvent
                | Self::Feedback
                | Self::FormData
        )
    }

    /// Items bound to the envelope's `event_id` (it is generated when missing).
    pub fn requires_event_id(&self) -> bool {
        matches!(
            self,
            Self::Event
                | Self::Transaction
                | Self::Attachment
                | Self::UserReport
                | Self::Feedback
                | Self::ReplayEvent
                | Self::Profile
                | Self::Security
                | Self::RawSecurity
                | Self::FormData
                | Self::UnrealReport
        )
    }
}

impl fmt::Display for ItemType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ItemType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_name_reads_back_as_itself() {
        let names = [
            "event",
            "transaction",
            "security",
            "attachment",
            "form_data",
            "raw_security",
            "nel",
            "unreal_report",
            "user_report",
            "session",
            "sessions",
            "statsd",
            "metric_buckets",
            "client_report",
            "profile",
            "replay_event",
            "replay_recording",
            "replay_video",
            "check_in",
            "span",
            "log",
            "otel_log",
            "otel_span",
            "otel_traces_data",
            "trace_metric",
            "feedback",
            "profile_chunk",
            "integration",
        ];
        for name in names {
            let ty = ItemType::from_name(name);
            assert!(!matches!(ty, ItemType::Unknown(_)), "{name}");
            assert_eq!(ty.as_str(), name);
        }
    }

    #[test]
    fn profile_chunk_ui_is_an_alias_and_unknown_names_are_kept() {
        assert_eq!(ItemType::from_name("profile_chunk_ui"), ItemType::ProfileChunk);
        let unknown = ItemType::from_name("hologram");
        assert_eq!(unknown, ItemType::Unknown("hologram".into()));
        assert_eq!(unknown.to_string(), "hologram");
        assert!(!unknown.requires_event_id() && !unknown.is_event_like());
    }
}
