//! `GET /organizations/{org}/releases/` (releases of the visible projects, with their new issues),
//! `…/releases/{version}/` (the issues it introduced, the issues resolved in it, its latest events),
//! and `GET /organizations/{org}/environments/`.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};

use super::format::{ago, datetime, q};
use super::session::CurrentUser;
use super::{Nav, OrgScope, WebResult};
use crate::app::AppState;
use crate::store::{Environment, Issue, IssueFilter, IssueQuery, Millis, ReleaseSummary};

/// The releases page.
#[derive(Template, WebTemplate)]
#[template(path = "releases.html")]
pub struct ReleasesPage {
    nav: Nav,
    releases: Vec<(ReleaseSummary, String, String)>,
}

/// One release's page.
#[derive(Template, WebTemplate)]
#[template(path = "release.html")]
pub struct ReleasePage {
    nav: Nav,
    version: String,
    version_q: String,
    new_issues: Vec<(Issue, String)>,
    resolved: Vec<(Issue, String)>,
    events: Vec<(String, i64, String, String, String)>,
}

/// The environments page.
#[derive(Template, WebTemplate)]
#[template(path = "environments.html")]
pub struct EnvironmentsPage {
    nav: Nav,
    environments: Vec<(Environment, String, String, String)>,
}

/// `GET /organizations/{org}/releases/`.
pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(org): Path<String>,
) -> WebResult<ReleasesPage> {
    let scope = OrgScope::load(&state, &user, &org).await?;
    let now = Millis::now();
    let releases = state
        .store
        .list_releases(scope.org.id, &scope.project_ids(), 200)
        .await?
        .into_iter()
        .map(|r| {
            let last = r.last_event.map(|t| ago(t, now)).unwrap_or_default();
            let link = format!("/organizations/{org}/releases/{}/", q(&r.version).replace('+', "%20"));
            (r, last, link)
        })
        .collect();
    Ok(ReleasesPage { nav: Nav::new(&user, &scope.org.slug, "releases"), releases })
}

/// `GET /organizations/{org}/releases/{version}/`.
pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((org, version)): Path<(String, String)>,
) -> WebResult<ReleasePage> {
    let scope = OrgScope::load(&state, &user, &org).await?;
    let ids = scope.project_ids();
    let now = Millis::now();
    let list = |filter: IssueFilter| IssueQuery {
        filters: vec![IssueFilter::Projects(ids.clone()), filter],
        limit: 100,
        ..IssueQuery::default()
    };
    let label = |issues: Vec<Issue>| -> Vec<(Issue, String)> {
        issues
            .into_iter()
            .map(|i| {
                let slug = scope.project_by_id(i.project_id).map(|p| p.slug.as_str()).unwrap_or_default();
                let short = crate::api::serialize::short_id(slug, i.short_id);
                (i, short)
            })
            .collect()
    };
    let new_issues = label(state.store.list_issues(&list(IssueFilter::FirstRelease(version.clone()))).await?);
    let resolved = label(state.store.list_issues(&list(IssueFilter::ResolvedIn(version.clone()))).await?);
    let events = state
        .store
        .list_release_events(&ids, &version, 50)
        .await?
        .into_iter()
        .map(|e| {
            (
                e.event_id,
                e.issue_id.unwrap_or_default(),
                e.title,
                ago(e.timestamp, now),
                e.environment.unwrap_or_default(),
            )
        })
        .collect();
    Ok(ReleasePage {
        nav: Nav::new(&user, &scope.org.slug, "releases"),
        version_q: q(&format!("release:\"{version}\"")),
        version,
        new_issues,
        resolved,
        events,
    })
}

/// `GET /organizations/{org}/environments/`.
pub async fn environments(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(org): Path<String>,
) -> WebResult<EnvironmentsPage> {
    let scope = OrgScope::load(&state, &user, &org).await?;
    let now = Millis::now();
    let environments = state
        .store
        .list_environments(&scope.project_ids())
        .await?
        .into_iter()
        .map(|e| {
            let project = scope.project_by_id(e.project_id).map(|p| p.slug.clone()).unwrap_or_default();
            let last = ago(e.last_seen, now);
            let first = datetime(e.first_seen);
            (e, project, first, last)
        })
        .collect();
    Ok(EnvironmentsPage { nav: Nav::new(&user, &scope.org.slug, "releases"), environments })
}
