//! Bearer-token authentication for `/api/0/`.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::ApiError;
use crate::app::AppState;
use crate::secrets::hash_token;
use crate::store::{Millis, User};

/// The user a valid token acts as, and the token's scopes.
#[derive(Debug, Clone)]
pub struct ApiUser {
    /// The token's owner.
    pub user: User,
    scopes: Vec<String>,
}

impl ApiUser {
    /// Require a scope of `resource` at `level` (`read` < `write` < `admin`); a higher level
    /// implies the lower ones, as in Sentry.
    pub fn require(&self, resource: &str, level: &str) -> Result<(), ApiError> {
        let rank = |l: &str| match l {
            "read" => 1,
            "write" => 2,
            "admin" => 3,
            _ => 0,
        };
        let needed = rank(level);
        let ok = self
            .scopes
            .iter()
            .any(|scope| scope.split_once(':').is_some_and(|(res, lvl)| res == resource && rank(lvl) >= needed));
        if ok { Ok(()) } else { Err(ApiError::Forbidden) }
    }
}

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let value = parts.headers.get("authorization").and_then(|v| v.to_str().ok()).ok_or(ApiError::Unauthorized)?;
        let (scheme, token) = value.trim().split_once(' ').ok_or(ApiError::Unauthorized)?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(ApiError::Unauthorized);
        }
        let (user, token) =
            state.store.use_api_token(&hash_token(token.trim()), Millis::now()).await?.ok_or(ApiError::Unauthorized)?;
        Ok(ApiUser { user, scopes: token.scopes.split_whitespace().map(str::to_owned).collect() })
    }
}
