//! Projects, project settings (keys, members, environments, inbound filters), users and API tokens.

use serde_json::json;

use crate::support::envelope::{envelope, error_event, event_item, post};
use crate::support::web::{Browser, user};
use crate::support::{TestApp, split};

#[tokio::test]
async fn admins_create_projects_and_manage_keys() {
    let app = TestApp::spawn().await;
    user(&app, "admin@example.com", true).await;
    let b = Browser::login(&app, "admin@example.com").await;
    let done = b.post("/organizations/default/projects/", "slug=backend&platform=python").await;
    assert_eq!((done.status, done.location.as_str()), (303, "/settings/default/projects/backend/keys/"));
    assert_eq!(b.post("/organizations/default/projects/", "slug=backend").await.status, 409);
    assert_eq!(b.post("/organizations/default/projects/", "slug=Bad%20Name").await.status, 422);
    let list = b.get("/organizations/default/projects/").await.body;
    assert!(list.contains("backend") && list.contains("http://"), "lists the DSN");

    let keys = b.get("/settings/default/projects/backend/keys/").await.body;
    assert!(keys.contains("Default"));
    b.post("/settings/default/projects/backend/keys/", "label=Frontend").await;
    let project = app.store().find_project("default", "backend").await.unwrap().unwrap();
    let all = app.store().list_project_keys(project.id).await.unwrap();
    assert_eq!(all.len(), 2);
    let key = &all[1];
    b.post(&format!("/settings/default/projects/backend/keys/{}/", key.id), "enabled=1&rate_limit=120").await;
    let updated = app.store().find_project_key(&key.public_key).await.unwrap().unwrap();
    assert_eq!((updated.enabled, updated.rate_limit_per_minute), (true, Some(120)));
    assert_eq!(
        b.post(&format!("/settings/default/projects/backend/keys/{}/", key.id), "rate_limit=lots").await.status,
        400
    );
    b.post(&format!("/settings/default/projects/backend/keys/{}/revoke/", key.id), "").await;
    assert!(app.store().find_project_key(&key.public_key).await.unwrap().is_none());
    assert_eq!(b.post("/settings/default/projects/backend/keys/999/revoke/", "").await.status, 404);

    b.post("/settings/default/projects/backend/", "name=Backend%20API&platform=rust").await;
    let general = b.get("/settings/default/projects/backend/").await.body;
    assert!(general.contains("Backend API") && general.contains("rust"));
}

#[tokio::test]
async fn members_are_added_and_only_admins_change_settings() {
    let app = TestApp::spawn().await;
    app.project("web").await;
    user(&app, "admin@example.com", true).await;
    let dev = user(&app, "dev@example.com", false).await;
    let admin = Browser::login(&app, "admin@example.com").await;
    let member = Browser::login(&app, "dev@example.com").await;
    assert_eq!(member.get("/settings/default/projects/web/").await.status, 404, "not a member yet");
    admin.post("/settings/default/projects/web/members/", &format!("action=add&user_id={dev}")).await;
    assert!(admin.get("/settings/default/projects/web/members/").await.body.contains("dev@example.com"));
    assert_eq!(member.get("/settings/default/projects/web/keys/").await.status, 200, "members read settings");
    assert_eq!(member.post("/settings/default/projects/web/keys/", "label=x").await.status, 403);
    assert_eq!(member.post("/organizations/default/projects/", "slug=mine").await.status, 403);
    assert_eq!(member.get("/settings/default/members/").await.status, 403);
    admin.post("/settings/default/projects/web/members/", &format!("action=remove&user_id={dev}")).await;
    assert_eq!(member.get("/settings/default/projects/web/").await.status, 404);
}

#[tokio::test]
async fn inbound_filters_drop_matching_events_at_ingest() {
    let app = TestApp::spawn().await;
    let project = app.project("web").await;
    user(&app, "admin@example.com", true).await;
    let b = Browser::login(&app, "admin@example.com").await;
    let done = b
        .post(
            "/settings/default/projects/web/filters/",
            "localhost=1&error_messages=*ResizeObserver*&error_types=KeyboardInterrupt&releases=0.*",
        )
        .await;
    assert_eq!(done.status, 303);
    let page = b.get("/settings/default/projects/web/filters/").await.body;
    assert!(page.contains("*ResizeObserver*") && page.contains("checked"));
    let send = |id: &str, ty: &str, value: &str, release: &str| {
        let mut e = error_event(id, ty, value, "f");
        e["release"] = json!(release);
        post(&project.envelope_path(), &[("x-sentry-auth", &project.auth())], envelope(json!({}), &[event_item(&e)]))
    };
    for (n, (ty, value, release)) in [
        ("Error", "ResizeObserver loop limit exceeded", "1.0"),
        ("KeyboardInterrupt", "", "1.0"),
        ("ValueError", "old", "0.9"),
        ("ValueError", "kept", "1.0"),
    ]
    .into_iter()
    .enumerate()
    {
        let (status, body) = split(app.request(send(&format!("{n:032x}"), ty, value, release)).await).await;
        assert_eq!(status, 200, "filtered events are still acknowledged: {body}");
    }
    let issues = app
        .store()
        .list_issues(&faultline::store::IssueQuery { project_id: project.id, limit: 10, ..Default::default() })
        .await
        .unwrap();
    assert_eq!(issues.len(), 1, "{issues:?}");
    assert_eq!(issues[0].title, "ValueError: kept");
}

#[tokio::test]
async fn environments_can_be_hidden_from_the_selector() {
    let app = TestApp::spawn().await;
    let project = app.project("web").await;
    user(&app, "admin@example.com", true).await;
    let e = error_event(&format!("{:032x}", 1), "E", "x", "f");
    let body = envelope(json!({}), &[event_item(&e)]);
    app.request(post(&project.envelope_path(), &[("x-sentry-auth", &project.auth())], body)).await;
    let b = Browser::login(&app, "admin@example.com").await;
    assert!(b.get("/settings/default/projects/web/environments/").await.body.contains("production"));
    assert!(b.get("/organizations/default/issues/").await.body.contains("<option value=\"production\""));
    b.post("/settings/default/projects/web/environments/", "name=production&hidden=1").await;
    assert!(!b.get("/organizations/default/issues/").await.body.contains("<option value=\"production\""));
    assert_eq!(b.post("/settings/default/projects/web/environments/", "name=nope&hidden=1").await.status, 404);
}

#[tokio::test]
async fn users_are_created_by_admins_and_tokens_by_everyone() {
    let app = TestApp::spawn().await;
    user(&app, "admin@example.com", true).await;
    let b = Browser::login(&app, "admin@example.com").await;
    let done = b.post("/settings/default/members/", "email=new%40example.com&password=password123").await;
    assert_eq!(done.status, 303);
    assert_eq!(b.post("/settings/default/members/", "email=new%40example.com&password=password123").await.status, 409);
    assert_eq!(b.post("/settings/default/members/", "email=x%40example.com&password=short").await.status, 422);
    assert!(b.get("/settings/default/members/").await.body.contains("new@example.com"));
    let new_user =
        Browser::login(&app, "new@example.com").await.app.store().find_user_credentials("new@example.com").await;
    assert!(new_user.unwrap().is_some());

    let created = b.post("/settings/account/tokens/", "name=ci&access=write").await;
    assert_eq!(created.status, 200);
    let token = created.body.split("<code class=\"token\">").nth(1).unwrap().split('<').next().unwrap().to_owned();
    let request = axum::http::Request::get("/api/0/organizations/default/projects/")
        .header("authorization", format!("Bearer {token}"))
        .body(axum::body::Body::empty())
        .unwrap();
    assert_eq!(app.request(request).await.status(), 200, "the new token works on the API");
    let tokens = app
        .store()
        .list_api_tokens(app.store().find_user_credentials("admin@example.com").await.unwrap().unwrap().0.id)
        .await
        .unwrap();
    b.post(&format!("/settings/account/tokens/{}/revoke/", tokens[0].id), "").await;
    assert!(!b.get("/settings/account/tokens/").await.body.contains(">ci<"));
    assert_eq!(b.post("/settings/account/tokens/", "name=&access=write").await.status, 400);
}
