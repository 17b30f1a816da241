-- Foundation schema. Personal fields are sealed (AEAD) with per-owner data keys; lookups
-- go through keyed hashes. Times are epoch milliseconds (UTC).

CREATE TABLE deployment (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    lookup_check BLOB NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE kek_checks (
    kek_id TEXT PRIMARY KEY,
    check_value BLOB NOT NULL
);

CREATE TABLE accounts (
    site_id TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL
);

CREATE TABLE bots (
    account_id TEXT NOT NULL REFERENCES accounts (site_id),
    bot_id TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, bot_id)
);

CREATE TABLE api_keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id TEXT REFERENCES accounts (site_id),
    name TEXT NOT NULL,
    scopes TEXT NOT NULL,
    prefix TEXT NOT NULL,
    key_hash BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER,
    CONSTRAINT api_keys_hash_unique UNIQUE (key_hash)
);

CREATE TABLE data_keys (
    account_id TEXT NOT NULL,
    owner_kind TEXT NOT NULL,
    owner_id TEXT NOT NULL,
    kek_id TEXT NOT NULL,
    wrapped BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, owner_kind, owner_id)
);

CREATE TABLE consumers (
    account_id TEXT NOT NULL REFERENCES accounts (site_id),
    consumer_id TEXT NOT NULL,
    sealed_profile BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, consumer_id)
);

-- Keyed hashes of a consumer's e-mail, phone, channel user ids (cId) and attribute values.
CREATE TABLE consumer_lookups (
    account_id TEXT NOT NULL,
    consumer_id TEXT NOT NULL,
    value_hash BLOB NOT NULL,
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
    cid_hash BLOB,
    start_time INTEGER NOT NULL,
    end_time INTEGER,
    close_reason TEXT,
    source TEXT,
    device TEXT,
    agent_id TEXT,
    skill_id TEXT,
    csat INTEGER,
    mcs INTEGER,
    sealed_participant BLOB,
    content_mac BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, conversation_id)
);
CREATE INDEX conversations_start ON conversations (account_id, start_time);
CREATE INDEX conversations_end ON conversations (account_id, end_time);
CREATE INDEX conversations_consumer ON conversations (account_id, consumer_id, start_time);
CREATE INDEX conversations_cid ON conversations (account_id, cid_hash, start_time);

CREATE TABLE conversation_attributes (
    account_id TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    kind TEXT NOT NULL,
    value_hash BLOB NOT NULL,
    sealed BLOB NOT NULL,
    PRIMARY KEY (account_id, conversation_id, position)
);
CREATE INDEX conversation_attributes_value ON conversation_attributes (account_id, value_hash);

CREATE TABLE messages (
    account_id TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    time INTEGER NOT NULL,
    sent_by TEXT NOT NULL,
    participant_id TEXT,
    msg_type TEXT NOT NULL,
    file_id TEXT,
    sealed_body BLOB NOT NULL,
    content_mac BLOB NOT NULL,
    PRIMARY KEY (account_id, conversation_id, message_id)
);
CREATE UNIQUE INDEX messages_seq ON messages (account_id, conversation_id, seq);

CREATE TABLE files (
    account_id TEXT NOT NULL,
    file_id TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    blob_key TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    sealed_name BLOB,
    created_at INTEGER NOT NULL,
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
    sealed_text BLOB,
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
    start_time INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    consumer_messages INTEGER NOT NULL,
    agent_messages INTEGER NOT NULL,
    first_response_ms INTEGER,
    csat INTEGER,
    mcs INTEGER,
    PRIMARY KEY (account_id, conversation_id)
);
