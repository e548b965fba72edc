//! Issue lists: one project's, or an organization's across the projects the token's user may see.
//!
//! ```text
//! GET /api/0/projects/{org}/{project}/issues/?query=&sort=&cursor=&limit=
//! GET /api/0/organizations/{org}/issues/?project=ID&project=ID&query=&sort=&cursor=&limit=
//! ```
//!
//! Without `query`, Sentry's default `is:unresolved` applies. The organization's list covers every
//! project the user may see, or only the `project` ids named (`-1` means all, as in Sentry); naming a
//! project the user may not see is a 404, like naming one that does not exist. The `Link` header's
//! URLs keep the request's parameters, so following them pages through the same list.

use axum::extract::{Path, RawQuery, State};
use axum::response::Response;

use super::auth::ApiUser;
use super::issues::{DEFAULT_LIMIT, MAX_LIMIT};
use super::{ApiError, ApiResult, paginated, parse_cursor, serialize};
use crate::app::AppState;
use crate::store::{IssueFilter, IssueQuery, IssueSort, Project};

/// The parameters of both lists.
#[derive(Debug, Default)]
struct ListParams {
    query: Option<String>,
    sort: Option<String>,
    cursor: Option<String>,
    limit: Option<i64>,
    /// `project` ids (organization list only); empty: every visible project.
    projects: Vec<i64>,
    /// The parameters other than `cursor`, for the `Link` header.
    kept: Vec<(String, String)>,
}

impl ListParams {
    fn parse(raw: Option<&str>) -> ApiResult<Self> {
        let mut params = ListParams::default();
        for (key, value) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
            match key.as_ref() {
                "query" => params.query = Some(value.to_string()),
                "sort" => params.sort = Some(value.to_string()),
                "cursor" => {
                    params.cursor = Some(value.into_owned());
                    continue;
                }
                "limit" => {
                    let limit = value.parse().map_err(|_| ApiError::BadRequest(format!("invalid limit {value:?}")))?;
                    params.limit = Some(limit);
                }
                "project" => {
                    let id: i64 =
                        value.parse().map_err(|_| ApiError::BadRequest(format!("invalid project id {value:?}")))?;
                    if id != -1 {
                        params.projects.push(id);
                    }
                }
                _ => {}
            }
            params.kept.push((key.into_owned(), value.into_owned()));
        }
        Ok(params)
    }

    fn sort(&self) -> ApiResult<IssueSort> {
        Ok(match self.sort.as_deref().unwrap_or("date") {
            "date" | "priority" => IssueSort::LastSeen,
            "trends" | "trend" => IssueSort::Trend,
            "new" => IssueSort::FirstSeen,
            "freq" => IssueSort::Events,
            "user" => IssueSort::Users,
            other => {
                return Err(ApiError::BadRequest(format!(
                    "unsupported sort {other:?} (use date, new, freq, user or trends)"
                )));
            }
        })
    }

    /// `path` with the kept parameters, as the base of the `Link` URLs.
    fn link_base(&self, path: String) -> String {
        if self.kept.is_empty() {
            return path;
        }
        let query: String = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(&self.kept).finish();
        format!("{path}?{query}")
    }
}

/// `GET /api/0/projects/{org}/{project}/issues/`.
pub async fn list(
    State(state): State<AppState>,
    user: ApiUser,
    Path((org, slug)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    user.require("event", "read")?;
    let project = user.project(&state.store, &org, &slug).await?;
    let params = ListParams::parse(raw.as_deref())?;
    let base = params.link_base(format!("{}/api/0/projects/{org}/{slug}/issues/", state.config.public_url()));
    page(&state, &user, &[project], &params, &base).await
}

/// `GET /api/0/organizations/{org}/issues/`: across the projects the user may see.
pub async fn org_list(
    State(state): State<AppState>,
    user: ApiUser,
    Path(org): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    user.require("event", "read")?;
    let org = state.store.find_organization(&org).await?.ok_or(ApiError::NotFound)?;
    let mut projects = user.projects(&state.store, &org).await?;
    let params = ListParams::parse(raw.as_deref())?;
    if !params.projects.is_empty() {
        if params.projects.iter().any(|id| !projects.iter().any(|p| p.id == *id)) {
            return Err(ApiError::NotFound);
        }
        projects.retain(|p| params.projects.contains(&p.id));
    }
    let base = params.link_base(format!("{}/api/0/organizations/{}/issues/", state.config.public_url(), org.slug));
    page(&state, &user, &projects, &params, &base).await
}

/// One page of the issues of `projects` (all of them visible to the user).
async fn page(
    state: &AppState,
    user: &ApiUser,
    projects: &[Project],
    params: &ListParams,
    base: &str,
) -> ApiResult<Response> {
    let text = params.query.clone().unwrap_or_else(|| "is:unresolved".to_owned());
    let mut filters = crate::search::parse(&text).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let sort = params.sort()?;
    let limit = params.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let offset = parse_cursor(params.cursor.as_deref())?;
    let project_id = match projects {
        [one] => one.id,
        many => {
            filters.push(IssueFilter::Projects(many.iter().map(|p| p.id).collect()));
            0
        }
    };
    let query =
        IssueQuery { project_id, filters, sort, limit: limit + 1, offset, viewer_id: Some(user.user.id), now: None };
    let mut issues = state.store.list_issues(&query).await?;
    let has_more = issues.len() as i64 > limit;
    issues.truncate(limit as usize);
    let url = state.config.public_url();
    let users = state.store.list_users().await?;
    let ids: Vec<i64> = issues.iter().map(|i| i.id).collect();
    let bookmarked = state.store.bookmarked_among(user.user.id, &ids).await?;
    let items = issues
        .iter()
        .filter_map(|i| {
            let project = projects.iter().find(|p| p.id == i.project_id)?;
            let assignee = i.assignee_id.and_then(|a| users.iter().find(|u| u.id == a));
            Some(serialize::with_viewer(serialize::issue(i, project, &url), assignee, bookmarked.contains(&i.id)))
        })
        .collect();
    Ok(paginated(items, base, offset, limit, has_more))
}
