//! The server-rendered web UI: askama templates over store read models, embedded static assets.
//!
//! Handlers return `Result<_, WebError>`; [`WebError`] is the one place a UI failure becomes an HTTP
//! response (an HTML page that names the problem, never internals).

pub mod assets;
pub mod setup;

use askama::Template;
use askama_web::WebTemplate;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::store::StoreError;

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
    /// The page or object does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The form or request was malformed.
    #[error("{0}")]
    BadRequest(String),
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
            WebError::Store(StoreError::NotFound) => (StatusCode::NOT_FOUND, "Not found", "Not found.".to_owned()),
            WebError::Store(_) | WebError::Internal(_) => {
                tracing::error!(error = %self, "web request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "The server could not complete this request; the error was logged.".to_owned(),
                )
            }
        };
        let page = MessagePage { title: title.to_owned(), message, link: Some(("/".to_owned(), "Home".to_owned())) };
        (status, page).into_response()
    }
}

/// `GET /`: the landing page.
pub async fn home() -> MessagePage {
    MessagePage {
        title: "Faultline".to_owned(),
        message: "Faultline is running. Create a project with `faultline project create SLUG` and point a Sentry SDK at the DSN it prints.".to_owned(),
        link: None,
    }
}

/// Any unknown path.
pub async fn not_found() -> WebError {
    WebError::NotFound("There is no page at this address.".to_owned())
}
