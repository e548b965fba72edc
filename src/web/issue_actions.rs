//! `POST /organizations/{org}/issues/{issue_id}/actions/`: the issue page's workflow forms (resolve,
//! resolve in the next release or a given one, ignore with a condition, unresolve, assign, bookmark,
//! comment, delete, delete and discard, unmerge one hash into a new issue). Each is a plain form that redirects back, so it works
//! without JavaScript; the store call is the same one the JSON API makes.

use axum::Form;
use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;

use super::issue_page::visible_issue;
use super::session::CurrentUser;
use super::{WebError, WebResult, see_other};
use crate::app::AppState;
use crate::store::{IgnoreCondition, IssueUpdate, StatusChange, StoreError};

/// Longest comment accepted.
const MAX_COMMENT_CHARS: usize = 10_000;

/// The fields the issue page's forms post.
#[derive(Debug, Default, Deserialize)]
pub struct ActionForm {
    action: String,
    #[serde(default)]
    release: String,
    #[serde(default)]
    minutes: String,
    #[serde(default)]
    count: String,
    #[serde(default)]
    users: String,
    #[serde(default)]
    assignee: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    hash: String,
}

fn number(field: &str, name: &str) -> WebResult<Option<i64>> {
    let field = field.trim();
    if field.is_empty() {
        return Ok(None);
    }
    field
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0 && *n <= 1_000_000_000)
        .map(Some)
        .ok_or_else(|| WebError::BadRequest(format!("{name} must be a positive number.")))
}

/// `POST /organizations/{org}/issues/{issue_id}/actions/`.
pub async fn act(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((org, issue_id)): Path<(String, String)>,
    Form(form): Form<ActionForm>,
) -> WebResult<Response> {
    let issue = visible_issue(&state, &user, &org, &issue_id).await?;
    let back = format!("/organizations/{org}/issues/{}/", issue.id);
    let actor = Some(user.user.id);
    let status = |s| IssueUpdate { status: Some(s), ..IssueUpdate::default() };
    let change = match form.action.as_str() {
        "resolve" => status(StatusChange::Resolved),
        "resolve_next" => status(StatusChange::ResolvedInNextRelease),
        "resolve_release" => {
            let release = form.release.trim();
            if release.is_empty() || release.len() > 250 {
                return Err(WebError::BadRequest("Name the release the fix is in.".to_owned()));
            }
            status(StatusChange::ResolvedInRelease(release.to_owned()))
        }
        "unresolve" => status(StatusChange::Unresolved),
        "ignore" => status(StatusChange::Ignored(IgnoreCondition {
            minutes: number(&form.minutes, "The duration")?,
            count: number(&form.count, "The number of events")?,
            users: number(&form.users, "The number of users")?,
        })),
        "assign" => {
            let assignee = match form.assignee.as_str() {
                "" => None,
                id => {
                    let id: i64 = id.parse().map_err(|_| WebError::BadRequest("Unknown assignee.".to_owned()))?;
                    state
                        .store
                        .find_user(id)
                        .await?
                        .ok_or_else(|| WebError::BadRequest("Unknown assignee.".to_owned()))?;
                    Some(id)
                }
            };
            IssueUpdate { assignee: Some(assignee), ..IssueUpdate::default() }
        }
        "bookmark" => IssueUpdate { bookmark: Some(true), ..IssueUpdate::default() },
        "unbookmark" => IssueUpdate { bookmark: Some(false), ..IssueUpdate::default() },
        "comment" => {
            let text = form.text.trim();
            if text.is_empty() {
                return Err(WebError::BadRequest("The comment is empty.".to_owned()));
            }
            if text.chars().count() > MAX_COMMENT_CHARS {
                return Err(WebError::BadRequest("The comment is too long.".to_owned()));
            }
            state.store.add_comment(issue.id, user.user.id, text).await?;
            return Ok(see_other(&format!("{back}#activity")));
        }
        "delete" | "discard" => {
            user.require_admin()?;
            state.store.delete_issues(&[issue.id], form.action == "discard").await?;
            return Ok(see_other(&format!("/organizations/{org}/issues/")));
        }
        "unmerge" => {
            let hash = form.hash.trim();
            if hash.is_empty() || hash.len() > 64 || !hash.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(WebError::BadRequest("Pick a hash of this issue.".to_owned()));
            }
            let created = match state.store.unmerge_hash(issue.id, hash, actor).await {
                Ok(id) => id,
                Err(StoreError::NotFound) => return Err(WebError::NotFound("This issue has no such hash.".to_owned())),
                Err(StoreError::Conflict) => {
                    return Err(WebError::BadRequest(
                        "This is the issue's only hash: there is nothing to split off.".to_owned(),
                    ));
                }
                Err(e) => return Err(e.into()),
            };
            return Ok(see_other(&format!("/organizations/{org}/issues/{created}/")));
        }
        other => return Err(WebError::BadRequest(format!("Unknown action {other:?}."))),
    };
    state.store.update_issues(&[issue.id], &change, actor).await?;
    Ok(see_other(&back))
}
