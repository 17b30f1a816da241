//! The erasure engine end to end: after a request completes, the target's data is gone
//! from every place lethe wrote it, and everything else is still there.

mod common;

use common::deletion::{create, get, settings, ACCOUNT_SCOPES};
use common::{conversation, Backend, TestApp};
use reqwest::Method;
use serde_json::json;

/// Writes a consumer and one closed conversation whose every personal field carries
/// `tag` (e.g. `TGT`), with a hosted file.
async fn person(app: &TestApp, key: &str, tag: &str) {
    let consumer = json!({"first_name": format!("{tag}-name-canary"), "email": format!("{tag}-mail-canary@example.org"),
        "channel_identities": [{"channel": "web", "cid": format!("{tag}-cid-canary")}]});
    let (status, body) = app
        .json(
            Method::PUT,
            &format!("/v1/accounts/acme/consumers/cons-{tag}-canary"),
            Some(key),
            Some(consumer),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let conv = conversation(
        &format!("conv-{tag}-canary"),
        "2026-03-01T10:00:00Z",
        json!({
            "consumer_id": format!("cons-{tag}-canary"), "end_time": "2026-03-01T10:30:00Z",
            "attributes": [{"kind": "personalInfo", "name": "email", "value": format!("{tag}-attr-canary")}],
            "messages": [{"id": "m1", "time": "2026-03-01T10:00:05Z", "sent_by": "consumer", "text": format!("{tag}-text-canary")}],
            "surveys": [{"survey_id": "s1", "answers": [{"question_id": "q1", "text": format!("{tag}-survey-canary")}]}],
            "files": [{"id": format!("f-{tag}"), "content_type": "text/plain", "data_base64": base64_of(&format!("{tag}-file-canary"))}]
        }),
    );
    let (status, body) = app
        .json(Method::POST, "/v1/accounts/acme/conversations", Some(key), Some(conv))
        .await;
    assert_eq!(status, 201, "{body}");
}

fn base64_of(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

const TARGET: [&str; 8] = [
    "cons-TGT-canary",
    "conv-TGT-canary",
    "TGT-name-canary",
    "TGT-mail-canary",
    "TGT-cid-canary",
    "TGT-attr-canary",
    "TGT-text-canary",
    "TGT-survey-canary",
];

async fn a_completed_request_leaves_nothing(app: TestApp) {
    app.create_account("acme").await;
    let key = app.key_named("acme", "dpo", &ACCOUNT_SCOPES).await;
    person(&app, &key, "TGT").await;
    person(&app, &key, "KEEP").await;
    settings(
        &app,
        "acme",
        &key,
        json!({"grace_period_seconds": 0, "retain_metrics": true}),
    )
    .await;
    let blobs = app.dir.path().join("blobs");
    let blob_files = common::walk(&blobs).len();

    let created = create(
        &app,
        "acme",
        &key,
        json!({"consumer_ids": ["cons-TGT-canary"], "include_conversations": true}),
    )
    .await;
    assert_eq!(created["status"], "scheduled");
    assert_eq!(app.run_jobs().await, 1);
    let (_, done) = get(&app, "acme", &key, &format!("/{}", created["id"])).await;
    assert_eq!(done["status"], "completed", "{done}");
    let outcomes: Vec<&str> = done["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, vec!["erased", "erased"]);
    let job = &done["job"];
    assert_eq!(
        (
            job["phase"].as_str(),
            job["items_done"].as_i64(),
            job["items_total"].as_i64()
        ),
        (Some("done"), Some(2), Some(2)),
        "{job}"
    );
    assert_eq!(
        job["erased"],
        json!({"conversations": 1, "messages": 1, "files": 1, "bytes_freed": 15, "survey_answers": 1, "consumers": 1, "metrics": 0})
    );

    // Through the API: the target is gone, the rest is intact.
    let read = |path: String| {
        let app = &app;
        let key = key.clone();
        async move { app.json(Method::GET, &path, Some(&key), None).await }
    };
    assert_eq!(
        read("/v1/accounts/acme/conversations/conv-TGT-canary".into()).await.0,
        404
    );
    assert_eq!(read("/v1/accounts/acme/consumers/cons-TGT-canary".into()).await.0, 404);
    let (status, kept) = read("/v1/accounts/acme/conversations/conv-KEEP-canary".into()).await;
    assert_eq!(status, 200);
    assert!(kept.to_string().contains("KEEP-text-canary"), "{kept}");
    let (status, file) = (
        app.call(
            Method::GET,
            "/v1/accounts/acme/conversations/conv-KEEP-canary/files/f-KEEP",
            Some(&key),
            None,
        )
        .await
        .status(),
        (),
    );
    assert_eq!((status.as_u16(), file), (200, ()));
    assert_eq!(
        common::walk(&blobs).len(),
        blob_files - 1,
        "the target's blob is deleted"
    );

    match app.backend {
        Backend::Sqlite => {
            // Raw bytes of the database, its WAL and shared memory: no target canary.
            let db = app.dir.path().join("lethe.db");
            let mut scanned = 0;
            for suffix in ["", "-wal", "-shm"] {
                let path = std::path::PathBuf::from(format!("{}{suffix}", db.display()));
                let Ok(bytes) = std::fs::read(&path) else { continue };
                scanned += bytes.len();
                for canary in TARGET {
                    assert!(!contains(&bytes, canary), "{canary} is still in {}", path.display());
                }
            }
            let main = std::fs::read(&db).unwrap();
            assert!(
                contains(&main, "conv-KEEP-canary"),
                "the scan sees plaintext ids ({scanned} bytes)"
            );
            let wal = std::fs::metadata(format!("{}-wal", db.display()))
                .map(|m| m.len())
                .unwrap_or(0);
            assert!(wal < 64 * 1024, "the WAL was truncated before completion ({wal} bytes)");
        }
        Backend::Postgres => {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(&app.config.database_url).await.unwrap();
            for (table, column, id) in [
                ("conversations", "conversation_id", "conv-TGT-canary"),
                ("files", "conversation_id", "conv-TGT-canary"),
                ("survey_answers", "conversation_id", "conv-TGT-canary"),
                ("conversation_attributes", "conversation_id", "conv-TGT-canary"),
                ("metrics", "conversation_id", "conv-TGT-canary"),
                ("consumers", "consumer_id", "cons-TGT-canary"),
                ("consumer_lookups", "consumer_id", "cons-TGT-canary"),
                ("data_keys", "owner_id", "cons-TGT-canary"),
                ("request_items", "item_id", "conv-TGT-canary"),
            ] {
                let sql = format!("SELECT COUNT(*) FROM {table} WHERE {column} = $1");
                let n: i64 = sqlx::query_scalar(&sql).bind(id).fetch_one(&mut conn).await.unwrap();
                assert_eq!(n, 0, "{table} still holds {id}");
            }
            let kept: i64 = sqlx::query_scalar(
                "SELECT message_count FROM conversations WHERE conversation_id = 'conv-KEEP-canary'",
            )
            .fetch_one(&mut conn)
            .await
            .unwrap();
            assert_eq!(kept, 1);
        }
    }
    // Retained metrics: the row stays, detached from the person.
    let (_, log) = app
        .json(Method::GET, "/v1/accounts/acme/change-log", Some(&key), None)
        .await;
    assert!(!log.to_string().contains("TGT"), "{log}");
    // The person may come back with new data, but not with data from before the erasure.
    let late = conversation(
        "conv-late",
        "2026-03-02T10:00:00Z",
        json!({"consumer_id": "cons-TGT-canary"}),
    );
    let (status, body) = app
        .json(Method::POST, "/v1/accounts/acme/conversations", Some(&key), Some(late))
        .await;
    assert_eq!((status, body["code"].as_str()), (410, Some("gone")), "{body}");
    let back = conversation(
        "conv-new",
        "2030-01-01T10:00:00Z",
        json!({"consumer_id": "cons-TGT-canary"}),
    );
    let (status, body) = app
        .json(Method::POST, "/v1/accounts/acme/conversations", Some(&key), Some(back))
        .await;
    assert_eq!(status, 201, "{body}");
}

async fn jobs_wait_for_the_execution_window(app: TestApp) {
    app.create_account("acme").await;
    let key = app.key_named("acme", "dpo", &ACCOUNT_SCOPES).await;
    person(&app, &key, "TGT").await;
    // A one-hour window that starts an hour from now (UTC).
    let now = chrono::DateTime::from_timestamp_millis(app.now_ms()).unwrap();
    let start = now + chrono::Duration::hours(1);
    let end = now + chrono::Duration::hours(2);
    let window = format!("{}-{} UTC", start.format("%H:%M"), end.format("%H:%M"));
    let (status, body) = settings(
        &app,
        "acme",
        &key,
        json!({"grace_period_seconds": 0, "execution_window": window}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let created = create(&app, "acme", &key, json!({"conversation_ids": ["conv-TGT-canary"]})).await;
    app.run_jobs().await;
    let (_, waiting) = get(&app, "acme", &key, &format!("/{}", created["id"])).await;
    assert_eq!(
        waiting["status"], "scheduled",
        "outside the window nothing runs: {waiting}"
    );
    assert_eq!(
        app.json(
            Method::GET,
            "/v1/accounts/acme/conversations/conv-TGT-canary",
            Some(&key),
            None
        )
        .await
        .0,
        200
    );
    app.clock.advance(61 * 60 * 1000);
    app.run_jobs().await;
    let (_, done) = get(&app, "acme", &key, &format!("/{}", created["id"])).await;
    assert_eq!(done["status"], "completed", "{done}");
}

async fn a_runner_whose_lease_was_taken_commits_nothing(app: TestApp) {
    use lethe_store::{BatchPlan, BatchResult, ItemErasure, Lease};
    app.create_account("acme").await;
    let key = app.key_named("acme", "dpo", &ACCOUNT_SCOPES).await;
    person(&app, &key, "TGT").await;
    settings(&app, "acme", &key, json!({"grace_period_seconds": 0})).await;
    let created = create(&app, "acme", &key, json!({"conversation_ids": ["conv-TGT-canary"]})).await;
    let store = &app.lethe.store;
    let lease = |owner: &str, now: i64| Lease {
        owner: owner.into(),
        now,
        until: now + 1_000,
    };
    let now = app.now_ms();
    let first = store
        .claim_job(&lease("a", now))
        .await
        .unwrap()
        .expect("a claims the job");
    assert!(
        store.claim_job(&lease("b", now)).await.unwrap().is_none(),
        "a holds the lease"
    );
    app.clock.advance(2_000);
    let later = app.now_ms();
    let second = store
        .claim_job(&lease("b", later))
        .await
        .unwrap()
        .expect("b takes over the expired lease");
    assert_eq!(second.generation, first.generation + 1);
    let stale = BatchPlan {
        job: first.id,
        generation: first.generation,
        retain_metrics: true,
        include_open: false,
        now: later,
        lease_until: later + 1_000,
        items: vec![ItemErasure {
            position: 0,
            kind: "conversation",
            id: "conv-TGT-canary".into(),
            tombstone_hash: vec![7; 32],
            metrics_id: "x".into(),
            mask: None,
        }],
        blobs_deleted: Vec::new(),
    };
    let id = created["id"].as_i64().unwrap();
    assert_eq!(
        store.erase_batch("acme", id, &stale).await.unwrap(),
        BatchResult::Fenced
    );
    let path = "/v1/accounts/acme/conversations/conv-TGT-canary";
    assert_eq!(
        app.json(Method::GET, path, Some(&key), None).await.0,
        200,
        "the fenced batch committed nothing"
    );

    app.clock.advance(2_000);
    app.run_jobs().await;
    let (_, done) = get(&app, "acme", &key, &format!("/{id}")).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["job"]["attempts"], 0, "an expired lease is not a failed attempt");
    assert_eq!(app.json(Method::GET, path, Some(&key), None).await.0, 404);
}

async fn a_failed_job_runs_again_when_an_operator_says_so(app: TestApp) {
    app.create_account("acme").await;
    let key = app.key_named("acme", "dpo", &ACCOUNT_SCOPES).await;
    person(&app, &key, "TGT").await;
    settings(&app, "acme", &key, json!({"grace_period_seconds": 0})).await;
    // The blob store fails to delete the target's file: a directory stands where the
    // file was (the local store cannot unlink it, even as root).
    let blobs = common::walk(&app.dir.path().join("blobs"));
    assert_eq!(blobs.len(), 1);
    std::fs::remove_file(&blobs[0]).unwrap();
    std::fs::create_dir_all(blobs[0].join("in-the-way")).unwrap();

    let created = create(&app, "acme", &key, json!({"conversation_ids": ["conv-TGT-canary"]})).await;
    let id = created["id"].as_i64().unwrap();
    let mut attempts_seen = Vec::new();
    for _ in 0..10 {
        app.run_jobs().await;
        let (_, now) = get(&app, "acme", &key, &format!("/{id}")).await;
        attempts_seen.push(now["job"]["attempts"].as_i64().unwrap());
        // Past any backoff (base 1 s, doubled per attempt, at most +50 % jitter).
        app.clock.advance(60_000);
    }
    let (_, failed) = get(&app, "acme", &key, &format!("/{id}")).await;
    assert_eq!(failed["status"], "failed", "{failed}");
    assert_eq!(
        attempts_seen[..5],
        [1, 2, 3, 4, 5],
        "one attempt per retry: {attempts_seen:?}"
    );
    assert!(
        failed["job"]["last_error"].as_str().unwrap().contains("blob store"),
        "{failed}"
    );
    let (_, lp) = app
        .json(
            Method::GET,
            &format!("/api/account/acme/personal-data-deletion/{id}"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(
        lp["status"], "IN_PROGRESS",
        "failed maps to IN_PROGRESS: an operator can retry"
    );

    std::fs::remove_dir_all(&blobs[0]).unwrap();
    let run_now = format!("/v1/accounts/acme/deletion-requests/{id}/run-now");
    assert_eq!(app.json(Method::POST, &run_now, Some(&key), None).await.0, 403);
    let (status, again) = app.json(Method::POST, &run_now, Some(&app.operator_key), None).await;
    assert_eq!((status, again["status"].as_str()), (200, Some("scheduled")), "{again}");
    app.run_jobs().await;
    let (_, done) = get(&app, "acme", &key, &format!("/{id}")).await;
    assert_eq!(done["status"], "completed", "{done}");
    let path = "/v1/accounts/acme/conversations/conv-TGT-canary";
    assert_eq!(app.json(Method::GET, path, Some(&key), None).await.0, 404);
    let (status, _) = app.json(Method::POST, &run_now, Some(&app.operator_key), None).await;
    assert_eq!(status, 409, "a completed request has no job to run");
}

/// `mask` mode keeps the conversation's structure with the marker as every text; the
/// old data key, the files, the attributes and the link to the person are gone.
async fn mask_mode_keeps_the_structure_and_nothing_personal(app: TestApp) {
    app.create_account("acme").await;
    let key = app.key_named("acme", "dpo", &ACCOUNT_SCOPES).await;
    person(&app, &key, "TGT").await;
    person(&app, &key, "KEEP").await;
    settings(
        &app,
        "acme",
        &key,
        json!({"grace_period_seconds": 0, "erasure_mode": "mask", "mask_marker": "[gone]"}),
    )
    .await;
    let created = create(
        &app,
        "acme",
        &key,
        json!({"consumer_ids": ["cons-TGT-canary"], "include_conversations": true}),
    )
    .await;
    // A later change of the setting does not change a job already created.
    settings(
        &app,
        "acme",
        &key,
        json!({"erasure_mode": "delete", "mask_marker": "[other]"}),
    )
    .await;
    assert_eq!(app.run_jobs().await, 1);
    let (_, done) = get(&app, "acme", &key, &format!("/{}", created["id"])).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["job"]["erasure_mode"], "mask", "{done}");
    assert_eq!(done["job"]["erased"]["conversations"], 1, "{done}");

    let path = "/v1/accounts/acme/conversations/conv-TGT-canary";
    let (status, masked) = app.json(Method::GET, path, Some(&key), None).await;
    assert_eq!(status, 200, "{masked}");
    let text = masked.to_string();
    assert!(text.contains("[gone]"), "{masked}");
    for canary in TARGET.iter().filter(|c| **c != "conv-TGT-canary") {
        assert!(!text.contains(canary), "{canary} in {masked}");
    }
    let (status, _) = app
        .json(Method::GET, &format!("{path}/files/f-TGT"), Some(&key), None)
        .await;
    assert_eq!(status, 404, "files go in mask mode too");
    let (status, _) = app
        .json(
            Method::GET,
            "/v1/accounts/acme/consumers/cons-TGT-canary",
            Some(&key),
            None,
        )
        .await;
    assert_eq!(status, 404, "the consumer profile goes");
    let (_, kept) = app
        .json(
            Method::GET,
            "/v1/accounts/acme/conversations/conv-KEEP-canary",
            Some(&key),
            None,
        )
        .await;
    assert!(kept.to_string().contains("KEEP-text-canary"), "{kept}");
    let blobs = common::walk(&app.dir.path().join("blobs"));
    assert_eq!(blobs.len(), 1, "only the kept conversation's file is left");
    let write = json!({"id": "m9", "time": "2026-03-01T10:40:00Z", "sent_by": "agent", "text": "more"});
    let (status, body) = app
        .json(Method::POST, &format!("{path}/messages"), Some(&key), Some(write))
        .await;
    assert_eq!(status, 410, "an erased conversation takes no writes: {body}");

    if app.backend == Backend::Sqlite {
        let db = app.dir.path().join("lethe.db");
        for suffix in ["", "-wal"] {
            let Ok(bytes) = std::fs::read(format!("{}{suffix}", db.display())) else {
                continue;
            };
            for canary in TARGET.iter().filter(|c| **c != "conv-TGT-canary") {
                assert!(!contains(&bytes, canary), "{canary} is still in lethe.db{suffix}");
            }
        }
    }
}

async fn two_runners_erase_each_item_once(app: TestApp) {
    app.create_account("acme").await;
    let key = app.key_named("acme", "dpo", &ACCOUNT_SCOPES).await;
    settings(&app, "acme", &key, json!({"grace_period_seconds": 0})).await;
    let mut requests = Vec::new();
    for r in 0..4 {
        let ids: Vec<String> = (0..5).map(|i| format!("c{r}-{i}")).collect();
        for id in &ids {
            let body = conversation(id, "2026-03-01T10:00:00Z", json!({"end_time": "2026-03-01T10:05:00Z"}));
            app.json(Method::POST, "/v1/accounts/acme/conversations", Some(&key), Some(body))
                .await;
        }
        requests.push(
            create(&app, "acme", &key, json!({"conversation_ids": ids})).await["id"]
                .as_i64()
                .unwrap(),
        );
    }
    let (a, b) = tokio::join!(app.lethe.run_due_jobs("runner-a"), app.lethe.run_due_jobs("runner-b"));
    a.unwrap();
    b.unwrap();
    app.run_jobs().await;
    for id in &requests {
        let (_, done) = get(&app, "acme", &key, &format!("/{id}")).await;
        assert_eq!(done["status"], "completed", "{done}");
        assert_eq!(
            done["job"]["erased"]["conversations"], 5,
            "each item erased exactly once: {done}"
        );
        assert!(
            done["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|i| i["outcome"] == "erased"),
            "{done}"
        );
    }
    let (_, log) = app
        .json(Method::GET, "/v1/accounts/acme/change-log", Some(&key), None)
        .await;
    let completions = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == "completed")
        .count();
    assert_eq!(completions, requests.len());
    let (_, report) = app
        .json(Method::GET, "/v1/accounts/acme/change-log/verify", Some(&key), None)
        .await;
    assert_eq!(report["valid"], true);
}

async fn a_scheduled_job_wakes_the_runners(app: TestApp) {
    app.create_account("acme").await;
    let key = app.key_named("acme", "dpo", &ACCOUNT_SCOPES).await;
    settings(&app, "acme", &key, json!({"grace_period_seconds": 0})).await;
    // Another node's runner hears about the job through the database.
    let other_node = std::sync::Arc::new(tokio::sync::Notify::new());
    app.lethe.store.listen_for_jobs(other_node.clone()).await.unwrap();
    create(&app, "acme", &key, json!({"conversation_ids": ["c1"]})).await;
    let wait = std::time::Duration::from_secs(5);
    tokio::time::timeout(wait, app.lethe.jobs_due.notified())
        .await
        .expect("this node's runner is woken in-process");
    if app.backend == Backend::Postgres {
        tokio::time::timeout(wait, other_node.notified())
            .await
            .expect("LISTEN lethe_jobs wakes other nodes");
    }
}

/// A blob the store cannot delete holds back only the request that queued it: another
/// request in the same account still completes, and its own file is gone.
async fn a_stuck_blob_holds_back_only_its_own_request(app: TestApp) {
    app.create_account("acme").await;
    let key = app.key_named("acme", "dpo", &ACCOUNT_SCOPES).await;
    settings(&app, "acme", &key, json!({"grace_period_seconds": 0})).await;
    person(&app, &key, "STUCK").await;
    let stuck = common::walk(&app.dir.path().join("blobs"));
    assert_eq!(stuck.len(), 1);
    std::fs::remove_file(&stuck[0]).unwrap();
    std::fs::create_dir_all(stuck[0].join("in-the-way")).unwrap();
    let held = create(&app, "acme", &key, json!({"conversation_ids": ["conv-STUCK-canary"]})).await;
    app.run_jobs().await;
    let (_, held) = get(&app, "acme", &key, &format!("/{}", held["id"])).await;
    assert!(
        held["job"]["last_error"].as_str().unwrap().contains("blob store"),
        "{held}"
    );

    person(&app, &key, "TGT").await;
    let created = create(&app, "acme", &key, json!({"conversation_ids": ["conv-TGT-canary"]})).await;
    app.run_jobs().await;
    let (_, done) = get(&app, "acme", &key, &format!("/{}", created["id"])).await;
    assert_eq!(done["status"], "completed", "{done}");
    let left = common::walk(&app.dir.path().join("blobs"));
    assert!(
        left.iter().all(|path| path.starts_with(&stuck[0])),
        "the target's file is gone: {left:?}"
    );
    let path = "/v1/accounts/acme/conversations/conv-TGT-canary";
    assert_eq!(app.json(Method::GET, path, Some(&key), None).await.0, 404);
}

backend_tests!(
    a_stuck_blob_holds_back_only_its_own_request,
    a_scheduled_job_wakes_the_runners,
    two_runners_erase_each_item_once,
    a_failed_job_runs_again_when_an_operator_says_so,
    mask_mode_keeps_the_structure_and_nothing_personal,
    a_completed_request_leaves_nothing,
    jobs_wait_for_the_execution_window,
    a_runner_whose_lease_was_taken_commits_nothing,
);
