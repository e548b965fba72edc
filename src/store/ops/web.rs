//! Read models and settings of the web UI: membership, sparklines, tag summaries, event navigation,
//! releases, environments, DSN-key revocation and inbound filters.
//!
//! Like the rest of the store, pages read rollups (`issue_hourly`, `issue_tag_values`) and indexed
//! columns; nothing here decompresses or scans event payloads.

macro_rules! web {
    () => {
        async fn list_users(&self) -> $crate::store::StoreResult<Vec<$crate::store::User>> {
            Ok(sqlx::query_as("SELECT id, email, is_admin, created_at FROM users ORDER BY email").fetch_all(self.reader()).await?)
        }

        async fn set_user_password(&self, user_id: i64, password_hash: &str) -> $crate::store::StoreResult<()> {
            let done = sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
                .bind(user_id)
                .bind(password_hash)
                .execute(self.writer())
                .await?;
            if done.rows_affected() == 0 {
                return Err($crate::store::StoreError::NotFound);
            }
            Ok(())
        }

        async fn add_project_member(&self, project_id: i64, user_id: i64) -> $crate::store::StoreResult<()> {
            sqlx::query("INSERT INTO project_members (project_id, user_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                .bind(project_id)
                .bind(user_id)
                .bind($crate::store::Millis::now())
                .execute(self.writer())
                .await?;
            Ok(())
        }

        async fn remove_project_member(&self, project_id: i64, user_id: i64) -> $crate::store::StoreResult<()> {
            sqlx::query("DELETE FROM project_members WHERE project_id = $1 AND user_id = $2")
                .bind(project_id)
                .bind(user_id)
                .execute(self.writer())
                .await?;
            Ok(())
        }

        async fn list_project_members(&self, project_id: i64) -> $crate::store::StoreResult<Vec<$crate::store::User>> {
            Ok(sqlx::query_as(
                "SELECT u.id, u.email, u.is_admin, u.created_at FROM project_members m JOIN users u ON u.id = m.user_id \
                 WHERE m.project_id = $1 ORDER BY u.email",
            )
            .bind(project_id)
            .fetch_all(self.reader())
            .await?)
        }

        async fn member_project_ids(&self, user_id: i64) -> $crate::store::StoreResult<Vec<i64>> {
            let rows: Vec<(i64,)> = sqlx::query_as("SELECT project_id FROM project_members WHERE user_id = $1 ORDER BY project_id")
                .bind(user_id)
                .fetch_all(self.reader())
                .await?;
            Ok(rows.into_iter().map(|(id,)| id).collect())
        }

        async fn update_project(
            &self,
            id: i64,
            name: &str,
            platform: Option<&str>,
        ) -> $crate::store::StoreResult<()> {
            let done = sqlx::query("UPDATE projects SET name = $2, platform = $3 WHERE id = $1")
                .bind(id)
                .bind(name)
                .bind(platform)
                .execute(self.writer())
                .await?;
            if done.rows_affected() == 0 {
                return Err($crate::store::StoreError::NotFound);
            }
            Ok(())
        }

        async fn delete_project_key(&self, project_id: i64, key_id: i64) -> $crate::store::StoreResult<()> {
            let done = sqlx::query("DELETE FROM project_keys WHERE id = $1 AND project_id = $2")
                .bind(key_id)
                .bind(project_id)
                .execute(self.writer())
                .await?;
            if done.rows_affected() == 0 {
                return Err($crate::store::StoreError::NotFound);
            }
            Ok(())
        }

        async fn hourly_counts_of(
            &self,
            issue_ids: &[i64],
            since: $crate::store::Millis,
        ) -> $crate::store::StoreResult<Vec<(i64, $crate::store::Millis, i64)>> {
            if issue_ids.is_empty() {
                return Ok(Vec::new());
            }
            let mut sql = sqlx::QueryBuilder::<Db>::new("SELECT issue_id, hour, count FROM issue_hourly WHERE hour >= ");
            sql.push_bind(since);
            sql.push(" AND issue_id IN (");
            let mut list = sql.separated(", ");
            for id in issue_ids {
                list.push_bind(*id);
            }
            sql.push(")");
            Ok(sql.build_query_as().fetch_all(self.reader()).await?)
        }

        async fn bookmarked_among(&self, user_id: i64, issue_ids: &[i64]) -> $crate::store::StoreResult<Vec<i64>> {
            if issue_ids.is_empty() {
                return Ok(Vec::new());
            }
            let mut sql = sqlx::QueryBuilder::<Db>::new("SELECT issue_id FROM issue_bookmarks WHERE user_id = ");
            sql.push_bind(user_id);
            sql.push(" AND issue_id IN (");
            let mut list = sql.separated(", ");
            for id in issue_ids {
                list.push_bind(*id);
            }
            sql.push(")");
            let rows: Vec<(i64,)> = sql.build_query_as().fetch_all(self.reader()).await?;
            Ok(rows.into_iter().map(|(id,)| id).collect())
        }

        async fn issue_tag_tops(&self, issue_id: i64, per_key: i64) -> $crate::store::StoreResult<Vec<$crate::store::TagTop>> {
            Ok(sqlx::query_as(
                "SELECT key, value, count, total FROM (SELECT key, value, times_seen AS count, \
                 CAST(SUM(times_seen) OVER (PARTITION BY key) AS BIGINT) AS total, \
                 ROW_NUMBER() OVER (PARTITION BY key ORDER BY times_seen DESC, value) AS rn \
                 FROM issue_tag_values WHERE issue_id = $1) ranked WHERE rn <= $2 ORDER BY key, count DESC, value",
            )
            .bind(issue_id)
            .bind(per_key)
            .fetch_all(self.reader())
            .await?)
        }

        async fn event_neighbors(
            &self,
            issue_id: i64,
            event: &$crate::store::StoredEvent,
        ) -> $crate::store::StoreResult<$crate::store::EventNeighbors> {
            async fn one(
                pool: &sqlx::Pool<Db>,
                sql: &'static str,
                issue_id: i64,
                event: &$crate::store::StoredEvent,
            ) -> $crate::store::StoreResult<Option<String>> {
                let row: Option<(String,)> =
                    sqlx::query_as(sql).bind(issue_id).bind(event.timestamp).bind(event.id).fetch_optional(pool).await?;
                Ok(row.map(|(id,)| id))
            }
            async fn end(pool: &sqlx::Pool<Db>, sql: &'static str, issue_id: i64) -> $crate::store::StoreResult<Option<String>> {
                let row: Option<(String,)> = sqlx::query_as(sql).bind(issue_id).fetch_optional(pool).await?;
                Ok(row.map(|(id,)| id))
            }
            let pool = self.reader();
            Ok($crate::store::EventNeighbors {
                previous: one(
                    pool,
                    "SELECT event_id FROM events WHERE issue_id = $1 AND timestamp <= $2 AND (timestamp < $2 OR id < $3) \
                     ORDER BY timestamp DESC, id DESC LIMIT 1",
                    issue_id,
                    event,
                )
                .await?,
                next: one(
                    pool,
                    "SELECT event_id FROM events WHERE issue_id = $1 AND timestamp >= $2 AND (timestamp > $2 OR id > $3) \
                     ORDER BY timestamp, id LIMIT 1",
                    issue_id,
                    event,
                )
                .await?,
                oldest: end(pool, "SELECT event_id FROM events WHERE issue_id = $1 ORDER BY timestamp, id LIMIT 1", issue_id).await?,
                latest: end(pool, "SELECT event_id FROM events WHERE issue_id = $1 ORDER BY timestamp DESC, id DESC LIMIT 1", issue_id)
                    .await?,
            })
        }

        async fn list_releases(
            &self,
            organization_id: i64,
            project_ids: &[i64],
            limit: i64,
        ) -> $crate::store::StoreResult<Vec<$crate::store::ReleaseSummary>> {
            if project_ids.is_empty() {
                return Ok(Vec::new());
            }
            let mut sql = sqlx::QueryBuilder::<Db>::new(
                "SELECT r.version, r.created_at, r.first_event, r.last_event, \
                 (SELECT COUNT(*) FROM issues i WHERE i.first_release = r.version AND i.project_id IN (",
            );
            let mut list = sql.separated(", ");
            for id in project_ids {
                list.push_bind(*id);
            }
            sql.push(")) AS new_issues FROM releases r WHERE r.organization_id = ");
            sql.push_bind(organization_id);
            sql.push(" AND EXISTS (SELECT 1 FROM release_projects rp WHERE rp.release_id = r.id AND rp.project_id IN (");
            let mut list = sql.separated(", ");
            for id in project_ids {
                list.push_bind(*id);
            }
            sql.push(")) ORDER BY r.id DESC LIMIT ");
            sql.push_bind(limit);
            Ok(sql.build_query_as().fetch_all(self.reader()).await?)
        }

        async fn list_release_events(
            &self,
            project_ids: &[i64],
            version: &str,
            limit: i64,
        ) -> $crate::store::StoreResult<Vec<$crate::store::StoredEvent>> {
            if project_ids.is_empty() {
                return Ok(Vec::new());
            }
            let mut sql = sqlx::QueryBuilder::<Db>::new(concat!("SELECT ", $crate::store::ops::event_columns!(), " FROM events WHERE release = "));
            sql.push_bind(version.to_owned());
            sql.push(" AND project_id IN (");
            let mut list = sql.separated(", ");
            for id in project_ids {
                list.push_bind(*id);
            }
            sql.push(") ORDER BY timestamp DESC, id DESC LIMIT ");
            sql.push_bind(limit);
            Ok(sql.build_query_as().fetch_all(self.reader()).await?)
        }

        async fn list_environments(&self, project_ids: &[i64]) -> $crate::store::StoreResult<Vec<$crate::store::Environment>> {
            if project_ids.is_empty() {
                return Ok(Vec::new());
            }
            let mut sql =
                sqlx::QueryBuilder::<Db>::new("SELECT project_id, name, first_seen, last_seen, hidden FROM environments WHERE project_id IN (");
            let mut list = sql.separated(", ");
            for id in project_ids {
                list.push_bind(*id);
            }
            sql.push(") ORDER BY name, project_id");
            Ok(sql.build_query_as().fetch_all(self.reader()).await?)
        }

        async fn set_environment_hidden(&self, project_id: i64, name: &str, hidden: bool) -> $crate::store::StoreResult<()> {
            let done = sqlx::query("UPDATE environments SET hidden = $3 WHERE project_id = $1 AND name = $2")
                .bind(project_id)
                .bind(name)
                .bind(hidden)
                .execute(self.writer())
                .await?;
            if done.rows_affected() == 0 {
                return Err($crate::store::StoreError::NotFound);
            }
            Ok(())
        }

        async fn find_project_filters(&self, project_id: i64) -> $crate::store::StoreResult<Option<$crate::store::ProjectFilters>> {
            Ok(sqlx::query_as(
                "SELECT project_id, localhost, browser_extensions, error_messages, error_types, releases \
                 FROM project_filters WHERE project_id = $1",
            )
            .bind(project_id)
            .fetch_optional(self.reader())
            .await?)
        }

        async fn save_project_filters(&self, filters: &$crate::store::ProjectFilters) -> $crate::store::StoreResult<()> {
            sqlx::query(
                "INSERT INTO project_filters (project_id, localhost, browser_extensions, error_messages, error_types, releases, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (project_id) DO UPDATE SET localhost = excluded.localhost, \
                 browser_extensions = excluded.browser_extensions, error_messages = excluded.error_messages, \
                 error_types = excluded.error_types, releases = excluded.releases, updated_at = excluded.updated_at",
            )
            .bind(filters.project_id)
            .bind(filters.localhost)
            .bind(filters.browser_extensions)
            .bind(&filters.error_messages)
            .bind(&filters.error_types)
            .bind(&filters.releases)
            .bind($crate::store::Millis::now())
            .execute(self.writer())
            .await?;
            Ok(())
        }
    };
}

pub(crate) use web;
