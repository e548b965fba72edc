-- Sessions already counted as errored, so that a session reporting errors in several updates counts
-- once (Relay counts errored sessions as a set of session ids). Keep in step with the postgres tree.
CREATE TABLE errored_sessions (
    project_id  INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    session_id  TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (project_id, session_id)
);
