//! `GET /organizations/{org}/issues/{issue_id}/` (the latest event) and `…/events/{event_id}/`: the
//! issue header, its frequency chart (24 h or 30 d), tag distributions, events with latest / oldest /
//! previous / next, the event view, why the event is in the issue (its grouping, recomputed with the
//! project's rules, and the issue's hashes), the workflow actions and the activity log with comments; plus
//! `…/events/{event_id}/json/` to download the raw normalized event.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::event_view::{self, EventView};
use super::format::{ago, compact, datetime};
use super::grouping_view::{self, GroupingView};
use super::session::CurrentUser;
use super::{Nav, OrgScope, WebError, WebResult, charts};
use crate::app::AppState;
use crate::store::{EventNeighbors, Issue, IssueHash, Millis, Project, StoredEvent, TagTop};

const HOUR_MS: i64 = 3_600_000;

/// Page options.
#[derive(Debug, Default, Deserialize)]
pub struct PageParams {
    /// `30d` for the 30-day chart (default 24 h).
    #[serde(default)]
    pub period: String,
    /// `all` shows library frames too.
    #[serde(default)]
    pub frames: String,
}

/// One tag key with its top values: `(value, count, percent)`.
pub struct TagSummary {
    /// Tag key.
    pub key: String,
    /// Events with the key.
    pub total: i64,
    /// Top values.
    pub values: Vec<(String, i64, i64)>,
}

/// One line of the activity log.
pub struct ActivityLine {
    /// Who (or "Faultline").
    pub who: String,
    /// What, in words.
    pub what: String,
    /// Comment text, for notes.
    pub note: Option<String>,
    /// When.
    pub when: String,
    /// Absolute time.
    pub at: String,
}

/// One alert rule's latest verdict on the issue, for the Alerts panel.
pub struct AlertLine {
    /// The rule's name.
    pub name: String,
    /// `fired`, `not fired`, `not evaluated` or `disabled`.
    pub status: &'static str,
    /// Why (the evaluator's reason).
    pub reason: String,
    /// When it last fired for this issue, relative.
    pub last_fired: Option<String>,
}

/// The issue page.
#[derive(Template, WebTemplate)]
#[template(path = "issue.html")]
pub struct IssuePage {
    nav: Nav,
    issue: Issue,
    project: Project,
    short_id: String,
    status_note: String,
    first_seen: String,
    last_seen: String,
    first_seen_at: String,
    last_seen_at: String,
    events_count: String,
    users_count: String,
    assignee: Option<String>,
    bookmarked: bool,
    users: Vec<(i64, String, bool)>,
    chart: String,
    period: String,
    tags: Vec<TagSummary>,
    recent: Vec<(String, String, String, String)>,
    event: Option<StoredEvent>,
    event_time: String,
    nav_events: EventNeighbors,
    view: EventView,
    all_frames: bool,
    activity: Vec<ActivityLine>,
    grouping: Option<GroupingView>,
    hashes: Vec<IssueHash>,
    alerts: Vec<AlertLine>,
    base: String,
}

impl IssuePage {
    fn event_url(&self, id: &str) -> String {
        format!("{}events/{id}/", self.base)
    }
}

async fn load_issue(state: &AppState, user: &CurrentUser, org: &str, issue_id: &str) -> WebResult<(OrgScope, Issue)> {
    let scope = OrgScope::load(state, user, org).await?;
    let missing = || WebError::NotFound("There is no such issue, or you cannot see it.".to_owned());
    let id: i64 = issue_id.parse().map_err(|_| missing())?;
    let issue = state.store.find_issue(id).await?.ok_or_else(missing)?;
    if scope.project_by_id(issue.project_id).is_none() {
        return Err(missing());
    }
    Ok((scope, issue))
}

/// Load an issue the user may see (for the action handlers too).
pub async fn visible_issue(state: &AppState, user: &CurrentUser, org: &str, issue_id: &str) -> WebResult<Issue> {
    Ok(load_issue(state, user, org, issue_id).await?.1)
}

/// `GET /organizations/{org}/issues/{issue_id}/`.
pub async fn latest(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((org, issue_id)): Path<(String, String)>,
    Query(params): Query<PageParams>,
) -> WebResult<IssuePage> {
    render(&state, &user, &org, &issue_id, None, params).await
}

/// `GET /organizations/{org}/issues/{issue_id}/events/{event_id}/`.
pub async fn event(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((org, issue_id, event_id)): Path<(String, String, String)>,
    Query(params): Query<PageParams>,
) -> WebResult<IssuePage> {
    render(&state, &user, &org, &issue_id, Some(&event_id), params).await
}

/// `GET …/events/{event_id}/json/`: the stored, normalized event as a JSON download.
pub async fn raw_json(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((org, issue_id, event_id)): Path<(String, String, String)>,
) -> WebResult<Response> {
    let (_, issue) = load_issue(&state, &user, &org, &issue_id).await?;
    let event = find_event(&state, &issue, &event_id).await?;
    let payload = state.store.payload_json(&event.payload).await?;
    let body = serde_json::to_vec_pretty(&payload).map_err(|e| WebError::Internal(e.into()))?;
    let disposition = format!("attachment; filename=\"event-{}.json\"", event.event_id);
    Ok((
        [
            (header::CONTENT_TYPE, "application/json".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        ],
        body,
    )
        .into_response())
}

async fn find_event(state: &AppState, issue: &Issue, event_id: &str) -> WebResult<StoredEvent> {
    let missing = || WebError::NotFound("This issue has no such event.".to_owned());
    let id: crate::protocol::EventId = event_id.parse().map_err(|_| missing())?;
    let event = state.store.find_event(issue.project_id, &id.to_string()).await?.ok_or_else(missing)?;
    if event.issue_id != Some(issue.id) {
        return Err(missing());
    }
    Ok(event)
}

async fn render(
    state: &AppState,
    user: &CurrentUser,
    org: &str,
    issue_id: &str,
    event_id: Option<&str>,
    params: PageParams,
) -> WebResult<IssuePage> {
    let (scope, issue) = load_issue(state, user, org, issue_id).await?;
    let project = scope.project_by_id(issue.project_id).cloned().ok_or_else(|| WebError::NotFound(String::new()))?;
    let now = Millis::now();
    let store = &state.store;
    let event = match event_id {
        Some(id) => Some(find_event(state, &issue, id).await?),
        None => store.list_issue_events(issue.id, 1, 0).await?.pop(),
    };
    let all_frames = params.frames == "all";
    let hashes = store.list_issue_hashes(issue.id).await?;
    let (view, nav_events, grouping) = match &event {
        Some(e) => {
            let payload = store.payload_json(&e.payload).await?;
            let config = state.grouping.get(store, issue.project_id).await?;
            let issue_hashes: Vec<String> = hashes.iter().map(|h| h.hash.clone()).collect();
            let grouping = grouping_view::explain(&payload, &config, &issue_hashes);
            (event_view::build(&payload, all_frames), store.event_neighbors(issue.id, e).await?, Some(grouping))
        }
        None => (EventView::default(), EventNeighbors::default(), None),
    };
    let thirty = params.period == "30d";
    let chart = if thirty {
        let hourly = store.issue_hourly_counts(issue.id, now.plus_secs(-31 * 86_400)).await?;
        let counts = charts::bucketize(&hourly, now, 30, 24 * HOUR_MS);
        let day0 = now.0 - now.0.rem_euclid(24 * HOUR_MS) - 29 * 24 * HOUR_MS;
        let buckets: Vec<(String, i64)> = counts
            .into_iter()
            .enumerate()
            .map(|(i, c)| (datetime(Millis(day0 + i as i64 * 24 * HOUR_MS))[..10].to_owned(), c))
            .collect();
        charts::bars(&buckets)
    } else {
        let hourly = store.issue_hourly_counts(issue.id, now.plus_secs(-25 * 3600)).await?;
        let counts = charts::bucketize(&hourly, now, 24, HOUR_MS);
        let hour0 = now.0 - now.0.rem_euclid(HOUR_MS) - 23 * HOUR_MS;
        let buckets: Vec<(String, i64)> = counts
            .into_iter()
            .enumerate()
            .map(|(i, c)| (datetime(Millis(hour0 + i as i64 * HOUR_MS))[..16].to_owned(), c))
            .collect();
        charts::bars(&buckets)
    };
    let tags = summarize_tags(store.issue_tag_tops(issue.id, 5).await?);
    let base = format!("/organizations/{org}/issues/{}/", issue.id);
    let recent = store
        .list_issue_events(issue.id, 15, 0)
        .await?
        .into_iter()
        .map(|e| {
            (
                e.event_id.clone(),
                ago(e.timestamp, now),
                e.release.unwrap_or_default(),
                e.environment.unwrap_or_default(),
            )
        })
        .collect();
    let users: Vec<(i64, String)> = store.list_users().await?.into_iter().map(|u| (u.id, u.email)).collect();
    let activity = store
        .list_activity(issue.id)
        .await?
        .into_iter()
        .map(|a| {
            let data: serde_json::Value = serde_json::from_str(&a.data).unwrap_or_default();
            let (what, note) = describe(&a.kind, &data);
            ActivityLine {
                who: a
                    .user_email
                    .unwrap_or_else(|| if a.user_id.is_some() { "A removed user" } else { "Faultline" }.to_owned()),
                what,
                note,
                when: ago(a.created_at, now),
                at: datetime(a.created_at),
            }
        })
        .collect();
    let alerts = store
        .issue_rule_statuses(issue.id)
        .await?
        .into_iter()
        .map(|s| AlertLine {
            status: match (s.enabled, s.fired) {
                (false, _) => "disabled",
                (true, None) => "not evaluated",
                (true, Some(true)) => "fired",
                (true, Some(false)) => "not fired",
            },
            name: s.rule_name,
            reason: s.reason.unwrap_or_default(),
            last_fired: s.last_fired_at.map(|t| ago(t, now)),
        })
        .collect();
    Ok(IssuePage {
        nav: Nav::new(user, &scope.org.slug, "issues"),
        short_id: crate::api::serialize::short_id(&project.slug, issue.short_id),
        status_note: status_note(&issue, now),
        first_seen: ago(issue.first_seen, now),
        last_seen: ago(issue.last_seen, now),
        first_seen_at: datetime(issue.first_seen),
        last_seen_at: datetime(issue.last_seen),
        events_count: compact(issue.times_seen),
        users_count: compact(issue.users_seen),
        assignee: issue.assignee_id.and_then(|a| users.iter().find(|u| u.0 == a)).map(|u| u.1.clone()),
        bookmarked: store.is_bookmarked(issue.id, user.user.id).await?,
        users: users.into_iter().map(|(id, email)| (id, email, issue.assignee_id == Some(id))).collect(),
        chart,
        period: if thirty { "30d" } else { "24h" }.to_owned(),
        tags,
        recent,
        event_time: event.as_ref().map(|e| datetime(e.timestamp)).unwrap_or_default(),
        event,
        nav_events,
        view,
        all_frames,
        activity,
        grouping,
        hashes,
        alerts,
        base,
        issue,
        project,
    })
}

fn summarize_tags(tops: Vec<TagTop>) -> Vec<TagSummary> {
    let mut out: Vec<TagSummary> = Vec::new();
    for t in tops {
        let percent = if t.total > 0 { t.count * 100 / t.total } else { 0 };
        match out.last_mut() {
            Some(last) if last.key == t.key => last.values.push((t.value, t.count, percent)),
            _ => out.push(TagSummary { key: t.key, total: t.total, values: vec![(t.value, t.count, percent)] }),
        }
    }
    out
}

/// "Resolved in the next release (after 1.2)", "Ignored until 100 events", ….
fn status_note(issue: &Issue, now: Millis) -> String {
    match issue.status.as_str() {
        "resolved" => match (issue.resolved_mode.as_deref(), issue.resolved_release.as_deref()) {
            (Some("next"), Some(r)) => format!("Resolved in the next release after {r}"),
            (Some(_), Some(r)) => format!("Resolved in release {r}"),
            _ => "Resolved".to_owned(),
        },
        "ignored" => {
            let mut until = Vec::new();
            if let Some(t) = issue.ignore_until {
                until.push(format!("until {} ({})", datetime(t), ago(t, now)));
            }
            if let Some(c) = issue.ignore_count {
                until.push(format!("until {} more events", (c - issue.times_seen).max(0)));
            }
            if let Some(u) = issue.ignore_users {
                until.push(format!("until {} more users", (u - issue.users_seen).max(0)));
            }
            if until.is_empty() { "Ignored forever".to_owned() } else { format!("Ignored {}", until.join(" or ")) }
        }
        _ => match issue.substatus.as_deref() {
            Some("regressed") => "Unresolved — regressed".to_owned(),
            Some("escalating") => "Unresolved — escalating after being ignored".to_owned(),
            Some("new") => "Unresolved — new".to_owned(),
            _ => "Unresolved".to_owned(),
        },
    }
}

/// An activity entry in words; notes also return their text.
fn describe(kind: &str, data: &serde_json::Value) -> (String, Option<String>) {
    let s = |k: &str| data.get(k).and_then(serde_json::Value::as_str).unwrap_or_default().to_owned();
    let what = match kind {
        "note" => return ("commented".to_owned(), Some(s("text"))),
        "set_resolved" => "resolved the issue".to_owned(),
        "set_resolved_in_release" if data.get("inNextRelease").is_some() => {
            "resolved the issue in the next release".to_owned()
        }
        "set_resolved_in_release" => format!("resolved the issue in release {}", s("version")),
        "set_unresolved" => "marked the issue unresolved".to_owned(),
        "set_ignored" => "ignored the issue".to_owned(),
        "set_escalating" => "brought the ignored issue back: its ignore condition was met".to_owned(),
        "set_regression" => match data.get("version").and_then(serde_json::Value::as_str) {
            Some(v) => format!("marked the issue as a regression (new event in release {v})"),
            None => "marked the issue as a regression (new event after it was resolved)".to_owned(),
        },
        "assigned" => format!("assigned the issue to {}", s("assignee")),
        "unassigned" => "unassigned the issue".to_owned(),
        "merge" => format!(
            "merged {} issue(s) into this one",
            data.get("issues").and_then(|v| v.as_array()).map_or(0, Vec::len)
        ),
        "unmerge" => format!(
            "unmerged hash {} ({} event(s)) into issue #{}",
            s("hash"),
            data.get("events").and_then(serde_json::Value::as_i64).unwrap_or(0),
            data.get("issue").and_then(serde_json::Value::as_i64).unwrap_or(0)
        ),
        "unmerged_from" => format!(
            "split this issue off issue #{} (hash {})",
            data.get("issue").and_then(serde_json::Value::as_i64).unwrap_or(0),
            s("hash")
        ),
        other => other.replace('_', " "),
    };
    (what, None)
}
