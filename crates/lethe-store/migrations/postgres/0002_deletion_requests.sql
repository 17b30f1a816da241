-- Deletion requests, their resolved items, per-account settings, the monthly quota,
-- idempotency keys and the hash-chained change log.

CREATE TABLE account_settings (
    account_id TEXT PRIMARY KEY REFERENCES accounts (site_id),
    settings TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- A request's target is sealed with its own data key (data_keys owner_kind 'request',
-- owner_id = job_id) until the request ends; then only keyed hashes remain.
CREATE TABLE deletion_requests (
    id BIGSERIAL PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (site_id),
    job_id TEXT NOT NULL,
    source TEXT NOT NULL,
    status TEXT NOT NULL,
    target_kind TEXT NOT NULL,
    sealed_target BYTEA,
    hashed_target TEXT,
    requested_by TEXT NOT NULL,
    approval_mode TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    grace_ends_at BIGINT NOT NULL,
    due_at BIGINT NOT NULL,
    approved_at BIGINT,
    approved_by TEXT,
    final_at BIGINT,
    canceled_at BIGINT,
    canceled_by TEXT,
    rejection_reason TEXT,
    updated_at BIGINT NOT NULL,
    CONSTRAINT deletion_requests_job_unique UNIQUE (job_id),
    CONSTRAINT deletion_requests_one_target CHECK ((sealed_target IS NULL) <> (hashed_target IS NULL))
);
CREATE INDEX deletion_requests_account ON deletion_requests (account_id, id);
CREATE INDEX deletion_requests_pending ON deletion_requests (status, grace_ends_at);

CREATE TABLE request_items (
    account_id TEXT NOT NULL,
    request_id BIGINT NOT NULL REFERENCES deletion_requests (id),
    position BIGINT NOT NULL,
    item_kind TEXT NOT NULL,
    item_id TEXT NOT NULL,
    problem TEXT,
    outcome TEXT,
    PRIMARY KEY (request_id, position)
);

CREATE TABLE quota_usage (
    account_id TEXT NOT NULL,
    month TEXT NOT NULL,
    used BIGINT NOT NULL,
    PRIMARY KEY (account_id, month)
);

CREATE TABLE idempotency_keys (
    account_id TEXT NOT NULL,
    route TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    body_hash BYTEA NOT NULL,
    request_id BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, route, idem_key)
);

CREATE TABLE change_log_heads (
    account_id TEXT PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash BYTEA NOT NULL
);

CREATE TABLE change_log (
    account_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    at BIGINT NOT NULL,
    request_id BIGINT,
    actor TEXT NOT NULL,
    event TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT,
    detail TEXT NOT NULL,
    prev_hash BYTEA NOT NULL,
    hash BYTEA NOT NULL,
    PRIMARY KEY (account_id, seq)
);
CREATE INDEX change_log_request ON change_log (account_id, request_id, seq);

-- Append-only: the chain detects edits, this trigger refuses them in the first place.
CREATE FUNCTION change_log_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'change_log is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER change_log_no_change BEFORE UPDATE OR DELETE ON change_log
    FOR EACH ROW EXECUTE FUNCTION change_log_append_only();
