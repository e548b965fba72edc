//! The server-rendered web UI: askama templates over store read models, embedded static assets.
//!
//! Handlers return `Result<_, WebError>`; [`WebError`] is the one place a UI failure becomes an HTTP
//! response (an HTML page that names the problem, never internals). Every page behind the login gets
//! a [`Nav`] for the shared layout (`templates/app.html`): who is signed in, the organization, and the
//! CSRF token its forms post back. Everything works without JavaScript: actions are plain forms that
//! POST and redirect back.

pub mod assets;
pub mod auth;
pub mod charts;
pub mod event_view;
pub mod format;
pub mod grouping_view;
pub mod issue_actions;
pub mod issue_page;
pub mod issues;
pub mod projects;
pub mod releases;
pub mod session;
pub mod settings;
pub mod setup;

use askama::Template;
use askama_web::WebTemplate;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use crate::app::AppState;
use crate::store::{Organization, Project, StoreError};
use session::CurrentUser;

/// A page that shows one message (errors, confirmations).
#[derive(Template, WebTemplate)]
#[template(path = "message.html")]
pub struct MessagePage {
    /// Page and heading title.
    pub title: String,
    /// The message.
    pub message: String,
    /// An optional link: (href, label).
    pub link: Option<(String, String)>,
}

/// Why a UI request failed.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// The page or object does not exist (or the user may not see it).
    #[error("{0}")]
    NotFound(String),
    /// The form or request was malformed.
    #[error("{0}")]
    BadRequest(String),
    /// The user may not do this (admins only).
    #[error("only administrators may do this")]
    Forbidden,
    /// A form arrived without the session's CSRF token.
    #[error("the form was stale or forged")]
    Csrf,
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Anything else unexpected.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (status, title, message) = match &self {
            WebError::NotFound(m) => (StatusCode::NOT_FOUND, "Not found", m.clone()),
            WebError::BadRequest(m) => (StatusCode::BAD_REQUEST, "Bad request", m.clone()),
            WebError::Forbidden => {
                (StatusCode::FORBIDDEN, "Not allowed", "Only administrators may do this.".to_owned())
            }
            WebError::Csrf => (
                StatusCode::FORBIDDEN,
                "Form expired",
                "This form was stale or did not come from this site. Go back, reload the page and try again."
                    .to_owned(),
            ),
            WebError::Store(StoreError::NotFound) => (StatusCode::NOT_FOUND, "Not found", "Not found.".to_owned()),
            WebError::Store(StoreError::Conflict) => {
                (StatusCode::CONFLICT, "Already exists", "That already exists.".to_owned())
            }
            WebError::Store(_) | WebError::Internal(_) => {
                tracing::error!(error = %crate::telemetry::Chain(&self), "web request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "The server could not complete this request; the error was logged.".to_owned(),
                )
            }
        };
        tracing::debug!(error = %crate::telemetry::Chain(&self), status = status.as_u16(), "web request refused");
        let page = MessagePage { title: title.to_owned(), message, link: Some(("/".to_owned(), "Home".to_owned())) };
        (status, page).into_response()
    }
}

/// Result of a UI handler.
pub type WebResult<T> = Result<T, WebError>;

/// What the shared layout needs: who is signed in, where they are, and the CSRF token for forms.
#[derive(Debug, Clone)]
pub struct Nav {
    /// The signed-in user's e-mail.
    pub email: String,
    /// Admins see settings for users and projects.
    pub is_admin: bool,
    /// The session's CSRF token.
    pub csrf: String,
    /// The organization's slug.
    pub org: String,
    /// Which top-level section is active (`issues`, `projects`, `releases`, `settings`).
    pub section: &'static str,
}

impl Nav {
    /// The layout data for a page of `org` in `section`.
    pub fn new(user: &CurrentUser, org: &str, section: &'static str) -> Self {
        Self {
            email: user.user.email.clone(),
            is_admin: user.user.is_admin,
            csrf: user.csrf.clone(),
            org: org.to_owned(),
            section,
        }
    }
}

/// An organization the user is looking at, and the projects they may see in it.
pub struct OrgScope {
    /// The organization.
    pub org: Organization,
    /// Visible projects, by slug.
    pub projects: Vec<Project>,
}

impl OrgScope {
    /// Resolve `/organizations/{org}/…` for the user; unknown organizations are 404.
    pub async fn load(state: &AppState, user: &CurrentUser, slug: &str) -> WebResult<Self> {
        let org = state
            .store
            .find_organization(slug)
            .await?
            .ok_or_else(|| WebError::NotFound(format!("There is no organization {slug:?}.")))?;
        let projects = user.visible_projects(&state.store, org.id).await?;
        Ok(Self { org, projects })
    }

    /// A visible project by slug.
    pub fn project(&self, slug: &str) -> WebResult<&Project> {
        self.projects
            .iter()
            .find(|p| p.slug == slug)
            .ok_or_else(|| WebError::NotFound(format!("There is no project {slug:?} you can see.")))
    }

    /// A visible project by id.
    pub fn project_by_id(&self, id: i64) -> Option<&Project> {
        self.projects.iter().find(|p| p.id == id)
    }

    /// Ids of the visible projects.
    pub fn project_ids(&self) -> Vec<i64> {
        self.projects.iter().map(|p| p.id).collect()
    }
}

/// A `303 See Other` back to a page after a form post.
pub fn see_other(location: &str) -> Response {
    Redirect::to(location).into_response()
}

/// `GET /`: the issue stream of the default organization when signed in (the session layer sends
/// everyone else to the login page).
pub async fn home(axum::extract::State(state): axum::extract::State<AppState>) -> Response {
    Redirect::to(&format!("/organizations/{}/issues/", state.config.default_org)).into_response()
}

/// Any unknown path.
pub async fn not_found() -> WebError {
    WebError::NotFound("There is no page at this address.".to_owned())
}
