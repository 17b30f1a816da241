//! Crash safety: `lethe serve` is killed with SIGKILL at random moments while a large
//! job runs, and restarted each time; the job completes, nothing of the target remains,
//! and every other conversation reads back exactly as before.

mod common;

use rand::{Rng, SeedableRng};
use reqwest::blocking::Client;
use serde_json::{json, Value};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const LETHE: &str = env!("CARGO_BIN_EXE_lethe");
const TARGETS: usize = 300;
const KEPT: usize = 40;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn cli(dir: &Path, db: &str, args: &[&str]) -> String {
    let out = Command::new(LETHE)
        .current_dir(dir)
        .arg("--database")
        .arg(db)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

struct Node {
    child: Child,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(dir: &Path, db: &str, port: u16, client: &Client) -> Node {
    let child = Command::new(LETHE)
        .current_dir(dir)
        .args(["--database", db, "serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("LETHE_JOB_BATCH_SIZE", "3")
        .env("LETHE_JOB_LEASE_SECONDS", "1")
        .env("LETHE_RUNNER_POLL_MS", "20")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !client
        .get(format!("http://127.0.0.1:{port}/readyz"))
        .send()
        .is_ok_and(|r| r.status().is_success())
    {
        assert!(Instant::now() < deadline, "lethe serve did not become ready");
        std::thread::sleep(Duration::from_millis(20));
    }
    Node { child }
}

fn ndjson() -> String {
    let mut lines = Vec::new();
    lines.push(json!({"consumer": {"id": "cons-TGT-canary", "first_name": "TGT-name-canary"}}).to_string());
    for (prefix, count, consumer) in [("tgt", TARGETS, Some("cons-TGT-canary")), ("keep", KEPT, None)] {
        for i in 0..count {
            let mut conv = json!({
                "id": format!("{prefix}-{i:04}"), "start_time": "2026-03-01T10:00:00Z", "end_time": "2026-03-01T10:05:00Z",
                "messages": [{"id": "m1", "time": "2026-03-01T10:00:01Z", "sent_by": "consumer",
                              "text": format!("{}-text-{i}", prefix.to_uppercase())}],
                "files": [{"id": format!("f-{prefix}-{i}"), "content_type": "text/plain", "data_base64": "aGVsbG8="}]
            });
            if let Some(c) = consumer {
                conv["consumer_id"] = json!(c);
            }
            lines.push(json!({ "conversation": conv }).to_string());
        }
    }
    lines.join("\n") + "\n"
}

fn kept_snapshot(client: &Client, base: &str, key: &str) -> Vec<Value> {
    (0..KEPT)
        .map(|i| {
            let r = client
                .get(format!("{base}/v1/accounts/acme/conversations/keep-{i:04}"))
                .bearer_auth(key)
                .send()
                .unwrap();
            assert!(r.status().is_success(), "keep-{i:04}: {}", r.status());
            r.json().unwrap()
        })
        .collect()
}

fn story(dir: &Path, db: &str) {
    cli(dir, db, &["accounts", "create", "acme"]);
    let key = cli(
        dir,
        db,
        &[
            "keys",
            "create",
            "--account",
            "acme",
            "--name",
            "t",
            "--scopes",
            "conversations:read,conversations:write,deletion:read,deletion:write,admin",
        ],
    );
    let client = Client::builder().timeout(Duration::from_secs(20)).build().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut node = start(dir, db, port, &client);
    let imported = client
        .post(format!("{base}/v1/accounts/acme/import"))
        .bearer_auth(&key)
        .header("content-type", "application/x-ndjson")
        .body(ndjson())
        .send()
        .unwrap();
    assert!(imported.status().is_success(), "{}", imported.text().unwrap());
    let before = kept_snapshot(&client, &base, &key);
    let settings = client
        .patch(format!("{base}/v1/accounts/acme/settings"))
        .bearer_auth(&key)
        .json(&json!({"grace_period_seconds": 0}))
        .send()
        .unwrap();
    assert!(settings.status().is_success());
    let created: Value = client
        .post(format!("{base}/v1/accounts/acme/deletion-requests"))
        .bearer_auth(&key)
        .json(&json!({"consumer_ids": ["cons-TGT-canary"], "include_conversations": true}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let request = format!("{base}/v1/accounts/acme/deletion-requests/{}", created["id"]);

    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let mut kills = 0;
    let deadline = Instant::now() + Duration::from_secs(240);
    let status = loop {
        let shown: Value = client.get(&request).bearer_auth(&key).send().unwrap().json().unwrap();
        let status = shown["status"].as_str().unwrap_or_default().to_owned();
        if status == "completed" || status == "partially_completed" || status == "failed" {
            break shown;
        }
        assert!(Instant::now() < deadline, "the job did not finish: {shown}");
        std::thread::sleep(Duration::from_millis(rng.gen_range(10..150)));
        if kills < 20 {
            drop(node); // SIGKILL, then wait for the exit
            kills += 1;
            node = start(dir, db, port, &client);
        }
    };
    assert_eq!(kills, 20, "the job ended before 20 kills; make it larger: {status}");
    assert_eq!(status["status"], "completed", "{status}");
    assert_eq!(status["job"]["items_done"], json!(TARGETS + 1));
    for i in [0, TARGETS / 2, TARGETS - 1] {
        let r = client
            .get(format!("{base}/v1/accounts/acme/conversations/tgt-{i:04}"))
            .bearer_auth(&key)
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 404);
    }
    assert_eq!(
        kept_snapshot(&client, &base, &key),
        before,
        "non-target data is unchanged"
    );
    drop(node);
    let blob_files = common::walk(&dir.join("lethe-blobs")).len();
    if db.starts_with("sqlite") {
        assert_eq!(blob_files, KEPT, "only the kept conversations' blobs remain");
        for suffix in ["lethe.db", "lethe.db-wal"] {
            let bytes = std::fs::read(dir.join(suffix)).unwrap_or_default();
            for canary in ["cons-TGT-canary", "tgt-0000", "tgt-0150", "tgt-0299"] {
                assert!(
                    !bytes.windows(canary.len()).any(|w| w == canary.as_bytes()),
                    "{canary} in {suffix}"
                );
            }
        }
    }
}

#[test]
fn sigkill_during_a_job_loses_nothing_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("lethe.db").display());
    story(dir.path(), &db);
}

#[tokio::test(flavor = "multi_thread")]
async fn sigkill_during_a_job_loses_nothing_on_postgres() {
    let Some(pg) = common::pg::TempDatabase::create().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let url = pg.url.clone();
    let path = dir.path().to_owned();
    tokio::task::spawn_blocking(move || story(&path, &url)).await.unwrap();
}
