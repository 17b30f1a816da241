//! The plaintext baseline: what a plain store would do with the same NDJSON file.
//!
//! Same schema (lethe's migration files, applied verbatim), same pragmas, same rows per
//! table and records per transaction as `lethe import`. The difference is the point of
//! the comparison: personal fields go into the BLOB columns as their plain bytes (no
//! sealing, no keyed hashes, no key wrapping), and each row is one prepared INSERT
//! (no multi-row statements), which is how a straightforward loader is written.

use anyhow::{bail, Context};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use lethe_store::MessageWrite;
use serde_json::Value;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection, SqliteConnection};
use std::io::BufRead;
use std::path::Path;
use std::time::{Duration, Instant};

/// A plain store has no data keys; it writes an empty placeholder in their rows so that
/// both sides write the same number of rows per table.
const NO_KEY: &[u8] = &[];

/// Loads `ndjson` into a fresh database at `db`; returns the time the load took
/// (schema creation excluded, as lethe's schema exists before its import is timed).
pub async fn load(ndjson: &Path, db: &Path, migrations: &Path, batch: usize) -> anyhow::Result<Duration> {
    let mut conn = open(db).await?;
    create_schema(&mut conn, migrations).await?;
    let started = Instant::now();
    let mut loader = Loader {
        account: crate::lethe::ACCOUNT,
        now: chrono::Utc::now().timestamp_millis(),
    };
    let file = std::fs::File::open(ndjson).with_context(|| format!("opening {}", ndjson.display()))?;
    let reader = std::io::BufReader::with_capacity(1 << 20, file);
    let mut tx = conn.begin().await?;
    let mut in_tx = 0;
    for (i, line) in reader.lines().enumerate() {
        let line = line?;
        let record: Value = serde_json::from_str(&line).with_context(|| format!("line {}", i + 1))?;
        loader
            .record(&mut tx, &record)
            .await
            .with_context(|| format!("line {}", i + 1))?;
        in_tx += 1;
        if in_tx == batch {
            tx.commit().await?;
            tx = conn.begin().await?;
            in_tx = 0;
        }
    }
    tx.commit().await?;
    conn.close().await?;
    Ok(started.elapsed())
}

/// The pragmas lethe's SQLite store sets on every connection.
async fn open(db: &Path) -> anyhow::Result<SqliteConnection> {
    Ok(SqliteConnectOptions::new()
        .filename(db)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(10))
        .foreign_keys(true)
        .pragma("secure_delete", "ON")
        .connect()
        .await?)
}

/// Applies lethe's migration files in order, plus the account row the schema's foreign
/// keys need.
async fn create_schema(conn: &mut SqliteConnection, migrations: &Path) -> anyhow::Result<()> {
    let mut files: Vec<_> = std::fs::read_dir(migrations)
        .with_context(|| format!("reading {}", migrations.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    files.retain(|p| p.extension().is_some_and(|e| e == "sql"));
    files.sort();
    anyhow::ensure!(!files.is_empty(), "no .sql files in {}", migrations.display());
    for file in files {
        sqlx::raw_sql(&std::fs::read_to_string(&file)?)
            .execute(&mut *conn)
            .await?;
    }
    sqlx::query("INSERT INTO accounts (site_id, created_at) VALUES ($1, $2)")
        .bind(crate::lethe::ACCOUNT)
        .bind(chrono::Utc::now().timestamp_millis())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

struct Loader {
    account: &'static str,
    now: i64,
}

impl Loader {
    async fn record(&mut self, conn: &mut SqliteConnection, record: &Value) -> anyhow::Result<()> {
        if let Some(consumer) = record.get("consumer") {
            self.consumer(conn, consumer).await
        } else if let Some(conversation) = record.get("conversation") {
            self.conversation(conn, conversation).await
        } else {
            bail!("neither a consumer nor a conversation")
        }
    }

    /// A consumer: its profile, its data-key row and one lookup row per searchable value.
    async fn consumer(&self, conn: &mut SqliteConnection, c: &Value) -> anyhow::Result<()> {
        let id = required(c, "id")?;
        sqlx::query(
            "INSERT INTO consumers (account_id, consumer_id, sealed_profile, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $4)",
        )
        .bind(self.account)
        .bind(id)
        .bind(serde_json::to_vec(c)?)
        .bind(self.now)
        .execute(&mut *conn)
        .await?;
        self.data_key(conn, "consumer", id).await?;
        for value in lookup_values(c) {
            sqlx::query("INSERT INTO consumer_lookups (account_id, consumer_id, value_hash) VALUES ($1, $2, $3)")
                .bind(self.account)
                .bind(id)
                .bind(value.into_bytes())
                .execute(&mut *conn)
                .await?;
        }
        Ok(())
    }

    async fn data_key(&self, conn: &mut SqliteConnection, kind: &str, owner: &str) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO data_keys (account_id, owner_kind, owner_id, kek_id, wrapped, created_at) \
             VALUES ($1, $2, $3, 'none', $4, $5)",
        )
        .bind(self.account)
        .bind(kind)
        .bind(owner)
        .bind(NO_KEY)
        .bind(self.now)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    /// A conversation with everything lethe derives from it: its row (with the key), attributes,
    /// messages, files, survey answers and (when closed) its metrics row.
    async fn conversation(&self, conn: &mut SqliteConnection, c: &Value) -> anyhow::Result<()> {
        let id = required(c, "id")?;
        let start = millis(c, "start_time")?.context("start_time is required")?;
        let end = millis(c, "end_time")?;
        let (messages, times) = plain_messages(c)?;
        self.conversation_row(conn, c, id, (start, end), &messages).await?;
        self.attributes(conn, c, id).await?;
        self.files(conn, c, id).await?;
        self.surveys(conn, c, id).await?;
        if let Some(end) = end {
            self.metrics(conn, c, id, (start, end), &times).await?;
        }
        Ok(())
    }

    async fn conversation_row(
        &self,
        conn: &mut SqliteConnection,
        c: &Value,
        id: &str,
        (start, end): (i64, Option<i64>),
        messages: &[MessageWrite],
    ) -> anyhow::Result<()> {
        let participant = c.get("consumer_participant").filter(|p| !p.is_null());
        sqlx::query(
            "INSERT INTO conversations (account_id, conversation_id, kind, status, consumer_id, bot_id, \
             cid_hash, start_time, end_time, close_reason, source, device, agent_id, skill_id, csat, mcs, \
             sealed_participant, sealed_attributes, content_mac, created_at, kek_id, wrapped_key, \
             sealed_messages, message_count, survey_count) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, \
             $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, 'none', $21, $22, $23, $24)",
        )
        .bind(self.account)
        .bind(id)
        .bind(text(c, "kind").unwrap_or("messaging"))
        .bind(if end.is_some() { "closed" } else { "open" })
        .bind(text(c, "consumer_id"))
        .bind(text(c, "bot_id"))
        .bind(text(c, "channel_user_id").map(str::as_bytes))
        .bind(start)
        .bind(end)
        .bind(text(c, "close_reason"))
        .bind(text(c, "source"))
        .bind(text(c, "device"))
        .bind(text(c, "agent_id"))
        .bind(text(c, "skill_id"))
        .bind(c.get("csat").and_then(Value::as_i64))
        .bind(c.get("mcs").and_then(Value::as_i64))
        .bind(participant.map(serde_json::to_vec).transpose()?)
        .bind(plain_attributes(c)?)
        .bind(NO_KEY)
        .bind(self.now)
        .bind(NO_KEY)
        .bind(lethe_store::pack_messages(messages))
        .bind(messages.len() as i64)
        .bind(survey_count(c))
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    /// The attributes' lookup rows; their values went into the conversation row.
    async fn attributes(&self, conn: &mut SqliteConnection, c: &Value, id: &str) -> anyhow::Result<()> {
        for (position, a) in items(c, "attributes").iter().enumerate() {
            sqlx::query(
                "INSERT INTO conversation_attributes (account_id, conversation_id, position, kind, \
                 value_hash) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(self.account)
            .bind(id)
            .bind(position as i64)
            .bind(required(a, "kind")?)
            .bind(required(a, "value")?.as_bytes())
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }

    /// Inserts the messages; returns (time, by the consumer) of each for the metrics.
    /// File rows only: the bytes themselves are not stored (lethe writes them to its
    /// blob store, which this baseline leaves out; see BENCHMARKS.md).
    async fn files(&self, conn: &mut SqliteConnection, c: &Value, id: &str) -> anyhow::Result<()> {
        for f in items(c, "files") {
            let file_id = required(f, "id")?;
            let size = B64.decode(required(f, "data_base64")?)?.len();
            sqlx::query(
                "INSERT INTO files (account_id, file_id, conversation_id, blob_key, content_type, size, \
                 sealed_name, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(self.account)
            .bind(file_id)
            .bind(id)
            .bind(format!("{}/{file_id}", self.account))
            .bind(required(f, "content_type")?)
            .bind(size as i64)
            .bind(text(f, "name").map(str::as_bytes))
            .bind(self.now)
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }

    async fn surveys(&self, conn: &mut SqliteConnection, c: &Value, id: &str) -> anyhow::Result<()> {
        for s in items(c, "surveys") {
            let survey_id = required(s, "survey_id")?;
            for a in items(s, "answers") {
                sqlx::query(
                    "INSERT INTO survey_answers (account_id, conversation_id, survey_id, question_id, \
                     question, choice, sealed_text) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(self.account)
                .bind(id)
                .bind(survey_id)
                .bind(required(a, "question_id")?)
                .bind(text(a, "question"))
                .bind(text(a, "choice"))
                .bind(text(a, "text").map(str::as_bytes))
                .execute(&mut *conn)
                .await?;
            }
        }
        Ok(())
    }

    /// The reporting row lethe derives for a closed conversation (same formulas).
    async fn metrics(
        &self,
        conn: &mut SqliteConnection,
        c: &Value,
        id: &str,
        (start, end): (i64, i64),
        times: &[(i64, bool)],
    ) -> anyhow::Result<()> {
        let first_consumer = times
            .iter()
            .filter(|(_, by_consumer)| *by_consumer)
            .map(|(t, _)| *t)
            .min();
        let first_response = first_consumer.and_then(|fc| {
            times
                .iter()
                .filter(|(t, by_consumer)| !by_consumer && *t >= fc)
                .map(|(t, _)| t - fc)
                .min()
        });
        let consumer_messages = times.iter().filter(|(_, by_consumer)| *by_consumer).count() as i64;
        sqlx::query(
            "INSERT INTO metrics (account_id, conversation_id, consumer_id, kind, agent_id, skill_id, \
             start_time, duration_ms, consumer_messages, agent_messages, first_response_ms, csat, mcs) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(self.account)
        .bind(id)
        .bind(text(c, "consumer_id"))
        .bind(text(c, "kind").unwrap_or("messaging"))
        .bind(text(c, "agent_id"))
        .bind(text(c, "skill_id"))
        .bind(start)
        .bind((end - start).max(0))
        .bind(consumer_messages)
        .bind(times.len() as i64 - consumer_messages)
        .bind(first_response)
        .bind(c.get("csat").and_then(Value::as_i64))
        .bind(c.get("mcs").and_then(Value::as_i64))
        .execute(&mut *conn)
        .await?;
        Ok(())
    }
}

/// A conversation's attributes as plain JSON in the frames lethe keeps sealed ones in.
fn plain_attributes(c: &Value) -> anyhow::Result<Option<Vec<u8>>> {
    let plain: Vec<Vec<u8>> = items(c, "attributes")
        .iter()
        .map(serde_json::to_vec)
        .collect::<Result<_, _>>()?;
    Ok((!plain.is_empty()).then(|| lethe_store::pack_sealed((0..).zip(plain.iter().map(Vec::as_slice)))))
}

/// The values lethe indexes for a consumer (e-mail, phone, channel user ids, attribute
/// values), each tagged with its kind as lethe's keyed hash is.
fn lookup_values(c: &Value) -> Vec<String> {
    let mut values = Vec::new();
    for field in ["email", "phone"] {
        if let Some(v) = text(c, field) {
            values.push(format!("{field}:{v}"));
        }
    }
    for identity in items(c, "channel_identities") {
        if let Some(cid) = text(identity, "cid") {
            values.push(format!("cid:{cid}"));
        }
    }
    if let Some(Value::Object(attributes)) = c.get("attributes") {
        values.extend(
            attributes
                .values()
                .filter_map(Value::as_str)
                .map(|v| format!("attribute:{v}")),
        );
    }
    values
}

/// How many survey answers the conversation row counts.
fn survey_count(c: &Value) -> i64 {
    items(c, "surveys")
        .iter()
        .map(|s| items(s, "answers").len() as i64)
        .sum()
}

/// Each message's time and whether the consumer sent it, for the metrics row.
type MessageTimes = Vec<(i64, bool)>;

/// The messages as lethe's conversation row holds them (in the same frames, bodies in
/// the clear), and each one's time and whether the consumer sent it.
fn plain_messages(c: &Value) -> anyhow::Result<(Vec<MessageWrite>, MessageTimes)> {
    let mut messages = Vec::new();
    let mut times = Vec::new();
    for m in items(c, "messages") {
        let time = millis(m, "time")?.context("message time is required")?;
        let sent_by = required(m, "sent_by")?;
        times.push((time, sent_by == "consumer"));
        messages.push(MessageWrite {
            message_id: required(m, "id")?.to_owned(),
            time,
            sent_by: sent_by.to_owned(),
            participant_id: text(m, "participant_id").map(str::to_owned),
            msg_type: text(m, "type").unwrap_or("text").to_owned(),
            file_id: text(m, "file_id").map(str::to_owned),
            sealed_body: message_body(m)?,
            content_mac: NO_KEY.to_vec(),
        });
    }
    Ok((messages, times))
}

/// What lethe seals as a message's body: its content fields (type, text, url, caption,
/// file, structured content) without the envelope (id, time, sender) kept in columns.
fn message_body(m: &Value) -> anyhow::Result<Vec<u8>> {
    let mut body = serde_json::Map::new();
    for field in ["type", "text", "url", "caption", "file_id", "content"] {
        if let Some(v) = m.get(field).filter(|v| !v.is_null()) {
            body.insert(field.to_owned(), v.clone());
        }
    }
    Ok(serde_json::to_vec(&body)?)
}

fn text<'a>(v: &'a Value, field: &str) -> Option<&'a str> {
    v.get(field).and_then(Value::as_str)
}

fn required<'a>(v: &'a Value, field: &str) -> anyhow::Result<&'a str> {
    text(v, field).with_context(|| format!("`{field}` is required"))
}

fn items<'a>(v: &'a Value, field: &str) -> &'a [Value] {
    v.get(field).and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

/// An RFC 3339 field as epoch milliseconds, as lethe stores times.
fn millis(v: &Value, field: &str) -> anyhow::Result<Option<i64>> {
    text(v, field)
        .map(|s| {
            chrono::DateTime::parse_from_rfc3339(s)
                .map(|t| t.timestamp_millis())
                .with_context(|| format!("`{field}` is not RFC 3339"))
        })
        .transpose()
}
