//! The Sentry-compatible API over events sent through ingest.

use axum::body::Body;
use axum::http::Request;
use serde_json::{Value, json};

use crate::support::envelope::{envelope, error_event, event_item, post};
use crate::support::{TestApp, TestProject, split};

const ID1: &str = "0a000000000000000000000000000001";
const ID2: &str = "0a000000000000000000000000000002";
const ID3: &str = "0a000000000000000000000000000003";

struct Api {
    app: TestApp,
    project: TestProject,
    token: String,
}

impl Api {
    async fn new(scopes: &str) -> Self {
        let app = TestApp::spawn().await;
        let project = app.project("web").await;
        let token = app.api_token("dev@example.com", scopes, &[&project]).await;
        for (id, ty, value) in [
            (ID1, "ZeroDivisionError", "division by zero"),
            (ID2, "ZeroDivisionError", "division by zero"),
            (ID3, "KeyError", "'k'"),
        ] {
            let body = envelope(json!({}), &[event_item(&error_event(id, ty, value, ty))]);
            let (status, _) =
                split(app.request(post(&project.envelope_path(), &[("x-sentry-auth", &project.auth())], body)).await)
                    .await;
            assert_eq!(status, 200);
        }
        Self { app, project, token }
    }

    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value, Option<String>) {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", format!("Bearer {}", self.token))
            .header("content-type", "application/json")
            .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
            .unwrap();
        let response = self.app.request(request).await;
        let link = response.headers().get("link").map(|v| v.to_str().unwrap().to_owned());
        let (status, text) = split(response).await;
        (status, serde_json::from_str(&text).unwrap_or(Value::Null), link)
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        let (status, body, _) = self.call("GET", path, None).await;
        (status, body)
    }
}

#[tokio::test]
async fn organizations_projects_and_issues_list_like_sentry() {
    let api = Api::new("org:read project:read event:read").await;
    let (status, orgs) = api.get("/api/0/organizations/").await;
    assert_eq!(status, 200);
    assert_eq!(orgs[0]["slug"], "default");
    let (_, projects) = api.get("/api/0/organizations/default/projects/").await;
    assert_eq!(projects[0]["slug"], "web");

    let (status, issues, link) =
        api.call("GET", "/api/0/projects/default/web/issues/?query=is:unresolved&sort=freq", None).await;
    assert_eq!(status, 200, "{issues}");
    let issues = issues.as_array().unwrap();
    assert_eq!(issues.len(), 2);
    let top = &issues[0];
    assert_eq!(top["title"], "ZeroDivisionError: division by zero");
    assert_eq!(top["count"], "2", "Sentry sends count as a string");
    assert_eq!(top["userCount"], 1);
    assert_eq!(top["level"], "error");
    assert_eq!(top["status"], "unresolved");
    assert_eq!(top["shortId"], "WEB-1");
    assert_eq!(top["project"]["slug"], "web");
    assert_eq!(top["metadata"]["type"], "ZeroDivisionError");
    for key in ["id", "culprit", "firstSeen", "lastSeen", "permalink"] {
        assert!(top[key].is_string(), "{key} missing: {top}");
    }
    assert!(link.unwrap().contains("rel=\"next\"; results=\"false\""));

    let (_, page) = api.get("/api/0/projects/default/web/issues/?limit=1").await;
    assert_eq!(page.as_array().unwrap().len(), 1);
    let (_, found) = api.get("/api/0/projects/default/web/issues/?query=KeyError").await;
    assert_eq!(found.as_array().unwrap().len(), 1);
    let (_, by_tag) =
        api.get("/api/0/projects/default/web/issues/?query=environment:production%20browser:Firefox").await;
    assert_eq!(by_tag.as_array().unwrap().len(), 2);
    let (_, none) = api.get("/api/0/projects/default/web/issues/?query=!browser:Firefox").await;
    assert_eq!(none.as_array().unwrap().len(), 0);
    let (status, err) = api.get("/api/0/projects/default/web/issues/?query=is:sleeping").await;
    assert_eq!(status, 400);
    assert!(err["detail"].as_str().unwrap().contains("sleeping"));
    assert_eq!(api.get("/api/0/projects/default/nope/issues/").await.0, 404);
}

#[tokio::test]
async fn issue_detail_events_and_tags() {
    let api = Api::new("event:read").await;
    let (_, issues) = api.get("/api/0/projects/default/web/issues/?sort=freq").await;
    let id = issues[0]["id"].as_str().unwrap().to_owned();
    let (status, issue) = api.get(&format!("/api/0/issues/{id}/")).await;
    assert_eq!((status, issue["id"].as_str()), (200, Some(id.as_str())));
    assert_eq!(api.get(&format!("/api/0/organizations/default/issues/{id}/")).await.1["id"], issue["id"]);

    let (_, events) = api.get(&format!("/api/0/issues/{id}/events/")).await;
    assert_eq!(events.as_array().unwrap().len(), 2);
    let (_, latest) = api.get(&format!("/api/0/issues/{id}/events/latest/")).await;
    assert_eq!(latest["groupID"], id.as_str());
    let (status, event) = api.get(&format!("/api/0/projects/default/web/events/{ID1}/")).await;
    assert_eq!(status, 200);
    assert_eq!((event["id"].as_str(), event["eventID"].as_str()), (Some(ID1), Some(ID1)));
    assert_eq!(event["release"]["version"], "web@1.0.0");
    assert_eq!(event["environment"], "production");
    assert_eq!(event["user"]["id"], "u-1");
    let exception =
        event["entries"].as_array().unwrap().iter().find(|e| e["type"] == "exception").expect("exception entry");
    assert_eq!(exception["data"]["values"][0]["type"], "ZeroDivisionError");
    let tags = event["tags"].as_array().unwrap();
    assert!(tags.contains(&json!({"key": "browser", "value": "Firefox"})), "{tags:?}");
    assert!(tags.contains(&json!({"key": "environment", "value": "production"})), "{tags:?}");
    assert!(tags.contains(&json!({"key": "level", "value": "error"})), "{tags:?}");

    let (_, tag) = api.get(&format!("/api/0/issues/{id}/tags/browser/")).await;
    assert_eq!(tag["totalValues"], 2);
    assert_eq!(tag["topValues"][0]["value"], "Firefox");
    assert_eq!(tag["topValues"][0]["count"], 2);
    assert_eq!(api.get("/api/0/issues/999999/").await.0, 404);
    assert_eq!(api.get("/api/0/projects/default/web/events/ffffffffffffffffffffffffffffffff/").await.0, 404);
}

#[tokio::test]
async fn status_changes_single_and_bulk_and_delete() {
    let api = Api::new("event:read event:write event:admin").await;
    let (_, issues) = api.get("/api/0/projects/default/web/issues/").await;
    let ids: Vec<String> = issues.as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_owned()).collect();
    let (status, body, _) =
        api.call("PUT", &format!("/api/0/issues/{}/", ids[0]), Some(json!({"status": "resolved"}))).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("resolved")));
    let (_, unresolved) = api.get("/api/0/projects/default/web/issues/").await;
    assert_eq!(unresolved.as_array().unwrap().len(), 1, "the default query is is:unresolved");
    let (_, resolved) = api.get("/api/0/projects/default/web/issues/?query=is:resolved").await;
    assert_eq!(resolved[0]["id"], ids[0].as_str());

    let path = format!("/api/0/projects/default/web/issues/?id={}&id={}", ids[0], ids[1]);
    let (status, _, _) = api.call("PUT", &path, Some(json!({"status": "ignored"}))).await;
    assert_eq!(status, 200);
    let (_, ignored) = api.get("/api/0/projects/default/web/issues/?query=is:ignored").await;
    assert_eq!(ignored.as_array().unwrap().len(), 2);
    let (status, _, _) =
        api.call("PUT", &format!("/api/0/issues/{}/", ids[0]), Some(json!({"status": "sleeping"}))).await;
    assert_eq!(status, 400);

    let (status, _, _) = api.call("DELETE", &format!("/api/0/issues/{}/", ids[1]), None).await;
    assert_eq!(status, 202);
    assert_eq!(api.get(&format!("/api/0/issues/{}/", ids[1])).await.0, 404);
}

#[tokio::test]
async fn tokens_and_scopes_are_enforced() {
    let api = Api::new("event:read").await;
    let anonymous = api.app.request(Request::get("/api/0/organizations/").body(Body::empty()).unwrap()).await;
    assert_eq!(anonymous.status(), 401);
    let wrong = api
        .app
        .request(
            Request::get("/api/0/organizations/").header("authorization", "Bearer nope").body(Body::empty()).unwrap(),
        )
        .await;
    assert_eq!(wrong.status(), 401);
    assert_eq!(api.get("/api/0/organizations/").await.0, 403, "event:read does not grant org:read");
    let (_, issues) = api.get("/api/0/projects/default/web/issues/").await;
    let id = issues[0]["id"].as_str().unwrap();
    let (status, _, _) = api.call("PUT", &format!("/api/0/issues/{id}/"), Some(json!({"status": "resolved"}))).await;
    assert_eq!(status, 403, "read-only tokens cannot change issues");
    let _ = api.project;
}

#[tokio::test]
async fn assignment_bookmarks_merge_and_bulk_delete_work_like_sentry() {
    let api = Api::new("event:read event:write event:admin").await;
    let (_, issues) = api.get("/api/0/projects/default/web/issues/?sort=freq").await;
    let ids: Vec<String> = issues.as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_owned()).collect();
    let one = format!("/api/0/issues/{}/", ids[0]);
    let (status, body, _) =
        api.call("PUT", &one, Some(json!({"assignedTo": "dev@example.com", "isBookmarked": true}))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["assignedTo"]["email"], "dev@example.com");
    let (_, issue) = api.get(&one).await;
    assert_eq!(
        (issue["assignedTo"]["email"].as_str(), issue["isBookmarked"].as_bool()),
        (Some("dev@example.com"), Some(true))
    );
    let (_, mine) = api.get("/api/0/projects/default/web/issues/?query=assigned:me%20is:bookmarked").await;
    assert_eq!(mine.as_array().unwrap().len(), 1);
    let (status, _, _) = api.call("PUT", &one, Some(json!({"assignedTo": "nobody@example.com"}))).await;
    assert_eq!(status, 400);
    let (_, body, _) = api.call("PUT", &one, Some(json!({"assignedTo": ""}))).await;
    assert_eq!(body["assignedTo"], Value::Null);
    let (_, body, _) = api
        .call(
            "PUT",
            &one,
            Some(json!({"status": "ignored", "statusDetails": {"ignoreCount": 10, "ignoreDuration": 30}})),
        )
        .await;
    assert_eq!(body["status"], "ignored");
    let (_, issue) = api.get(&one).await;
    assert_eq!(issue["statusDetails"]["ignoreCount"], 10);
    let (_, body, _) =
        api.call("PUT", &one, Some(json!({"status": "resolved", "statusDetails": {"inRelease": "web@1.0.0"}}))).await;
    assert_eq!(body["statusDetails"]["inRelease"], "web@1.0.0");
    assert_eq!(api.call("PUT", &one, Some(json!({}))).await.0, 400);

    let bulk = format!("/api/0/projects/default/web/issues/?id={}&id={}", ids[0], ids[1]);
    let (status, body, _) = api.call("PUT", &bulk, Some(json!({"merge": 1}))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["merge"]["parent"], ids[0].as_str(), "the issue with the most events is the parent");
    assert_eq!(body["merge"]["children"], json!([ids[1]]));
    let (_, parent) = api.get(&one).await;
    assert_eq!(parent["count"], "3");
    assert_eq!(api.get(&format!("/api/0/issues/{}/", ids[1])).await.0, 404);

    let (status, _, _) = api.call("DELETE", &format!("/api/0/projects/default/web/issues/?id={}", ids[0]), None).await;
    assert_eq!(status, 204);
    assert_eq!(api.get(&one).await.0, 404);
}
