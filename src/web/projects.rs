//! `GET /organizations/{org}/projects/` (the projects the user can see, with their DSN and counts)
//! and `POST` to create one (admins).

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::session::CurrentUser;
use super::{Nav, OrgScope, WebError, WebResult, see_other};
use crate::app::AppState;
use crate::store::{IssueFilter, IssueQuery, Project, StoreError};

/// One project card.
pub struct ProjectRow {
    /// The project.
    pub project: Project,
    /// Its first enabled DSN.
    pub dsn: Option<String>,
    /// Unresolved issues (up to 100 counted).
    pub unresolved: String,
}

/// The projects page.
#[derive(Template, WebTemplate)]
#[template(path = "projects.html")]
pub struct ProjectsPage {
    nav: Nav,
    rows: Vec<ProjectRow>,
    error: Option<String>,
}

/// The create form.
#[derive(Debug, Deserialize)]
pub struct CreateForm {
    slug: String,
    #[serde(default)]
    platform: String,
}

async fn page(state: &AppState, user: &CurrentUser, org: &str, error: Option<String>) -> WebResult<ProjectsPage> {
    let scope = OrgScope::load(state, user, org).await?;
    let url = state.config.public_url();
    let mut rows = Vec::new();
    for project in &scope.projects {
        let keys = state.store.list_project_keys(project.id).await?;
        let dsn = keys.iter().find(|k| k.enabled).map(|k| crate::projects::dsn(&url, &k.public_key, project.id));
        let open = state
            .store
            .list_issues(&IssueQuery {
                project_id: project.id,
                filters: vec![IssueFilter::Status("unresolved".to_owned())],
                limit: 101,
                ..IssueQuery::default()
            })
            .await?
            .len();
        let unresolved = if open > 100 { "100+".to_owned() } else { open.to_string() };
        rows.push(ProjectRow { project: project.clone(), dsn, unresolved });
    }
    Ok(ProjectsPage { nav: Nav::new(user, &scope.org.slug, "projects"), rows, error })
}

/// `GET /organizations/{org}/projects/`.
pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(org): Path<String>,
) -> WebResult<ProjectsPage> {
    page(&state, &user, &org, None).await
}

/// `POST /organizations/{org}/projects/`: create a project with a default DSN key (admins).
pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(org): Path<String>,
    Form(form): Form<CreateForm>,
) -> WebResult<Response> {
    user.require_admin()?;
    let scope = OrgScope::load(&state, &user, &org).await?;
    let slug = form.slug.trim().to_lowercase();
    if !crate::projects::is_valid_slug(&slug) {
        let error = "A project name is 1–50 lowercase letters, digits, - or _.".to_owned();
        let page = page(&state, &user, &org, Some(error)).await?;
        return Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    let platform = Some(form.platform.trim()).filter(|p| !p.is_empty() && p.len() <= 64);
    match crate::projects::create_project(&state.store, &scope.org, &slug, platform).await {
        Ok((project, _)) => Ok(see_other(&format!("/settings/{org}/projects/{}/keys/", project.slug))),
        Err(StoreError::Conflict) => {
            let page = page(&state, &user, &org, Some(format!("A project {slug:?} already exists."))).await?;
            Ok((axum::http::StatusCode::CONFLICT, page).into_response())
        }
        Err(err) => Err(WebError::from(err)),
    }
}
