-- Ingest's rollup tables clustered by their primary key (SQLite).
-- Keep in step with migrations/postgres/0010_clustered_rollups.sql (a no-op there).

-- Every batch upserts a few hundred rows into these tables by their primary key, and the web UI reads
-- them by its prefix (an issue's tag values, hourly counts, users). As rowid tables each upsert
-- searched the primary key's index and then wrote the row in a second tree: two trees of pages to
-- dirty, log and checkpoint. WITHOUT ROWID keeps the rows in the primary key's own tree. Same
-- columns, keys and secondary indexes as before.

CREATE TABLE issue_tag_values_new (
    issue_id    INTEGER NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
    key         TEXT NOT NULL,
    value       TEXT NOT NULL,
    times_seen  INTEGER NOT NULL,
    first_seen  INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL,
    PRIMARY KEY (issue_id, key, value)
) WITHOUT ROWID;
INSERT INTO issue_tag_values_new SELECT issue_id, key, value, times_seen, first_seen, last_seen FROM issue_tag_values;
DROP TABLE issue_tag_values;
ALTER TABLE issue_tag_values_new RENAME TO issue_tag_values;

CREATE TABLE issue_hourly_new (
    issue_id  INTEGER NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
    hour      INTEGER NOT NULL,
    count     INTEGER NOT NULL,
    PRIMARY KEY (issue_id, hour)
) WITHOUT ROWID;
INSERT INTO issue_hourly_new SELECT issue_id, hour, count FROM issue_hourly;
DROP TABLE issue_hourly;
ALTER TABLE issue_hourly_new RENAME TO issue_hourly;

CREATE TABLE issue_users_new (
    issue_id    INTEGER NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
    user_key    TEXT NOT NULL,
    first_seen  INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL,
    email       TEXT,
    PRIMARY KEY (issue_id, user_key)
) WITHOUT ROWID;
INSERT INTO issue_users_new SELECT issue_id, user_key, first_seen, last_seen, email FROM issue_users;
DROP TABLE issue_users;
ALTER TABLE issue_users_new RENAME TO issue_users;

CREATE TABLE issue_hashes_new (
    project_id  INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    hash        TEXT NOT NULL,
    issue_id    INTEGER NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
    PRIMARY KEY (project_id, hash)
) WITHOUT ROWID;
INSERT INTO issue_hashes_new SELECT project_id, hash, issue_id FROM issue_hashes;
DROP TABLE issue_hashes;
ALTER TABLE issue_hashes_new RENAME TO issue_hashes;
CREATE INDEX issue_hashes_issue ON issue_hashes (issue_id);
