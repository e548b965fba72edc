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

impl Shape {
    /// The shape BENCHMARKS.md measures (`tests/bench/throughput.sh` passes the same to `faultline
    /// bench`): 8 KiB events over 50 fingerprints and 1,000 users, every platform.
    pub fn benchmark() -> Self {
        Shape { fingerprints: 50, users: 1000, size: 8 * 1024, platforms: PLATFORMS.map(str::to_owned).to_vec() }
    }
}

/// Builds envelopes fast enough not to slow the server it measures: the client shares the machine,
/// so each fingerprint's event is serialized once, as a template with numbered slots for what
/// changes per event (`"event_id":"@@1@@"`), and every envelope only splices values into it.
pub struct Generator {
    shape: Shape,
    templates: std::sync::Mutex<std::collections::HashMap<u64, std::sync::Arc<Template>>>,
}

/// Serialized event text around its slots: `parts[0] slot[0] parts[1] … parts[n]`.
struct Template {
    parts: Vec<Vec<u8>>,
    slots: Vec<usize>,
}

/// What differs between two events of one fingerprint, in slot order; slot 0 (the timestamp) is a
/// JSON number, the others sit inside JSON strings and are plain ASCII (no escaping needed).
fn vars(shape: &Shape, n: u64, event_id: &str) -> [String; 12] {
    let user = n % shape.users.max(1);
    [
        format!("{:.3}", crate::store::Millis::now().0 as f64 / 1000.0),
        event_id.to_owned(),
        format!("user-{user}"),
        format!("user-{user}@example.com"),
        ["eu-west-1", "us-east-1", "ap-south-1"][(n % 3) as usize].to_owned(),
        if n.is_multiple_of(4) { "staging" } else { "production" }.to_owned(),
        format!("web-{}", n % 8),
        format!("{}", n % 16),
        format!("{:032x}", n.wrapping_mul(0x9e37_79b9_7f4a_7c15)),
        format!("{n:016x}"),
        format!("{}", n % 1000),
        format!("{}", n % 100),
    ]
}

impl Generator {
    /// A generator of `shape`'s events.
    pub fn new(shape: Shape) -> Self {
        Self { shape, templates: Default::default() }
    }

    /// The envelope body for event number `n`.
    pub fn envelope(&self, n: u64, event_id: &str) -> Vec<u8> {
        let fingerprint = n % self.shape.fingerprints.max(1);
        let template = self.template(fingerprint);
        let values = vars(&self.shape, n, event_id);
        let mut payload = Vec::with_capacity(self.shape.size + 512);
        for (part, slot) in template.parts.iter().zip(template.slots.iter().map(Some).chain([None])) {
            payload.extend_from_slice(part);
            if let Some(value) = slot.and_then(|i| values.get(*i)) {
                payload.extend_from_slice(value.as_bytes());
            }
        }
        let mut out = format!("{{\"event_id\":\"{event_id}\",\"sent_at\":\"{}\"}}\n", now_rfc3339()).into_bytes();
        out.extend(format!("{{\"type\":\"event\",\"length\":{}}}\n", payload.len()).into_bytes());
        out.extend(payload);
        out.push(b'\n');
        out
    }

    fn template(&self, fingerprint: u64) -> std::sync::Arc<Template> {
        let mut templates = self.templates.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        templates.entry(fingerprint).or_insert_with(|| std::sync::Arc::new(self.build(fingerprint))).clone()
    }

    fn build(&self, fingerprint: u64) -> Template {
        let platform = self
            .shape
            .platforms
            .get((fingerprint as usize) % self.shape.platforms.len().max(1))
            .map_or("python", String::as_str);
        let marks: Vec<String> = (0..12).map(|i| format!("@@{i}@@")).collect();
        let text = serde_json::to_string(&event(&self.shape, platform, fingerprint, &marks)).unwrap_or_default();
        // The timestamp is a number: its mark loses the quotes it was serialized with.
        let text = text.replace("\"@@0@@\"", "@@0@@");
        let (mut parts, mut slots) = (Vec::new(), Vec::new());
        let mut rest = text.as_str();
        while let Some(at) = rest.find("@@") {
            let after = &rest[at + 2..];
            let Some(end) = after.find("@@") else { break };
            let Ok(slot) = after[..end].parse::<usize>() else { break };
            parts.push(rest.as_bytes()[..at].to_vec());
            slots.push(slot);
            rest = &after[end + 2..];
        }
        parts.push(rest.as_bytes().to_vec());
        Template { parts, slots }
    }
}

/// The envelope body for event number `n` (one-off; [`Generator`] caches the templates).
pub fn envelope(shape: &Shape, n: u64, event_id: &str) -> Vec<u8> {
    Generator::new(shape.clone()).envelope(n, event_id)
}

fn now_rfc3339() -> String {
    crate::store::Millis::now().to_rfc3339()
}

/// Fingerprint `fingerprint`'s event with `v` (see [`vars`]) in the changing places.
fn event(shape: &Shape, platform: &str, fingerprint: u64, v: &[String]) -> Value {
    let (ty, frames) = frames(platform, fingerprint);
    let mut event = json!({
        "event_id": v[1],
        "platform": platform,
        "level": if fingerprint.is_multiple_of(7) { "warning" } else { "error" },
        "timestamp": v[0],
        "release": format!("bench@1.{}.0", fingerprint % 3),
        "environment": v[5],
        "server_name": v[6],
        "user": {"id": v[2], "email": v[3], "ip_address": "{{auto}}"},
        "tags": {"region": v[4], "shard": v[7]},
        "contexts": {
            "os": {"name": "Linux", "version": "6.1"},
            "runtime": {"name": platform, "version": "1.0"},
            "trace": {"trace_id": v[8], "span_id": v[9]}
        },
        "sdk": {"name": format!("sentry.{platform}"), "version": "2.0.0"},
        "exception": {"values": [{
            "type": ty,
            "value": format!("operation {fingerprint} failed after {} ms", v[10]),
            "stacktrace": {"frames": frames}
        }]},
        "request": {"url": format!("https://shop.example.com/api/items/{}", v[11]), "method": "GET",
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

    #[test]
    fn templated_events_carry_each_events_own_values() {
        let shape = Shape { fingerprints: 2, users: 10, size: 4096, platforms: vec!["go".into()] };
        let generator = Generator::new(shape);
        let event = |n: u64| {
            let body = generator.envelope(n, &format!("{n:032x}"));
            let env = crate::protocol::Envelope::parse(bytes::Bytes::from(body)).expect("envelope");
            serde_json::from_slice::<Value>(&env.items[0].payload).expect("JSON")
        };
        let (a, b) = (event(3), event(5));
        assert_eq!(a["event_id"], format!("{:032x}", 3));
        assert_eq!(b["event_id"], format!("{:032x}", 5));
        assert!(a["timestamp"].as_f64().is_some_and(|t| t > 1.7e9), "the timestamp is a number");
        assert_eq!((a["user"]["id"].as_str(), b["user"]["id"].as_str()), (Some("user-3"), Some("user-5")));
        assert_eq!(b["tags"]["shard"], "5");
        assert_eq!(b["contexts"]["trace"]["span_id"], "0000000000000005");
        assert_eq!(a["exception"]["values"][0]["value"], "operation 1 failed after 3 ms");
        assert_eq!(a["exception"]["values"][0]["type"], b["exception"]["values"][0]["type"]);
    }
}
