//! The Intercom dialect: synchronous delete with retain_metrics, conversation read, its
//! error list, scopes and version header; the deleted data is gone from disk.

mod common;

use common::{conversation, Backend, TestApp};
use reqwest::Method;
use serde_json::{json, Value};

const ALL: [&str; 7] = [
    "conversations:read",
    "conversations:write",
    "conversations:delete",
    "delete_conversations_and_metrics",
    "deletion:read",
    "deletion:write",
    "admin",
];

async fn seed(app: &TestApp, site: &str) -> String {
    app.create_account(site).await;
    let key = app.key_named(site, "support", &ALL).await;
    for (id, closed) in [("ic-canary-1", true), ("ic-canary-2", true), ("ic-open", false)] {
        let mut extra = json!({
            "consumer_id": "u7",
            "messages": [
                {"id": format!("{id}-m1"), "time": "2026-03-01T10:00:05Z", "sent_by": "consumer", "text": format!("{id}-text")},
                {"id": format!("{id}-m2"), "time": "2026-03-01T10:01:00Z", "sent_by": "agent", "participant_id": "agent-9", "text": "hello"}
            ],
            "files": [{"id": format!("{id}-f"), "content_type": "text/plain", "data_base64": "aGVsbG8="}]
        });
        if closed {
            extra["end_time"] = json!("2026-03-01T10:10:00Z");
        }
        let (status, body) = app
            .json(
                Method::POST,
                &format!("/v1/accounts/{site}/conversations"),
                Some(&key),
                Some(conversation(id, "2026-03-01T10:00:00Z", extra)),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    key
}

async fn intercom(app: &TestApp, method: Method, path: &str, key: Option<&str>, version: Option<&str>) -> (u16, Value) {
    let mut request = app.client.request(method, app.url(path));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    if let Some(version) = version {
        request = request.header("Intercom-Version", version);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn error_code(body: &Value) -> &str {
    assert_eq!(body["type"], "error.list", "{body}");
    assert!(body["request_id"].is_string());
    body["errors"][0]["code"].as_str().unwrap_or_default()
}

async fn read_then_delete(app: TestApp) {
    let key = seed(&app, "acme").await;
    let (status, conv) = intercom(
        &app,
        Method::GET,
        "/conversations/ic-canary-1",
        Some(&key),
        Some("2.11"),
    )
    .await;
    assert_eq!(status, 200, "{conv}");
    assert_eq!(
        (conv["type"].as_str(), conv["state"].as_str(), conv["open"].as_bool()),
        (Some("conversation"), Some("closed"), Some(false))
    );
    assert_eq!(conv["created_at"], 1_772_359_200, "Unix seconds");
    assert_eq!(conv["source"]["body"], "ic-canary-1-text");
    assert_eq!(
        conv["contacts"],
        json!({"type": "contact.list", "contacts": [{"type": "contact", "id": "u7"}]})
    );
    let parts = &conv["conversation_parts"];
    assert_eq!(
        (parts["type"].as_str(), parts["total_count"].as_u64()),
        (Some("conversation_part.list"), Some(1))
    );
    assert_eq!(
        parts["conversation_parts"][0]["author"],
        json!({"type": "admin", "id": "agent-9"})
    );

    let (status, deleted) = intercom(&app, Method::DELETE, "/conversations/ic-canary-1", Some(&key), None).await;
    assert_eq!(status, 200, "{deleted}");
    assert_eq!(
        deleted,
        json!({"id": "ic-canary-1", "object": "conversation", "deleted": true})
    );
    let (status, gone) = intercom(&app, Method::GET, "/conversations/ic-canary-1", Some(&key), None).await;
    assert_eq!((status, error_code(&gone)), (404, "not_found"));
    let (status, again) = intercom(&app, Method::DELETE, "/conversations/ic-canary-1", Some(&key), None).await;
    assert_eq!(
        (status, error_code(&again)),
        (404, "not_found"),
        "a repeated delete meets the tombstone"
    );
    let (status, _) = intercom(
        &app,
        Method::DELETE,
        "/conversations/ic-open",
        Some(&key),
        Some("Preview"),
    )
    .await;
    assert_eq!(status, 200, "open conversations are erased too");

    // The same engine: a request from the intercom surface, completed, with its entries.
    let (_, list) = app
        .json(
            Method::GET,
            "/v1/accounts/acme/deletion-requests?source=intercom",
            Some(&key),
            None,
        )
        .await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(list[1]["status"], "completed", "{list}");
    assert_eq!(list[1]["target_hashed"], true);

    // The coalesced checkpointer truncates the WAL and records the moment.
    let covered = app.lethe.checkpoint_pending().await.unwrap();
    let (_, log) = app
        .json(Method::GET, "/v1/accounts/acme/change-log", Some(&key), None)
        .await;
    let truncations = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == "wal_truncated")
        .count();
    match app.backend {
        Backend::Sqlite => {
            assert_eq!((covered, truncations), (2, 2));
            let db = app.dir.path().join("lethe.db");
            for suffix in ["", "-wal"] {
                let bytes = std::fs::read(format!("{}{suffix}", db.display())).unwrap_or_default();
                assert!(
                    !bytes.windows(11).any(|w| w == b"ic-canary-1"),
                    "ic-canary-1 left in lethe.db{suffix}"
                );
            }
            assert!(
                std::fs::read(&db).unwrap().windows(11).any(|w| w == b"ic-canary-2"),
                "the scan sees ids"
            );
        }
        Backend::Postgres => {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(&app.config.database_url).await.unwrap();
            for table in ["conversations", "files", "metrics"] {
                let sql = format!("SELECT COUNT(*) FROM {table} WHERE conversation_id = 'ic-canary-1'");
                let n: i64 = sqlx::query_scalar(&sql).fetch_one(&mut conn).await.unwrap();
                assert_eq!(n, 0, "{table}");
            }
            let kept: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM metrics WHERE consumer_id IS NULL")
                .fetch_one(&mut conn)
                .await
                .unwrap();
            assert_eq!(kept, 1, "retain_metrics=true keeps the reporting row, detached");
        }
    }
}

/// method, path, key, Intercom-Version, expected status, expected error code
type Case<'a> = (Method, String, Option<String>, Option<&'a str>, u16, &'a str);

async fn scopes_params_and_versions(app: TestApp) {
    let key = seed(&app, "acme").await;
    let delete_only = app.key("acme", &["conversations:delete"]).await;
    let reader = app.key("acme", &["conversations:read"]).await;
    let path = "/conversations/ic-canary-2";
    let cases: Vec<Case> = vec![
        (Method::DELETE, path.into(), None, None, 401, "unauthorized"),
        (
            Method::DELETE,
            path.into(),
            Some("lethe_nope".into()),
            None,
            401,
            "unauthorized",
        ),
        (
            Method::DELETE,
            path.into(),
            Some(app.operator_key.clone()),
            None,
            403,
            "forbidden",
        ),
        (
            Method::DELETE,
            path.into(),
            Some(reader.clone()),
            None,
            403,
            "forbidden",
        ),
        (
            Method::DELETE,
            format!("{path}?retain_metrics=false"),
            Some(delete_only.clone()),
            None,
            403,
            "forbidden",
        ),
        (
            Method::DELETE,
            format!("{path}?retain_metrics=maybe"),
            Some(key.clone()),
            None,
            400,
            "parameter_invalid",
        ),
        (
            Method::DELETE,
            path.into(),
            Some(key.clone()),
            Some("banana"),
            400,
            "intercom_version_invalid",
        ),
        (
            Method::GET,
            path.into(),
            Some(delete_only.clone()),
            None,
            403,
            "forbidden",
        ),
        (
            Method::DELETE,
            "/conversations/nope".into(),
            Some(key.clone()),
            None,
            404,
            "not_found",
        ),
    ];
    for (method, path, key, version, status, code) in cases {
        let (got, body) = intercom(&app, method.clone(), &path, key.as_deref(), version).await;
        assert_eq!((got, error_code(&body)), (status, code), "{method} {path}: {body}");
    }
    let other = seed(&app, "other").await;
    let (status, _) = intercom(&app, Method::GET, path, Some(&other), None).await;
    assert_eq!(status, 200, "`other` has its own ic-canary-2");
    let (status, _) = intercom(
        &app,
        Method::DELETE,
        &format!("{path}?retain_metrics=false"),
        Some(&key),
        Some("2.14"),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = intercom(&app, Method::GET, path, Some(&other), None).await;
    assert_eq!(
        status, 200,
        "another account's conversation of the same id is untouched"
    );
    // Explicit deletes skip the quota: a zero quota still lets them through.
    app.json(
        Method::PATCH,
        "/v1/accounts/other/settings",
        Some(&app.operator_key),
        Some(json!({"monthly_quota": 0})),
    )
    .await;
    let (status, body) = intercom(&app, Method::DELETE, path, Some(&other), None).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = app
        .json(
            Method::POST,
            "/v1/accounts/other/deletion-requests",
            Some(&other),
            Some(json!({"conversation_ids": ["x"]})),
        )
        .await;
    assert_eq!(status, 429);
}

async fn concurrent_deletes_answer_once(app: TestApp) {
    let key = seed(&app, "acme").await;
    let calls = (0..5).map(|_| intercom(&app, Method::DELETE, "/conversations/ic-canary-2", Some(&key), None));
    let answers = futures::future::join_all(calls).await;
    let mut statuses: Vec<u16> = answers.iter().map(|(s, _)| *s).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, vec![200, 404, 404, 404, 404], "{answers:?}");
    // Concurrent writers took turns on the account's change-log head.
    let (_, report) = app
        .json(Method::GET, "/v1/accounts/acme/change-log/verify", Some(&key), None)
        .await;
    assert_eq!(report["valid"].as_bool(), Some(true), "{report}");
}

backend_tests!(
    read_then_delete,
    scopes_params_and_versions,
    concurrent_deletes_answer_once
);
