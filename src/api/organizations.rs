//! `GET /api/0/organizations/` and `GET /api/0/organizations/{org}/projects/`.

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Value, json};

use super::auth::ApiUser;
use super::{ApiError, ApiResult};
use crate::app::AppState;

/// Organizations the token can see: every organization (membership is per project, so a user without
/// projects still sees the organization, with an empty project list).
pub async fn list(State(state): State<AppState>, user: ApiUser) -> ApiResult<Json<Vec<Value>>> {
    user.require("org", "read")?;
    let orgs = state.store.list_organizations().await?;
    Ok(Json(
        orgs.iter()
            .map(|o| {
                json!({"id": o.id.to_string(), "slug": o.slug, "name": o.name, "dateCreated": o.created_at.to_rfc3339(),
                       "status": {"id": "active", "name": "active"}})
            })
            .collect(),
    ))
}

/// An organization's projects that the token's user may see.
pub async fn projects(
    State(state): State<AppState>,
    user: ApiUser,
    Path(org): Path<String>,
) -> ApiResult<Json<Vec<Value>>> {
    user.require("project", "read")?;
    let org = state.store.find_organization(&org).await?.ok_or(ApiError::NotFound)?;
    let projects = user.projects(&state.store, &org).await?;
    Ok(Json(
        projects
            .iter()
            .map(|p| {
                json!({"id": p.id.to_string(), "slug": p.slug, "name": p.name, "platform": p.platform,
                       "dateCreated": p.created_at.to_rfc3339(), "status": "active",
                       "organization": {"id": org.id.to_string(), "slug": org.slug, "name": org.name}})
            })
            .collect(),
    ))
}
