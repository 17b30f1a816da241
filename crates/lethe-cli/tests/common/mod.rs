//! Test harness: a real server on port 0 over a fresh database, on SQLite always and on
//! PostgreSQL whenever it is reachable (required when LETHE_REQUIRE_POSTGRES=1).
#![allow(dead_code)]

pub mod deletion;
pub mod pg;

use lethe_server::Config;
use lethe_service::ManualClock;
use reqwest::{Client, Method, Response};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Which backend a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A running server and what a test needs to talk to it.
pub struct TestApp {
    pub backend: Backend,
    pub addr: SocketAddr,
    pub client: Client,
    pub operator_key: String,
    pub dir: tempfile::TempDir,
    pub config: Config,
    /// The server's clock: tests move it instead of sleeping.
    pub clock: Arc<ManualClock>,
    /// The server's services, for driving the job runner synchronously.
    pub lethe: lethe_service::Lethe,
    shutdown: CancellationToken,
    _pg: Option<pg::TempDatabase>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Writes `async fn name(app: TestApp)` tests once and runs them on both backends.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let app = $crate::common::TestApp::start($crate::common::Backend::Sqlite).await.expect("sqlite app");
                    super::$name(app).await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    if let Some(app) = $crate::common::TestApp::start($crate::common::Backend::Postgres).await {
                        super::$name(app).await;
                    }
                }
            )+
        }
    };
}

impl TestApp {
    /// Starts a server; `None` when PostgreSQL is unreachable and not required.
    pub async fn start(backend: Backend) -> Option<Self> {
        lethe_server::telemetry::init("pretty");
        let dir = tempfile::tempdir().expect("temp dir");
        let (database_url, pg) = match backend {
            Backend::Sqlite => (format!("sqlite://{}", dir.path().join("lethe.db").display()), None),
            Backend::Postgres => {
                let db = pg::TempDatabase::create().await?;
                (db.url.clone(), Some(db))
            }
        };
        let config = Config {
            database_url,
            blobs: Some(dir.path().join("blobs").display().to_string()),
            key_file: Some(dir.path().join("lethe.keys")),
            body_limit_bytes: 64 * 1024,
            import_body_limit_bytes: 1024 * 1024,
            import_batch_size: 3,
            max_filter_conversations: 3,
            // Tests drive the runner themselves (`run_jobs`), so nothing happens behind
            // their back.
            runner_enabled: false,
            job_batch_size: 2,
            ..Config::default()
        };
        let clock = Arc::new(ManualClock::at(lethe_domain::time::now()));
        let prepared = lethe_server::prepare_with_clock(config.clone(), clock.clone())
            .await
            .expect("prepare");
        let operator_key = prepared
            .bootstrap_key
            .clone()
            .expect("fresh database creates an operator key");
        let lethe = prepared.state.lethe.clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let shutdown = CancellationToken::new();
        tokio::spawn(lethe_server::serve(prepared.state, listener, shutdown.clone()));
        Some(Self {
            backend,
            addr,
            client: Client::new(),
            operator_key,
            dir,
            config,
            clock,
            lethe,
            shutdown,
            _pg: pg,
        })
    }

    /// Runs every due deletion job as far as it can go now; how many it touched.
    pub async fn run_jobs(&self) -> usize {
        self.lethe.run_due_jobs("test-runner").await.expect("job runner")
    }

    /// The server clock's current time.
    pub fn now_ms(&self) -> i64 {
        lethe_service::Clock::now(&*self.clock)
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Sends a JSON request with a bearer key (or none).
    pub async fn call(&self, method: Method, path: &str, key: Option<&str>, body: Option<Value>) -> Response {
        let mut request = self.client.request(method, self.url(path));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.expect("request")
    }

    /// Sends and returns (status, JSON body or Null).
    pub async fn json(&self, method: Method, path: &str, key: Option<&str>, body: Option<Value>) -> (u16, Value) {
        let response = self.call(method, path, key, body).await;
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Creates an account with the operator key.
    pub async fn create_account(&self, site: &str) {
        let (status, body) = self
            .json(
                Method::POST,
                "/v1/accounts",
                Some(&self.operator_key),
                Some(json!({"site_id": site})),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }

    /// Creates an account key with the given scopes.
    pub async fn key(&self, site: &str, scopes: &[&str]) -> String {
        let (status, body) = self
            .json(
                Method::POST,
                &format!("/v1/accounts/{site}/keys"),
                Some(&self.operator_key),
                Some(json!({"name": "test", "scopes": scopes})),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        body["key"].as_str().expect("key").to_owned()
    }

    /// Creates an account key with a name (LivePerson shows it as `requested_by`).
    pub async fn key_named(&self, site: &str, name: &str, scopes: &[&str]) -> String {
        let (status, body) = self
            .json(
                Method::POST,
                &format!("/v1/accounts/{site}/keys"),
                Some(&self.operator_key),
                Some(json!({"name": name, "scopes": scopes})),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        body["key"].as_str().expect("key").to_owned()
    }

    /// Runs one SQL statement on the server's database directly (tests that play an
    /// attacker with database access).
    pub async fn raw_sql(&self, statements: &[&str]) {
        use sqlx::Connection;
        match self.backend {
            Backend::Sqlite => {
                let mut conn = sqlx::SqliteConnection::connect(&self.config.database_url)
                    .await
                    .expect("sqlite");
                for sql in statements {
                    sqlx::query(sql).execute(&mut conn).await.expect("raw sql");
                }
            }
            Backend::Postgres => {
                let mut conn = sqlx::PgConnection::connect(&self.config.database_url)
                    .await
                    .expect("postgres");
                for sql in statements {
                    sqlx::query(sql).execute(&mut conn).await.expect("raw sql");
                }
            }
        }
    }

    /// An account with a read+write key.
    pub async fn account_with_key(&self, site: &str) -> String {
        self.create_account(site).await;
        self.key(site, &["conversations:read", "conversations:write", "admin"])
            .await
    }
}

/// Every file below a directory (none when it does not exist).
pub fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// A conversation body with sensible defaults and `extra` merged in.
pub fn conversation(id: &str, start: &str, extra: Value) -> Value {
    let mut body = json!({"id": id, "start_time": start});
    if let (Some(target), Value::Object(extra)) = (body.as_object_mut(), extra) {
        target.extend(extra);
    }
    body
}

/// Each page row's conversation id and survey-answer count, in id order.
pub fn survey_counts(page: &lethe_store::SearchPage) -> Vec<(String, i64)> {
    let mut counts: Vec<(String, i64)> = page
        .rows
        .iter()
        .map(|r| (r.conversation_id.clone(), r.survey_count))
        .collect();
    counts.sort();
    counts
}
