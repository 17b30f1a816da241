//! The documented check order (400 site_id, 401, 403, 400 input, 404) and error bodies.

mod common;

use common::{conversation, TestApp};
use reqwest::Method;
use serde_json::json;

async fn checks_run_in_the_documented_order(app: TestApp) {
    let key_a = app.account_with_key("acct_a").await;
    let key_b = app.account_with_key("acct_b").await;
    let reader_a = app.key("acct_a", &["conversations:read"]).await;
    let conv = conversation("shared-id", "2026-03-01T10:00:00Z", json!({}));
    assert_eq!(
        app.json(
            Method::POST,
            "/v1/accounts/acct_b/conversations",
            Some(&key_b),
            Some(conv)
        )
        .await
        .0,
        201
    );

    let (status, body) = app
        .json(Method::GET, "/v1/accounts/bad-site!/conversations/x", None, None)
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("invalid_input")),
        "a malformed site_id is 400 before auth: {body}"
    );
    let (status, body) = app
        .json(Method::GET, "/v1/accounts/acct_a/conversations/x", None, None)
        .await;
    assert_eq!((status, body["code"].as_str()), (401, Some("unauthorized")));
    assert_eq!(
        app.json(
            Method::GET,
            "/v1/accounts/acct_a/conversations/x",
            Some("lethe_nope"),
            None
        )
        .await
        .0,
        401
    );
    let write = conversation("c1", "2026-03-01T10:00:00Z", json!({}));
    let (status, body) = app
        .json(
            Method::POST,
            "/v1/accounts/acct_a/conversations",
            Some(&reader_a),
            Some(write),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("forbidden")),
        "missing scope: {body}"
    );
    assert_eq!(
        app.json(
            Method::GET,
            "/v1/accounts/acct_b/conversations/shared-id",
            Some(&key_a),
            None
        )
        .await
        .0,
        403,
        "another account's path"
    );
    let (status, _) = app
        .json(
            Method::POST,
            "/v1/accounts/acct_a/conversations",
            Some(&reader_a),
            Some(json!({"bad": true})),
        )
        .await;
    assert_eq!(status, 403, "403 comes before input validation");
    assert_eq!(
        app.json(
            Method::GET,
            "/v1/accounts/acct_a/conversations/shared-id",
            Some(&key_a),
            None
        )
        .await
        .0,
        404,
        "another account's object is 404"
    );
    assert_eq!(
        app.json(
            Method::GET,
            "/v1/accounts/acct_a/conversations/shared-id",
            Some(&app.operator_key),
            None
        )
        .await
        .0,
        404
    );
    assert_eq!(
        app.json(
            Method::GET,
            "/v1/accounts/acct_b/conversations/shared-id",
            Some(&app.operator_key),
            None
        )
        .await
        .0,
        200
    );
    assert_eq!(
        app.json(
            Method::GET,
            "/v1/accounts/nobody/conversations/x",
            Some(&app.operator_key),
            None
        )
        .await
        .0,
        404
    );
    assert_eq!(
        app.json(Method::GET, "/v1/accounts", Some(&key_a), None).await.0,
        403,
        "listing accounts is operator-only"
    );

    let (status, body) = app
        .json(
            Method::POST,
            "/v1/accounts/acct_a/keys",
            Some(&reader_a),
            Some(json!({"name": "x", "scopes": ["admin"]})),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    let list: Vec<serde_json::Value> = app
        .json(Method::GET, "/v1/accounts/acct_a/keys", Some(&key_a), None)
        .await
        .1
        .as_array()
        .unwrap()
        .clone();
    let reader_id = list
        .iter()
        .find(|k| k["scopes"] == json!(["conversations:read"]))
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    assert_eq!(
        app.json(
            Method::DELETE,
            &format!("/v1/accounts/acct_a/keys/{reader_id}"),
            Some(&key_a),
            None
        )
        .await
        .0,
        204
    );
    assert_eq!(
        app.json(
            Method::GET,
            "/v1/accounts/acct_a/conversations/x",
            Some(&reader_a),
            None
        )
        .await
        .0,
        401,
        "revoked keys stop working"
    );
}

async fn bad_input_gets_a_clear_error(app: TestApp) {
    let key = app.account_with_key("acme").await;
    let path = "/v1/accounts/acme/conversations";
    let send_raw = |body: &'static str| {
        app.client
            .post(app.url(path))
            .bearer_auth(&key)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let response = send_raw("{not json").await.unwrap();
    assert_eq!(response.status(), 400);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["code"], "invalid_input");
    assert!(!body["request_id"].as_str().unwrap().is_empty());

    let (status, body) = app
        .json(
            Method::POST,
            path,
            Some(&key),
            Some(json!({"id": "c", "start_time": "2026-03-01T10:00:00Z", "colour": "red"})),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        body["message"].as_str().unwrap().contains("colour"),
        "unknown fields are named: {body}"
    );
    let (status, body) = app
        .json(
            Method::POST,
            path,
            Some(&key),
            Some(json!({"id": 7, "start_time": "2026-03-01T10:00:00Z"})),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = app
        .json(
            Method::POST,
            path,
            Some(&key),
            Some(json!({"id": "", "start_time": "2026-03-01T10:00:00Z"})),
        )
        .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (400, Some("conversation_id")),
        "{body}"
    );

    let huge = json!({"id": "big", "start_time": "2026-03-01T10:00:00Z", "close_reason": "x".repeat(100_000)});
    let (status, body) = app.json(Method::POST, path, Some(&key), Some(huge)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (413, Some("payload_too_large")),
        "{body}"
    );
    let response = app
        .client
        .post(app.url("/v1/accounts/acme/import"))
        .bearer_auth(&key)
        .body("x".repeat(2 * 1024 * 1024))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);

    let (status, body) = app.json(Method::GET, "/v1/nowhere", Some(&key), None).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("not_found")));
    let (status, body) = app
        .json(
            Method::DELETE,
            "/v1/accounts/acme/conversations/search",
            Some(&key),
            None,
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (405, Some("method_not_allowed")),
        "{body}"
    );
    let response = app.call(Method::GET, "/healthz", None, None).await;
    assert!(response.headers().contains_key("x-request-id"));
}

async fn operations_endpoints(app: TestApp) {
    assert_eq!(app.json(Method::GET, "/healthz", None, None).await.0, 200);
    let (status, body) = app.json(Method::GET, "/readyz", None, None).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ready")));
    let _ = app.json(Method::GET, "/v1/accounts", None, None).await;
    let metrics = app
        .call(Method::GET, "/metrics", None, None)
        .await
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("lethe_http_requests_total"), "{metrics}");
    assert!(
        metrics.contains("route=\"/v1/accounts\""),
        "metrics are labelled by route template"
    );
    let spec: serde_json::Value = app
        .call(Method::GET, "/openapi.json", None, None)
        .await
        .json()
        .await
        .unwrap();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3.1"));
    assert!(spec["paths"]["/messaging_history/api/account/{site_id}/conversations/search"].is_object());
}

backend_tests!(
    checks_run_in_the_documented_order,
    bad_input_gets_a_clear_error,
    operations_endpoints
);
