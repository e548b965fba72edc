//! Building envelopes and requests the way SDKs send them.

use std::io::Write;

use axum::body::Body;
use axum::http::Request;
use serde_json::Value;

/// Envelope bytes: a header line, then items (`length` written into each item header).
pub fn envelope(header: Value, items: &[(Value, Vec<u8>)]) -> Vec<u8> {
    let mut out = serde_json::to_vec(&header).unwrap();
    out.push(b'\n');
    for (item_header, payload) in items {
        let mut h = item_header.clone();
        h["length"] = payload.len().into();
        out.extend(serde_json::to_vec(&h).unwrap());
        out.push(b'\n');
        out.extend(payload);
        out.push(b'\n');
    }
    out
}

/// An `event` item.
pub fn event_item(event: &Value) -> (Value, Vec<u8>) {
    (serde_json::json!({"type": "event"}), serde_json::to_vec(event).unwrap())
}

/// A Python-style error event with one in-app frame.
pub fn error_event(event_id: &str, ty: &str, value: &str, function: &str) -> Value {
    serde_json::json!({
        "event_id": event_id,
        "platform": "python",
        "level": "error",
        "timestamp": time::OffsetDateTime::now_utc().unix_timestamp(),
        "environment": "production",
        "release": "web@1.0.0",
        "user": {"id": "u-1", "email": "u1@example.com"},
        "tags": {"browser": "Firefox"},
        "exception": {"values": [{
            "type": ty,
            "value": value,
            "stacktrace": {"frames": [
                {"filename": "app/views.py", "module": "app.views", "function": function, "lineno": 10, "in_app": true}
            ]}
        }]}
    })
}

/// gzip-compress bytes.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// A POST with optional headers.
pub fn post(path: &str, headers: &[(&str, &str)], body: Vec<u8>) -> Request<Body> {
    let mut builder = Request::post(path);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(Body::from(body)).unwrap()
}
