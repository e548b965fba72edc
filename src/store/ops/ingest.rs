//! The write path of ingest: one transaction stores a batch of envelopes.
//!
//! Per event: skip it if its id is already stored (SDK retries), find the issue owning any of its
//! hashes or open a new one, store the event, then update the rollups the UI reads (tag values, hourly
//! counts, unique users) and record its environment and release. Several Faultline nodes may write at
//! once on PostgreSQL: a new issue is claimed through its hashes' primary key, and a node that loses the
//! race joins the winner's issue; a regression is flipped by one conditional `UPDATE`, so exactly one
//! writer sees it.

/// Free functions over a transaction, expanded as module `write` in each backend.
macro_rules! ingest_fns {
    () => {
        mod write {
        use super::Db;
        use $crate::store::{EnvelopeWrite, IngestOutcome, Millis, NewEvent, StoreResult};

        const HOUR_MS: i64 = 3_600_000;

        /// Store one envelope's items; returns one outcome per event.
        pub(super) async fn write_envelope(tx: &mut sqlx::Transaction<'_, Db>, write: &EnvelopeWrite) -> StoreResult<Vec<IngestOutcome>> {
            let mut outcomes = Vec::with_capacity(write.events.len());
            for event in &write.events {
                outcomes.push(write_event(tx, write, event).await?);
            }
            for a in &write.attachments {
                sqlx::query(
                    "INSERT INTO attachments (project_id, event_id, name, content_type, attachment_type, size, data, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(write.project_id)
                .bind(&a.event_id)
                .bind(&a.name)
                .bind(&a.content_type)
                .bind(&a.attachment_type)
                .bind(i64::try_from(a.data.len()).unwrap_or(i64::MAX))
                .bind(&a.data)
                .bind(write.received_at)
                .execute(&mut **tx)
                .await?;
            }
            for r in &write.user_reports {
                sqlx::query(
                    "INSERT INTO user_reports (project_id, event_id, name, email, comments, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(write.project_id)
                .bind(&r.event_id)
                .bind(&r.name)
                .bind(&r.email)
                .bind(&r.comments)
                .bind(write.received_at)
                .execute(&mut **tx)
                .await?;
            }
            for s in &write.sessions {
                let mut errored = s.errored;
                if let Some(sid) = &s.errored_session {
                    let first = sqlx::query(
                        "INSERT INTO errored_sessions (project_id, session_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                    )
                    .bind(write.project_id)
                    .bind(sid)
                    .bind(write.received_at)
                    .execute(&mut **tx)
                    .await?;
                    errored += i64::try_from(first.rows_affected()).unwrap_or(0);
                }
                sqlx::query(
                    "INSERT INTO session_hourly (project_id, release, environment, hour, started, errored, crashed, abnormal, exited) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                     ON CONFLICT (project_id, release, environment, hour) DO UPDATE SET \
                     started = session_hourly.started + excluded.started, errored = session_hourly.errored + excluded.errored, \
                     crashed = session_hourly.crashed + excluded.crashed, abnormal = session_hourly.abnormal + excluded.abnormal, \
                     exited = session_hourly.exited + excluded.exited",
                )
                .bind(write.project_id)
                .bind(&s.release)
                .bind(&s.environment)
                .bind(s.hour)
                .bind(s.started)
                .bind(errored)
                .bind(s.crashed)
                .bind(s.abnormal)
                .bind(s.exited)
                .execute(&mut **tx)
                .await?;
            }
            for c in &write.check_ins {
                sqlx::query(
                    "INSERT INTO check_ins (project_id, check_in_id, monitor_slug, status, duration, environment, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(write.project_id)
                .bind(&c.check_in_id)
                .bind(&c.monitor_slug)
                .bind(&c.status)
                .bind(c.duration)
                .bind(&c.environment)
                .bind(write.received_at)
                .execute(&mut **tx)
                .await?;
            }
            for o in &write.client_outcomes {
                sqlx::query(
                    "INSERT INTO client_outcomes (project_id, hour, reason, category, quantity) VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (project_id, hour, reason, category) DO UPDATE SET quantity = client_outcomes.quantity + excluded.quantity",
                )
                .bind(write.project_id)
                .bind(o.hour)
                .bind(&o.reason)
                .bind(&o.category)
                .bind(o.quantity)
                .execute(&mut **tx)
                .await?;
            }
            Ok(outcomes)
        }

        async fn write_event(tx: &mut sqlx::Transaction<'_, Db>, write: &EnvelopeWrite, ev: &NewEvent) -> StoreResult<IngestOutcome> {
            let mut outcome = IngestOutcome {
                event_id: ev.event_id.clone(),
                issue_id: None,
                is_new: false,
                is_regression: false,
                duplicate: false,
                discarded: false,
            };
            let seen: Option<(i64,)> = sqlx::query_as("SELECT id FROM events WHERE project_id = $1 AND event_id = $2")
                .bind(write.project_id)
                .bind(&ev.event_id)
                .fetch_optional(&mut **tx)
                .await?;
            if seen.is_some() {
                outcome.duplicate = true;
                return Ok(outcome);
            }
            // Web UI workflow: the issue was deleted with "discard future events".
            if !ev.hashes.is_empty() && is_discarded(tx, write.project_id, &ev.hashes).await? {
                outcome.discarded = true;
                return Ok(outcome);
            }
            if !ev.hashes.is_empty() {
                outcome.issue_id = Some(resolve_issue(tx, write, ev, &mut outcome).await?);
            }
            sqlx::query(
                "INSERT INTO events (project_id, issue_id, event_id, event_type, timestamp, received_at, level, platform, title, \
                 message, environment, release, user_key, payload, primary_hash) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
            )
            .bind(write.project_id)
            .bind(outcome.issue_id)
            .bind(&ev.event_id)
            .bind(&ev.event_type)
            .bind(ev.timestamp)
            .bind(write.received_at)
            .bind(&ev.level)
            .bind(&ev.platform)
            .bind(&ev.title)
            .bind(&ev.message)
            .bind(&ev.environment)
            .bind(&ev.release)
            .bind(&ev.user_key)
            .bind(&ev.payload)
            .bind(ev.hashes.first())
            .execute(&mut **tx)
            .await?;
            if let Some(issue_id) = outcome.issue_id {
                roll_up(tx, issue_id, ev).await?;
                // Alerts: record a new issue or a regression for the evaluator, in this transaction.
                super::alert_write::record_outcome(tx, write.project_id, issue_id, &outcome, ev, write.received_at).await?;
            }
            if let Some(env) = &ev.environment {
                sqlx::query(
                    "INSERT INTO environments (project_id, name, first_seen, last_seen) VALUES ($1, $2, $3, $3) \
                     ON CONFLICT (project_id, name) DO UPDATE SET last_seen = \
                     CASE WHEN excluded.last_seen > environments.last_seen THEN excluded.last_seen ELSE environments.last_seen END",
                )
                .bind(write.project_id)
                .bind(env)
                .bind(ev.timestamp)
                .execute(&mut **tx)
                .await?;
            }
            if let Some(release) = &ev.release {
                let (release_id,): (i64,) = sqlx::query_as(
                    "INSERT INTO releases (organization_id, version, created_at, first_event, last_event) VALUES ($1, $2, $3, $4, $4) \
                     ON CONFLICT (organization_id, version) DO UPDATE SET \
                     first_event = CASE WHEN releases.first_event IS NULL OR excluded.first_event < releases.first_event \
                                   THEN excluded.first_event ELSE releases.first_event END, \
                     last_event = CASE WHEN releases.last_event IS NULL OR excluded.last_event > releases.last_event \
                                  THEN excluded.last_event ELSE releases.last_event END \
                     RETURNING id",
                )
                .bind(write.organization_id)
                .bind(release)
                .bind(write.received_at)
                .bind(ev.timestamp)
                .fetch_one(&mut **tx)
                .await?;
                sqlx::query("INSERT INTO release_projects (release_id, project_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                    .bind(release_id)
                    .bind(write.project_id)
                    .execute(&mut **tx)
                    .await?;
            }
            Ok(outcome)
        }

        /// The issue owning any of the event's hashes (updated), or a new one.
        async fn resolve_issue(
            tx: &mut sqlx::Transaction<'_, Db>,
            write: &EnvelopeWrite,
            ev: &NewEvent,
            outcome: &mut IngestOutcome,
        ) -> StoreResult<i64> {
            let mut owner = find_owner(tx, write.project_id, &ev.hashes).await?;
            if owner.is_none() {
                let (next,): (i64,) =
                    sqlx::query_as("UPDATE projects SET next_short_id = next_short_id + 1 WHERE id = $1 RETURNING next_short_id")
                        .bind(write.project_id)
                        .fetch_one(&mut **tx)
                        .await?;
                let (created,): (i64,) = sqlx::query_as(
                    "INSERT INTO issues (project_id, short_id, title, culprit, level, event_type, metadata, status, substatus, \
                     first_seen, last_seen, times_seen, users_seen, first_release, last_release) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, 'unresolved', 'new', $8, $8, 0, 0, $9, $9) RETURNING id",
                )
                .bind(write.project_id)
                .bind(next - 1)
                .bind(&ev.title)
                .bind(&ev.culprit)
                .bind(&ev.level)
                .bind(&ev.event_type)
                .bind(&ev.metadata)
                .bind(ev.timestamp)
                .bind(&ev.release)
                .fetch_one(&mut **tx)
                .await?;
                claim_hashes(tx, write.project_id, created, &ev.hashes).await?;
                // Another node may have claimed the primary hash first: then join its issue.
                let winner = find_owner(tx, write.project_id, &ev.hashes[..1]).await?;
                if winner == Some(created) {
                    outcome.is_new = true;
                } else {
                    sqlx::query("DELETE FROM issues WHERE id = $1").bind(created).execute(&mut **tx).await?;
                }
                owner = winner;
            }
            let issue_id = owner.ok_or($crate::store::StoreError::Corrupt("issue hash owner vanished".into()))?;
            if !outcome.is_new {
                claim_hashes(tx, write.project_id, issue_id, &ev.hashes).await?;
                // Web UI workflow: release-aware regression and ignore conditions (ops/workflow.rs).
                outcome.is_regression = reopen_if_due(tx, write, issue_id, ev).await?;
            }
            sqlx::query(
                "UPDATE issues SET times_seen = times_seen + 1, \
                 last_seen = CASE WHEN $2 > last_seen THEN $2 ELSE last_seen END, \
                 first_seen = CASE WHEN $2 < first_seen THEN $2 ELSE first_seen END, \
                 title = $3, culprit = $4, level = $5, metadata = $6, \
                 first_release = COALESCE(first_release, $7), last_release = COALESCE($7, last_release) \
                 WHERE id = $1",
            )
            .bind(issue_id)
            .bind(ev.timestamp)
            .bind(&ev.title)
            .bind(&ev.culprit)
            .bind(&ev.level)
            .bind(&ev.metadata)
            .bind(&ev.release)
            .execute(&mut **tx)
            .await?;
            Ok(issue_id)
        }

        async fn find_owner(tx: &mut sqlx::Transaction<'_, Db>, project_id: i64, hashes: &[String]) -> StoreResult<Option<i64>> {
            for hash in hashes {
                let owner: Option<(i64,)> = sqlx::query_as("SELECT issue_id FROM issue_hashes WHERE project_id = $1 AND hash = $2")
                    .bind(project_id)
                    .bind(hash)
                    .fetch_optional(&mut **tx)
                    .await?;
                if let Some((id,)) = owner {
                    return Ok(Some(id));
                }
            }
            Ok(None)
        }

        async fn claim_hashes(tx: &mut sqlx::Transaction<'_, Db>, project_id: i64, issue_id: i64, hashes: &[String]) -> StoreResult<()> {
            for hash in hashes {
                sqlx::query("INSERT INTO issue_hashes (project_id, hash, issue_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                    .bind(project_id)
                    .bind(hash)
                    .bind(issue_id)
                    .execute(&mut **tx)
                    .await?;
            }
            Ok(())
        }

        /// Tag values, hourly count and unique users of the issue.
        async fn roll_up(tx: &mut sqlx::Transaction<'_, Db>, issue_id: i64, ev: &NewEvent) -> StoreResult<()> {
            for (key, value) in &ev.tags {
                sqlx::query(
                    "INSERT INTO issue_tag_values (issue_id, key, value, times_seen, first_seen, last_seen) VALUES ($1, $2, $3, 1, $4, $4) \
                     ON CONFLICT (issue_id, key, value) DO UPDATE SET times_seen = issue_tag_values.times_seen + 1, \
                     first_seen = CASE WHEN excluded.first_seen < issue_tag_values.first_seen THEN excluded.first_seen ELSE issue_tag_values.first_seen END, \
                     last_seen = CASE WHEN excluded.last_seen > issue_tag_values.last_seen THEN excluded.last_seen ELSE issue_tag_values.last_seen END",
                )
                .bind(issue_id)
                .bind(key)
                .bind(value)
                .bind(ev.timestamp)
                .execute(&mut **tx)
                .await?;
            }
            let hour = Millis(ev.timestamp.0 - ev.timestamp.0.rem_euclid(HOUR_MS));
            sqlx::query(
                "INSERT INTO issue_hourly (issue_id, hour, count) VALUES ($1, $2, 1) \
                 ON CONFLICT (issue_id, hour) DO UPDATE SET count = issue_hourly.count + 1",
            )
            .bind(issue_id)
            .bind(hour)
            .execute(&mut **tx)
            .await?;
            if let Some(user) = &ev.user_key {
                let added = sqlx::query(
                    "INSERT INTO issue_users (issue_id, user_key, first_seen, last_seen, email) VALUES ($1, $2, $3, $3, $4) \
                     ON CONFLICT DO NOTHING",
                )
                .bind(issue_id)
                .bind(user)
                .bind(ev.timestamp)
                .bind(&ev.user_email)
                .execute(&mut **tx)
                .await?;
                if added.rows_affected() > 0 {
                    sqlx::query("UPDATE issues SET users_seen = users_seen + 1 WHERE id = $1").bind(issue_id).execute(&mut **tx).await?;
                } else {
                    sqlx::query(
                        "UPDATE issue_users SET last_seen = CASE WHEN $3 > last_seen THEN $3 ELSE last_seen END \
                         WHERE issue_id = $1 AND user_key = $2",
                    )
                    .bind(issue_id)
                    .bind(user)
                    .bind(ev.timestamp)
                    .execute(&mut **tx)
                    .await?;
                }
            }
            Ok(())
        }

        $crate::store::ops::workflow_write_fns!();
        }
    };
}

/// `Backend::ingest_batch`: one transaction for the whole batch.
macro_rules! ingest {
    () => {
        async fn ingest_batch(
            &self,
            batch: &[$crate::store::EnvelopeWrite],
        ) -> $crate::store::StoreResult<Vec<Vec<$crate::store::IngestOutcome>>> {
            let mut tx = self.begin_write().await?;
            let mut outcomes = Vec::with_capacity(batch.len());
            for write in batch {
                outcomes.push(write::write_envelope(&mut tx, write).await?);
            }
            tx.commit().await?;
            Ok(outcomes)
        }
    };
}

pub(crate) use {ingest, ingest_fns};
