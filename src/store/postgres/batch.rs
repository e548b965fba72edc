//! PostgreSQL's half of an ingest batch (`store/ops/ingest.rs` is the rest): one statement reads what
//! the batch's events need, one writes everything the batch summed in its [`Rollup`]. Each takes its
//! rows as one array per column, unpacked by `unnest`, so its text never changes whatever the batch's
//! size and mix: it is parsed and planned once per connection ([`BEGIN_GENERIC`]).
//!
//! ```text
//! BEGIN; SET LOCAL plan_cache_mode = force_generic_plan; SET LOCAL enable_seqscan = off
//! SELECT false, hash, issue_id, <issue state> … LATERAL (issue_hashes … LIMIT 1)    owners
//! UNION ALL SELECT true, hash …                 LATERAL (issue_tombstones … LIMIT 1) tombstones
//! WITH counter AS (UPDATE projects …), created AS (INSERT INTO issues …),     per new issue
//!      claimed AS (INSERT INTO issue_hashes … ON CONFLICT DO NOTHING) SELECT id, won
//!   … the statements of regressions and alert activity …
//! WITH ev     AS (INSERT INTO events           SELECT * FROM unnest($1 … $15)),
//!      tags   AS (INSERT INTO issue_tag_values …  ON CONFLICT DO UPDATE),
//!      hourly, users (RETURNING issue_id, xmax = 0 AS inserted), envs,
//!      rel    AS (INSERT INTO releases         …  RETURNING id, organization_id, version),
//!      links  AS (INSERT INTO release_projects SELECT … FROM rel JOIN unnest(…)),
//! UPDATE issues … FROM unnest($42 … $51) LEFT JOIN (new users per issue)
//! COMMIT
//! ```
//!
//! When `events`' unique index refuses an event id (an SDK retry of a stored event), the batch is
//! written again, and that time it first looks up which of its ids are stored, on a custom plan
//! ([`STORED_EVENTS`]):
//!
//! ```text
//! BEGIN
//! SELECT … FROM unnest($2) … LATERAL (SELECT … FROM events … LIMIT 1)              retries
//! SET LOCAL plan_cache_mode = force_generic_plan; SET LOCAL enable_seqscan = off
//!   … as above …
//! ```
//!
//! A batch used to take four lookups, nine multi-row statements and two plan-mode switches, each a
//! round trip and most of them planned afresh; at low rates, where batches are small, those were
//! much of PostgreSQL's work. The event-id lookup alone took 0.33 ms of PostgreSQL's time per batch,
//! most of it planning, to find nothing almost every time. A new issue took five statements (the
//! short id, the issue, each hash, its owner, the alert activity) where it now takes two; a fresh
//! project's first second opens all its issues at once (BENCHMARKS.md, "A fresh server's first
//! seconds").
//!
//! Every lookup probes a unique index once per key (`LATERAL … LIMIT 1` cannot be flattened into a
//! join), and the writes read nothing but the inserts' unique indexes and `issues` by primary key.
//!
//! Each table's rows go in key order, so two nodes' batches lock a table's shared rows (a busy
//! issue's tag values, say) in the same order. The order between tables is the plan's: the same
//! statement on every node, but planned per connection, so a deadlock between nodes is unlikely
//! rather than impossible; PostgreSQL then aborts one batch and the pipeline retries its envelopes
//! one by one.
//!
//! A user is counted for an issue only by the batch whose insert created the row (`xmax = 0`: an
//! upsert that updates locks the old row first and carries the lock into the new version, so only
//! a row it inserted has no `xmax`).

use sqlx::PgConnection;

use crate::store::rollup::{IssueState, Rollup, in_key_order, lookup_keys};
use crate::store::{EnvelopeWrite, Millis, NewEvent, StoreResult};

/// [`GENERIC_PLANS`] as a literal, so that [`BEGIN_GENERIC`] can put `BEGIN` before it.
macro_rules! generic_plans {
    () => {
        "SET LOCAL plan_cache_mode = force_generic_plan; SET LOCAL enable_seqscan = off"
    };
}

/// Generic plans, made with sequential scans off, for the rest of the transaction: from its start
/// ([`BEGIN_GENERIC`]), or once the batch's stored event ids are looked up.
///
/// The connection's own mode is custom plans (see `PgStore::connect`), which planned every statement
/// on every batch: the multi-row inserts with their hundreds of parameters were a quarter of
/// PostgreSQL's CPU under load (`perf record -a` during `tests/bench/throughput.sh postgres`), and
/// the hash lookup, merged with the event-id one, took longer to plan than to run (0.5 ms against
/// 0.2, `EXPLAIN (ANALYZE, SUMMARY)`). A generic plan is made once per connection, so it must not
/// depend on the tables' sizes: the lookups and writes after this find their rows through a unique
/// index by all its columns (a sequential scan, which a plan made while `issues` was small would keep
/// after it grew where nothing analyzes it, is off), and the foreign-key checks the inserts trigger
/// are planned under the same settings. The one exception is rare: a node that loses the race for a
/// new issue deletes its own, and that delete's cascades go through `issue_id` indexes.
const GENERIC_PLANS: &str = generic_plans!();

/// A batch's first transaction: generic plans from the start, in the same round trip.
const BEGIN_GENERIC: &str = concat!("BEGIN; ", generic_plans!());

/// The statement that starts a batch's transaction: with generic plans unless it looks up stored
/// event ids first (which runs on a custom plan, see [`STORED_EVENTS`]).
pub(super) fn begin(look_up_stored: bool) -> &'static str {
    if look_up_stored { super::BEGIN_WRITE } else { BEGIN_GENERIC }
}

/// Which of a project's event ids are stored (SDK retries), when a first attempt found one.
///
/// This one runs on a custom plan. On `events`, `events_release` also starts with `project_id`, and a
/// generic plan made while the table was nearly empty, when the two indexes cost the same, probed
/// through it and filtered on the event id: 6 ms per id at about 5,000 events (`auto_explain`).
const STORED_EVENTS: &str = "SELECT e.event_id FROM unnest($2::text[]) AS k (id) \
CROSS JOIN LATERAL (SELECT event_id FROM events WHERE project_id = $1 AND event_id = k.id LIMIT 1) AS e";

/// The owners of a project's hashes, with each owner's state unless it is plainly unresolved, and
/// its tombstoned hashes.
const HASHES: &str = "\
SELECT false AS tombstone, h.hash, h.issue_id, i.status, i.resolved_mode, i.resolved_release, i.ignore_until, \
       i.ignore_count, i.ignore_users, i.times_seen, i.users_seen \
FROM unnest($2::text[]) AS k (hash) \
CROSS JOIN LATERAL (SELECT hash, issue_id FROM issue_hashes WHERE project_id = $1 AND hash = k.hash LIMIT 1) AS h \
LEFT JOIN issues AS i ON i.id = h.issue_id AND i.status <> 'unresolved' \
UNION ALL \
SELECT true, t.hash, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL \
FROM unnest($2::text[]) AS k (hash) \
CROSS JOIN LATERAL (SELECT hash FROM issue_tombstones WHERE project_id = $1 AND hash = k.hash LIMIT 1) AS t";

/// A new issue in one round trip: the project's next short id, the issue row and its hashes.
/// `won` is false when another writer claimed the primary hash first; its row is not in this
/// statement's snapshot, so the caller looks the owner up.
const OPEN_ISSUE: &str = "\
WITH counter AS (UPDATE projects SET next_short_id = next_short_id + 1 WHERE id = $1 RETURNING next_short_id - 1 AS short_id), \
created AS (INSERT INTO issues (project_id, short_id, title, culprit, level, event_type, metadata, status, substatus, \
                                first_seen, last_seen, times_seen, users_seen, first_release, last_release) \
            SELECT $1, short_id, $2, $3, $4, $5, $6, 'unresolved', 'new', $7, $7, 0, 0, $8, $8 FROM counter RETURNING id), \
claimed AS (INSERT INTO issue_hashes (project_id, hash, issue_id) \
            SELECT $1, k.hash, created.id FROM created CROSS JOIN unnest($9::text[]) AS k (hash) \
            ON CONFLICT DO NOTHING RETURNING hash) \
SELECT created.id, EXISTS (SELECT 1 FROM claimed WHERE claimed.hash = ($9::text[])[1]) AS won FROM created";

/// One row of [`HASHES`].
#[derive(sqlx::FromRow)]
struct Hash {
    tombstone: bool,
    hash: String,
    issue_id: Option<i64>,
    status: Option<String>,
    resolved_mode: Option<String>,
    resolved_release: Option<String>,
    ignore_until: Option<Millis>,
    ignore_count: Option<i64>,
    ignore_users: Option<i64>,
    times_seen: Option<i64>,
    users_seen: Option<i64>,
}

/// Open an issue for an event none of whose hashes has an owner ([`OPEN_ISSUE`]). Returns the issue
/// and whether it won its primary hash.
pub(super) async fn open_issue(
    conn: &mut PgConnection,
    write: &EnvelopeWrite,
    ev: &NewEvent,
) -> StoreResult<(i64, bool)> {
    let opened: (i64, bool) = sqlx::query_as(OPEN_ISSUE)
        .bind(write.project_id)
        .bind(&ev.title)
        .bind(&ev.culprit)
        .bind(&ev.level)
        .bind(&ev.event_type)
        .bind(&ev.metadata)
        .bind(ev.timestamp)
        .bind(&ev.release)
        .bind(&ev.hashes)
        .fetch_one(&mut *conn)
        .await?;
    Ok(opened)
}

/// Read what the batch's events need: which of their ids are stored (retries, only if
/// `look_up_stored`), which issues own their hashes and which hashes are tombstoned, and the
/// workflow state of the owning issues that are not plainly unresolved. One statement per project,
/// or two and the switch to generic plans when looking up stored ids.
pub(super) async fn prefetch(
    conn: &mut PgConnection,
    batch: &[EnvelopeWrite],
    rollup: &mut Rollup<'_>,
    look_up_stored: bool,
) -> StoreResult<()> {
    let keys = lookup_keys(batch);
    // No events, nothing to look up or write: sessions or client reports alone.
    if keys.is_empty() {
        return Ok(());
    }
    if look_up_stored {
        for (project_id, keys) in &keys {
            let stored: Vec<String> =
                sqlx::query_scalar(STORED_EVENTS).bind(project_id).bind(&keys.event_ids).fetch_all(&mut *conn).await?;
            rollup.known_events.extend(stored.into_iter().map(|id| (*project_id, id)));
        }
        sqlx::raw_sql(GENERIC_PLANS).execute(&mut *conn).await?;
    }
    for (project_id, keys) in keys.into_iter().filter(|(_, keys)| !keys.hashes.is_empty()) {
        let found: Vec<Hash> = sqlx::query_as(HASHES).bind(project_id).bind(&keys.hashes).fetch_all(&mut *conn).await?;
        for row in found {
            if row.tombstone {
                rollup.tombstones.insert((project_id, row.hash));
            } else if let Some(issue_id) = row.issue_id {
                if let (Some(status), Some(times_seen), Some(users_seen)) = (row.status, row.times_seen, row.users_seen)
                {
                    let state = IssueState {
                        id: issue_id,
                        status,
                        resolved_mode: row.resolved_mode,
                        resolved_release: row.resolved_release,
                        ignore_until: row.ignore_until,
                        ignore_count: row.ignore_count,
                        ignore_users: row.ignore_users,
                        times_seen,
                        users_seen,
                    };
                    rollup.states.insert(issue_id, state);
                }
                rollup.owners.insert((project_id, row.hash), issue_id);
            }
        }
    }
    Ok(())
}

/// The write statement (see the module docs).
const FLUSH: &str = "WITH \
ev AS (INSERT INTO events (project_id, issue_id, event_id, event_type, timestamp, received_at, level, platform, \
       title, message, environment, release, user_key, payload, primary_hash) \
  SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::text[], \
       $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::bytea[], $15::text[])), \
tags AS (INSERT INTO issue_tag_values AS t (issue_id, key, value, times_seen, first_seen, last_seen) \
  SELECT * FROM unnest($16::bigint[], $17::text[], $18::text[], $19::bigint[], $20::bigint[], $21::bigint[]) \
  ON CONFLICT (issue_id, key, value) DO UPDATE SET times_seen = t.times_seen + excluded.times_seen, \
     first_seen = least(t.first_seen, excluded.first_seen), last_seen = greatest(t.last_seen, excluded.last_seen)), \
hourly AS (INSERT INTO issue_hourly AS h (issue_id, hour, count) \
  SELECT * FROM unnest($22::bigint[], $23::bigint[], $24::bigint[]) \
  ON CONFLICT (issue_id, hour) DO UPDATE SET count = h.count + excluded.count), \
users AS (INSERT INTO issue_users AS u (issue_id, user_key, first_seen, last_seen, email) \
  SELECT * FROM unnest($25::bigint[], $26::text[], $27::bigint[], $28::bigint[], $29::text[]) \
  ON CONFLICT (issue_id, user_key) DO UPDATE SET first_seen = least(u.first_seen, excluded.first_seen), \
     last_seen = greatest(u.last_seen, excluded.last_seen), email = COALESCE(excluded.email, u.email) \
  RETURNING issue_id, xmax = 0 AS inserted), \
envs AS (INSERT INTO environments AS e (project_id, name, first_seen, last_seen) \
  SELECT * FROM unnest($30::bigint[], $31::text[], $32::bigint[], $33::bigint[]) \
  ON CONFLICT (project_id, name) DO UPDATE SET last_seen = greatest(e.last_seen, excluded.last_seen)), \
rel AS (INSERT INTO releases AS r (organization_id, version, created_at, first_event, last_event) \
  SELECT * FROM unnest($34::bigint[], $35::text[], $36::bigint[], $37::bigint[], $38::bigint[]) \
  ON CONFLICT (organization_id, version) DO UPDATE SET first_event = least(r.first_event, excluded.first_event), \
     last_event = greatest(r.last_event, excluded.last_event) \
  RETURNING id, organization_id, version), \
links AS (INSERT INTO release_projects (release_id, project_id) \
  SELECT rel.id, l.project FROM rel \
  JOIN unnest($39::bigint[], $40::text[], $41::bigint[]) AS l (organization, version, project) \
    ON rel.organization_id = l.organization AND rel.version = l.version \
  ORDER BY rel.id, l.project \
  ON CONFLICT DO NOTHING), \
new_users AS (SELECT issue_id, count(*) AS n FROM users WHERE inserted GROUP BY issue_id) \
UPDATE issues SET times_seen = issues.times_seen + v.times_seen, users_seen = issues.users_seen + COALESCE(n.n, 0), \
  first_seen = least(issues.first_seen, v.first_seen), last_seen = greatest(issues.last_seen, v.last_seen), \
  title = v.title, culprit = v.culprit, level = v.level, metadata = v.metadata, \
  first_release = COALESCE(issues.first_release, v.first_release), \
  last_release = COALESCE(v.last_release, issues.last_release) \
FROM unnest($42::bigint[], $43::bigint[], $44::bigint[], $45::bigint[], $46::text[], $47::text[], $48::text[], \
     $49::text[], $50::text[], $51::text[]) \
  AS v (id, times_seen, first_seen, last_seen, title, culprit, level, metadata, first_release, last_release) \
  LEFT JOIN new_users AS n ON n.issue_id = v.id \
WHERE issues.id = v.id";

/// Write what the batch summed: event rows, tag values, hourly counts, users, environments,
/// releases and their projects, then the issues' counts, seen span, latest description and releases.
pub(super) async fn flush(conn: &mut PgConnection, rollup: &Rollup<'_>) -> StoreResult<()> {
    // Every row comes from a stored event: a batch of sessions or client reports alone has nothing
    // to flush.
    if rollup.events.is_empty() {
        return Ok(());
    }
    // On the generic plans `prefetch` switched to.
    let events = &rollup.events;
    let tags = in_key_order(&rollup.tags);
    let hourly = in_key_order(&rollup.hourly);
    let users = in_key_order(&rollup.users);
    let environments = in_key_order(&rollup.environments);
    let releases = in_key_order(&rollup.releases);
    let links: Vec<(i64, &str, i64)> = releases
        .iter()
        .flat_map(|((organization, version), (.., projects))| {
            projects.iter().map(move |project| (*organization, *version, *project))
        })
        .collect();
    let issues = in_key_order(&rollup.issues);
    sqlx::query(FLUSH)
        .bind(column(events, |e| e.project_id))
        .bind(column(events, |e| e.issue_id))
        .bind(column(events, |e| e.event.event_id.as_str()))
        .bind(column(events, |e| e.event.event_type.as_str()))
        .bind(column(events, |e| e.event.timestamp.0))
        .bind(column(events, |e| e.received_at.0))
        .bind(column(events, |e| e.event.level.as_str()))
        .bind(column(events, |e| e.event.platform.as_str()))
        .bind(column(events, |e| e.event.title.as_str()))
        .bind(column(events, |e| e.event.message.as_str()))
        .bind(column(events, |e| e.event.environment.as_deref()))
        .bind(column(events, |e| e.event.release.as_deref()))
        .bind(column(events, |e| e.event.user_key.as_deref()))
        .bind(column(events, |e| e.event.payload.as_slice()))
        .bind(column(events, |e| e.event.hashes.first().map(String::as_str)))
        .bind(column(&tags, |((issue, ..), _)| *issue))
        .bind(column(&tags, |((_, key, _), _)| *key))
        .bind(column(&tags, |((.., value), _)| *value))
        .bind(column(&tags, |(_, (count, _))| *count))
        .bind(column(&tags, |(_, (_, span))| span.first.0))
        .bind(column(&tags, |(_, (_, span))| span.last.0))
        .bind(column(&hourly, |((issue, _), _)| *issue))
        .bind(column(&hourly, |((_, hour), _)| hour.0))
        .bind(column(&hourly, |(_, count)| **count))
        .bind(column(&users, |((issue, _), _)| *issue))
        .bind(column(&users, |((_, user), _)| *user))
        .bind(column(&users, |(_, (span, _))| span.first.0))
        .bind(column(&users, |(_, (span, _))| span.last.0))
        .bind(column(&users, |(_, (_, email))| *email))
        .bind(column(&environments, |((project, _), _)| *project))
        .bind(column(&environments, |((_, name), _)| *name))
        .bind(column(&environments, |(_, span)| span.first.0))
        .bind(column(&environments, |(_, span)| span.last.0))
        .bind(column(&releases, |((organization, _), _)| *organization))
        .bind(column(&releases, |((_, version), _)| *version))
        .bind(column(&releases, |(_, (_, received, _))| received.0))
        .bind(column(&releases, |(_, (span, ..))| span.first.0))
        .bind(column(&releases, |(_, (span, ..))| span.last.0))
        .bind(column(&links, |(organization, ..)| *organization))
        .bind(column(&links, |(_, version, _)| *version))
        .bind(column(&links, |(.., project)| *project))
        .bind(column(&issues, |(id, _)| **id))
        .bind(column(&issues, |(_, d)| d.times_seen))
        .bind(column(&issues, |(_, d)| d.seen.first.0))
        .bind(column(&issues, |(_, d)| d.seen.last.0))
        .bind(column(&issues, |(_, d)| d.latest.title.as_str()))
        .bind(column(&issues, |(_, d)| d.latest.culprit.as_str()))
        .bind(column(&issues, |(_, d)| d.latest.level.as_str()))
        .bind(column(&issues, |(_, d)| d.latest.metadata.as_str()))
        .bind(column(&issues, |(_, d)| d.first_release))
        .bind(column(&issues, |(_, d)| d.last_release))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// One column of rows, as the array a `$n::type[]` parameter takes.
fn column<'r, R, T>(rows: &'r [R], field: impl Fn(&'r R) -> T) -> Vec<T> {
    rows.iter().map(field).collect()
}
