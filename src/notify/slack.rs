//! The Slack message: Block Kit inside a level-coloured attachment, with a plain-text fallback.
//!
//! ```text
//! ┃ ZeroDivisionError: division by zero                       ← header (issue title), bar in level colour
//! ┃ `app.views in divide`                                     ← culprit
//! ┃ Project web        Environment production    Release 1.4.2
//! ┃ First seen …       Events 120                Users 3
//! ┃ Why: regressed in 1.4.2 · Rule: Errors to #web
//! ┃ Tags: browser Firefox (80) · os Linux (80)
//! ┃ [Open WEB-1]                                              ← link to {FAULTLINE_URL}/organizations/{org}/issues/{id}/
//! ```
//!
//! The top-level `text` is what notifications and old clients show; the top-level `blocks` carry the one
//! line that says why it fired. User text is escaped for mrkdwn (`&`, `<`, `>`) and cut to Slack's limits.

use serde_json::{Value, json};

use crate::store::{Issue, Millis, Project, TagValueCount};

/// What a message is about.
#[derive(Debug, Clone)]
pub struct Message<'a> {
    /// The issue.
    pub issue: &'a Issue,
    /// Its project.
    pub project: &'a Project,
    /// The triggering event's environment.
    pub environment: Option<&'a str>,
    /// The triggering event's release.
    pub release: Option<&'a str>,
    /// Why it fired: "new issue", "regressed in 1.4.2", "120 events in 1h".
    pub reason: &'a str,
    /// The rule's name.
    pub rule_name: &'a str,
    /// The issue's most frequent tag values.
    pub tags: &'a [TagValueCount],
    /// `FAULTLINE_URL`, without a trailing slash.
    pub public_url: &'a str,
}

/// Sentry's Slack colours by level.
pub fn level_colour(level: &str) -> &'static str {
    match level {
        "fatal" | "critical" => "#d20f2a",
        "warning" | "warn" => "#f18500",
        "info" | "log" => "#2788ce",
        "debug" => "#fbe14f",
        _ => "#e03e2f",
    }
}

/// The issue page.
pub fn issue_link(public_url: &str, org_slug: &str, issue_id: i64) -> String {
    format!("{public_url}/organizations/{org_slug}/issues/{issue_id}/")
}

/// The Slack body for an issue alert.
pub fn issue_message(m: &Message<'_>) -> Value {
    let issue = m.issue;
    let short_id = crate::api::serialize::short_id(&m.project.slug, issue.short_id);
    let link = issue_link(m.public_url, &m.project.organization_slug, issue.id);
    let why = capitalise(m.reason);
    let fallback = escape(&cut(&format!("[{}] {}: {}", m.project.slug, why, issue.title), 300));

    let mut details = vec![json!({"type": "header", "text": {"type": "plain_text", "text": cut(&issue.title, 150)}})];
    if !issue.culprit.is_empty() {
        details.push(section(&format!("`{}`", escape(&cut(&issue.culprit, 500)))));
    }
    let mut fields = vec![field("Project", &m.project.slug)];
    if let Some(env) = m.environment {
        fields.push(field("Environment", env));
    }
    if let Some(release) = m.release {
        fields.push(field("Release", release));
    }
    fields.push(json!({"type": "mrkdwn", "text": format!("*First seen*\n{}", slack_date(issue.first_seen))}));
    fields.push(field("Events", &issue.times_seen.to_string()));
    fields.push(field("Users", &issue.users_seen.to_string()));
    details.push(json!({"type": "section", "fields": fields}));
    details.push(json!({"type": "context", "elements": [{"type": "mrkdwn",
        "text": format!("*Why:* {} · *Rule:* {}", escape(&why), escape(&cut(m.rule_name, 200)))}]}));
    let tags = top_tags(m.tags, 5);
    if !tags.is_empty() {
        details.push(section(&format!("*Tags:* {}", tags.join(" · "))));
    }
    details.push(json!({"type": "actions", "elements": [{"type": "button", "action_id": "open_issue",
        "text": {"type": "plain_text", "text": format!("Open {short_id}")}, "url": link}]}));

    json!({
        "text": fallback,
        "blocks": [section(&format!("*{}* in *{}* · <{link}|{short_id}>", escape(&why), escape(&m.project.slug)))],
        "attachments": [{"color": level_colour(&issue.level), "fallback": fallback, "blocks": details}],
    })
}

/// The body of a rule's "send test message".
pub fn test_message(project: &Project, rule_name: &str, public_url: &str) -> Value {
    let text = format!("[{}] Test message from Faultline for the alert rule \"{}\"", project.slug, cut(rule_name, 200));
    let link = format!("{public_url}/organizations/{}/issues/", project.organization_slug);
    json!({
        "text": text,
        "blocks": [section(&format!("*Test message* for the rule *{}* in *{}*: alerts for this project will look \
                                     like this and link to <{link}|the issue stream>.",
                                    escape(&cut(rule_name, 200)), escape(&project.slug)))],
        "attachments": [{"color": level_colour("info"), "fallback": text, "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "Faultline test message"}},
        ]}],
    })
}

fn section(text: &str) -> Value {
    json!({"type": "section", "text": {"type": "mrkdwn", "text": cut(text, 3000)}})
}

fn field(name: &str, value: &str) -> Value {
    json!({"type": "mrkdwn", "text": format!("*{name}*\n{}", escape(&cut(value, 200)))})
}

/// The most frequent value of each of the first `keys` tag keys: `browser Firefox (80)`.
fn top_tags(tags: &[TagValueCount], keys: usize) -> Vec<String> {
    let mut seen = Vec::new();
    let mut out = Vec::new();
    for tag in tags {
        if out.len() == keys {
            break;
        }
        if seen.contains(&tag.key.as_str()) {
            continue;
        }
        seen.push(tag.key.as_str());
        out.push(format!("{} `{}` ({})", escape(&cut(&tag.key, 50)), escape(&cut(&tag.value, 100)), tag.times_seen));
    }
    out
}

/// Slack's date token, rendered in each reader's time zone, with a UTC fallback.
fn slack_date(at: Millis) -> String {
    let dt = at.to_datetime();
    format!(
        "<!date^{}^{{date_short_pretty}} {{time}}|{:04}-{:02}-{:02} {:02}:{:02} UTC>",
        at.0.div_euclid(1000),
        dt.year(),
        u8::from(dt.month()),
        dt.day(),
        dt.hour(),
        dt.minute()
    )
}

/// mrkdwn control characters as entities.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// At most `max` characters, with an ellipsis when cut.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> (Issue, Project, Vec<TagValueCount>) {
        let issue = Issue {
            id: 12,
            project_id: 3,
            short_id: 33,
            title: "ZeroDivisionError: division <by> zero".into(),
            culprit: "app.views in divide".into(),
            level: "error".into(),
            event_type: "error".into(),
            metadata: "{}".into(),
            status: "unresolved".into(),
            substatus: Some("regressed".into()),
            first_seen: Millis(1_763_710_682_000),
            last_seen: Millis(1_763_710_982_000),
            times_seen: 120,
            users_seen: 3,
            first_release: Some("1.4.1".into()),
            last_release: Some("1.4.2".into()),
            assignee_id: None,
            resolved_release: None,
            resolved_mode: None,
            ignore_until: None,
            ignore_count: None,
            ignore_users: None,
        };
        let project = Project {
            id: 3,
            organization_id: 1,
            organization_slug: "acme".into(),
            slug: "web".into(),
            name: "Web".into(),
            platform: Some("python".into()),
            created_at: Millis(0),
        };
        let tag = |key: &str, value: &str, n| TagValueCount {
            key: key.into(),
            value: value.into(),
            times_seen: n,
            first_seen: Millis(0),
            last_seen: Millis(0),
        };
        (issue, project, vec![tag("browser", "Firefox", 80), tag("os", "Linux", 70), tag("browser", "Chrome", 40)])
    }

    #[test]
    fn the_issue_message_has_blocks_colour_fallback_and_link() {
        let (issue, project, tags) = fixture();
        let message = issue_message(&Message {
            issue: &issue,
            project: &project,
            environment: Some("production"),
            release: Some("1.4.2"),
            reason: "regressed in 1.4.2",
            rule_name: "Errors to #web",
            tags: &tags,
            public_url: "https://errors.example.com",
        });
        insta::assert_json_snapshot!(message);
    }

    #[test]
    fn long_text_is_cut_and_escaped() {
        assert_eq!(cut("abcdef", 4), "abc…");
        assert_eq!(escape("a<b>&c"), "a&lt;b&gt;&amp;c");
    }
}
