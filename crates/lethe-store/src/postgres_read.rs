//! Reads on PostgreSQL: the shared query text bound through sqlx.

use crate::error::StoreResult;
use crate::message_log;
use crate::postgres::PgStore;
use crate::records::*;
use crate::search::{finish_page, total_from_page, SearchPage, StoreFilter};
use crate::sql::{self, Param, Sql, Style};
use crate::ReadStore;
use async_trait::async_trait;
use lethe_domain::filter::{Page, Sort};
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::{FromRow, Postgres};

fn arguments(sql: &Sql) -> PgArguments {
    use sqlx::Arguments;
    let mut args = PgArguments::default();
    for param in &sql.params {
        // Encoding an owned value into an argument buffer cannot fail for these types.
        let _ = match param {
            Param::Int(v) => args.add(*v),
            Param::Text(v) => args.add(v.clone()),
            Param::Blob(v) => args.add(v.clone()),
            Param::TextList(v) => args.add(v.clone()),
        };
    }
    args
}

impl PgStore {
    pub(crate) async fn all<T>(&self, sql: &Sql) -> StoreResult<Vec<T>>
    where
        T: for<'r> FromRow<'r, PgRow> + Send + Unpin,
    {
        Ok(sqlx::query_as_with::<Postgres, T, _>(&sql.text, arguments(sql))
            .fetch_all(self.read_pool())
            .await?)
    }

    async fn optional<T>(&self, sql: &Sql) -> StoreResult<Option<T>>
    where
        T: for<'r> FromRow<'r, PgRow> + Send + Unpin,
    {
        Ok(sqlx::query_as_with::<Postgres, T, _>(&sql.text, arguments(sql))
            .fetch_optional(self.read_pool())
            .await?)
    }
}

impl PgStore {
    /// Runs the part queries of a search or a parts request.
    async fn read_parts(
        &self,
        account: &str,
        [messages, surveys, files]: [Option<Sql>; 3],
    ) -> StoreResult<ConversationParts> {
        let mut parts = ConversationParts::default();
        if let Some(q) = messages {
            let logs: Vec<(String, Vec<u8>)> = self.all(&q).await?;
            parts.messages = message_log::from_columns(&logs)?;
            let referenced = message_log::referenced_files(logs.iter().map(|(_, log)| log.as_slice()))?;
            parts.file_types = self.file_types(account, referenced).await?;
        }
        if let Some(q) = surveys {
            parts.survey_answers = self.all(&q).await?;
        }
        if let Some(q) = files {
            parts.files = self.all(&q).await?;
        }
        Ok(parts)
    }

    /// `(file id, content type)` of the listed hosted files.
    async fn file_types(&self, account: &str, files: Vec<String>) -> StoreResult<Vec<(String, String)>> {
        if files.is_empty() {
            return Ok(Vec::new());
        }
        self.all(&sql::file_types(Style::Dollar, account, &files)).await
    }
}

#[async_trait]
impl ReadStore for PgStore {
    async fn api_key_by_hash(&self, hash: &[u8]) -> StoreResult<Option<ApiKeyRecord>> {
        self.optional(&sql::api_key_by_hash(Style::Dollar, hash)).await
    }

    async fn account(&self, site_id: &str) -> StoreResult<Option<AccountRecord>> {
        self.optional(&sql::account(Style::Dollar, site_id)).await
    }

    async fn consumer(&self, account: &str, id: &str) -> StoreResult<Option<ConsumerRecord>> {
        self.optional(&sql::consumer(Style::Dollar, account, id)).await
    }

    async fn conversation(&self, account: &str, id: &str) -> StoreResult<Option<ConversationRecord>> {
        self.optional(&sql::conversation(Style::Dollar, account, id)).await
    }

    async fn metrics(&self, account: &str, conversation: &str) -> StoreResult<Option<MetricsRecord>> {
        self.optional(&sql::metrics(Style::Dollar, account, conversation)).await
    }

    async fn file(&self, account: &str, conversation: &str, file: &str) -> StoreResult<Option<FileRecord>> {
        self.optional(&sql::file(Style::Dollar, account, conversation, file))
            .await
    }

    async fn conversation_parts(
        &self,
        account: &str,
        ids: &[String],
        wanted: PartsWanted,
    ) -> StoreResult<ConversationParts> {
        if ids.is_empty() {
            return Ok(ConversationParts::default());
        }
        self.read_parts(account, sql::parts(Style::Dollar, account, ids, wanted))
            .await
    }

    async fn search(
        &self,
        account: &str,
        filter: &StoreFilter,
        sort: Sort,
        page: &Page,
        wanted: PartsWanted,
    ) -> StoreResult<SearchPage> {
        let rows = self.all(&sql::page(Style::Dollar, account, filter, sort, page)).await?;
        let total = match page {
            Page::Keyset { .. } => None,
            Page::Offset { .. } => Some(match total_from_page(page, rows.len()) {
                Some(total) => total,
                None => {
                    let q = sql::count(Style::Dollar, account, filter);
                    let (count,): (i64,) = sqlx::query_as_with(&q.text, arguments(&q))
                        .fetch_one(self.read_pool())
                        .await?;
                    count as u64
                }
            }),
        };
        let mut result = finish_page(rows, total, page);
        let queries = sql::page_parts(Style::Dollar, account, &result.rows, wanted);
        result.parts = self.read_parts(account, queries).await?;
        if wanted.messages {
            // The page rows hold their messages: no second read.
            let referenced = message_log::referenced_files(message_log::row_columns(&result.rows))?;
            result.parts.file_types = self.file_types(account, referenced).await?;
        } else {
            message_log::drop_columns(&mut result.rows);
        }
        Ok(result)
    }
}
