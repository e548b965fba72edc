//! `/settings/{org}/projects/{project}/alerts/`: a project's issue alert rules in the UI — the list
//! (name, enabled, what triggers it), a create/edit form, delete, "Send test message" and each rule's
//! delivery log. Members read; admins change. The form is turned into the same Sentry-shaped rule
//! object the API takes and checked by the same code ([`crate::api::rules::check_rule`], which parses
//! with [`crate::notify::rules::Rule::from_api`]); saved webhooks are shown masked, and a masked value
//! posted back keeps the stored URL.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::rules::{check_rule, deliver_test};
use crate::app::AppState;
use crate::notify::rules::{Condition, Filter, Rule, level_name, mask_webhook};
use crate::store::{AlertRuleRow, Millis, Project};
use crate::web::format::{ago, datetime};
use crate::web::session::CurrentUser;
use crate::web::{Nav, OrgScope, WebError, WebResult, see_other};

/// Per-issue action intervals offered, in minutes.
const FREQUENCIES: [(i64, &str); 8] = [
    (5, "5 minutes"),
    (10, "10 minutes"),
    (30, "30 minutes"),
    (60, "1 hour"),
    (180, "3 hours"),
    (720, "12 hours"),
    (1_440, "1 day"),
    (10_080, "1 week"),
];
/// Frequency windows as Sentry writes them.
const INTERVALS: [&str; 7] = ["1m", "5m", "15m", "1h", "1d", "1w", "30d"];

/// One rule in the list.
pub struct RuleLine {
    /// Database id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Enabled?
    pub enabled: bool,
    /// Triggers and filters in words.
    pub summary: String,
    /// When it last fired (for any issue), relative.
    pub last_fired: Option<String>,
}

/// The list page.
#[derive(Template, WebTemplate)]
#[template(path = "project_alerts.html")]
pub struct AlertsPage {
    nav: Nav,
    project: Project,
    tab: &'static str,
    base: String,
    rules: Vec<RuleLine>,
}

/// The form's fields (also what it posts).
#[derive(Debug, Default, Deserialize)]
pub struct AlertForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    enabled: String,
    #[serde(default)]
    environment: String,
    #[serde(default)]
    frequency: String,
    #[serde(default)]
    action_match: String,
    #[serde(default)]
    first_seen: String,
    #[serde(default)]
    regression: String,
    #[serde(default)]
    reappeared: String,
    #[serde(default)]
    events_value: String,
    #[serde(default)]
    events_interval: String,
    #[serde(default)]
    users_value: String,
    #[serde(default)]
    users_interval: String,
    #[serde(default)]
    level: String,
    #[serde(default)]
    tag_key: String,
    #[serde(default)]
    tag_value: String,
    #[serde(default)]
    release: String,
    #[serde(default)]
    age_type: String,
    #[serde(default)]
    age_value: String,
    #[serde(default)]
    age_unit: String,
    #[serde(default)]
    webhooks: String,
}

/// One delivery-log line.
pub struct DeliveryLine {
    /// When.
    pub at: String,
    /// The issue, if any (none for test messages).
    pub issue_id: Option<i64>,
    /// `sent`, `retry`, `failed`, `test`, `test_failed`.
    pub status: String,
    /// HTTP status.
    pub http_status: Option<i64>,
    /// The error.
    pub error: String,
}

/// The create/edit page with the delivery log.
#[derive(Template, WebTemplate)]
#[template(path = "project_alert.html")]
pub struct AlertPage {
    nav: Nav,
    project: Project,
    tab: &'static str,
    base: String,
    rule_id: Option<i64>,
    form: AlertForm,
    problem: Option<String>,
    notice: String,
    lossy: bool,
    deliveries: Vec<DeliveryLine>,
    frequencies: Vec<(i64, &'static str)>,
    intervals: Vec<&'static str>,
}

impl AlertPage {
    fn checked(&self, field: &str) -> bool {
        field == "1"
    }
}

async fn scope(state: &AppState, user: &CurrentUser, org: &str, slug: &str) -> WebResult<(Nav, Project, String)> {
    let scope = OrgScope::load(state, user, org).await?;
    let project = scope.project(slug)?.clone();
    Ok((Nav::new(user, &scope.org.slug, "projects"), project, format!("/settings/{org}/projects/{slug}/")))
}

async fn own_rule(state: &AppState, project: &Project, rule_id: &str) -> WebResult<(AlertRuleRow, Rule)> {
    let missing = || WebError::NotFound("There is no such alert rule.".to_owned());
    let id: i64 = rule_id.parse().map_err(|_| missing())?;
    let row = state.store.find_alert_rule(id).await?.filter(|r| r.project_id == project.id).ok_or_else(missing)?;
    let rule = Rule::from_row(&row).map_err(|e| WebError::Internal(anyhow::anyhow!("stored rule is invalid: {e}")))?;
    Ok((row, rule))
}

/// Triggers and filters in a line.
fn summary(rule: &Rule) -> String {
    let mut parts: Vec<String> = rule
        .conditions
        .iter()
        .map(|c| match c {
            Condition::FirstSeen => "new issue".to_owned(),
            Condition::Regression => "regression".to_owned(),
            Condition::Reappeared => "reappeared".to_owned(),
            Condition::EventFrequency { value, interval } => format!("more than {value} events in {}", interval.text),
            Condition::UniqueUsers { value, interval } => format!("more than {value} users in {}", interval.text),
        })
        .collect();
    let joined = parts.join(if rule.action_match_all { " and " } else { " or " });
    parts = vec![joined];
    if let Some(env) = &rule.environment {
        parts.push(format!("in {env}"));
    }
    for f in &rule.filters {
        parts.push(match f {
            Filter::Level { level, .. } => format!("level {}", level_name(*level)),
            Filter::Tagged { key, op, value } => format!("tag {key} {} {value}", op.text()),
            Filter::Release { op, value } => format!("release {} {value}", op.text()),
            Filter::Age { older, value, unit } => {
                format!("issue {} than {value} {unit}(s)", if *older { "older" } else { "newer" })
            }
        });
    }
    parts.join(", ")
}

/// The form's values for a stored rule (webhooks masked).
fn form_of(rule: &Rule) -> AlertForm {
    let mut f = AlertForm {
        name: rule.name.clone(),
        enabled: if rule.enabled { "1" } else { "" }.to_owned(),
        environment: rule.environment.clone().unwrap_or_default(),
        frequency: rule.frequency_minutes.to_string(),
        action_match: if rule.action_match_all { "all" } else { "any" }.to_owned(),
        webhooks: rule.webhooks().map(mask_webhook).collect::<Vec<_>>().join("\n"),
        ..AlertForm::default()
    };
    for c in &rule.conditions {
        match c {
            Condition::FirstSeen => f.first_seen = "1".into(),
            Condition::Regression => f.regression = "1".into(),
            Condition::Reappeared => f.reappeared = "1".into(),
            Condition::EventFrequency { value, interval } => {
                (f.events_value, f.events_interval) = (value.to_string(), interval.text.to_owned());
            }
            Condition::UniqueUsers { value, interval } => {
                (f.users_value, f.users_interval) = (value.to_string(), interval.text.to_owned());
            }
        }
    }
    for filter in &rule.filters {
        match filter {
            Filter::Level { level, .. } => f.level = level_name(*level).to_owned(),
            Filter::Tagged { key, value, .. } => (f.tag_key, f.tag_value) = (key.clone(), value.clone()),
            Filter::Release { value, .. } => f.release = value.clone(),
            Filter::Age { older, value, unit } => {
                f.age_type = if *older { "older" } else { "newer" }.to_owned();
                (f.age_value, f.age_unit) = (value.to_string(), (*unit).to_owned());
            }
        }
    }
    f
}

fn number(text: &str, what: &str) -> Result<Value, String> {
    text.trim().parse::<i64>().map(Value::from).map_err(|_| format!("{what} must be a whole number."))
}

/// The Sentry-shaped rule object for a posted form (checked afterwards by `check_rule`).
fn body_of(f: &AlertForm) -> Result<Value, String> {
    let mut conditions = Vec::new();
    for (field, id) in
        [(&f.first_seen, "first_seen_event"), (&f.regression, "regression_event"), (&f.reappeared, "reappeared_event")]
    {
        if field == "1" {
            conditions.push(json!({"id": id}));
        }
    }
    if !f.events_value.trim().is_empty() {
        let value = number(&f.events_value, "The number of events")?;
        conditions.push(json!({"id": "event_frequency", "value": value, "interval": f.events_interval}));
    }
    if !f.users_value.trim().is_empty() {
        let value = number(&f.users_value, "The number of users")?;
        conditions.push(json!({"id": "event_unique_user_frequency", "value": value, "interval": f.users_interval}));
    }
    let mut filters = Vec::new();
    if !f.level.is_empty() {
        filters.push(json!({"id": "level", "match": "gte", "level": f.level}));
    }
    if !f.tag_key.trim().is_empty() {
        filters
            .push(json!({"id": "tagged_event", "key": f.tag_key.trim(), "match": "eq", "value": f.tag_value.trim()}));
    }
    if !f.release.trim().is_empty() {
        filters.push(json!({"id": "release", "match": "eq", "value": f.release.trim()}));
    }
    if !f.age_value.trim().is_empty() {
        let value = number(&f.age_value, "The issue age")?;
        filters
            .push(json!({"id": "age_comparison", "comparison_type": f.age_type, "value": value, "time": f.age_unit}));
    }
    let actions: Vec<Value> = f
        .webhooks
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|w| json!({"id": "slack_webhook", "webhook": w}))
        .collect();
    Ok(json!({
        "name": f.name, "enabled": f.enabled == "1", "environment": f.environment.trim(),
        "frequency": number(&f.frequency, "The action interval")?,
        "actionMatch": if f.action_match == "any" { "any" } else { "all" },
        "conditions": conditions, "filters": filters, "actions": actions,
    }))
}

/// `GET /settings/{org}/projects/{project}/alerts/`.
pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((org, slug)): Path<(String, String)>,
) -> WebResult<AlertsPage> {
    let (nav, project, base) = scope(&state, &user, &org, &slug).await?;
    let fired = state.store.alert_rules_last_fired(project.id).await?;
    let now = Millis::now();
    let mut rules = Vec::new();
    for row in state.store.list_alert_rules(project.id).await? {
        let last_fired = fired.iter().find(|(id, _)| *id == row.id).map(|(_, at)| ago(*at, now));
        match Rule::from_row(&row) {
            Ok(rule) => rules.push(RuleLine {
                id: row.id,
                name: row.name.clone(),
                enabled: row.enabled,
                summary: summary(&rule),
                last_fired,
            }),
            Err(err) => tracing::error!(rule.id = row.id, error = %err, "stored alert rule does not parse"),
        }
    }
    Ok(AlertsPage { nav, project, tab: "alerts", base, rules })
}

/// `?tested=1` / `?saved=1` after a post.
#[derive(Debug, Default, Deserialize)]
pub struct Notice {
    #[serde(default)]
    notice: String,
}

fn page(nav: Nav, project: Project, base: String, rule_id: Option<i64>, form: AlertForm) -> AlertPage {
    AlertPage {
        nav,
        project,
        tab: "alerts",
        base,
        rule_id,
        form,
        problem: None,
        notice: String::new(),
        lossy: false,
        deliveries: Vec::new(),
        frequencies: FREQUENCIES.to_vec(),
        intervals: INTERVALS.to_vec(),
    }
}

/// `GET …/alerts/new/`: an empty form (a new-issue rule, enabled, every 30 minutes).
pub async fn new_form(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((org, slug)): Path<(String, String)>,
) -> WebResult<AlertPage> {
    let (nav, project, base) = scope(&state, &user, &org, &slug).await?;
    let form = AlertForm {
        enabled: "1".into(),
        first_seen: "1".into(),
        frequency: "30".into(),
        action_match: "any".into(),
        ..AlertForm::default()
    };
    Ok(page(nav, project, base, None, form))
}

/// `GET …/alerts/{rule_id}/`: the rule's form and delivery log.
pub async fn edit_form(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((org, slug, rule_id)): Path<(String, String, String)>,
    Query(q): Query<Notice>,
) -> WebResult<AlertPage> {
    let (nav, project, base) = scope(&state, &user, &org, &slug).await?;
    let (row, rule) = own_rule(&state, &project, &rule_id).await?;
    let form = form_of(&rule);
    // Rules made through the API may use what the form cannot show (several tag filters, other
    // comparisons, filterMatch any/none): say so rather than drop them silently on save.
    let lossy = body_of(&form).ok().and_then(|b| Rule::from_api(&b, Some(&rule)).ok()).is_none_or(|r| r != rule);
    let mut page = page(nav, project, base, Some(row.id), form);
    page.lossy = lossy;
    page.deliveries = state
        .store
        .list_alert_deliveries(row.id, 50)
        .await?
        .into_iter()
        .map(|d| DeliveryLine {
            at: datetime(d.attempted_at),
            issue_id: d.issue_id,
            status: d.status,
            http_status: d.http_status,
            error: d.error.unwrap_or_default(),
        })
        .collect();
    page.notice = match q.notice.as_str() {
        "saved" => "Saved.",
        "tested" => "Test message sent.",
        _ => "",
    }
    .to_owned();
    Ok(page)
}

/// `POST …/alerts/new/` and `POST …/alerts/{rule_id}/`: create or replace a rule (admins).
async fn save(
    state: &AppState,
    user: &CurrentUser,
    org: &str,
    slug: &str,
    rule_id: Option<&str>,
    form: AlertForm,
) -> WebResult<Response> {
    user.require_admin()?;
    let (nav, project, base) = scope(state, user, org, slug).await?;
    let existing = match rule_id {
        Some(id) => Some(own_rule(state, &project, id).await?),
        None => None,
    };
    let checked = match body_of(&form) {
        Ok(body) => check_rule(state, &body, existing.as_ref().map(|(_, r)| r)).await,
        Err(problem) => Err(problem),
    };
    let rule = match checked {
        Ok(rule) => rule,
        Err(problem) => {
            let mut page = page(nav, project, base, existing.as_ref().map(|(row, _)| row.id), form);
            page.problem = Some(problem);
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    let row = match existing {
        Some((row, _)) => state.store.update_alert_rule(row.id, &rule.to_write(), Millis::now()).await?,
        None => state.store.create_alert_rule(project.id, &rule.to_write(), Millis::now()).await?,
    };
    tracing::info!(project.id = project.id, rule.id = row.id, user.id = user.user.id, "alert rule saved in the UI");
    Ok(see_other(&format!("{base}alerts/{}/?notice=saved", row.id)))
}

/// `POST …/alerts/new/`.
pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((org, slug)): Path<(String, String)>,
    Form(form): Form<AlertForm>,
) -> WebResult<Response> {
    save(&state, &user, &org, &slug, None, form).await
}

/// `POST …/alerts/{rule_id}/`.
pub async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((org, slug, rule_id)): Path<(String, String, String)>,
    Form(form): Form<AlertForm>,
) -> WebResult<Response> {
    save(&state, &user, &org, &slug, Some(&rule_id), form).await
}

/// `POST …/alerts/{rule_id}/delete/`.
pub async fn delete(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((org, slug, rule_id)): Path<(String, String, String)>,
) -> WebResult<Response> {
    user.require_admin()?;
    let (_, project, base) = scope(&state, &user, &org, &slug).await?;
    let (row, _) = own_rule(&state, &project, &rule_id).await?;
    state.store.delete_alert_rule(row.id).await?;
    Ok(see_other(&format!("{base}alerts/")))
}

/// `POST …/alerts/{rule_id}/test/`: send a test message to each webhook now (logged).
pub async fn test(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((org, slug, rule_id)): Path<(String, String, String)>,
) -> WebResult<Response> {
    user.require_admin()?;
    let (_, project, base) = scope(&state, &user, &org, &slug).await?;
    let (row, rule) = own_rule(&state, &project, &rule_id).await?;
    let outcomes = deliver_test(&state, &project, &row, &rule).await?;
    let failures: Vec<String> =
        outcomes.iter().filter_map(|o| o.error.as_ref().map(|e| format!("{}: {e}", o.webhook))).collect();
    if !failures.is_empty() {
        return Err(WebError::BadRequest(format!("The test message was not delivered: {}", failures.join("; "))));
    }
    Ok(see_other(&format!("{base}alerts/{}/?notice=tested", row.id)))
}
