//! `GET|POST /login` and `GET|POST /logout`.
//!
//! The login form has no session yet, so its CSRF protection is a double-submit token: `GET /login`
//! sets a random `faultline_login` cookie and puts the same value in the form; `POST /login` accepts
//! only when both agree (a cross-site page can make a browser post, but cannot read or set our cookie).
//! Passwords are checked with Argon2 off the async threads; an unknown e-mail costs the same work as a
//! wrong password, so response times do not reveal which accounts exist.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::session::{CurrentUser, SESSION_COOKIE, SESSION_SECS, cookie, secure_cookies, set_cookie, tokens_match};
use super::{Nav, WebError, WebResult, see_other};
use crate::app::AppState;
use crate::secrets::{hash_token, random_hex, verify_password};
use crate::store::{Millis, NewSession};

/// The pre-session CSRF cookie of the login form.
const LOGIN_COOKIE: &str = "faultline_login";

/// An Argon2 hash of a random password, verified when the e-mail is unknown (same cost as a real check).
static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| crate::secrets::hash_password(&random_hex(16)).unwrap_or_default());

/// The login page.
#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
pub struct LoginPage {
    error: Option<String>,
    email: String,
    next: String,
    csrf: String,
}

/// `?next=` of the login page.
#[derive(Debug, Deserialize)]
pub struct NextParam {
    next: Option<String>,
}

/// What the login form posts.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    csrf: String,
}

/// Only same-site absolute paths are followed after login.
fn safe_next(next: &str, state: &AppState) -> String {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next.to_owned()
    } else {
        format!("/organizations/{}/issues/", state.config.default_org)
    }
}

fn login_page(state: &AppState, status: StatusCode, page: LoginPage) -> Response {
    let cookie = set_cookie(LOGIN_COOKIE, &page.csrf, 3600, secure_cookies(state));
    (status, [(header::SET_COOKIE, cookie)], page).into_response()
}

/// `GET /login`.
pub async fn form(State(state): State<AppState>, headers: HeaderMap, Query(params): Query<NextParam>) -> Response {
    let csrf = cookie(&headers, LOGIN_COOKIE).filter(|c| c.len() == 32).unwrap_or_else(|| random_hex(16));
    let next = safe_next(params.next.as_deref().unwrap_or(""), &state);
    login_page(&state, StatusCode::OK, LoginPage { error: None, email: String::new(), next, csrf })
}

/// `POST /login`.
pub async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> WebResult<Response> {
    let expected = cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if !tokens_match(&form.csrf, &expected) {
        return Err(WebError::Csrf);
    }
    let email = form.email.trim().to_lowercase();
    let found = state.store.find_user_credentials(&email).await?;
    let (user, hash) = match found {
        Some((user, Some(hash))) => (Some(user), hash),
        _ => (None, DUMMY_HASH.clone()),
    };
    let password = form.password;
    let verified = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .map_err(|e| WebError::Internal(e.into()))?;
    let Some(user) = user.filter(|_| verified) else {
        tracing::info!(user.email = %email, "failed login");
        let page = LoginPage {
            error: Some("Wrong e-mail or password.".to_owned()),
            email,
            next: safe_next(&form.next, &state),
            csrf: random_hex(16),
        };
        return Ok(login_page(&state, StatusCode::UNAUTHORIZED, page));
    };
    let token = random_hex(32);
    state
        .store
        .create_session(&NewSession {
            token_hash: hash_token(&token),
            user_id: user.id,
            csrf_token: random_hex(16),
            expires_at: Millis::now().plus_secs(SESSION_SECS),
        })
        .await?;
    tracing::info!(user.id = user.id, "signed in");
    let secure = secure_cookies(&state);
    let mut response = see_other(&safe_next(&form.next, &state));
    let h = response.headers_mut();
    h.append(header::SET_COOKIE, set_cookie(SESSION_COOKIE, &token, SESSION_SECS, secure));
    h.append(header::SET_COOKIE, set_cookie(LOGIN_COOKIE, "", 0, secure));
    Ok(response)
}

/// The sign-out confirmation (a GET must not change state).
#[derive(Template, WebTemplate)]
#[template(path = "logout.html")]
pub struct LogoutPage {
    nav: Nav,
}

/// `GET /logout`.
pub async fn confirm(State(state): State<AppState>, user: CurrentUser) -> LogoutPage {
    LogoutPage { nav: Nav::new(&user, &state.config.default_org, "") }
}

/// `POST /logout`.
pub async fn logout(State(state): State<AppState>, user: CurrentUser) -> WebResult<Response> {
    state.store.delete_session(&user.token_hash).await?;
    let mut response = see_other("/login");
    response.headers_mut().append(header::SET_COOKIE, set_cookie(SESSION_COOKIE, "", 0, secure_cookies(&state)));
    Ok(response)
}
