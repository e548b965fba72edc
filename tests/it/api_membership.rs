//! The API follows the web UI's membership: a non-admin's token reaches only the projects its user is a
//! member of, and a project out of reach answers exactly like one that does not exist.

use axum::body::Body;
use axum::http::Request;
use faultline::config::Config;
use faultline::store::{IssueQuery, IssueSort};
use serde_json::{Value, json};

use crate::support::envelope::{envelope, error_event, event_item, post};
use crate::support::{TestApp, TestProject, split};

const ALL_SCOPES: &str = "org:read project:read project:write event:read event:write event:admin";
const WEB_EVENT: &str = "0b000000000000000000000000000001";
const SECRET_EVENT: &str = "0b000000000000000000000000000002";

/// Two projects, `web` (the member's) and `secret` (not theirs), one issue and one alert rule each.
struct Two {
    app: TestApp,
    secret: TestProject,
    web_issue: i64,
    secret_issue: i64,
    secret_rule: String,
    /// dev@example.com: a member of `web` only, with every scope.
    member: String,
    /// root@example.com: an admin.
    admin: String,
}

impl Two {
    async fn new() -> Self {
        let app = TestApp::with_config(Config { allow_private_webhooks: true, ..Config::default() }).await;
        let web = app.project("web").await;
        let secret = app.project("secret").await;
        let member = app.api_token("dev@example.com", ALL_SCOPES, &[&web]).await;
        let admin = app.admin_api_token("root@example.com", ALL_SCOPES).await;
        let web_issue = send(&app, &web, WEB_EVENT, "KeyError").await;
        let secret_issue = send(&app, &secret, SECRET_EVENT, "SecretError").await;
        let mut two = Self { app, secret, web_issue, secret_issue, secret_rule: String::new(), member, admin };
        let rule = json!({"name": "secret", "conditions": [{"id": "first_seen_event"}],
                          "actions": [{"id": "slack_webhook", "webhook": "http://127.0.0.1:9/services/T0/B0/x"}]});
        let (status, rule) = two.call(&two.admin, "POST", "/api/0/projects/default/secret/rules/", Some(rule)).await;
        assert_eq!(status, 201, "{rule}");
        two.secret_rule = rule["id"].as_str().unwrap().to_owned();
        two
    }

    async fn call(&self, token: &str, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
            .unwrap();
        let (status, text) = split(self.app.request(request).await).await;
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn status_of(&self, issue: i64) -> Option<String> {
        self.app.store().find_issue(issue).await.unwrap().map(|i| i.status)
    }

    /// Every route that reaches the `secret` project, its issue, event or rule.
    fn secret_routes(&self) -> Vec<(&'static str, String, Option<Value>)> {
        let (issue, rule, event) = (self.secret_issue, &self.secret_rule, SECRET_EVENT);
        let rules = "/api/0/projects/default/secret/rules/";
        let resolve = Some(json!({"status": "resolved"}));
        vec![
            ("GET", "/api/0/projects/default/secret/issues/".to_owned(), None),
            ("PUT", format!("/api/0/projects/default/secret/issues/?id={issue}"), resolve.clone()),
            ("DELETE", format!("/api/0/projects/default/secret/issues/?id={issue}"), None),
            ("GET", format!("/api/0/projects/default/secret/events/{event}/"), None),
            ("GET", format!("/api/0/issues/{issue}/"), None),
            ("PUT", format!("/api/0/issues/{issue}/"), resolve.clone()),
            ("DELETE", format!("/api/0/issues/{issue}/"), None),
            ("GET", format!("/api/0/organizations/default/issues/{issue}/"), None),
            ("PUT", format!("/api/0/organizations/default/issues/{issue}/"), resolve),
            ("DELETE", format!("/api/0/organizations/default/issues/{issue}/"), None),
            ("GET", format!("/api/0/issues/{issue}/events/"), None),
            ("GET", format!("/api/0/issues/{issue}/events/latest/"), None),
            ("GET", format!("/api/0/issues/{issue}/tags/level/"), None),
            ("GET", format!("/api/0/issues/{issue}/rules/"), None),
            ("GET", rules.to_owned(), None),
            (
                "POST",
                rules.to_owned(),
                Some(json!({"name": "mine", "conditions": [{"id": "first_seen_event"}],
                "actions": [{"id": "slack_webhook", "webhook": "http://127.0.0.1:9/services/T0/B0/y"}]})),
            ),
            ("GET", format!("{rules}{rule}/"), None),
            ("PUT", format!("{rules}{rule}/"), Some(json!({"name": "renamed"}))),
            ("DELETE", format!("{rules}{rule}/"), None),
            ("POST", format!("{rules}{rule}/test/"), None),
            ("GET", format!("{rules}{rule}/deliveries/"), None),
        ]
    }
}

/// Send one event to `project`; returns its issue.
async fn send(app: &TestApp, project: &TestProject, event_id: &str, ty: &str) -> i64 {
    let body = envelope(json!({}), &[event_item(&error_event(event_id, ty, "boom", "handler"))]);
    let request = post(&project.envelope_path(), &[("x-sentry-auth", &project.auth())], body);
    assert_eq!(split(app.request(request).await).await.0, 200);
    let query = IssueQuery { project_id: project.id, sort: IssueSort::LastSeen, limit: 10, ..IssueQuery::default() };
    app.store().list_issues(&query).await.unwrap()[0].id
}

/// The issue ids of a list response.
fn ids(list: &Value) -> Vec<i64> {
    list.as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().parse().unwrap()).collect()
}

#[tokio::test]
async fn a_non_member_gets_404_for_every_route_of_another_project() {
    let two = Two::new().await;
    for (method, path, body) in two.secret_routes() {
        let (status, answer) = two.call(&two.member, method, &path, body).await;
        assert_eq!(status, 404, "{method} {path} → {answer}");
        assert_eq!(answer, json!({"detail": "The requested resource does not exist"}), "{method} {path}");
    }
    // Nothing changed, and the answer is the one for a project that does not exist.
    assert_eq!(two.status_of(two.secret_issue).await.as_deref(), Some("unresolved"));
    let rule = two.app.store().find_alert_rule(two.secret_rule.parse().unwrap()).await.unwrap().unwrap();
    assert_eq!(rule.name, "secret");
    assert_eq!(two.app.store().list_alert_rules(two.secret.id).await.unwrap().len(), 1);
    assert_eq!(
        two.call(&two.member, "GET", "/api/0/projects/default/nope/issues/", None).await,
        two.call(&two.member, "GET", "/api/0/projects/default/secret/issues/", None).await,
    );
    assert_eq!(
        two.call(&two.member, "GET", "/api/0/issues/999999/", None).await,
        two.call(&two.member, "GET", &format!("/api/0/issues/{}/", two.secret_issue), None).await,
    );

    // Their own project answers, and its issue's detail too.
    let (status, list) = two.call(&two.member, "GET", "/api/0/projects/default/web/issues/", None).await;
    assert_eq!((status, ids(&list)), (200, vec![two.web_issue]));
    let (status, _) = two.call(&two.member, "GET", &format!("/api/0/issues/{}/", two.web_issue), None).await;
    assert_eq!(status, 200);
    let (status, _) = two.call(&two.member, "GET", "/api/0/projects/default/web/rules/", None).await;
    assert_eq!(status, 200);
    let (_, projects) = two.call(&two.member, "GET", "/api/0/organizations/default/projects/", None).await;
    let slugs: Vec<&str> = projects.as_array().unwrap().iter().map(|p| p["slug"].as_str().unwrap()).collect();
    assert_eq!(slugs, ["web"]);
    // An issue under another organization's path is not there either.
    let (status, _) =
        two.call(&two.admin, "GET", &format!("/api/0/organizations/other/issues/{}/", two.web_issue), None).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn an_admin_reaches_every_project() {
    let two = Two::new().await;
    for (method, path, body) in two.secret_routes() {
        if method != "GET" {
            continue;
        }
        let (status, answer) = two.call(&two.admin, method, &path, body).await;
        assert_eq!(status, 200, "{method} {path} → {answer}");
    }
    let (_, projects) = two.call(&two.admin, "GET", "/api/0/organizations/default/projects/", None).await;
    assert_eq!(projects.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn the_organization_issue_list_holds_only_member_projects() {
    let two = Two::new().await;
    let list = "/api/0/organizations/default/issues/";
    let (status, issues) = two.call(&two.member, "GET", list, None).await;
    assert_eq!((status, ids(&issues)), (200, vec![two.web_issue]), "{issues}");
    let (status, issues) = two.call(&two.member, "GET", &format!("{list}?project=-1&query="), None).await;
    assert_eq!((status, ids(&issues)), (200, vec![two.web_issue]));
    let (status, _) = two.call(&two.member, "GET", &format!("{list}?project={}", two.secret.id), None).await;
    assert_eq!(status, 404, "naming a project out of reach");
    let (status, _) = two.call(&two.member, "GET", &format!("{list}?project=999999"), None).await;
    assert_eq!(status, 404, "naming a project that does not exist");

    let (status, issues) = two.call(&two.admin, "GET", &format!("{list}?sort=new"), None).await;
    assert_eq!((status, ids(&issues)), (200, vec![two.secret_issue, two.web_issue]));
    let (_, issues) = two.call(&two.admin, "GET", &format!("{list}?project={}", two.secret.id), None).await;
    assert_eq!(ids(&issues), vec![two.secret_issue]);
    assert_eq!(two.call(&two.admin, "GET", "/api/0/organizations/nope/issues/", None).await.0, 404);
}

#[tokio::test]
async fn the_link_header_keeps_the_list_parameters() {
    let two = Two::new().await;
    let request = Request::get("/api/0/organizations/default/issues/?query=is:unresolved&limit=1&cursor=0:0:0")
        .header("authorization", format!("Bearer {}", two.admin))
        .body(Body::empty())
        .unwrap();
    let response = two.app.request(request).await;
    let link = response.headers().get("link").unwrap().to_str().unwrap().to_owned();
    assert!(link.contains("/api/0/organizations/default/issues/?query=is%3Aunresolved&limit=1&cursor=0:1:0"), "{link}");
    assert!(link.contains("rel=\"next\"; results=\"true\""), "{link}");
}

#[tokio::test]
async fn bulk_changes_naming_issues_of_other_projects_change_nothing() {
    let two = Two::new().await;
    let (web, secret) = (two.web_issue, two.secret_issue);
    let mixed = format!("/api/0/projects/default/web/issues/?id={web}&id={secret}");
    for body in [json!({"status": "resolved"}), json!({"merge": 1}), json!({"status": "ignored"})] {
        let (status, answer) = two.call(&two.member, "PUT", &mixed, Some(body.clone())).await;
        assert_eq!(status, 404, "{body} → {answer}");
    }
    assert_eq!(two.call(&two.member, "DELETE", &mixed, None).await.0, 404);
    // Even an admin cannot change another project's issue through this project's path.
    assert_eq!(two.call(&two.admin, "PUT", &mixed, Some(json!({"status": "resolved"}))).await.0, 404);
    assert_eq!(two.call(&two.admin, "DELETE", &mixed, None).await.0, 404);
    assert_eq!(two.status_of(web).await.as_deref(), Some("unresolved"));
    assert_eq!(two.status_of(secret).await.as_deref(), Some("unresolved"));

    // The member's own issue alone goes through.
    let own = format!("/api/0/projects/default/web/issues/?id={web}");
    assert_eq!(two.call(&two.member, "PUT", &own, Some(json!({"status": "resolved"}))).await.0, 200);
    assert_eq!(two.status_of(web).await.as_deref(), Some("resolved"));
    assert_eq!(two.status_of(secret).await.as_deref(), Some("unresolved"));
}

#[tokio::test]
async fn membership_grants_access_and_removing_it_takes_it_away() {
    let two = Two::new().await;
    let issue = format!("/api/0/issues/{}/", two.secret_issue);
    assert_eq!(two.call(&two.member, "GET", &issue, None).await.0, 404);
    let store = two.app.store();
    let dev = store.find_user_credentials("dev@example.com").await.unwrap().unwrap().0;
    store.add_project_member(two.secret.id, dev.id).await.unwrap();
    for (method, path, body) in two.secret_routes() {
        if method != "GET" {
            continue;
        }
        let (status, answer) = two.call(&two.member, method, &path, body).await;
        assert_eq!(status, 200, "{method} {path} → {answer}");
    }
    let (status, issues) = two.call(&two.member, "GET", "/api/0/organizations/default/issues/", None).await;
    assert_eq!(status, 200);
    assert_eq!(ids(&issues).len(), 2);
    let (status, _) = two.call(&two.member, "PUT", &issue, Some(json!({"status": "resolved"}))).await;
    assert_eq!(status, 200);
    assert_eq!(two.status_of(two.secret_issue).await.as_deref(), Some("resolved"));

    store.remove_project_member(two.secret.id, dev.id).await.unwrap();
    assert_eq!(two.call(&two.member, "GET", &issue, None).await.0, 404);
}
