//! What one ingest transaction adds to the rollups, summed in memory before it is written.
//!
//! Per event the write path only resolves the issue (that needs the database, in order); everything
//! that is a sum or a min/max — tag value counts, hourly counts, unique users, environments,
//! releases — and the event rows themselves are collected here and written by the backend's flush
//! at the end. SQLite runs each statement through a channel to its connection thread and
//! PostgreSQL's are round trips, so the number of statements, not their size, is what costs.
//!
//! ```text
//! 500 events × (event row, 8 tags, hour, user, env, release)
//!   →  SQLite: ~8 multi-row statements    PostgreSQL: 1 statement of arrays
//! ```

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use super::{EnvelopeWrite, Millis, NewEvent};

/// An event row waiting to be inserted.
pub struct EventRow<'a> {
    /// Project.
    pub project_id: i64,
    /// Issue, if grouped.
    pub issue_id: Option<i64>,
    /// When the request arrived.
    pub received_at: Millis,
    /// The event.
    pub event: &'a NewEvent,
}

/// A first/last-seen pair that widens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// Earliest time.
    pub first: Millis,
    /// Latest time.
    pub last: Millis,
}

impl Span {
    fn new(at: Millis) -> Self {
        Self { first: at, last: at }
    }

    fn widen(&mut self, at: Millis) {
        self.first = self.first.min(at);
        self.last = self.last.max(at);
    }
}

/// The sums of one transaction.
#[derive(Default)]
pub struct Rollup<'a> {
    /// `(project, event id)` already stored or accepted in this transaction (duplicates are skipped).
    pub known_events: HashSet<(i64, String)>,
    /// `(project, hash)` → the issue owning it: read for all the batch's hashes up front, then
    /// extended by the issues this transaction opens. A hash of the batch missing here has no owner.
    pub owners: HashMap<(i64, String), i64>,
    /// `(project, hash)` of the batch that belong to a deleted-and-discarded issue.
    pub tombstones: HashSet<(i64, String)>,
    /// The workflow state of the batch's existing issues that are not plainly unresolved (absent: unresolved).
    pub states: HashMap<i64, IssueState>,
    /// Per issue: what this batch adds to its row.
    pub issues: HashMap<i64, IssueDelta<'a>>,
    /// Event rows, in arrival order.
    pub events: Vec<EventRow<'a>>,
    /// `(issue, key, value)` → (count, seen span).
    pub tags: HashMap<(i64, &'a str, &'a str), (i64, Span)>,
    /// `(issue, hour)` → count.
    pub hourly: HashMap<(i64, Millis), i64>,
    /// `(issue, user key)` → (seen span, e-mail).
    pub users: HashMap<(i64, &'a str), (Span, Option<&'a str>)>,
    /// `(project, environment)` → seen span.
    pub environments: HashMap<(i64, &'a str), Span>,
    /// `(organization, version)` → (event span, first arrival, projects).
    pub releases: HashMap<(i64, &'a str), (Span, Millis, BTreeSet<i64>)>,
}

/// What decides whether an event reopens its issue: a resolved issue regresses, an ignored one wakes
/// when its condition is met (`ops/workflow.rs`).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct IssueState {
    /// Issue id.
    pub id: i64,
    /// `resolved` or `ignored` (unresolved issues are not read).
    pub status: String,
    /// `next` or `release` when resolved in a release.
    pub resolved_mode: Option<String>,
    /// The release the fix is in.
    pub resolved_release: Option<String>,
    /// Ignored until then.
    pub ignore_until: Option<Millis>,
    /// Ignored until the issue's event count reaches this.
    pub ignore_count: Option<i64>,
    /// Ignored until this many users have seen it.
    pub ignore_users: Option<i64>,
    /// The stored event count (this batch's events are in [`IssueDelta::times_seen`]).
    pub times_seen: i64,
    /// The stored user count.
    pub users_seen: i64,
}

/// What one batch adds to an issue row, written with one multi-row `UPDATE` at the end.
#[derive(Debug, Clone, Copy)]
pub struct IssueDelta<'a> {
    /// Events counted.
    pub times_seen: i64,
    /// Their time span.
    pub seen: Span,
    /// The latest event's title, culprit, level and metadata (they describe the issue).
    pub latest: &'a NewEvent,
    /// The first release seen in this batch.
    pub first_release: Option<&'a str>,
    /// The last release seen in this batch.
    pub last_release: Option<&'a str>,
}

/// Rows below which a multi-row statement takes them all at once.
const SMALL_RUN: usize = 32;

/// Split rows into pieces of 256, 128, 64 or 32 (binary decomposition of the length) and one last
/// piece of fewer than 32, so that a multi-row statement only ever has one of 35 shapes: each stays in
/// the prepared-statement cache instead of being parsed and planned anew for every batch size, and a
/// small batch's table is still one statement (SQLite's flush).
pub fn pieces<T>(mut rows: &[T]) -> impl Iterator<Item = &[T]> {
    std::iter::from_fn(move || {
        if rows.is_empty() {
            return None;
        }
        let size = match rows.len() {
            n if n >= 256 => 256,
            n if n < SMALL_RUN => n,
            n => 1 << n.ilog2(),
        };
        let (piece, rest) = rows.split_at(size);
        rows = rest;
        Some(piece)
    })
}

/// A map's entries sorted by key: the order the flush writes rows in, so that concurrent batches
/// (several nodes on one PostgreSQL) lock shared rows in the same order.
pub fn in_key_order<K: Ord, V>(map: &HashMap<K, V>) -> Vec<(&K, &V)> {
    let mut entries: Vec<_> = map.iter().collect();
    entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
    entries
}

/// Split the keys of an `IN (…)` lookup into lists of 256, the last one padded to a power of two
/// by repeating its last key (a repeated key changes nothing in an `IN` list). One statement per
/// 256 keys, still in one of nine shapes.
pub fn lookups<T>(keys: &[T]) -> impl Iterator<Item = impl Iterator<Item = &T>> {
    keys.chunks(256).map(|chunk| {
        let padding = chunk.len().next_power_of_two() - chunk.len();
        chunk.iter().chain(chunk.last().into_iter().cycle().take(padding))
    })
}

/// What a batch looks up before it writes, per project: its event ids (SDK retries are skipped) and
/// its distinct grouping hashes, sorted (their owners and tombstones).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct LookupKeys<'a> {
    /// Event ids, in batch order.
    pub event_ids: Vec<&'a str>,
    /// Hashes, each once, sorted.
    pub hashes: Vec<&'a str>,
}

/// The batch's [`LookupKeys`] per project, projects in id order.
pub fn lookup_keys(batch: &[EnvelopeWrite]) -> BTreeMap<i64, LookupKeys<'_>> {
    let mut keys: BTreeMap<i64, (Vec<&str>, BTreeSet<&str>)> = BTreeMap::new();
    for write in batch.iter().filter(|w| !w.events.is_empty()) {
        let (ids, hashes) = keys.entry(write.project_id).or_default();
        for ev in &write.events {
            ids.push(ev.event_id.as_str());
            hashes.extend(ev.hashes.iter().map(String::as_str));
        }
    }
    keys.into_iter()
        .map(|(project, (event_ids, hashes))| (project, LookupKeys { event_ids, hashes: hashes.into_iter().collect() }))
        .collect()
}

impl<'a> Rollup<'a> {
    /// Count one stored event.
    pub fn add(
        &mut self,
        project_id: i64,
        organization_id: i64,
        issue_id: Option<i64>,
        received_at: Millis,
        ev: &'a NewEvent,
    ) {
        self.events.push(EventRow { project_id, issue_id, received_at, event: ev });
        let at = ev.timestamp;
        if let Some(issue) = issue_id {
            let delta = self.issues.entry(issue).or_insert(IssueDelta {
                times_seen: 0,
                seen: Span::new(at),
                latest: ev,
                first_release: None,
                last_release: None,
            });
            delta.times_seen += 1;
            delta.seen.widen(at);
            delta.latest = ev;
            if let Some(release) = ev.release.as_deref() {
                delta.first_release.get_or_insert(release);
                delta.last_release = Some(release);
            }
            for (key, value) in &ev.tags {
                let entry = self.tags.entry((issue, key.as_str(), value.as_str())).or_insert((0, Span::new(at)));
                entry.0 += 1;
                entry.1.widen(at);
            }
            *self.hourly.entry((issue, at.hour_start())).or_insert(0) += 1;
            if let Some(user) = &ev.user_key {
                let entry = self.users.entry((issue, user.as_str())).or_insert((Span::new(at), None));
                entry.0.widen(at);
                if let Some(email) = &ev.user_email {
                    entry.1 = Some(email.as_str());
                }
            }
        }
        if let Some(env) = &ev.environment {
            self.environments.entry((project_id, env.as_str())).or_insert_with(|| Span::new(at)).widen(at);
        }
        if let Some(release) = &ev.release {
            let entry = self
                .releases
                .entry((organization_id, release.as_str()))
                .or_insert_with(|| (Span::new(at), received_at, BTreeSet::new()));
            entry.0.widen(at);
            entry.2.insert(project_id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR_MS: i64 = 3_600_000;

    fn event(id: &str, at: i64, user: Option<&str>) -> NewEvent {
        NewEvent {
            event_id: id.into(),
            event_type: "error".into(),
            timestamp: Millis(at),
            level: "error".into(),
            platform: "python".into(),
            title: "t".into(),
            culprit: "c".into(),
            message: String::new(),
            environment: Some("prod".into()),
            release: Some("1.0".into()),
            user_key: user.map(str::to_owned),
            user_email: None,
            tags: vec![("browser".into(), "Firefox".into())],
            hashes: vec!["h".into()],
            metadata: "{}".into(),
            payload: Vec::new(),
        }
    }

    #[test]
    fn pieces_are_powers_of_two_up_to_256_then_one_small_run() {
        let rows: Vec<u32> = (0..700).collect();
        let sizes: Vec<usize> = pieces(&rows).map(<[u32]>::len).collect();
        assert_eq!(sizes, [256, 256, 128, 32, 28]);
        assert_eq!(pieces(&rows[..31]).map(<[u32]>::len).collect::<Vec<_>>(), [31]);
        assert_eq!(pieces(&rows[..73]).map(<[u32]>::len).collect::<Vec<_>>(), [64, 9]);
        assert_eq!(pieces(&rows[..1]).count(), 1);
        assert_eq!(pieces::<u32>(&[]).count(), 0);
    }

    #[test]
    fn lookups_pad_to_a_power_of_two_with_the_last_key() {
        let keys: Vec<u32> = (0..300).collect();
        let lists: Vec<Vec<u32>> = lookups(&keys).map(|l| l.copied().collect()).collect();
        assert_eq!(lists.iter().map(Vec::len).collect::<Vec<_>>(), [256, 64]);
        assert_eq!(lists[1][43..], [299; 21]);
        assert_eq!(lookups(&[7u32]).map(|l| l.count()).collect::<Vec<_>>(), [1]);
        assert_eq!(lookups::<u32>(&[]).count(), 0);
    }

    #[test]
    fn lookup_keys_are_per_project_with_each_hash_once() {
        let write = |project_id, events: Vec<NewEvent>| EnvelopeWrite {
            project_id,
            organization_id: 9,
            received_at: Millis(0),
            events,
            attachments: Vec::new(),
            user_reports: Vec::new(),
            sessions: Vec::new(),
            check_ins: Vec::new(),
            client_outcomes: Vec::new(),
        };
        let mut two_hashes = event("b", 0, None);
        two_hashes.hashes = vec!["h2".into(), "h".into()];
        let batch = [
            write(2, vec![event("a", 0, None), two_hashes]),
            write(1, vec![event("c", 0, None)]),
            write(3, Vec::new()),
            write(2, vec![event("a", 0, None)]),
        ];
        let keys = lookup_keys(&batch);
        assert_eq!(keys.keys().copied().collect::<Vec<_>>(), [1, 2], "projects without events look nothing up");
        assert_eq!(keys[&2].event_ids, ["a", "b", "a"], "ids in batch order, a retry's too");
        assert_eq!(keys[&2].hashes, ["h", "h2"]);
        assert_eq!(keys[&1], LookupKeys { event_ids: vec!["c"], hashes: vec!["h"] });
    }

    #[test]
    fn sums_and_spans_per_key() {
        let events = [
            event("a", 10 * HOUR_MS + 5, Some("id:1")),
            event("b", 10 * HOUR_MS + 1, Some("id:1")),
            event("c", 11 * HOUR_MS, None),
        ];
        let mut rollup = Rollup::default();
        for ev in &events {
            rollup.add(1, 9, Some(7), Millis(0), ev);
        }
        assert_eq!(rollup.events.len(), 3);
        let (count, span) = rollup.tags[&(7, "browser", "Firefox")];
        assert_eq!((count, span.first, span.last), (3, Millis(10 * HOUR_MS + 1), Millis(11 * HOUR_MS)));
        assert_eq!(rollup.hourly[&(7, Millis(10 * HOUR_MS))], 2);
        assert_eq!(rollup.hourly[&(7, Millis(11 * HOUR_MS))], 1);
        assert_eq!(rollup.users.len(), 1, "one user, seen twice");
        assert_eq!(rollup.releases[&(9, "1.0")].2.len(), 1);
        let delta = rollup.issues[&7];
        assert_eq!(
            (delta.times_seen, delta.seen.first, delta.seen.last),
            (3, Millis(10 * HOUR_MS + 1), Millis(11 * HOUR_MS))
        );
        assert_eq!(delta.latest.event_id, "c", "the last event describes the issue");
    }
}
