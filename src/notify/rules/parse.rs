//! Reading condition, filter and action objects (Sentry's long ids and our short ones).

use serde_json::{Map, Value};

use super::{
    Action, Condition, Filter, INTERVALS, Interval, LEVELS, LevelOp, MASK, MATCH_OPS, MatchOp, Rule, RuleError,
    invalid, mask_webhook,
};

pub(super) enum Parsed {
    Condition(Condition),
    Filter(Filter),
}

pub(super) fn list<'a>(obj: &'a Map<String, Value>, key: &str) -> Result<&'a [Value], RuleError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(invalid(format!("\"{key}\" must be a list"))),
    }
}

/// An integer given as a JSON number or a numeric string (Sentry's UI sends both).
pub(super) fn int(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn text<'a>(item: &'a Value, key: &str, id: &str) -> Result<&'a str, RuleError> {
    item.get(key).and_then(Value::as_str).ok_or_else(|| invalid(format!("{id}: \"{key}\" is required")))
}

/// `sentry.rules.filters.level.LevelFilter` → `level`.
fn short_id(id: &str) -> &str {
    match id.strip_prefix("sentry.rules.") {
        Some(long) => long.split('.').nth(1).unwrap_or(long),
        None => id,
    }
}

pub(super) fn parse_condition(item: &Value) -> Result<Parsed, RuleError> {
    let id =
        item.get("id").and_then(Value::as_str).ok_or_else(|| invalid("every condition and filter needs an \"id\""))?;
    let short = short_id(id);
    let frequency = |item: &Value| -> Result<(i64, Interval), RuleError> {
        let value = item
            .get("value")
            .and_then(int)
            .filter(|v| *v >= 0)
            .ok_or_else(|| invalid(format!("{short}: \"value\" must be a non-negative number")))?;
        let text = item.get("interval").and_then(Value::as_str).unwrap_or_default();
        let (text, minutes) = INTERVALS.iter().find(|(t, _)| *t == text).copied().ok_or_else(|| {
            invalid(format!("{short}: \"interval\" must be one of 1m, 5m, 15m, 1h, 1d, 1w, 30d (got {text:?})"))
        })?;
        Ok((value, Interval { text, minutes }))
    };
    let string_match = |item: &Value| -> Result<MatchOp, RuleError> {
        let code = item.get("match").and_then(Value::as_str).unwrap_or("eq");
        MATCH_OPS
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, op)| *op)
            .ok_or_else(|| invalid(format!("{short}: unknown match {code:?} (use eq, ne, sw, ew, co, nc, is, ns)")))
    };
    Ok(match short {
        "first_seen_event" => Parsed::Condition(Condition::FirstSeen),
        "regression_event" => Parsed::Condition(Condition::Regression),
        "reappeared_event" => Parsed::Condition(Condition::Reappeared),
        "event_frequency" => match id.rsplit('.').next() {
            Some("EventUniqueUserFrequencyCondition") => {
                let (value, interval) = frequency(item)?;
                Parsed::Condition(Condition::UniqueUsers { value, interval })
            }
            _ => {
                let (value, interval) = frequency(item)?;
                Parsed::Condition(Condition::EventFrequency { value, interval })
            }
        },
        "event_unique_user_frequency" => {
            let (value, interval) = frequency(item)?;
            Parsed::Condition(Condition::UniqueUsers { value, interval })
        }
        "level" => {
            let op = match item.get("match").and_then(Value::as_str).unwrap_or("gte") {
                "eq" => LevelOp::Eq,
                "gte" => LevelOp::Gte,
                "lte" => LevelOp::Lte,
                other => return Err(invalid(format!("level: unknown match {other:?} (use eq, gte or lte)"))),
            };
            let given = item.get("level").ok_or_else(|| invalid("level: \"level\" is required"))?;
            let level = match int(given) {
                Some(rank) if LEVELS.iter().any(|(_, r)| *r == rank) => rank,
                Some(_) => return Err(invalid("level: \"level\" must be 10, 20, 30, 40 or 50")),
                None => {
                    let name = given.as_str().unwrap_or_default();
                    LEVELS.iter().find(|(n, _)| *n == name).map(|(_, r)| *r).ok_or_else(|| {
                        invalid(format!("level: unknown level {name:?} (use fatal, error, warning, info or debug)"))
                    })?
                }
            };
            Parsed::Filter(Filter::Level { op, level })
        }
        "tagged_event" => {
            let key = text(item, "key", short)?;
            let op = string_match(item)?;
            let value = item.get("value").and_then(Value::as_str).unwrap_or_default();
            if key.is_empty() || key.len() > 200 || value.len() > 200 {
                return Err(invalid("tagged_event: \"key\" (1-200 characters) and \"value\" (at most 200) please"));
            }
            Parsed::Filter(Filter::Tagged { key: key.to_owned(), op, value: value.to_owned() })
        }
        "release" => {
            let op = string_match(item)?;
            let value = item.get("value").and_then(Value::as_str).unwrap_or_default();
            if value.len() > 250 {
                return Err(invalid("release: \"value\" is at most 250 characters"));
            }
            Parsed::Filter(Filter::Release { op, value: value.to_owned() })
        }
        "age_comparison" => {
            let older = match text(item, "comparison_type", short)? {
                "older" => true,
                "newer" => false,
                other => return Err(invalid(format!("age_comparison: unknown comparison_type {other:?}"))),
            };
            let value = item
                .get("value")
                .and_then(int)
                .filter(|v| *v >= 0)
                .ok_or_else(|| invalid("age_comparison: \"value\" must be a non-negative number"))?;
            let unit = match text(item, "time", short)? {
                "minute" => "minute",
                "hour" => "hour",
                "day" => "day",
                "week" => "week",
                other => {
                    return Err(invalid(format!("age_comparison: unknown time {other:?} (minute, hour, day, week)")));
                }
            };
            Parsed::Filter(Filter::Age { older, value, unit })
        }
        _ => return Err(invalid(format!("unsupported condition or filter id {id:?}"))),
    })
}

pub(super) fn parse_action(item: &Value, previous: Option<&Rule>) -> Result<Action, RuleError> {
    let id = item.get("id").and_then(Value::as_str).unwrap_or_default();
    if id != "slack_webhook" {
        return Err(invalid(format!("unsupported action {id:?} (use slack_webhook)")));
    }
    let given = text(item, "webhook", "slack_webhook")?.trim();
    if given.contains(MASK) {
        // The masked value we printed: keep the stored URL it stands for.
        let stored = previous.into_iter().flat_map(Rule::webhooks).find(|url| mask_webhook(url) == given);
        return stored.map(|url| Action::SlackWebhook { webhook: url.to_owned() }).ok_or_else(|| {
            invalid("slack_webhook: send the full webhook URL (a masked one only stands for the saved URL)")
        });
    }
    let url = url::Url::parse(given).map_err(|_| invalid("slack_webhook: \"webhook\" must be a URL"))?;
    if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none_or(str::is_empty) || given.len() > 2_048 {
        return Err(invalid("slack_webhook: \"webhook\" must be an http(s) URL with a host"));
    }
    Ok(Action::SlackWebhook { webhook: given.to_owned() })
}
