//! Behaviour of the whole normalization pass; field-level cases live next to their code and
//! whole events in the golden fixtures.

use serde_json::{Value, json};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use super::*;
use crate::protocol::timestamp;

const RECEIVED: OffsetDateTime = datetime!(2026-11-21 07:12:00 UTC);

fn normalize(event: Value, opts: &NormalizeOptions) -> NormalizedEvent {
    normalize_event(event.to_string().as_bytes(), opts).expect("event normalizes")
}

fn opts() -> NormalizeOptions {
    NormalizeOptions::new(RECEIVED)
}

#[test]
fn ten_thousand_levels_of_nesting_are_an_error_not_a_crash() {
    let deep = format!("{{\"extra\":{}1{}}}", "[".repeat(10_000), "]".repeat(10_000));
    let err = normalize_event(deep.as_bytes(), &opts()).expect_err("too deep");
    assert!(matches!(err, EventError::InvalidJson(_)), "{err}");
}

#[test]
fn non_objects_and_broken_json_are_rejected() {
    for payload in [&b"[1]"[..], b"\"event\"", b"null", b"{", b""] {
        assert!(normalize_event(payload, &opts()).is_err(), "{}", String::from_utf8_lossy(payload));
    }
}

#[test]
fn invalid_utf8_is_an_error_where_it_is_and_valid_utf8_is_kept() {
    let broken = b"{\"message\": \"caf\xc3\"}";
    let err = normalize_event(broken, &opts()).expect_err("not UTF-8");
    assert!(matches!(&err, EventError::InvalidJson(e) if e.column() > 0), "{err:?}");
    let event = normalize_event("{\"message\": \"café ✓ \\u00e9\"}".as_bytes(), &opts()).expect("UTF-8");
    assert_eq!(event.payload["logentry"]["formatted"], "café ✓ é");
}

#[test]
fn the_normalized_payload_round_trips_through_serde_json() {
    let event = normalize(json!({"message": "hi", "extra": {"a": [1, {"b": null}]}, "tags": [["k", "v"]]}), &opts());
    let text = serde_json::to_string(&event.payload).expect("serializes");
    let back: Value = serde_json::from_str(&text).expect("parses");
    assert_eq!(back, event.payload);
    let again = normalize_value(back, &opts()).expect("renormalizes");
    assert_eq!(again.summary, event.summary);
}

#[test]
fn the_envelope_event_id_beats_the_payload_and_a_missing_one_is_generated() {
    let header: EventId = "0e1d2c3b4a5f40e1a2b3c4d5e6f70819".parse().expect("valid id");
    let mut with_header = opts();
    with_header.envelope_event_id = Some(header);
    let event = normalize(json!({"event_id": "9ec79c33ec9942ab8353589fcb2e04dc"}), &with_header);
    assert_eq!(event.event_id, header);
    assert_eq!(event.payload["event_id"], json!(header.to_string()));

    let from_payload = normalize(json!({"event_id": "9ec79c33-ec99-42ab-8353-589fcb2e04dc"}), &opts());
    assert_eq!(from_payload.event_id.to_string(), "9ec79c33ec9942ab8353589fcb2e04dc");

    let generated = normalize(json!({}), &opts());
    assert!(!generated.event_id.is_nil());
    assert_eq!(generated.payload["contexts"]["trace"]["trace_id"], json!(generated.event_id.to_string()));
}

#[test]
fn drift_of_an_hour_is_corrected_but_latency_is_not() {
    let ts = RECEIVED - Duration::hours(2);
    let event =
        json!({"timestamp": timestamp::to_secs(ts), "breadcrumbs": [{"timestamp": timestamp::to_secs(ts) - 5.0}]});
    let mut drifted = opts();
    drifted.sent_at = Some(RECEIVED - Duration::hours(2));
    let corrected = normalize(event.clone(), &drifted);
    assert_eq!(corrected.summary.timestamp, RECEIVED);
    assert_eq!(corrected.payload["breadcrumbs"]["values"][0]["timestamp"], json!(timestamp::to_secs(RECEIVED) - 5.0));
    assert_eq!(corrected.payload["errors"][0]["type"], json!("clock_drift"));

    let mut latency = opts();
    latency.sent_at = Some(RECEIVED - Duration::minutes(50));
    let event = json!({"timestamp": timestamp::to_secs(RECEIVED - Duration::minutes(50))});
    assert_eq!(normalize(event, &latency).summary.timestamp, RECEIVED - Duration::minutes(50));
}

#[test]
fn future_and_stale_timestamps_are_moved_to_the_receive_time() {
    for ts in [RECEIVED + Duration::minutes(5), RECEIVED - Duration::days(91)] {
        let event = normalize(json!({"timestamp": timestamp::to_rfc3339(ts)}), &opts());
        assert_eq!(event.summary.timestamp, RECEIVED, "{ts}");
    }
    let recent = RECEIVED - Duration::days(89);
    assert_eq!(normalize(json!({"timestamp": timestamp::to_secs(recent)}), &opts()).summary.timestamp, recent);
    let missing = normalize(json!({}), &opts());
    assert_eq!(
        (missing.summary.timestamp, &missing.payload["received"]),
        (RECEIVED, &json!(timestamp::to_secs(RECEIVED)))
    );
}

#[test]
fn auto_ip_is_resolved_and_browsers_get_the_client_ip() {
    let mut with_ip = opts();
    with_ip.client_ip = "203.0.113.7".parse().ok();
    let python = normalize(json!({"platform": "python", "user": {"ip_address": "{{auto}}"}}), &with_ip);
    assert_eq!(python.payload["user"]["ip_address"], json!("203.0.113.7"));
    let python_no_auto = normalize(json!({"platform": "python"}), &with_ip);
    assert!(python_no_auto.payload.get("user").is_none());
    let browser = normalize(json!({"platform": "javascript"}), &with_ip);
    assert_eq!(browser.summary.user.and_then(|u| u.user_key()).as_deref(), Some("ip:203.0.113.7"));
    let remote = normalize(json!({"platform": "python", "request": {"env": {"REMOTE_ADDR": "{{auto}}"}}}), &with_ip);
    assert_eq!(remote.payload["request"]["env"]["REMOTE_ADDR"], json!("203.0.113.7"));
    assert_eq!(remote.payload["user"]["ip_address"], json!("203.0.113.7"));
    let unresolved = normalize(json!({"user": {"id": "1", "ip_address": "{{auto}}"}}), &opts());
    assert!(unresolved.payload["user"].get("ip_address").is_none());
}

#[test]
fn user_identity_prefers_id_then_username_then_email_then_ip() {
    let cases = [
        (json!({"id": 7, "username": "u", "email": "e@x.io"}), "id:7"),
        (json!({"id": "", "username": "u", "email": "e@x.io"}), "username:u"),
        (json!({"email": "e@x.io", "ip_address": "192.0.2.1"}), "email:e@x.io"),
        (json!({"ip_address": "192.0.2.1"}), "ip:192.0.2.1"),
    ];
    for (user, key) in cases {
        let event = normalize(json!({ "user": user }), &opts());
        assert_eq!(event.summary.user.and_then(|u| u.user_key()).as_deref(), Some(key));
        assert_eq!(event.payload["user"]["sentry_user"], json!(key));
    }
}

#[test]
fn transactions_get_info_level_duration_and_status() {
    let mut tx = opts();
    tx.kind = EventKind::Transaction;
    let start = timestamp::to_secs(RECEIVED) - 1.0;
    let event = normalize(
        json!({"type": "transaction", "transaction": "GET /", "start_timestamp": start, "timestamp": start + 0.25,
               "contexts": {"trace": {"trace_id": "0f3ab3e7bf384bfaa5a9618aee85bd12", "span_id": "b9550406404366fe"}}}),
        &tx,
    );
    assert_eq!(event.summary.ty, EventType::Transaction);
    assert_eq!(event.summary.level, "info");
    assert_eq!(event.summary.duration_ms, Some(250.0));
    assert_eq!(event.summary.trace_status.as_deref(), Some("unknown"));
    assert_eq!((event.summary.title.as_str(), event.summary.culprit.as_str()), ("GET /", "GET /"));
}

#[test]
fn transactions_missing_required_parts_are_rejected() {
    let mut tx = opts();
    tx.kind = EventKind::Transaction;
    let trace = json!({"trace": {"trace_id": "0f3ab3e7bf384bfaa5a9618aee85bd12", "span_id": "b9550406404366fe"}});
    let ts = timestamp::to_secs(RECEIVED);
    let cases = [
        (json!({"start_timestamp": ts, "contexts": trace}), "invalid transaction: missing timestamp"),
        (json!({"timestamp": ts, "contexts": trace}), "invalid transaction: missing start_timestamp"),
        (
            json!({"timestamp": ts, "start_timestamp": ts, "contexts": {"trace": {"trace_id": "xyz", "span_id": "b9550406404366fe"}}}),
            "invalid transaction: invalid trace_id",
        ),
        (
            json!({"timestamp": ts, "start_timestamp": ts, "contexts": trace, "spans": [{"start_timestamp": ts}]}),
            "invalid transaction: span without timestamp",
        ),
    ];
    for (event, message) in cases {
        let err = normalize_event(event.to_string().as_bytes(), &tx).expect_err(message);
        assert_eq!(err.to_string(), message);
    }
}

#[test]
fn a_payload_typed_transaction_on_an_event_item_is_a_transaction() {
    let err = normalize_event(br#"{"type":"transaction"}"#, &opts()).expect_err("no timestamps");
    assert!(matches!(err, EventError::InvalidTransaction(_)));
}

#[test]
fn errors_get_sentry_titles_and_culprits() {
    let event = normalize(
        json!({"platform": "python", "exception": {"values": [{"type": "ValueError", "value": "bad\nsecond line",
            "stacktrace": {"frames": [{"module": "app.views", "function": "div", "in_app": true},
                                      {"module": "lib.x", "function": "inner", "in_app": false}]}}]}}),
        &opts(),
    );
    assert_eq!(event.summary.ty, EventType::Error);
    assert_eq!(event.summary.title, "ValueError: bad");
    assert_eq!(event.summary.culprit, "app.views in div");
    assert_eq!(event.payload["culprit"], json!("app.views in div"));
    let message = normalize(json!({"message": "x".repeat(150)}), &opts());
    assert_eq!(message.summary.title.chars().count(), 100);
    assert_eq!(normalize(json!({}), &opts()).summary.title, "<unlabeled event>");
}

#[test]
fn unknown_platforms_become_other_unless_the_project_names_one() {
    assert_eq!(normalize(json!({"platform": "rust"}), &opts()).summary.platform, "other");
    let mut project = opts();
    project.project_platform = Some("python".into());
    assert_eq!(normalize(json!({}), &project).summary.platform, "python");
    assert_eq!(normalize(json!({"platform": "rust"}), &project).summary.platform, "other");
}

#[test]
fn the_sdk_is_backfilled_from_the_client_header() {
    let mut client = opts();
    client.client = Some("sentry.ruby/5.17.0".into());
    let event = normalize(json!({}), &client);
    assert_eq!(
        (event.summary.sdk_name.as_deref(), event.summary.sdk_version.as_deref()),
        (Some("sentry.ruby"), Some("5.17.0"))
    );
}

#[test]
fn breadcrumbs_get_a_known_level_a_type_and_a_valid_timestamp_or_none() {
    let ts = timestamp::to_secs(RECEIVED) - 5.0;
    let event = json!({"breadcrumbs": [
        {"timestamp": ts, "level": " WARN ", "type": "http", "message": 3},
        {"timestamp": "not a time", "level": "loud", "category": true},
        {"level": 40, "type": 7},
        {"timestamp": null, "level": "error"},
    ]});
    let normalized = normalize(event, &opts());
    let crumbs = &normalized.payload["breadcrumbs"]["values"];
    assert_eq!(crumbs[0], json!({"timestamp": ts, "level": "warning", "type": "http", "message": "3"}));
    assert_eq!(crumbs[1], json!({"level": "info", "type": "default", "category": "true"}));
    assert_eq!(crumbs[2], json!({"level": "error", "type": "default"}));
    assert_eq!(crumbs[3], json!({"level": "error", "type": "default"}));
    let errors = normalized.payload["errors"].as_array().expect("errors");
    let bad_timestamps: Vec<&Value> =
        errors.iter().filter(|e| e["name"] == json!("breadcrumbs.timestamp")).map(|e| &e["value"]).collect();
    assert_eq!(bad_timestamps, [&json!("not a time")], "a null timestamp is dropped without an error");
}
