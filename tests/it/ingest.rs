//! Envelopes and store requests through the real router: auth forms, encodings, grouping into issues,
//! every item type, and the commit-before-200 contract.

use faultline::store::{IssueQuery, IssueSort};
use serde_json::{Value, json};

use crate::support::envelope::{envelope, error_event, event_item, gzip, post};
use crate::support::{TestApp, TestProject, split};

const ID1: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1";
const ID2: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa2";
const ID3: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa3";

async fn send(app: &TestApp, project: &TestProject, body: Vec<u8>) -> (u16, Value) {
    let auth = project.auth();
    let (status, text) =
        split(app.request(post(&project.envelope_path(), &[("x-sentry-auth", &auth)], body)).await).await;
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

async fn issues(app: &TestApp, project: &TestProject) -> Vec<faultline::store::Issue> {
    let query = IssueQuery { project_id: project.id, limit: 100, sort: IssueSort::LastSeen, ..IssueQuery::default() };
    app.store().list_issues(&query).await.unwrap()
}

#[tokio::test]
async fn an_event_is_committed_before_the_200_and_grouped_into_an_issue() {
    let app = TestApp::spawn().await;
    let project = app.project("web").await;
    let event = error_event(ID1, "ZeroDivisionError", "division by zero", "divide");
    let (status, body) = send(&app, &project, envelope(json!({"event_id": ID1}), &[event_item(&event)])).await;
    assert_eq!((status, body), (200, json!({"id": ID1})));

    let stored = app.store().find_event(project.id, ID1).await.unwrap().expect("committed before the answer");
    let issues = issues(&app, &project).await;
    assert_eq!(issues.len(), 1);
    let issue = &issues[0];
    assert_eq!(stored.issue_id, Some(issue.id));
    assert_eq!(issue.title, "ZeroDivisionError: division by zero");
    assert_eq!(issue.culprit, "app.views in divide");
    assert_eq!((issue.times_seen, issue.users_seen, issue.status.as_str()), (1, 1, "unresolved"));
    assert_eq!(issue.first_release.as_deref(), Some("web@1.0.0"));
    let payload: Value = serde_json::from_slice(&zstd::decode_all(stored.payload.as_slice()).unwrap()).unwrap();
    assert_eq!(payload["exception"]["values"][0]["type"], "ZeroDivisionError");

    // Same fingerprint, another event: same issue. Same event id again: a retry, not counted twice.
    let again = error_event(ID2, "ZeroDivisionError", "division by zero", "divide");
    assert_eq!(send(&app, &project, envelope(json!({"event_id": ID2}), &[event_item(&again)])).await.0, 200);
    assert_eq!(send(&app, &project, envelope(json!({"event_id": ID2}), &[event_item(&again)])).await.0, 200);
    // A different exception type: a new issue.
    let other = error_event(ID3, "KeyError", "'x'", "lookup");
    assert_eq!(send(&app, &project, envelope(json!({"event_id": ID3}), &[event_item(&other)])).await.0, 200);

    let issues = self::issues(&app, &project).await;
    assert_eq!(issues.len(), 2);
    let zero = issues.iter().find(|i| i.title.starts_with("ZeroDivisionError")).unwrap();
    assert_eq!((zero.times_seen, zero.users_seen), (2, 1), "two events, one user, the retry ignored");
    let tags = app.store().issue_tag_values(zero.id, "browser", 10).await.unwrap();
    assert_eq!((tags[0].value.as_str(), tags[0].times_seen), ("Firefox", 2));
    let hourly = app.store().issue_hourly_counts(zero.id, faultline::store::Millis(0)).await.unwrap();
    assert_eq!(hourly.iter().map(|(_, n)| n).sum::<i64>(), 2);
}

#[tokio::test]
async fn a_resolved_issue_that_sees_a_new_event_regresses() {
    let app = TestApp::spawn().await;
    let project = app.project("web").await;
    send(&app, &project, envelope(json!({}), &[event_item(&error_event(ID1, "ValueError", "bad", "parse"))])).await;
    let issue = issues(&app, &project).await.remove(0);
    assert_eq!(issue.substatus.as_deref(), Some("new"));
    app.store().set_issue_status(issue.id, "resolved", None).await.unwrap();
    send(&app, &project, envelope(json!({}), &[event_item(&error_event(ID2, "ValueError", "bad", "parse"))])).await;
    let issue = app.store().find_issue(issue.id).await.unwrap().unwrap();
    assert_eq!(
        (issue.status.as_str(), issue.substatus.as_deref(), issue.times_seen),
        ("unresolved", Some("regressed"), 2)
    );
}

#[tokio::test]
async fn every_auth_form_and_encoding_is_accepted() {
    let app = TestApp::spawn().await;
    let project = app.project("web").await;
    let path = project.envelope_path();
    let body = |id: &str| envelope(json!({"event_id": id}), &[event_item(&error_event(id, "E", "v", "f"))]);
    let auth = project.auth();
    let query = format!("{path}?sentry_key={}&sentry_version=7", project.key);
    let dsn_header = json!({"event_id": "b0000000000000000000000000000001", "dsn": format!("http://{}@localhost/{}", project.key, project.id)});
    let tunnel = envelope(dsn_header, &[event_item(&error_event("b0000000000000000000000000000001", "E", "v", "f"))]);
    let cases: Vec<(&str, axum::http::Request<axum::body::Body>)> = vec![
        ("x-sentry-auth", post(&path, &[("x-sentry-auth", &auth)], body("c0000000000000000000000000000001"))),
        ("authorization", post(&path, &[("authorization", &auth)], body("c0000000000000000000000000000002"))),
        ("query", post(&query, &[], body("c0000000000000000000000000000003"))),
        ("envelope dsn", post(&path, &[], tunnel)),
        (
            "gzip",
            post(
                &path,
                &[("x-sentry-auth", &auth), ("content-encoding", "gzip")],
                gzip(&body("c0000000000000000000000000000005")),
            ),
        ),
        (
            "empty encoding",
            post(
                &path,
                &[("x-sentry-auth", &auth), ("content-encoding", "")],
                body("c0000000000000000000000000000006"),
            ),
        ),
        (
            "UTF-8 encoding",
            post(
                &path,
                &[("x-sentry-auth", &auth), ("content-encoding", "UTF-8")],
                body("c0000000000000000000000000000007"),
            ),
        ),
        (
            "no trailing slash",
            post(
                &format!("/api/{}/envelope", project.id),
                &[("x-sentry-auth", &auth)],
                body("c0000000000000000000000000000008"),
            ),
        ),
        (
            "text/plain",
            post(
                &path,
                &[("x-sentry-auth", &auth), ("content-type", "text/plain;charset=UTF-8")],
                body("c0000000000000000000000000000009"),
            ),
        ),
    ];
    for (name, request) in cases {
        let (status, text) = split(app.request(request).await).await;
        assert_eq!(status, 200, "{name}: {text}");
    }
    let stored = issues(&app, &project).await.iter().map(|i| i.times_seen).sum::<i64>();
    assert_eq!(stored, 9);
}

#[tokio::test]
async fn the_legacy_store_endpoint_accepts_json_and_base64_zlib() {
    let app = TestApp::spawn().await;
    let project = app.project("legacy").await;
    let auth = project.auth();
    let path = format!("/api/{}/store/", project.id);
    let event = json!({"event_id": ID1, "message": "legacy hello %s", "level": "warning"});
    let (status, text) =
        split(app.request(post(&path, &[("x-sentry-auth", &auth)], serde_json::to_vec(&event).unwrap())).await).await;
    assert_eq!((status, text), (200, format!("{{\"id\":\"{ID1}\"}}")));

    use base64::Engine;
    use std::io::Write;
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(&serde_json::to_vec(&json!({"event_id": ID2, "message": "old raven"})).unwrap()).unwrap();
    let encoded = base64::engine::general_purpose::STANDARD.encode(z.finish().unwrap());
    let (status, _) = split(app.request(post(&path, &[("x-sentry-auth", &auth)], encoded.into_bytes())).await).await;
    assert_eq!(status, 200);
    let warning = app.store().find_event(project.id, ID1).await.unwrap().unwrap();
    assert_eq!((warning.level.as_str(), warning.event_type.as_str()), ("warning", "default"));
    assert!(app.store().find_event(project.id, ID2).await.unwrap().is_some());
}

#[tokio::test]
async fn every_item_type_is_stored_or_aggregated_and_unknown_ones_are_skipped() {
    let app = TestApp::spawn().await;
    let project = app.project("mobile").await;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let items = vec![
        event_item(&error_event(ID1, "E", "v", "f")),
        (json!({"type": "attachment", "filename": "log.txt", "content_type": "text/plain"}), b"hello log".to_vec()),
        (json!({"type": "user_report"}), serde_json::to_vec(&json!({"event_id": ID1, "name": "Ann", "email": "a@x.io", "comments": "it broke"})).unwrap()),
        (json!({"type": "session"}), serde_json::to_vec(&json!({"sid": "7c7b6585f2a64d3c9b6a3d6a0ee2b2f1", "init": true, "started": now, "status": "crashed", "errors": 1, "attrs": {"release": "app@2.0", "environment": "prod"}})).unwrap()),
        (json!({"type": "sessions"}), serde_json::to_vec(&json!({"aggregates": [{"started": now, "exited": 3, "errored": 1}], "attrs": {"release": "app@2.0"}})).unwrap()),
        (json!({"type": "client_report"}), serde_json::to_vec(&json!({"timestamp": now, "discarded_events": [{"reason": "queue_overflow", "category": "error", "quantity": 4}]})).unwrap()),
        (json!({"type": "check_in"}), serde_json::to_vec(&json!({"check_in_id": "83a7c03ed0a04e1b97e2e3b18d38f244", "monitor_slug": "nightly", "status": "ok", "duration": 1.5})).unwrap()),
        (json!({"type": "profile"}), b"{}".to_vec()),
        (json!({"type": "something_new"}), b"whatever".to_vec()),
    ];
    let (status, body) = send(&app, &project, envelope(json!({"event_id": ID1}), &items)).await;
    assert_eq!((status, body), (200, json!({"id": ID1})));
    // SDKs send transactions in envelopes of their own (one event-like item per envelope).
    let tx_id = "dddddddddddddddddddddddddddddddd";
    let transaction = json!({"event_id": tx_id, "type": "transaction", "transaction": "/checkout", "start_timestamp": now - 1, "timestamp": now, "contexts": {"trace": {"trace_id": "4c79f60c11214eb38604f4ae0781bfb2", "span_id": "fa90fdead5f74052", "op": "http.server"}}, "spans": []});
    let (status, body) = send(
        &app,
        &project,
        envelope(
            json!({"event_id": tx_id}),
            &[(json!({"type": "transaction"}), serde_json::to_vec(&transaction).unwrap())],
        ),
    )
    .await;
    assert_eq!((status, body), (200, json!({"id": tx_id})));
    let counts = app.store().project_item_counts(project.id).await.unwrap();
    assert_eq!(counts.user_reports, 1);
    assert_eq!(counts.sessions, 1 + 4, "one started session plus an aggregate of four");
    assert_eq!(counts.check_ins, 1);
    assert_eq!(counts.client_discards, 4);
    assert_eq!(counts.transactions, 1);
    let attachments = app.store().list_attachments(project.id, ID1).await.unwrap();
    assert_eq!((attachments.len(), attachments[0].name.as_str(), attachments[0].size), (1, "log.txt", 9));
    assert_eq!(issues(&app, &project).await.len(), 1, "the transaction forms no issue");
}

#[tokio::test]
async fn envelopes_without_events_answer_an_empty_object() {
    let app = TestApp::spawn().await;
    let project = app.project("web").await;
    let session = serde_json::to_vec(&json!({"sid": "7c7b6585f2a64d3c9b6a3d6a0ee2b2f1", "init": true, "started": "2026-01-01T00:00:00Z", "status": "ok", "attrs": {"release": "r1"}})).unwrap();
    let (status, body) = send(&app, &project, envelope(json!({}), &[(json!({"type": "session"}), session)])).await;
    assert_eq!((status, body), (200, json!({})));
}

#[tokio::test]
async fn browser_preflight_and_responses_carry_cors_headers() {
    let app = TestApp::spawn().await;
    let project = app.project("web").await;
    let preflight = axum::http::Request::builder()
        .method("OPTIONS")
        .uri(project.envelope_path())
        .header("origin", "https://shop.example.com")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .body(axum::body::Body::empty())
        .unwrap();
    let response = app.request(preflight).await;
    assert!(response.status().is_success());
    assert_eq!(response.headers()["access-control-allow-origin"], "*");
    let query = format!("{}?sentry_key={}&sentry_version=7", project.envelope_path(), project.key);
    let body = envelope(json!({}), &[event_item(&error_event(ID1, "E", "v", "f"))]);
    let response = app
        .request(post(
            &query,
            &[("origin", "https://shop.example.com"), ("content-type", "text/plain;charset=UTF-8")],
            body,
        ))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["access-control-allow-origin"], "*");
    let expose = response.headers()["access-control-expose-headers"].to_str().unwrap().to_lowercase();
    assert!(expose.contains("x-sentry-rate-limits") && expose.contains("retry-after"), "{expose}");
}

#[tokio::test]
async fn a_key_over_its_rate_limit_gets_429_with_retry_after_and_scoped_limits() {
    let app = TestApp::spawn().await;
    let project = app.project("web").await;
    app.store().update_project_key(project.key_id, true, Some(2)).await.unwrap();
    let mut statuses = Vec::new();
    for i in 0..3 {
        let id = format!("e000000000000000000000000000000{i}");
        let response = app
            .request(post(
                &project.envelope_path(),
                &[("x-sentry-auth", &project.auth())],
                envelope(json!({}), &[event_item(&error_event(&id, "E", "v", "f"))]),
            ))
            .await;
        statuses.push(response.status().as_u16());
        if response.status() == 429 {
            let retry: u64 = response.headers()["retry-after"].to_str().unwrap().parse().expect("integer Retry-After");
            assert!((1..=60).contains(&retry));
            let limits = response.headers()["x-sentry-rate-limits"].to_str().unwrap();
            assert_eq!(limits, format!("{retry}::key:key_quota"));
        }
    }
    assert_eq!(statuses, [200, 200, 429]);
    assert_eq!(issues(&app, &project).await[0].times_seen, 2, "the refused event was not stored");
}

#[tokio::test]
async fn a_dsn_with_a_path_prefix_posts_under_that_prefix() {
    let config =
        faultline::config::Config { url: Some("https://errors.example.com/sentry".into()), ..Default::default() };
    let app = TestApp::with_config(config).await;
    let project = app.project("web").await;
    let path = format!("/sentry/api/{}/envelope/", project.id);
    let body = envelope(json!({}), &[event_item(&error_event(ID1, "E", "v", "f"))]);
    let (status, _) = split(app.request(post(&path, &[("x-sentry-auth", &project.auth())], body)).await).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn metrics_count_accepted_and_rejected_events() {
    let app = TestApp::spawn().await;
    let project = app.project("web").await;
    send(&app, &project, envelope(json!({}), &[event_item(&error_event(ID1, "E", "v", "f"))])).await;
    let bad = post(&project.envelope_path(), &[], b"{}\n".to_vec());
    assert_eq!(app.request(bad).await.status(), 401);
    let (_, metrics) = app.get("/metrics").await;
    for name in [
        "ingest_events_accepted_total",
        "ingest_requests_rejected_total{reason=\"auth\"}",
        "ingest_batch_events",
        "ingest_commit_seconds",
        "ingest_queue_depth",
        "ingest_items_total",
    ] {
        assert!(metrics.contains(name), "{name} missing from /metrics");
    }
}

#[tokio::test]
async fn sessions_count_like_relay_whether_sent_one_by_one_or_aggregated() {
    let app = TestApp::spawn().await;
    let project = app.project("app").await;
    let session = |sid: &str, init: bool, status: &str, errors: u32| {
        let body = json!({"sid": sid, "init": init, "started": "2026-11-21T07:00:00Z", "status": status, "errors": errors,
                          "attrs": {"release": "app@1", "environment": "prod"}});
        (json!({"type": "session"}), serde_json::to_vec(&body).unwrap())
    };
    // A browser-style session that reports an error twice and never ends; a clean exit; an exit after
    // errors; a crash.
    for item in [
        session("00000000000000000000000000000001", true, "ok", 1),
        session("00000000000000000000000000000001", false, "ok", 2),
        session("00000000000000000000000000000002", true, "exited", 0),
        session("00000000000000000000000000000003", true, "ok", 1),
        session("00000000000000000000000000000003", false, "exited", 1),
        session("00000000000000000000000000000004", true, "crashed", 1),
    ] {
        assert_eq!(send(&app, &project, envelope(json!({}), &[item])).await.0, 200);
    }
    let counts = app.store().project_item_counts(project.id).await.unwrap();
    assert_eq!(
        (counts.sessions, counts.sessions_errored, counts.sessions_exited, counts.sessions_crashed),
        (4, 2, 1, 1),
        "errored once per session, exited only when clean, crashes in their own bucket"
    );
}

/// Several batching writers (on PostgreSQL; SQLite keeps its one): envelopes sent at once over
/// several fingerprints are all committed, each counted once on its issue, and retries of events
/// already stored are not counted again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn envelopes_sent_at_once_over_several_writers_are_each_counted_once() {
    let mut config = faultline::config::Config::default();
    config.ingest.writers = 3;
    let app = TestApp::with_config(config).await;
    let project = app.project("web").await;
    let body = |i: usize| {
        let id = format!("{i:032x}");
        let event = error_event(&id, &format!("Error{}", i % 6), "boom", "f");
        envelope(json!({"event_id": id}), &[event_item(&event)])
    };
    let mut sends = tokio::task::JoinSet::new();
    // 120 events over six fingerprints, then the first 30 again (SDK retries).
    for i in (0..120).chain(0..30) {
        let (state, request) =
            (app.state.clone(), post(&project.envelope_path(), &[("x-sentry-auth", &project.auth())], body(i)));
        sends.spawn(async move {
            tower::ServiceExt::oneshot(faultline::app::router(state), request).await.map(|r| r.status())
        });
    }
    while let Some(sent) = sends.join_next().await {
        assert_eq!(sent.unwrap().unwrap(), 200);
    }
    let issues = issues(&app, &project).await;
    assert_eq!(issues.len(), 6, "one issue per fingerprint");
    assert!(
        issues.iter().all(|i| i.times_seen == 20),
        "20 events each: {:?}",
        issues.iter().map(|i| i.times_seen).collect::<Vec<_>>()
    );
}
