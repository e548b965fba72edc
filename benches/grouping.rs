//! Grouping throughput: one Python exception with 30 frames, built-in rules only.
//!
//! Run with `cargo bench --bench grouping`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use faultline::grouping::{GroupingConfig, calculate};
use serde_json::{Value, json};

/// A realistic Python event: 30 frames, half of them in site-packages, a parameterizable value.
fn thirty_frame_event() -> Value {
    let frames: Vec<Value> = (0..30)
        .map(|i| {
            let vendored = i % 2 == 0;
            let path = if vendored {
                format!("/usr/lib/python3.12/site-packages/lib{i}/core.py")
            } else {
                format!("/srv/app/service/module{i}.py")
            };
            json!({
                "function": format!("handler_{i}"),
                "module": if vendored { format!("lib{i}.core") } else { format!("service.module{i}") },
                "filename": path.rsplit('/').next(),
                "abs_path": path,
                "lineno": 10 + i,
                "context_line": format!("    result = step_{i}(request, retries={i})"),
                "in_app": !vendored,
            })
        })
        .collect();
    json!({
        "platform": "python",
        "level": "error",
        "logentry": {"formatted": "Unhandled error in request 4711"},
        "exception": {"values": [{
            "type": "ConnectionError",
            "value": "Error 111 connecting to 10.0.0.12:6379. Connection refused after 30s",
            "module": "redis.exceptions",
            "mechanism": {"type": "logging", "handled": true},
            "stacktrace": {"frames": frames},
        }]},
    })
}

fn bench(c: &mut Criterion) {
    let event = thirty_frame_event();
    let config = GroupingConfig::default();
    c.bench_function("calculate 30-frame python event", |b| {
        b.iter(|| calculate(black_box(&event), black_box(&config)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
