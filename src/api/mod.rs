//! The Sentry-compatible web API subset (`/api/0/…`), so `sentry-cli` and scripts work.
//!
//! Requests authenticate with `Authorization: Bearer <token>` (tokens from `faultline token create` or
//! the UI). A token acts as its user, limited by its scopes: reads need a `*:read` scope, changes a
//! `*:write` (or `*:admin`) one. Responses are JSON shaped like Sentry's (see [`serialize`]); lists
//! paginate with Sentry's `Link` header and `cursor` parameter. Tokens follow the web UI's membership:
//! an admin's token reaches every project, another user's only the projects they are members of; a
//! project out of reach, and its issues, events and rules, answer 404 like ones that do not exist
//! (see [`auth`]).

pub mod auth;
pub mod issue_list;
pub mod issue_update;
pub mod issues;
pub mod organizations;
pub mod rules;
pub mod serialize;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::store::StoreError;

/// A refused or failed API request.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No or an unknown token.
    #[error("Invalid token")]
    Unauthorized,
    /// The token lacks the scope.
    #[error("You do not have permission to perform this action.")]
    Forbidden,
    /// Nothing at this address.
    #[error("The requested resource does not exist")]
    NotFound,
    /// Malformed parameters or body.
    #[error("{0}")]
    BadRequest(String),
    /// The database failed.
    #[error("internal error")]
    Store(#[source] StoreError),
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => ApiError::NotFound,
            StoreError::Conflict => ApiError::BadRequest("the issues belong to different projects".to_owned()),
            other => ApiError::Store(other),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match &self {
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Store(err) => {
                tracing::error!(error = %crate::telemetry::Chain(err), "api request failed");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        (status, Json(json!({ "detail": self.to_string() }))).into_response()
    }
}

/// Result of an API handler.
pub type ApiResult<T> = Result<T, ApiError>;

/// Sentry's cursor: `0:<offset>:<is_prev>`; we page by offset.
pub fn parse_cursor(cursor: Option<&str>) -> ApiResult<i64> {
    let Some(cursor) = cursor.filter(|c| !c.is_empty()) else { return Ok(0) };
    cursor
        .split(':')
        .nth(1)
        .and_then(|o| o.parse::<i64>().ok())
        .filter(|o| *o >= 0)
        .ok_or_else(|| ApiError::BadRequest(format!("invalid cursor {cursor:?}")))
}

/// A JSON list with Sentry's `Link` header for the previous and next pages.
pub fn paginated(items: Vec<serde_json::Value>, base: &str, offset: i64, limit: i64, has_more: bool) -> Response {
    let sep = if base.contains('?') { '&' } else { '?' };
    let prev = (offset - limit).max(0);
    let link = format!(
        "<{base}{sep}cursor=0:{prev}:1>; rel=\"previous\"; results=\"{}\"; cursor=\"0:{prev}:1\", \
         <{base}{sep}cursor=0:{next}:0>; rel=\"next\"; results=\"{has_more}\"; cursor=\"0:{next}:0\"",
        offset > 0,
        next = offset + limit,
    );
    let mut response = Json(items).into_response();
    if let Ok(value) = HeaderValue::from_str(&link) {
        response.headers_mut().insert(header::LINK, value);
    }
    response
}
