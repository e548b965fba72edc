//! Bearer-token authentication for `/api/0/`, and what a token may reach.
//!
//! A token acts as its user, as the web UI's session does: admins reach every project, other users the
//! projects they are members of ([`crate::projects::may_see`]). Every handler resolves its project or
//! issue through [`ApiUser::project`] or [`ApiUser::issue`], which answer a project the user may not see
//! exactly like one that does not exist (404, as Sentry does), so project slugs and issue ids do not
//! leak; lists go through [`ApiUser::projects`].

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::{ApiError, ApiResult};
use crate::app::AppState;
use crate::secrets::hash_token;
use crate::store::{Issue, Millis, Organization, Project, Store, User};

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

    /// The project `org`/`slug`, if it exists and the user may see it; else `NotFound`.
    pub async fn project(&self, store: &Store, org: &str, slug: &str) -> ApiResult<Project> {
        let project = store.find_project(org, slug).await?.ok_or(ApiError::NotFound)?;
        self.visible(store, project).await
    }

    /// The issue `id` (as the path spells it) and its project, if both exist and the user may see the
    /// project; else `NotFound`. `org` is the slug of the organization-scoped routes, which must match.
    pub async fn issue(&self, store: &Store, id: &str, org: Option<&str>) -> ApiResult<(Issue, Project)> {
        let id: i64 = id.parse().map_err(|_| ApiError::NotFound)?;
        let issue = store.find_issue(id).await?.ok_or(ApiError::NotFound)?;
        let project = store.find_project_by_id(issue.project_id).await?.ok_or(ApiError::NotFound)?;
        if org.is_some_and(|org| org != project.organization_slug) {
            return Err(ApiError::NotFound);
        }
        Ok((issue, self.visible(store, project).await?))
    }

    /// The projects of an organization the user may see, by slug.
    pub async fn projects(&self, store: &Store, org: &Organization) -> ApiResult<Vec<Project>> {
        Ok(crate::projects::visible_projects(store, &self.user, org.id).await?)
    }

    /// The one membership check: `project` if the user may see it, else `NotFound`.
    async fn visible(&self, store: &Store, project: Project) -> ApiResult<Project> {
        if crate::projects::may_see(store, &self.user, project.id).await? {
            Ok(project)
        } else {
            tracing::debug!(user.id = self.user.id, project.id = project.id, "api: not a member of the project");
            Err(ApiError::NotFound)
        }
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
