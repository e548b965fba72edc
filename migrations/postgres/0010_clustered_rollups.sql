-- Ingest's rollup tables clustered by their primary key (PostgreSQL): nothing to do.
-- Keep in step with migrations/sqlite/0010_clustered_rollups.sql.

-- SQLite's version rebuilds issue_tag_values, issue_hourly, issue_users and issue_hashes as WITHOUT
-- ROWID tables, so that an upsert writes one tree instead of the key's index and the rowid table.
-- PostgreSQL has no such table kind (a heap and its primary-key index either way), so this version
-- only keeps the two migration trees numbered alike.
SELECT 1;
