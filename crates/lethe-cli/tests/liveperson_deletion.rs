//! The LivePerson deletion dialect field by field against the vendor's examples, tenant
//! isolation on every request route, and the change log's hash chain.

mod common;

use common::deletion::{create, get, post, seed, DAY};
use common::TestApp;
use reqwest::Method;
use serde_json::{json, Value};

const LP: &str = "/api/account/acme/personal-data-deletion";

fn keys(value: &Value) -> Vec<&str> {
    value
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect()
}

fn is_iso_millis(value: &Value) -> bool {
    let text = value.as_str().unwrap_or_default();
    text.len() == 24
        && text.ends_with('Z')
        && text.as_bytes()[19] == b'.'
        && lethe_domain::time::parse_rfc3339(text).is_some()
}

async fn records_match_the_vendor_examples(app: TestApp) {
    let key = seed(&app, "acme").await;
    // Example 1 of the vendor's create page.
    let (status, created) = app
        .json(Method::POST, LP, Some(&key), Some(json!({"engagement": ["acme123"]})))
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(
        keys(&created),
        vec![
            "request_id",
            "siteid",
            "request_time",
            "requested_by",
            "cancelled_by",
            "delete_json",
            "cancel_timestamp",
            "is_canceled"
        ]
    );
    assert!(created["request_id"].is_i64());
    assert_eq!(created["siteid"], "acme");
    assert!(is_iso_millis(&created["request_time"]), "{created}");
    assert_eq!(created["requested_by"], "Mike");
    assert_eq!(created["cancelled_by"], Value::Null);
    assert_eq!(created["delete_json"], r#"{"engagement":["acme123"]}"#);
    assert_eq!(created["cancel_timestamp"], Value::Null);
    assert_eq!(created["is_canceled"], false);
    let id = created["request_id"].as_i64().unwrap();

    // Example 3: two conversation ids; and a consumer (example 2) created on /v1.
    let (status, second) = app
        .json(
            Method::POST,
            LP,
            Some(&key),
            Some(json!({"conversation": ["c1", "c2"]})),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(second["delete_json"], r#"{"conversation":["c1","c2"]}"#);
    let native = create(&app, "acme", &key, json!({"consumer_ids": ["u1"]})).await;

    let (status, list) = app.json(Method::GET, LP, Some(&key), None).await;
    assert_eq!(status, 200);
    let list = list.as_array().unwrap().clone();
    assert_eq!(list.len(), 3, "every surface's requests are listed");
    assert_eq!(
        keys(&list[0]),
        vec!["request_id", "siteid", "request_time", "requested_by", "status"]
    );
    assert_eq!(list[0]["request_id"], native["id"]);
    assert!(list.iter().all(|r| r["status"] == "NOT_STARTED"));

    let (status, one) = app
        .json(Method::GET, &format!("{LP}/{}", native["id"]), Some(&key), None)
        .await;
    assert_eq!(
        (status, one["delete_json"].as_str()),
        (200, Some(r#"{"consumer":["u1"]}"#)),
        "{one}"
    );
    assert_eq!(one["status"], "NOT_STARTED");

    let (status, canceled) = app
        .json(Method::POST, &format!("{LP}/{id}/cancel"), Some(&key), None)
        .await;
    assert_eq!(status, 200, "{canceled}");
    let canceled = canceled.as_array().expect("a one-element array").clone();
    assert_eq!(canceled.len(), 1);
    assert_eq!(canceled[0]["is_canceled"], true);
    assert_eq!(canceled[0]["cancelled_by"], "Mike");
    assert!(is_iso_millis(&canceled[0]["cancel_timestamp"]));
    let delete_json = canceled[0]["delete_json"].as_str().unwrap();
    assert!(
        !delete_json.contains("acme123") && delete_json.contains("hmac-sha256:"),
        "{delete_json}"
    );

    let (_, only_canceled) = app
        .json(Method::GET, &format!("{LP}?status=CANCELED"), Some(&key), None)
        .await;
    assert_eq!(only_canceled.as_array().unwrap().len(), 1);
    assert_eq!(only_canceled[0]["request_id"], id);
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let (_, by_day) = app
        .json(
            Method::GET,
            &format!("{LP}?fromDate={today}&toDate={today}"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(by_day.as_array().unwrap().len(), 3);
    let (_, before) = app
        .json(Method::GET, &format!("{LP}?toDate=1000"), Some(&key), None)
        .await;
    assert_eq!(before, json!([]));
    for bad in ["?status=DELETED", "?fromDate=yesterday", "?page=2"] {
        assert_eq!(
            app.json(Method::GET, &format!("{LP}{bad}"), Some(&key), None).await.0,
            400,
            "{bad}"
        );
    }

    app.clock.advance(5 * DAY + 1);
    let (status, late) = app
        .json(
            Method::POST,
            &format!("{LP}/{}/cancel", second["request_id"]),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(
        (status, late["current_status"].as_str()),
        (409, Some("scheduled")),
        "{late}"
    );
    let (_, one) = app
        .json(Method::GET, &format!("{LP}/{}", second["request_id"]), Some(&key), None)
        .await;
    assert_eq!(one["status"], "NOT_STARTED");

    let rejected = create(&app, "acme", &key, json!({"engagement_ids": ["acme123"]})).await;
    let path = format!("/{}/reject", rejected["id"]);
    assert_eq!(
        post(
            &app,
            "acme",
            &app.operator_key,
            &path,
            Some(json!({"reason": "test data"}))
        )
        .await
        .0,
        200
    );
    let (_, shown) = app
        .json(Method::GET, &format!("{LP}/{}", rejected["id"]), Some(&key), None)
        .await;
    assert_eq!(
        (shown["status"].as_str(), shown["is_canceled"].as_bool()),
        (Some("CANCELED"), Some(true))
    );
    assert_eq!(shown["cancelled_by"], "bootstrap operator", "the operator key's name");
}

async fn create_rejects_bad_bodies(app: TestApp) {
    let key = seed(&app, "acme").await;
    let ids: Vec<String> = (0..101).map(|i| format!("c{i}")).collect();
    let cases = [
        (json!({}), "target"),
        (json!({"engagement": ["1"], "consumer": ["2"]}), "consumer"),
        (json!({"conversations": ["c1"]}), "conversations"),
        (json!({"conversation": []}), "conversation"),
        (json!({"conversation": [1]}), "conversation[0]"),
        (json!({"consumer": "u1"}), "consumer"),
        (json!({"consumer": ids}), "consumer"),
    ];
    for (body, field) in cases {
        let (status, answer) = app.json(Method::POST, LP, Some(&key), Some(body.clone())).await;
        assert_eq!(
            (status, answer["field"].as_str()),
            (400, Some(field)),
            "{body} → {answer}"
        );
        assert!(answer["request_id"].is_string(), "the /v1 error body: {answer}");
    }
    let reader = app.key("acme", &["deletion:read"]).await;
    let (status, _) = app
        .json(Method::POST, LP, Some(&reader), Some(json!({"consumer": ["u1"]})))
        .await;
    assert_eq!(status, 403);
    assert_eq!(
        app.json(Method::POST, LP, None, Some(json!({"consumer": ["u1"]})))
            .await
            .0,
        401
    );
    assert_eq!(
        app.json(
            Method::GET,
            "/api/account/bad-site!/personal-data-deletion",
            Some(&key),
            None
        )
        .await
        .0,
        400
    );
}

async fn other_accounts_requests_are_not_found(app: TestApp) {
    let key = seed(&app, "acme").await;
    let other = seed(&app, "other").await;
    let id = create(&app, "acme", &key, json!({"conversation_ids": ["c1"]})).await["id"]
        .as_i64()
        .unwrap();
    let reject = json!({"reason": "x"});
    let v1 = [
        (Method::GET, format!("/v1/accounts/other/deletion-requests/{id}"), None),
        (
            Method::GET,
            format!("/v1/accounts/other/deletion-requests/{id}/preview"),
            None,
        ),
        (
            Method::POST,
            format!("/v1/accounts/other/deletion-requests/{id}/cancel"),
            None,
        ),
        (
            Method::GET,
            format!("/api/account/other/personal-data-deletion/{id}"),
            None,
        ),
        (
            Method::POST,
            format!("/api/account/other/personal-data-deletion/{id}/cancel"),
            None,
        ),
    ];
    for (method, path, body) in v1 {
        let (status, answer) = app.json(method, &path, Some(&other), body).await;
        assert_eq!(status, 404, "{path} → {answer}");
    }
    for suffix in ["approve", "reject"] {
        let path = format!("/v1/accounts/other/deletion-requests/{id}/{suffix}");
        let (status, _) = app
            .json(Method::POST, &path, Some(&app.operator_key), Some(reject.clone()))
            .await;
        assert_eq!(status, 404, "{path}");
    }
    let (_, list) = app
        .json(
            Method::GET,
            "/api/account/other/personal-data-deletion",
            Some(&other),
            None,
        )
        .await;
    assert_eq!(list, json!([]));
    let (status, _) = get(&app, "acme", &other, &format!("/{id}")).await;
    assert_eq!(status, 403, "a key bound to another account");
    let (status, still) = get(&app, "acme", &key, &format!("/{id}")).await;
    assert_eq!((status, still["status"].as_str()), (200, Some("pending")));
}

async fn change_log_chain_verifies_and_shows_edits(app: TestApp) {
    let key = seed(&app, "acme").await;
    let first = create(&app, "acme", &key, json!({"channel_user": {"cid": "cid-1"}})).await;
    post(&app, "acme", &key, &format!("/{}/cancel", first["id"]), None).await;
    let second = create(&app, "acme", &key, json!({"consumer_ids": ["u1"]})).await;
    app.json(
        Method::PATCH,
        "/v1/accounts/acme/settings",
        Some(&key),
        Some(json!({"notification_email": "dpo@acme.example"})),
    )
    .await;
    app.clock.advance(5 * DAY + 1);
    get(&app, "acme", &key, &format!("/{}", second["id"])).await;

    let (status, log) = app
        .json(Method::GET, "/v1/accounts/acme/change-log", Some(&key), None)
        .await;
    assert_eq!(status, 200);
    let events: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        vec![
            "created",
            "canceled",
            "created",
            "settings_changed",
            "finalized",
            "scheduled"
        ]
    );
    assert_eq!(log[1]["prev_hash"], log[0]["hash"]);
    let text = log.to_string();
    for personal in ["cid-1", "u1", "dpo@acme.example", "Mike"] {
        assert!(!text.contains(personal), "the change log holds `{personal}`: {text}");
    }
    let (_, report) = app
        .json(Method::GET, "/v1/accounts/acme/change-log/verify", Some(&key), None)
        .await;
    assert_eq!(
        (report["valid"].as_bool(), report["entries"].as_u64()),
        (Some(true), Some(6)),
        "{report}"
    );

    let edit = "UPDATE change_log SET actor = 'key:999' WHERE account_id = 'acme' AND seq = 2";
    let unlock: &[&str] = match app.backend {
        common::Backend::Sqlite => &["DROP TRIGGER change_log_no_update", edit],
        common::Backend::Postgres => &["DROP TRIGGER change_log_no_change ON change_log", edit],
    };
    app.raw_sql(unlock).await;
    let (_, report) = app
        .json(Method::GET, "/v1/accounts/acme/change-log/verify", Some(&key), None)
        .await;
    assert_eq!(
        (report["valid"].as_bool(), report["broken_at"].as_i64()),
        (Some(false), Some(2)),
        "{report}"
    );
}

async fn change_log_refuses_edits(app: TestApp) {
    let key = seed(&app, "acme").await;
    create(&app, "acme", &key, json!({"conversation_ids": ["c1"]})).await;
    let url = app.config.database_url.clone();
    let outcome = match app.backend {
        common::Backend::Sqlite => {
            use sqlx::Connection;
            let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
            sqlx::query("DELETE FROM change_log")
                .execute(&mut conn)
                .await
                .map(|_| ())
        }
        common::Backend::Postgres => {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
            sqlx::query("UPDATE change_log SET event = 'x'")
                .execute(&mut conn)
                .await
                .map(|_| ())
        }
    };
    assert!(outcome.unwrap_err().to_string().contains("append-only"));
}

backend_tests!(
    records_match_the_vendor_examples,
    create_rejects_bad_bodies,
    other_accounts_requests_are_not_found,
    change_log_chain_verifies_and_shows_edits,
    change_log_refuses_edits,
);
