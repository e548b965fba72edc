//! `/settings/{org}/projects/{project}/` and its tabs: `keys/`, `members/`, `environments/`,
//! `filters/`. One template with a tab bar; each POST changes one thing and redirects back.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;

use crate::app::AppState;
use crate::secrets::random_hex;
use crate::store::{Environment, Project, ProjectFilters, ProjectKey, User};
use crate::web::session::CurrentUser;
use crate::web::{Nav, OrgScope, WebError, WebResult, see_other};

/// A DSN key with its DSN.
pub struct KeyRow {
    /// The key.
    pub key: ProjectKey,
    /// Its DSN.
    pub dsn: String,
}

/// The project settings page; `tab` picks the section.
#[derive(Template, WebTemplate)]
#[template(path = "project_settings.html")]
pub struct SettingsPage {
    nav: Nav,
    project: Project,
    tab: &'static str,
    keys: Vec<KeyRow>,
    members: Vec<User>,
    candidates: Vec<User>,
    environments: Vec<Environment>,
    filters: ProjectFilters,
    base: String,
}

async fn load(
    state: &AppState,
    user: &CurrentUser,
    org: &str,
    slug: &str,
    tab: &'static str,
) -> WebResult<SettingsPage> {
    let scope = OrgScope::load(state, user, org).await?;
    let project = scope.project(slug)?.clone();
    let store = &state.store;
    let mut page = SettingsPage {
        nav: Nav::new(user, &scope.org.slug, "projects"),
        base: format!("/settings/{org}/projects/{slug}/"),
        project,
        tab,
        keys: Vec::new(),
        members: Vec::new(),
        candidates: Vec::new(),
        environments: Vec::new(),
        filters: ProjectFilters::default(),
    };
    let id = page.project.id;
    match tab {
        "keys" => {
            let url = state.config.public_url();
            page.keys = store
                .list_project_keys(id)
                .await?
                .into_iter()
                .map(|key| KeyRow { dsn: crate::projects::dsn(&url, &key.public_key, id), key })
                .collect();
        }
        "members" => {
            page.members = store.list_project_members(id).await?;
            page.candidates =
                store.list_users().await?.into_iter().filter(|u| !page.members.iter().any(|m| m.id == u.id)).collect();
        }
        "environments" => page.environments = store.list_environments(&[id]).await?,
        "filters" => page.filters = store.find_project_filters(id).await?.unwrap_or_default(),
        _ => {}
    }
    Ok(page)
}

/// `GET /settings/{org}/projects/{project}/`.
pub async fn general(
    State(s): State<AppState>,
    u: CurrentUser,
    Path((o, p)): Path<(String, String)>,
) -> WebResult<SettingsPage> {
    load(&s, &u, &o, &p, "general").await
}
/// `GET …/keys/`.
pub async fn keys(
    State(s): State<AppState>,
    u: CurrentUser,
    Path((o, p)): Path<(String, String)>,
) -> WebResult<SettingsPage> {
    load(&s, &u, &o, &p, "keys").await
}
/// `GET …/members/`.
pub async fn members(
    State(s): State<AppState>,
    u: CurrentUser,
    Path((o, p)): Path<(String, String)>,
) -> WebResult<SettingsPage> {
    load(&s, &u, &o, &p, "members").await
}
/// `GET …/environments/`.
pub async fn environments(
    State(s): State<AppState>,
    u: CurrentUser,
    Path((o, p)): Path<(String, String)>,
) -> WebResult<SettingsPage> {
    load(&s, &u, &o, &p, "environments").await
}
/// `GET …/filters/`.
pub async fn filters(
    State(s): State<AppState>,
    u: CurrentUser,
    Path((o, p)): Path<(String, String)>,
) -> WebResult<SettingsPage> {
    load(&s, &u, &o, &p, "filters").await
}

async fn admin_project(state: &AppState, user: &CurrentUser, org: &str, slug: &str) -> WebResult<Project> {
    user.require_admin()?;
    Ok(OrgScope::load(state, user, org).await?.project(slug)?.clone())
}

/// The general form.
#[derive(Debug, Deserialize)]
pub struct GeneralForm {
    name: String,
    #[serde(default)]
    platform: String,
}

/// `POST /settings/{org}/projects/{project}/`: name and platform.
pub async fn save_general(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((org, slug)): Path<(String, String)>,
    Form(form): Form<GeneralForm>,
) -> WebResult<Response> {
    let project = admin_project(&state, &user, &org, &slug).await?;
    let name = form.name.trim();
    if name.is_empty() || name.len() > 100 {
        return Err(WebError::BadRequest("The name must have 1 to 100 characters.".to_owned()));
    }
    let platform = Some(form.platform.trim()).filter(|p| !p.is_empty() && p.len() <= 64);
    state.store.update_project(project.id, name, platform).await?;
    Ok(see_other(&format!("/settings/{org}/projects/{slug}/")))
}

/// The key forms.
#[derive(Debug, Deserialize)]
pub struct KeyForm {
    #[serde(default)]
    label: String,
    #[serde(default)]
    enabled: String,
    #[serde(default)]
    rate_limit: String,
}

/// `POST …/keys/`: a new key.
pub async fn create_key(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((org, slug)): Path<(String, String)>,
    Form(form): Form<KeyForm>,
) -> WebResult<Response> {
    let project = admin_project(&state, &user, &org, &slug).await?;
    let label = Some(form.label.trim()).filter(|l| !l.is_empty()).unwrap_or("Default");
    if label.len() > 100 {
        return Err(WebError::BadRequest("The label is too long.".to_owned()));
    }
    state.store.create_project_key(project.id, &random_hex(16), label).await?;
    Ok(see_other(&format!("/settings/{org}/projects/{slug}/keys/")))
}

async fn own_key(state: &AppState, project: &Project, key_id: &str) -> WebResult<ProjectKey> {
    let id: i64 = key_id.parse().map_err(|_| WebError::NotFound("No such key.".to_owned()))?;
    state
        .store
        .list_project_keys(project.id)
        .await?
        .into_iter()
        .find(|k| k.id == id)
        .ok_or_else(|| WebError::NotFound("No such key.".to_owned()))
}

/// `POST …/keys/{key_id}/`: enable/disable and the per-minute rate limit (empty: the default).
pub async fn update_key(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((org, slug, key_id)): Path<(String, String, String)>,
    Form(form): Form<KeyForm>,
) -> WebResult<Response> {
    let project = admin_project(&state, &user, &org, &slug).await?;
    let key = own_key(&state, &project, &key_id).await?;
    let limit =
        match form.rate_limit.trim() {
            "" => None,
            n => Some(n.parse::<i64>().ok().filter(|n| *n >= 0 && *n <= 10_000_000).ok_or_else(|| {
                WebError::BadRequest("The rate limit must be a number of events per minute.".to_owned())
            })?),
        };
    state.store.update_project_key(key.id, form.enabled == "1", limit).await?;
    state.keys.invalidate(&key.public_key);
    Ok(see_other(&format!("/settings/{org}/projects/{slug}/keys/")))
}

/// `POST …/keys/{key_id}/revoke/`: delete the key; SDKs using it are refused from now on.
pub async fn revoke_key(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((org, slug, key_id)): Path<(String, String, String)>,
) -> WebResult<Response> {
    let project = admin_project(&state, &user, &org, &slug).await?;
    let key = own_key(&state, &project, &key_id).await?;
    state.store.delete_project_key(project.id, key.id).await?;
    state.keys.invalidate(&key.public_key);
    Ok(see_other(&format!("/settings/{org}/projects/{slug}/keys/")))
}

/// The members form.
#[derive(Debug, Deserialize)]
pub struct MemberForm {
    action: String,
    user_id: i64,
}

/// `POST …/members/`: add or remove a member.
pub async fn save_member(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((org, slug)): Path<(String, String)>,
    Form(form): Form<MemberForm>,
) -> WebResult<Response> {
    let project = admin_project(&state, &user, &org, &slug).await?;
    state.store.find_user(form.user_id).await?.ok_or_else(|| WebError::BadRequest("No such user.".to_owned()))?;
    match form.action.as_str() {
        "add" => state.store.add_project_member(project.id, form.user_id).await?,
        "remove" => state.store.remove_project_member(project.id, form.user_id).await?,
        other => return Err(WebError::BadRequest(format!("Unknown action {other:?}."))),
    }
    Ok(see_other(&format!("/settings/{org}/projects/{slug}/members/")))
}

/// The environments form.
#[derive(Debug, Deserialize)]
pub struct EnvironmentForm {
    name: String,
    #[serde(default)]
    hidden: String,
}

/// `POST …/environments/`: hide or show an environment.
pub async fn save_environment(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((org, slug)): Path<(String, String)>,
    Form(form): Form<EnvironmentForm>,
) -> WebResult<Response> {
    let project = admin_project(&state, &user, &org, &slug).await?;
    state.store.set_environment_hidden(project.id, &form.name, form.hidden == "1").await?;
    Ok(see_other(&format!("/settings/{org}/projects/{slug}/environments/")))
}

/// The inbound filters form.
#[derive(Debug, Deserialize)]
pub struct FiltersForm {
    #[serde(default)]
    localhost: String,
    #[serde(default)]
    browser_extensions: String,
    #[serde(default)]
    error_messages: String,
    #[serde(default)]
    error_types: String,
    #[serde(default)]
    releases: String,
}

fn patterns(text: &str) -> WebResult<String> {
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    if lines.len() > 200 || lines.iter().any(|l| l.len() > 500) {
        return Err(WebError::BadRequest("Use at most 200 patterns of up to 500 characters.".to_owned()));
    }
    Ok(lines.join("\n"))
}

/// `POST …/filters/`: save the inbound filters; ingest applies them within seconds.
pub async fn save_filters(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((org, slug)): Path<(String, String)>,
    Form(form): Form<FiltersForm>,
) -> WebResult<Response> {
    let project = admin_project(&state, &user, &org, &slug).await?;
    let filters = ProjectFilters {
        project_id: project.id,
        localhost: form.localhost == "1",
        browser_extensions: form.browser_extensions == "1",
        error_messages: patterns(&form.error_messages)?,
        error_types: patterns(&form.error_types)?,
        releases: patterns(&form.releases)?,
    };
    state.store.save_project_filters(&filters).await?;
    state.filters.invalidate(project.id);
    Ok(see_other(&format!("/settings/{org}/projects/{slug}/filters/")))
}
