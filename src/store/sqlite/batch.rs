//! SQLite's half of an ingest batch (`store/ops/ingest.rs` is the rest): the lookups a batch makes
//! before it writes, as `IN` lists, and the flush of what it summed in its [`Rollup`], one multi-row
//! statement per table (per [`pieces`] of rows), rows in key order.
//!
//! ```text
//! SELECT event_id FROM events WHERE project_id = $1 AND event_id IN ($2, …)       retries, see below
//! SELECT hash, issue_id FROM issue_hashes WHERE project_id = $1 AND hash IN (…)    owners
//! SELECT hash, project_id FROM issue_tombstones …, SELECT … FROM issues WHERE id IN (…)
//! UPDATE projects SET next_short_id …, INSERT INTO issues …, INSERT INTO issue_hashes …  per new issue
//! INSERT INTO events (…) VALUES (…), (…), …            (one piece of up to 256 rows)
//! INSERT INTO issue_tag_values (…) VALUES … ON CONFLICT (issue_id, key, value) DO UPDATE …
//! … issue_hourly, issue_users, environments, releases, release_projects …
//! UPDATE issues SET … FROM (VALUES …) AS v WHERE issues.id = v.column1
//! ```
//!
//! The stored event ids are looked up only when a first attempt at the batch found one: the events
//! insert's unique index refused it (`write::batch` in `store/ops/ingest.rs`).
//!
//! PostgreSQL does the same with one lookup and one write, each a statement of arrays
//! (`store/postgres/batch.rs`); SQLite has no array type, and its statements are no round trips over
//! a network.

use sqlx::SqliteConnection;

use super::Db;
use crate::store::rollup::{IssueState, Rollup, in_key_order, lookup_keys, lookups, pieces};
use crate::store::{EnvelopeWrite, NewEvent, StoreResult};

/// Append ` IN (…)` with one bound parameter per key (a piece from [`lookups`]).
fn push_in<'t, T>(sql: &mut sqlx::QueryBuilder<Db>, keys: impl Iterator<Item = T>)
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

/// Open an issue for an event none of whose hashes has an owner: take the project's next short id,
/// insert the issue, claim its hashes. Returns the issue and whether it won its primary hash (on
/// SQLite, with one writer, it always does).
pub(super) async fn open_issue(
    conn: &mut SqliteConnection,
    write: &EnvelopeWrite,
    ev: &NewEvent,
) -> StoreResult<(i64, bool)> {
    let (next,): (i64,) =
        sqlx::query_as("UPDATE projects SET next_short_id = next_short_id + 1 WHERE id = $1 RETURNING next_short_id")
            .bind(write.project_id)
            .fetch_one(&mut *conn)
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
    .fetch_one(&mut *conn)
    .await?;
    let won = super::write::claim_hashes(conn, write.project_id, created, &ev.hashes).await?;
    Ok((created, won))
}

/// The statement that starts a batch's transaction, whether it looks up stored event ids or not.
pub(super) fn begin(_look_up_stored: bool) -> &'static str {
    super::BEGIN_WRITE
}

/// Read what the batch's events need: which of their ids are stored (retries, only if
/// `look_up_stored`: see `write::batch`), which issues own their hashes and which hashes are
/// tombstoned, and the workflow state of the owning issues that are not plainly unresolved. A few
/// `IN` lists per project instead of several queries per event.
pub(super) async fn prefetch(
    conn: &mut SqliteConnection,
    batch: &[EnvelopeWrite],
    rollup: &mut Rollup<'_>,
    look_up_stored: bool,
) -> StoreResult<()> {
    for (project_id, keys) in lookup_keys(batch) {
        if look_up_stored {
            for chunk in lookups(&keys.event_ids) {
                let mut sql = sqlx::QueryBuilder::<Db>::new("SELECT event_id FROM events WHERE project_id = ");
                sql.push_bind(project_id).push(" AND event_id");
                push_in(&mut sql, chunk.copied());
                let found: Vec<String> = sql.build_query_scalar().fetch_all(&mut *conn).await?;
                rollup.known_events.extend(found.into_iter().map(|id| (project_id, id)));
            }
        }
        for chunk in lookups(&keys.hashes) {
            let chunk: Vec<&str> = chunk.copied().collect();
            for (table, tombstones) in [("issue_hashes", false), ("issue_tombstones", true)] {
                let column = if tombstones { "project_id" } else { "issue_id" };
                let mut sql =
                    sqlx::QueryBuilder::<Db>::new(format!("SELECT hash, {column} FROM {table} WHERE project_id = "));
                sql.push_bind(project_id).push(" AND hash");
                push_in(&mut sql, chunk.iter().copied());
                let found: Vec<(String, i64)> = sql.build_query_as().fetch_all(&mut *conn).await?;
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
    for chunk in lookups(&issues) {
        let mut sql = sqlx::QueryBuilder::<Db>::new(
            "SELECT id, status, resolved_mode, resolved_release, ignore_until, ignore_count, ignore_users, times_seen, \
             users_seen FROM issues WHERE status <> 'unresolved' AND id",
        );
        push_in(&mut sql, chunk.copied());
        let states: Vec<IssueState> = sql.build_query_as().fetch_all(&mut *conn).await?;
        rollup.states.extend(states.into_iter().map(|s| (s.id, s)));
    }
    Ok(())
}

/// Write what the batch summed: event rows, tag values, hourly counts, users, environments,
/// releases, then the issues' counts.
pub(super) async fn flush(conn: &mut SqliteConnection, rollup: &Rollup<'_>) -> StoreResult<()> {
    // Every row below comes from a stored event: a batch of sessions or client reports alone
    // has nothing to flush.
    if rollup.events.is_empty() {
        return Ok(());
    }
    for chunk in pieces(&rollup.events) {
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
        sql.build().execute(&mut *conn).await?;
    }
    let tags = in_key_order(&rollup.tags);
    for chunk in pieces(&tags) {
        let mut sql = sqlx::QueryBuilder::<Db>::new(
            "INSERT INTO issue_tag_values (issue_id, key, value, times_seen, first_seen, last_seen) ",
        );
        sql.push_values(chunk, |mut row, ((issue, key, value), (count, span))| {
            row.push_bind(*issue)
                .push_bind(*key)
                .push_bind(*value)
                .push_bind(*count)
                .push_bind(span.first)
                .push_bind(span.last);
        });
        sql.push(
            " ON CONFLICT (issue_id, key, value) DO UPDATE SET times_seen = issue_tag_values.times_seen + excluded.times_seen, \
             first_seen = CASE WHEN excluded.first_seen < issue_tag_values.first_seen THEN excluded.first_seen ELSE issue_tag_values.first_seen END, \
             last_seen = CASE WHEN excluded.last_seen > issue_tag_values.last_seen THEN excluded.last_seen ELSE issue_tag_values.last_seen END",
        );
        sql.build().execute(&mut *conn).await?;
    }
    let hourly = in_key_order(&rollup.hourly);
    for chunk in pieces(&hourly) {
        let mut sql = sqlx::QueryBuilder::<Db>::new("INSERT INTO issue_hourly (issue_id, hour, count) ");
        sql.push_values(chunk, |mut row, ((issue, hour), count)| {
            row.push_bind(*issue).push_bind(*hour).push_bind(*count);
        });
        sql.push(" ON CONFLICT (issue_id, hour) DO UPDATE SET count = issue_hourly.count + excluded.count");
        sql.build().execute(&mut *conn).await?;
    }
    let users = in_key_order(&rollup.users);
    let mut new_users: std::collections::HashMap<i64, i64> = std::collections::HashMap::new();
    for chunk in pieces(&users) {
        // New users first (their count goes to the issue), then the last-seen of the others.
        let mut sql = sqlx::QueryBuilder::<Db>::new(
            "INSERT INTO issue_users (issue_id, user_key, first_seen, last_seen, email) ",
        );
        sql.push_values(chunk, |mut row, ((issue, user), (span, email))| {
            row.push_bind(*issue).push_bind(*user).push_bind(span.first).push_bind(span.last).push_bind(*email);
        });
        sql.push(" ON CONFLICT DO NOTHING RETURNING issue_id");
        let inserted: Vec<(i64,)> = sql.build_query_as().fetch_all(&mut *conn).await?;
        for (issue,) in inserted {
            *new_users.entry(issue).or_insert(0) += 1;
        }
        let mut sql = sqlx::QueryBuilder::<Db>::new(
            "INSERT INTO issue_users (issue_id, user_key, first_seen, last_seen, email) ",
        );
        sql.push_values(chunk, |mut row, ((issue, user), (span, email))| {
            row.push_bind(*issue).push_bind(*user).push_bind(span.first).push_bind(span.last).push_bind(*email);
        });
        sql.push(
            " ON CONFLICT (issue_id, user_key) DO UPDATE SET \
             first_seen = CASE WHEN excluded.first_seen < issue_users.first_seen THEN excluded.first_seen ELSE issue_users.first_seen END, \
             last_seen = CASE WHEN excluded.last_seen > issue_users.last_seen THEN excluded.last_seen ELSE issue_users.last_seen END, \
             email = COALESCE(excluded.email, issue_users.email)",
        );
        sql.build().execute(&mut *conn).await?;
    }
    let environments = in_key_order(&rollup.environments);
    for chunk in pieces(&environments) {
        let mut sql =
            sqlx::QueryBuilder::<Db>::new("INSERT INTO environments (project_id, name, first_seen, last_seen) ");
        sql.push_values(chunk, |mut row, ((project, name), span)| {
            row.push_bind(*project).push_bind(*name).push_bind(span.first).push_bind(span.last);
        });
        sql.push(
            " ON CONFLICT (project_id, name) DO UPDATE SET last_seen = \
             CASE WHEN excluded.last_seen > environments.last_seen THEN excluded.last_seen ELSE environments.last_seen END",
        );
        sql.build().execute(&mut *conn).await?;
    }
    let releases = in_key_order(&rollup.releases);
    let mut links: Vec<(i64, i64)> = Vec::new();
    for chunk in pieces(&releases) {
        let mut sql = sqlx::QueryBuilder::<Db>::new(
            "INSERT INTO releases (organization_id, version, created_at, first_event, last_event) ",
        );
        sql.push_values(chunk, |mut row, ((organization, version), (span, received, _))| {
            row.push_bind(*organization)
                .push_bind(*version)
                .push_bind(*received)
                .push_bind(span.first)
                .push_bind(span.last);
        });
        sql.push(
            " ON CONFLICT (organization_id, version) DO UPDATE SET \
             first_event = CASE WHEN releases.first_event IS NULL OR excluded.first_event < releases.first_event \
                           THEN excluded.first_event ELSE releases.first_event END, \
             last_event = CASE WHEN releases.last_event IS NULL OR excluded.last_event > releases.last_event \
                          THEN excluded.last_event ELSE releases.last_event END \
             RETURNING id, organization_id, version",
        );
        let ids: Vec<(i64, i64, String)> = sql.build_query_as().fetch_all(&mut *conn).await?;
        for (release_id, organization, version) in ids {
            if let Some((_, _, projects)) = rollup.releases.get(&(organization, version.as_str())) {
                links.extend(projects.iter().map(|project| (release_id, *project)));
            }
        }
    }
    links.sort_unstable();
    for chunk in pieces(&links) {
        let mut sql = sqlx::QueryBuilder::<Db>::new("INSERT INTO release_projects (release_id, project_id) ");
        sql.push_values(chunk, |mut row, (release, project)| {
            row.push_bind(*release).push_bind(*project);
        });
        sql.push(" ON CONFLICT DO NOTHING");
        sql.build().execute(&mut *conn).await?;
    }
    // Each touched issue once: its counts, seen span, latest description and releases.
    let mut issues: Vec<_> =
        rollup.issues.iter().map(|(id, d)| (*id, d, new_users.get(id).copied().unwrap_or(0))).collect();
    issues.sort_unstable_by_key(|(id, ..)| *id);
    for chunk in pieces(&issues) {
        let mut sql = sqlx::QueryBuilder::<Db>::new(
            "UPDATE issues SET times_seen = issues.times_seen + v.column2, \
             users_seen = issues.users_seen + v.column3, \
             first_seen = CASE WHEN v.column4 < issues.first_seen THEN v.column4 ELSE issues.first_seen END, \
             last_seen = CASE WHEN v.column5 > issues.last_seen THEN v.column5 ELSE issues.last_seen END, \
             title = v.column6, culprit = v.column7, level = v.column8, metadata = v.column9, \
             first_release = COALESCE(issues.first_release, v.column10), last_release = COALESCE(v.column11, issues.last_release) \
             FROM (",
        );
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
        sql.build().execute(&mut *conn).await?;
    }
    Ok(())
}
