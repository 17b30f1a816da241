-- Jobs (the execution of a final request), tombstones of erased ids and the outbox of
-- blobs still to delete.

CREATE TABLE jobs (
    id BIGSERIAL PRIMARY KEY,
    account_id TEXT NOT NULL,
    request_id BIGINT NOT NULL REFERENCES deletion_requests (id),
    job_id TEXT NOT NULL,
    phase TEXT NOT NULL,
    run_at BIGINT NOT NULL,
    lease_owner TEXT,
    lease_until BIGINT,
    generation BIGINT NOT NULL DEFAULT 0,
    attempts BIGINT NOT NULL DEFAULT 0,
    max_attempts BIGINT NOT NULL,
    cursor BIGINT NOT NULL DEFAULT 0,
    total_items BIGINT NOT NULL,
    batches BIGINT NOT NULL DEFAULT 0,
    erased_conversations BIGINT NOT NULL DEFAULT 0,
    erased_messages BIGINT NOT NULL DEFAULT 0,
    erased_files BIGINT NOT NULL DEFAULT 0,
    erased_bytes BIGINT NOT NULL DEFAULT 0,
    erased_survey_answers BIGINT NOT NULL DEFAULT 0,
    erased_consumers BIGINT NOT NULL DEFAULT 0,
    erased_metrics BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    last_batch_at BIGINT,
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT,
    CONSTRAINT jobs_request_unique UNIQUE (request_id),
    CONSTRAINT jobs_job_unique UNIQUE (job_id)
);
CREATE INDEX jobs_due ON jobs (phase, run_at);

CREATE TABLE tombstones (
    account_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    id_hash BYTEA NOT NULL,
    erased_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, kind, id_hash)
);

CREATE TABLE blob_deletions (
    id BIGSERIAL PRIMARY KEY,
    account_id TEXT NOT NULL,
    blob_key TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    last_error TEXT
);

-- When the WAL was last truncated with no busy frames (SQLite only; one row).
CREATE TABLE checkpoints (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    truncated_at BIGINT NOT NULL
);
