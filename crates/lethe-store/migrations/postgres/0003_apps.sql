-- Kore.ai apps: a bot's client credential. The secret is needed in plaintext to verify
-- HS256 tokens, so it is sealed with the app's own data key (data_keys owner_kind 'app').
CREATE TABLE apps (
    app_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (site_id),
    bot_id TEXT NOT NULL,
    name TEXT NOT NULL,
    scopes TEXT NOT NULL,
    sealed_secret BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT,
    FOREIGN KEY (account_id, bot_id) REFERENCES bots (account_id, bot_id)
);
CREATE INDEX apps_bot ON apps (account_id, bot_id);
