//! The body of Sentry's `PUT /api/0/issues/{id}/` and bulk `PUT …/issues/?id=…`, parsed into one
//! [`IssueUpdate`] (plus `merge`), so the API and the UI change issues through the same store call.
//!
//! ```json
//! {"status": "resolved" | "resolvedInNextRelease" | "unresolved" | "ignored",
//!  "statusDetails": {"inNextRelease": true, "inRelease": "1.2.0", "ignoreDuration": 30,
//!                    "ignoreCount": 100, "ignoreUserCount": 10},
//!  "assignedTo": "dev@example.com" | "user:3" | "" | null,
//!  "isBookmarked": true, "merge": 1}
//! ```

use serde_json::{Value, json};

use super::{ApiError, ApiResult, serialize};
use crate::store::{IgnoreCondition, IssueUpdate, StatusChange, Store, User};

/// A parsed PUT body.
#[derive(Debug, Default)]
pub struct UpdateBody {
    /// What to change.
    pub update: IssueUpdate,
    /// `"merge": 1` (bulk only).
    pub merge: bool,
    /// The assignee, for the response.
    pub assignee: Option<User>,
}

impl UpdateBody {
    /// Parse and validate a body; the assignee is looked up by e-mail or `user:ID`.
    pub async fn parse(body: &[u8], store: &Store) -> ApiResult<Self> {
        let value: Value =
            serde_json::from_slice(body).map_err(|e| ApiError::BadRequest(format!("invalid JSON body: {e}")))?;
        let object = value.as_object().ok_or_else(|| ApiError::BadRequest("the body must be an object".to_owned()))?;
        let details = object.get("statusDetails").cloned().unwrap_or_else(|| json!({}));
        let mut parsed = UpdateBody::default();
        if let Some(status) = object.get("status") {
            let status = status.as_str().ok_or_else(|| ApiError::BadRequest("\"status\" must be a string".into()))?;
            parsed.update.status = Some(status_change(status, &details)?);
        } else if details.get("inNextRelease") == Some(&Value::Bool(true)) {
            parsed.update.status = Some(StatusChange::ResolvedInNextRelease);
        }
        if let Some(assigned) = object.get("assignedTo") {
            let user = match assigned.as_str().map(str::trim) {
                None | Some("") => None,
                Some(who) => Some(find_assignee(store, who).await?),
            };
            parsed.update.assignee = Some(user.as_ref().map(|u| u.id));
            parsed.assignee = user;
        }
        if let Some(bookmark) = object.get("isBookmarked") {
            parsed.update.bookmark = Some(bool_like(bookmark).ok_or_else(|| bad("isBookmarked"))?);
        }
        if let Some(merge) = object.get("merge") {
            parsed.merge = bool_like(merge).ok_or_else(|| bad("merge"))?;
        }
        if parsed.update == IssueUpdate::default() && !parsed.merge {
            return Err(ApiError::BadRequest(
                "nothing to change (use status, statusDetails, assignedTo, isBookmarked or merge)".to_owned(),
            ));
        }
        Ok(parsed)
    }

    /// What Sentry answers: the fields that changed.
    pub fn response(&self) -> Value {
        let mut out = serde_json::Map::new();
        if let Some(status) = &self.update.status {
            let (name, details) = match status {
                StatusChange::Resolved => ("resolved", json!({})),
                StatusChange::ResolvedInNextRelease => ("resolved", json!({"inNextRelease": true})),
                StatusChange::ResolvedInRelease(v) => ("resolved", json!({"inRelease": v})),
                StatusChange::Unresolved => ("unresolved", json!({})),
                StatusChange::Ignored(c) => (
                    "ignored",
                    json!({"ignoreDuration": c.minutes, "ignoreCount": c.count, "ignoreUserCount": c.users}),
                ),
            };
            out.insert("status".into(), json!(name));
            out.insert("statusDetails".into(), details);
            out.insert(
                "substatus".into(),
                json!(match status {
                    StatusChange::Unresolved => Some("ongoing"),
                    StatusChange::Ignored(c) if *c == IgnoreCondition::default() => Some("archived_forever"),
                    StatusChange::Ignored(_) => Some("archived_until_condition_met"),
                    _ => None,
                }),
            );
        }
        if self.update.assignee.is_some() {
            out.insert("assignedTo".into(), self.assignee.as_ref().map_or(Value::Null, serialize::assignee));
        }
        if let Some(b) = self.update.bookmark {
            out.insert("isBookmarked".into(), json!(b));
        }
        Value::Object(out)
    }
}

fn bad(field: &str) -> ApiError {
    ApiError::BadRequest(format!("invalid {field:?}"))
}

fn bool_like(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => n.as_i64().map(|n| n != 0),
        Value::String(s) => match s.as_str() {
            "1" | "true" => Some(true),
            "0" | "false" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

fn positive(details: &Value, key: &str) -> ApiResult<Option<i64>> {
    match details.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_i64().filter(|n| *n > 0).map(Some).ok_or_else(|| bad(key)),
    }
}

fn status_change(status: &str, details: &Value) -> ApiResult<StatusChange> {
    Ok(match status {
        "resolved" => match (details.get("inRelease").and_then(Value::as_str), details.get("inNextRelease")) {
            (Some(version), _) if !version.is_empty() && version != "latest" => {
                StatusChange::ResolvedInRelease(version.to_owned())
            }
            (Some("latest"), _) | (_, Some(Value::Bool(true))) => StatusChange::ResolvedInNextRelease,
            _ => StatusChange::Resolved,
        },
        "resolvedInNextRelease" => StatusChange::ResolvedInNextRelease,
        "unresolved" => StatusChange::Unresolved,
        "ignored" | "muted" | "archived" => StatusChange::Ignored(IgnoreCondition {
            minutes: positive(details, "ignoreDuration")?,
            count: positive(details, "ignoreCount")?,
            users: positive(details, "ignoreUserCount")?,
        }),
        other => return Err(ApiError::BadRequest(format!("unsupported status {other:?}"))),
    })
}

async fn find_assignee(store: &Store, who: &str) -> ApiResult<User> {
    let user = if let Some(id) = who.strip_prefix("user:") {
        let id: i64 = id.parse().map_err(|_| bad("assignedTo"))?;
        store.find_user(id).await?
    } else {
        store.find_user_credentials(&who.to_lowercase()).await?.map(|(user, _)| user)
    };
    user.ok_or_else(|| ApiError::BadRequest(format!("unknown assignee {who:?}")))
}
