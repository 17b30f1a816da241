-- Jobs (the execution of a final request), tombstones of erased ids and the outbox of
-- blobs still to delete.

CREATE TABLE jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id TEXT NOT NULL,
    request_id INTEGER NOT NULL REFERENCES deletion_requests (id),
    job_id TEXT NOT NULL,
    phase TEXT NOT NULL,
    run_at INTEGER NOT NULL,
    lease_owner TEXT,
    lease_until INTEGER,
    generation INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    cursor INTEGER NOT NULL DEFAULT 0,
    total_items INTEGER NOT NULL,
    batches INTEGER NOT NULL DEFAULT 0,
    erased_conversations INTEGER NOT NULL DEFAULT 0,
    erased_messages INTEGER NOT NULL DEFAULT 0,
    erased_files INTEGER NOT NULL DEFAULT 0,
    erased_bytes INTEGER NOT NULL DEFAULT 0,
    erased_survey_answers INTEGER NOT NULL DEFAULT 0,
    erased_consumers INTEGER NOT NULL DEFAULT 0,
    erased_metrics INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    last_batch_at INTEGER,
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    finished_at INTEGER,
    CONSTRAINT jobs_request_unique UNIQUE (request_id),
    CONSTRAINT jobs_job_unique UNIQUE (job_id)
);
CREATE INDEX jobs_due ON jobs (phase, run_at);

CREATE TABLE tombstones (
    account_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    id_hash BLOB NOT NULL,
    erased_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, kind, id_hash)
);

CREATE TABLE blob_deletions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id TEXT NOT NULL,
    blob_key TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);

-- When the WAL was last truncated with no busy frames (SQLite only; one row).
CREATE TABLE checkpoints (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    truncated_at INTEGER NOT NULL
);
