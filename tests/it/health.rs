//! Operational endpoints on the real router.

use crate::support::TestApp;

#[tokio::test]
async fn health_ready_and_metrics_answer() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get("/_health").await, (200, "ok".to_owned()));
    assert_eq!(app.get("/_ready").await, (200, "ready".to_owned()));
    let (status, body) = app.get("/metrics").await;
    assert_eq!(status, 200);
    assert!(body.contains(r#"http_requests_total{route="/_health",method="GET",status="200"}"#), "{body}");
    assert!(body.contains("db_pool_connections"), "{body}");
    assert!(body.contains("http_request_duration_seconds_bucket"), "{body}");
}

#[tokio::test]
async fn ready_fails_when_the_database_is_gone() {
    let app = TestApp::spawn().await;
    app.store().close().await;
    let (status, _) = app.get("/_ready").await;
    assert_eq!(status, 503);
    assert_eq!(app.get("/_health").await.0, 200);
}

#[tokio::test]
async fn unknown_pages_are_404_and_assets_are_cached() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get("/no/such/page").await.0, 404);
    let response =
        app.request(axum::http::Request::get("/static/app.css").body(axum::body::Body::empty()).unwrap()).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/css");
    let etag = response.headers()["etag"].clone();
    let again = app
        .request(
            axum::http::Request::get("/static/app.css")
                .header("if-none-match", etag)
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(again.status(), 304);
}
