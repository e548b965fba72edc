//! The bad-input table: each row is a request an SDK (or an attacker) might send. Each gets a 4xx with
//! a JSON reason, the server keeps serving, and nothing of the request is stored.

use serde_json::{Value, json};

use crate::support::envelope::{envelope, error_event, event_item, gzip, post};
use crate::support::{TestApp, split};

const ID: &str = "f0000000000000000000000000000001";

#[tokio::test]
async fn each_bad_request_gets_a_clear_4xx_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let project = app.project("web").await;
    let other = app.project("other").await;
    let auth = project.auth();
    let path = project.envelope_path();
    let good = envelope(json!({"event_id": ID}), &[event_item(&error_event(ID, "E", "v", "f"))]);

    let deep = format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000));
    let deep_event = format!(r#"{{"event_id":"{ID}","extra":{{"x":{deep}}}}}"#).into_bytes();
    let huge_string = serde_json::to_vec(&json!({"event_id": ID, "message": "x".repeat(10 * 1024 * 1024)})).unwrap();
    let bomb = gzip(&vec![b'{'; 300 * 1024 * 1024]);
    let mut truncated = good.clone();
    truncated.truncate(good.len() - 40);
    let wrong_length =
        format!("{{\"event_id\":\"{ID}\"}}\n{{\"type\":\"event\",\"length\":5000}}\n{{}}\n").into_bytes();
    let oversized_attachment = gzip(&envelope(
        json!({"event_id": ID}),
        &[(json!({"type": "attachment", "filename": "big.bin"}), vec![0u8; 201 * 1024 * 1024])],
    ));
    let wrong_key = other.auth();
    let two_forms = format!("{path}?sentry_key={}&sentry_version=7", project.key);

    let rows: Vec<(&str, axum::http::Request<axum::body::Body>, u16)> = vec![
        ("truncated envelope", post(&path, &[("x-sentry-auth", &auth)], truncated), 400),
        ("wrong item length", post(&path, &[("x-sentry-auth", &auth)], wrong_length), 400),
        (
            "invalid JSON",
            post(
                &path,
                &[("x-sentry-auth", &auth)],
                envelope(json!({}), &[(json!({"type": "event"}), b"{not json".to_vec())]),
            ),
            400,
        ),
        (
            "JSON nested 10,000 deep",
            post(&path, &[("x-sentry-auth", &auth)], envelope(json!({}), &[(json!({"type": "event"}), deep_event)])),
            400,
        ),
        (
            "a 10 MB string",
            post(&path, &[("x-sentry-auth", &auth)], envelope(json!({}), &[(json!({"type": "event"}), huge_string)])),
            413,
        ),
        ("gzip bomb", post(&path, &[("x-sentry-auth", &auth), ("content-encoding", "gzip")], bomb), 413),
        ("unknown project", post("/api/999999/envelope/", &[("x-sentry-auth", &auth)], good.clone()), 403),
        ("project id not a number", post("/api/abc/envelope/", &[("x-sentry-auth", &auth)], good.clone()), 400),
        ("wrong key for the project", post(&path, &[("x-sentry-auth", &wrong_key)], good.clone()), 403),
        (
            "unknown key",
            post(&path, &[("x-sentry-auth", "Sentry sentry_key=ffffffffffffffffffffffffffffffff")], good.clone()),
            403,
        ),
        ("malformed key", post(&path, &[("x-sentry-auth", "Sentry sentry_key=nope")], good.clone()), 400),
        ("two auth forms at once", post(&two_forms, &[("x-sentry-auth", &auth)], good.clone()), 401),
        ("no auth at all", post(&path, &[], good.clone()), 401),
        (
            "oversized attachment",
            post(&path, &[("x-sentry-auth", &auth), ("content-encoding", "gzip")], oversized_attachment),
            413,
        ),
        ("unknown encoding", post(&path, &[("x-sentry-auth", &auth), ("content-encoding", "lzma")], good.clone()), 415),
        (
            "corrupt gzip",
            post(&path, &[("x-sentry-auth", &auth), ("content-encoding", "gzip")], b"not gzip at all".to_vec()),
            400,
        ),
        ("empty body", post(&path, &[("x-sentry-auth", &auth)], Vec::new()), 400),
        (
            "newer protocol version",
            post(
                &path,
                &[("x-sentry-auth", &format!("Sentry sentry_key={}, sentry_version=99", project.key))],
                good.clone(),
            ),
            400,
        ),
    ];
    for (name, request, expected) in rows {
        let (status, text) = split(app.request(request).await).await;
        assert_eq!(status, expected, "{name}: {text}");
        let body: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{name}: body is not JSON: {text}"));
        let detail = body["detail"].as_str().unwrap_or_default();
        assert!(!detail.is_empty(), "{name}: no reason given: {text}");
        // The server keeps serving.
        assert_eq!(app.get("/_health").await.0, 200, "{name}");
    }
    assert!(app.store().find_event(project.id, ID).await.unwrap().is_none(), "nothing partial is stored");
    assert!(app.store().list_attachments(project.id, ID).await.unwrap().is_empty());

    // And a good request still works afterwards.
    let (status, _) = split(app.request(post(&path, &[("x-sentry-auth", &auth)], good)).await).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_disabled_key_is_refused() {
    let app = TestApp::spawn().await;
    let project = app.project("web").await;
    app.store().update_project_key(project.key_id, false, None).await.unwrap();
    let body = envelope(json!({}), &[event_item(&error_event(ID, "E", "v", "f"))]);
    let (status, text) =
        split(app.request(post(&project.envelope_path(), &[("x-sentry-auth", &project.auth())], body)).await).await;
    assert_eq!(status, 403, "{text}");
    assert!(text.contains("disabled"), "{text}");
}
