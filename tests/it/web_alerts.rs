//! Alerts in the web UI: the issue page's panel of rules fired / not fired for the issue, and why.

use faultline::notify;
use serde_json::json;

use crate::support::slack::{Alerts, Receiver, event_id, rule_body};
use crate::support::web::{Browser, user};

#[tokio::test]
async fn the_issue_page_lists_which_rules_fired_and_why() {
    let alerts = Alerts::new().await;
    let slack = Receiver::start().await;
    let first_seen = json!([{"id": "first_seen_event"}]);
    alerts.rule(rule_body(&slack.hook("new"), first_seen, json!({"name": "New <b>errors</b>"}))).await;
    let regression = json!([{"id": "regression_event"}]);
    alerts.rule(rule_body(&slack.hook("back"), regression, json!({"name": "Regressions"}))).await;
    alerts.send(&event_id(1), "ZeroDivisionError", |_| {}).await;
    notify::run_once(&alerts.app.state).await.unwrap();

    user(&alerts.app, "admin@example.com", true).await;
    let admin = Browser::login(&alerts.app, "admin@example.com").await;
    let body = admin.get("/organizations/default/issues/1/").await.body;
    let panel = &body[body.find("id=\"alerts\"").expect("alerts panel")..];
    let panel = &panel[..panel.find("</section>").unwrap()];
    assert!(panel.contains("New &#60;b&#62;errors&#60;/b&#62;") && !panel.contains("<b>errors"), "{panel}");
    assert!(panel.contains(">fired<") && panel.contains("new issue") && panel.contains("last fired"), "{panel}");
    assert!(panel.contains("Regressions") && panel.contains(">not fired<"), "{panel}");
}
