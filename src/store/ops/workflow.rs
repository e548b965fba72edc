//! The issue workflow: status changes with their release and ignore conditions, assignment,
//! bookmarks, comments and the activity log, merge, delete-and-discard, the sweep that wakes issues
//! ignored for a while once the time is up, and the ingest-side half (regressions, waking ignored
//! issues, dropping discarded hashes).
//!
//! The UI and the JSON API call the same operations, so an issue changed through either looks the
//! same and leaves the same activity. Each operation is one transaction.

macro_rules! workflow {
    () => {
        async fn update_issues(
            &self,
            ids: &[i64],
            update: &$crate::store::IssueUpdate,
            actor: Option<i64>,
        ) -> $crate::store::StoreResult<()> {
            use $crate::store::StatusChange as S;
            let now = $crate::store::Millis::now();
            let mut tx = self.begin_write().await?;
            for &id in ids {
                let current: Option<(Option<i64>,)> =
                    sqlx::query_as("SELECT assignee_id FROM issues WHERE id = $1").bind(id).fetch_optional(&mut *tx).await?;
                let Some((current_assignee,)) = current else {
                    tx.rollback().await?;
                    return Err($crate::store::StoreError::NotFound);
                };
                if let Some(status) = &update.status {
                    let (kind, data) = match status {
                        S::Resolved => {
                            sqlx::query(
                                "UPDATE issues SET status = 'resolved', substatus = NULL, resolved_release = NULL, resolved_mode = NULL, \
                                 ignore_until = NULL, ignore_count = NULL, ignore_users = NULL WHERE id = $1",
                            )
                            .bind(id)
                            .execute(&mut *tx)
                            .await?;
                            ("set_resolved", serde_json::json!({}))
                        }
                        S::ResolvedInNextRelease => {
                            // Tied to the issue's latest release; without one it is a plain resolve.
                            sqlx::query(
                                "UPDATE issues SET status = 'resolved', substatus = NULL, resolved_release = last_release, \
                                 resolved_mode = CASE WHEN last_release IS NULL THEN NULL ELSE 'next' END, \
                                 ignore_until = NULL, ignore_count = NULL, ignore_users = NULL WHERE id = $1",
                            )
                            .bind(id)
                            .execute(&mut *tx)
                            .await?;
                            ("set_resolved_in_release", serde_json::json!({"inNextRelease": true}))
                        }
                        S::ResolvedInRelease(version) => {
                            sqlx::query(
                                "UPDATE issues SET status = 'resolved', substatus = NULL, resolved_release = $2, resolved_mode = 'release', \
                                 ignore_until = NULL, ignore_count = NULL, ignore_users = NULL WHERE id = $1",
                            )
                            .bind(id)
                            .bind(version)
                            .execute(&mut *tx)
                            .await?;
                            ("set_resolved_in_release", serde_json::json!({"version": version}))
                        }
                        S::Unresolved => {
                            sqlx::query(
                                "UPDATE issues SET status = 'unresolved', substatus = 'ongoing', resolved_release = NULL, resolved_mode = NULL, \
                                 ignore_until = NULL, ignore_count = NULL, ignore_users = NULL WHERE id = $1",
                            )
                            .bind(id)
                            .execute(&mut *tx)
                            .await?;
                            ("set_unresolved", serde_json::json!({}))
                        }
                        S::Ignored(cond) => {
                            let until = cond.minutes.map(|m| now.plus_secs(m.saturating_mul(60)));
                            let forever = cond.minutes.is_none() && cond.count.is_none() && cond.users.is_none();
                            sqlx::query(
                                "UPDATE issues SET status = 'ignored', substatus = $2, resolved_release = NULL, resolved_mode = NULL, \
                                 ignore_until = $3, ignore_count = CASE WHEN $4 IS NULL THEN NULL ELSE times_seen + $4 END, \
                                 ignore_users = CASE WHEN $5 IS NULL THEN NULL ELSE users_seen + $5 END WHERE id = $1",
                            )
                            .bind(id)
                            .bind(if forever { "archived_forever" } else { "archived_until_condition_met" })
                            .bind(until)
                            .bind(cond.count)
                            .bind(cond.users)
                            .execute(&mut *tx)
                            .await?;
                            (
                                "set_ignored",
                                serde_json::json!({"ignoreDuration": cond.minutes, "ignoreCount": cond.count, "ignoreUserCount": cond.users}),
                            )
                        }
                    };
                    activity(&mut tx, id, actor, kind, &data, now).await?;
                }
                if let Some(assignee) = update.assignee
                    && assignee != current_assignee
                {
                    sqlx::query("UPDATE issues SET assignee_id = $2 WHERE id = $1").bind(id).bind(assignee).execute(&mut *tx).await?;
                    match assignee {
                        Some(user) => {
                            let email: Option<(String,)> =
                                sqlx::query_as("SELECT email FROM users WHERE id = $1").bind(user).fetch_optional(&mut *tx).await?;
                            let email = email.ok_or($crate::store::StoreError::NotFound)?.0;
                            activity(&mut tx, id, actor, "assigned", &serde_json::json!({"assignee": email}), now).await?;
                        }
                        None => activity(&mut tx, id, actor, "unassigned", &serde_json::json!({}), now).await?,
                    }
                }
                if let (Some(bookmark), Some(user)) = (update.bookmark, actor) {
                    if bookmark {
                        sqlx::query("INSERT INTO issue_bookmarks (issue_id, user_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                            .bind(id)
                            .bind(user)
                            .bind(now)
                            .execute(&mut *tx)
                            .await?;
                    } else {
                        sqlx::query("DELETE FROM issue_bookmarks WHERE issue_id = $1 AND user_id = $2")
                            .bind(id)
                            .bind(user)
                            .execute(&mut *tx)
                            .await?;
                    }
                }
            }
            tx.commit().await?;
            Ok(())
        }

        async fn add_comment(&self, issue_id: i64, user_id: i64, text: &str) -> $crate::store::StoreResult<()> {
            let mut tx = self.begin_write().await?;
            activity(&mut tx, issue_id, Some(user_id), "note", &serde_json::json!({"text": text}), $crate::store::Millis::now()).await?;
            tx.commit().await?;
            Ok(())
        }

        async fn list_activity(&self, issue_id: i64) -> $crate::store::StoreResult<Vec<$crate::store::Activity>> {
            Ok(sqlx::query_as(
                "SELECT a.id, a.issue_id, a.user_id, u.email AS user_email, a.kind, a.data, a.created_at \
                 FROM issue_activity a LEFT JOIN users u ON u.id = a.user_id WHERE a.issue_id = $1 ORDER BY a.id DESC LIMIT 200",
            )
            .bind(issue_id)
            .fetch_all(self.reader())
            .await?)
        }

        async fn is_bookmarked(&self, issue_id: i64, user_id: i64) -> $crate::store::StoreResult<bool> {
            let row: Option<(i64,)> = sqlx::query_as("SELECT issue_id FROM issue_bookmarks WHERE issue_id = $1 AND user_id = $2")
                .bind(issue_id)
                .bind(user_id)
                .fetch_optional(self.reader())
                .await?;
            Ok(row.is_some())
        }

        async fn merge_issues(&self, ids: &[i64], actor: Option<i64>) -> $crate::store::StoreResult<i64> {
            let mut tx = self.begin_write().await?;
            // The target is the issue with the most events (as Sentry picks the parent).
            let mut issues: Vec<(i64, i64, i64)> = Vec::new();
            for &id in ids {
                let row: Option<(i64, i64, i64)> = sqlx::query_as("SELECT id, project_id, times_seen FROM issues WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
                let Some(row) = row else {
                    tx.rollback().await?;
                    return Err($crate::store::StoreError::NotFound);
                };
                issues.push(row);
            }
            issues.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
            issues.dedup_by_key(|i| i.0);
            let Some(&(target, project_id, _)) = issues.first() else {
                tx.rollback().await?;
                return Err($crate::store::StoreError::NotFound);
            };
            if issues.iter().any(|i| i.1 != project_id) {
                tx.rollback().await?;
                return Err($crate::store::StoreError::Conflict);
            }
            for &(source, _, _) in &issues[1..] {
                for sql in [
                    "UPDATE issue_hashes SET issue_id = $2 WHERE issue_id = $1",
                    "UPDATE events SET issue_id = $2 WHERE issue_id = $1",
                    "UPDATE issue_activity SET issue_id = $2 WHERE issue_id = $1",
                    "INSERT INTO issue_tag_values (issue_id, key, value, times_seen, first_seen, last_seen) \
                     SELECT $2, key, value, times_seen, first_seen, last_seen FROM issue_tag_values WHERE issue_id = $1 \
                     ON CONFLICT (issue_id, key, value) DO UPDATE SET times_seen = issue_tag_values.times_seen + excluded.times_seen, \
                     first_seen = CASE WHEN excluded.first_seen < issue_tag_values.first_seen THEN excluded.first_seen ELSE issue_tag_values.first_seen END, \
                     last_seen = CASE WHEN excluded.last_seen > issue_tag_values.last_seen THEN excluded.last_seen ELSE issue_tag_values.last_seen END",
                    "INSERT INTO issue_hourly (issue_id, hour, count) SELECT $2, hour, count FROM issue_hourly WHERE issue_id = $1 \
                     ON CONFLICT (issue_id, hour) DO UPDATE SET count = issue_hourly.count + excluded.count",
                    "INSERT INTO issue_users (issue_id, user_key, first_seen, last_seen, email) \
                     SELECT $2, user_key, first_seen, last_seen, email FROM issue_users WHERE issue_id = $1 \
                     ON CONFLICT (issue_id, user_key) DO UPDATE SET \
                     first_seen = CASE WHEN excluded.first_seen < issue_users.first_seen THEN excluded.first_seen ELSE issue_users.first_seen END, \
                     last_seen = CASE WHEN excluded.last_seen > issue_users.last_seen THEN excluded.last_seen ELSE issue_users.last_seen END",
                    "UPDATE issues SET times_seen = issues.times_seen + (SELECT s.times_seen FROM issues s WHERE s.id = $1), \
                     first_seen = CASE WHEN (SELECT s.first_seen FROM issues s WHERE s.id = $1) < issues.first_seen \
                                  THEN (SELECT s.first_seen FROM issues s WHERE s.id = $1) ELSE issues.first_seen END, \
                     last_seen = CASE WHEN (SELECT s.last_seen FROM issues s WHERE s.id = $1) > issues.last_seen \
                                 THEN (SELECT s.last_seen FROM issues s WHERE s.id = $1) ELSE issues.last_seen END \
                     WHERE issues.id = $2",
                ] {
                    sqlx::query(sql).bind(source).bind(target).execute(&mut *tx).await?;
                }
                // Bound alone: PostgreSQL would prepare this text with a second, unused parameter,
                // and the cached statement would then refuse the one-parameter delete elsewhere.
                sqlx::query("DELETE FROM issues WHERE id = $1").bind(source).execute(&mut *tx).await?;
            }
            sqlx::query("UPDATE issues SET users_seen = (SELECT COUNT(*) FROM issue_users WHERE issue_id = $1) WHERE id = $1")
                .bind(target)
                .execute(&mut *tx)
                .await?;
            let merged: Vec<i64> = issues[1..].iter().map(|i| i.0).collect();
            activity(&mut tx, target, actor, "merge", &serde_json::json!({"issues": merged}), $crate::store::Millis::now()).await?;
            tx.commit().await?;
            Ok(target)
        }

        async fn delete_issues(&self, ids: &[i64], discard: bool) -> $crate::store::StoreResult<()> {
            let mut tx = self.begin_write().await?;
            for &id in ids {
                if discard {
                    sqlx::query(
                        "INSERT INTO issue_tombstones (project_id, hash, created_at) SELECT project_id, hash, $2 FROM issue_hashes \
                         WHERE issue_id = $1 ON CONFLICT DO NOTHING",
                    )
                    .bind(id)
                    .bind($crate::store::Millis::now())
                    .execute(&mut *tx)
                    .await?;
                }
                // Events, hashes, rollups and activity go with it (ON DELETE CASCADE).
                let done = sqlx::query("DELETE FROM issues WHERE id = $1").bind(id).execute(&mut *tx).await?;
                if done.rows_affected() == 0 {
                    tx.rollback().await?;
                    return Err($crate::store::StoreError::NotFound);
                }
            }
            tx.commit().await?;
            Ok(())
        }

        async fn wake_expired_ignores(
            &self,
            now: $crate::store::Millis,
            limit: i64,
        ) -> $crate::store::StoreResult<Vec<i64>> {
            // The outer conditions are checked again on the row the update locks: on PostgreSQL a
            // second sweeper that picked the same issue waits for the first, then finds it unresolved
            // and leaves it alone (the subquery skips rows another sweeper holds in the first place).
            let sql = format!(
                "UPDATE issues SET status = 'unresolved', substatus = 'escalating', ignore_until = NULL, ignore_count = NULL, \
                 ignore_users = NULL \
                 WHERE id IN (SELECT id FROM issues WHERE ignore_until <= $1 AND status = 'ignored' \
                              ORDER BY ignore_until, id LIMIT $2{FOR_UPDATE_SKIP_LOCKED}) \
                 AND ignore_until <= $1 AND status = 'ignored' \
                 RETURNING id, project_id"
            );
            let mut tx = self.begin_write().await?;
            let mut woke: Vec<(i64, i64)> =
                sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(now).bind(limit).fetch_all(&mut *tx).await?;
            woke.sort_unstable();
            for &(issue_id, project_id) in &woke {
                activity(&mut tx, issue_id, None, "set_escalating", &serde_json::json!({"reason": "ignore_until"}), now).await?;
                // The alert fact for "an ignored issue whose ignore condition ends", without an event.
                alert_write::record_activity(&mut tx, project_id, issue_id, $crate::store::ActivityKind::Reappeared, None, None, now)
                    .await?;
            }
            tx.commit().await?;
            Ok(woke.into_iter().map(|(id, _)| id).collect())
        }
    };
}

/// Append an activity entry inside a transaction (module-level, shared by the operations above).
macro_rules! workflow_fns {
    () => {
        async fn activity(
            tx: &mut sqlx::Transaction<'_, Db>,
            issue_id: i64,
            user_id: Option<i64>,
            kind: &str,
            data: &serde_json::Value,
            now: $crate::store::Millis,
        ) -> $crate::store::StoreResult<()> {
            sqlx::query(
                "INSERT INTO issue_activity (issue_id, user_id, kind, data, created_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(issue_id)
            .bind(user_id)
            .bind(kind)
            .bind(data.to_string())
            .bind(now)
            .execute(&mut **tx)
            .await?;
            Ok(())
        }
    };
}

/// The ingest write path's workflow checks, expanded inside `ingest_fns!`'s `write` module.
macro_rules! workflow_write_fns {
    () => {
        /// Before the event is counted on its existing issue: reopen a resolved issue as regressed
        /// (release-aware), or wake an ignored one whose condition is met. `state` was read for the
        /// batch (absent: the issue is unresolved) and follows what this function changes; `pending`
        /// is what the batch already counted on the issue. Returns whether it regressed.
        async fn reopen_if_due(
            tx: &mut sqlx::Transaction<'_, Db>,
            write: &EnvelopeWrite,
            ev: &NewEvent,
            states: &mut std::collections::HashMap<i64, $crate::store::rollup::IssueState>,
            issue_id: i64,
            pending: i64,
        ) -> StoreResult<bool> {
            let Some(state) = states.get(&issue_id) else {
                return Ok(false);
            };
            let now = write.received_at;
            match state.status.as_str() {
                "resolved" => {
                    let due = match (state.resolved_mode.as_deref(), state.resolved_release.as_deref(), ev.release.as_deref()) {
                        (None, _, _) | (Some(_), None, _) => true,
                        // Tied to a release: an event without one says nothing about the fix.
                        (Some(_), Some(_), None) => false,
                        (Some("next"), Some(fixed), Some(seen)) => {
                            seen != fixed && release_is_newer(tx, write.organization_id, fixed, seen).await?
                        }
                        (Some(_), Some(fixed), Some(seen)) => {
                            seen == fixed || release_is_newer(tx, write.organization_id, fixed, seen).await?
                        }
                    };
                    if !due {
                        return Ok(false);
                    }
                    states.remove(&issue_id);
                    let reopened = sqlx::query(
                        "UPDATE issues SET status = 'unresolved', substatus = 'regressed', resolved_release = NULL, resolved_mode = NULL \
                         WHERE id = $1 AND status = 'resolved'",
                    )
                    .bind(issue_id)
                    .execute(&mut **tx)
                    .await?;
                    if reopened.rows_affected() == 0 {
                        return Ok(false);
                    }
                    let data = serde_json::json!({"version": ev.release});
                    insert_activity(tx, issue_id, "set_regression", &data, now).await?;
                    Ok(true)
                }
                "ignored" => {
                    let times_seen = state.times_seen + pending;
                    let mut due = state.ignore_until.is_some_and(|t| t <= now)
                        || state.ignore_count.is_some_and(|c| times_seen + 1 >= c);
                    if !due
                        && let (Some(limit), Some(user)) = (state.ignore_users, &ev.user_key)
                        && state.users_seen + 1 >= limit
                    {
                        let known: Option<(i64,)> = sqlx::query_as("SELECT issue_id FROM issue_users WHERE issue_id = $1 AND user_key = $2")
                            .bind(issue_id)
                            .bind(user)
                            .fetch_optional(&mut **tx)
                            .await?;
                        due = known.is_none();
                    }
                    if due {
                        states.remove(&issue_id);
                        let woke = sqlx::query(
                            "UPDATE issues SET status = 'unresolved', substatus = 'escalating', ignore_until = NULL, ignore_count = NULL, \
                             ignore_users = NULL WHERE id = $1 AND status = 'ignored'",
                        )
                        .bind(issue_id)
                        .execute(&mut **tx)
                        .await?;
                        // Only the writer that flipped the row records it (several nodes may race).
                        if woke.rows_affected() > 0 {
                            insert_activity(tx, issue_id, "set_escalating", &serde_json::json!({}), now).await?;
                            // The alert fact for "an ignored issue whose ignore condition ends".
                            super::alert_write::record_activity(
                                tx,
                                write.project_id,
                                issue_id,
                                $crate::store::ActivityKind::Reappeared,
                                Some(&ev.event_id),
                                ev.release.as_deref(),
                                write.received_at,
                            )
                            .await?;
                        }
                    }
                    Ok(false)
                }
                _ => Ok(false),
            }
        }

        /// Whether `seen` is a newer release than `fixed` in the organization: created later (a higher
        /// id), or not stored yet (this event brings it); a `fixed` release nobody has sent yet is
        /// newer than every stored one.
        async fn release_is_newer(tx: &mut sqlx::Transaction<'_, Db>, organization_id: i64, fixed: &str, seen: &str) -> StoreResult<bool> {
            let mut ids = [None, None];
            for (slot, version) in ids.iter_mut().zip([fixed, seen]) {
                let row: Option<(i64,)> = sqlx::query_as("SELECT id FROM releases WHERE organization_id = $1 AND version = $2")
                    .bind(organization_id)
                    .bind(version)
                    .fetch_optional(&mut **tx)
                    .await?;
                *slot = row.map(|(id,)| id);
            }
            Ok(match ids {
                [Some(fixed), Some(seen)] => seen > fixed,
                // A fix release not seen yet is newer than every release already seen.
                [None, Some(_)] => false,
                _ => true,
            })
        }

        async fn insert_activity(
            tx: &mut sqlx::Transaction<'_, Db>,
            issue_id: i64,
            kind: &str,
            data: &serde_json::Value,
            now: Millis,
        ) -> StoreResult<()> {
            sqlx::query("INSERT INTO issue_activity (issue_id, user_id, kind, data, created_at) VALUES ($1, NULL, $2, $3, $4)")
                .bind(issue_id)
                .bind(kind)
                .bind(data.to_string())
                .bind(now)
                .execute(&mut **tx)
                .await?;
            Ok(())
        }
    };
}

pub(crate) use {workflow, workflow_fns, workflow_write_fns};
