//! `/settings/{org}/projects/{project}/grouping/`: a project's fingerprint rules and stack-trace rules
//! (Sentry's text syntax). Members read them; admins save them. Rules that do not parse are refused
//! with their line numbers (422, the submitted text kept in the form); saved rules reach ingest at once
//! on this node (the cache is invalidated) and apply to events that arrive from then on.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::app::AppState;
use crate::ingest::grouping_rules::compile;
use crate::store::{Project, ProjectGrouping};
use crate::web::session::CurrentUser;
use crate::web::{Nav, OrgScope, WebResult, see_other};

/// The grouping settings page.
#[derive(Template, WebTemplate)]
#[template(path = "project_grouping.html")]
pub struct GroupingPage {
    nav: Nav,
    project: Project,
    tab: &'static str,
    base: String,
    rules: ProjectGrouping,
    problems: Vec<String>,
    saved: bool,
}

/// `?saved=1` after a save.
#[derive(Debug, Default, Deserialize)]
pub struct Saved {
    #[serde(default)]
    saved: String,
}

async fn page(state: &AppState, user: &CurrentUser, org: &str, slug: &str) -> WebResult<GroupingPage> {
    let scope = OrgScope::load(state, user, org).await?;
    let project = scope.project(slug)?.clone();
    let rules = state.store.find_project_grouping(project.id).await?.unwrap_or_default();
    Ok(GroupingPage {
        nav: Nav::new(user, &scope.org.slug, "projects"),
        base: format!("/settings/{org}/projects/{slug}/"),
        project,
        tab: "grouping",
        rules,
        problems: Vec::new(),
        saved: false,
    })
}

/// `GET /settings/{org}/projects/{project}/grouping/`.
pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((org, slug)): Path<(String, String)>,
    Query(q): Query<Saved>,
) -> WebResult<GroupingPage> {
    let mut page = page(&state, &user, &org, &slug).await?;
    page.saved = q.saved == "1";
    Ok(page)
}

/// The rules form.
#[derive(Debug, Deserialize)]
pub struct RulesForm {
    #[serde(default)]
    fingerprint_rules: String,
    #[serde(default)]
    stacktrace_rules: String,
}

/// `POST …/grouping/`: validate and save both rule texts (admins).
pub async fn save(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((org, slug)): Path<(String, String)>,
    Form(form): Form<RulesForm>,
) -> WebResult<Response> {
    user.require_admin()?;
    let mut page = page(&state, &user, &org, &slug).await?;
    let rules = ProjectGrouping {
        project_id: page.project.id,
        fingerprint_rules: form.fingerprint_rules.replace("\r\n", "\n").trim_end().to_owned(),
        stacktrace_rules: form.stacktrace_rules.replace("\r\n", "\n").trim_end().to_owned(),
    };
    if let Err(problems) = compile(&rules) {
        page.problems = problems.iter().map(ToString::to_string).collect();
        page.rules = rules;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    state.store.save_project_grouping(&rules).await?;
    state.grouping.invalidate(rules.project_id);
    tracing::info!(project.id = rules.project_id, user.id = user.user.id, "grouping rules saved");
    Ok(see_other(&format!("/settings/{org}/projects/{slug}/grouping/?saved=1")))
}
