//! The store contract for the ingest write path and the issue read models, on either backend —
//! including several writers (as several Faultline nodes on one PostgreSQL would be).

use faultline::store::{ConnectOptions, EnvelopeWrite, IssueFilter, IssueQuery, IssueSort, Millis, NewEvent, Store};

use crate::support::TestDb;

fn event(id: &str, hashes: &[&str], user: Option<&str>, release: Option<&str>) -> NewEvent {
    NewEvent {
        event_id: id.to_owned(),
        event_type: "error".into(),
        timestamp: Millis::now(),
        level: "error".into(),
        platform: "python".into(),
        title: format!("Boom {id}"),
        culprit: "app in run".into(),
        message: "boom".into(),
        environment: Some("prod".into()),
        release: release.map(str::to_owned),
        user_key: user.map(str::to_owned),
        user_email: None,
        tags: vec![("environment".into(), "prod".into()), ("browser".into(), "Firefox".into())],
        hashes: hashes.iter().map(|h| (*h).to_owned()).collect(),
        metadata: "{}".into(),
        payload: zstd::bulk::compress(b"{}", 1).unwrap(),
    }
}

async fn project(store: &Store) -> (i64, i64) {
    let org = store.create_organization("acme", "Acme").await.unwrap();
    (org.id, project_in(store, org.id, "web").await)
}

/// Another project of the organization.
async fn project_in(store: &Store, organization_id: i64, slug: &str) -> i64 {
    let project =
        faultline::store::NewProject { organization_id, slug: slug.into(), name: slug.into(), platform: None };
    store.create_project(&project).await.unwrap().id
}

fn write(org: i64, project: i64, events: Vec<NewEvent>) -> EnvelopeWrite {
    EnvelopeWrite {
        project_id: project,
        organization_id: org,
        received_at: Millis::now(),
        events,
        ..EnvelopeWrite::default()
    }
}

#[tokio::test]
async fn batches_group_dedupe_and_roll_up() {
    let db = TestDb::new().await;
    let store = &db.store;
    let (org, project) = project(store).await;
    let outcomes = store
        .ingest_batch(
            &[
                write(
                    org,
                    project,
                    vec![
                        event("e1", &["h1"], Some("id:1"), Some("1.0")),
                        event("e2", &["h1"], Some("id:2"), Some("1.1")),
                    ],
                ),
                write(org, project, vec![event("e2", &["h1"], Some("id:2"), None)]),
                write(
                    org,
                    project,
                    vec![
                        event("e3", &["h2", "h1"], Some("id:1"), None),
                        NewEvent { event_type: "transaction".into(), ..event("t1", &[], None, None) },
                    ],
                ),
            ],
            &|| false,
        )
        .await
        .unwrap();
    let flat: Vec<_> = outcomes.iter().flatten().collect();
    assert!(flat[0].is_new && !flat[1].is_new);
    assert!(flat[2].duplicate, "a retried event id is not stored twice, even inside one batch");
    assert_eq!(flat[3].issue_id, flat[0].issue_id, "an event joins the issue owning any of its hashes");
    assert_eq!(flat[4].issue_id, None, "events without hashes (transactions) form no issue");

    let issue = store.find_issue(flat[0].issue_id.unwrap()).await.unwrap().unwrap();
    assert_eq!((issue.times_seen, issue.users_seen, issue.short_id), (3, 2, 1));
    assert_eq!((issue.first_release.as_deref(), issue.last_release.as_deref()), (Some("1.0"), Some("1.1")));
    // h2 now belongs to the issue too.
    let more =
        store.ingest_batch(&[write(org, project, vec![event("e4", &["h2"], None, None)])], &|| false).await.unwrap();
    assert_eq!(more[0][0].issue_id, Some(issue.id));

    let listed = store
        .list_issues(&IssueQuery {
            project_id: project,
            filters: vec![IssueFilter::Tag { key: "browser".into(), value: "Firefox".into() }],
            sort: IssueSort::Events,
            limit: 10,
            offset: 0,
            ..IssueQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    let events = store.list_issue_events(issue.id, 10, 0).await.unwrap();
    assert_eq!(events.len(), 4);
    assert_eq!(store.issue_tag_totals(issue.id, "browser").await.unwrap(), (4, 1));
    let counts = store.project_item_counts(project).await.unwrap();
    assert_eq!((counts.transactions, counts.environments), (1, 1));

    // SDK retries of stored events in a later batch, beside new ones: the events insert refuses them,
    // and the batch is written again, looking up its stored ids (one id of each kind, so the lookup
    // has to tell them apart). Each is stored and counted once; the new issue the refused attempt
    // opened was rolled back with it, so it is opened once, with the next short id.
    let retried = store
        .ingest_batch(
            &[write(
                org,
                project,
                vec![
                    event("e5", &["h1"], None, None),
                    event("e6", &["h9"], None, None),
                    event("e1", &["h1"], None, None),
                    event("t1", &[], None, None),
                ],
            )],
            &|| false,
        )
        .await
        .unwrap();
    let flags: Vec<bool> = retried[0].iter().map(|o| o.duplicate).collect();
    assert_eq!(flags, [false, false, true, true]);
    assert!(retried[0][1].is_new);
    let issue = store.find_issue(issue.id).await.unwrap().unwrap();
    assert_eq!(issue.times_seen, 5, "e1 to e5, each once");
    assert_eq!(store.list_issue_events(issue.id, 10, 0).await.unwrap().len(), 5);
    let opened = store.find_issue(retried[0][1].issue_id.unwrap()).await.unwrap().unwrap();
    assert_eq!((opened.short_id, opened.times_seen), (2, 1));
}

#[tokio::test]
async fn concurrent_writers_open_one_issue_per_fingerprint() {
    let db = TestDb::new().await;
    let (org, project) = project(&db.store).await;
    let other = Store::connect(&db.url, &ConnectOptions::default()).await.unwrap();
    let mut tasks = Vec::new();
    for (w, store) in [db.store.clone(), other.clone()].into_iter().enumerate() {
        tasks.push(tokio::spawn(async move {
            for i in 0..20 {
                let id = format!("w{w}-{i}");
                let batch = [write(org, project, vec![event(&id, &["shared-hash"], Some(&format!("id:{i}")), None)])];
                // A deadlock victim or busy database is retried, as the pipeline does.
                let mut tries = 0;
                while let Err(err) = store.ingest_batch(&batch, &|| false).await {
                    tries += 1;
                    assert!(tries < 5, "writer {w} kept failing: {err}");
                }
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let issues =
        db.store.list_issues(&IssueQuery { project_id: project, limit: 10, ..IssueQuery::default() }).await.unwrap();
    assert_eq!(issues.len(), 1, "one fingerprint, one issue, however many writers");
    assert_eq!((issues[0].times_seen, issues[0].users_seen), (40, 20));
    other.close().await;
}

/// Regressions and ignore conditions are decided per event even when the events share one batch:
/// a resolved issue regresses once, an issue ignored "until 3 more events" wakes on the third.
#[tokio::test]
async fn workflow_state_is_followed_event_by_event_inside_a_batch() {
    use faultline::store::{IgnoreCondition, IssueUpdate, StatusChange};

    let db = TestDb::new().await;
    let store = &db.store;
    let (org, project) = project(store).await;
    let first = store
        .ingest_batch(
            &[write(org, project, vec![event("a0", &["ha"], None, None), event("b0", &["hb"], None, None)])],
            &|| false,
        )
        .await
        .unwrap();
    let (resolved, ignored) = (first[0][0].issue_id.unwrap(), first[0][1].issue_id.unwrap());
    let set = |status| IssueUpdate { status: Some(status), ..IssueUpdate::default() };
    store.update_issues(&[resolved], &set(StatusChange::Resolved), None).await.unwrap();
    let until_three = IgnoreCondition { count: Some(3), ..IgnoreCondition::default() };
    store.update_issues(&[ignored], &set(StatusChange::Ignored(until_three)), None).await.unwrap();

    let events = ["a1", "b1", "a2", "b2", "b3", "b4"]
        .iter()
        .map(|id| event(id, if id.starts_with('a') { &["ha"] } else { &["hb"] }, None, None))
        .collect();
    let outcomes = store.ingest_batch(&[write(org, project, events)], &|| false).await.unwrap();
    let regressed: Vec<bool> = outcomes[0].iter().map(|o| o.is_regression).collect();
    assert_eq!(regressed, [true, false, false, false, false, false], "only the first event regresses");

    let issue = store.find_issue(resolved).await.unwrap().unwrap();
    assert_eq!((issue.status.as_str(), issue.times_seen, issue.title.as_str()), ("unresolved", 3, "Boom a2"));
    let issue = store.find_issue(ignored).await.unwrap().unwrap();
    assert_eq!((issue.status.as_str(), issue.times_seen), ("unresolved", 5));
    let kinds: Vec<String> = store.list_activity(ignored).await.unwrap().into_iter().map(|a| a.kind).collect();
    assert_eq!(kinds.iter().filter(|k| *k == "set_escalating").count(), 1, "woken once: {kinds:?}");
    let kinds: Vec<String> = store.list_activity(resolved).await.unwrap().into_iter().map(|a| a.kind).collect();
    assert_eq!(kinds.iter().filter(|k| *k == "set_regression").count(), 1, "regressed once: {kinds:?}");
}

/// The issue page's per-hash event counts stop past a cap instead of walking every event.
#[tokio::test]
async fn hash_event_counts_stop_past_the_cap() {
    use faultline::store::IssueHash;

    let db = TestDb::new().await;
    let store = &db.store;
    let (org, project) = project(store).await;
    let many = usize::try_from(IssueHash::COUNT_CAP).unwrap() + 5;
    let events = (0..many).map(|i| event(&format!("m{i}"), &["hm"], None, None)).collect();
    let few = vec![event("f1", &["hf"], None, None), event("f2", &["hf"], None, None)];
    let outcomes =
        store.ingest_batch(&[write(org, project, events), write(org, project, few)], &|| false).await.unwrap();

    let big = store.list_issue_hashes(outcomes[0][0].issue_id.unwrap()).await.unwrap();
    assert_eq!(big[0].events, IssueHash::COUNT_CAP + 1);
    assert!(big[0].capped());
    let small = store.list_issue_hashes(outcomes[1][0].issue_id.unwrap()).await.unwrap();
    assert_eq!((small[0].events, small[0].capped()), (2, false));
}

#[tokio::test]
async fn a_batchs_releases_are_written_once_and_linked_to_each_of_their_projects() {
    let db = TestDb::new().await;
    let store = &db.store;
    let (org, web) = project(store).await;
    let api = project_in(store, org, "api").await;
    store
        .ingest_batch(
            &[
                write(org, web, vec![event("w1", &["h1"], None, Some("1.0")), event("w2", &["h1"], None, Some("1.1"))]),
                write(org, api, vec![event("a1", &["h9"], None, Some("1.1")), event("a2", &["h9"], None, Some("2.0"))]),
                write(org, web, vec![event("w3", &["h1"], None, Some("1.1"))]),
            ],
            &|| false,
        )
        .await
        .unwrap();
    let versions = |projects: Vec<i64>| async move {
        let mut v: Vec<String> =
            store.list_releases(org, &projects, 10).await.unwrap().into_iter().map(|r| r.version).collect();
        v.sort();
        v
    };
    assert_eq!(versions(vec![web]).await, ["1.0", "1.1"]);
    assert_eq!(versions(vec![api]).await, ["1.1", "2.0"]);
    assert_eq!(versions(vec![web, api]).await, ["1.0", "1.1", "2.0"], "one row per version");
}

/// The WAL header's checkpoint sequence number: SQLite increments it each time a writer starts the
/// log over from its beginning.
fn wal_sequence(db: &std::path::Path) -> u32 {
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    let header = std::fs::read(&wal).expect("the database has a WAL");
    u32::from_be_bytes(header[12..16].try_into().expect("a WAL header"))
}

/// SQLite only: once the WAL passes 1,024 pages the background checkpointer restarts it, so the next
/// commit writes the log from its start (the writer's own checkpoint would wait for 4,096 pages).
#[tokio::test]
async fn the_sqlite_wal_starts_over_once_it_has_grown() {
    let db = TestDb::new().await;
    let Some(path) = db.url.expose().strip_prefix("sqlite://").map(std::path::PathBuf::from) else {
        return; // PostgreSQL manages its own WAL.
    };
    let store = &db.store;
    let (org, project) = project(store).await;
    let before = wal_sequence(&path);
    // ~6 MiB of pages: incompressible 4 KiB payloads, one 4 KiB page each at least.
    let noise = |n: u32| (0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761).wrapping_add(n) >> 13) as u8).collect();
    for chunk in 0..15u32 {
        let events = (0..100u32)
            .map(|i| NewEvent {
                payload: noise(chunk * 100 + i),
                ..event(&format!("w{chunk}-{i}"), &["h1"], None, None)
            })
            .collect();
        store.ingest_batch(&[write(org, project, events)], &|| false).await.unwrap();
    }
    let mut restarted = false;
    for i in 0..100 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        store
            .ingest_batch(&[write(org, project, vec![event(&format!("after-{i}"), &["h1"], None, None)])], &|| false)
            .await
            .unwrap();
        if wal_sequence(&path) != before {
            restarted = true;
            break;
        }
    }
    assert!(restarted, "the WAL was never started over");
}

/// A writer keeps its connection for the next batch only briefly: on SQLite's one write connection, a
/// web UI write right after a batch that kept it must still go through, and the next batch reuses it.
#[tokio::test]
async fn a_connection_kept_for_the_next_batch_does_not_hold_up_other_writes() {
    let db = TestDb::new().await;
    let store = &db.store;
    let (org, project) = project(store).await;
    let first =
        store.ingest_batch(&[write(org, project, vec![event("k1", &["hk"], None, None)])], &|| true).await.unwrap();
    let issue = first[0][0].issue_id.expect("an issue");
    let resolve = store.set_issue_status(issue, "resolved", None);
    tokio::time::timeout(std::time::Duration::from_secs(5), resolve)
        .await
        .expect("the kept connection went back to the pool")
        .unwrap();
    for (i, more) in [true, true, false].into_iter().enumerate() {
        let more_queued = move || more;
        let batch = [write(org, project, vec![event(&format!("k{}", i + 2), &["hk"], None, None)])];
        let outcomes = store.ingest_batch(&batch, &more_queued).await.unwrap();
        assert_eq!(outcomes[0][0].issue_id, Some(issue));
        assert_eq!(outcomes[0][0].is_regression, i == 0, "the first event after resolving regresses the issue");
    }
    assert_eq!(store.find_issue(issue).await.unwrap().map(|i| i.times_seen), Some(4));
}

/// A batch that fails half-way leaves nothing behind: its transaction is rolled back on the database
/// before the connection is used again, so the rows it had locked (here a new issue's hash) are free
/// for the next batch at once, and nothing of it was stored.
#[tokio::test]
async fn a_failed_batch_releases_its_locks_and_stores_nothing() {
    let db = TestDb::new().await;
    let store = &db.store;
    let (org, project) = project(store).await;
    let missing_project = project + 1000;
    let failed = store
        .ingest_batch(
            &[
                write(org, project, vec![event("f1", &["hz"], None, None)]),
                write(org, missing_project, vec![event("f2", &["hq"], None, None)]),
            ],
            &|| false,
        )
        .await;
    assert!(failed.is_err(), "an event of a project that does not exist fails the batch");
    let batch = [write(org, project, vec![event("f1", &["hz"], None, None)])];
    let retry = store.ingest_batch(&batch, &|| false);
    let outcomes = tokio::time::timeout(std::time::Duration::from_secs(5), retry)
        .await
        .expect("the failed batch's locks were released")
        .unwrap();
    assert!(outcomes[0][0].is_new && !outcomes[0][0].duplicate, "the failed batch stored nothing");
}
