//! The durability contract at shutdown, as an operator meets it: `faultline serve` gets SIGTERM while
//! SDKs are sending; every event that was answered 200 is in the database afterwards, and the process
//! exits cleanly.

use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::json;

use crate::support::TestDb;
use crate::support::envelope::{envelope, error_event, event_item};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_in_flight_requests_and_loses_no_acknowledged_event() {
    let db = TestDb::new().await;
    let org = db.store.create_organization("default", "default").await.unwrap();
    let (project, key) = faultline::projects::create_project(&db.store, &org, "web", None).await.unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut server = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(["serve", "--database-url", db.url.expose(), "--listen", &format!("127.0.0.1:{port}")])
        .env("FAULTLINE_ADMIN_EMAIL", "admin@example.com")
        .env("FAULTLINE_ADMIN_PASSWORD", "long-enough")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let mut ready = false;
    for _ in 0..100 {
        if client.get(format!("{base}/_ready")).send().await.is_ok_and(|r| r.status() == 200) {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(ready, "server did not become ready");

    let url = format!("{base}/api/{}/envelope/?sentry_key={}&sentry_version=7", project.id, key.public_key);
    let mut sends = Vec::new();
    for i in 0..300 {
        let id = format!("{i:032x}");
        let body = envelope(json!({"event_id": id}), &[event_item(&error_event(&id, "E", "v", "f"))]);
        let (client, url) = (client.clone(), url.clone());
        sends.push(tokio::spawn(async move {
            let ok = client.post(url).body(body).send().await.is_ok_and(|r| r.status() == 200);
            (id, ok)
        }));
        if i == 150 {
            let status = Command::new("kill").args(["-TERM", &server.id().to_string()]).status().unwrap();
            assert!(status.success());
        }
    }
    let mut acknowledged = Vec::new();
    for send in sends {
        let (id, ok) = send.await.unwrap();
        if ok {
            acknowledged.push(id);
        }
    }
    let exit = tokio::task::spawn_blocking(move || server.wait()).await.unwrap().unwrap();
    assert!(exit.success(), "serve exits cleanly on SIGTERM: {exit:?}");
    assert!(!acknowledged.is_empty());
    for id in &acknowledged {
        assert!(
            db.store.find_event(project.id, id).await.unwrap().is_some(),
            "event {id} was acknowledged but not stored"
        );
    }
}
