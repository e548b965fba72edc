//! The sweep that ends timed ignores, driven with a clock value (no sleeping): issues come back when
//! their time is up, once, with their activity and a `reappeared` alert fact.

use faultline::ignore_sweep::sweep_now;
use faultline::notify;
use faultline::store::{
    AlertActivity, IgnoreCondition, IssueQuery, IssueSort, IssueUpdate, Millis, StatusChange, Store,
};
use serde_json::json;

use crate::support::envelope::{envelope, error_event, event_item, post};
use crate::support::slack::{Alerts, Receiver, rule_body};
use crate::support::{TestApp, TestProject, split};

/// One issue per error type in `project`; returns their ids in the order sent.
async fn issues(app: &TestApp, project: &TestProject, types: &[&str]) -> Vec<i64> {
    for (n, ty) in types.iter().enumerate() {
        let event = error_event(&format!("0c{n:030x}"), ty, "boom", "handler");
        let request = post(
            &project.envelope_path(),
            &[("x-sentry-auth", &project.auth())],
            envelope(json!({}), &[event_item(&event)]),
        );
        assert_eq!(split(app.request(request).await).await.0, 200);
    }
    let query = IssueQuery { project_id: project.id, sort: IssueSort::LastSeen, limit: 100, ..IssueQuery::default() };
    let mut ids: Vec<i64> = app.store().list_issues(&query).await.unwrap().iter().map(|i| i.id).collect();
    ids.sort_unstable();
    assert_eq!(ids.len(), types.len());
    ids
}

async fn ignore(store: &Store, id: i64, condition: IgnoreCondition) {
    let update = IssueUpdate { status: Some(StatusChange::Ignored(condition)), ..IssueUpdate::default() };
    store.update_issues(&[id], &update, None).await.unwrap();
}

fn for_minutes(minutes: i64) -> IgnoreCondition {
    IgnoreCondition { minutes: Some(minutes), ..IgnoreCondition::default() }
}

/// The unclaimed `reappeared` facts (claiming them leases them to this test).
async fn reappeared_facts(store: &Store) -> Vec<AlertActivity> {
    let now = Millis::now();
    let facts = store.claim_alert_activity("test", now, now.plus_secs(60), 1_000).await.unwrap();
    facts.into_iter().filter(|f| f.kind == "reappeared").collect()
}

async fn kinds_of_activity(store: &Store, id: i64) -> Vec<String> {
    store.list_activity(id).await.unwrap().into_iter().map(|a| a.kind).collect()
}

#[tokio::test]
async fn an_issue_ignored_for_a_while_comes_back_when_the_sweep_passes_its_time() {
    let app = TestApp::spawn().await;
    let project = app.project("web").await;
    let store = app.store();
    let ids = issues(&app, &project, &["TimedError", "ForeverError", "CountError", "FixedError"]).await;
    let (timed, forever, counted, resolved) = (ids[0], ids[1], ids[2], ids[3]);
    ignore(store, timed, for_minutes(30)).await;
    ignore(store, forever, IgnoreCondition::default()).await;
    ignore(store, counted, IgnoreCondition { count: Some(100), ..IgnoreCondition::default() }).await;
    let resolve = IssueUpdate { status: Some(StatusChange::Resolved), ..IssueUpdate::default() };
    store.update_issues(&[resolved], &resolve, None).await.unwrap();
    reappeared_facts(store).await;

    let now = Millis::now();
    assert_eq!(sweep_now(store, now).await.unwrap(), 0, "the 30 minutes are not up");
    assert_eq!(store.find_issue(timed).await.unwrap().unwrap().status, "ignored");

    assert_eq!(sweep_now(store, now.plus_secs(31 * 60)).await.unwrap(), 1);
    let issue = store.find_issue(timed).await.unwrap().unwrap();
    assert_eq!((issue.status.as_str(), issue.substatus.as_deref()), ("unresolved", Some("escalating")));
    assert_eq!((issue.ignore_until, issue.ignore_count, issue.ignore_users), (None, None, None));
    assert_eq!(kinds_of_activity(store, timed).await, ["set_escalating", "set_ignored"]);
    let facts = reappeared_facts(store).await;
    assert_eq!(facts.iter().map(|f| (f.issue_id, f.project_id)).collect::<Vec<_>>(), [(timed, project.id)]);
    assert_eq!(facts[0].event_id, None, "no event brought it back");

    // Ignored forever, until more events, or resolved: the clock alone changes nothing.
    for (id, status) in [(forever, "ignored"), (counted, "ignored"), (resolved, "resolved")] {
        assert_eq!(store.find_issue(id).await.unwrap().unwrap().status, status);
    }
    // A second pass finds nothing more to do.
    assert_eq!(sweep_now(store, now.plus_secs(365 * 86_400)).await.unwrap(), 0);
    assert_eq!(kinds_of_activity(store, timed).await.len(), 2);
    assert!(reappeared_facts(store).await.is_empty());
}

#[tokio::test]
async fn sweeps_running_at_once_wake_each_issue_exactly_once() {
    let app = TestApp::spawn().await;
    let project = app.project("web").await;
    let store = app.store();
    let types = ["E0", "E1", "E2", "E3", "E4", "E5", "E6", "E7"];
    let ids = issues(&app, &project, &types).await;
    for id in &ids {
        ignore(store, *id, for_minutes(5)).await;
    }
    reappeared_facts(store).await;
    let later = Millis::now().plus_secs(600);
    let (a, b, c) = tokio::join!(sweep_now(store, later), sweep_now(store, later), sweep_now(store, later));
    assert_eq!(a.unwrap() + b.unwrap() + c.unwrap(), ids.len() as u64);
    for id in &ids {
        assert_eq!(store.find_issue(*id).await.unwrap().unwrap().status, "unresolved");
        assert_eq!(kinds_of_activity(store, *id).await, ["set_escalating", "set_ignored"], "issue {id}");
    }
    let mut woken: Vec<i64> = reappeared_facts(store).await.iter().map(|f| f.issue_id).collect();
    woken.sort_unstable();
    assert_eq!(woken, ids, "one reappeared fact per issue");
}

#[tokio::test]
async fn a_reappeared_rule_alerts_once_when_the_ignore_time_is_up() {
    let alerts = Alerts::new().await;
    let slack = Receiver::start().await;
    alerts.rule(rule_body(&slack.hook("back"), json!([{"id": "reappeared_event"}]), json!({"name": "back"}))).await;
    alerts.send("0d000000000000000000000000000001", "SnoozedError", |_| {}).await;
    let body = json!({"status": "ignored", "statusDetails": {"ignoreDuration": 10}});
    let (status, answer) = alerts.call("PUT", "/api/0/issues/1/", Some(body)).await;
    assert_eq!(status, 200, "{answer}");
    notify::run_once(&alerts.app.state).await.unwrap();
    assert!(slack.received().is_empty(), "still ignored");

    let store = alerts.app.store();
    assert_eq!(sweep_now(store, Millis::now().plus_secs(11 * 60)).await.unwrap(), 1);
    notify::run_once(&alerts.app.state).await.unwrap();
    assert_eq!(sweep_now(store, Millis::now().plus_secs(12 * 60)).await.unwrap(), 0);
    notify::run_once(&alerts.app.state).await.unwrap();
    let received = slack.received();
    assert_eq!(received.len(), 1, "one message: {received:?}");
    assert_eq!(received[0].0, "/services/T000/B000/back");
    let (_, issue) = alerts.call("GET", "/api/0/issues/1/", None).await;
    assert_eq!((issue["status"].as_str(), issue["substatus"].as_str()), (Some("unresolved"), Some("escalating")));
}
