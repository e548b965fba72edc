//! Per-project grouping rules (`project_grouping`) and an issue's hashes, read by the grouping
//! settings page, the ingest cache of parsed rules and the issue page's grouping panel; and when each
//! alert rule of a project last fired, for the alert rules page.

macro_rules! grouping {
    () => {
        async fn find_project_grouping(
            &self,
            project_id: i64,
        ) -> $crate::store::StoreResult<Option<$crate::store::ProjectGrouping>> {
            Ok(sqlx::query_as(
                "SELECT project_id, fingerprint_rules, stacktrace_rules FROM project_grouping WHERE project_id = $1",
            )
            .bind(project_id)
            .fetch_optional(self.reader())
            .await?)
        }

        async fn save_project_grouping(
            &self,
            grouping: &$crate::store::ProjectGrouping,
        ) -> $crate::store::StoreResult<()> {
            sqlx::query(
                "INSERT INTO project_grouping (project_id, fingerprint_rules, stacktrace_rules, updated_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (project_id) DO UPDATE SET \
                 fingerprint_rules = excluded.fingerprint_rules, stacktrace_rules = excluded.stacktrace_rules, \
                 updated_at = excluded.updated_at",
            )
            .bind(grouping.project_id)
            .bind(&grouping.fingerprint_rules)
            .bind(&grouping.stacktrace_rules)
            .bind($crate::store::Millis::now())
            .execute(self.writer())
            .await?;
            Ok(())
        }

        async fn list_issue_hashes(&self, issue_id: i64) -> $crate::store::StoreResult<Vec<$crate::store::IssueHash>> {
            let rows: Vec<(String, i64)> = sqlx::query_as(
                "SELECT h.hash, CAST((SELECT COUNT(*) FROM (SELECT 1 FROM events e WHERE e.issue_id = h.issue_id \
                 AND e.primary_hash = h.hash LIMIT $2) c) AS BIGINT) FROM issue_hashes h WHERE h.issue_id = $1 ORDER BY h.hash",
            )
            .bind(issue_id)
            .bind($crate::store::IssueHash::COUNT_CAP + 1)
            .fetch_all(self.reader())
            .await?;
            Ok(rows.into_iter().map(|(hash, events)| $crate::store::IssueHash { hash, events }).collect())
        }

        async fn alert_rules_last_fired(
            &self,
            project_id: i64,
        ) -> $crate::store::StoreResult<Vec<(i64, $crate::store::Millis)>> {
            let rows: Vec<(i64, i64)> = sqlx::query_as(
                "SELECT f.rule_id, MAX(f.last_fired_at) FROM alert_rule_fires f JOIN alert_rules r ON r.id = f.rule_id \
                 WHERE r.project_id = $1 GROUP BY f.rule_id",
            )
            .bind(project_id)
            .fetch_all(self.reader())
            .await?;
            Ok(rows.into_iter().map(|(id, at)| (id, $crate::store::Millis(at))).collect())
        }
    };
}

pub(crate) use grouping;
