//! `/settings/{org}/members/`: admins list users and create accounts (member or admin). Members see
//! the projects they are added to under each project's members tab.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::app::AppState;
use crate::secrets::hash_password;
use crate::store::{NewUser, StoreError, User};
use crate::web::format::datetime;
use crate::web::session::CurrentUser;
use crate::web::{Nav, OrgScope, WebError, WebResult, see_other};

/// The users page.
#[derive(Template, WebTemplate)]
#[template(path = "users.html")]
pub struct UsersPage {
    nav: Nav,
    users: Vec<(User, String)>,
    error: Option<String>,
}

async fn page(state: &AppState, user: &CurrentUser, org: &str, error: Option<String>) -> WebResult<UsersPage> {
    user.require_admin()?;
    let scope = OrgScope::load(state, user, org).await?;
    let users =
        state.store.list_users().await?.into_iter().map(|u| (datetime(u.created_at), u)).map(|(d, u)| (u, d)).collect();
    Ok(UsersPage { nav: Nav::new(user, &scope.org.slug, "settings"), users, error })
}

/// `GET /settings/{org}/members/`.
pub async fn list(State(state): State<AppState>, user: CurrentUser, Path(org): Path<String>) -> WebResult<UsersPage> {
    page(&state, &user, &org, None).await
}

/// The create form.
#[derive(Debug, Deserialize)]
pub struct CreateForm {
    email: String,
    password: String,
    #[serde(default)]
    admin: String,
}

/// `POST /settings/{org}/members/`: create a user (admins).
pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(org): Path<String>,
    Form(form): Form<CreateForm>,
) -> WebResult<Response> {
    user.require_admin()?;
    let email = form.email.trim().to_lowercase();
    let problem = if !email.contains('@') || email.len() > 254 {
        Some("Enter an e-mail address.")
    } else if form.password.len() < 8 {
        Some("The password must have at least 8 characters.")
    } else {
        None
    };
    if let Some(problem) = problem {
        let page = page(&state, &user, &org, Some(problem.to_owned())).await?;
        return Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    let password = form.password;
    let hash = tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| WebError::Internal(e.into()))?
        .map_err(|e| WebError::Internal(e.into()))?;
    let new = NewUser { email: email.clone(), password_hash: Some(hash), is_admin: form.admin == "1" };
    match state.store.create_user(&new).await {
        Ok(created) => {
            tracing::info!(user.id = created.id, by = user.user.id, "user created");
            Ok(see_other(&format!("/settings/{org}/members/")))
        }
        Err(StoreError::Conflict) => {
            let page = page(&state, &user, &org, Some(format!("A user {email} already exists."))).await?;
            Ok((axum::http::StatusCode::CONFLICT, page).into_response())
        }
        Err(err) => Err(err.into()),
    }
}
