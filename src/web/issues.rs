//! `GET /organizations/{org}/issues/`: the issue stream, per project or across the projects the user
//! can see, and `POST …/issues/bulk/` for its bulk actions.
//!
//! Search is Sentry's syntax through [`crate::search::parse`] (the same parser as the API); the
//! environment and time-range selectors add filters on top. One list query (indexed by project and
//! sort column), one query for all rows' sparklines (`issue_hourly`), one for bookmarks: the page's
//! cost does not grow with the number of events stored.

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, RawForm, State};
use axum::response::Response;
use serde::Deserialize;

use super::format::{ago, compact, datetime, q};
use super::session::CurrentUser;
use super::{Nav, OrgScope, WebError, WebResult, charts, see_other};
use crate::app::AppState;
use crate::store::{
    Cmp, IgnoreCondition, Issue, IssueFilter, IssueQuery, IssueSort, IssueUpdate, Millis, StatusChange,
};

/// Issues per page.
pub const PAGE_SIZE: i64 = 25;

/// Query parameters of the stream (Sentry's names).
#[derive(Debug, Default, Deserialize)]
pub struct StreamParams {
    /// Project slug; empty: every visible project.
    #[serde(default)]
    pub project: String,
    /// Search text; absent: `is:unresolved`.
    pub query: Option<String>,
    /// `date` (last seen), `new` (first seen), `freq` (events), `user` (users), `trends`.
    #[serde(default)]
    pub sort: String,
    /// Environment name; empty: all.
    #[serde(default)]
    pub environment: String,
    /// Time range: `1h`, `24h`, `7d`, `14d`, `30d`, `90d`; empty: all time.
    #[serde(default, rename = "statsPeriod")]
    pub stats_period: String,
    /// Rows to skip.
    #[serde(default)]
    pub cursor: i64,
}

/// One row of the stream.
pub struct Row {
    /// The issue.
    pub issue: Issue,
    /// `WEB-3F`.
    pub short_id: String,
    /// Project slug.
    pub project: String,
    /// The 24-hour sparkline (SVG built from numbers only).
    pub sparkline: String,
    /// The assignee's e-mail.
    pub assignee: Option<String>,
    /// Bookmarked by the viewer.
    pub bookmarked: bool,
    /// `3h ago` for first and last seen, and their full times.
    pub first_seen: String,
    /// Relative last seen.
    pub last_seen: String,
    /// Absolute first seen.
    pub first_seen_at: String,
    /// Absolute last seen.
    pub last_seen_at: String,
    /// Compact counts.
    pub events: String,
    /// Compact users.
    pub users: String,
}

/// The stream page.
#[derive(Template, WebTemplate)]
#[template(path = "issues.html")]
pub struct StreamPage {
    nav: Nav,
    params: StreamParams,
    query: String,
    error: Option<String>,
    projects: Vec<String>,
    environments: Vec<String>,
    rows: Vec<Row>,
    users: Vec<(i64, String)>,
    prev: Option<String>,
    next: Option<String>,
    return_to: String,
    first_row: i64,
}

impl StreamPage {
    /// The stream URL with one parameter replaced (for sort links and selectors).
    fn with(&self, key: &str, value: &str) -> String {
        let p = &self.params;
        let mut pairs = vec![
            ("project", p.project.as_str()),
            ("query", self.query.as_str()),
            ("sort", p.sort.as_str()),
            ("environment", p.environment.as_str()),
            ("statsPeriod", p.stats_period.as_str()),
        ];
        for pair in &mut pairs {
            if pair.0 == key {
                pair.1 = value;
            }
        }
        stream_url(&self.nav.org, &pairs, 0)
    }
}

fn stream_url(org: &str, pairs: &[(&str, &str)], cursor: i64) -> String {
    let mut url = format!("/organizations/{org}/issues/?");
    let mut first = true;
    for (k, v) in pairs {
        if v.is_empty() && *k != "query" {
            continue;
        }
        if !first {
            url.push('&');
        }
        first = false;
        url.push_str(k);
        url.push('=');
        url.push_str(&q(v));
    }
    if cursor > 0 {
        url.push_str(&format!("&cursor={cursor}"));
    }
    url
}

fn sort_of(name: &str) -> IssueSort {
    match name {
        "new" => IssueSort::FirstSeen,
        "freq" => IssueSort::Events,
        "user" => IssueSort::Users,
        "trends" => IssueSort::Trend,
        _ => IssueSort::LastSeen,
    }
}

fn period_secs(name: &str) -> Option<i64> {
    match name {
        "1h" => Some(3600),
        "24h" => Some(86_400),
        "7d" => Some(7 * 86_400),
        "14d" => Some(14 * 86_400),
        "30d" => Some(30 * 86_400),
        "90d" => Some(90 * 86_400),
        _ => None,
    }
}

/// `GET /organizations/{org}/issues/`.
pub async fn stream(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(org): Path<String>,
    Query(params): Query<StreamParams>,
) -> WebResult<StreamPage> {
    let scope = OrgScope::load(&state, &user, &org).await?;
    let now = Millis::now();
    let query = params.query.clone().unwrap_or_else(|| "is:unresolved".to_owned());
    let (mut filters, error) = match crate::search::parse_at(&query, now) {
        Ok(filters) => (filters, None),
        Err(e) => (Vec::new(), Some(e.to_string())),
    };
    let mut project_id = 0;
    if params.project.is_empty() {
        filters.push(IssueFilter::Projects(scope.project_ids()));
    } else {
        project_id = scope.project(&params.project)?.id;
    }
    if !params.environment.is_empty() {
        filters.push(IssueFilter::Tag { key: "environment".to_owned(), value: params.environment.clone() });
    }
    if let Some(secs) = period_secs(&params.stats_period) {
        filters.push(IssueFilter::LastSeen(Cmp::Ge, now.plus_secs(-secs)));
    }
    let offset = params.cursor.max(0);
    let mut issues = if error.is_some() {
        Vec::new()
    } else {
        state
            .store
            .list_issues(&IssueQuery {
                project_id,
                filters,
                sort: sort_of(&params.sort),
                limit: PAGE_SIZE + 1,
                offset,
                viewer_id: Some(user.user.id),
                now: Some(now),
            })
            .await?
    };
    let has_more = issues.len() as i64 > PAGE_SIZE;
    issues.truncate(PAGE_SIZE as usize);

    let ids: Vec<i64> = issues.iter().map(|i| i.id).collect();
    let mut hourly: HashMap<i64, Vec<(Millis, i64)>> = HashMap::new();
    for (issue, hour, count) in state.store.hourly_counts_of(&ids, now.plus_secs(-25 * 3600)).await? {
        hourly.entry(issue).or_default().push((hour, count));
    }
    let bookmarked = state.store.bookmarked_among(user.user.id, &ids).await?;
    let users: Vec<(i64, String)> = state.store.list_users().await?.into_iter().map(|u| (u.id, u.email)).collect();
    let rows = issues
        .into_iter()
        .map(|issue| {
            let project = scope.project_by_id(issue.project_id).map(|p| p.slug.clone()).unwrap_or_default();
            Row {
                short_id: crate::api::serialize::short_id(&project, issue.short_id),
                sparkline: charts::sparkline(hourly.get(&issue.id).map_or(&[][..], Vec::as_slice), now),
                assignee: issue.assignee_id.and_then(|a| users.iter().find(|u| u.0 == a)).map(|u| u.1.clone()),
                bookmarked: bookmarked.contains(&issue.id),
                first_seen: ago(issue.first_seen, now),
                last_seen: ago(issue.last_seen, now),
                first_seen_at: datetime(issue.first_seen),
                last_seen_at: datetime(issue.last_seen),
                events: compact(issue.times_seen),
                users: compact(issue.users_seen),
                project,
                issue,
            }
        })
        .collect();
    let mut environments: Vec<String> = state
        .store
        .list_environments(&scope.project_ids())
        .await?
        .into_iter()
        .filter(|e| !e.hidden)
        .map(|e| e.name)
        .collect();
    environments.dedup();
    let pairs = [
        ("project", params.project.as_str()),
        ("query", query.as_str()),
        ("sort", params.sort.as_str()),
        ("environment", params.environment.as_str()),
        ("statsPeriod", params.stats_period.as_str()),
    ];
    let prev = (offset > 0).then(|| stream_url(&org, &pairs, (offset - PAGE_SIZE).max(0)));
    let next = has_more.then(|| stream_url(&org, &pairs, offset + PAGE_SIZE));
    let return_to = stream_url(&org, &pairs, offset);
    Ok(StreamPage {
        nav: Nav::new(&user, &scope.org.slug, "issues"),
        projects: scope.projects.iter().map(|p| p.slug.clone()).collect(),
        environments,
        rows,
        users,
        prev,
        next,
        return_to,
        first_row: offset + 1,
        query,
        error,
        params,
    })
}

/// `POST /organizations/{org}/issues/bulk/`: `action` on the checked `id`s (or every row of the page
/// with `all=1`), then back to the stream.
pub async fn bulk(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(org): Path<String>,
    RawForm(body): RawForm,
) -> WebResult<Response> {
    let scope = OrgScope::load(&state, &user, &org).await?;
    let mut fields: HashMap<String, String> = HashMap::new();
    let mut checked = Vec::new();
    let mut page = Vec::new();
    for (k, v) in url::form_urlencoded::parse(&body) {
        match k.as_ref() {
            "id" => checked.push(v.into_owned()),
            "page_id" => page.push(v.into_owned()),
            _ => {
                fields.insert(k.into_owned(), v.into_owned());
            }
        }
    }
    let chosen = if fields.get("all").is_some_and(|v| v == "1") { page } else { checked };
    let mut ids = Vec::with_capacity(chosen.len());
    for id in chosen {
        let id: i64 = id.parse().map_err(|_| WebError::BadRequest("invalid issue id".to_owned()))?;
        let issue = state.store.find_issue(id).await?.ok_or_else(|| WebError::NotFound("No such issue.".into()))?;
        if scope.project_by_id(issue.project_id).is_none() {
            return Err(WebError::NotFound("No such issue.".into()));
        }
        ids.push(id);
    }
    let back = fields
        .get("return_to")
        .filter(|r| r.starts_with(&format!("/organizations/{org}/issues/")))
        .cloned()
        .unwrap_or_else(|| format!("/organizations/{org}/issues/"));
    if ids.is_empty() {
        return Ok(see_other(&back));
    }
    let action = fields.get("action").map_or("", String::as_str);
    let actor = Some(user.user.id);
    let update = |status| IssueUpdate { status: Some(status), ..IssueUpdate::default() };
    match action {
        "resolve" => state.store.update_issues(&ids, &update(StatusChange::Resolved), actor).await?,
        "unresolve" => state.store.update_issues(&ids, &update(StatusChange::Unresolved), actor).await?,
        "ignore" => {
            state.store.update_issues(&ids, &update(StatusChange::Ignored(IgnoreCondition::default())), actor).await?
        }
        "bookmark" => {
            let change = IssueUpdate { bookmark: Some(true), ..IssueUpdate::default() };
            state.store.update_issues(&ids, &change, actor).await?;
        }
        "assign" => {
            let assignee = match fields.get("assignee").map_or("", String::as_str) {
                "" => None,
                id => Some(id.parse::<i64>().map_err(|_| WebError::BadRequest("invalid assignee".to_owned()))?),
            };
            let change = IssueUpdate { assignee: Some(assignee), ..IssueUpdate::default() };
            state.store.update_issues(&ids, &change, actor).await?;
        }
        "merge" => {
            if ids.len() < 2 {
                return Err(WebError::BadRequest("Select at least two issues to merge.".to_owned()));
            }
            state.store.merge_issues(&ids, actor).await.map_err(|e| match e {
                crate::store::StoreError::Conflict => {
                    WebError::BadRequest("Only issues of the same project can be merged.".to_owned())
                }
                other => other.into(),
            })?;
        }
        "delete" => {
            user.require_admin()?;
            state.store.delete_issues(&ids, false).await?;
        }
        other => return Err(WebError::BadRequest(format!("unknown action {other:?}"))),
    }
    Ok(see_other(&back))
}
