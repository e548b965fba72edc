//! Golden tests: every fixture under `tests/fixtures/` against its snapshot in `snapshots/`.
//!
//! Envelopes named `bad-*.envelope` must fail and snapshot their error chain; all others must
//! parse and snapshot their headers, items, limit check and what each item parses into.
//! Events `NAME.input.json` (with optional `NAME.options.json`) snapshot the normalized
//! payload and summary, or the error. Accept changes with `INSTA_UPDATE=always cargo test`
//! and review the diff.

use std::error::Error;
use std::path::Path;

use bytes::Bytes;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;

use crate::protocol::envelope::{Envelope, Item};
use crate::protocol::event::{EventKind, NormalizeOptions, normalize_event};
use crate::protocol::item_type::ItemType;
use crate::protocol::{limits, reports, session, timestamp};

/// The fixtures were recorded around this time.
const RECEIVED_AT: OffsetDateTime = datetime!(2026-11-21 07:12:00 UTC);

/// `error: cause: cause`, the text an operator would see in a log line.
fn error_chain(err: &dyn Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn snapshot_settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_sort_maps(true);
    settings.set_prepend_module_to_snapshot(true);
    settings
}

#[test]
fn envelope_fixtures_parse_like_their_snapshots() {
    insta::glob!("../../tests/fixtures/envelopes", "*.envelope", |path| {
        let bytes = std::fs::read(path).expect("fixture is readable");
        let bad = file_name(path).starts_with("bad-");
        let _guard = snapshot_settings().bind_to_scope();
        match Envelope::parse(Bytes::from(bytes)) {
            Ok(envelope) => {
                assert!(!bad, "{} should not parse", path.display());
                insta::assert_json_snapshot!(describe_envelope(&envelope));
            }
            Err(err) => {
                assert!(bad, "{} should parse: {}", path.display(), error_chain(&err));
                insta::assert_snapshot!(error_chain(&err));
            }
        }
    });
}

fn file_name(path: &Path) -> &str {
    path.file_name().and_then(|n| n.to_str()).unwrap_or_default()
}

fn describe_envelope(envelope: &Envelope) -> Value {
    let items: Vec<Value> = envelope.items.iter().map(|item| describe_item(envelope, item)).collect();
    json!({
        "headers": envelope.headers,
        "items": items,
        "limits": limits::check_envelope(envelope).map_err(|e| error_chain(&e)).err(),
        "requires_event_id": envelope.requires_event_id(),
    })
}

fn describe_item(envelope: &Envelope, item: &Item) -> Value {
    let payload = &item.payload;
    let preview = match std::str::from_utf8(payload) {
        Ok(text) if payload.len() <= 120 => Value::String(text.to_owned()),
        _ => Value::String(format!("<{} bytes>", payload.len())),
    };
    let parsed = match &item.ty {
        ItemType::Event | ItemType::Transaction | ItemType::Feedback => {
            let mut opts = NormalizeOptions::new(RECEIVED_AT);
            opts.sent_at = envelope.headers.sent_at;
            opts.envelope_event_id = envelope.headers.event_id;
            opts.client_ip = "192.0.2.1".parse().ok();
            opts.kind = match item.ty {
                ItemType::Transaction => EventKind::Transaction,
                ItemType::Feedback => EventKind::Feedback,
                _ => EventKind::Event,
            };
            let generated = envelope.headers.event_id.is_none();
            match normalize_event(payload, &opts) {
                Ok(event) if generated => {
                    json!({"summary": event.summary, "event_id": "[generated]"})
                }
                Ok(event) => json!({"summary": event.summary}),
                Err(err) => json!({"error": error_chain(&err)}),
            }
        }
        ItemType::Session => to_json(session::parse_session(payload)),
        ItemType::Sessions => to_json(session::parse_sessions(payload)),
        ItemType::ClientReport => to_json(reports::parse_client_report(payload)),
        ItemType::UserReport => to_json(reports::parse_user_report(payload)),
        ItemType::CheckIn => to_json(reports::parse_check_in(payload)),
        _ => Value::Null,
    };
    json!({"type": item.ty, "headers": item.headers, "payload_len": payload.len(), "payload": preview, "parsed": parsed})
}

fn to_json<T: serde::Serialize, E: Error>(result: Result<T, E>) -> Value {
    match result {
        Ok(value) => serde_json::to_value(value).unwrap_or_else(|e| json!({"error": e.to_string()})),
        Err(err) => json!({"error": error_chain(&err)}),
    }
}

#[test]
fn event_fixtures_normalize_like_their_snapshots() {
    insta::glob!("../../tests/fixtures/events", "*.input.json", |path| {
        let input = std::fs::read(path).expect("fixture is readable");
        let opts = options_for(path);
        let _guard = snapshot_settings().bind_to_scope();
        match normalize_event(&input, &opts) {
            Ok(event) => {
                let result = json!({"payload": event.payload, "summary": event.summary});
                insta::assert_json_snapshot!(redact_generated_id(&input, &opts, result, &event.event_id.to_string()));
            }
            Err(err) => insta::assert_snapshot!(error_chain(&err)),
        }
    });
}

/// Reads `NAME.options.json` next to `NAME.input.json`, if present.
fn options_for(input: &Path) -> NormalizeOptions {
    let mut opts = NormalizeOptions::new(RECEIVED_AT);
    let name = file_name(input).trim_end_matches(".input.json");
    let Ok(text) = std::fs::read_to_string(input.with_file_name(format!("{name}.options.json"))) else {
        return opts;
    };
    let options: Value = serde_json::from_str(&text).expect("options are json");
    let get = |key: &str| options.get(key).and_then(Value::as_str);
    opts.sent_at = get("sent_at").and_then(timestamp::parse_str);
    opts.client_ip = get("client_ip").and_then(|ip| ip.parse().ok());
    opts.envelope_event_id = get("envelope_event_id").and_then(|id| id.parse().ok());
    opts.client = get("client").map(str::to_owned);
    opts.kind = match get("kind") {
        Some("transaction") => EventKind::Transaction,
        Some("feedback") => EventKind::Feedback,
        _ => EventKind::Event,
    };
    opts
}

/// Generated ids are random: replace them (and the trace ids derived from them).
fn redact_generated_id(input: &[u8], opts: &NormalizeOptions, result: Value, id: &str) -> Value {
    let has_valid_id = serde_json::from_slice::<Value>(input)
        .ok()
        .and_then(|v| v.get("event_id")?.as_str()?.parse::<crate::protocol::EventId>().ok())
        .is_some();
    if has_valid_id || opts.envelope_event_id.is_some() {
        return result;
    }
    let text = result.to_string().replace(id, "[generated]").replace(&id[..16], "[generated16]");
    serde_json::from_str(&text).expect("redaction keeps json valid")
}
