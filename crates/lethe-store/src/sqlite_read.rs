//! Reads on SQLite through rusqlite: a whole query runs in one blocking task on a pooled
//! read-only connection. sqlx-sqlite hands every row from its connection thread to the
//! async task through a channel; on a two-core machine those wake-ups dominated search.
//!
//! Readers map the database file into memory: a page is then read where the kernel
//! caches it, without the `pread` system call and 4 KiB copy that cost a quarter of
//! the machine under search load (BENCHMARKS.md). Mapped pages count towards the
//! server's resident size while mapped, so a quiet server unmaps ([`Readers::unmap_idle`]).

use crate::error::{StoreError, StoreResult};
use crate::message_log;
use crate::records::*;
use crate::search::{finish_page, total_from_page, SearchPage, StoreFilter};
use crate::sql::{self, Param, Sql, Style};
use crate::sqlite::SqliteStore;
use crate::ReadStore;
use async_trait::async_trait;
use lethe_domain::filter::{Page, Sort};
use rusqlite::{Connection, OpenFlags, Row};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;

/// How much of the database file a reader maps: all of it, for any file lethe will
/// hold. The build raises SQLite's own ceiling to match (`.cargo/config.toml`).
pub(crate) const READ_MAP_BYTES: i64 = 1 << 40;

/// Read-only connections, each used by one blocking task at a time.
pub(crate) struct Readers {
    idle: Mutex<Vec<Connection>>,
    permits: Semaphore,
}

impl From<rusqlite::Error> for StoreError {
    fn from(err: rusqlite::Error) -> Self {
        match err.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
                StoreError::Busy(err.to_string())
            }
            _ => StoreError::Database(err.to_string()),
        }
    }
}

impl Readers {
    /// Opens `count` read-only connections to an existing database file.
    pub(crate) fn open(path: &Path, count: usize) -> StoreResult<Arc<Self>> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let connections = (0..count)
            .map(|_| {
                let conn = Connection::open_with_flags(path, flags)?;
                conn.busy_timeout(Duration::from_secs(10))?;
                conn.pragma_update(None, "secure_delete", "ON")?;
                conn.pragma_update(None, "query_only", "ON")?;
                // 1 MiB of page cache per reader: the OS page cache holds the hot pages
                // anyway, and a small private cache keeps an idle server small.
                conn.pragma_update(None, "cache_size", -1024)?;
                conn.pragma_update(None, "mmap_size", READ_MAP_BYTES)?;
                conn.set_prepared_statement_cache_capacity(32);
                Ok(conn)
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Arc::new(Self {
            idle: Mutex::new(connections),
            permits: Semaphore::new(count),
        }))
    }

    /// Runs `work` on an idle connection in a blocking task.
    pub(crate) async fn run<T: Send + 'static>(
        self: &Arc<Self>,
        work: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> StoreResult<T> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| StoreError::Busy("read pool closed".into()))?;
        let readers = self.clone();
        tokio::task::spawn_blocking(move || readers.with_idle(work))
            .await
            .map_err(|e| StoreError::Database(format!("read task failed: {e}")))?
            .map_err(StoreError::from)
    }

    /// Runs a bulk read that touches pages no search will want soon (planning a deletion
    /// over 100,000 conversations), then unmaps the file from its connection, so those
    /// pages do not stay in the server's resident size until it goes quiet.
    pub(crate) async fn run_unmapping<T: Send + 'static>(
        self: &Arc<Self>,
        work: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> StoreResult<T> {
        self.run(move |conn| {
            let out = work(conn);
            unmap(conn)?;
            out
        })
        .await
    }

    /// Runs `work` on this thread when a connection is idle right now, saving the two
    /// thread hand-offs of [`Readers::run`]; `None` when none is idle or `work` declines.
    /// Work run here holds up every task of this async worker, so callers decline
    /// anything but small reads.
    pub(crate) fn try_inline<T>(
        &self,
        work: impl FnOnce(&Connection) -> rusqlite::Result<Option<T>>,
    ) -> StoreResult<Option<T>> {
        let Ok(_permit) = self.permits.try_acquire() else {
            return Ok(None);
        };
        Ok(self.with_idle(work)?)
    }

    /// Unmaps the database file from every idle connection; the next read maps it again.
    /// A connection lent out keeps its mapping until the next call.
    pub(crate) fn unmap_idle(&self) -> StoreResult<()> {
        let idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        for conn in idle.iter() {
            unmap(conn)?;
        }
        Ok(())
    }

    /// Runs `work` on an idle connection; the caller holds a permit. The connection goes
    /// back even if `work` panics, so a permit always finds one.
    fn with_idle<T>(&self, work: impl FnOnce(&Connection) -> T) -> T {
        let conn = self
            .idle
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop()
            .expect("a permit implies an idle connection");
        let lent = Lent {
            readers: self,
            conn: Some(conn),
        };
        work(lent.conn.as_ref().expect("set above"))
    }
}

/// Unmaps the database file from one connection; its next read maps the file again.
fn unmap(conn: &Connection) -> rusqlite::Result<()> {
    // A new limit unmaps the file; restoring the limit maps it on the next read.
    conn.pragma_update(None, "mmap_size", 0)?;
    conn.pragma_update(None, "mmap_size", READ_MAP_BYTES)
}

/// A connection taken from the idle list, returned when dropped.
struct Lent<'a> {
    readers: &'a Readers,
    conn: Option<Connection>,
}

impl Drop for Lent<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.readers.idle.lock().unwrap_or_else(|p| p.into_inner()).push(conn);
        }
    }
}

/// A list parameter as the JSON array `json_each` reads.
fn json_array(values: &[String]) -> String {
    serde_json::to_string(values).expect("a list of strings always serialises")
}

pub(crate) fn rows<T>(
    conn: &Connection,
    sql: &Sql,
    map: fn(&Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<Vec<T>> {
    let mut stmt = conn.prepare_cached(&sql.text)?;
    for (i, param) in sql.params.iter().enumerate() {
        match param {
            Param::Int(v) => stmt.raw_bind_parameter(i + 1, v)?,
            Param::Text(v) => stmt.raw_bind_parameter(i + 1, v)?,
            Param::Blob(v) => stmt.raw_bind_parameter(i + 1, v)?,
            Param::TextList(v) => stmt.raw_bind_parameter(i + 1, json_array(v))?,
        }
    }
    let mut out = Vec::new();
    let mut cursor = stmt.raw_query();
    while let Some(row) = cursor.next()? {
        out.push(map(row)?);
    }
    Ok(out)
}

fn api_key_row(r: &Row<'_>) -> rusqlite::Result<ApiKeyRecord> {
    Ok(ApiKeyRecord {
        id: r.get(0)?,
        account_id: r.get(1)?,
        name: r.get(2)?,
        scopes: r.get(3)?,
        prefix: r.get(4)?,
        created_at: r.get(5)?,
        revoked_at: r.get(6)?,
    })
}

fn conversation_row(r: &Row<'_>) -> rusqlite::Result<ConversationRecord> {
    Ok(ConversationRecord {
        conversation_id: r.get(0)?,
        kind: r.get(1)?,
        status: r.get(2)?,
        consumer_id: r.get(3)?,
        bot_id: r.get(4)?,
        start_time: r.get(5)?,
        end_time: r.get(6)?,
        close_reason: r.get(7)?,
        source: r.get(8)?,
        device: r.get(9)?,
        agent_id: r.get(10)?,
        skill_id: r.get(11)?,
        csat: r.get(12)?,
        mcs: r.get(13)?,
        sealed_participant: r.get(14)?,
        sealed_attributes: r.get(15)?,
        kek_id: r.get(16)?,
        wrapped: r.get(17)?,
        sealed_messages: r.get(18)?,
        survey_count: r.get(19)?,
    })
}

fn consumer_row(r: &Row<'_>) -> rusqlite::Result<ConsumerRecord> {
    Ok(ConsumerRecord {
        consumer_id: r.get(0)?,
        sealed_profile: r.get(1)?,
        kek_id: r.get(2)?,
        wrapped: r.get(3)?,
        created_at: r.get(4)?,
        updated_at: r.get(5)?,
    })
}

fn metrics_row(r: &Row<'_>) -> rusqlite::Result<MetricsRecord> {
    Ok(MetricsRecord {
        conversation_id: r.get(0)?,
        duration_ms: r.get(1)?,
        consumer_messages: r.get(2)?,
        agent_messages: r.get(3)?,
        first_response_ms: r.get(4)?,
        csat: r.get(5)?,
        mcs: r.get(6)?,
    })
}

fn file_row(r: &Row<'_>) -> rusqlite::Result<FileRecord> {
    Ok(FileRecord {
        file_id: r.get(0)?,
        conversation_id: r.get(1)?,
        blob_key: r.get(2)?,
        content_type: r.get(3)?,
        size: r.get(4)?,
        sealed_name: r.get(5)?,
        created_at: r.get(6)?,
    })
}

fn survey_row(r: &Row<'_>) -> rusqlite::Result<SurveyAnswerRecord> {
    Ok(SurveyAnswerRecord {
        conversation_id: r.get(0)?,
        survey_id: r.get(1)?,
        question_id: r.get(2)?,
        question: r.get(3)?,
        choice: r.get(4)?,
        sealed_text: r.get(5)?,
    })
}

fn read_parts(
    conn: &Connection,
    account: &str,
    [messages, surveys, files]: [Option<Sql>; 3],
) -> rusqlite::Result<ConversationParts> {
    let mut parts = ConversationParts::default();
    if let Some(q) = messages {
        let logs: Vec<(String, Vec<u8>)> = rows(conn, &q, |r| Ok((r.get(0)?, r.get(1)?)))?;
        parts.messages = message_log::from_columns(&logs).map_err(store_failure)?;
        let referenced = message_log::referenced_files(logs.iter().map(|(_, log)| log.as_slice()));
        parts.file_types = file_types(conn, account, referenced.map_err(store_failure)?)?;
    }
    if let Some(q) = surveys {
        parts.survey_answers = rows(conn, &q, survey_row)?;
    }
    if let Some(q) = files {
        parts.files = rows(conn, &q, file_row)?;
    }
    Ok(parts)
}

/// `(file id, content type)` of the listed hosted files.
fn file_types(conn: &Connection, account: &str, files: Vec<String>) -> rusqlite::Result<Vec<(String, String)>> {
    if files.is_empty() {
        return Ok(Vec::new());
    }
    rows(conn, &sql::file_types(Style::Question, account, &files), |r| {
        Ok((r.get(0)?, r.get(1)?))
    })
}

/// A store error inside a rusqlite closure; it reaches the caller as a database error.
fn store_failure(err: StoreError) -> rusqlite::Error {
    rusqlite::Error::ToSqlConversionFailure(Box::new(err))
}

impl SqliteStore {
    async fn one<T: Send + 'static>(
        &self,
        sql: Sql,
        map: fn(&Row<'_>) -> rusqlite::Result<T>,
    ) -> StoreResult<Option<T>> {
        fn first<T>(
            conn: &Connection,
            sql: &Sql,
            map: fn(&Row<'_>) -> rusqlite::Result<T>,
        ) -> rusqlite::Result<Option<T>> {
            Ok(rows(conn, sql, map)?.into_iter().next())
        }
        // One row by key: small enough for the async worker.
        if let Some(found) = self.readers().try_inline(|conn| first(conn, &sql, map).map(Some))? {
            return Ok(found);
        }
        self.readers().run(move |conn| first(conn, &sql, map)).await
    }
}

#[async_trait]
impl ReadStore for SqliteStore {
    async fn api_key_by_hash(&self, hash: &[u8]) -> StoreResult<Option<ApiKeyRecord>> {
        self.one(sql::api_key_by_hash(Style::Question, hash), api_key_row).await
    }

    async fn account(&self, site_id: &str) -> StoreResult<Option<AccountRecord>> {
        self.one(sql::account(Style::Question, site_id), |r| {
            Ok(AccountRecord {
                site_id: r.get(0)?,
                created_at: r.get(1)?,
            })
        })
        .await
    }

    async fn consumer(&self, account: &str, id: &str) -> StoreResult<Option<ConsumerRecord>> {
        self.one(sql::consumer(Style::Question, account, id), consumer_row)
            .await
    }

    async fn conversation(&self, account: &str, id: &str) -> StoreResult<Option<ConversationRecord>> {
        self.one(sql::conversation(Style::Question, account, id), conversation_row)
            .await
    }

    async fn metrics(&self, account: &str, conversation: &str) -> StoreResult<Option<MetricsRecord>> {
        self.one(sql::metrics(Style::Question, account, conversation), metrics_row)
            .await
    }

    async fn file(&self, account: &str, conversation: &str, file: &str) -> StoreResult<Option<FileRecord>> {
        self.one(sql::file(Style::Question, account, conversation, file), file_row)
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
        let queries = sql::parts(Style::Question, account, ids, wanted);
        let account = account.to_owned();
        self.readers()
            .run(move |conn| read_parts(conn, &account, queries))
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
        let search = SearchQueries {
            count: matches!(page, Page::Offset { .. }).then(|| sql::count(Style::Question, account, filter)),
            page_query: sql::page(Style::Question, account, filter, sort, page),
            page: page.clone(),
            account: account.to_owned(),
            wanted,
        };
        let readers = self.readers();
        if let Some(found) = readers.try_inline(|conn| search.read_small(conn))? {
            return Ok(found);
        }
        readers.run(move |conn| search.read(conn)).await
    }

    fn release_read_memory(&self) -> StoreResult<()> {
        self.readers().unmap_idle()
    }
}

/// Conversations a search page may hold to be read on the async worker. A page of 50
/// conversations reads for milliseconds, and short searches queued behind it on the
/// worker would wait that long; 99 % of consumers have fewer (see BENCHMARKS.md).
const INLINE_CONVERSATIONS: usize = 25;

/// The statements of one search.
struct SearchQueries {
    count: Option<Sql>,
    page_query: Sql,
    page: Page,
    account: String,
    wanted: PartsWanted,
}

impl SearchQueries {
    /// The whole search.
    fn read(&self, conn: &Connection) -> rusqlite::Result<SearchPage> {
        in_snapshot(conn, || {
            let page = self.page(conn)?;
            self.with_parts(conn, page)
        })
    }

    /// The whole search, or `None` when the page holds more than [`INLINE_CONVERSATIONS`]
    /// (nothing is lost: the caller reads again elsewhere).
    fn read_small(&self, conn: &Connection) -> rusqlite::Result<Option<SearchPage>> {
        in_snapshot(conn, || {
            let page = self.page(conn)?;
            if page.rows.len() > INLINE_CONVERSATIONS {
                return Ok(None);
            }
            self.with_parts(conn, page).map(Some)
        })
    }

    /// The total (offset paging) and the page's conversation rows.
    fn page(&self, conn: &Connection) -> rusqlite::Result<SearchPage> {
        let found = rows(conn, &self.page_query, conversation_row)?;
        let total = match &self.count {
            Some(q) => Some(match total_from_page(&self.page, found.len()) {
                Some(total) => total,
                None => rows(conn, q, |r| r.get::<_, i64>(0))?[0] as u64,
            }),
            None => None,
        };
        Ok(finish_page(found, total, &self.page))
    }

    /// The page with the parts of its conversations; the messages stay in the rows.
    fn with_parts(&self, conn: &Connection, mut page: SearchPage) -> rusqlite::Result<SearchPage> {
        if !page.rows.is_empty() {
            let queries = sql::page_parts(Style::Question, &self.account, &page.rows, self.wanted);
            page.parts = read_parts(conn, &self.account, queries)?;
            if self.wanted.messages {
                let referenced = message_log::referenced_files(message_log::row_columns(&page.rows));
                page.parts.file_types = file_types(conn, &self.account, referenced.map_err(store_failure)?)?;
            } else {
                message_log::drop_columns(&mut page.rows);
            }
        }
        Ok(page)
    }
}

/// Runs `reads` in one read transaction: count, page and child rows from one consistent
/// snapshot.
fn in_snapshot<T>(conn: &Connection, reads: impl FnOnce() -> rusqlite::Result<T>) -> rusqlite::Result<T> {
    conn.execute_batch("BEGIN")?;
    let result = reads();
    conn.execute_batch("COMMIT")?;
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database file made by `sql`, in a directory that lives as long as the guard.
    fn database(sql: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        Connection::open(&path).unwrap().execute_batch(sql).unwrap();
        (dir, path)
    }

    fn compile_options() -> Vec<String> {
        let conn = Connection::open_in_memory().unwrap();
        let mut stmt = conn.prepare("PRAGMA compile_options").unwrap();
        let options = stmt.query_map([], |r| r.get(0)).unwrap();
        options.collect::<Result<_, _>>().unwrap()
    }

    /// `.cargo/config.toml` sets these; without them the read connections share one
    /// page-cache mutex and one allocation mutex.
    #[test]
    fn sqlite_is_built_without_process_wide_mutexes() {
        let options = compile_options();
        assert!(options.iter().any(|o| o == "THREADSAFE=1"), "{options:?}");
        assert!(!options.iter().any(|o| o == "ENABLE_MEMORY_MANAGEMENT"), "{options:?}");
        assert!(options.iter().any(|o| o == "DEFAULT_MEMSTATUS=0"), "{options:?}");
        let ceiling = format!("MAX_MMAP_SIZE={READ_MAP_BYTES}");
        assert!(options.contains(&ceiling), "{options:?}");
    }

    /// Whether this process has `path` mapped into memory.
    #[cfg(target_os = "linux")]
    fn mapped(path: &Path) -> bool {
        let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
        let path = path.canonicalize().unwrap();
        maps.lines().any(|l| l.ends_with(path.to_str().unwrap()))
    }

    /// A read maps the file; unmapping an idle reader removes the mapping, and the next
    /// read maps the file again and still answers.
    #[cfg(target_os = "linux")]
    #[test]
    fn idle_readers_unmap_the_database_and_map_it_again() {
        let (_dir, path) = database("CREATE TABLE t (x); INSERT INTO t VALUES (41), (1);");
        let readers = Readers::open(&path, 2).unwrap();
        let sum = |readers: &Readers| {
            readers
                .try_inline(|conn| {
                    conn.query_row("SELECT sum(x) FROM t", [], |r| r.get::<_, i64>(0))
                        .map(Some)
                })
                .unwrap()
        };
        assert_eq!(sum(&readers), Some(42));
        assert!(mapped(&path), "a read maps the database file");
        readers.unmap_idle().unwrap();
        assert!(!mapped(&path), "idle readers keep no mapping");
        assert_eq!(sum(&readers), Some(42));
        assert!(mapped(&path), "the next read maps the file again");
    }

    /// A bulk read answers and leaves its connection without a mapping.
    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn a_bulk_read_unmaps_its_connection_afterwards() {
        let (_dir, path) = database("CREATE TABLE t (x); INSERT INTO t VALUES (7);");
        let readers = Readers::open(&path, 1).unwrap();
        let file = path.clone();
        let read = readers
            .run_unmapping(move |conn| {
                let x = conn.query_row("SELECT x FROM t", [], |r| r.get::<_, i64>(0))?;
                assert!(mapped(&file), "the read itself goes through the mapping");
                Ok(x)
            })
            .await
            .unwrap();
        assert_eq!(read, 7);
        assert!(!mapped(&path), "the connection is unmapped once the read is done");
    }

    /// A read that panics still returns its connection: the next read finds one.
    #[test]
    fn a_panicking_read_returns_its_connection() {
        let (_dir, path) = database("CREATE TABLE t (x)");
        let readers = Readers::open(&path, 1).unwrap();
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            readers.try_inline(|_| -> rusqlite::Result<Option<()>> { panic!("boom") })
        }));
        assert!(panicked.is_err());
        let one = readers.try_inline(|conn| conn.query_row("SELECT 1", [], |r| r.get::<_, i64>(0)).map(Some));
        assert_eq!(one.unwrap(), Some(1));
    }

    /// A list is one parameter whatever its length, and a value is matched as data:
    /// quotes and brackets in an id do not change the query.
    #[test]
    fn list_parameters_bind_as_one_json_array() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE consumers (account_id TEXT, consumer_id TEXT);
             INSERT INTO consumers VALUES ('s', 'a'), ('s', 'b\"]'), ('s', 'c'), ('t', 'c');",
        )
        .unwrap();
        let query = |ids: &[&str]| {
            let ids: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
            let sql = sql::existing_consumers(Style::Question, "s", &ids);
            assert_eq!(sql.params.len(), 2);
            let mut found = rows(&conn, &sql, |r| r.get::<_, String>(0)).unwrap();
            found.sort();
            found
        };
        assert_eq!(query(&["b\"]", "c", "zz"]), ["b\"]", "c"]);
        assert_eq!(query(&["a"]), ["a"]);
        assert!(query(&[]).is_empty());
    }
}
