//! A local stand-in for Slack, and a fixture for alert tests.
//!
//! [`Receiver`] is a tiny axum server on `127.0.0.1:0` that records every POSTed body and answers from a
//! script (`500`, `429` with `Retry-After`, a redirect …), then `200 ok`. [`Alerts`] is a [`TestApp`]
//! that may post to it (`allow_private_webhooks`), with a project, an API token and helpers to send
//! events and manage rules.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{Request, StatusCode};
use axum::response::{IntoResponse, Response};
use faultline::config::Config;
use serde_json::{Value, json};

use super::envelope::{envelope, error_event, event_item, post};
use super::{TestApp, TestProject, split};

#[derive(Default)]
struct Inner {
    received: Vec<(String, Value)>,
    script: VecDeque<(u16, Vec<(&'static str, String)>)>,
}

/// A recording webhook receiver.
#[derive(Clone)]
pub struct Receiver {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    inner: Arc<Mutex<Inner>>,
}

impl Receiver {
    /// Start it.
    pub async fn start() -> Self {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = axum::Router::new().fallback(record).with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.ok() });
        Self { base, inner }
    }

    /// A webhook URL on this receiver.
    pub fn hook(&self, path: &str) -> String {
        format!("{}/services/T000/B000/{path}", self.base)
    }

    /// Answer the next request with `status` and `headers` (in order; then `200 ok`).
    pub fn then_answer(&self, status: u16, headers: &[(&'static str, &str)]) {
        let headers = headers.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        self.inner.lock().unwrap().script.push_back((status, headers));
    }

    /// Every request so far: (path, JSON body).
    pub fn received(&self) -> Vec<(String, Value)> {
        self.inner.lock().unwrap().received.clone()
    }
}

async fn record(State(inner): State<Arc<Mutex<Inner>>>, request: Request<Body>) -> Response {
    let path = request.uri().path().to_owned();
    let bytes: Bytes = axum::body::to_bytes(request.into_body(), 1 << 20).await.unwrap_or_default();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let mut inner = inner.lock().unwrap();
    inner.received.push((path, body));
    match inner.script.pop_front() {
        Some((status, headers)) => {
            let mut response = (StatusCode::from_u16(status).unwrap(), "scripted").into_response();
            for (name, value) in headers {
                response.headers_mut().insert(name, value.parse().unwrap());
            }
            response
        }
        None => "ok".into_response(),
    }
}

/// An app that may post to local receivers, with a project `web` and an API token.
pub struct Alerts {
    /// The app.
    pub app: TestApp,
    /// Project `web` in organization `default`.
    pub project: TestProject,
    token: String,
}

impl Alerts {
    /// Private webhooks allowed (the receiver is on loopback).
    pub async fn new() -> Self {
        Self::with_config(Config { allow_private_webhooks: true, ..Config::default() }).await
    }

    /// With a config of the test's choosing.
    pub async fn with_config(config: Config) -> Self {
        let app = TestApp::with_config(config).await;
        let project = app.project("web").await;
        let token =
            app.api_token("ops@example.com", "project:read project:write event:read event:write", &[&project]).await;
        Self { app, project, token }
    }

    /// An API call: status and JSON body.
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", format!("Bearer {}", self.token))
            .header("content-type", "application/json")
            .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
            .unwrap();
        let (status, text) = split(self.app.request(request).await).await;
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Create a rule through the API; returns its id.
    pub async fn rule(&self, body: Value) -> String {
        let (status, rule) = self.call("POST", "/api/0/projects/default/web/rules/", Some(body)).await;
        assert_eq!(status, 201, "{rule}");
        rule["id"].as_str().unwrap().to_owned()
    }

    /// Send one event through ingest; `change` edits the default Python error event first.
    pub async fn send(&self, event_id: &str, ty: &str, change: impl FnOnce(&mut Value)) {
        let mut event = error_event(event_id, ty, "boom", "handler");
        change(&mut event);
        let body = envelope(json!({}), &[event_item(&event)]);
        let auth = self.project.auth();
        let (status, text) =
            split(self.app.request(post(&self.project.envelope_path(), &[("x-sentry-auth", &auth)], body)).await).await;
        assert_eq!(status, 200, "{text}");
    }
}

/// A 32-hex event id from a number.
pub fn event_id(n: u32) -> String {
    format!("{n:032x}")
}

/// A rule body posting to `webhook`, with `conditions` and `extra` fields merged in.
pub fn rule_body(webhook: &str, conditions: Value, extra: Value) -> Value {
    let mut body = json!({"name": "Errors to #web", "frequency": 30, "conditions": conditions,
                          "actions": [{"id": "slack_webhook", "webhook": webhook}]});
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            body.insert(k.clone(), v.clone());
        }
    }
    body
}
