-- Deletion requests, their resolved items, per-account settings, the monthly quota,
-- idempotency keys and the hash-chained change log.

CREATE TABLE account_settings (
    account_id TEXT PRIMARY KEY REFERENCES accounts (site_id),
    settings TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);

-- A request's target is sealed with its own data key (data_keys owner_kind 'request',
-- owner_id = job_id) until the request ends; then only keyed hashes remain.
CREATE TABLE deletion_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id TEXT NOT NULL REFERENCES accounts (site_id),
    job_id TEXT NOT NULL,
    source TEXT NOT NULL,
    status TEXT NOT NULL,
    target_kind TEXT NOT NULL,
    sealed_target BLOB,
    hashed_target TEXT,
    requested_by TEXT NOT NULL,
    approval_mode TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    grace_ends_at INTEGER NOT NULL,
    due_at INTEGER NOT NULL,
    approved_at INTEGER,
    approved_by TEXT,
    final_at INTEGER,
    canceled_at INTEGER,
    canceled_by TEXT,
    rejection_reason TEXT,
    updated_at INTEGER NOT NULL,
    CONSTRAINT deletion_requests_job_unique UNIQUE (job_id),
    CONSTRAINT deletion_requests_one_target CHECK ((sealed_target IS NULL) <> (hashed_target IS NULL))
);
CREATE INDEX deletion_requests_account ON deletion_requests (account_id, id);
CREATE INDEX deletion_requests_pending ON deletion_requests (status, grace_ends_at);

CREATE TABLE request_items (
    account_id TEXT NOT NULL,
    request_id INTEGER NOT NULL REFERENCES deletion_requests (id),
    position INTEGER NOT NULL,
    item_kind TEXT NOT NULL,
    item_id TEXT NOT NULL,
    problem TEXT,
    outcome TEXT,
    PRIMARY KEY (request_id, position)
);

CREATE TABLE quota_usage (
    account_id TEXT NOT NULL,
    month TEXT NOT NULL,
    used INTEGER NOT NULL,
    PRIMARY KEY (account_id, month)
);

CREATE TABLE idempotency_keys (
    account_id TEXT NOT NULL,
    route TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    body_hash BLOB NOT NULL,
    request_id INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, route, idem_key)
);

CREATE TABLE change_log_heads (
    account_id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    hash BLOB NOT NULL
);

CREATE TABLE change_log (
    account_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    at INTEGER NOT NULL,
    request_id INTEGER,
    actor TEXT NOT NULL,
    event TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT,
    detail TEXT NOT NULL,
    prev_hash BLOB NOT NULL,
    hash BLOB NOT NULL,
    PRIMARY KEY (account_id, seq)
);
CREATE INDEX change_log_request ON change_log (account_id, request_id, seq);

-- Append-only: the chain detects edits, these triggers refuse them in the first place.
CREATE TRIGGER change_log_no_update BEFORE UPDATE ON change_log
BEGIN
    SELECT RAISE(ABORT, 'change_log is append-only');
END;
CREATE TRIGGER change_log_no_delete BEFORE DELETE ON change_log
BEGIN
    SELECT RAISE(ABORT, 'change_log is append-only');
END;
