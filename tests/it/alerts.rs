//! Alerts end to end: events through ingest, rules evaluated after commit, messages to a local "Slack".
//!
//! Time is passed in explicitly (`evaluate_now`, `deliver_now`), so retries and intervals are tested
//! without sleeping.

use faultline::notify::{self, sender};
use faultline::store::{AlertCommit, ConnectOptions, Fire, Millis, RuleVerdict, Store};
use serde_json::json;

use crate::support::slack::{Alerts, Receiver, event_id, rule_body};

const FIRST_SEEN: &str = "sentry.rules.conditions.first_seen_event.FirstSeenEventCondition";

async fn evaluate(alerts: &Alerts, now: Millis) -> notify::EvaluationStats {
    notify::evaluate_now(&alerts.app.state, now).await.unwrap()
}

async fn deliver(alerts: &Alerts, now: Millis) -> notify::DeliveryStats {
    notify::deliver_now(&alerts.app.state, now).await.unwrap()
}

#[tokio::test]
async fn a_new_issue_posts_one_block_kit_message() {
    let alerts = Alerts::new().await;
    let slack = Receiver::start().await;
    alerts.rule(rule_body(&slack.hook("new"), json!([{"id": FIRST_SEEN}]), json!({}))).await;
    alerts
        .send(&event_id(1), "ZeroDivisionError", |e| {
            e["tags"] = json!({"browser": "Firefox", "os": "Linux"});
        })
        .await;

    let (evaluated, delivered) = notify::run_once(&alerts.app.state).await.unwrap();
    assert_eq!((evaluated.facts, evaluated.queued), (1, 1));
    assert_eq!(delivered.sent, 1);
    let received = slack.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].0, "/services/T000/B000/new");
    let mut body = received[0].1.clone();
    body["attachments"][0]["blocks"][2]["fields"][3]["text"] = json!("[first seen]");
    insta::assert_json_snapshot!("new_issue_message", body);

    // The issue page's data: the rule fired, and why.
    let (status, rules) = alerts.call("GET", "/api/0/issues/1/rules/", None).await;
    assert_eq!(status, 200, "{rules}");
    assert_eq!(rules[0]["status"], "fired");
    assert_eq!(rules[0]["reason"], "new issue");
}

#[tokio::test]
async fn a_hundred_events_inside_the_interval_send_one_message() {
    let alerts = Alerts::new().await;
    let slack = Receiver::start().await;
    let conditions = json!([{"id": "first_seen_event"}, {"id": "event_frequency", "value": 10, "interval": "1d"}]);
    alerts.rule(rule_body(&slack.hook("flood"), conditions, json!({"actionMatch": "any", "frequency": 60}))).await;
    let now = Millis::now();
    for n in 1..=100 {
        alerts.send(&event_id(n), "TimeoutError", |_| {}).await;
        if n % 10 == 0 {
            evaluate(&alerts, now.plus_secs(i64::from(n))).await;
        }
    }
    let delivered = deliver(&alerts, now.plus_secs(200)).await;
    assert_eq!(delivered.sent, 1);
    assert_eq!(slack.received().len(), 1);
    let (_, rules) = alerts.call("GET", "/api/0/issues/1/rules/", None).await;
    assert_eq!(rules[0]["status"], "not_fired", "{rules}");
    assert!(rules[0]["reason"].as_str().unwrap().starts_with("not sent: already alerted"), "{rules}");

    // After the interval, the frequency condition fires again, with the count as the reason.
    alerts.send(&event_id(101), "TimeoutError", |_| {}).await;
    evaluate(&alerts, now.plus_secs(3_700)).await;
    deliver(&alerts, now.plus_secs(3_700)).await;
    let received = slack.received();
    assert_eq!(received.len(), 2);
    let why = received[1].1["attachments"][0]["blocks"][3]["elements"][0]["text"].as_str().unwrap().to_owned();
    assert!(why.contains("101 events in 1d"), "{why}");
}

#[tokio::test]
async fn a_500_is_retried_with_backoff_and_delivered_once() {
    let alerts = Alerts::new().await;
    let slack = Receiver::start().await;
    let rule_id = alerts.rule(rule_body(&slack.hook("flaky"), json!([{"id": FIRST_SEEN}]), json!({}))).await;
    alerts.send(&event_id(1), "KeyError", |_| {}).await;
    slack.then_answer(500, &[]);
    let now = Millis::now();
    evaluate(&alerts, now).await;

    let first = deliver(&alerts, now).await;
    assert_eq!((first.sent, first.retried), (0, 1));
    assert_eq!(deliver(&alerts, now.plus_secs(10)).await, notify::DeliveryStats::default(), "not due yet");
    let second = deliver(&alerts, now.plus_secs(31)).await;
    assert_eq!(second.sent, 1);
    assert_eq!(deliver(&alerts, now.plus_secs(3_600)).await, notify::DeliveryStats::default(), "sent once");
    assert_eq!(slack.received().len(), 2);

    let (status, log) =
        alerts.call("GET", &format!("/api/0/projects/default/web/rules/{rule_id}/deliveries/"), None).await;
    assert_eq!(status, 200);
    let statuses: Vec<_> =
        log.as_array().unwrap().iter().map(|d| (d["status"].clone(), d["httpStatus"].clone())).collect();
    assert_eq!(statuses, [(json!("sent"), json!(200)), (json!("retry"), json!(500))]);
    assert_eq!(log[1]["issueId"], "1");
    let stats = alerts.app.store().outbox_stats().await.unwrap();
    assert_eq!((stats.pending, stats.sent), (0, 1));
}

#[tokio::test]
async fn a_429_waits_for_retry_after() {
    let alerts = Alerts::new().await;
    let slack = Receiver::start().await;
    alerts.rule(rule_body(&slack.hook("busy"), json!([{"id": FIRST_SEEN}]), json!({}))).await;
    alerts.send(&event_id(1), "KeyError", |_| {}).await;
    slack.then_answer(429, &[("retry-after", "120")]);
    let now = Millis::now();
    evaluate(&alerts, now).await;
    assert_eq!(deliver(&alerts, now).await.retried, 1);
    // Backoff alone would retry after 30 s; Retry-After says 120.
    assert_eq!(deliver(&alerts, now.plus_secs(60)).await.sent, 0);
    assert_eq!(deliver(&alerts, now.plus_secs(119)).await.sent, 0);
    assert_eq!(deliver(&alerts, now.plus_secs(121)).await.sent, 1);
    assert_eq!(slack.received().len(), 2);
}

#[tokio::test]
async fn permanent_failures_and_network_errors_end_after_bounded_tries_without_leaking_the_url() {
    let alerts = Alerts::new().await;
    let slack = Receiver::start().await;
    // A port nobody listens on: connection refused, every time.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/services/T0/B0/very-secret", listener.local_addr().unwrap())
    };
    let gone = alerts.rule(rule_body(&closed, json!([{"id": FIRST_SEEN}]), json!({"name": "gone"}))).await;
    let moved =
        alerts.rule(rule_body(&slack.hook("moved"), json!([{"id": FIRST_SEEN}]), json!({"name": "moved"}))).await;
    slack.then_answer(302, &[("location", "http://127.0.0.1:9/elsewhere")]);
    alerts.send(&event_id(1), "KeyError", |_| {}).await;
    let mut now = Millis::now();
    evaluate(&alerts, now).await;
    let mut total = notify::DeliveryStats::default();
    for _ in 0..sender::MAX_ATTEMPTS + 2 {
        let round = deliver(&alerts, now).await;
        total.sent += round.sent;
        total.retried += round.retried;
        total.failed += round.failed;
        now = now.plus_secs(3_601);
    }
    assert_eq!(total, notify::DeliveryStats { sent: 0, retried: 5, failed: 2 });
    assert_eq!(slack.received().len(), 1, "the redirect was not followed");

    let path = |id: &str| format!("/api/0/projects/default/web/rules/{id}/deliveries/");
    let (_, log) = alerts.call("GET", &path(&moved), None).await;
    assert_eq!(log[0]["status"], "failed");
    assert_eq!(log[0]["httpStatus"], 302);
    let (_, log) = alerts.call("GET", &path(&gone), None).await;
    assert_eq!(log.as_array().unwrap().len(), 6);
    assert_eq!(log[0]["status"], "failed");
    assert_eq!(log[5]["status"], "retry");
    let text = log.to_string();
    assert!(text.contains("connection failed"), "{text}");
    assert!(!text.contains("very-secret"), "the webhook URL is a secret: {text}");
}

#[tokio::test]
async fn environment_and_level_filters_pick_the_events() {
    let alerts = Alerts::new().await;
    let slack = Receiver::start().await;
    let filters = json!([{"id": "sentry.rules.filters.level.LevelFilter", "match": "gte", "level": "40"}]);
    alerts
        .rule(rule_body(
            &slack.hook("prod"),
            json!([{"id": FIRST_SEEN}]),
            json!({"environment": "production", "filters": filters}),
        ))
        .await;
    alerts.send(&event_id(1), "WarningOnly", |e| e["level"] = json!("warning")).await;
    alerts.send(&event_id(2), "StagingError", |e| e["environment"] = json!("staging")).await;
    alerts.send(&event_id(3), "ProductionError", |_| {}).await;
    notify::run_once(&alerts.app.state).await.unwrap();

    let received = slack.received();
    assert_eq!(received.len(), 1);
    let title = received[0].1["attachments"][0]["blocks"][0]["text"]["text"].as_str().unwrap().to_owned();
    assert!(title.starts_with("ProductionError"), "{title}");
    let alerts = &alerts;
    let reason = |issue: u32| async move {
        let (_, rules) = alerts.call("GET", &format!("/api/0/issues/{issue}/rules/"), None).await;
        (rules[0]["status"].clone(), rules[0]["reason"].as_str().unwrap_or_default().to_owned())
    };
    assert_eq!(reason(1).await, (json!("not_fired"), "filtered out: level warning is below error".to_owned()));
    assert_eq!(
        reason(2).await,
        (json!("not_fired"), "filtered out: environment is staging, the rule wants production".to_owned())
    );
    assert_eq!(reason(3).await.0, json!("fired"));
}

#[tokio::test]
async fn a_resolved_issue_that_comes_back_alerts_as_a_regression() {
    let alerts = Alerts::new().await;
    let slack = Receiver::start().await;
    let conditions = json!([{"id": "sentry.rules.conditions.regression_event.RegressionEventCondition"}]);
    alerts.rule(rule_body(&slack.hook("regressions"), conditions, json!({}))).await;
    alerts.send(&event_id(1), "KeyError", |_| {}).await;
    notify::run_once(&alerts.app.state).await.unwrap();
    assert!(slack.received().is_empty(), "a new issue is not a regression");

    let (status, _) = alerts.call("PUT", "/api/0/issues/1/", Some(json!({"status": "resolved"}))).await;
    assert_eq!(status, 200);
    alerts.send(&event_id(2), "KeyError", |e| e["release"] = json!("1.4.2")).await;
    notify::run_once(&alerts.app.state).await.unwrap();
    let received = slack.received();
    assert_eq!(received.len(), 1);
    let text = received[0].1["text"].as_str().unwrap();
    assert!(text.contains("Regressed in 1.4.2"), "{text}");
}

#[tokio::test]
async fn an_ignored_issue_that_wakes_up_at_ingest_alerts_as_reappeared() {
    let alerts = Alerts::new().await;
    let slack = Receiver::start().await;
    alerts.rule(rule_body(&slack.hook("back"), json!([{"id": "reappeared_event"}]), json!({"name": "back"}))).await;
    alerts.send(&event_id(1), "KeyError", |_| {}).await;
    notify::run_once(&alerts.app.state).await.unwrap();
    let body = json!({"status": "ignored", "statusDetails": {"ignoreCount": 2}});
    let (status, _) = alerts.call("PUT", "/api/0/issues/1/", Some(body)).await;
    assert_eq!(status, 200);
    alerts.send(&event_id(2), "KeyError", |_| {}).await;
    notify::run_once(&alerts.app.state).await.unwrap();
    assert!(slack.received().is_empty(), "still ignored after one more event");
    alerts.send(&event_id(3), "KeyError", |_| {}).await;
    notify::run_once(&alerts.app.state).await.unwrap();
    assert_eq!(slack.received().len(), 1, "the ignore condition ended with this event: one message");
    assert_eq!(alerts.app.store().find_issue(1).await.unwrap().unwrap().status, "unresolved");
}

#[tokio::test]
async fn tag_and_user_conditions_and_reappeared_facts() {
    let alerts = Alerts::new().await;
    let slack = Receiver::start().await;
    let conditions = json!([{"id": "event_unique_user_frequency", "value": 2, "interval": "1h"}]);
    let filters = json!([{"id": "tagged_event", "key": "browser", "match": "eq", "value": "Firefox"}]);
    alerts.rule(rule_body(&slack.hook("users"), conditions, json!({"filters": filters}))).await;
    alerts.rule(rule_body(&slack.hook("back"), json!([{"id": "reappeared_event"}]), json!({"name": "back"}))).await;
    for n in 1..=3 {
        alerts.send(&event_id(n), "KeyError", |e| e["user"] = json!({"id": format!("u-{n}")})).await;
        notify::run_once(&alerts.app.state).await.unwrap();
    }
    let received = slack.received();
    assert_eq!(received.len(), 1, "the third user crosses the threshold");
    assert!(received[0].1["text"].as_str().unwrap().contains("3 users in 1h"));

    // The ignore code records a reappearance as a fact; the evaluator turns it into a message.
    let store = alerts.app.store();
    store
        .record_alert_activity(1, faultline::store::ActivityKind::Reappeared, None, None, Millis::now())
        .await
        .unwrap();
    notify::run_once(&alerts.app.state).await.unwrap();
    let received = slack.received();
    assert_eq!(received.len(), 2);
    assert_eq!(received[1].0, "/services/T000/B000/back");
}

#[tokio::test]
async fn ignored_issues_stay_silent() {
    let alerts = Alerts::new().await;
    let slack = Receiver::start().await;
    let conditions = json!([{"id": "event_frequency", "value": 1, "interval": "1h"}]);
    alerts.rule(rule_body(&slack.hook("noise"), conditions, json!({}))).await;
    alerts.send(&event_id(1), "NoisyError", |_| {}).await;
    let (status, _) = alerts.call("PUT", "/api/0/issues/1/", Some(json!({"status": "ignored"}))).await;
    assert_eq!(status, 200);
    alerts.send(&event_id(2), "NoisyError", |_| {}).await;
    alerts.send(&event_id(3), "NoisyError", |_| {}).await;
    notify::run_once(&alerts.app.state).await.unwrap();
    assert!(slack.received().is_empty());
    let (_, rules) = alerts.call("GET", "/api/0/issues/1/rules/", None).await;
    assert_eq!(rules[0]["reason"], "not sent: the issue is ignored");
}

/// Two senders, each with its own connection pool (as two processes would have), drain one outbox.
#[tokio::test]
async fn two_workers_send_each_notification_exactly_once() {
    let alerts = Alerts::new().await;
    let slack = Receiver::start().await;
    alerts.rule(rule_body(&slack.hook("both"), json!([{"id": FIRST_SEEN}]), json!({}))).await;
    const ISSUES: u32 = 40;
    for n in 1..=ISSUES {
        alerts.send(&event_id(n), &format!("Error{n}"), |_| {}).await;
    }
    let now = Millis::now();
    assert_eq!(evaluate(&alerts, now).await.queued, u64::from(ISSUES));

    let options = ConnectOptions { max_connections: 4, ..ConnectOptions::default() };
    let worker = |name: &'static str| {
        let url = alerts.app.db.url.clone();
        let options = options.clone();
        async move {
            let store = Store::connect(&url, &options).await.unwrap();
            let sender = notify::Sender::new(true);
            let mut sent = 0;
            loop {
                let round = sender::run(&store, &sender, name, now).await.unwrap();
                sent += round.sent;
                if round == notify::DeliveryStats::default() && store.outbox_stats().await.unwrap().pending == 0 {
                    break;
                }
            }
            store.close().await;
            sent
        }
    };
    let (a, b) = tokio::join!(tokio::spawn(worker("worker-a")), tokio::spawn(worker("worker-b")));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a + b, u64::from(ISSUES), "a={a} b={b}");

    let mut links: Vec<String> = slack
        .received()
        .iter()
        .map(|(_, body)| body["attachments"][0]["blocks"][5]["elements"][0]["url"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(links.len(), ISSUES as usize);
    links.sort();
    links.dedup();
    assert_eq!(links.len(), ISSUES as usize, "every issue's message arrived exactly once");
}

/// Claims of facts and of messages are disjoint even when two claimers race for the same rows.
#[tokio::test]
async fn concurrent_claims_never_overlap() {
    let alerts = Alerts::new().await;
    alerts.rule(rule_body("http://127.0.0.1:9/services/x", json!([{"id": FIRST_SEEN}]), json!({}))).await;
    for n in 1..=30 {
        alerts.send(&event_id(n), &format!("Error{n}"), |_| {}).await;
    }
    let now = Millis::now();
    let lease = now.plus_secs(120);
    let other = Store::connect(&alerts.app.db.url, &ConnectOptions::default()).await.unwrap();
    let store = alerts.app.store();

    let mut facts: Vec<i64> = Vec::new();
    loop {
        let (a, b) = tokio::join!(
            store.claim_alert_activity("a", now, lease, 4),
            other.claim_alert_activity("b", now, lease, 4)
        );
        let round: Vec<i64> = a.unwrap().iter().chain(b.unwrap().iter()).map(|f| f.id).collect();
        if round.is_empty() {
            break;
        }
        facts.extend(round);
    }
    assert_eq!(distinct(facts), 30, "a fact was claimed twice");

    // Once those leases end, an evaluator takes the facts over and queues one message per issue.
    assert_eq!(evaluate(&alerts, now.plus_secs(121)).await.queued, 30);
    let later = now.plus_secs(130);
    let mut messages: Vec<i64> = Vec::new();
    loop {
        let (a, b) = tokio::join!(
            store.claim_notifications("a", later, later.plus_secs(120), 5),
            other.claim_notifications("b", later, later.plus_secs(120), 5)
        );
        let round: Vec<i64> = a.unwrap().iter().chain(b.unwrap().iter()).map(|m| m.id).collect();
        if round.is_empty() {
            break;
        }
        messages.extend(round);
    }
    assert_eq!(distinct(messages), 30, "a message was claimed twice");
    other.close().await;
}

/// Two evaluators that decide to fire the same rule for the same issue at once: one message.
#[tokio::test]
async fn racing_evaluators_fire_once_per_interval() {
    let alerts = Alerts::new().await;
    let rule: i64 =
        alerts.rule(rule_body("http://127.0.0.1:9/x", json!([{"id": FIRST_SEEN}]), json!({}))).await.parse().unwrap();
    alerts.send(&event_id(1), "KeyError", |_| {}).await;
    let now = Millis::now();
    let commit = |worker: &str| AlertCommit {
        worker: worker.to_owned(),
        now,
        activity_ids: Vec::new(),
        verdicts: vec![RuleVerdict {
            rule_id: rule,
            issue_id: 1,
            reason: "new issue".into(),
            fire: Some(Fire {
                interval_minutes: 30,
                messages: vec![("http://127.0.0.1:9/x".into(), "{}".into())],
                activity_ids: Vec::new(),
            }),
        }],
    };
    let other = Store::connect(&alerts.app.db.url, &ConnectOptions::default()).await.unwrap();
    let (first, second) = (commit("a"), commit("b"));
    let (a, b) =
        tokio::join!(alerts.app.store().commit_alert_evaluation(&first), other.commit_alert_evaluation(&second));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!((a.queued + b.queued, a.suppressed + b.suppressed), (1, 1));
    other.close().await;
}

fn distinct(mut ids: Vec<i64>) -> usize {
    let total = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), total, "duplicates in {ids:?}");
    total
}

/// The background tasks `faultline serve` starts: an event wakes the evaluator, which wakes the sender.
#[tokio::test]
async fn the_background_tasks_deliver_without_being_driven() {
    let alerts = Alerts::new().await;
    let slack = Receiver::start().await;
    alerts.rule(rule_body(&slack.hook("live"), json!([{"id": FIRST_SEEN}]), json!({}))).await;
    let tasks = notify::spawn(alerts.app.state.clone());
    alerts.send(&event_id(1), "KeyError", |_| {}).await;
    // The tasks run on their own schedule: wait for the message (bounded, so a broken wake-up fails).
    let arrived = async {
        while slack.received().is_empty() {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(30), arrived).await.expect("no message within 30 s");
    tasks.stop().await;
    assert_eq!(slack.received().len(), 1);
    let stats = alerts.app.store().outbox_stats().await.unwrap();
    assert_eq!((stats.pending, stats.sent), (0, 1));

    // History older than the retention goes.
    let pruned = alerts.app.store().prune_alert_history(Millis::now().plus_secs(60)).await.unwrap();
    assert_eq!(pruned, 2, "the sent message and its log line");
}
