//! Read models of issues and events: lists, details, tag distributions.
//!
//! Everything here reads maintained rollups or indexed columns; no query scans event payloads.

/// The columns of an [`crate::store::Issue`].
macro_rules! issue_columns {
    () => {
        "id, project_id, short_id, title, culprit, level, event_type, metadata, status, substatus, first_seen, last_seen, \
         times_seen, users_seen, first_release, last_release, assignee_id, resolved_release, resolved_mode, ignore_until, \
         ignore_count, ignore_users"
    };
}

/// The columns of a [`crate::store::StoredEvent`].
macro_rules! event_columns {
    () => {
        "id, project_id, issue_id, event_id, event_type, timestamp, received_at, level, platform, title, message, environment, \
         release, user_key, payload"
    };
}

macro_rules! issues {
    () => {
        async fn list_issues(&self, query: &$crate::store::IssueQuery) -> $crate::store::StoreResult<Vec<$crate::store::Issue>> {
            let mut sql = sqlx::QueryBuilder::<Db>::new(concat!("SELECT ", $crate::store::ops::issue_columns!(), " FROM issues WHERE "));
            if query.project_id > 0 {
                sql.push("project_id = ");
                sql.push_bind(query.project_id);
            } else {
                sql.push("1 = 1");
            }
            for filter in &query.filters {
                sql.push(" AND ");
                push_issue_filter(&mut sql, filter, query.viewer_id);
            }
            match query.sort {
                $crate::store::IssueSort::LastSeen => sql.push(" ORDER BY last_seen DESC, id DESC"),
                $crate::store::IssueSort::FirstSeen => sql.push(" ORDER BY first_seen DESC, id DESC"),
                $crate::store::IssueSort::Events => sql.push(" ORDER BY times_seen DESC, id DESC"),
                $crate::store::IssueSort::Users => sql.push(" ORDER BY users_seen DESC, id DESC"),
                $crate::store::IssueSort::Trend => {
                    let now = query.now.unwrap_or_else($crate::store::Millis::now);
                    sql.push(" ORDER BY (SELECT COALESCE(SUM(h.count), 0) FROM issue_hourly h WHERE h.issue_id = issues.id AND h.hour >= ");
                    sql.push_bind(now.plus_secs(-24 * 3600));
                    sql.push(") DESC, last_seen DESC, id DESC")
                }
            };
            sql.push(" LIMIT ");
            sql.push_bind(query.limit);
            sql.push(" OFFSET ");
            sql.push_bind(query.offset);
            Ok(sql.build_query_as().fetch_all(self.reader()).await?)
        }

        async fn find_issue(&self, id: i64) -> $crate::store::StoreResult<Option<$crate::store::Issue>> {
            Ok(sqlx::query_as(concat!("SELECT ", $crate::store::ops::issue_columns!(), " FROM issues WHERE id = $1"))
                .bind(id)
                .fetch_optional(self.reader())
                .await?)
        }

        async fn delete_issue(&self, id: i64) -> $crate::store::StoreResult<()> {
            // Events, hashes and rollups go with it (ON DELETE CASCADE).
            let done = sqlx::query("DELETE FROM issues WHERE id = $1").bind(id).execute(self.writer()).await?;
            if done.rows_affected() == 0 {
                return Err($crate::store::StoreError::NotFound);
            }
            Ok(())
        }

        async fn set_issue_status(&self, id: i64, status: &str, substatus: Option<&str>) -> $crate::store::StoreResult<()> {
            let done = sqlx::query("UPDATE issues SET status = $2, substatus = $3 WHERE id = $1")
                .bind(id)
                .bind(status)
                .bind(substatus)
                .execute(self.writer())
                .await?;
            if done.rows_affected() == 0 {
                return Err($crate::store::StoreError::NotFound);
            }
            Ok(())
        }

        async fn list_issue_events(
            &self,
            issue_id: i64,
            limit: i64,
            offset: i64,
        ) -> $crate::store::StoreResult<Vec<$crate::store::StoredEvent>> {
            Ok(sqlx::query_as(concat!(
                "SELECT ",
                $crate::store::ops::event_columns!(),
                " FROM events WHERE issue_id = $1 ORDER BY timestamp DESC, id DESC LIMIT $2 OFFSET $3"
            ))
            .bind(issue_id)
            .bind(limit)
            .bind(offset)
            .fetch_all(self.reader())
            .await?)
        }

        async fn find_event(&self, project_id: i64, event_id: &str) -> $crate::store::StoreResult<Option<$crate::store::StoredEvent>> {
            Ok(sqlx::query_as(concat!("SELECT ", $crate::store::ops::event_columns!(), " FROM events WHERE project_id = $1 AND event_id = $2"))
                .bind(project_id)
                .bind(event_id)
                .fetch_optional(self.reader())
                .await?)
        }

        async fn issue_tag_values(
            &self,
            issue_id: i64,
            key: &str,
            limit: i64,
        ) -> $crate::store::StoreResult<Vec<$crate::store::TagValueCount>> {
            Ok(sqlx::query_as(
                "SELECT key, value, times_seen, first_seen, last_seen FROM issue_tag_values WHERE issue_id = $1 AND key = $2 \
                 ORDER BY times_seen DESC, value LIMIT $3",
            )
            .bind(issue_id)
            .bind(key)
            .bind(limit)
            .fetch_all(self.reader())
            .await?)
        }

        async fn issue_tag_totals(&self, issue_id: i64, key: &str) -> $crate::store::StoreResult<(i64, i64)> {
            let (total, unique): (i64, i64) = sqlx::query_as(
                "SELECT CAST(COALESCE(SUM(times_seen), 0) AS BIGINT), COUNT(*) FROM issue_tag_values WHERE issue_id = $1 AND key = $2",
            )
            .bind(issue_id)
            .bind(key)
            .fetch_one(self.reader())
            .await?;
            Ok((total, unique))
        }

        async fn issue_hourly_counts(
            &self,
            issue_id: i64,
            since: $crate::store::Millis,
        ) -> $crate::store::StoreResult<Vec<($crate::store::Millis, i64)>> {
            Ok(sqlx::query_as("SELECT hour, count FROM issue_hourly WHERE issue_id = $1 AND hour >= $2 ORDER BY hour")
                .bind(issue_id)
                .bind(since)
                .fetch_all(self.reader())
                .await?)
        }

        async fn list_attachments(
            &self,
            project_id: i64,
            event_id: &str,
        ) -> $crate::store::StoreResult<Vec<$crate::store::StoredAttachment>> {
            Ok(sqlx::query_as(
                "SELECT id, event_id, name, content_type, attachment_type, size, created_at FROM attachments \
                 WHERE project_id = $1 AND event_id = $2 ORDER BY id",
            )
            .bind(project_id)
            .bind(event_id)
            .fetch_all(self.reader())
            .await?)
        }

        async fn project_item_counts(&self, project_id: i64) -> $crate::store::StoreResult<$crate::store::ItemCounts> {
            let (user_reports,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM user_reports WHERE project_id = $1")
                .bind(project_id)
                .fetch_one(self.reader())
                .await?;
            let (sessions, sessions_errored, sessions_crashed, sessions_abnormal, sessions_exited): (i64, i64, i64, i64, i64) =
                sqlx::query_as(
                    "SELECT CAST(COALESCE(SUM(started), 0) AS BIGINT), CAST(COALESCE(SUM(errored), 0) AS BIGINT), \
                     CAST(COALESCE(SUM(crashed), 0) AS BIGINT), CAST(COALESCE(SUM(abnormal), 0) AS BIGINT), \
                     CAST(COALESCE(SUM(exited), 0) AS BIGINT) FROM session_hourly WHERE project_id = $1",
                )
                .bind(project_id)
                .fetch_one(self.reader())
                .await?;
            let (check_ins,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM check_ins WHERE project_id = $1")
                .bind(project_id)
                .fetch_one(self.reader())
                .await?;
            let (client_discards,): (i64,) =
                sqlx::query_as("SELECT CAST(COALESCE(SUM(quantity), 0) AS BIGINT) FROM client_outcomes WHERE project_id = $1")
                    .bind(project_id)
                    .fetch_one(self.reader())
                    .await?;
            let (transactions,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM events WHERE project_id = $1 AND event_type = 'transaction'")
                .bind(project_id)
                .fetch_one(self.reader())
                .await?;
            let (environments,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM environments WHERE project_id = $1")
                .bind(project_id)
                .fetch_one(self.reader())
                .await?;
            Ok($crate::store::ItemCounts {
                user_reports,
                sessions,
                sessions_errored,
                sessions_crashed,
                sessions_abnormal,
                sessions_exited,
                check_ins,
                client_discards,
                transactions,
                environments,
            })
        }
    };
}

/// Append one [`crate::store::IssueFilter`] as an SQL condition over `issues` (portable SQL).
macro_rules! push_issue_filter {
    () => {
        /// Append one filter as a condition over `issues`.
        fn push_issue_filter(
            sql: &mut sqlx::QueryBuilder<Db>,
            filter: &$crate::store::IssueFilter,
            viewer: Option<i64>,
        ) {
            use $crate::store::{AssigneeFilter as A, IssueFilter as F};
            let like = |text: &str| {
                let escaped = text.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
                format!("%{escaped}%")
            };
            match filter {
                F::Status(v) => {
                    sql.push("status = ");
                    sql.push_bind(v.clone());
                }
                F::Substatus(v) => {
                    sql.push("COALESCE(substatus, '') = ");
                    sql.push_bind(v.clone());
                }
                F::Level(v) => {
                    sql.push("level = ");
                    sql.push_bind(v.clone());
                }
                F::Tag { key, value } => {
                    sql.push("EXISTS (SELECT 1 FROM issue_tag_values t WHERE t.issue_id = issues.id AND t.key = ");
                    sql.push_bind(key.clone());
                    sql.push(" AND t.value = ");
                    sql.push_bind(value.clone());
                    sql.push(")");
                }
                F::Has(key) => {
                    sql.push("EXISTS (SELECT 1 FROM issue_tag_values t WHERE t.issue_id = issues.id AND t.key = ");
                    sql.push_bind(key.clone());
                    sql.push(")");
                }
                F::Text(text) => {
                    let pattern = like(text);
                    sql.push("(LOWER(title) LIKE ");
                    sql.push_bind(pattern.clone());
                    sql.push(" ESCAPE '\\' OR LOWER(culprit) LIKE ");
                    sql.push_bind(pattern.clone());
                    sql.push(" ESCAPE '\\' OR LOWER(metadata) LIKE ");
                    sql.push_bind(pattern);
                    sql.push(" ESCAPE '\\')");
                }
                F::FirstRelease(v) => {
                    sql.push("first_release = ");
                    sql.push_bind(v.clone());
                }
                F::ResolvedIn(v) => {
                    sql.push("status = 'resolved' AND resolved_release = ");
                    sql.push_bind(v.clone());
                }
                F::Assigned(A::Me) => {
                    sql.push("assignee_id = ");
                    sql.push_bind(viewer.unwrap_or(-1));
                }
                F::Assigned(A::Email(email)) => {
                    sql.push("assignee_id IN (SELECT id FROM users WHERE email = ");
                    sql.push_bind(email.to_lowercase());
                    sql.push(")");
                }
                F::Assigned(A::Nobody) => {
                    sql.push("assignee_id IS NULL");
                }
                F::Assigned(A::Anyone) => {
                    sql.push("assignee_id IS NOT NULL");
                }
                F::Bookmarked => {
                    sql.push("EXISTS (SELECT 1 FROM issue_bookmarks b WHERE b.issue_id = issues.id AND b.user_id = ");
                    sql.push_bind(viewer.unwrap_or(-1));
                    sql.push(")");
                }
                F::TimesSeen(cmp, n) => {
                    sql.push("times_seen");
                    sql.push(cmp.sql());
                    sql.push_bind(*n);
                }
                F::FirstSeen(cmp, t) => {
                    sql.push("first_seen");
                    sql.push(cmp.sql());
                    sql.push_bind(*t);
                }
                F::LastSeen(cmp, t) => {
                    sql.push("last_seen");
                    sql.push(cmp.sql());
                    sql.push_bind(*t);
                }
                F::UserEmail(email) => {
                    sql.push("EXISTS (SELECT 1 FROM issue_users u WHERE u.issue_id = issues.id AND LOWER(u.email) = ");
                    sql.push_bind(email.to_lowercase());
                    sql.push(")");
                }
                F::Projects(ids) => {
                    if ids.is_empty() {
                        sql.push("1 = 0");
                    } else {
                        sql.push("project_id IN (");
                        let mut list = sql.separated(", ");
                        for id in ids {
                            list.push_bind(*id);
                        }
                        sql.push(")");
                    }
                }
                F::Not(inner) => {
                    sql.push("NOT (");
                    push_issue_filter(sql, inner, viewer);
                    sql.push(")");
                }
            }
        }
    };
}

pub(crate) use {event_columns, issue_columns, issues, push_issue_filter};
