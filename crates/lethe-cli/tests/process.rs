//! The `lethe` binary as a user runs it: serve as a child process, the CLI contract,
//! and what ends up on disk and in the log.

use reqwest::Client;
use serde_json::json;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

mod common;

const LETHE: &str = env!("CARGO_BIN_EXE_lethe");

fn lethe(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(LETHE)
        .current_dir(dir)
        .args(args)
        .env_remove("LETHE_DATABASE_URL")
        .output()
        .expect("run lethe")
}

struct Server {
    child: Child,
    lines: mpsc::Receiver<String>,
    log: Vec<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        // A failed assertion must not leave a server running behind the test.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(dir: &Path) -> Self {
        let mut child = Command::new(LETHE)
            .current_dir(dir)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env("LETHE_LOG", "debug")
            .env_remove("LETHE_DATABASE_URL")
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn lethe serve");
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            lines,
            log: Vec::new(),
        }
    }

    /// The address the server listens on, once it serves.
    fn address(&mut self) -> String {
        self.wait_for(|l| {
            l.contains("lethe is serving").then(|| {
                l.split("address=")
                    .nth(1)
                    .unwrap()
                    .split_whitespace()
                    .next()
                    .unwrap()
                    .to_owned()
            })
        })
    }

    /// Whether the server process has `file` mapped into memory.
    #[cfg(target_os = "linux")]
    fn maps(&self, file: &Path) -> bool {
        let maps = std::fs::read_to_string(format!("/proc/{}/maps", self.child.id())).unwrap();
        let file = file.canonicalize().unwrap();
        maps.lines().any(|l| l.ends_with(file.to_str().unwrap()))
    }

    /// Reads stderr until a line satisfies `pick`.
    fn wait_for<T>(&mut self, pick: impl Fn(&str) -> Option<T>) -> T {
        loop {
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(30))
                .expect("lethe serve went quiet");
            self.log.push(line.clone());
            if let Some(found) = pick(&line) {
                return found;
            }
        }
    }

    fn terminate(&mut self) -> (std::process::ExitStatus, String) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let status = self.child.wait().expect("wait");
        self.log.extend(self.lines.try_iter());
        (status, std::mem::take(&mut self.log).join("\n"))
    }
}

/// `lethe keys create` for the account `acme`.
fn create_key(dir: &Path, scopes: &str, name: &str) -> std::process::Output {
    let args = [
        "keys",
        "create",
        "--account",
        "acme",
        "--scopes",
        scopes,
        "--name",
        name,
    ];
    lethe(dir, &args)
}

fn files_contain(dir: &Path, needle: &[u8]) -> Vec<String> {
    let mut hits = Vec::new();
    for entry in common::walk(dir) {
        let bytes = std::fs::read(&entry).unwrap_or_default();
        if bytes.windows(needle.len()).any(|w| w == needle) {
            hits.push(entry.display().to_string());
        }
    }
    hits
}

#[tokio::test]
async fn serve_keeps_personal_data_out_of_disk_and_log() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path());
    let operator = server.wait_for(|l| l.starts_with("lethe_").then(|| l.trim().to_owned()));
    let base = format!("http://{}", server.address());
    let http = Client::new();
    let post = |path: &str, body: serde_json::Value| {
        http.post(format!("{base}{path}"))
            .bearer_auth(&operator)
            .json(&body)
            .send()
    };
    assert_eq!(
        post("/v1/accounts", json!({"site_id": "acme"})).await.unwrap().status(),
        201
    );
    let canaries = [
        "CANARYEMAIL@example.com",
        "CanaryFirstName",
        "CANARYPHONE999",
        "CANARYTOKEN",
        "CANARYCID",
        "CANARYATTR",
        "CANARYMESSAGE",
        "CANARYSURVEY",
        "CANARYFILEBYTES",
        "CANARYFILENAME",
        "CANARYSDE",
    ];
    let consumer = json!({"first_name": "CanaryFirstName", "email": "CANARYEMAIL@example.com", "phone": "CANARYPHONE999", "private_token": "CANARYTOKEN",
        "channel_identities": [{"channel": "web", "cid": "CANARYCID"}], "attributes": {"x": "CANARYATTR"}});
    let put = http
        .put(format!("{base}/v1/accounts/acme/consumers/u1"))
        .bearer_auth(&operator)
        .json(&consumer)
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    let conv = json!({"id": "c1", "consumer_id": "u1", "channel_user_id": "CANARYCID", "start_time": "2026-03-01T10:00:00Z",
        "attributes": [{"kind": "personalInfo", "name": "note", "value": "CANARYSDE"}],
        "messages": [{"id": "m1", "time": "2026-03-01T10:00:01Z", "sent_by": "consumer", "text": "hello CANARYMESSAGE"}],
        "surveys": [{"survey_id": "s", "answers": [{"question_id": "q", "text": "CANARYSURVEY"}]}],
        "files": [{"id": "f1", "name": "CANARYFILENAME.txt", "content_type": "text/plain", "data_base64": "Q0FOQVJZRklMRUJZVEVT"}]});
    assert_eq!(
        post("/v1/accounts/acme/conversations", conv).await.unwrap().status(),
        201
    );
    let search = json!({"consumer": "u1"});
    let found = post(
        "/messaging_history/api/account/acme/conversations/consumer/search",
        search,
    )
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    for canary in ["CANARYMESSAGE", "CANARYSDE", "CANARYSURVEY", "CanaryFirstName"] {
        assert!(found.contains(canary), "{canary} is readable through the API");
    }
    let profile = http
        .get(format!("{base}/v1/accounts/acme/consumers/u1"))
        .bearer_auth(&operator)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(profile.contains("CANARYTOKEN"));

    let (status, log) = server.terminate();
    assert!(status.success(), "SIGTERM shuts down cleanly: {status}");
    assert!(log.contains("shutting down"));
    let key_file = dir.path().join("lethe.keys");
    assert!(key_file.exists());
    let moved = dir.path().join("elsewhere.keys");
    std::fs::rename(&key_file, &moved).unwrap();
    for canary in canaries {
        let hits = files_contain(dir.path(), canary.as_bytes());
        assert!(hits.is_empty(), "{canary} found in plaintext in {hits:?}");
        assert!(!log.contains(canary), "{canary} appeared in the log");
    }
    assert!(
        log.contains(r#"route="/v1/accounts/{site_id}/consumers/{consumer_id}""#),
        "the log names route templates"
    );
    assert!(!log.contains("/consumers/u1"), "the log never holds raw paths");
}

/// Searches read the SQLite file through memory maps; once the server has been quiet
/// for a few seconds it unmaps the file, so its resident size falls back.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_quiet_server_unmaps_its_database() {
    let dir = tempfile::tempdir().unwrap();
    let demo = [
        "demo",
        "--account",
        "acme",
        "--consumers",
        "5",
        "--conversations",
        "40",
        "--quiet",
    ];
    assert!(lethe(dir.path(), &demo).status.success());
    let key = create_key(dir.path(), "conversations:read", "t");
    let key = String::from_utf8(key.stdout).unwrap().trim().to_owned();
    // Into the database file: pages still in the WAL are read from there, not mapped.
    let db = dir.path().join("lethe.db");
    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::Connection::close(conn).await.unwrap();

    let mut server = Server::start(dir.path());
    let base = format!("http://{}", server.address());
    let search = Client::new()
        .post(format!(
            "{base}/messaging_history/api/account/acme/conversations/consumer/search"
        ))
        .bearer_auth(&key)
        .json(&json!({"consumer": "cons-0000001"}))
        .send()
        .await
        .unwrap();
    assert_eq!(search.status(), 200);
    assert!(server.maps(&db), "a search reads through a mapping of the database");
    // Quiet is two seconds without a request, checked every two seconds.
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while server.maps(&db) {
        assert!(
            std::time::Instant::now() < deadline,
            "the server still maps the database after 15 s without requests"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[test]
fn cli_contract() {
    let dir = tempfile::tempdir().unwrap();
    let out = lethe(dir.path(), &["accounts", "create", "acme"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = create_key(dir.path(), "conversations:read,conversations:write", "etl");
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        stdout.lines().count(),
        1,
        "keys create prints the key alone: {stdout:?}"
    );
    assert!(stdout.starts_with("lethe_"));

    let failures: [&[&str]; 4] = [
        &["accounts", "create", "bad-id!"],
        &["accounts", "create", "acme"],
        &["keys", "create", "--account", "acme", "--scopes", "root", "--name", "x"],
        &[
            "keys",
            "create",
            "--account",
            "nobody",
            "--scopes",
            "admin",
            "--name",
            "x",
        ],
    ];
    for args in failures {
        let out = lethe(dir.path(), args);
        assert!(!out.status.success(), "{args:?} should fail");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(
            stderr.trim_end().lines().count(),
            1,
            "{args:?}: one-line reason, got {stderr:?}"
        );
        assert!(stderr.starts_with("lethe: "));
    }

    let data = dir.path().join("d.ndjson");
    let out = lethe(
        dir.path(),
        &[
            "demo",
            "--account",
            "acme",
            "--consumers",
            "10",
            "--conversations",
            "40",
            "--out",
            data.to_str().unwrap(),
            "--quiet",
        ],
    );
    assert!(out.status.success());
    let out = lethe(
        dir.path(),
        &["import", "--account", "acme", data.to_str().unwrap(), "--quiet"],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("40 conversations created"));
    let out = lethe(
        dir.path(),
        &["search", "--account", "acme", "--consumer", "cons-0000001", "--json"],
    );
    let hits: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert!(!hits.is_empty());
    assert!(hits.iter().all(|h| h["consumer_id"] == "cons-0000001"));

    let other_keys = tempfile::tempdir().unwrap();
    let key_file = other_keys.path().join("wrong.keys");
    let out = Command::new(LETHE)
        .current_dir(dir.path())
        .args(["accounts", "list"])
        .env("LETHE_KEY_FILE", &key_file)
        .output()
        .unwrap();
    assert!(!out.status.success(), "other secrets than the database's are refused");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("do not match")
            || String::from_utf8_lossy(&out.stderr).contains("not the one")
    );
}
