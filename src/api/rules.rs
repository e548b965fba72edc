//! Issue alert rules, shaped like Sentry's (see `notify::rules` for the JSON).
//!
//! ```text
//! GET|POST       /api/0/projects/{org}/{project}/rules/
//! GET|PUT|DELETE /api/0/projects/{org}/{project}/rules/{rule_id}/
//! POST           /api/0/projects/{org}/{project}/rules/{rule_id}/test/        send a test message now
//! GET            /api/0/projects/{org}/{project}/rules/{rule_id}/deliveries/  the delivery log
//! GET            /api/0/issues/{issue_id}/rules/                              which rules fired for it, and why
//! ```
//!
//! Webhook URLs are secrets: responses show them masked (`…/services/T0/B0/****`), and a `PUT` that sends
//! a masked value back keeps the stored URL. New webhooks must not point at internal addresses unless
//! `allow_private_webhooks` is set. Reading needs `project:read` (or `alerts:read`), changing
//! `project:write` (or `alerts:write`); either needs a project the token's user may see (a member, or
//! an admin), else the answer is 404 as for a project that does not exist.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::auth::ApiUser;
use super::{ApiError, ApiResult};
use crate::app::AppState;
use crate::notify::rules::{Rule, mask_webhook};
use crate::notify::{slack, ssrf};
use crate::store::{AlertRuleRow, Millis, NewDelivery, Project};

fn require(user: &ApiUser, level: &str) -> ApiResult<()> {
    user.require("project", level).or_else(|_| user.require("alerts", level))
}

async fn rule_of(state: &AppState, project: &Project, rule_id: &str) -> ApiResult<(AlertRuleRow, Rule)> {
    let id: i64 = rule_id.parse().map_err(|_| ApiError::NotFound)?;
    let row =
        state.store.find_alert_rule(id).await?.filter(|r| r.project_id == project.id).ok_or(ApiError::NotFound)?;
    let rule = Rule::from_row(&row).map_err(|e| ApiError::BadRequest(format!("stored rule is invalid: {e}")))?;
    Ok((row, rule))
}

/// Check a rule object as the API and the web UI's alert forms receive it: a valid rule whose new
/// webhooks may be reached (`previous` is the stored rule being replaced; its webhooks were checked).
pub async fn check_rule(state: &AppState, value: &Value, previous: Option<&Rule>) -> Result<Rule, String> {
    let rule = Rule::from_api(value, previous).map_err(|e| e.to_string())?;
    for webhook in rule.webhooks() {
        let kept = previous.is_some_and(|p| p.webhooks().any(|w| w == webhook));
        if !kept && let Err(err) = ssrf::check_url(webhook, state.config.allow_private_webhooks).await {
            return Err(format!("slack_webhook: {err}"));
        }
    }
    Ok(rule)
}

/// Parse and check a body: valid rule, webhooks allowed.
async fn parse(state: &AppState, body: &[u8], previous: Option<&Rule>) -> ApiResult<Rule> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| ApiError::BadRequest(format!("invalid JSON body: {e}")))?;
    check_rule(state, &value, previous).await.map_err(ApiError::BadRequest)
}

/// One test message's outcome.
#[derive(Debug, Clone)]
pub struct TestOutcome {
    /// The webhook, masked.
    pub webhook: String,
    /// The HTTP status, if a response came.
    pub http_status: Option<i64>,
    /// What went wrong, if it did.
    pub error: Option<String>,
}

/// Send a test message to each of a rule's webhooks now, logging each attempt in its delivery log.
pub async fn deliver_test(
    state: &AppState,
    project: &Project,
    row: &AlertRuleRow,
    rule: &Rule,
) -> Result<Vec<TestOutcome>, crate::store::StoreError> {
    let payload = slack::test_message(project, &rule.name, &state.config.public_url()).to_string();
    let mut outcomes = Vec::new();
    for webhook in rule.webhooks() {
        let outcome = state.notifier.sender.post(webhook, &payload).await;
        let error = outcome.as_ref().err().map(ToString::to_string);
        let http_status = match &outcome {
            Ok(status) => Some(i64::from(*status)),
            Err(err) => err.http_status(),
        };
        state
            .store
            .record_delivery(&NewDelivery {
                rule_id: row.id,
                attempted_at: Millis::now(),
                status: if error.is_none() { "test" } else { "test_failed" }.to_owned(),
                http_status,
                error: error.clone(),
            })
            .await?;
        outcomes.push(TestOutcome { webhook: mask_webhook(webhook), http_status, error });
    }
    Ok(outcomes)
}

/// `GET /api/0/projects/{org}/{project}/rules/`.
pub async fn list(
    State(state): State<AppState>,
    user: ApiUser,
    Path((org, slug)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    require(&user, "read")?;
    let project = user.project(&state.store, &org, &slug).await?;
    let mut items = Vec::new();
    for row in state.store.list_alert_rules(project.id).await? {
        match Rule::from_row(&row) {
            Ok(rule) => items.push(rule.to_api(&row, &project.slug)),
            Err(err) => tracing::error!(rule.id = row.id, error = %err, "stored alert rule does not parse"),
        }
    }
    Ok(Json(Value::Array(items)))
}

/// `POST /api/0/projects/{org}/{project}/rules/`.
pub async fn create(
    State(state): State<AppState>,
    user: ApiUser,
    Path((org, slug)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult<Response> {
    require(&user, "write")?;
    let project = user.project(&state.store, &org, &slug).await?;
    let rule = parse(&state, &body, None).await?;
    let row = state.store.create_alert_rule(project.id, &rule.to_write(), Millis::now()).await?;
    tracing::info!(project.id = project.id, rule.id = row.id, "alert rule created");
    Ok((StatusCode::CREATED, Json(rule.to_api(&row, &project.slug))).into_response())
}

/// `GET /api/0/projects/{org}/{project}/rules/{rule_id}/`.
pub async fn show(
    State(state): State<AppState>,
    user: ApiUser,
    Path((org, slug, rule_id)): Path<(String, String, String)>,
) -> ApiResult<Json<Value>> {
    require(&user, "read")?;
    let project = user.project(&state.store, &org, &slug).await?;
    let (row, rule) = rule_of(&state, &project, &rule_id).await?;
    Ok(Json(rule.to_api(&row, &project.slug)))
}

/// `PUT /api/0/projects/{org}/{project}/rules/{rule_id}/`: replace the rule.
pub async fn update(
    State(state): State<AppState>,
    user: ApiUser,
    Path((org, slug, rule_id)): Path<(String, String, String)>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    require(&user, "write")?;
    let project = user.project(&state.store, &org, &slug).await?;
    let (row, previous) = rule_of(&state, &project, &rule_id).await?;
    let rule = parse(&state, &body, Some(&previous)).await?;
    let row = state.store.update_alert_rule(row.id, &rule.to_write(), Millis::now()).await?;
    Ok(Json(rule.to_api(&row, &project.slug)))
}

/// `DELETE /api/0/projects/{org}/{project}/rules/{rule_id}/`.
pub async fn delete(
    State(state): State<AppState>,
    user: ApiUser,
    Path((org, slug, rule_id)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    require(&user, "write")?;
    let project = user.project(&state.store, &org, &slug).await?;
    let (row, _) = rule_of(&state, &project, &rule_id).await?;
    state.store.delete_alert_rule(row.id).await?;
    Ok(StatusCode::ACCEPTED.into_response())
}

/// `POST …/rules/{rule_id}/test/`: send a test message to each webhook now; each attempt is logged.
pub async fn send_test(
    State(state): State<AppState>,
    user: ApiUser,
    Path((org, slug, rule_id)): Path<(String, String, String)>,
) -> ApiResult<Json<Value>> {
    require(&user, "write")?;
    let project = user.project(&state.store, &org, &slug).await?;
    let (row, rule) = rule_of(&state, &project, &rule_id).await?;
    let outcomes = deliver_test(&state, &project, &row, &rule).await?;
    let failures: Vec<String> =
        outcomes.iter().filter_map(|o| o.error.as_ref().map(|e| format!("{}: {e}", o.webhook))).collect();
    if !failures.is_empty() {
        return Err(ApiError::BadRequest(format!("test message not delivered: {}", failures.join("; "))));
    }
    let results: Vec<Value> = outcomes
        .iter()
        .map(|o| json!({"webhook": o.webhook, "status": "sent", "httpStatus": o.http_status, "error": null}))
        .collect();
    Ok(Json(json!({"results": results})))
}

/// `GET …/rules/{rule_id}/deliveries/`: the latest 100 attempts, newest first.
pub async fn deliveries(
    State(state): State<AppState>,
    user: ApiUser,
    Path((org, slug, rule_id)): Path<(String, String, String)>,
) -> ApiResult<Json<Value>> {
    require(&user, "read")?;
    let project = user.project(&state.store, &org, &slug).await?;
    let (row, _) = rule_of(&state, &project, &rule_id).await?;
    let items: Vec<Value> = state
        .store
        .list_alert_deliveries(row.id, 100)
        .await?
        .iter()
        .map(|d| {
            json!({"id": d.id.to_string(), "dateAttempted": d.attempted_at.to_rfc3339(),
                   "issueId": d.issue_id.map(|i| i.to_string()), "attempt": d.attempt, "status": d.status,
                   "httpStatus": d.http_status, "error": d.error})
        })
        .collect();
    Ok(Json(Value::Array(items)))
}

/// `GET /api/0/issues/{issue_id}/rules/`: every rule of the issue's project, and its latest verdict.
pub async fn issue_rules(
    State(state): State<AppState>,
    user: ApiUser,
    Path(issue_id): Path<String>,
) -> ApiResult<Json<Value>> {
    require(&user, "read")?;
    let (issue, _) = user.issue(&state.store, &issue_id, None).await?;
    let items: Vec<Value> = state
        .store
        .issue_rule_statuses(issue.id)
        .await?
        .iter()
        .map(|s| {
            let status = match (s.enabled, s.fired) {
                (false, _) => "disabled",
                (true, None) => "not_evaluated",
                (true, Some(true)) => "fired",
                (true, Some(false)) => "not_fired",
            };
            json!({"ruleId": s.rule_id.to_string(), "ruleName": s.rule_name, "status": status, "reason": s.reason,
                   "dateEvaluated": s.evaluated_at.map(Millis::to_rfc3339),
                   "lastFired": s.last_fired_at.map(Millis::to_rfc3339)})
        })
        .collect();
    Ok(Json(Value::Array(items)))
}
