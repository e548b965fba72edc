//! Size limits, with Relay's defaults (`relay-config` `Limits::default`, protocol.md §3.6).
//!
//! Body limits apply to the decoded request; the ingest layer enforces them while reading and
//! decoding. Item limits apply per envelope and per class of item: the size of one item, how
//! many there may be, and their total size. Any violation rejects the whole envelope with 413,
//! which is what [`check_envelope`] reports. Unknown item types are not checked.

use crate::protocol::envelope::{Envelope, Item};
use crate::protocol::item_type::ItemType;

const KIB: usize = 1024;
const MIB: usize = 1024 * KIB;

/// Largest decoded body on `/envelope/`.
pub const MAX_ENVELOPE_BYTES: usize = 200 * MIB;
/// Largest decoded body on the legacy `/store/` endpoint (one event).
pub const MAX_STORE_BYTES: usize = MIB;
/// Largest event-like item (event, transaction, feedback, security, replay event).
pub const MAX_EVENT_BYTES: usize = MIB;
/// Largest attachment, and largest total of attachments in one envelope.
pub const MAX_ATTACHMENT_BYTES: usize = 200 * MIB;
/// Most attachments in one envelope.
pub const MAX_ATTACHMENTS: usize = 30;
/// Largest (compressed) replay recording or video.
pub const MAX_REPLAY_BYTES: usize = 10 * MIB;
/// Largest session item, and largest total of session items.
pub const MAX_SESSION_BYTES: usize = 10 * MIB;
/// Most session items in one envelope.
pub const MAX_SESSIONS: usize = 100;
/// Largest client report, and largest total of client reports.
pub const MAX_CLIENT_REPORT_BYTES: usize = 100 * KIB;
/// Most client reports in one envelope.
pub const MAX_CLIENT_REPORTS: usize = 100;
/// Largest profile or profile chunk.
pub const MAX_PROFILE_BYTES: usize = 50 * MIB;
/// Largest cron check-in.
pub const MAX_CHECK_IN_BYTES: usize = 100 * KIB;
/// Largest average log inside a `log` container.
pub const MAX_LOG_BYTES: usize = 2 * MIB;
/// Largest average metric inside a `trace_metric` container.
pub const MAX_TRACE_METRIC_BYTES: usize = MIB;
/// Largest span (legacy item, or average inside a v2 container).
pub const MAX_SPAN_BYTES: usize = 10 * MIB;
/// Most legacy span items in one envelope.
pub const MAX_SPANS: usize = 25;
/// Largest total of one container class (logs, spans, trace metrics).
pub const MAX_CONTAINER_TOTAL_BYTES: usize = 12 * MIB;
/// Largest deprecated metrics item.
pub const MAX_METRICS_BYTES: usize = MIB;

/// Content type of a v2 span container.
const SPAN_CONTAINER: &str = "application/vnd.sentry.items.span.v2+json";

/// Limits for one class of items.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ItemLimit {
    /// Items of this class share the count and total; the first type seen names the class.
    pub class: &'static str,
    /// Largest single item (for containers: the average entry).
    pub max_item_bytes: usize,
    /// Most items of the class per envelope.
    pub max_count: usize,
    /// Largest total payload of the class per envelope.
    pub max_total_bytes: usize,
}

/// What was exceeded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LimitKind {
    /// One item is too large.
    ItemSize,
    /// Too many items of the class.
    Count,
    /// The items of the class are too large together.
    TotalSize,
}

/// An envelope that breaks an item limit (HTTP 413).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("envelope exceeded size limits for type '{ty}'")]
pub struct LimitError {
    /// The item type that broke the limit.
    pub ty: String,
    /// Which limit it broke.
    pub kind: LimitKind,
}

/// The limits for an item, or `None` for types Relay does not check.
pub fn item_limit(item: &Item) -> Option<ItemLimit> {
    let limit = |class, max_item_bytes, max_count, max_total_bytes| {
        Some(ItemLimit { class, max_item_bytes, max_count, max_total_bytes })
    };
    match &item.ty {
        ty if ty.is_event_like() => limit("event", MAX_EVENT_BYTES, 1, MAX_EVENT_BYTES),
        ItemType::Attachment | ItemType::UnrealReport | ItemType::UserReport => {
            limit("attachment", MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS, MAX_ATTACHMENT_BYTES)
        }
        ItemType::ReplayRecording => limit("replay_recording", MAX_REPLAY_BYTES, 1, MAX_REPLAY_BYTES),
        ItemType::ReplayVideo => limit("replay_video", MAX_REPLAY_BYTES, 1, MAX_REPLAY_BYTES),
        ItemType::Session | ItemType::Sessions => limit("session", MAX_SESSION_BYTES, MAX_SESSIONS, MAX_SESSION_BYTES),
        ItemType::ClientReport => {
            limit("client_report", MAX_CLIENT_REPORT_BYTES, MAX_CLIENT_REPORTS, MAX_CLIENT_REPORT_BYTES)
        }
        ItemType::Profile | ItemType::ProfileChunk => limit("profile", MAX_PROFILE_BYTES, 1, MAX_PROFILE_BYTES),
        ItemType::CheckIn => limit("check_in", MAX_CHECK_IN_BYTES, 1, MAX_CHECK_IN_BYTES),
        ItemType::Log => limit("log", MAX_LOG_BYTES, 1, MAX_CONTAINER_TOTAL_BYTES),
        ItemType::TraceMetric => limit("trace_metric", MAX_TRACE_METRIC_BYTES, 1, MAX_CONTAINER_TOTAL_BYTES),
        ItemType::Span if is_span_container(item) => limit("span", MAX_SPAN_BYTES, 1, MAX_CONTAINER_TOTAL_BYTES),
        ItemType::Span => limit("span", MAX_SPAN_BYTES, MAX_SPANS, MAX_CONTAINER_TOTAL_BYTES),
        ItemType::Statsd | ItemType::MetricBuckets => limit("metrics", MAX_METRICS_BYTES, 1, MAX_METRICS_BYTES),
        _ => None,
    }
}

fn is_span_container(item: &Item) -> bool {
    item.headers.content_type.as_deref().is_some_and(|ct| ct.eq_ignore_ascii_case(SPAN_CONTAINER))
}

/// The size compared against `max_item_bytes`: containers (`item_count` set) are judged by
/// their average entry.
fn measured_size(item: &Item) -> usize {
    match item.headers.item_count {
        Some(count) if count > 0 => item.payload.len() / count as usize,
        _ => item.payload.len(),
    }
}

/// Checks every item limit of an envelope.
pub fn check_envelope(envelope: &Envelope) -> Result<(), LimitError> {
    let mut seen: Vec<(&'static str, usize, usize)> = Vec::new();
    for item in &envelope.items {
        let Some(limit) = item_limit(item) else {
            continue;
        };
        let error = |kind| LimitError { ty: item.ty.to_string(), kind };
        if measured_size(item) > limit.max_item_bytes {
            return Err(error(LimitKind::ItemSize));
        }
        let index = match seen.iter().position(|(class, ..)| *class == limit.class) {
            Some(index) => index,
            None => {
                seen.push((limit.class, 0, 0));
                seen.len() - 1
            }
        };
        let (_, count, total) = &mut seen[index];
        *count += 1;
        *total += item.payload.len();
        if *count > limit.max_count {
            return Err(error(LimitKind::Count));
        }
        if *total > limit.max_total_bytes {
            return Err(error(LimitKind::TotalSize));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    fn envelope(items: &str) -> Envelope {
        Envelope::parse(Bytes::from(format!("{{}}\n{items}"))).expect("valid envelope")
    }

    #[test]
    fn one_event_with_attachments_and_sessions_is_within_limits() {
        let env = envelope("{\"type\":\"event\"}\n{}\n{\"type\":\"attachment\"}\nabc\n{\"type\":\"session\"}\n{}\n");
        assert_eq!(check_envelope(&env), Ok(()));
    }

    #[test]
    fn an_event_and_a_transaction_share_one_slot() {
        let env = envelope("{\"type\":\"event\"}\n{}\n{\"type\":\"transaction\"}\n{}\n");
        let err = check_envelope(&env).expect_err("two event-like items");
        assert_eq!(err.kind, LimitKind::Count);
        assert_eq!(err.to_string(), "envelope exceeded size limits for type 'transaction'");
    }

    #[test]
    fn an_oversized_check_in_is_rejected() {
        let big = "x".repeat(MAX_CHECK_IN_BYTES + 1);
        let env = envelope(&format!("{{\"type\":\"check_in\"}}\n{big}\n"));
        let err = check_envelope(&env).expect_err("too large");
        assert_eq!((err.ty.as_str(), err.kind), ("check_in", LimitKind::ItemSize));
    }

    #[test]
    fn more_than_a_hundred_sessions_are_rejected() {
        let items = "{\"type\":\"session\"}\n{}\n".repeat(MAX_SESSIONS + 1);
        let err = check_envelope(&envelope(&items)).expect_err("too many");
        assert_eq!(err.kind, LimitKind::Count);
        let items = "{\"type\":\"session\"}\n{}\n".repeat(MAX_SESSIONS);
        assert_eq!(check_envelope(&envelope(&items)), Ok(()));
    }

    #[test]
    fn unknown_items_are_not_checked() {
        let items = "{\"type\":\"hologram\"}\n{}\n".repeat(500);
        assert_eq!(check_envelope(&envelope(&items)), Ok(()));
    }

    #[test]
    fn containers_are_judged_by_their_average_entry() {
        let payload = "x".repeat(3 * MIB);
        let two = envelope(&format!("{{\"type\":\"log\",\"item_count\":2}}\n{payload}\n"));
        assert_eq!(check_envelope(&two), Ok(()));
        let one = envelope(&format!("{{\"type\":\"log\",\"item_count\":1}}\n{payload}\n"));
        assert_eq!(check_envelope(&one).map_err(|e| e.kind), Err(LimitKind::ItemSize));
    }
}
