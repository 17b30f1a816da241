//! The reads that resolve a deletion request's target, on both backends.

use crate::error::StoreResult;
use crate::postgres::PgStore;
use crate::requests::{ConversationStats, PlanStore};
use crate::search::StoreFilter;
use crate::sql::{self, Style};
use crate::sqlite::SqliteStore;
use async_trait::async_trait;

/// Ids per statement: a plan can name hundreds of thousands of conversations, and
/// chunks keep each bound list and each result set small.
const CHUNK: usize = 1_000;

type StatsRow = (String, String, Option<String>, String, i64, i64, i64, i64, i64);

fn stats(row: StatsRow) -> ConversationStats {
    let (conversation_id, kind, bot_id, status, messages, files, file_bytes, survey_answers, metrics) = row;
    ConversationStats {
        conversation_id,
        kind,
        bot_id,
        status,
        messages,
        files,
        file_bytes,
        survey_answers,
        metrics,
    }
}

#[async_trait]
impl PlanStore for SqliteStore {
    async fn conversation_stats(&self, account: &str, ids: &[String]) -> StoreResult<Vec<ConversationStats>> {
        let queries: Vec<_> = ids
            .chunks(CHUNK)
            .map(|c| sql::conversation_stats(Style::Question, account, c))
            .collect();
        self.readers()
            .run_unmapping(move |conn| {
                let mut out = Vec::new();
                for q in &queries {
                    out.extend(crate::sqlite_read::rows(conn, q, |r| {
                        Ok(stats((
                            r.get(0)?,
                            r.get(1)?,
                            r.get(2)?,
                            r.get(3)?,
                            r.get(4)?,
                            r.get(5)?,
                            r.get(6)?,
                            r.get(7)?,
                            r.get(8)?,
                        )))
                    })?);
                }
                Ok(out)
            })
            .await
    }

    async fn existing_consumers(&self, account: &str, ids: &[String]) -> StoreResult<Vec<String>> {
        self.strings(ids, |c| sql::existing_consumers(Style::Question, account, c))
            .await
    }

    async fn conversations_of_consumers(&self, account: &str, ids: &[String]) -> StoreResult<Vec<String>> {
        self.strings(ids, |c| sql::conversations_of_consumers(Style::Question, account, c))
            .await
    }

    async fn channel_user_since(&self, account: &str, cid_hash: &[u8]) -> StoreResult<Option<i64>> {
        let q = sql::channel_user_since(Style::Question, account, cid_hash);
        // One row: not worth dropping the connection's mapping for.
        self.readers()
            .run(move |conn| {
                let rows = crate::sqlite_read::rows(conn, &q, |r| r.get::<_, Option<i64>>(0))?;
                Ok(rows.into_iter().flatten().next())
            })
            .await
    }

    async fn matching_conversations(
        &self,
        account: &str,
        filter: &StoreFilter,
        cap: usize,
    ) -> StoreResult<Vec<String>> {
        let q = sql::matching_ids(Style::Question, account, filter, cap);
        self.readers()
            .run_unmapping(move |conn| crate::sqlite_read::rows(conn, &q, |r| r.get(0)))
            .await
    }
}

impl SqliteStore {
    async fn strings(&self, ids: &[String], query: impl Fn(&[String]) -> sql::Sql) -> StoreResult<Vec<String>> {
        let queries: Vec<_> = ids.chunks(CHUNK).map(query).collect();
        self.readers()
            .run_unmapping(move |conn| {
                let mut out = Vec::new();
                for q in &queries {
                    out.extend(crate::sqlite_read::rows(conn, q, |r| r.get(0))?);
                }
                Ok(out)
            })
            .await
    }
}

#[async_trait]
impl PlanStore for PgStore {
    async fn conversation_stats(&self, account: &str, ids: &[String]) -> StoreResult<Vec<ConversationStats>> {
        let mut out = Vec::new();
        for chunk in ids.chunks(CHUNK) {
            let rows: Vec<StatsRow> = self
                .all(&sql::conversation_stats(Style::Dollar, account, chunk))
                .await?;
            out.extend(rows.into_iter().map(stats));
        }
        Ok(out)
    }

    async fn existing_consumers(&self, account: &str, ids: &[String]) -> StoreResult<Vec<String>> {
        self.strings(ids, |c| sql::existing_consumers(Style::Dollar, account, c))
            .await
    }

    async fn conversations_of_consumers(&self, account: &str, ids: &[String]) -> StoreResult<Vec<String>> {
        self.strings(ids, |c| sql::conversations_of_consumers(Style::Dollar, account, c))
            .await
    }

    async fn channel_user_since(&self, account: &str, cid_hash: &[u8]) -> StoreResult<Option<i64>> {
        let rows: Vec<(Option<i64>,)> = self
            .all(&sql::channel_user_since(Style::Dollar, account, cid_hash))
            .await?;
        Ok(rows.into_iter().find_map(|r| r.0))
    }

    async fn matching_conversations(
        &self,
        account: &str,
        filter: &StoreFilter,
        cap: usize,
    ) -> StoreResult<Vec<String>> {
        let rows: Vec<(String,)> = self
            .all(&sql::matching_ids(Style::Dollar, account, filter, cap))
            .await?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }
}

impl PgStore {
    async fn strings(&self, ids: &[String], query: impl Fn(&[String]) -> sql::Sql) -> StoreResult<Vec<String>> {
        let mut out = Vec::new();
        for chunk in ids.chunks(CHUNK) {
            let rows: Vec<(String,)> = self.all(&query(chunk)).await?;
            out.extend(rows.into_iter().map(|r| r.0));
        }
        Ok(out)
    }
}
