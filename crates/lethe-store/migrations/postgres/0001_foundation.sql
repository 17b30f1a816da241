-- Foundation schema. Personal fields are sealed (AEAD) with per-owner data keys; lookups
-- go through keyed hashes. Times are epoch milliseconds (UTC).

CREATE TABLE deployment (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    lookup_check BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE kek_checks (
    kek_id TEXT PRIMARY KEY,
    check_value BYTEA NOT NULL
);

CREATE TABLE accounts (
    site_id TEXT PRIMARY KEY,
    created_at BIGINT NOT NULL
);

CREATE TABLE bots (
    account_id TEXT NOT NULL REFERENCES accounts (site_id),
    bot_id TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, bot_id)
);

CREATE TABLE api_keys (
    id BIGSERIAL PRIMARY KEY,
    account_id TEXT REFERENCES accounts (site_id),
    name TEXT NOT NULL,
    scopes TEXT NOT NULL,
    prefix TEXT NOT NULL,
    key_hash BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT,
    CONSTRAINT api_keys_hash_unique UNIQUE (key_hash)
);

CREATE TABLE data_keys (
    account_id TEXT NOT NULL,
    owner_kind TEXT NOT NULL,
    owner_id TEXT NOT NULL,
    kek_id TEXT NOT NULL,
    wrapped BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, owner_kind, owner_id)
);

CREATE TABLE consumers (
    account_id TEXT NOT NULL REFERENCES accounts (site_id),
    consumer_id TEXT NOT NULL,
    sealed_profile BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, consumer_id)
);

-- Keyed hashes of a consumer's e-mail, phone, channel user ids (cId) and attribute values.
CREATE TABLE consumer_lookups (
    account_id TEXT NOT NULL,
    consumer_id TEXT NOT NULL,
    value_hash BYTEA NOT NULL,
    PRIMARY KEY (account_id, consumer_id, value_hash)
);
CREATE INDEX consumer_lookups_value ON consumer_lookups (account_id, value_hash);

CREATE TABLE conversations (
    account_id TEXT NOT NULL REFERENCES accounts (site_id),
    conversation_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('messaging', 'chat')),
    status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    consumer_id TEXT,
    bot_id TEXT,
    cid_hash BYTEA,
    start_time BIGINT NOT NULL,
    end_time BIGINT,
    close_reason TEXT,
    source TEXT,
    device TEXT,
    agent_id TEXT,
    skill_id TEXT,
    csat BIGINT,
    mcs BIGINT,
    sealed_participant BYTEA,
    content_mac BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, conversation_id)
);
CREATE INDEX conversations_start ON conversations (account_id, start_time);
CREATE INDEX conversations_end ON conversations (account_id, end_time);
CREATE INDEX conversations_consumer ON conversations (account_id, consumer_id, start_time);
CREATE INDEX conversations_cid ON conversations (account_id, cid_hash, start_time);

CREATE TABLE conversation_attributes (
    account_id TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    position BIGINT NOT NULL,
    kind TEXT NOT NULL,
    value_hash BYTEA NOT NULL,
    sealed BYTEA NOT NULL,
    PRIMARY KEY (account_id, conversation_id, position)
);
CREATE INDEX conversation_attributes_value ON conversation_attributes (account_id, value_hash);

CREATE TABLE messages (
    account_id TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    time BIGINT NOT NULL,
    sent_by TEXT NOT NULL,
    participant_id TEXT,
    msg_type TEXT NOT NULL,
    file_id TEXT,
    sealed_body BYTEA NOT NULL,
    content_mac BYTEA NOT NULL,
    PRIMARY KEY (account_id, conversation_id, message_id)
);
CREATE UNIQUE INDEX messages_seq ON messages (account_id, conversation_id, seq);

CREATE TABLE files (
    account_id TEXT NOT NULL,
    file_id TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    blob_key TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sealed_name BYTEA,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, file_id)
);
CREATE INDEX files_conversation ON files (account_id, conversation_id);

CREATE TABLE survey_answers (
    account_id TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    survey_id TEXT NOT NULL,
    question_id TEXT NOT NULL,
    question TEXT,
    choice TEXT,
    sealed_text BYTEA,
    PRIMARY KEY (account_id, conversation_id, survey_id, question_id)
);

-- Reporting data: no personal fields.
CREATE TABLE metrics (
    account_id TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    consumer_id TEXT,
    kind TEXT NOT NULL,
    agent_id TEXT,
    skill_id TEXT,
    start_time BIGINT NOT NULL,
    duration_ms BIGINT NOT NULL,
    consumer_messages BIGINT NOT NULL,
    agent_messages BIGINT NOT NULL,
    first_response_ms BIGINT,
    csat BIGINT,
    mcs BIGINT,
    PRIMARY KEY (account_id, conversation_id)
);
