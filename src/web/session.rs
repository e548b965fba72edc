//! Login sessions and CSRF protection for every page behind the login.
//!
//! The session cookie (`faultline_session`) holds 32 random bytes; the database keeps only their
//! SHA-256, so a leaked database cannot be replayed as cookies. The cookie is `HttpOnly`,
//! `SameSite=Lax`, and `Secure` when the public URL is https.
//!
//! [`require_session`] wraps every authenticated route: without a valid session a request is sent to
//! `/login?next=…`; with one, every POST must carry the session's CSRF token in its `csrf` form field
//! (checked here, once, for all forms, so no handler can forget it) or it gets a 403. The handler then
//! reads the [`CurrentUser`] from the request.

use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use subtle::ConstantTimeEq;

use super::WebError;
use crate::app::AppState;
use crate::secrets::hash_token;
use crate::store::{Millis, Project, Store, StoreResult, User};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "faultline_session";
/// How long a login lasts.
pub const SESSION_SECS: i64 = 14 * 24 * 3600;
/// Largest form body accepted behind the login.
const MAX_FORM_BYTES: usize = 256 * 1024;

/// The signed-in user of a request, with the session's CSRF token for the forms it renders.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    /// The user.
    pub user: User,
    /// The token every form must post back as `csrf`.
    pub csrf: String,
    /// SHA-256 of the session cookie (for logout).
    pub token_hash: String,
}

impl CurrentUser {
    /// The projects of an organization this user may see: all for admins, else their memberships.
    pub async fn visible_projects(&self, store: &Store, organization_id: i64) -> StoreResult<Vec<Project>> {
        crate::projects::visible_projects(store, &self.user, organization_id).await
    }

    /// Admins only.
    pub fn require_admin(&self) -> Result<(), WebError> {
        if self.user.is_admin { Ok(()) } else { Err(WebError::Forbidden) }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<CurrentUser>()
            .cloned()
            .ok_or_else(|| WebError::Internal(anyhow::anyhow!("route is missing the session layer")))
    }
}

/// A cookie's value from the request headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    axum_extra::extract::CookieJar::from_headers(headers).get(name).map(|c| c.value().to_owned())
}

/// A `Set-Cookie` value with Faultline's flags; `max_age` 0 deletes the cookie.
pub fn set_cookie(name: &str, value: &str, max_age: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let line = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}");
    HeaderValue::from_str(&line).unwrap_or_else(|_| HeaderValue::from_static("invalid=; Max-Age=0"))
}

/// Whether cookies get the `Secure` flag.
pub fn secure_cookies(state: &AppState) -> bool {
    state.config.public_url().starts_with("https://")
}

/// Compare two tokens in constant time.
pub fn tokens_match(a: &str, b: &str) -> bool {
    !a.is_empty() && a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// The `csrf` field of a url-encoded form body.
pub fn form_csrf(body: &[u8]) -> Option<String> {
    url::form_urlencoded::parse(body).find(|(k, _)| k == "csrf").map(|(_, v)| v.into_owned())
}

/// Middleware: a valid session, and a matching CSRF token on every POST.
pub async fn require_session(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match check(&state, request).await {
        Ok(request) => next.run(request).await,
        Err(response) => response,
    }
}

async fn check(state: &AppState, request: Request) -> Result<Request, Response> {
    let session = match cookie(request.headers(), SESSION_COOKIE) {
        Some(value) => {
            let token_hash = hash_token(&value);
            state
                .store
                .find_session(&token_hash, Millis::now())
                .await
                .map_err(|e| WebError::from(e).into_response())?
                .map(|(user, session)| CurrentUser { user, csrf: session.csrf_token, token_hash })
        }
        None => None,
    };
    let Some(current) = session else {
        let target = request.uri().path_and_query().map_or("/", |p| p.as_str());
        let next = if request.method() == Method::GET { target } else { "/" };
        let location =
            format!("/login?next={}", url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>());
        return Err(Redirect::to(&location).into_response());
    };
    let (mut parts, body) = request.into_parts();
    let body = if parts.method == Method::POST {
        let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
            .await
            .map_err(|_| (StatusCode::PAYLOAD_TOO_LARGE, "form too large").into_response())?;
        let sent = form_csrf(&bytes).unwrap_or_default();
        if !tokens_match(&sent, &current.csrf) {
            tracing::debug!(user.id = current.user.id, path = %parts.uri.path(), "CSRF token missing or wrong");
            return Err(WebError::Csrf.into_response());
        }
        Body::from(bytes)
    } else {
        body
    };
    parts.extensions.insert(current);
    Ok(Request::from_parts(parts, body))
}
