//! Parsing, printing and matching of rules.

use super::*;

fn rule(body: Value) -> Result<Rule, RuleError> {
    Rule::from_api(&body, None)
}

fn base() -> Value {
    json!({"name": "r", "conditions": [{"id": "first_seen_event"}],
           "actions": [{"id": "slack_webhook", "webhook": "https://hooks.slack.com/services/T0/B0/secret"}]})
}

#[test]
fn long_and_short_ids_parse_to_the_same_rule() {
    let mut long = base();
    long["conditions"] = json!([
        {"id": "sentry.rules.conditions.first_seen_event.FirstSeenEventCondition"},
        {"id": "sentry.rules.conditions.event_frequency.EventUniqueUserFrequencyCondition", "value": "5", "interval": "1h"},
    ]);
    long["filters"] = json!([{"id": "sentry.rules.filters.level.LevelFilter", "match": "gte", "level": "40"}]);
    let mut short = base();
    short["conditions"] = json!([
        {"id": "first_seen_event"},
        {"id": "event_unique_user_frequency", "value": 5, "interval": "1h"},
    ]);
    short["filters"] = json!([{"id": "level", "match": "gte", "level": "error"}]);
    assert_eq!(rule(long).expect("valid"), rule(short).expect("valid"));
}

#[test]
fn stored_form_round_trips() {
    let mut body = base();
    body["filters"] = json!([{"id": "tagged_event", "key": "browser", "match": "sw", "value": "Fire"},
                             {"id": "release", "match": "eq", "value": "1.0"},
                             {"id": "age_comparison", "comparison_type": "newer", "value": 2, "time": "day"}]);
    let parsed = rule(body).expect("valid");
    let write = parsed.to_write();
    let row = AlertRuleRow {
        id: 1,
        project_id: 1,
        name: write.name.clone(),
        enabled: write.enabled,
        environment: write.environment.clone(),
        frequency_minutes: write.frequency_minutes,
        action_match: write.action_match.clone(),
        filter_match: write.filter_match.clone(),
        conditions: write.conditions.clone(),
        filters: write.filters.clone(),
        actions: write.actions.clone(),
        created_at: crate::store::Millis(0),
        updated_at: crate::store::Millis(0),
    };
    assert_eq!(Rule::from_row(&row).expect("valid"), parsed);
    assert!(!parsed.to_api(&row, "web").to_string().contains("secret"));
}

#[test]
fn bad_rules_say_what_is_wrong() {
    let mut b = base();
    b["frequency"] = json!(1);
    assert!(rule(b).expect_err("refused").to_string().contains("frequency"));
    let mut b = base();
    b["conditions"] = json!([{"id": "event_frequency", "value": 10, "interval": "2h"}]);
    assert!(rule(b).expect_err("refused").to_string().contains("interval"));
    let mut b = base();
    b["actions"] = json!([{"id": "slack_webhook", "webhook": "ftp://x/y"}]);
    assert!(rule(b).expect_err("refused").to_string().contains("http"));
    let mut b = base();
    b["conditions"] = json!([{"id": "nope"}]);
    assert!(rule(b).expect_err("refused").to_string().contains("nope"));
    let mut b = base();
    b["conditions"] = json!([]);
    assert!(rule(b).is_err());
}

#[test]
fn masks_hide_the_secret_and_stand_for_the_stored_url() {
    let url = "https://hooks.slack.com/services/T000/B000/XXXXSECRET?x=1";
    assert_eq!(mask_webhook(url), "https://hooks.slack.com/services/T000/B000/****");
    assert_eq!(mask_webhook("http://127.0.0.1:9/hook"), "http://127.0.0.1:9/****");
    let mut body = base();
    body["actions"] = json!([{"id": "slack_webhook", "webhook": url}]);
    let stored = rule(body).expect("valid");
    let mut again = base();
    again["actions"] = json!([{"id": "slack_webhook", "webhook": mask_webhook(url)}]);
    assert_eq!(Rule::from_api(&again, Some(&stored)).expect("valid").actions, stored.actions);
    assert!(Rule::from_api(&again, None).is_err(), "a mask without a stored URL is refused");
}

#[test]
fn string_matches_follow_sentry() {
    assert!(MatchOp::StartsWith.test(Some("Firefox 120"), "Firefox"));
    assert!(MatchOp::NotEqual.test(None, "x"));
    assert!(!MatchOp::Equal.test(None, "x"));
    assert!(MatchOp::NotSet.test(None, ""));
    assert!(MatchOp::Contains.test(Some("abc"), "b"));
}
