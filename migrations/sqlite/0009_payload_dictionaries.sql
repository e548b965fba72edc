-- zstd dictionaries for stored event payloads (SQLite). Keep in step with
-- migrations/postgres/0009_payload_dictionaries.sql.
--
-- A project's events are compressed with its newest dictionary once it has one (src/store/payloads.rs).
-- The id is zstd's own dictionary id, which every frame compressed with it carries in its header: that
-- is how a stored payload names its dictionary. Rows are never changed or deleted while the project
-- lives; events written with an older dictionary keep needing it.
CREATE TABLE payload_dictionaries (
    id          INTEGER PRIMARY KEY,
    project_id  INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    dictionary  BLOB NOT NULL
);
CREATE INDEX payload_dictionaries_project ON payload_dictionaries (project_id, created_at);
