//! The write path of ingest: one transaction stores a batch of envelopes.
//!
//! Per event: skip it if its id is already stored (SDK retries; looked up only once the events
//! insert has refused one, see `write::batch`), find the issue owning any of its hashes or open a
//! new one and count the event on it. Everything else — the event rows, the rollups
//! the UI reads (tag values, hourly counts, unique users), environments and releases — is summed in a
//! [`crate::store::rollup::Rollup`] and written at the end by the backend's `batch::flush`: a few
//! multi-row statements on SQLite, one statement on PostgreSQL. Several Faultline nodes may write at
//! once on PostgreSQL: a new issue is claimed through its hashes' primary key, and a node that loses the
//! race joins the winner's issue; a regression is flipped by one conditional `UPDATE`, so exactly one
//! writer sees it.

/// Free functions over a transaction, expanded as module `write` in each backend.
macro_rules! ingest_fns {
    () => {
        mod write {
        use super::Db;
        use $crate::store::rollup::Rollup;
        use $crate::store::{EnvelopeWrite, IngestOutcome, Millis, NewEvent, StoreResult};

        /// One batch in one transaction on `conn`.
        ///
        /// SDK retries are rare, so the first attempt does not look up which of the batch's event ids
        /// are stored: the events insert's unique index refuses a stored one, and the batch is then
        /// written again from the start, looking them up first. Another unique violation (none is
        /// expected; the inserts are upserts) costs the same second attempt and then fails the batch.
        pub(super) async fn batch(
            conn: &mut <Db as sqlx::Database>::Connection,
            batch: &[EnvelopeWrite],
        ) -> StoreResult<Vec<Vec<IngestOutcome>>> {
            match attempt(conn, batch, false).await {
                Err($crate::store::StoreError::Conflict) => {
                    tracing::debug!(target: "faultline::ingest::batch", "an event id of the batch is stored: writing it again");
                    attempt(conn, batch, true).await
                }
                done => done,
            }
        }

        /// The batch's transaction, looking up its stored event ids first or not. Where its time went
        /// is a debug event (`faultline::ingest::batch`), which `tests/bench/statement_times.py` sums.
        async fn attempt(
            conn: &mut <Db as sqlx::Database>::Connection,
            batch: &[EnvelopeWrite],
            look_up_stored: bool,
        ) -> StoreResult<Vec<Vec<IngestOutcome>>> {
            let mut last = std::time::Instant::now();
            let mut lap = move || {
                let now = std::time::Instant::now();
                let micros = now.duration_since(last).as_micros();
                last = now;
                micros
            };
            let mut tx = sqlx::Connection::begin_with(conn, super::batch::begin(look_up_stored)).await?;
            let begin_us = lap();
            let mut rollup = $crate::store::rollup::Rollup::default();
            super::batch::prefetch(&mut tx, batch, &mut rollup, look_up_stored).await?;
            let prefetch_us = lap();
            let mut outcomes = Vec::with_capacity(batch.len());
            for write in batch {
                outcomes.push(write_envelope(&mut tx, write, &mut rollup).await?);
            }
            let events_us = lap();
            super::batch::flush(&mut tx, &rollup).await?;
            let flush_us = lap();
            tx.commit().await?;
            let commit_us = lap();
            tracing::debug!(target: "faultline::ingest::batch", events = rollup.events.len(), begin_us, prefetch_us,
                events_us, flush_us, commit_us, "batch phases");
            Ok(outcomes)
        }

        /// Store one envelope's items; returns one outcome per event.
        pub(super) async fn write_envelope<'a>(
            tx: &mut sqlx::Transaction<'_, Db>,
            write: &'a EnvelopeWrite,
            rollup: &mut Rollup<'a>,
        ) -> StoreResult<Vec<IngestOutcome>> {
            let mut outcomes = Vec::with_capacity(write.events.len());
            for event in &write.events {
                outcomes.push(write_event(tx, write, event, rollup).await?);
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

        async fn write_event<'a>(
            tx: &mut sqlx::Transaction<'_, Db>,
            write: &'a EnvelopeWrite,
            ev: &'a NewEvent,
            rollup: &mut Rollup<'a>,
        ) -> StoreResult<IngestOutcome> {
            let mut outcome = IngestOutcome {
                event_id: ev.event_id.clone(),
                issue_id: None,
                is_new: false,
                is_regression: false,
                duplicate: false,
                discarded: false,
            };
            // Stored before (prefetched for the batch) or earlier in this batch: an SDK retry.
            if !rollup.known_events.insert((write.project_id, ev.event_id.clone())) {
                outcome.duplicate = true;
                return Ok(outcome);
            }
            // Web UI workflow: the issue was deleted with "discard future events".
            if ev.hashes.iter().any(|h| rollup.tombstones.contains(&(write.project_id, h.clone()))) {
                outcome.discarded = true;
                return Ok(outcome);
            }
            if !ev.hashes.is_empty() {
                outcome.issue_id = Some(resolve_issue(tx, write, ev, &mut outcome, rollup).await?);
            }
            rollup.add(write.project_id, write.organization_id, outcome.issue_id, write.received_at, ev);
            if let Some(issue_id) = outcome.issue_id {
                // Alerts: record a new issue or a regression for the evaluator, in this transaction.
                super::alert_write::record_outcome(tx, write.project_id, issue_id, &outcome, ev, write.received_at).await?;
            }
            Ok(outcome)
        }

        /// The issue owning any of the event's hashes, or a new one; reopens it when due.
        async fn resolve_issue(
            tx: &mut sqlx::Transaction<'_, Db>,
            write: &EnvelopeWrite,
            ev: &NewEvent,
            outcome: &mut IngestOutcome,
            rollup: &mut Rollup<'_>,
        ) -> StoreResult<i64> {
            // The batch's owners were read up front; owners found or opened since stay owners until commit.
            let mut owner = ev.hashes.iter().find_map(|h| rollup.owners.get(&(write.project_id, h.clone())).copied());
            if owner.is_none() {
                let (created, won) = super::batch::open_issue(&mut **tx, write, ev).await?;
                // Another node may have claimed the primary hash first: then join its issue.
                let winner = if won { Some(created) } else { find_owner(tx, write.project_id, &ev.hashes[..1]).await? };
                if won {
                    outcome.is_new = true;
                } else {
                    sqlx::query("DELETE FROM issues WHERE id = $1").bind(created).execute(&mut **tx).await?;
                }
                owner = winner;
            }
            let issue_id = owner.ok_or($crate::store::StoreError::Corrupt("issue hash owner vanished".into()))?;
            let newly_seen = ev.hashes.iter().any(|h| !rollup.owners.contains_key(&(write.project_id, h.clone())));
            for hash in &ev.hashes {
                rollup.owners.insert((write.project_id, hash.clone()), issue_id);
            }
            if !outcome.is_new {
                if newly_seen {
                    claim_hashes(&mut **tx, write.project_id, issue_id, &ev.hashes).await?;
                }
                // Web UI workflow: release-aware regression and ignore conditions (ops/workflow.rs).
                let pending = rollup.issues.get(&issue_id).map_or(0, |d| d.times_seen);
                outcome.is_regression = reopen_if_due(tx, write, ev, &mut rollup.states, issue_id, pending).await?;
            }
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

        /// Give `issue_id` the hashes no issue owns yet; returns whether it got the first of them.
        pub(super) async fn claim_hashes(
            conn: &mut <Db as sqlx::Database>::Connection,
            project_id: i64,
            issue_id: i64,
            hashes: &[String],
        ) -> StoreResult<bool> {
            let mut first = false;
            for (i, hash) in hashes.iter().enumerate() {
                let claimed =
                    sqlx::query("INSERT INTO issue_hashes (project_id, hash, issue_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                        .bind(project_id)
                        .bind(hash)
                        .bind(issue_id)
                        .execute(&mut *conn)
                        .await?;
                first |= i == 0 && claimed.rows_affected() == 1;
            }
            Ok(first)
        }

        $crate::store::ops::workflow_write_fns!();
        }
    };
}

/// `Backend::ingest_batch`: one transaction for the whole batch, on a connection the writer keeps
/// while more batches are queued (see [`crate::store::lease`]).
macro_rules! ingest {
    () => {
        async fn ingest_batch(
            &self,
            batch: &[$crate::store::EnvelopeWrite],
            more_queued: &(dyn Fn() -> bool + Sync),
        ) -> $crate::store::StoreResult<Vec<Vec<$crate::store::IngestOutcome>>> {
            let (mut conn, since) = self.lease.take(self.writer()).await?;
            let outcomes = write::batch(&mut conn, batch).await?;
            self.lease.put_back(conn, since, more_queued());
            Ok(outcomes)
        }
    };
}

pub(crate) use {ingest, ingest_fns};
