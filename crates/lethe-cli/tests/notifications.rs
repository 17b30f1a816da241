//! Notifications when a job ends: an e-mail received by a real SMTP server on loopback,
//! and a signed webhook received by a real HTTP listener, both through the outbox.

mod common;

use common::deletion::{create, get, settings, ACCOUNT_SCOPES};
use common::{conversation, TestApp};
use lethe_service::deletion::{webhook_signature, Notifier};
use reqwest::Method;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// A minimal SMTP server: accepts every message and hands its DATA to the test.
async fn smtp_sink() -> (String, mpsc::UnboundedReceiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("smtp://{}", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 sink ESMTP\r\n").await.unwrap();
                let mut data: Option<String> = None;
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Some(body) = data.as_mut() {
                        if line == "." {
                            tx.send(data.take().unwrap()).unwrap();
                            write.write_all(b"250 queued\r\n").await.unwrap();
                        } else {
                            body.push_str(&line);
                            body.push('\n');
                        }
                        continue;
                    }
                    let verb = line.split_whitespace().next().unwrap_or_default().to_ascii_uppercase();
                    let answer: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250-sink\r\n250 8BITMIME\r\n",
                        "DATA" => {
                            data = Some(String::new());
                            b"354 go ahead\r\n"
                        }
                        "QUIT" => {
                            write.write_all(b"221 bye\r\n").await.unwrap();
                            break;
                        }
                        _ => b"250 ok\r\n",
                    };
                    write.write_all(answer).await.unwrap();
                }
            });
        }
    });
    (url, rx)
}

/// A webhook endpoint that fails its first `failures` calls, then records each body
/// with its headers.
async fn webhook_listener(failures: usize) -> (String, mpsc::UnboundedReceiver<(axum::http::HeaderMap, String)>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::unbounded_channel();
    let calls = Arc::new(AtomicUsize::new(0));
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let tx = tx.clone();
            let calls = calls.clone();
            async move {
                if calls.fetch_add(1, Ordering::SeqCst) < failures {
                    return axum::http::StatusCode::SERVICE_UNAVAILABLE;
                }
                tx.send((headers, body)).unwrap();
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, rx)
}

async fn job_end_is_mailed_and_posted(app: TestApp) {
    app.create_account("acme").await;
    let key = app.key_named("acme", "dpo", &ACCOUNT_SCOPES).await;
    let conv = conversation(
        "conv-secret-canary",
        "2026-03-01T10:00:00Z",
        json!({"end_time": "2026-03-01T10:10:00Z",
               "messages": [{"id": "m1", "time": "2026-03-01T10:00:05Z", "sent_by": "consumer", "text": "secret-text-canary"}]}),
    );
    app.json(Method::POST, "/v1/accounts/acme/conversations", Some(&key), Some(conv))
        .await;
    let (smtp_url, mut mails) = smtp_sink().await;
    let (hook_url, mut hooks) = webhook_listener(1).await;
    let (status, body) = settings(&app, "acme", &key, json!({"webhook_url": hook_url})).await;
    assert_eq!(status, 403, "a loopback webhook is operator-only: {body}");
    let patch = json!({"grace_period_seconds": 0, "notification_email": "dpo@acme.example", "webhook_url": hook_url});
    let (status, body) = settings(&app, "acme", &app.operator_key, patch).await;
    assert_eq!(status, 200, "{body}");

    let created = create(&app, "acme", &key, json!({"conversation_ids": ["conv-secret-canary"]})).await;
    app.run_jobs().await;
    let (_, done) = get(&app, "acme", &key, &format!("/{}", created["id"])).await;
    assert_eq!(done["status"], "completed");

    let notifier = Notifier::new(Some(&smtp_url), "lethe <lethe@localhost>").unwrap();
    assert_eq!(
        app.lethe.deliver_notifications(&notifier).await.unwrap(),
        1,
        "the e-mail goes, the webhook fails once"
    );
    let mail = mails.recv().await.unwrap();
    let job_id = created["job_id"].as_str().unwrap();
    assert!(mail.contains(job_id) && mail.contains("dpo@acme.example"), "{mail}");
    assert!(!mail.contains("canary"), "no personal data in the e-mail: {mail}");

    let (_, log) = app
        .json(Method::GET, "/v1/accounts/acme/notifications", Some(&key), None)
        .await;
    let webhook = log
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["channel"] == "webhook")
        .unwrap()
        .clone();
    assert_eq!(
        (webhook["attempts"].as_i64(), &webhook["delivered_at"]),
        (Some(1), &Value::Null),
        "{log}"
    );
    assert!(webhook["last_error"].as_str().unwrap().contains("503"), "{webhook}");
    app.clock.advance(60_000);
    assert_eq!(app.lethe.deliver_notifications(&notifier).await.unwrap(), 1);

    let (headers, body) = hooks.recv().await.unwrap();
    let payload: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(payload["job_id"], job_id);
    assert_eq!(payload["type"], "deletion_request.completed");
    assert_eq!(
        headers["lethe-event-id"].to_str().unwrap(),
        payload["event_id"].as_str().unwrap(),
        "a stable event id"
    );
    let (_, secret) = app
        .json(Method::GET, "/v1/accounts/acme/webhook-secret", Some(&key), None)
        .await;
    let timestamp: i64 = headers["lethe-timestamp"].to_str().unwrap().parse().unwrap();
    let expected = webhook_signature(secret["secret"].as_str().unwrap(), timestamp, &body);
    assert_eq!(headers["lethe-signature"].to_str().unwrap(), expected);
    assert!(!body.contains("canary"));
    let (_, log) = app
        .json(Method::GET, "/v1/accounts/acme/notifications", Some(&key), None)
        .await;
    assert!(
        log.as_array().unwrap().iter().all(|n| n["delivered_at"].is_string()),
        "{log}"
    );
    assert_eq!(
        app.lethe.deliver_notifications(&notifier).await.unwrap(),
        0,
        "delivered once"
    );
}

backend_tests!(job_end_is_mailed_and_posted);
