//! Per-project grouping rules: the settings page, validation with line numbers, and their effect on
//! ingest (only for events that arrive after saving).

use serde_json::json;

use crate::support::envelope::{envelope, error_event, event_item, post};
use crate::support::web::{Browser, url_enc, user};
use crate::support::{TestApp, TestProject, split};

async fn send(app: &TestApp, project: &TestProject, n: u32, ty: &str, function: &str) {
    let e = error_event(&format!("{n:032x}"), ty, &format!("value {n}"), function);
    let request =
        post(&project.envelope_path(), &[("x-sentry-auth", &project.auth())], envelope(json!({}), &[event_item(&e)]));
    let (status, body) = split(app.request(request).await).await;
    assert_eq!(status, 200, "{body}");
}

async fn issue_counts(app: &TestApp, project: &TestProject) -> Vec<i64> {
    let query = faultline::store::IssueQuery { project_id: project.id, limit: 50, ..Default::default() };
    let mut counts: Vec<i64> = app.store().list_issues(&query).await.unwrap().iter().map(|i| i.times_seen).collect();
    counts.sort_unstable();
    counts
}

#[tokio::test]
async fn fingerprint_rules_group_new_events_after_saving() {
    let app = TestApp::spawn().await;
    let project = app.project("web").await;
    user(&app, "admin@example.com", true).await;
    let dev = user(&app, "dev@example.com", false).await;
    let admin = Browser::login(&app, "admin@example.com").await;
    admin.post("/settings/default/projects/web/members/", &format!("action=add&user_id={dev}")).await;
    let member = Browser::login(&app, "dev@example.com").await;

    send(&app, &project, 1, "KeyError", "load_user").await;
    send(&app, &project, 2, "KeyError", "load_order").await;
    assert_eq!(issue_counts(&app, &project).await, [1, 1], "built-in grouping: different stacks, two issues");

    let url = "/settings/default/projects/web/grouping/";
    let rules = url_enc("# one issue for every KeyError\nerror.type:KeyError -> keys");
    assert_eq!(member.get(url).await.status, 200, "members read the rules");
    assert_eq!(member.post(url, &format!("fingerprint_rules={rules}")).await.status, 403, "only admins save");

    let bad =
        admin.post(url, &format!("fingerprint_rules={}", url_enc("error.type:KeyError -> keys\nnot a rule"))).await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(bad.body.contains("Fingerprint rules, line 2:"), "{}", bad.body);
    assert!(bad.body.contains("not a rule"), "the submitted text stays in the form");
    assert!(app.store().find_project_grouping(project.id).await.unwrap().is_none(), "nothing saved");
    let bad = admin.post(url, &format!("stacktrace_rules={}", url_enc("\n\nstack.module:x +nonsense"))).await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("Stack-trace rules, line 3:"), "{}", bad.body);

    send(&app, &project, 3, "KeyError", "load_cart").await;
    assert_eq!(issue_counts(&app, &project).await, [1, 1, 1], "refused rules do not apply");

    let saved = admin.post(url, &format!("fingerprint_rules={rules}")).await;
    assert_eq!((saved.status, saved.location.as_str()), (303, "/settings/default/projects/web/grouping/?saved=1"));
    let page = member.get(url).await.body;
    assert!(page.contains("error.type:KeyError -&#62; keys") && page.contains("readonly"), "{page}");

    send(&app, &project, 4, "KeyError", "load_invoice").await;
    send(&app, &project, 5, "KeyError", "load_payment").await;
    send(&app, &project, 6, "ValueError", "load_payment").await;
    assert_eq!(issue_counts(&app, &project).await, [1, 1, 1, 1, 2], "both new KeyErrors land in one issue");
}

#[tokio::test]
async fn rule_text_is_rendered_inert() {
    let app = TestApp::spawn().await;
    app.project("web").await;
    user(&app, "admin@example.com", true).await;
    let admin = Browser::login(&app, "admin@example.com").await;
    let url = "/settings/default/projects/web/grouping/";
    let hostile = url_enc("# </textarea><script>alert(1)</script>\nerror.type:\"<img src=x onerror=alert(1)>\" -> x");
    assert_eq!(admin.post(url, &format!("fingerprint_rules={hostile}")).await.status, 303);
    let page = admin.get(url).await.body;
    assert!(!page.contains("<script>alert") && !page.contains("<img src=x"), "{page}");
    assert!(page.contains("&#60;/textarea&#62;&#60;script&#62;"), "{page}");
}

#[tokio::test]
async fn the_issue_page_explains_grouping_and_escapes_it() {
    let app = TestApp::spawn().await;
    let project = app.project("web").await;
    user(&app, "admin@example.com", true).await;
    let admin = Browser::login(&app, "admin@example.com").await;
    send(&app, &project, 1, "KeyError", "<script>alert(1)</script>").await;
    let query = faultline::store::IssueQuery { project_id: project.id, limit: 5, ..Default::default() };
    let issue = app.store().list_issues(&query).await.unwrap().remove(0);
    let page = admin.get(&format!("/organizations/default/issues/{}/", issue.id)).await;
    assert_eq!(page.status, 200);
    let body = page.body;
    let section = &body[body.find("id=\"grouping\"").expect("grouping section")..];
    assert!(section.contains("Why this event is in this issue") && section.contains("groups this issue"), "{section}");
    assert!(section.contains("&#60;script&#62;alert(1)&#60;/script&#62;"), "values are escaped: {section}");
    assert!(!body.contains("<script>alert(1)"), "nothing hostile is live");
    let hash = app.store().list_issue_hashes(issue.id).await.unwrap();
    assert_eq!(hash[0].events, 1);
    assert!(section.contains(&hash[0].hash));

    // After a fingerprint rule the old event would group elsewhere: the page says so.
    let rules = url_enc("error.type:KeyError -> keys");
    admin.post("/settings/default/projects/web/grouping/", &format!("fingerprint_rules={rules}")).await;
    let body = admin.get(&format!("/organizations/default/issues/{}/", issue.id)).await.body;
    assert!(body.contains("would not join this issue") && body.contains("custom_fingerprint"), "{body}");
}

#[tokio::test]
async fn unmerging_a_hash_moves_its_events_and_counts_into_a_new_issue() {
    let app = TestApp::spawn().await;
    let project = app.project("web").await;
    user(&app, "admin@example.com", true).await;
    let admin = Browser::login(&app, "admin@example.com").await;
    send(&app, &project, 1, "KeyError", "load_user").await;
    send(&app, &project, 2, "KeyError", "load_user").await;
    send(&app, &project, 3, "ValueError", "parse").await;
    let store = app.store();
    let query = faultline::store::IssueQuery { project_id: project.id, limit: 5, ..Default::default() };
    let issues = store.list_issues(&query).await.unwrap();
    let value_error = issues.iter().find(|i| i.title.starts_with("ValueError")).unwrap().id;
    let moved_hash =
        store.list_issue_hashes(value_error).await.unwrap().into_iter().find(|h| h.events == 1).unwrap().hash;
    let kept = store.merge_issues(&issues.iter().map(|i| i.id).collect::<Vec<_>>(), None).await.unwrap();
    assert_eq!(store.find_issue(kept).await.unwrap().unwrap().times_seen, 3);

    let base = format!("/organizations/default/issues/{kept}/");
    let page = admin.get(&base).await.body;
    assert!(page.contains(&format!("name=\"hash\" value=\"{moved_hash}\"")) && page.contains(">Unmerge<"), "{page}");
    assert_eq!(admin.post(&format!("{base}actions/"), "action=unmerge&hash=0123abcd").await.status, 404);
    assert_eq!(admin.post(&format!("{base}actions/"), "action=unmerge&hash=%3Cx%3E").await.status, 400);
    let done = admin.post(&format!("{base}actions/"), &format!("action=unmerge&hash={moved_hash}")).await;
    assert_eq!(done.status, 303, "{}", done.body);
    let created: i64 = done.location.trim_end_matches('/').rsplit('/').next().unwrap().parse().unwrap();
    assert_ne!(created, kept);

    let old = store.find_issue(kept).await.unwrap().unwrap();
    let new = store.find_issue(created).await.unwrap().unwrap();
    assert_eq!((old.times_seen, old.users_seen), (2, 1));
    assert_eq!((new.times_seen, new.users_seen, new.title.as_str()), (1, 1, "ValueError: value 3"));
    assert_eq!(store.list_issue_events(created, 10, 0).await.unwrap().len(), 1);
    assert_eq!(store.list_issue_events(kept, 10, 0).await.unwrap().len(), 2);
    let since = faultline::store::Millis(0);
    let total = |rows: Vec<(faultline::store::Millis, i64)>| rows.iter().map(|r| r.1).sum::<i64>();
    assert_eq!(total(store.issue_hourly_counts(kept, since).await.unwrap()), 2);
    assert_eq!(total(store.issue_hourly_counts(created, since).await.unwrap()), 1);
    assert_eq!(store.issue_tag_totals(kept, "browser").await.unwrap().0, 2);
    assert_eq!(store.issue_tag_totals(created, "browser").await.unwrap().0, 1);
    assert!(store.list_issue_hashes(created).await.unwrap().iter().any(|h| h.hash == moved_hash));
    assert!(!store.list_issue_hashes(kept).await.unwrap().iter().any(|h| h.hash == moved_hash));

    assert!(
        admin.get(&base).await.body.contains(&format!("unmerged hash {moved_hash} (1 event(s)) into issue #{created}"))
    );
    assert!(
        admin.get(&format!("/organizations/default/issues/{created}/")).await.body.contains("split this issue off")
    );
    assert_eq!(store.list_issue_hashes(created).await.unwrap().len(), 1, "only the unmerged hash moved");
    let refused = admin
        .post(
            &format!("/organizations/default/issues/{created}/actions/"),
            &format!("action=unmerge&hash={moved_hash}"),
        )
        .await;
    assert_eq!(refused.status, 400, "an issue's only hash stays");
}
