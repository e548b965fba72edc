//! Project provisioning shared by the CLI and the web UI: a project is born with one DSN key, and its
//! DSN is built from the public base URL. Also the one rule of who may see a project, shared by the
//! web UI and the API: admins see every project, other users the projects they are members of.
//!
//! ```text
//! FAULTLINE_URL = https://errors.example.com/sentry
//! DSN           = https://<public_key>@errors.example.com/sentry/<project_id>
//! ```

use crate::secrets::random_hex;
use crate::store::{NewProject, Organization, Project, ProjectKey, Store, StoreError, StoreResult, User};

/// Create a project with a default DSN key.
pub async fn create_project(
    store: &Store,
    org: &Organization,
    slug: &str,
    platform: Option<&str>,
) -> StoreResult<(Project, ProjectKey)> {
    let project = store
        .create_project(&NewProject {
            organization_id: org.id,
            slug: slug.to_owned(),
            name: slug.to_owned(),
            platform: platform.map(str::to_owned),
        })
        .await?;
    let key = store.create_project_key(project.id, &random_hex(16), "Default").await?;
    Ok((project, key))
}

/// The projects of an organization `user` may see: all for admins, else their memberships.
pub async fn visible_projects(store: &Store, user: &User, organization_id: i64) -> StoreResult<Vec<Project>> {
    let all = store.list_projects(organization_id).await?;
    if user.is_admin {
        return Ok(all);
    }
    let mine = store.member_project_ids(user.id).await?;
    Ok(all.into_iter().filter(|p| mine.contains(&p.id)).collect())
}

/// Whether `user` may see the project `project_id`: admins may see every project, others their memberships.
pub async fn may_see(store: &Store, user: &User, project_id: i64) -> StoreResult<bool> {
    Ok(user.is_admin || store.member_project_ids(user.id).await?.contains(&project_id))
}

/// Whether `slug` is a valid project or organization slug: 1–50 of `a-z 0-9 - _`, starting with a
/// letter or digit.
pub fn is_valid_slug(slug: &str) -> bool {
    let mut chars = slug.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c.is_ascii_digit())
        && slug.len() <= 50
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// The DSN an SDK uses to send events for `project_id` with `public_key`.
pub fn dsn(public_url: &str, public_key: &str, project_id: i64) -> String {
    let Ok(mut url) = url::Url::parse(public_url) else {
        return format!("{}/{project_id}", public_url.trim_end_matches('/'));
    };
    // Only URLs without a host refuse a username; the config only allows http(s) URLs.
    let _ = url.set_username(public_key);
    let path = url.path().trim_end_matches('/').to_owned();
    url.set_path(&format!("{path}/{project_id}"));
    url.to_string()
}

/// Map a store conflict on project creation to a readable message.
pub fn describe_create_error(err: &StoreError, org: &str, slug: &str) -> String {
    match err {
        StoreError::Conflict => format!("project {org}/{slug} already exists"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dsn_keeps_scheme_host_port_and_path_prefix() {
        assert_eq!(dsn("http://127.0.0.1:9000", "abc", 7), "http://abc@127.0.0.1:9000/7");
        assert_eq!(dsn("https://errors.example.com/sentry/", "k", 42), "https://k@errors.example.com/sentry/42");
    }

    #[test]
    fn slugs_are_lowercase_words() {
        assert!(is_valid_slug("backend-api_2"));
        assert!(!is_valid_slug(""));
        assert!(!is_valid_slug("-x"));
        assert!(!is_valid_slug("Has Space"));
        assert!(!is_valid_slug(&"a".repeat(51)));
    }
}
