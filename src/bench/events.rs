//! Realistic event payloads for `faultline bench`: the shapes real SDKs send (Python, JavaScript,
//! Java, Go, Rust), with a chosen number of distinct fingerprints, users and tag values, padded with
//! breadcrumbs to a target size.
//!
//! Fingerprint `k` always produces the same exception type, value shape and frames, so `k` maps to
//! exactly one issue; the value carries a changing number, which grouping parameterizes away.

use serde_json::{Value, json};

/// Platforms the generator knows.
pub const PLATFORMS: [&str; 5] = ["python", "javascript", "java", "go", "rust"];

/// What one generated event looks like.
#[derive(Debug, Clone)]
pub struct Shape {
    /// Distinct fingerprints (issues).
    pub fingerprints: u64,
    /// Distinct users.
    pub users: u64,
    /// Target payload size in bytes (before compression).
    pub size: usize,
    /// Platforms to rotate through.
    pub platforms: Vec<String>,
}

/// The envelope body for event number `n`.
pub fn envelope(shape: &Shape, n: u64, event_id: &str) -> Vec<u8> {
    let fingerprint = n % shape.fingerprints.max(1);
    let platform =
        shape.platforms.get((fingerprint as usize) % shape.platforms.len().max(1)).map_or("python", String::as_str);
    let event = event(shape, platform, fingerprint, n, event_id);
    let payload = serde_json::to_vec(&event).unwrap_or_default();
    let mut out = format!("{{\"event_id\":\"{event_id}\",\"sent_at\":\"{}\"}}\n", now_rfc3339()).into_bytes();
    out.extend(format!("{{\"type\":\"event\",\"length\":{}}}\n", payload.len()).into_bytes());
    out.extend(payload);
    out.push(b'\n');
    out
}

fn now_rfc3339() -> String {
    crate::store::Millis::now().to_rfc3339()
}

fn event(shape: &Shape, platform: &str, fingerprint: u64, n: u64, event_id: &str) -> Value {
    let user = n % shape.users.max(1);
    let (ty, frames) = frames(platform, fingerprint);
    let region = ["eu-west-1", "us-east-1", "ap-south-1"][(n % 3) as usize];
    let mut event = json!({
        "event_id": event_id,
        "platform": platform,
        "level": if fingerprint.is_multiple_of(7) { "warning" } else { "error" },
        "timestamp": crate::store::Millis::now().0 as f64 / 1000.0,
        "release": format!("bench@1.{}.0", fingerprint % 3),
        "environment": if n.is_multiple_of(4) { "staging" } else { "production" },
        "server_name": format!("web-{}", n % 8),
        "user": {"id": format!("user-{user}"), "email": format!("user-{user}@example.com"), "ip_address": "{{auto}}"},
        "tags": {"region": region, "shard": format!("{}", n % 16)},
        "contexts": {
            "os": {"name": "Linux", "version": "6.1"},
            "runtime": {"name": platform, "version": "1.0"},
            "trace": {"trace_id": format!("{:032x}", n.wrapping_mul(0x9e37_79b9_7f4a_7c15)), "span_id": format!("{:016x}", n)}
        },
        "sdk": {"name": format!("sentry.{platform}"), "version": "2.0.0"},
        "exception": {"values": [{
            "type": ty,
            "value": format!("operation {fingerprint} failed after {} ms", n % 1000),
            "stacktrace": {"frames": frames}
        }]},
        "request": {"url": format!("https://shop.example.com/api/items/{}", n % 100), "method": "GET",
                    "headers": {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0"}},
    });
    pad(&mut event, shape.size);
    event
}

fn frames(platform: &str, fingerprint: u64) -> (String, Vec<Value>) {
    let count = 12;
    let frame = |i: u64| -> Value {
        let in_app = i >= count - 4;
        match platform {
            "javascript" => {
                json!({"filename": format!("app:///src/module{fingerprint}/file{i}.js"), "abs_path": format!("app:///src/module{fingerprint}/file{i}.js"),
                                   "function": format!("handler{fingerprint}_{i}"), "lineno": 10 + i, "colno": 5, "in_app": in_app})
            }
            "java" => {
                json!({"module": format!("com.example.service{fingerprint}.Worker{i}"), "function": format!("process{i}"),
                             "filename": format!("Worker{i}.java"), "lineno": 40 + i, "in_app": in_app})
            }
            "go" => json!({"module": format!("example.com/app/pkg{fingerprint}"), "function": format!("Handle{i}"),
                           "filename": format!("pkg{fingerprint}/handler{i}.go"), "abs_path": format!("/src/app/pkg{fingerprint}/handler{i}.go"), "lineno": 20 + i, "in_app": in_app}),
            "rust" => {
                json!({"function": format!("app::service{fingerprint}::step{i}"), "filename": format!("src/service{fingerprint}.rs"),
                             "abs_path": format!("/build/src/service{fingerprint}.rs"), "lineno": 30 + i, "in_app": in_app})
            }
            _ => {
                json!({"module": format!("app.service{fingerprint}.step{i}"), "function": format!("run_{i}"), "filename": format!("app/service{fingerprint}/step{i}.py"),
                        "abs_path": format!("/srv/app/service{fingerprint}/step{i}.py"), "lineno": 50 + i, "context_line": format!("    result = run_{i}(payload)"),
                        "pre_context": ["def handler(payload):", "    validate(payload)"], "post_context": ["    return result"], "in_app": in_app,
                        "vars": {"payload": "{'id': 42}", "attempt": "3"}})
            }
        }
    };
    let ty = match platform {
        "javascript" => format!("TypeError{fingerprint}"),
        "java" => format!("java.lang.IllegalStateException{fingerprint}"),
        "go" => format!("*errors.errorString{fingerprint}"),
        "rust" => format!("ServiceError{fingerprint}"),
        _ => format!("ValueError{fingerprint}"),
    };
    (ty, (0..count).map(frame).collect())
}

/// Add breadcrumbs until the serialized event reaches about `size` bytes.
fn pad(event: &mut Value, size: usize) {
    let current = serde_json::to_vec(event).map_or(0, |v| v.len());
    if current >= size {
        return;
    }
    let crumb_size = 160;
    let count = (size - current) / crumb_size;
    let crumbs: Vec<Value> = (0..count)
        .map(|i| {
            json!({"timestamp": 1_700_000_000 + i, "category": "http", "level": "info",
                   "message": format!("GET https://api.example.com/v1/resource/{i:06} -> 200 in {} ms ....................", i % 97)})
        })
        .collect();
    event["breadcrumbs"] = json!({"values": crumbs});
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_reach_the_target_size_and_parse_as_envelopes() {
        let shape =
            Shape { fingerprints: 50, users: 100, size: 8 * 1024, platforms: PLATFORMS.map(str::to_owned).to_vec() };
        for n in 0..10 {
            let body = envelope(&shape, n, &format!("{n:032x}"));
            let parsed = crate::protocol::Envelope::parse(bytes::Bytes::from(body.clone())).expect("valid envelope");
            assert_eq!(parsed.items.len(), 1);
            let len = parsed.items[0].payload.len();
            assert!((7 * 1024..9 * 1024).contains(&len), "payload of {len} bytes");
        }
    }

    #[test]
    fn a_fingerprint_always_maps_to_the_same_issue() {
        let shape = Shape { fingerprints: 5, users: 10, size: 2048, platforms: vec!["python".into(), "java".into()] };
        let hash = |n: u64| {
            let body = envelope(&shape, n, &format!("{n:032x}"));
            let env = crate::protocol::Envelope::parse(bytes::Bytes::from(body)).expect("envelope");
            let normalized = crate::protocol::normalize_event(
                &env.items[0].payload,
                &crate::protocol::NormalizeOptions::new(time::OffsetDateTime::now_utc()),
            )
            .expect("normalizes");
            crate::grouping::calculate(&normalized.payload, &crate::grouping::GroupingConfig::default()).hashes
        };
        assert_eq!(hash(1), hash(6), "same fingerprint, different event");
        assert_ne!(hash(1), hash(2), "different fingerprints");
    }
}
