//! The alert-rule API: CRUD in Sentry's shape, validation, masked secrets, SSRF refusal, test messages.

use faultline::config::Config;
use serde_json::json;

use crate::support::slack::{Alerts, Receiver, rule_body};

const RULES: &str = "/api/0/projects/default/web/rules/";

#[tokio::test]
async fn rules_are_created_listed_updated_and_deleted_with_webhooks_masked() {
    let alerts = Alerts::new().await;
    let slack = Receiver::start().await;
    let secret = slack.hook("XXXXSECRET");
    let body = rule_body(
        &secret,
        json!([{"id": "sentry.rules.conditions.first_seen_event.FirstSeenEventCondition"},
               {"id": "event_frequency", "value": "100", "interval": "1h"}]),
        json!({"environment": "production", "actionMatch": "any",
               "filters": [{"id": "level", "match": "gte", "level": "error"},
                           {"id": "tagged_event", "key": "browser", "match": "co", "value": "fox"},
                           {"id": "release", "match": "sw", "value": "web@"},
                           {"id": "age_comparison", "comparison_type": "newer", "value": 1, "time": "week"}]}),
    );
    let (status, created) = alerts.call("POST", RULES, Some(body)).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let masked = created["actions"][0]["webhook"].as_str().unwrap().to_owned();
    assert!(masked.ends_with("/services/T000/B000/****"), "{masked}");
    let mut shown = created.clone();
    shown["actions"][0]["webhook"] = json!("[masked]");
    for key in ["id", "dateCreated", "dateModified"] {
        shown[key] = json!(format!("[{key}]"));
    }
    insta::assert_json_snapshot!("rule_as_the_api_shows_it", shown);
    assert!(!created.to_string().contains("XXXXSECRET"));

    let (status, list) = alerts.call("GET", RULES, None).await;
    assert_eq!(status, 200);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert!(!list.to_string().contains("XXXXSECRET"));

    // Sending the masked webhook back keeps the stored one.
    let mut changed = created.clone();
    changed["name"] = json!("Renamed");
    changed["status"] = json!("disabled");
    let (status, updated) = alerts.call("PUT", &format!("{RULES}{id}/"), Some(changed)).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!((updated["name"].clone(), updated["status"].clone()), (json!("Renamed"), json!("disabled")));
    let stored = alerts.app.store().find_alert_rule(id.parse().unwrap()).await.unwrap().unwrap();
    assert!(stored.actions.contains(&secret), "the stored webhook is kept");
    assert!(!stored.enabled);

    let (status, shown) = alerts.call("GET", &format!("{RULES}{id}/"), None).await;
    assert_eq!((status, shown["name"].clone()), (200, json!("Renamed")));
    assert_eq!(alerts.call("DELETE", &format!("{RULES}{id}/"), None).await.0, 202);
    assert_eq!(alerts.call("GET", &format!("{RULES}{id}/"), None).await.0, 404);
    assert_eq!(alerts.call("GET", "/api/0/projects/default/nope/rules/", None).await.0, 404);
}

#[tokio::test]
async fn invalid_rules_are_refused_with_a_reason() {
    let alerts = Alerts::new().await;
    let hook = "https://hooks.slack.com/services/T0/B0/x";
    let first = json!([{"id": "first_seen_event"}]);
    let cases = [
        (json!({"name": "", "conditions": first, "actions": [{"id": "slack_webhook", "webhook": hook}]}), "name"),
        (rule_body(hook, json!([]), json!({})), "condition"),
        (rule_body(hook, json!([{"id": "nope"}]), json!({})), "nope"),
        (rule_body(hook, json!([{"id": "event_frequency", "value": 1, "interval": "2h"}]), json!({})), "interval"),
        (rule_body(hook, first.clone(), json!({"frequency": 2})), "frequency"),
        (rule_body(hook, first.clone(), json!({"frequency": 20_000})), "frequency"),
        (rule_body("ftp://hooks.slack.com/x", first.clone(), json!({})), "http"),
        (rule_body(hook, first.clone(), json!({"filters": [{"id": "level", "level": "loud"}]})), "level"),
        (rule_body(hook, first.clone(), json!({"actions": []})), "action"),
        (rule_body("https://hooks.slack.com/services/T0/B0/****", first.clone(), json!({})), "full webhook"),
    ];
    for (body, needle) in cases {
        let (status, err) = alerts.call("POST", RULES, Some(body.clone())).await;
        assert_eq!(status, 400, "{body} → {err}");
        let detail = err["detail"].as_str().unwrap();
        assert!(detail.contains(needle), "{detail:?} should mention {needle:?}");
    }
    assert!(alerts.app.store().list_alert_rules(alerts.project.id).await.unwrap().is_empty());
}

#[tokio::test]
async fn webhooks_to_private_addresses_are_refused_unless_allowed() {
    let alerts = Alerts::with_config(Config::default()).await;
    let first = json!([{"id": "first_seen_event"}]);
    for url in [
        "http://127.0.0.1:9000/hook",
        "http://localhost/hook",
        "http://10.0.0.8/hook",
        "http://[::1]/hook",
        "http://169.254.169.254/latest/meta-data",
    ] {
        let (status, err) = alerts.call("POST", RULES, Some(rule_body(url, first.clone(), json!({})))).await;
        assert_eq!(status, 400, "{url} → {err}");
        assert!(err["detail"].as_str().unwrap().contains("private"), "{err}");
    }
    // And at send time, whatever is stored.
    let slack = Receiver::start().await;
    let refused = faultline::notify::Sender::new(false).post(&slack.hook("x"), "{}").await.unwrap_err();
    assert!(matches!(refused, faultline::notify::sender::SendError::Refused(_)), "{refused}");
    let refused = faultline::notify::Sender::new(false).post("http://localhost:1/x", "{}").await.unwrap_err();
    assert!(matches!(refused, faultline::notify::sender::SendError::Refused(_)), "{refused}");
    assert!(slack.received().is_empty());
}

#[tokio::test]
async fn send_test_message_posts_now_and_logs_it() {
    let alerts = Alerts::new().await;
    let slack = Receiver::start().await;
    let id = alerts.rule(rule_body(&slack.hook("test"), json!([{"id": "first_seen_event"}]), json!({}))).await;
    let (status, result) = alerts.call("POST", &format!("{RULES}{id}/test/"), None).await;
    assert_eq!(status, 200, "{result}");
    assert_eq!(result["results"][0]["status"], "sent");
    let received = slack.received();
    assert_eq!(received.len(), 1);
    assert!(received[0].1["text"].as_str().unwrap().contains("Test message"));

    slack.then_answer(404, &[]);
    let (status, err) = alerts.call("POST", &format!("{RULES}{id}/test/"), None).await;
    assert_eq!(status, 400);
    assert!(err["detail"].as_str().unwrap().contains("HTTP 404"), "{err}");

    let (_, log) = alerts.call("GET", &format!("{RULES}{id}/deliveries/"), None).await;
    let statuses: Vec<_> = log.as_array().unwrap().iter().map(|d| d["status"].clone()).collect();
    assert_eq!(statuses, [json!("test_failed"), json!("test")]);
}

#[tokio::test]
async fn rules_need_project_scopes() {
    let alerts = Alerts::new().await;
    let request = axum::http::Request::get(RULES).body(axum::body::Body::empty()).unwrap();
    assert_eq!(alerts.app.request(request).await.status(), 401);
    let (status, _) = alerts.call("GET", RULES, None).await;
    assert_eq!(status, 200);
}
