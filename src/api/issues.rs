//! Issues and their events (the lists are in [`super::issue_list`]).
//!
//! ```text
//! PUT  /api/0/projects/{org}/{project}/issues/?id=1&id=2              bulk update or {"merge": 1}
//! DELETE /api/0/projects/{org}/{project}/issues/?id=1&id=2            bulk delete
//! GET|PUT|DELETE /api/0/issues/{id}/    (also /api/0/organizations/{org}/issues/{id}/)
//! GET  /api/0/issues/{id}/events/, /api/0/issues/{id}/events/latest/
//! GET  /api/0/issues/{id}/tags/{key}/
//! GET  /api/0/projects/{org}/{project}/events/{event_id}/
//! ```
//!
//! Projects and issues are resolved through [`ApiUser::project`] and [`ApiUser::issue`], so an issue
//! of a project the user may not see is a 404; a bulk request names its issues by id, and every id
//! must be an issue of the project in the path, or nothing changes.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::ApiUser;
use super::issue_update::UpdateBody;
use super::{ApiError, ApiResult, paginated, parse_cursor, serialize};
use crate::app::AppState;
use crate::store::Project;

/// Page size when the request names none.
pub(super) const DEFAULT_LIMIT: i64 = 25;
/// The largest page.
pub(super) const MAX_LIMIT: i64 = 100;

/// The `?id=…` list of a bulk request, each checked to be an issue of `project`.
async fn bulk_ids(state: &AppState, project: &Project, query: Option<String>) -> ApiResult<Vec<i64>> {
    let ids: Vec<i64> = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .filter(|(k, _)| k == "id")
        .map(|(_, v)| v.parse::<i64>().map_err(|_| ApiError::BadRequest(format!("invalid issue id {v:?}"))))
        .collect::<Result<_, _>>()?;
    if ids.is_empty() {
        return Err(ApiError::BadRequest("name the issues to change with ?id=…".to_owned()));
    }
    for id in &ids {
        let issue = state.store.find_issue(*id).await?.ok_or(ApiError::NotFound)?;
        if issue.project_id != project.id {
            return Err(ApiError::NotFound);
        }
    }
    Ok(ids)
}

/// `PUT /api/0/projects/{org}/{project}/issues/?id=…`: change several issues, or merge them.
pub async fn bulk_update(
    State(state): State<AppState>,
    user: ApiUser,
    Path((org, slug)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    user.require("event", "write")?;
    let project = user.project(&state.store, &org, &slug).await?;
    let ids = bulk_ids(&state, &project, query).await?;
    let body = UpdateBody::parse(&body, &state.store).await?;
    let mut response = body.response();
    if body.merge {
        if ids.len() < 2 {
            return Err(ApiError::BadRequest("merging needs at least two issues".to_owned()));
        }
        let parent = state.store.merge_issues(&ids, Some(user.user.id)).await?;
        let children: Vec<String> = ids.iter().filter(|id| **id != parent).map(i64::to_string).collect();
        response["merge"] = json!({"parent": parent.to_string(), "children": children});
    }
    if body.update != crate::store::IssueUpdate::default() {
        let targets: Vec<i64> = if body.merge {
            response["merge"]["parent"].as_str().and_then(|p| p.parse().ok()).into_iter().collect()
        } else {
            ids
        };
        state.store.update_issues(&targets, &body.update, Some(user.user.id)).await?;
    }
    Ok(Json(response))
}

/// `DELETE /api/0/projects/{org}/{project}/issues/?id=…`: delete several issues.
pub async fn bulk_delete(
    State(state): State<AppState>,
    user: ApiUser,
    Path((org, slug)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> ApiResult<Response> {
    user.require("event", "admin")?;
    let project = user.project(&state.store, &org, &slug).await?;
    let ids = bulk_ids(&state, &project, query).await?;
    state.store.delete_issues(&ids, false).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /api/0/issues/{id}/`.
pub async fn show(State(state): State<AppState>, user: ApiUser, Path(path): Path<IssuePath>) -> ApiResult<Json<Value>> {
    user.require("event", "read")?;
    let (issue, project) = user.issue(&state.store, path.id(), path.org()).await?;
    let assignee = match issue.assignee_id {
        Some(id) => state.store.find_user(id).await?,
        None => None,
    };
    let bookmarked = state.store.is_bookmarked(issue.id, user.user.id).await?;
    let value = serialize::issue(&issue, &project, &state.config.public_url());
    Ok(Json(serialize::with_viewer(value, assignee.as_ref(), bookmarked)))
}

/// `PUT /api/0/issues/{id}/`: change status, assignee or bookmark.
pub async fn update(
    State(state): State<AppState>,
    user: ApiUser,
    Path(path): Path<IssuePath>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    user.require("event", "write")?;
    let (issue, _) = user.issue(&state.store, path.id(), path.org()).await?;
    let body = UpdateBody::parse(&body, &state.store).await?;
    if body.merge {
        return Err(ApiError::BadRequest("merge issues with PUT …/issues/?id=…&id=…".to_owned()));
    }
    state.store.update_issues(&[issue.id], &body.update, Some(user.user.id)).await?;
    Ok(Json(body.response()))
}

/// `DELETE /api/0/issues/{id}/`: the issue and its events.
pub async fn delete(State(state): State<AppState>, user: ApiUser, Path(path): Path<IssuePath>) -> ApiResult<Response> {
    user.require("event", "admin")?;
    let (issue, _) = user.issue(&state.store, path.id(), path.org()).await?;
    state.store.delete_issues(&[issue.id], false).await?;
    Ok(StatusCode::ACCEPTED.into_response())
}

/// Paging parameters of an issue's event list.
#[derive(Debug, Deserialize)]
pub struct EventParams {
    cursor: Option<String>,
    limit: Option<i64>,
}

/// `GET /api/0/issues/{id}/events/`: newest first.
pub async fn events(
    State(state): State<AppState>,
    user: ApiUser,
    Path(path): Path<IssuePath>,
    Query(params): Query<EventParams>,
) -> ApiResult<Response> {
    user.require("event", "read")?;
    let (issue, _) = user.issue(&state.store, path.id(), path.org()).await?;
    let limit = params.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let offset = parse_cursor(params.cursor.as_deref())?;
    let mut events = state.store.list_issue_events(issue.id, limit + 1, offset).await?;
    let has_more = events.len() as i64 > limit;
    events.truncate(limit as usize);
    let mut items = Vec::with_capacity(events.len());
    for event in &events {
        items.push(serialize::event(event, &state.store.payload_json(&event.payload).await?));
    }
    let base = format!("{}/api/0/issues/{}/events/", state.config.public_url(), issue.id);
    Ok(paginated(items, &base, offset, limit, has_more))
}

/// `GET /api/0/issues/{id}/events/latest/`.
pub async fn latest_event(
    State(state): State<AppState>,
    user: ApiUser,
    Path(path): Path<IssuePath>,
) -> ApiResult<Json<Value>> {
    user.require("event", "read")?;
    let (issue, _) = user.issue(&state.store, path.id(), path.org()).await?;
    let event = state.store.list_issue_events(issue.id, 1, 0).await?.pop().ok_or(ApiError::NotFound)?;
    Ok(Json(serialize::event(&event, &state.store.payload_json(&event.payload).await?)))
}

/// `GET /api/0/projects/{org}/{project}/events/{event_id}/`.
pub async fn project_event(
    State(state): State<AppState>,
    user: ApiUser,
    Path((org, slug, event_id)): Path<(String, String, String)>,
) -> ApiResult<Json<Value>> {
    user.require("event", "read")?;
    let project = user.project(&state.store, &org, &slug).await?;
    let id: crate::protocol::EventId = event_id.parse().map_err(|_| ApiError::NotFound)?;
    let event = state.store.find_event(project.id, &id.to_string()).await?.ok_or(ApiError::NotFound)?;
    Ok(Json(serialize::event(&event, &state.store.payload_json(&event.payload).await?)))
}

/// `GET /api/0/issues/{id}/tags/{key}/`: the value distribution of one tag.
pub async fn tag_values(
    State(state): State<AppState>,
    user: ApiUser,
    Path(path): Path<TagPath>,
) -> ApiResult<Json<Value>> {
    user.require("event", "read")?;
    let (issue, _) = user.issue(&state.store, &path.issue_id, None).await?;
    let (total, unique) = state.store.issue_tag_totals(issue.id, &path.key).await?;
    let values = state.store.issue_tag_values(issue.id, &path.key, 10).await?;
    let top: Vec<Value> = values
        .iter()
        .map(|v| {
            json!({"key": v.key, "name": v.value, "value": v.value, "count": v.times_seen,
                   "firstSeen": v.first_seen.to_rfc3339(), "lastSeen": v.last_seen.to_rfc3339()})
        })
        .collect();
    Ok(Json(json!({"key": path.key, "name": path.key, "totalValues": total, "uniqueValues": unique, "topValues": top})))
}

/// The path parameters of issue routes: `issue_id`, and `org` on the organization-scoped form
/// (`/api/0/organizations/{org}/issues/{issue_id}/`).
#[derive(Debug, Deserialize)]
pub struct IssuePath(std::collections::HashMap<String, String>);

impl IssuePath {
    fn id(&self) -> &str {
        self.0.get("issue_id").map_or("", String::as_str)
    }

    fn org(&self) -> Option<&str> {
        self.0.get("org").map(String::as_str)
    }
}

/// `/api/0/issues/{issue_id}/tags/{key}/`.
#[derive(Debug, Deserialize)]
pub struct TagPath {
    issue_id: String,
    key: String,
}
