//! Alert rules: the model, parsed from Sentry-shaped JSON, and printed back with webhooks masked.
//!
//! ```json
//! {"name": "New errors to #web", "environment": "production", "frequency": 30,
//!  "actionMatch": "any", "filterMatch": "all",
//!  "conditions": [{"id": "sentry.rules.conditions.first_seen_event.FirstSeenEventCondition"},
//!                 {"id": "event_frequency", "value": 100, "interval": "1h"}],
//!  "filters": [{"id": "level", "match": "gte", "level": "error"},
//!              {"id": "tagged_event", "key": "browser", "match": "eq", "value": "Firefox"}],
//!  "actions": [{"id": "slack_webhook", "webhook": "https://hooks.slack.com/services/T0/B0/XXXX"}]}
//! ```
//!
//! Every condition and filter id is accepted in Sentry's long form and in a short one (the long form's
//! module name): conditions `first_seen_event`, `regression_event`, `reappeared_event` (an ignored issue
//! whose ignore condition ended), `event_frequency` and `event_unique_user_frequency` (`value`,
//! `interval` in `1m 5m 15m 1h 1d 1w 30d`); filters `level` (`match` `eq|gte|lte`, `level` by name or
//! Sentry's number), `tagged_event` (`key`, `match`, `value`), `release` (`match`, `value`) and
//! `age_comparison` (`comparison_type` `older|newer`, `value`, `time` `minute|hour|day|week`). As in old
//! Sentry rules, a filter listed under `conditions` counts as a filter. String matches are Sentry's
//! `eq ne sw ew co nc is ns`.
//!
//! The same JSON, with the webhooks in clear, is what the store keeps; [`Rule::from_row`] parses it back.

use serde_json::{Value, json};

use self::parse::{Parsed, int, list, parse_action, parse_condition};

use crate::store::{AlertRuleRow, AlertRuleWrite};

/// Why a rule was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RuleError {
    /// A field is missing or malformed.
    #[error("{0}")]
    Invalid(String),
}

fn invalid(msg: impl Into<String>) -> RuleError {
    RuleError::Invalid(msg.into())
}

/// Allowed per-issue action intervals, in minutes: 5 minutes to a week.
pub const FREQUENCY_RANGE: std::ops::RangeInclusive<i64> = 5..=10_080;
const MAX_ITEMS: usize = 10;

mod parse;

/// A parsed rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Display name.
    pub name: String,
    /// Evaluated at all?
    pub enabled: bool,
    /// Only events of this environment.
    pub environment: Option<String>,
    /// Per-issue action interval in minutes.
    pub frequency_minutes: i64,
    /// Must all conditions hold, or any?
    pub action_match_all: bool,
    /// How filters combine.
    pub filter_match: FilterMatch,
    /// Triggers.
    pub conditions: Vec<Condition>,
    /// Filters on the event and issue.
    pub filters: Vec<Filter>,
    /// Where to post.
    pub actions: Vec<Action>,
}

/// How filters combine (Sentry's `filterMatch`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterMatch {
    /// Every filter passes.
    All,
    /// At least one passes.
    Any,
    /// None passes.
    None,
}

/// A trigger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// A new issue is created.
    FirstSeen,
    /// A resolved issue comes back.
    Regression,
    /// An ignored issue's ignore condition ends.
    Reappeared,
    /// The issue is seen more than `value` times in `interval`.
    EventFrequency {
        /// Threshold.
        value: i64,
        /// Window.
        interval: Interval,
    },
    /// More than `value` users see the issue in `interval`.
    UniqueUsers {
        /// Threshold.
        value: i64,
        /// Window.
        interval: Interval,
    },
}

/// A frequency window as Sentry writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interval {
    /// `1m`, `5m`, `15m`, `1h`, `1d`, `1w` or `30d`.
    pub text: &'static str,
    /// Its length in minutes.
    pub minutes: i64,
}

const INTERVALS: [(&str, i64); 7] =
    [("1m", 1), ("5m", 5), ("15m", 15), ("1h", 60), ("1d", 1_440), ("1w", 10_080), ("30d", 43_200)];

/// A filter on the triggering event or its issue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// The event's level compared with `level`.
    Level {
        /// `eq`, `gte` or `lte`.
        op: LevelOp,
        /// Level rank (10 debug … 50 fatal).
        level: i64,
    },
    /// A tag of the event.
    Tagged {
        /// Tag key.
        key: String,
        /// How to compare.
        op: MatchOp,
        /// Operand (unused for `is`/`ns`).
        value: String,
    },
    /// The event's release.
    Release {
        /// How to compare.
        op: MatchOp,
        /// Operand.
        value: String,
    },
    /// The issue's age (since first seen).
    Age {
        /// `older` (true) or `newer` than the span.
        older: bool,
        /// How many units.
        value: i64,
        /// `minute`, `hour`, `day` or `week`.
        unit: &'static str,
    },
}

/// Level comparisons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LevelOp {
    /// Equal.
    Eq,
    /// At least.
    Gte,
    /// At most.
    Lte,
}

/// Sentry's string match types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchOp {
    /// `eq`.
    Equal,
    /// `ne`.
    NotEqual,
    /// `sw`.
    StartsWith,
    /// `ew`.
    EndsWith,
    /// `co`.
    Contains,
    /// `nc`.
    NotContains,
    /// `is`: set.
    IsSet,
    /// `ns`: not set.
    NotSet,
}

const MATCH_OPS: [(&str, MatchOp); 8] = [
    ("eq", MatchOp::Equal),
    ("ne", MatchOp::NotEqual),
    ("sw", MatchOp::StartsWith),
    ("ew", MatchOp::EndsWith),
    ("co", MatchOp::Contains),
    ("nc", MatchOp::NotContains),
    ("is", MatchOp::IsSet),
    ("ns", MatchOp::NotSet),
];

impl MatchOp {
    /// Whether `actual` (absent: `None`) matches `operand`.
    pub fn test(self, actual: Option<&str>, operand: &str) -> bool {
        match (self, actual) {
            (MatchOp::IsSet, a) => a.is_some(),
            (MatchOp::NotSet, a) => a.is_none(),
            (MatchOp::NotEqual, None) | (MatchOp::NotContains, None) => true,
            (_, None) => false,
            (MatchOp::Equal, Some(a)) => a == operand,
            (MatchOp::NotEqual, Some(a)) => a != operand,
            (MatchOp::StartsWith, Some(a)) => a.starts_with(operand),
            (MatchOp::EndsWith, Some(a)) => a.ends_with(operand),
            (MatchOp::Contains, Some(a)) => a.contains(operand),
            (MatchOp::NotContains, Some(a)) => !a.contains(operand),
        }
    }

    fn code(self) -> &'static str {
        MATCH_OPS.iter().find(|(_, op)| *op == self).map_or("eq", |(code, _)| code)
    }

    /// Human text: `equals`, `starts with`, …
    pub fn text(self) -> &'static str {
        match self {
            MatchOp::Equal => "equals",
            MatchOp::NotEqual => "does not equal",
            MatchOp::StartsWith => "starts with",
            MatchOp::EndsWith => "ends with",
            MatchOp::Contains => "contains",
            MatchOp::NotContains => "does not contain",
            MatchOp::IsSet => "is set",
            MatchOp::NotSet => "is not set",
        }
    }
}

/// Level names by Sentry's rank.
pub const LEVELS: [(&str, i64); 5] = [("fatal", 50), ("error", 40), ("warning", 30), ("info", 20), ("debug", 10)];

/// The rank of a level name (`warn` and `critical` as Sentry reads them); unknown levels rank as error.
pub fn level_rank(name: &str) -> i64 {
    match name {
        "warn" => 30,
        "critical" => 50,
        "log" => 20,
        _ => LEVELS.iter().find(|(n, _)| *n == name).map_or(40, |(_, r)| *r),
    }
}

/// The name of a level rank.
pub fn level_name(rank: i64) -> &'static str {
    LEVELS.iter().find(|(_, r)| *r == rank).map_or("error", |(n, _)| n)
}

/// An action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Post to a Slack incoming webhook.
    SlackWebhook {
        /// The URL (a secret).
        webhook: String,
    },
}

impl Rule {
    /// Parse an API body. `previous` is the stored rule being replaced: a webhook sent back masked
    /// keeps the stored URL it masks.
    pub fn from_api(body: &Value, previous: Option<&Rule>) -> Result<Self, RuleError> {
        let obj = body.as_object().ok_or_else(|| invalid("the body must be a JSON object"))?;
        let name = obj.get("name").and_then(Value::as_str).map(str::trim).unwrap_or_default();
        if name.is_empty() || name.chars().count() > 256 {
            return Err(invalid("\"name\" is required (at most 256 characters)"));
        }
        let environment = match obj.get("environment") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.is_empty() => None,
            Some(Value::String(s)) if s.len() <= 64 => Some(s.clone()),
            Some(_) => return Err(invalid("\"environment\" must be a string (at most 64 characters) or null")),
        };
        let frequency_minutes = match obj.get("frequency") {
            None | Some(Value::Null) => 30,
            Some(v) => int(v)
                .filter(|m| FREQUENCY_RANGE.contains(m))
                .ok_or_else(|| invalid("\"frequency\" must be a number of minutes from 5 to 10080 (one week)"))?,
        };
        let enabled = match (obj.get("status").and_then(Value::as_str), obj.get("enabled").and_then(Value::as_bool)) {
            (Some("disabled"), _) | (_, Some(false)) => false,
            (Some("active") | None, _) => true,
            (Some(other), _) => return Err(invalid(format!("unknown status {other:?} (use active or disabled)"))),
        };
        let action_match_all = match obj.get("actionMatch").and_then(Value::as_str).unwrap_or("all") {
            "all" => true,
            "any" => false,
            other => return Err(invalid(format!("unknown actionMatch {other:?} (use all or any)"))),
        };
        let filter_match = match obj.get("filterMatch").and_then(Value::as_str).unwrap_or("all") {
            "all" => FilterMatch::All,
            "any" => FilterMatch::Any,
            "none" => FilterMatch::None,
            other => return Err(invalid(format!("unknown filterMatch {other:?} (use all, any or none)"))),
        };
        let mut conditions = Vec::new();
        let mut filters = Vec::new();
        for item in list(obj, "conditions")? {
            match parse_condition(item)? {
                Parsed::Condition(c) => conditions.push(c),
                Parsed::Filter(f) => filters.push(f),
            }
        }
        for item in list(obj, "filters")? {
            match parse_condition(item)? {
                Parsed::Filter(f) => filters.push(f),
                Parsed::Condition(_) => return Err(invalid("a trigger was listed under \"filters\"")),
            }
        }
        if conditions.is_empty() {
            return Err(invalid("a rule needs at least one condition (a trigger such as first_seen_event)"));
        }
        let actions = list(obj, "actions")?.iter().map(|a| parse_action(a, previous)).collect::<Result<Vec<_>, _>>()?;
        if actions.is_empty() {
            return Err(invalid("a rule needs at least one action ({\"id\": \"slack_webhook\", \"webhook\": …})"));
        }
        if conditions.len() > MAX_ITEMS || filters.len() > MAX_ITEMS || actions.len() > MAX_ITEMS {
            return Err(invalid("at most 10 conditions, 10 filters and 10 actions"));
        }
        Ok(Rule {
            name: name.to_owned(),
            enabled,
            environment,
            frequency_minutes,
            action_match_all,
            filter_match,
            conditions,
            filters,
            actions,
        })
    }

    /// Parse a stored rule.
    pub fn from_row(row: &AlertRuleRow) -> Result<Self, RuleError> {
        let parse = |text: &str| serde_json::from_str::<Value>(text).map_err(|e| invalid(e.to_string()));
        let body = json!({
            "name": row.name,
            "status": if row.enabled { "active" } else { "disabled" },
            "environment": row.environment,
            "frequency": row.frequency_minutes,
            "actionMatch": row.action_match,
            "filterMatch": row.filter_match,
            "conditions": parse(&row.conditions)?,
            "filters": parse(&row.filters)?,
            "actions": parse(&row.actions)?,
        });
        Rule::from_api(&body, None)
    }

    /// The columns to store (webhooks in clear).
    pub fn to_write(&self) -> AlertRuleWrite {
        AlertRuleWrite {
            name: self.name.clone(),
            enabled: self.enabled,
            environment: self.environment.clone(),
            frequency_minutes: self.frequency_minutes,
            action_match: if self.action_match_all { "all" } else { "any" }.to_owned(),
            filter_match: self.filter_match_text().to_owned(),
            conditions: Value::Array(self.conditions.iter().map(Condition::to_json).collect()).to_string(),
            filters: Value::Array(self.filters.iter().map(Filter::to_json).collect()).to_string(),
            actions: Value::Array(self.actions.iter().map(|a| a.to_json(false)).collect()).to_string(),
        }
    }

    fn filter_match_text(&self) -> &'static str {
        match self.filter_match {
            FilterMatch::All => "all",
            FilterMatch::Any => "any",
            FilterMatch::None => "none",
        }
    }

    /// The API object (webhooks masked).
    pub fn to_api(&self, row: &AlertRuleRow, project_slug: &str) -> Value {
        json!({
            "id": row.id.to_string(),
            "name": self.name,
            "environment": self.environment,
            "frequency": self.frequency_minutes,
            "actionMatch": if self.action_match_all { "all" } else { "any" },
            "filterMatch": self.filter_match_text(),
            "conditions": self.conditions.iter().map(Condition::to_json).collect::<Vec<_>>(),
            "filters": self.filters.iter().map(Filter::to_json).collect::<Vec<_>>(),
            "actions": self.actions.iter().map(|a| a.to_json(true)).collect::<Vec<_>>(),
            "status": if self.enabled { "active" } else { "disabled" },
            "enabled": self.enabled,
            "projects": [project_slug],
            "dateCreated": row.created_at.to_rfc3339(),
            "dateModified": row.updated_at.to_rfc3339(),
        })
    }

    /// The webhook URLs.
    pub fn webhooks(&self) -> impl Iterator<Item = &str> {
        self.actions.iter().map(|Action::SlackWebhook { webhook }| webhook.as_str())
    }

    /// Whether some condition needs counting (fires on any event, not only on a recorded fact).
    pub fn has_frequency_condition(&self) -> bool {
        self.conditions.iter().any(|c| matches!(c, Condition::EventFrequency { .. } | Condition::UniqueUsers { .. }))
    }
}

const MASK: &str = "****";

/// A webhook URL as the API shows it: the last path segment (the secret) replaced by `****`, no query.
///
/// `https://hooks.slack.com/services/T000/B000/XXXX` → `https://hooks.slack.com/services/T000/B000/****`
pub fn mask_webhook(webhook: &str) -> String {
    let Ok(url) = url::Url::parse(webhook) else { return MASK.to_owned() };
    let host = url.host_str().unwrap_or_default();
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    let path = url.path().trim_end_matches('/');
    let kept = path.rsplit_once('/').map_or("", |(head, _)| head);
    format!("{}://{host}{port}{kept}/{MASK}", url.scheme())
}

impl Condition {
    fn to_json(&self) -> Value {
        match self {
            Condition::FirstSeen => json!({"id": "sentry.rules.conditions.first_seen_event.FirstSeenEventCondition",
                                           "name": "A new issue is created"}),
            Condition::Regression => json!({"id": "sentry.rules.conditions.regression_event.RegressionEventCondition",
                                            "name": "The issue changes state from resolved to unresolved"}),
            Condition::Reappeared => json!({"id": "sentry.rules.conditions.reappeared_event.ReappearedEventCondition",
                                            "name": "The issue changes state from ignored to unresolved"}),
            Condition::EventFrequency { value, interval } => json!({
                "id": "sentry.rules.conditions.event_frequency.EventFrequencyCondition",
                "value": value, "interval": interval.text, "comparisonType": "count",
                "name": format!("The issue is seen more than {value} times in {}", interval.text)}),
            Condition::UniqueUsers { value, interval } => json!({
                "id": "sentry.rules.conditions.event_frequency.EventUniqueUserFrequencyCondition",
                "value": value, "interval": interval.text, "comparisonType": "count",
                "name": format!("The issue is seen by more than {value} users in {}", interval.text)}),
        }
    }
}

impl Filter {
    fn to_json(&self) -> Value {
        match self {
            Filter::Level { op, level } => {
                let (code, text) = match op {
                    LevelOp::Eq => ("eq", "equal to"),
                    LevelOp::Gte => ("gte", "greater than or equal to"),
                    LevelOp::Lte => ("lte", "less than or equal to"),
                };
                json!({"id": "sentry.rules.filters.level.LevelFilter", "match": code, "level": level.to_string(),
                       "name": format!("The event's level is {text} {}", level_name(*level))})
            }
            Filter::Tagged { key, op, value } => json!({
                "id": "sentry.rules.filters.tagged_event.TaggedEventFilter", "key": key, "match": op.code(),
                "value": value, "name": format!("The event's tags match {key} {} {value}", op.text())}),
            Filter::Release { op, value } => json!({
                "id": "release", "match": op.code(), "value": value,
                "name": format!("The event's release {} {value}", op.text())}),
            Filter::Age { older, value, unit } => json!({
                "id": "sentry.rules.filters.age_comparison.AgeComparisonFilter",
                "comparison_type": if *older { "older" } else { "newer" }, "value": value, "time": unit,
                "name": format!("The issue is {} than {value} {unit}(s)", if *older { "older" } else { "newer" })}),
        }
    }

    /// The span of an age filter in milliseconds.
    pub fn age_millis(value: i64, unit: &str) -> i64 {
        let minutes = match unit {
            "minute" => 1,
            "hour" => 60,
            "day" => 1_440,
            _ => 10_080,
        };
        value.saturating_mul(minutes).saturating_mul(60_000)
    }
}

impl Action {
    fn to_json(&self, masked: bool) -> Value {
        let Action::SlackWebhook { webhook } = self;
        let webhook = if masked { mask_webhook(webhook) } else { webhook.clone() };
        json!({"id": "slack_webhook", "webhook": webhook, "name": "Send a Slack message to an incoming webhook"})
    }
}

#[cfg(test)]
mod tests;
