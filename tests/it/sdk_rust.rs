//! The real Rust SDK (`sentry` crate) against a running server on a real TCP port.

use std::sync::Arc;
use std::time::Duration;

use faultline::store::{IssueQuery, IssueSort};

use crate::support::TestApp;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rust_sdk_delivers_errors_and_messages() {
    let app = TestApp::spawn().await;
    let project = app.project("rust-app").await;
    let base = app.serve().await;
    let dsn = format!("{}/{}", base.replacen("http://", &format!("http://{}@", project.key), 1), project.id);

    let sent = tokio::task::spawn_blocking(move || {
        let mut options = sentry::ClientOptions::new();
        options.dsn = Some(dsn.parse().expect("DSN"));
        options.release = Some("rust-app@1.2.3".into());
        options.environment = Some("staging".into());
        // `sentry::init` would apply these; a private client (not the global hub) needs them explicitly.
        let client = Arc::new(sentry::Client::from(sentry::apply_defaults(options)));
        let hub = sentry::Hub::new(Some(client.clone()), Arc::new(sentry::Scope::default()));
        hub.configure_scope(|scope| {
            scope.set_user(Some(sentry::User { id: Some("42".into()), ..Default::default() }));
            scope.set_tag("region", "eu-west");
        });
        let parse_error = "not a number".parse::<i32>().expect_err("fails");
        let error_id = hub.capture_error(&parse_error);
        let message_id = hub.capture_message("cache warm-up took 12s", sentry::Level::Warning);
        assert!(client.flush(Some(Duration::from_secs(10))), "the SDK delivered everything");
        (error_id.simple().to_string(), message_id.simple().to_string())
    })
    .await
    .expect("SDK thread");

    let Some(error) = app.store().find_event(project.id, &sent.0).await.unwrap() else {
        let metrics = app.get("/metrics").await.1;
        let lines: Vec<_> =
            metrics.lines().filter(|l| l.starts_with("ingest_") || l.starts_with("http_requests")).collect();
        panic!("error event not stored; ingest metrics:\n{}", lines.join("\n"));
    };
    assert_eq!((error.level.as_str(), error.platform.as_str()), ("error", "native"));
    assert!(error.title.starts_with("ParseIntError"), "{}", error.title);
    assert_eq!((error.release.as_deref(), error.environment.as_deref()), (Some("rust-app@1.2.3"), Some("staging")));
    assert_eq!(error.user_key.as_deref(), Some("id:42"));
    let message = app.store().find_event(project.id, &sent.1).await.unwrap().expect("message event stored");
    assert_eq!((message.level.as_str(), message.title.as_str()), ("warning", "cache warm-up took 12s"));

    let query = IssueQuery { project_id: project.id, limit: 10, sort: IssueSort::LastSeen, ..IssueQuery::default() };
    let issues = app.store().list_issues(&query).await.unwrap();
    assert_eq!(issues.len(), 2);
    let tags = app.store().issue_tag_values(error.issue_id.unwrap(), "region", 5).await.unwrap();
    assert_eq!(tags[0].value, "eu-west");
}
