//! The one-time setup link: `GET /setup/{token}` shows a form, `POST` creates the first admin.
//!
//! The token (printed in the log on first start) is the capability: only its SHA-256 is stored, it
//! expires after 24 hours, and creating the admin uses it up in the same transaction.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, State};
use serde::Deserialize;

use super::{MessagePage, WebError};
use crate::app::AppState;
use crate::secrets::{hash_password, hash_token};
use crate::store::{Millis, NewUser, StoreError};

/// The setup form.
#[derive(Template, WebTemplate)]
#[template(path = "setup.html")]
pub struct SetupPage {
    /// A problem with the last submission, shown above the form.
    pub error: Option<String>,
    /// The e-mail entered so far.
    pub email: String,
}

/// What the form posts.
#[derive(Debug, Deserialize)]
pub struct SetupForm {
    email: String,
    password: String,
    confirm: String,
}

fn invalid_link() -> WebError {
    WebError::NotFound("This setup link is invalid, expired or already used.".to_owned())
}

/// `GET /setup/{token}`.
pub async fn form(State(state): State<AppState>, Path(token): Path<String>) -> Result<SetupPage, WebError> {
    if !state.store.check_setup_token(&hash_token(&token), Millis::now()).await? {
        return Err(invalid_link());
    }
    Ok(SetupPage { error: None, email: String::new() })
}

/// `POST /setup/{token}`.
pub async fn submit(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Form(form): Form<SetupForm>,
) -> Result<axum::response::Response, WebError> {
    use axum::response::IntoResponse;
    let email = form.email.trim().to_lowercase();
    let problem = if !email.contains('@') {
        Some("Enter an e-mail address.")
    } else if form.password.len() < 8 {
        Some("The password must have at least 8 characters.")
    } else if form.password != form.confirm {
        Some("The passwords do not match.")
    } else {
        None
    };
    if let Some(problem) = problem {
        let page = SetupPage { error: Some(problem.to_owned()), email };
        return Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    let admin = NewUser {
        email,
        password_hash: Some(hash_password(&form.password).map_err(anyhow::Error::from)?),
        is_admin: true,
    };
    match state.store.complete_setup(&hash_token(&token), Millis::now(), &admin).await {
        Ok(user) => {
            tracing::info!(user.email = %user.email, "admin account created through the setup link");
            Ok(MessagePage {
                title: "Admin account created".to_owned(),
                message: format!("You can now sign in as {}.", user.email),
                link: Some(("/login".to_owned(), "Sign in".to_owned())),
            }
            .into_response())
        }
        Err(StoreError::NotFound) => Err(invalid_link()),
        Err(StoreError::Conflict) => Err(WebError::BadRequest("A user with this e-mail already exists.".to_owned())),
        Err(err) => Err(err.into()),
    }
}
