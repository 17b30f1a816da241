//! Fixtures for deletion-request tests: an account with conversations of every kind.

use super::{conversation, TestApp};
use reqwest::Method;
use serde_json::{json, Value};

/// Every scope an account key can hold for this work.
pub const ACCOUNT_SCOPES: [&str; 5] = [
    "conversations:read",
    "conversations:write",
    "deletion:read",
    "deletion:write",
    "admin",
];

/// One day in milliseconds.
pub const DAY: i64 = 86_400_000;

/// Creates `site` with consumer `u1` (cid `cid-1`) and three conversations: `c1`
/// closed with 2 messages, a file, a survey answer and an attribute; `c2` open; and
/// the chat engagement `<site>123` closed. Returns an account key named `Mike`.
pub async fn seed(app: &TestApp, site: &str) -> String {
    app.create_account(site).await;
    let key = app.key_named(site, "Mike", &ACCOUNT_SCOPES).await;
    let consumer = json!({"first_name": "Ada", "email": "ada@example.com",
        "channel_identities": [{"channel": "web", "cid": "cid-1"}]});
    let (status, body) = app
        .json(
            Method::PUT,
            &format!("/v1/accounts/{site}/consumers/u1"),
            Some(&key),
            Some(consumer),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let closed = conversation(
        "c1",
        "2026-03-01T10:00:00Z",
        json!({
            "consumer_id": "u1", "channel_user_id": "cid-1", "end_time": "2026-03-01T10:10:00Z",
            "attributes": [{"kind": "customerInfo", "name": "customerId", "value": "C-1"}],
            "messages": [
                {"id": "m1", "time": "2026-03-01T10:00:05Z", "sent_by": "consumer", "text": "my card is 4111"},
                {"id": "m2", "time": "2026-03-01T10:01:00Z", "sent_by": "agent", "text": "thanks"}
            ],
            "surveys": [{"survey_id": "s1", "answers": [{"question_id": "q1", "text": "rude agent"}]}],
            "files": [{"id": "f1", "content_type": "text/plain", "data_base64": "aGVsbG8="}]
        }),
    );
    let open = conversation(
        "c2",
        "2026-03-02T10:00:00Z",
        json!({"consumer_id": "u1", "channel_user_id": "cid-1"}),
    );
    let chat = conversation(
        &format!("{site}123"),
        "2026-03-03T10:00:00Z",
        json!({"kind": "chat", "end_time": "2026-03-03T10:05:00Z"}),
    );
    for body in [closed, open, chat] {
        let (status, answer) = app
            .json(
                Method::POST,
                &format!("/v1/accounts/{site}/conversations"),
                Some(&key),
                Some(body),
            )
            .await;
        assert_eq!(status, 201, "{answer}");
    }
    key
}

/// Creates a request on `/v1`, asserting 201.
pub async fn create(app: &TestApp, site: &str, key: &str, body: Value) -> Value {
    let (status, answer) = app
        .json(
            Method::POST,
            &format!("/v1/accounts/{site}/deletion-requests"),
            Some(key),
            Some(body),
        )
        .await;
    assert_eq!(status, 201, "{answer}");
    answer
}

/// GET on a request path of `/v1`.
pub async fn get(app: &TestApp, site: &str, key: &str, suffix: &str) -> (u16, Value) {
    app.json(
        Method::GET,
        &format!("/v1/accounts/{site}/deletion-requests{suffix}"),
        Some(key),
        None,
    )
    .await
}

/// POST on a request path of `/v1`.
pub async fn post(app: &TestApp, site: &str, key: &str, suffix: &str, body: Option<Value>) -> (u16, Value) {
    app.json(
        Method::POST,
        &format!("/v1/accounts/{site}/deletion-requests{suffix}"),
        Some(key),
        body,
    )
    .await
}

/// Sets settings with a key, returning (status, body).
pub async fn settings(app: &TestApp, site: &str, key: &str, patch: Value) -> (u16, Value) {
    app.json(
        Method::PATCH,
        &format!("/v1/accounts/{site}/settings"),
        Some(key),
        Some(patch),
    )
    .await
}
