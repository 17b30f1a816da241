-- The request whose erasure queued a blob deletion. A job completes once its own
-- blobs are gone, so one blob the store refuses holds back only the request that
-- queued it. Rows queued before this column existed have no owner; every job in their
-- account still clears them.
ALTER TABLE blob_deletions ADD COLUMN request_id INTEGER;
CREATE INDEX blob_deletions_request ON blob_deletions (account_id, request_id);
