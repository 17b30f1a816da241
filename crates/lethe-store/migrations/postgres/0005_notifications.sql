-- The notification outbox: written in the transaction that ends a job, delivered at
-- least once with a stable event id; the rows are the delivery log. No personal data.
CREATE TABLE notifications (
    id BIGSERIAL PRIMARY KEY,
    event_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    request_id BIGINT,
    channel TEXT NOT NULL CHECK (channel IN ('email', 'webhook')),
    target TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    delivered_at BIGINT,
    last_error TEXT,
    CONSTRAINT notifications_event_unique UNIQUE (event_id, channel)
);
CREATE INDEX notifications_due ON notifications (delivered_at, next_attempt_at);
