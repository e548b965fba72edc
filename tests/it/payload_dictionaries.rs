//! Payload dictionaries end to end: after `TRAIN_AFTER` events a project's dictionary is trained in the
//! background, later events are stored compressed with it, and every reader (the API, a second node
//! with cold caches) still gets the full event back.

use axum::body::Body;
use axum::http::Request;
use faultline::store::payloads::{TRAIN_AFTER, frame_dictionary};
use faultline::store::{ConnectOptions, Store};
use serde_json::json;
use tower::ServiceExt;

use crate::support::envelope::{envelope, error_event, event_item, post};
use crate::support::{TestApp, split};

fn event_id(n: u64) -> String {
    format!("{n:032x}")
}

/// A realistic error event: a few frames, SDK and runtime contexts, varying values.
fn event(n: u64) -> serde_json::Value {
    let mut event = error_event(&event_id(n), "KeyError", &format!("'cart-{n}'"), "checkout");
    event["sdk"] = json!({"name": "sentry.python", "version": "2.19.0", "integrations": ["django", "logging"]});
    event["contexts"] = json!({"runtime": {"name": "CPython", "version": "3.11.7"}, "os": {"name": "Linux"}});
    event["request"] = json!({"url": format!("https://shop.example.com/cart/{n}"), "method": "POST"});
    event["exception"]["values"][0]["stacktrace"]["frames"] = (0..12)
        .map(|i| {
            json!({"filename": format!("app/views/step_{i}.py"), "module": format!("app.views.step_{i}"),
                   "function": format!("handle_{i}"), "lineno": 10 + i, "in_app": true,
                   "context_line": format!("    return items[key_{i}]")})
        })
        .collect();
    event
}

#[tokio::test]
async fn a_project_gets_a_dictionary_and_its_events_stay_readable() {
    let app = TestApp::spawn().await;
    let project = app.project("web").await;
    let router = faultline::app::router(app.state.clone());
    let send = |n: u64| {
        let router = router.clone();
        let body = envelope(json!({}), &[event_item(&event(n))]);
        let request = post(&project.envelope_path(), &[("x-sentry-auth", &project.auth())], body);
        async move { split(router.oneshot(request).await.expect("infallible")).await.0 }
    };

    // Enough events to be due for training, sent 16 at a time.
    for chunk in (0..TRAIN_AFTER).collect::<Vec<_>>().chunks(16) {
        let mut tasks = tokio::task::JoinSet::new();
        for &n in chunk {
            tasks.spawn(send(n));
        }
        while let Some(status) = tasks.join_next().await {
            assert_eq!(status.expect("task"), 200);
        }
    }
    let store = app.store();
    let mut dictionary = None;
    for _ in 0..600 {
        dictionary = store.payload_dictionary(project.id).await.expect("lookup");
        if dictionary.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let dictionary = dictionary.expect("a dictionary was trained after TRAIN_AFTER events");

    // Events from now on name the dictionary in their frame and are much smaller.
    let last = TRAIN_AFTER + 1;
    assert_eq!(send(last).await, 200);
    let early = store.find_event(project.id, &event_id(1)).await.expect("find").expect("stored");
    let late = store.find_event(project.id, &event_id(last)).await.expect("find").expect("stored");
    assert_eq!(frame_dictionary(&early.payload), None);
    assert_eq!(frame_dictionary(&late.payload), Some(dictionary.id));
    assert!(
        late.payload.len() * 2 < early.payload.len(),
        "{} bytes with the dictionary, {} without",
        late.payload.len(),
        early.payload.len()
    );

    // The API returns the whole event.
    let token = app.api_token("dev@example.com", "event:read", &[&project]).await;
    let request = Request::builder()
        .uri(format!("/api/0/projects/default/web/events/{}/", event_id(last)))
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .expect("request");
    let (status, body) = split(app.request(request).await).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("https://shop.example.com/cart/1001") && body.contains("handle_11"), "{body}");

    // A second node, caches cold, decodes both kinds of payload.
    let other = Store::connect(&app.db.url, &ConnectOptions::default()).await.expect("second store");
    let json = other.payload_json(&late.payload).await.expect("decodes with the stored dictionary");
    assert_eq!(json["request"]["url"], "https://shop.example.com/cart/1001");
    let json = other.payload_json(&early.payload).await.expect("decodes without a dictionary");
    assert_eq!(json["request"]["url"], "https://shop.example.com/cart/1");
    assert!(other.payload_json(b"not a zstd frame").await.is_err());
}
