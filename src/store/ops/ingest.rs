//! The write path of ingest: one transaction stores a batch of envelopes.
//!
//! Per event: skip it if its id is already stored (SDK retries), find the issue owning any of its
//! hashes or open a new one and count the event on it. Everything else — the event rows, the rollups
//! the UI reads (tag values, hourly counts, unique users), environments and releases — is summed in a
//! [`crate::store::rollup::Rollup`] and written at the end with a few multi-row statements. Several Faultline nodes may write at
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

        /// One batch in one transaction on `conn`. Where its time went is a debug event
        /// (`faultline::ingest::batch`), which `tests/bench/statement_times.py` sums.
        pub(super) async fn batch(
            conn: &mut <Db as sqlx::Database>::Connection,
            batch: &[EnvelopeWrite],
        ) -> StoreResult<Vec<Vec<IngestOutcome>>> {
            let mut last = std::time::Instant::now();
            let mut lap = move || {
                let now = std::time::Instant::now();
                let micros = now.duration_since(last).as_micros();
                last = now;
                micros
            };
            let mut tx = sqlx::Connection::begin_with(conn, super::BEGIN_WRITE).await?;
            let begin_us = lap();
            let mut rollup = $crate::store::rollup::Rollup::default();
            prefetch_known_events(&mut tx, batch, &mut rollup).await?;
            prefetch_issues(&mut tx, batch, &mut rollup).await?;
            let prefetch_us = lap();
            let mut outcomes = Vec::with_capacity(batch.len());
            for write in batch {
                outcomes.push(write_envelope(&mut tx, write, &mut rollup).await?);
            }
            let events_us = lap();
            flush(&mut tx, &rollup).await?;
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

        /// Append ` IN (…)` with one bound parameter per key (a piece from `rollup::lookups`).
        pub(super) fn push_in<'t, T>(sql: &mut sqlx::QueryBuilder<Db>, keys: impl Iterator<Item = T>)
        where
            T: sqlx::Encode<'t, Db> + sqlx::Type<Db>,
        {
            sql.push(" IN (");
            let mut list = sql.separated(", ");
            for key in keys {
                list.push_bind(key);
            }
            sql.push(")");
        }

        /// Put the ids of the batch's events that are already stored into `rollup.known_events`: one
        /// lookup per project (the backend's `stored_event_ids`).
        pub(super) async fn prefetch_known_events(
            tx: &mut sqlx::Transaction<'_, Db>,
            batch: &[EnvelopeWrite],
            rollup: &mut Rollup<'_>,
        ) -> StoreResult<()> {
            let mut ids: std::collections::BTreeMap<i64, Vec<&str>> = Default::default();
            for write in batch.iter().filter(|w| !w.events.is_empty()) {
                ids.entry(write.project_id).or_default().extend(write.events.iter().map(|ev| ev.event_id.as_str()));
            }
            for (project_id, ids) in ids {
                let found = super::stored_event_ids(&mut **tx, project_id, &ids).await?;
                rollup.known_events.extend(found.into_iter().map(|id| (project_id, id)));
            }
            Ok(())
        }

        /// Read, for all the batch's hashes, their owners and tombstones, and the workflow state of the
        /// owning issues that are not plainly unresolved: three queries per project and piece instead
        /// of several per event.
        pub(super) async fn prefetch_issues(
            tx: &mut sqlx::Transaction<'_, Db>,
            batch: &[EnvelopeWrite],
            rollup: &mut Rollup<'_>,
        ) -> StoreResult<()> {
            let mut hashes: std::collections::BTreeMap<i64, std::collections::BTreeSet<&str>> = Default::default();
            for write in batch {
                let entry = hashes.entry(write.project_id).or_default();
                entry.extend(write.events.iter().flat_map(|ev| ev.hashes.iter().map(String::as_str)));
            }
            for (project_id, hashes) in hashes {
                let hashes: Vec<&str> = hashes.into_iter().collect();
                for chunk in $crate::store::rollup::lookups(&hashes) {
                    let chunk: Vec<&str> = chunk.copied().collect();
                    for (table, tombstones) in [("issue_hashes", false), ("issue_tombstones", true)] {
                        let column = if tombstones { "project_id" } else { "issue_id" };
                        let mut sql = sqlx::QueryBuilder::<Db>::new(format!("SELECT hash, {column} FROM {table} WHERE project_id = "));
                        sql.push_bind(project_id).push(" AND hash");
                        push_in(&mut sql, chunk.iter().copied());
                        let found: Vec<(String, i64)> = sql.build_query_as().fetch_all(&mut **tx).await?;
                        for (hash, issue) in found {
                            if tombstones {
                                rollup.tombstones.insert((project_id, hash));
                            } else {
                                rollup.owners.insert((project_id, hash), issue);
                            }
                        }
                    }
                }
            }
            let issues: std::collections::BTreeSet<i64> = rollup.owners.values().copied().collect();
            let issues: Vec<i64> = issues.into_iter().collect();
            for chunk in $crate::store::rollup::lookups(&issues) {
                let mut sql = sqlx::QueryBuilder::<Db>::new(
                    "SELECT id, status, resolved_mode, resolved_release, ignore_until, ignore_count, ignore_users, times_seen, users_seen \
                     FROM issues WHERE status <> 'unresolved' AND id",
                );
                push_in(&mut sql, chunk.copied());
                let states: Vec<$crate::store::rollup::IssueState> = sql.build_query_as().fetch_all(&mut **tx).await?;
                rollup.states.extend(states.into_iter().map(|s| (s.id, s)));
            }
            Ok(())
        }

        /// Write what the batch summed: event rows, tag values, hourly counts, users, environments,
        /// releases, then the issues' counts. Rows go in key order and tables in this order, so that two
        /// nodes' batches lock shared rows (a busy issue's tag values, say) in the same order and cannot
        /// deadlock each other on PostgreSQL. The multi-row inserts run on generic plans where the
        /// backend has them ([`super::GENERIC_PLANS`]).
        pub(super) async fn flush(tx: &mut sqlx::Transaction<'_, Db>, rollup: &Rollup<'_>) -> StoreResult<()> {
            // Every row below comes from a stored event: a batch of sessions or client reports alone
            // has nothing to flush, and no plan mode to set.
            if rollup.events.is_empty() {
                return Ok(());
            }
            if let Some(sql) = super::GENERIC_PLANS {
                sqlx::raw_sql(sql).execute(&mut **tx).await?;
            }
            for chunk in $crate::store::rollup::pieces(&rollup.events) {
                let mut sql = sqlx::QueryBuilder::<Db>::new(
                    "INSERT INTO events (project_id, issue_id, event_id, event_type, timestamp, received_at, level, platform, \
                     title, message, environment, release, user_key, payload, primary_hash) ",
                );
                sql.push_values(chunk, |mut row, e| {
                    let ev = e.event;
                    row.push_bind(e.project_id)
                        .push_bind(e.issue_id)
                        .push_bind(ev.event_id.as_str())
                        .push_bind(ev.event_type.as_str())
                        .push_bind(ev.timestamp)
                        .push_bind(e.received_at)
                        .push_bind(ev.level.as_str())
                        .push_bind(ev.platform.as_str())
                        .push_bind(ev.title.as_str())
                        .push_bind(ev.message.as_str())
                        .push_bind(ev.environment.as_deref())
                        .push_bind(ev.release.as_deref())
                        .push_bind(ev.user_key.as_deref())
                        .push_bind(ev.payload.as_slice())
                        .push_bind(ev.hashes.first().map(String::as_str));
                });
                sql.build().execute(&mut **tx).await?;
            }
            let tags = $crate::store::rollup::in_key_order(&rollup.tags);
            for chunk in $crate::store::rollup::pieces(&tags) {
                let mut sql = sqlx::QueryBuilder::<Db>::new(
                    "INSERT INTO issue_tag_values (issue_id, key, value, times_seen, first_seen, last_seen) ",
                );
                sql.push_values(chunk, |mut row, ((issue, key, value), (count, span))| {
                    row.push_bind(*issue).push_bind(*key).push_bind(*value).push_bind(*count).push_bind(span.first).push_bind(span.last);
                });
                sql.push(
                    " ON CONFLICT (issue_id, key, value) DO UPDATE SET times_seen = issue_tag_values.times_seen + excluded.times_seen, \
                     first_seen = CASE WHEN excluded.first_seen < issue_tag_values.first_seen THEN excluded.first_seen ELSE issue_tag_values.first_seen END, \
                     last_seen = CASE WHEN excluded.last_seen > issue_tag_values.last_seen THEN excluded.last_seen ELSE issue_tag_values.last_seen END",
                );
                sql.build().execute(&mut **tx).await?;
            }
            let hourly = $crate::store::rollup::in_key_order(&rollup.hourly);
            for chunk in $crate::store::rollup::pieces(&hourly) {
                let mut sql = sqlx::QueryBuilder::<Db>::new("INSERT INTO issue_hourly (issue_id, hour, count) ");
                sql.push_values(chunk, |mut row, ((issue, hour), count)| {
                    row.push_bind(*issue).push_bind(*hour).push_bind(*count);
                });
                sql.push(" ON CONFLICT (issue_id, hour) DO UPDATE SET count = issue_hourly.count + excluded.count");
                sql.build().execute(&mut **tx).await?;
            }
            let users = $crate::store::rollup::in_key_order(&rollup.users);
            let mut new_users: std::collections::HashMap<i64, i64> = std::collections::HashMap::new();
            for chunk in $crate::store::rollup::pieces(&users) {
                // New users first (their count goes to the issue), then the last-seen of the others.
                let mut sql = sqlx::QueryBuilder::<Db>::new("INSERT INTO issue_users (issue_id, user_key, first_seen, last_seen, email) ");
                sql.push_values(chunk, |mut row, ((issue, user), (span, email))| {
                    row.push_bind(*issue).push_bind(*user).push_bind(span.first).push_bind(span.last).push_bind(*email);
                });
                sql.push(" ON CONFLICT DO NOTHING RETURNING issue_id");
                let inserted: Vec<(i64,)> = sql.build_query_as().fetch_all(&mut **tx).await?;
                for (issue,) in inserted {
                    *new_users.entry(issue).or_insert(0) += 1;
                }
                let mut sql = sqlx::QueryBuilder::<Db>::new("INSERT INTO issue_users (issue_id, user_key, first_seen, last_seen, email) ");
                sql.push_values(chunk, |mut row, ((issue, user), (span, email))| {
                    row.push_bind(*issue).push_bind(*user).push_bind(span.first).push_bind(span.last).push_bind(*email);
                });
                sql.push(
                    " ON CONFLICT (issue_id, user_key) DO UPDATE SET \
                     first_seen = CASE WHEN excluded.first_seen < issue_users.first_seen THEN excluded.first_seen ELSE issue_users.first_seen END, \
                     last_seen = CASE WHEN excluded.last_seen > issue_users.last_seen THEN excluded.last_seen ELSE issue_users.last_seen END, \
                     email = COALESCE(excluded.email, issue_users.email)",
                );
                sql.build().execute(&mut **tx).await?;
            }
            let environments = $crate::store::rollup::in_key_order(&rollup.environments);
            for chunk in $crate::store::rollup::pieces(&environments) {
                let mut sql = sqlx::QueryBuilder::<Db>::new("INSERT INTO environments (project_id, name, first_seen, last_seen) ");
                sql.push_values(chunk, |mut row, ((project, name), span)| {
                    row.push_bind(*project).push_bind(*name).push_bind(span.first).push_bind(span.last);
                });
                sql.push(
                    " ON CONFLICT (project_id, name) DO UPDATE SET last_seen = \
                     CASE WHEN excluded.last_seen > environments.last_seen THEN excluded.last_seen ELSE environments.last_seen END",
                );
                sql.build().execute(&mut **tx).await?;
            }
            let releases = $crate::store::rollup::in_key_order(&rollup.releases);
            let mut links: Vec<(i64, i64)> = Vec::new();
            for chunk in $crate::store::rollup::pieces(&releases) {
                let mut sql = sqlx::QueryBuilder::<Db>::new(
                    "INSERT INTO releases (organization_id, version, created_at, first_event, last_event) ",
                );
                sql.push_values(chunk, |mut row, ((organization, version), (span, received, _))| {
                    row.push_bind(*organization).push_bind(*version).push_bind(*received).push_bind(span.first).push_bind(span.last);
                });
                sql.push(
                    " ON CONFLICT (organization_id, version) DO UPDATE SET \
                     first_event = CASE WHEN releases.first_event IS NULL OR excluded.first_event < releases.first_event \
                                   THEN excluded.first_event ELSE releases.first_event END, \
                     last_event = CASE WHEN releases.last_event IS NULL OR excluded.last_event > releases.last_event \
                                  THEN excluded.last_event ELSE releases.last_event END \
                     RETURNING id, organization_id, version",
                );
                let ids: Vec<(i64, i64, String)> = sql.build_query_as().fetch_all(&mut **tx).await?;
                for (release_id, organization, version) in ids {
                    if let Some((_, _, projects)) = rollup.releases.get(&(organization, version.as_str())) {
                        links.extend(projects.iter().map(|project| (release_id, *project)));
                    }
                }
            }
            links.sort_unstable();
            for chunk in $crate::store::rollup::pieces(&links) {
                let mut sql = sqlx::QueryBuilder::<Db>::new("INSERT INTO release_projects (release_id, project_id) ");
                sql.push_values(chunk, |mut row, (release, project)| {
                    row.push_bind(*release).push_bind(*project);
                });
                sql.push(" ON CONFLICT DO NOTHING");
                sql.build().execute(&mut **tx).await?;
            }
            // Each touched issue once: its counts, seen span, latest description and releases.
            let mut issues: Vec<_> = rollup.issues.iter().map(|(id, d)| (*id, d, new_users.get(id).copied().unwrap_or(0))).collect();
            issues.sort_unstable_by_key(|(id, ..)| *id);
            // The inserts above have one plan whatever their values; this join does not.
            if let (Some(sql), false) = (super::CUSTOM_PLANS, issues.is_empty()) {
                sqlx::raw_sql(sql).execute(&mut **tx).await?;
            }
            for chunk in $crate::store::rollup::pieces(&issues) {
                let mut sql = sqlx::QueryBuilder::<Db>::new("UPDATE issues SET times_seen = issues.times_seen + v.column2, \
                     users_seen = issues.users_seen + v.column3, \
                     first_seen = CASE WHEN v.column4 < issues.first_seen THEN v.column4 ELSE issues.first_seen END, \
                     last_seen = CASE WHEN v.column5 > issues.last_seen THEN v.column5 ELSE issues.last_seen END, \
                     title = v.column6, culprit = v.column7, level = v.column8, metadata = v.column9, \
                     first_release = COALESCE(issues.first_release, v.column10), last_release = COALESCE(v.column11, issues.last_release) \
                     FROM (");
                sql.push_values(chunk, |mut row, (id, d, users)| {
                    let ev = d.latest;
                    row.push_bind(*id)
                        .push_bind(d.times_seen)
                        .push_bind(*users)
                        .push_bind(d.seen.first)
                        .push_bind(d.seen.last)
                        .push_bind(ev.title.as_str())
                        .push_bind(ev.culprit.as_str())
                        .push_bind(ev.level.as_str())
                        .push_bind(ev.metadata.as_str())
                        .push_bind(d.first_release)
                        .push_bind(d.last_release);
                });
                sql.push(") AS v WHERE issues.id = v.column1");
                sql.build().execute(&mut **tx).await?;
            }
            Ok(())
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
            let newly_seen = ev.hashes.iter().any(|h| !rollup.owners.contains_key(&(write.project_id, h.clone())));
            for hash in &ev.hashes {
                rollup.owners.insert((write.project_id, hash.clone()), issue_id);
            }
            if !outcome.is_new {
                if newly_seen {
                    claim_hashes(tx, write.project_id, issue_id, &ev.hashes).await?;
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
