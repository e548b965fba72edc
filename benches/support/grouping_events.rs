//! The events of the grouping benchmark, shared by `benches/grouping.rs` and
//! `examples/grouping_profile.rs` so that criterion timings and profiler counts measure the same
//! work:
//!
//! * a Python exception with 30 frames (half of them in site-packages, a parameterizable value),
//! * a browser JavaScript exception with 30 frames (minified bundle, `node_modules`, source maps),
//! * a log message without stack trace.

use serde_json::{Value, json};

/// A realistic Python event: 30 frames, half of them in site-packages, a parameterizable value.
pub fn thirty_frame_event() -> Value {
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

/// A browser event: 30 frames alternating between a React bundle in `node_modules` and the
/// application's own source-mapped modules, with `?v=` cache busters and method names.
pub fn javascript_event() -> Value {
    let frames: Vec<Value> = (0..30)
        .map(|i| {
            let vendored = i % 3 != 0;
            let (path, function, module) = if vendored {
                (
                    format!("webpack:///./node_modules/react-dom/cjs/react-dom.development.js?v={i}"),
                    format!("Object.invokeGuardedCallback{i}"),
                    "node_modules/react-dom/cjs/react-dom.development".to_owned(),
                )
            } else {
                (
                    format!("https://app.example.com/static/js/components/Panel{i}.jsx"),
                    format!("Panel{i}.handleClick"),
                    format!("app/components/Panel{i}"),
                )
            };
            json!({
                "function": function,
                "module": module,
                "filename": path.rsplit('/').next(),
                "abs_path": path,
                "lineno": 100 + i,
                "colno": 17,
                "context_line": format!("      this.props.onSelect(items[{i}].id);"),
                "in_app": !vendored,
                "data": {"sourcemap": "https://app.example.com/static/js/main.js.map"},
            })
        })
        .collect();
    json!({
        "platform": "javascript",
        "level": "error",
        "sdk": {"name": "sentry.javascript.react", "version": "8.1.0"},
        "exception": {"values": [{
            "type": "TypeError",
            "value": "Cannot read properties of undefined (reading 'id') at index 12",
            "mechanism": {"type": "onerror", "handled": false},
            "stacktrace": {"frames": frames},
        }]},
    })
}

/// A log message without exception or stack trace.
pub fn message_event() -> Value {
    json!({
        "platform": "python",
        "level": "warning",
        "logger": "auth",
        "logentry": {
            "message": "Login for user %s failed from %s",
            "formatted": "Login for user 4711 failed from 10.0.0.3",
        },
    })
}
