//! `--verify`: ask the server (through its Sentry-compatible API) how many events it digested.
//!
//! Digested means stored and grouped: the sum of `count` over the project's issues, all statuses.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::Value;

/// A project's digested-event total at one moment.
#[derive(Debug, Clone, Copy)]
pub struct Snapshot {
    /// Sum of issue counts.
    pub events: u64,
    /// Number of issues.
    pub issues: u64,
    /// When it was taken.
    pub at: Instant,
}

/// Reads issue counts of one project.
pub struct Verifier {
    client: reqwest::Client,
    issues_url: String,
    token: String,
}

impl Verifier {
    /// Find the DSN's project (by id) in `org`.
    pub async fn new(
        client: reqwest::Client,
        base: &str,
        token: &str,
        org: &str,
        project_id: &str,
    ) -> anyhow::Result<Self> {
        let projects: Value = client
            .get(format!("{base}/api/0/organizations/{org}/projects/"))
            .bearer_auth(token)
            .send()
            .await
            .context("cannot reach the API for --verify")?
            .error_for_status()
            .context("the API refused --verify (token or organization)")?
            .json()
            .await?;
        let slug = projects
            .as_array()
            .and_then(|ps| ps.iter().find(|p| p["id"].as_str() == Some(project_id)))
            .and_then(|p| p["slug"].as_str())
            .with_context(|| format!("project {project_id} is not in organization {org}"))?;
        Ok(Self { client, issues_url: format!("{base}/api/0/projects/{org}/{slug}/issues/"), token: token.to_owned() })
    }

    /// Sum the counts of every issue (following the pagination).
    pub async fn snapshot(&self) -> anyhow::Result<Snapshot> {
        let (mut events, mut issues, mut offset) = (0u64, 0u64, 0u64);
        loop {
            let page: Value = self
                .client
                .get(format!("{}?query=&limit=100&cursor=0:{offset}:0", self.issues_url))
                .bearer_auth(&self.token)
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            let Some(list) = page.as_array() else { bail!("unexpected issue list: {page}") };
            for issue in list {
                events += issue["count"].as_str().and_then(|c| c.parse::<u64>().ok()).unwrap_or(0);
            }
            issues += list.len() as u64;
            if list.len() < 100 {
                break;
            }
            offset += 100;
        }
        Ok(Snapshot { events, issues, at: Instant::now() })
    }

    /// Poll until `target` events are digested or `timeout` passes; the last snapshot.
    pub async fn wait_for(&self, target: u64, timeout: Duration) -> anyhow::Result<Snapshot> {
        let give_up = Instant::now() + timeout;
        loop {
            let snapshot = self.snapshot().await?;
            if snapshot.events >= target || Instant::now() >= give_up {
                return Ok(snapshot);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
