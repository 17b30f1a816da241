//! Ingest through /v1: read back, idempotency, conflicts, closed conversations, files.

mod common;

use common::{conversation, TestApp};
use reqwest::Method;
use serde_json::json;

async fn ingest_and_read_back(app: TestApp) {
    let key = app.account_with_key("acme").await;
    let consumer = json!({"first_name": "Ada", "email": "Ada@Example.com", "channel_identities": [{"channel": "web", "cid": "cid-1"}], "attributes": {"tier": "gold"}});
    let (status, body) = app
        .json(
            Method::PUT,
            "/v1/accounts/acme/consumers/u1",
            Some(&key),
            Some(consumer.clone()),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["email"], "Ada@Example.com");
    let replaced = json!({"first_name": "Ada"});
    let (_, body) = app
        .json(
            Method::PUT,
            "/v1/accounts/acme/consumers/u1",
            Some(&key),
            Some(replaced),
        )
        .await;
    assert_eq!(body["email"], serde_json::Value::Null, "PUT replaces the whole record");

    let conv = conversation(
        "c1",
        "2026-03-01T10:00:00Z",
        json!({
            "consumer_id": "u1",
            "attributes": [{"kind": "customerInfo", "name": "customerId", "value": "C-1"}],
            "messages": [{"id": "m1", "time": "2026-03-01T10:00:05Z", "sent_by": "consumer", "text": "hello"}]
        }),
    );
    let (status, body) = app
        .json(
            Method::POST,
            "/v1/accounts/acme/conversations",
            Some(&key),
            Some(conv.clone()),
        )
        .await;
    assert_eq!((status, body["created"].as_bool()), (201, Some(true)), "{body}");
    let (status, body) = app
        .json(
            Method::POST,
            "/v1/accounts/acme/conversations",
            Some(&key),
            Some(conv.clone()),
        )
        .await;
    assert_eq!(
        (status, body["created"].as_bool()),
        (200, Some(false)),
        "same content again is a no-op"
    );
    let mut different = conv.clone();
    different["source"] = json!("WEB");
    let (status, body) = app
        .json(
            Method::POST,
            "/v1/accounts/acme/conversations",
            Some(&key),
            Some(different),
        )
        .await;
    assert_eq!((status, body["code"].as_str()), (409, Some("conflict")), "{body}");

    let msg = json!({"id": "m2", "time": "2026-03-01T10:01:00Z", "sent_by": "agent", "text": "hi, how can I help?"});
    let path = "/v1/accounts/acme/conversations/c1/messages";
    assert_eq!(app.json(Method::POST, path, Some(&key), Some(msg.clone())).await.0, 201);
    assert_eq!(app.json(Method::POST, path, Some(&key), Some(msg.clone())).await.0, 200);
    let mut changed = msg.clone();
    changed["text"] = json!("something else");
    assert_eq!(app.json(Method::POST, path, Some(&key), Some(changed)).await.0, 409);

    let survey = json!({"survey_id": "s1", "answers": [{"question_id": "q1", "choice": "5"}, {"question_id": "q2", "text": "lovely"}]});
    assert_eq!(
        app.json(
            Method::POST,
            "/v1/accounts/acme/conversations/c1/surveys",
            Some(&key),
            Some(survey)
        )
        .await
        .0,
        201
    );

    let form = reqwest::multipart::Form::new().text("id", "f1").part(
        "file",
        reqwest::multipart::Part::bytes(b"PNGDATA".to_vec())
            .file_name("photo.png")
            .mime_str("image/png")
            .unwrap(),
    );
    let response = app
        .client
        .post(app.url("/v1/accounts/acme/conversations/c1/files"))
        .bearer_auth(&key)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let file_msg = json!({"id": "m3", "time": "2026-03-01T10:02:00Z", "sent_by": "consumer", "type": "hosted_file", "file_id": "f1"});
    assert_eq!(app.json(Method::POST, path, Some(&key), Some(file_msg)).await.0, 201);
    let bytes = app
        .client
        .get(app.url("/v1/accounts/acme/conversations/c1/files/f1"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(&bytes[..], b"PNGDATA");

    let close = json!({"end_time": "2026-03-01T10:10:00Z", "close_reason": "AGENT", "csat": 5});
    assert_eq!(
        app.json(
            Method::POST,
            "/v1/accounts/acme/conversations/c1/close",
            Some(&key),
            Some(close.clone())
        )
        .await
        .0,
        204
    );
    let late = json!({"id": "m4", "time": "2026-03-01T10:11:00Z", "sent_by": "consumer", "text": "one more thing"});
    let (status, body) = app.json(Method::POST, path, Some(&key), Some(late)).await;
    assert_eq!(status, 409, "a closed conversation takes no more messages: {body}");
    assert_eq!(
        app.json(
            Method::POST,
            "/v1/accounts/acme/conversations/c1/close",
            Some(&key),
            Some(close)
        )
        .await
        .0,
        409
    );

    let (status, body) = app
        .json(Method::GET, "/v1/accounts/acme/conversations/c1", Some(&key), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "closed");
    assert_eq!(body["csat"], 5);
    assert_eq!(
        body["consumer_participant"]["first_name"], "Ada",
        "copied from the consumer profile"
    );
    let texts: Vec<_> = body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].clone())
        .collect();
    assert_eq!(texts[..2], [json!("hello"), json!("hi, how can I help?")]);
    assert_eq!(body["messages"][2]["file_id"], "f1");
    assert_eq!(body["attributes"][0]["value"], "C-1");
    assert_eq!(body["survey_answers"][1]["text"], "lovely");
    assert_eq!(body["files"][0]["name"], "photo.png");

    // A search opens the messages from the conversation's row; the hosted file's
    // content type comes from the file's row.
    let (status, body) = app
        .json(
            Method::POST,
            "/messaging_history/api/account/acme/conversations/consumer/search",
            Some(&key),
            Some(json!({"consumer": "u1"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let records = &body["conversationHistoryRecords"][0]["messageRecords"];
    assert_eq!(records[0]["messageData"]["msg"]["text"], "hello");
    assert_eq!(records[2]["type"], "HOSTED_FILE");
    assert_eq!(
        records[2]["messageData"]["file"],
        json!({"relativePath": "/v1/accounts/acme/conversations/c1/files/f1", "fileType": "PNG", "caption": null})
    );
}

async fn writes_to_missing_things_and_bad_records(app: TestApp) {
    let key = app.account_with_key("acme").await;
    let msg = json!({"id": "m1", "time": "2026-03-01T10:00:05Z", "sent_by": "consumer", "text": "x"});
    assert_eq!(
        app.json(
            Method::POST,
            "/v1/accounts/acme/conversations/nope/messages",
            Some(&key),
            Some(msg)
        )
        .await
        .0,
        404
    );
    let bad_time = conversation("c2", "yesterday", json!({}));
    let (status, body) = app
        .json(
            Method::POST,
            "/v1/accounts/acme/conversations",
            Some(&key),
            Some(bad_time),
        )
        .await;
    assert_eq!((status, body["field"].as_str()), (400, Some("start_time")), "{body}");
    let bad_chat = conversation("123", "2026-03-01T10:00:00Z", json!({"kind": "chat"}));
    assert_eq!(
        app.json(
            Method::POST,
            "/v1/accounts/acme/conversations",
            Some(&key),
            Some(bad_chat)
        )
        .await
        .0,
        400
    );
    let dangling = conversation(
        "c3",
        "2026-03-01T10:00:00Z",
        json!({"messages": [{"id": "m", "time": "2026-03-01T10:00:00Z", "sent_by": "consumer", "type": "hosted_file", "file_id": "nofile"}]}),
    );
    let (status, body) = app
        .json(
            Method::POST,
            "/v1/accounts/acme/conversations",
            Some(&key),
            Some(dangling),
        )
        .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (400, Some("messages[0].file_id")),
        "{body}"
    );
    let (status, _) = app
        .json(Method::GET, "/v1/accounts/acme/conversations/c3", Some(&key), None)
        .await;
    assert_eq!(status, 404, "a rejected record leaves nothing behind");
}

async fn bulk_import_over_http(app: TestApp) {
    let key = app.account_with_key("acme").await;
    let lines = [
        json!({"consumer": {"id": "u1", "email": "a@example.com"}}),
        json!({"conversation": conversation("c1", "2026-03-01T10:00:00Z", json!({"consumer_id": "u1"}))}),
        json!({"conversation": conversation("c2", "2026-03-01T11:00:00Z", json!({}))}),
        json!({"conversation": conversation("c3", "2026-03-01T12:00:00Z", json!({}))}),
    ];
    let body: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let send = |body: String| {
        app.client
            .post(app.url("/v1/accounts/acme/import"))
            .bearer_auth(&key)
            .body(body)
            .send()
    };
    let response = send(body.clone()).await.unwrap();
    assert_eq!(response.status(), 200);
    let report: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        (
            report["lines"].as_u64(),
            report["conversations_created"].as_u64(),
            report["batches"].as_u64()
        ),
        (Some(4), Some(3), Some(2))
    );
    let again: serde_json::Value = send(body).await.unwrap().json().await.unwrap();
    assert_eq!(again["conversations_unchanged"], 3, "re-running an import is safe");

    let conflicting = [
        json!({"conversation": conversation("c4", "2026-03-02T10:00:00Z", json!({}))}),
        json!({"conversation": conversation("c5", "2026-03-02T10:00:00Z", json!({}))}),
        json!({"conversation": conversation("c6", "2026-03-02T10:00:00Z", json!({}))}),
        json!({"conversation": conversation("c7", "2026-03-02T10:00:00Z", json!({}))}),
        json!({"conversation": conversation("c1", "2026-03-05T10:00:00Z", json!({}))}),
    ];
    let body: String = conflicting.iter().map(|l| format!("{l}\n")).collect();
    let response = send(body).await.unwrap();
    assert_eq!(response.status(), 409);
    let error: serde_json::Value = response.json().await.unwrap();
    assert!(error["message"].as_str().unwrap().contains("line 4"), "{error}");
    assert!(
        error["message"].as_str().unwrap().contains("3 records committed"),
        "{error}"
    );
    assert_eq!(
        app.json(Method::GET, "/v1/accounts/acme/conversations/c6", Some(&key), None)
            .await
            .0,
        200
    );
    assert_eq!(
        app.json(Method::GET, "/v1/accounts/acme/conversations/c7", Some(&key), None)
            .await
            .0,
        404,
        "the failing batch is rolled back whole"
    );
    let broken = "{\"conversation\": {\"id\": 5}}\n";
    let (status, error) = {
        let r = send(broken.into()).await.unwrap();
        (r.status().as_u16(), r.json::<serde_json::Value>().await.unwrap())
    };
    assert_eq!(status, 400);
    assert!(error["message"].as_str().unwrap().starts_with("line 1"), "{error}");
}

backend_tests!(
    ingest_and_read_back,
    writes_to_missing_things_and_bad_records,
    bulk_import_over_http
);
