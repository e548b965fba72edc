//! Alerts in the web UI: the project's alert rule pages (list, form, test message, delivery log) and
//! the issue page's panel of rules fired / not fired for the issue, and why.

use faultline::notify;
use faultline::notify::rules::Rule;
use serde_json::json;

use crate::support::slack::{Alerts, Receiver, event_id, rule_body};
use crate::support::web::{Browser, url_enc, user};

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
    let list = admin.get("/settings/default/projects/web/alerts/").await.body;
    assert!(list.contains("just now") || list.contains("ago"), "last fired is listed: {list}");
    assert!(list.contains("never"), "the regression rule never fired: {list}");
}

#[tokio::test]
async fn admins_manage_alert_rules_in_the_ui_and_members_read_them() {
    let alerts = Alerts::new().await;
    let slack = Receiver::start().await;
    let app = &alerts.app;
    user(app, "admin@example.com", true).await;
    let dev = user(app, "dev@example.com", false).await;
    let admin = Browser::login(app, "admin@example.com").await;
    admin.post("/settings/default/projects/web/members/", &format!("action=add&user_id={dev}")).await;
    let member = Browser::login(app, "dev@example.com").await;
    let base = "/settings/default/projects/web/alerts/";
    let hook = slack.hook("ui");

    assert!(admin.get(&format!("{base}new/")).await.body.contains("A new issue is created"));
    let form = format!(
        "name={}&enabled=1&action_match=any&first_seen=1&events_value=10&events_interval=1h&level=warning\
         &tag_key=browser&tag_value=Firefox&environment=production&frequency=60&webhooks={}",
        url_enc("<script>alert(1)</script> to #web"),
        url_enc(&hook)
    );
    let created = admin.post(&format!("{base}new/"), &form).await;
    assert_eq!(created.status, 303, "{}", created.body);
    let project = app.store().find_project("default", "web").await.unwrap().unwrap();
    let row = app.store().list_alert_rules(project.id).await.unwrap().remove(0);
    assert_eq!(created.location, format!("{base}{}/?notice=saved", row.id));
    let rule = Rule::from_row(&row).unwrap();
    assert_eq!((rule.conditions.len(), rule.filters.len(), rule.frequency_minutes), (2, 2, 60));
    assert_eq!(rule.environment.as_deref(), Some("production"));

    let list = member.get(base).await.body;
    assert!(list.contains("new issue or more than 10 events in 1h") && list.contains("level warning"), "{list}");
    assert!(list.contains("&#60;script&#62;") && !list.contains("<script>alert"), "names are escaped");
    let edit = format!("{base}{}/", row.id);
    let page = member.get(&edit).await.body;
    assert!(page.contains("/services/T000/B000/****") && !page.contains("/B000/ui"), "webhooks are masked");
    assert!(!page.contains("options this form cannot show"), "the form shows every part of this rule");
    let conditions = json!([{"id": "first_seen_event"}]);
    let api_rule = alerts
        .rule(rule_body(&slack.hook("api"), conditions, json!({"filterMatch": "any", "name": "From the API"})))
        .await;
    let page = member.get(&format!("{base}{api_rule}/")).await.body;
    assert!(page.contains("options this form cannot show"), "{page}");

    // A masked webhook posted back keeps the stored URL.
    let masked = url_enc(&faultline::notify::rules::mask_webhook(&hook));
    let update = format!("name=Renamed&enabled=1&first_seen=1&frequency=30&webhooks={masked}");
    assert_eq!(member.post(&edit, &update).await.status, 403, "members read only");
    let done = admin.post(&edit, &update).await;
    assert_eq!(done.status, 303, "{}", done.body);
    let rule = Rule::from_row(&app.store().find_alert_rule(row.id).await.unwrap().unwrap()).unwrap();
    assert_eq!((rule.name.as_str(), rule.webhooks().collect::<Vec<_>>()), ("Renamed", vec![hook.as_str()]));

    // The same validation as the API.
    for (bad, why) in [
        ("name=x&frequency=30&webhooks=https%3A%2F%2Fexample.com%2Fh", "at least one condition"),
        ("name=x&first_seen=1&frequency=3&webhooks=https%3A%2F%2Fexample.com%2Fh", "frequency"),
        ("name=x&events_value=lots&frequency=30&webhooks=https%3A%2F%2Fexample.com%2Fh", "whole number"),
        ("name=x&first_seen=1&frequency=30&webhooks=not-a-url", "must be a URL"),
    ] {
        let refused = admin.post(&format!("{base}new/"), bad).await;
        assert_eq!(refused.status, 422, "{bad}");
        assert!(refused.body.contains(why), "{why}: {}", refused.body);
    }

    assert_eq!(member.post(&format!("{edit}test/"), "").await.status, 403);
    let tested = admin.post(&format!("{edit}test/"), "").await;
    assert_eq!(tested.status, 303, "{}", tested.body);
    assert_eq!(slack.received().len(), 1);
    assert_eq!(slack.received()[0].0, "/services/T000/B000/ui");
    let page = admin.get(&format!("{edit}?notice=tested")).await.body;
    assert!(page.contains("Test message sent.") && page.contains("test (200)"), "{page}");

    assert_eq!(member.post(&format!("{edit}delete/"), "").await.status, 403);
    assert_eq!(admin.post(&format!("{edit}delete/"), "").await.status, 303);
    assert!(app.store().find_alert_rule(row.id).await.unwrap().is_none());
    assert_eq!(admin.get(&edit).await.status, 404);
}
