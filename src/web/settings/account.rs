//! `/settings/account/tokens/`: each user creates and revokes their own API tokens. A new token is
//! shown once, on the page that created it; only its SHA-256 is stored.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::app::AppState;
use crate::secrets::{hash_token, random_hex};
use crate::store::{ApiToken, NewApiToken};
use crate::web::format::datetime;
use crate::web::session::CurrentUser;
use crate::web::{Nav, WebError, WebResult, see_other};

/// Scope sets offered in the form.
const SCOPES: [(&str, &str); 3] = [
    ("read", "org:read project:read event:read"),
    ("write", "org:read project:read project:write project:releases event:read event:write"),
    ("admin", "org:read project:read project:write project:releases project:admin event:read event:write event:admin"),
];

/// The tokens page.
#[derive(Template, WebTemplate)]
#[template(path = "tokens.html")]
pub struct TokensPage {
    nav: Nav,
    tokens: Vec<(ApiToken, String, String)>,
    new_token: Option<String>,
}

async fn page(state: &AppState, user: &CurrentUser, new_token: Option<String>) -> WebResult<TokensPage> {
    let tokens = state
        .store
        .list_api_tokens(user.user.id)
        .await?
        .into_iter()
        .map(|t| {
            let created = datetime(t.created_at);
            let used = t.last_used_at.map(datetime).unwrap_or_else(|| "never".to_owned());
            (t, created, used)
        })
        .collect();
    Ok(TokensPage { nav: Nav::new(user, &state.config.default_org, "settings"), tokens, new_token })
}

/// `GET /settings/account/tokens/`.
pub async fn list(State(state): State<AppState>, user: CurrentUser) -> WebResult<TokensPage> {
    page(&state, &user, None).await
}

/// The create form.
#[derive(Debug, Deserialize)]
pub struct CreateForm {
    name: String,
    access: String,
}

/// `POST /settings/account/tokens/`: create a token and show it once.
pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<CreateForm>,
) -> WebResult<Response> {
    let name = form.name.trim();
    if name.is_empty() || name.len() > 100 {
        return Err(WebError::BadRequest("Give the token a name of up to 100 characters.".to_owned()));
    }
    let scopes = SCOPES
        .iter()
        .find(|(k, _)| *k == form.access)
        .map(|(_, s)| *s)
        .ok_or_else(|| WebError::BadRequest("Pick the token's access.".to_owned()))?;
    // Admin scopes only for admins.
    if form.access == "admin" {
        user.require_admin()?;
    }
    let token = random_hex(32);
    state
        .store
        .create_api_token(&NewApiToken {
            user_id: user.user.id,
            token_hash: hash_token(&token),
            name: name.to_owned(),
            scopes: scopes.to_owned(),
        })
        .await?;
    Ok(page(&state, &user, Some(token)).await?.into_response())
}

/// `POST /settings/account/tokens/{id}/revoke/`.
pub async fn revoke(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> WebResult<Response> {
    let id: i64 = id.parse().map_err(|_| WebError::NotFound("No such token.".to_owned()))?;
    state.store.revoke_api_token(user.user.id, id).await?;
    Ok(see_other("/settings/account/tokens/"))
}
