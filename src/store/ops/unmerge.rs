//! Unmerge: move one grouping hash of an issue, with the events stored under it as their primary hash,
//! into a new issue. Counters move with the events: times seen, hourly buckets, tag values (read from
//! the moved events' payloads, whose `tags` are the ones rolled up at ingest), distinct users, first
//! and last seen and releases; both issues get an activity entry. Events stored before migration 0006
//! carry no primary hash and stay where they are.

macro_rules! unmerge {
    () => {
        async fn unmerge_hash(
            &self,
            issue_id: i64,
            hash: &str,
            actor: Option<i64>,
        ) -> $crate::store::StoreResult<i64> {
            use std::collections::BTreeMap;

            use $crate::store::{Millis, StoreError};

            const HOUR_MS: i64 = 3_600_000;
            let now = Millis::now();
            let mut tx = self.begin_write().await?;
            let source: Option<(i64, String, String, String)> =
                sqlx::query_as("SELECT project_id, culprit, event_type, metadata FROM issues WHERE id = $1")
                    .bind(issue_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            // Early returns roll back explicitly: a dropped transaction would leave its connection idle in
            // the transaction (holding locks) until the pool reuses it.
            let Some((project_id, culprit, event_type, metadata)) = source else {
                tx.rollback().await?;
                return Err(StoreError::NotFound);
            };
            let hashes: Vec<(String,)> = sqlx::query_as("SELECT hash FROM issue_hashes WHERE issue_id = $1")
                .bind(issue_id)
                .fetch_all(&mut *tx)
                .await?;
            if !hashes.iter().any(|(h,)| h == hash) {
                tx.rollback().await?;
                return Err(StoreError::NotFound);
            }
            if hashes.len() < 2 {
                // Its only hash: the "new" issue would be this one.
                tx.rollback().await?;
                return Err(StoreError::Conflict);
            }

            let moved: Vec<(i64, i64, Option<String>, Option<String>, String, String, Vec<u8>)> = sqlx::query_as(
                "SELECT id, timestamp, user_key, release, title, level, payload FROM events \
                 WHERE issue_id = $1 AND primary_hash = $2 ORDER BY timestamp, id",
            )
            .bind(issue_id)
            .bind(hash)
            .fetch_all(&mut *tx)
            .await?;
            let count = i64::try_from(moved.len()).unwrap_or(i64::MAX);
            let first_seen = moved.first().map_or(now.0, |e| e.1);
            let last_seen = moved.last().map_or(now.0, |e| e.1);
            let first_release = moved.iter().find_map(|e| e.3.clone());
            let last_release = moved.iter().rev().find_map(|e| e.3.clone());
            let (title, level) = match moved.last() {
                Some(e) => (e.4.clone(), e.5.clone()),
                None => {
                    let (title, level): (String, String) =
                        sqlx::query_as("SELECT title, level FROM issues WHERE id = $1")
                            .bind(issue_id)
                            .fetch_one(&mut *tx)
                            .await?;
                    (title, level)
                }
            };
            let mut hourly: BTreeMap<i64, i64> = BTreeMap::new();
            let mut tags: BTreeMap<(String, String), (i64, i64, i64)> = BTreeMap::new();
            let mut users: BTreeMap<String, (i64, i64)> = BTreeMap::new();
            let mut jsons = Vec::with_capacity(moved.len());
            for event in &moved {
                match self.decompress_payload(&event.6).await {
                    Ok(json) => jsons.push(json),
                    Err(err) => {
                        tx.rollback().await?;
                        return Err(err);
                    }
                }
            }
            let mut tally = || -> Result<(), StoreError> {
                for ((_, ts, user_key, ..), json) in moved.iter().zip(&jsons) {
                    *hourly.entry(ts - ts.rem_euclid(HOUR_MS)).or_default() += 1;
                    if let Some(user) = user_key {
                        let seen = users.entry(user.clone()).or_insert((*ts, *ts));
                        seen.1 = *ts;
                    }
                    let value: serde_json::Value =
                        serde_json::from_slice(json).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                    let pairs = value.get("tags").and_then(serde_json::Value::as_array).cloned().unwrap_or_default();
                    for pair in pairs {
                        if let (Some(k), Some(v)) = (pair.get(0).and_then(|k| k.as_str()), pair.get(1).and_then(|v| v.as_str())) {
                            let entry = tags.entry((k.to_owned(), v.to_owned())).or_insert((0, *ts, *ts));
                            entry.0 += 1;
                            entry.2 = *ts;
                        }
                    }
                }
                Ok(())
            };
            if let Err(err) = tally() {
                tx.rollback().await?;
                return Err(err);
            }

            let (next,): (i64,) =
                sqlx::query_as("UPDATE projects SET next_short_id = next_short_id + 1 WHERE id = $1 RETURNING next_short_id")
                    .bind(project_id)
                    .fetch_one(&mut *tx)
                    .await?;
            let (target,): (i64,) = sqlx::query_as(
                "INSERT INTO issues (project_id, short_id, title, culprit, level, event_type, metadata, status, substatus, \
                 first_seen, last_seen, times_seen, users_seen, first_release, last_release) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 'unresolved', 'new', $8, $9, $10, 0, $11, $12) RETURNING id",
            )
            .bind(project_id)
            .bind(next - 1)
            .bind(&title)
            .bind(&culprit)
            .bind(&level)
            .bind(&event_type)
            .bind(&metadata)
            .bind(first_seen)
            .bind(last_seen)
            .bind(count)
            .bind(&first_release)
            .bind(&last_release)
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query("UPDATE issue_hashes SET issue_id = $1 WHERE issue_id = $2 AND hash = $3")
                .bind(target)
                .bind(issue_id)
                .bind(hash)
                .execute(&mut *tx)
                .await?;
            sqlx::query("UPDATE events SET issue_id = $1 WHERE issue_id = $2 AND primary_hash = $3")
                .bind(target)
                .bind(issue_id)
                .bind(hash)
                .execute(&mut *tx)
                .await?;

            for (hour, n) in &hourly {
                sqlx::query("UPDATE issue_hourly SET count = count - $3 WHERE issue_id = $1 AND hour = $2")
                    .bind(issue_id)
                    .bind(hour)
                    .bind(n)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("INSERT INTO issue_hourly (issue_id, hour, count) VALUES ($1, $2, $3)")
                    .bind(target)
                    .bind(hour)
                    .bind(n)
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query("DELETE FROM issue_hourly WHERE issue_id = $1 AND count <= 0").bind(issue_id).execute(&mut *tx).await?;
            for ((key, value), (n, first, last)) in &tags {
                sqlx::query(
                    "UPDATE issue_tag_values SET times_seen = times_seen - $4 WHERE issue_id = $1 AND key = $2 AND value = $3",
                )
                .bind(issue_id)
                .bind(key)
                .bind(value)
                .bind(n)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "INSERT INTO issue_tag_values (issue_id, key, value, times_seen, first_seen, last_seen) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(target)
                .bind(key)
                .bind(value)
                .bind(n)
                .bind(first)
                .bind(last)
                .execute(&mut *tx)
                .await?;
            }
            sqlx::query("DELETE FROM issue_tag_values WHERE issue_id = $1 AND times_seen <= 0")
                .bind(issue_id)
                .execute(&mut *tx)
                .await?;
            for (user, (first, last)) in &users {
                sqlx::query(
                    "INSERT INTO issue_users (issue_id, user_key, first_seen, last_seen, email) \
                     SELECT $1, user_key, $3, $4, email FROM issue_users WHERE issue_id = $2 AND user_key = $5",
                )
                .bind(target)
                .bind(issue_id)
                .bind(first)
                .bind(last)
                .bind(user)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "DELETE FROM issue_users WHERE issue_id = $1 AND user_key = $2 \
                     AND NOT EXISTS (SELECT 1 FROM events e WHERE e.issue_id = $1 AND e.user_key = $2)",
                )
                .bind(issue_id)
                .bind(user)
                .execute(&mut *tx)
                .await?;
            }
            sqlx::query(
                "UPDATE issues SET times_seen = CASE WHEN times_seen > $2 THEN times_seen - $2 ELSE 0 END, \
                 first_seen = COALESCE((SELECT MIN(e.timestamp) FROM events e WHERE e.issue_id = $1), first_seen), \
                 last_seen = COALESCE((SELECT MAX(e.timestamp) FROM events e WHERE e.issue_id = $1), last_seen) \
                 WHERE id = $1",
            )
            .bind(issue_id)
            .bind(count)
            .execute(&mut *tx)
            .await?;
            for id in [issue_id, target] {
                sqlx::query("UPDATE issues SET users_seen = (SELECT COUNT(*) FROM issue_users WHERE issue_id = $1) WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            let data = serde_json::json!({"hash": hash, "issue": target, "events": count});
            activity(&mut tx, issue_id, actor, "unmerge", &data, now).await?;
            let data = serde_json::json!({"hash": hash, "issue": issue_id, "events": count});
            activity(&mut tx, target, actor, "unmerged_from", &data, now).await?;
            tx.commit().await?;
            Ok(target)
        }
    };
}

pub(crate) use unmerge;
