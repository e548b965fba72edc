//! The issue stream, the issue page and the workflow through the web UI's forms.

use serde_json::{Value, json};

use crate::support::envelope::{envelope, error_event, event_item, post};
use crate::support::web::{Browser, user};
use crate::support::{TestApp, TestProject, split};

async fn send(app: &TestApp, project: &TestProject, event: &Value) {
    let body = envelope(json!({}), &[event_item(event)]);
    let (status, text) =
        split(app.request(post(&project.envelope_path(), &[("x-sentry-auth", &project.auth())], body)).await).await;
    assert_eq!(status, 200, "{text}");
}

fn event(n: u32, ty: &str, value: &str, release: &str) -> Value {
    let mut e = error_event(&format!("{n:032x}"), ty, value, &format!("fn_{}", ty.to_lowercase()));
    e["release"] = json!(release);
    e
}

async fn issue_id(app: &TestApp, project: &TestProject, ty: &str) -> i64 {
    let issues = app
        .store()
        .list_issues(&faultline::store::IssueQuery { project_id: project.id, limit: 100, ..Default::default() })
        .await
        .unwrap();
    issues.iter().find(|i| i.title.starts_with(ty)).unwrap_or_else(|| panic!("no {ty} issue")).id
}

#[tokio::test]
async fn the_stream_searches_sorts_and_pages() {
    let app = TestApp::spawn().await;
    let project = app.project("web").await;
    user(&app, "admin@example.com", true).await;
    for n in 1..=3 {
        send(&app, &project, &event(n, "ZeroDivisionError", "division by zero", "1.0")).await;
    }
    send(&app, &project, &event(10, "KeyError", "'k'", "1.1")).await;
    let b = Browser::login(&app, "admin@example.com").await;
    let page = b.get("/organizations/default/issues/").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("ZeroDivisionError: division by zero") && page.body.contains("KeyError"));
    assert!(page.body.contains("WEB-1"), "short ids");
    assert!(page.body.contains("<svg class=\"spark\""), "sparklines");
    let by_freq = b.get("/organizations/default/issues/?sort=freq").await.body;
    assert!(by_freq.find("ZeroDivisionError").unwrap() < by_freq.find("KeyError").unwrap());
    let found = b.get("/organizations/default/issues/?query=KeyError").await.body;
    assert!(found.contains("KeyError") && !found.contains("ZeroDivisionError: division"));
    let q = b.get("/organizations/default/issues/?query=firstRelease%3A1.1%20timesSeen%3A%3C2").await.body;
    assert!(q.contains("KeyError") && !q.contains("division by zero"));
    let q = b
        .get("/organizations/default/issues/?query=timesSeen%3A%3E2&project=web&environment=production&statsPeriod=24h")
        .await
        .body;
    assert!(q.contains("division by zero") && !q.contains("&#39;k&#39;"));
    let bad = b.get("/organizations/default/issues/?query=is%3Asleeping").await;
    assert_eq!(bad.status, 200);
    assert!(bad.body.contains("unsupported is: value"));
    assert!(b.get("/organizations/default/issues/?project=nope").await.status == 404);
    assert!(b.get("/organizations/nope/issues/").await.status == 404);
    for n in 20..50 {
        send(&app, &project, &event(n, &format!("Error{n}"), "x", "1.0")).await;
    }
    let first = b.get("/organizations/default/issues/").await.body;
    assert!(first.contains("rel=\"next\""));
    let second = b.get("/organizations/default/issues/?cursor=25").await.body;
    assert!(second.contains("rel=\"prev\"") && !second.contains("rel=\"next\""));
    for sort in ["new", "user", "trends", "date"] {
        assert_eq!(b.get(&format!("/organizations/default/issues/?sort={sort}")).await.status, 200);
    }
}

#[tokio::test]
async fn hostile_event_content_renders_inert() {
    let app = TestApp::spawn().await;
    let project = app.project("web").await;
    user(&app, "admin@example.com", true).await;
    let mut e = event(1, "XSSError", "<script>alert(1)</script>", "<img src=x onerror=alert(2)>");
    e["tags"] = json!({"<script>k</script>": "<script>v</script>"});
    e["breadcrumbs"] =
        json!({"values": [{"category": "<script>c</script>", "message": "<script>crumb</script>", "timestamp": 1.0}]});
    e["extra"] = json!({"<b>x</b>": "<iframe>"});
    e["request"] =
        json!({"method": "GET", "url": "http://example.com/<script>", "headers": {"X-<script>": "<script>h"}});
    send(&app, &project, &e).await;
    let id = issue_id(&app, &project, "XSSError").await;
    let b = Browser::login(&app, "admin@example.com").await;
    for path in [
        "/organizations/default/issues/".to_owned(),
        format!("/organizations/default/issues/{id}/"),
        format!("/organizations/default/issues/{id}/?frames=all&period=30d"),
        "/organizations/default/releases/".to_owned(),
    ] {
        let page = b.get(&path).await;
        assert_eq!(page.status, 200, "{path}");
        assert!(!page.body.contains("<script>alert"), "{path}: exception value escaped");
        assert!(!page.body.contains("<script>k") && !page.body.contains("<script>v"), "{path}: tags escaped");
        assert!(
            !page.body.contains("<script>crumb") && !page.body.contains("<script>c<"),
            "{path}: breadcrumbs escaped"
        );
        assert!(!page.body.contains("<img src=x") && !page.body.contains("<iframe>"), "{path}");
    }
    let page = b.get(&format!("/organizations/default/issues/{id}/")).await.body;
    assert!(page.contains("&#60;script&#62;alert(1)&#60;/script&#62;"), "the value is shown, escaped");
    assert!(page.contains("&#60;script&#62;crumb&#60;/script&#62;"));
    assert!(page.contains("&#60;script&#62;k&#60;/script&#62;"));
}

#[tokio::test]
async fn the_issue_page_shows_the_event_and_navigates_between_events() {
    let app = TestApp::spawn().await;
    let project = app.project("web").await;
    user(&app, "admin@example.com", true).await;
    for n in 1..=3 {
        let mut e = event(n, "ValueError", "bad value", "2.0");
        e["timestamp"] = json!(time::OffsetDateTime::now_utc().unix_timestamp() - 100 + i64::from(n));
        e["breadcrumbs"] = json!([{"category": "http", "message": "GET /api", "timestamp": 1.0}]);
        e["contexts"] = json!({"os": {"name": "Linux", "version": "6.1"}});
        e["exception"]["values"][0]["stacktrace"]["frames"][0]["context_line"] = json!("return 1 / 0");
        e["exception"]["values"][0]["stacktrace"]["frames"][0]["vars"] = json!({"secret_local": "42"});
        send(&app, &project, &e).await;
    }
    let id = issue_id(&app, &project, "ValueError").await;
    let b = Browser::login(&app, "admin@example.com").await;
    let page = b.get(&format!("/organizations/default/issues/{id}/")).await.body;
    for text in
        ["bad value", "return 1 / 0", "secret_local", "GET /api", "Linux", "browser", "Firefox", "2.0", "production"]
    {
        assert!(page.contains(text), "issue page lacks {text}");
    }
    let latest = format!("{:032x}", 3);
    let middle = format!("{:032x}", 2);
    assert!(page.contains(&format!("Event <code>{latest}</code>")), "the latest event by default");
    assert!(page.contains(&format!("events/{middle}/\" rel=\"prev\"")));
    let mid = b.get(&format!("/organizations/default/issues/{id}/events/{middle}/")).await.body;
    assert!(mid.contains("rel=\"next\"") && mid.contains("rel=\"prev\""));
    let raw = b.get(&format!("/organizations/default/issues/{id}/events/{middle}/json/")).await;
    assert_eq!(raw.status, 200);
    let json: Value = serde_json::from_str(&raw.body).unwrap();
    assert_eq!(json["event_id"], middle.as_str());
    assert_eq!(b.get(&format!("/organizations/default/issues/{id}/events/{:032x}/", 99)).await.status, 404);
    assert_eq!(b.get("/organizations/default/issues/999999/").await.status, 404);
    assert_eq!(b.get("/organizations/default/issues/abc/").await.status, 404);
}

#[tokio::test]
async fn workflow_actions_change_the_issue_and_leave_activity() {
    let app = TestApp::spawn().await;
    let project = app.project("web").await;
    let admin = user(&app, "admin@example.com", true).await;
    send(&app, &project, &event(1, "ValueError", "x", "1.0")).await;
    let id = issue_id(&app, &project, "ValueError").await;
    let b = Browser::login(&app, "admin@example.com").await;
    let actions = format!("/organizations/default/issues/{id}/actions/");
    let status = || async { app.store().find_issue(id).await.unwrap().unwrap() };

    let done = b.post(&actions, "action=resolve").await;
    assert_eq!((done.status, done.location.clone()), (303, format!("/organizations/default/issues/{id}/")));
    assert_eq!(status().await.status, "resolved");
    b.post(&actions, "action=unresolve").await;
    assert_eq!(status().await.status, "unresolved");
    b.post(&actions, "action=ignore&minutes=30&count=&users=").await;
    let i = status().await;
    assert_eq!((i.status.as_str(), i.ignore_until.is_some()), ("ignored", true));
    b.post(&actions, &format!("action=assign&assignee={admin}")).await;
    assert_eq!(status().await.assignee_id, Some(admin));
    b.post(&actions, "action=bookmark").await;
    b.post(&actions, "action=comment&text=looking%20into%20%3Cb%3Eit%3C%2Fb%3E").await;
    assert_eq!(b.post(&actions, "action=comment&text=").await.status, 400);
    assert_eq!(b.post(&actions, "action=fly").await.status, 400);
    assert_eq!(b.post(&actions, "action=ignore&count=-3").await.status, 400);
    let page = b.get(&format!("/organizations/default/issues/{id}/")).await.body;
    assert!(page.contains("looking into &#60;b&#62;it&#60;/b&#62;"));
    for what in [
        "resolved the issue",
        "marked the issue unresolved",
        "ignored the issue",
        "assigned the issue to admin@example.com",
    ] {
        assert!(page.contains(what), "activity lacks {what}");
    }
    assert!(page.contains("★ bookmarked"));
    let marked =
        b.get("/organizations/default/issues/?query=is%3Abookmarked%20assigned%3Ame%20is%3Aignored").await.body;
    assert!(marked.contains("ValueError"));

    // Resolve in the next release: events of 1.0 keep it resolved, a newer release regresses it.
    b.post(&actions, "action=resolve_next").await;
    send(&app, &project, &event(2, "ValueError", "x", "1.0")).await;
    assert_eq!(status().await.status, "resolved", "same release: still resolved");
    send(&app, &project, &event(3, "ValueError", "x", "1.1")).await;
    let i = status().await;
    assert_eq!((i.status.as_str(), i.substatus.as_deref()), ("unresolved", Some("regressed")));
    let page = b.get(&format!("/organizations/default/issues/{id}/")).await.body;
    assert!(page.contains("Faultline</strong> marked the issue as a regression (new event in release 1.1)"));
    assert!(b.get("/organizations/default/issues/?query=is%3Aregressed").await.body.contains("ValueError"));

    // Resolved in release 2.0: an older release's events do not regress it, 2.0's do.
    b.post(&actions, "action=resolve_release&release=2.0").await;
    send(&app, &project, &event(4, "ValueError", "x", "1.1")).await;
    assert_eq!(status().await.status, "resolved");
    send(&app, &project, &event(5, "ValueError", "x", "2.0")).await;
    assert_eq!(status().await.status, "unresolved");

    // Ignore until 2 more events: the second brings it back as escalating.
    b.post(&actions, "action=ignore&count=2").await;
    send(&app, &project, &event(6, "ValueError", "x", "2.0")).await;
    assert_eq!(status().await.status, "ignored");
    send(&app, &project, &event(7, "ValueError", "x", "2.0")).await;
    let i = status().await;
    assert_eq!((i.status.as_str(), i.substatus.as_deref()), ("unresolved", Some("escalating")));

    // Delete and discard: later events with the same fingerprint are dropped.
    let done = b.post(&actions, "action=discard").await;
    assert_eq!(done.location, "/organizations/default/issues/");
    assert!(app.store().find_issue(id).await.unwrap().is_none());
    send(&app, &project, &event(8, "ValueError", "x", "2.0")).await;
    let issues = app
        .store()
        .list_issues(&faultline::store::IssueQuery { project_id: project.id, limit: 10, ..Default::default() })
        .await
        .unwrap();
    assert!(issues.is_empty(), "the discarded fingerprint opened no new issue");
}

#[tokio::test]
async fn bulk_actions_resolve_assign_merge_and_delete() {
    let app = TestApp::spawn().await;
    let project = app.project("web").await;
    user(&app, "admin@example.com", true).await;
    let member = user(&app, "dev@example.com", false).await;
    send(&app, &project, &event(1, "AError", "x", "1.0")).await;
    send(&app, &project, &event(2, "BError", "x", "1.0")).await;
    send(&app, &project, &event(3, "BError", "x", "1.0")).await;
    send(&app, &project, &event(4, "CError", "x", "1.0")).await;
    let (a, bb, c) = (
        issue_id(&app, &project, "AError").await,
        issue_id(&app, &project, "BError").await,
        issue_id(&app, &project, "CError").await,
    );
    let b = Browser::login(&app, "admin@example.com").await;
    let bulk = "/organizations/default/issues/bulk/";
    let back = "return_to=%2Forganizations%2Fdefault%2Fissues%2F%3Fsort%3Dfreq";
    let done = b.post(bulk, &format!("action=resolve&id={a}&{back}")).await;
    assert_eq!((done.status, done.location.as_str()), (303, "/organizations/default/issues/?sort=freq"));
    assert_eq!(app.store().find_issue(a).await.unwrap().unwrap().status, "resolved");
    b.post(bulk, &format!("action=assign&assignee={member}&id={bb}&id={c}")).await;
    assert_eq!(app.store().find_issue(c).await.unwrap().unwrap().assignee_id, Some(member));
    // "All on this page" applies to every row without ticking boxes (works without JavaScript).
    b.post(bulk, &format!("action=ignore&all=1&page_id={bb}&page_id={c}")).await;
    assert_eq!(app.store().find_issue(bb).await.unwrap().unwrap().status, "ignored");
    b.post(bulk, &format!("action=merge&id={bb}&id={c}")).await;
    let merged = app.store().find_issue(bb).await.unwrap().unwrap();
    assert_eq!(merged.times_seen, 3, "the target has the most events and takes the others'");
    assert!(app.store().find_issue(c).await.unwrap().is_none());
    assert_eq!(app.store().list_issue_events(bb, 10, 0).await.unwrap().len(), 3);
    assert_eq!(b.post(bulk, &format!("action=merge&id={bb}")).await.status, 400);
    let deleted = b.post(bulk, &format!("action=delete&id={a}")).await;
    assert_eq!(deleted.status, 303, "{}", deleted.body);
    assert!(app.store().find_issue(a).await.unwrap().is_none());
    // Members may not delete.
    app.store().add_project_member(project.id, member).await.unwrap();
    let dev = Browser::login(&app, "dev@example.com").await;
    assert_eq!(dev.post(bulk, &format!("action=delete&id={bb}")).await.status, 403);
}

#[tokio::test]
async fn members_see_only_their_projects() {
    let app = TestApp::spawn().await;
    let web = app.project("web").await;
    let api = app.project("api").await;
    user(&app, "dev@example.com", false).await;
    let dev_id = app.store().find_user_credentials("dev@example.com").await.unwrap().unwrap().0.id;
    send(&app, &web, &event(1, "WebError", "x", "1.0")).await;
    send(&app, &api, &event(2, "ApiError", "x", "1.0")).await;
    app.store().add_project_member(web.id, dev_id).await.unwrap();
    let b = Browser::login(&app, "dev@example.com").await;
    let stream = b.get("/organizations/default/issues/").await.body;
    assert!(stream.contains("WebError") && !stream.contains("ApiError"));
    let hidden = issue_id(&app, &api, "ApiError").await;
    assert_eq!(b.get(&format!("/organizations/default/issues/{hidden}/")).await.status, 404);
    assert_eq!(b.post(&format!("/organizations/default/issues/{hidden}/actions/"), "action=resolve").await.status, 404);
    assert_eq!(b.get("/organizations/default/issues/?project=api").await.status, 404);
    let projects = b.get("/organizations/default/projects/").await.body;
    assert!(projects.contains(">web<") && !projects.contains(">api<"));
}

#[tokio::test]
async fn releases_and_environments_pages_list_what_events_brought() {
    let app = TestApp::spawn().await;
    let project = app.project("web").await;
    user(&app, "admin@example.com", true).await;
    send(&app, &project, &event(1, "OldError", "x", "1.0")).await;
    send(&app, &project, &event(2, "NewError", "x", "2.0")).await;
    let b = Browser::login(&app, "admin@example.com").await;
    let id = issue_id(&app, &project, "OldError").await;
    b.post(&format!("/organizations/default/issues/{id}/actions/"), "action=resolve_release&release=2.0").await;
    let list = b.get("/organizations/default/releases/").await.body;
    assert!(list.contains("1.0") && list.contains("2.0"));
    let page = b.get("/organizations/default/releases/2.0/").await.body;
    let new_at = page.find("New in this release").unwrap();
    let resolved_at = page.find("Resolved in this release").unwrap();
    assert!(page[new_at..resolved_at].contains("NewError"));
    assert!(page[resolved_at..].contains("OldError"));
    assert!(page.contains(&format!("events/{:032x}/", 2)));
    let envs = b.get("/organizations/default/environments/").await.body;
    assert!(envs.contains("production"));
}
