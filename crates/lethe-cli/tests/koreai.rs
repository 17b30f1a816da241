//! The Kore.ai dialect: bot-scoped deletion jobs, their status, and its credentials
//! (an app's HS256 token in `auth`, or an account-bound Bearer key).

mod common;

use common::deletion::{get, post, ACCOUNT_SCOPES};
use common::{conversation, TestApp};
use reqwest::Method;
use serde_json::{json, Value};

/// `acme` with bots b1 and b2, consumer u1 (cid `wa-1`), and conversations k1 (b1,
/// March 1), k2 (b1, March 5), k3 (b2, March 1), all of `wa-1` and closed.
async fn seed(app: &TestApp) -> String {
    app.create_account("acme").await;
    let key = app.key_named("acme", "kore-admin", &ACCOUNT_SCOPES).await;
    for bot in ["b1", "b2"] {
        let (status, body) = app
            .json(
                Method::POST,
                "/v1/accounts/acme/bots",
                Some(&key),
                Some(json!({"bot_id": bot, "name": bot})),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    let consumer = json!({"first_name": "Kim", "channel_identities": [{"channel": "whatsapp", "cid": "wa-1"}]});
    app.json(
        Method::PUT,
        "/v1/accounts/acme/consumers/u1",
        Some(&key),
        Some(consumer),
    )
    .await;
    for (id, bot, day) in [("k1", "b1", "01"), ("k2", "b1", "05"), ("k3", "b2", "01")] {
        let body = conversation(
            id,
            &format!("2026-03-{day}T10:00:00Z"),
            json!({"bot_id": bot, "consumer_id": "u1", "channel_user_id": "wa-1", "end_time": format!("2026-03-{day}T10:20:00Z")}),
        );
        let (status, answer) = app
            .json(Method::POST, "/v1/accounts/acme/conversations", Some(&key), Some(body))
            .await;
        assert_eq!(status, 201, "{answer}");
    }
    key
}

/// Creates an app for `bot` and returns (app id, secret).
async fn app_for(app: &TestApp, key: &str, bot: &str, scopes: &[&str]) -> (String, String) {
    let (status, body) = app
        .json(
            Method::POST,
            &format!("/v1/accounts/acme/bots/{bot}/apps"),
            Some(key),
            Some(json!({"name": format!("{bot}-app"), "scopes": scopes})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    (
        body["app_id"].as_str().unwrap().into(),
        body["client_secret"].as_str().unwrap().into(),
    )
}

fn token(app_id: &str, secret: &str) -> String {
    let claims = json!({"appId": app_id, "sub": "integration"});
    let key = jsonwebtoken::EncodingKey::from_secret(secret.as_bytes());
    jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key).unwrap()
}

async fn kore(
    app: &TestApp,
    method: Method,
    path: &str,
    auth: Option<&str>,
    bearer: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = app.client.request(method, app.url(path));
    if let Some(auth) = auth {
        request = request.header("auth", auth);
    }
    if let Some(bearer) = bearer {
        request = request.bearer_auth(bearer);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

const DELETE: &str = "/api/public/bot/b1/conversations/delete";

fn keys(value: &Value) -> Vec<&str> {
    value.as_object().unwrap().keys().map(String::as_str).collect()
}

async fn jobs_by_conversation_ids(app: TestApp) {
    let key = seed(&app).await;
    let (app_id, secret) = app_for(&app, &key, "b1", &["deletion:write", "deletion:read"]).await;
    let jwt = token(&app_id, &secret);
    let body = json!({"conversationIds": ["k1", "k3", "nope"]});
    let (status, queued) = kore(&app, Method::POST, DELETE, Some(&jwt), None, Some(body)).await;
    assert_eq!(status, 202, "{queued}");
    assert_eq!(keys(&queued), vec!["status", "jobId", "message", "submittedAt"]);
    assert_eq!(queued["status"], "queued");
    let job_id = queued["jobId"].as_str().unwrap().to_owned();
    assert!(job_id.starts_with("cdj-"));

    let (_, list) = get(&app, "acme", &key, "").await;
    assert_eq!(
        (list[0]["job_id"].as_str(), list[0]["source"].as_str()),
        (Some(job_id.as_str()), Some("koreai"))
    );
    let id = list[0]["id"].as_i64().unwrap();
    let (_, preview) = get(&app, "acme", &key, &format!("/{id}/preview")).await;
    let problems: Vec<&Value> = preview["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| &i["problem"])
        .collect();
    assert_eq!(
        problems,
        vec![&Value::Null, &json!("not_found"), &json!("not_found")],
        "k3 is b2's: {preview}"
    );
    let (_, lp) = app
        .json(
            Method::GET,
            "/api/account/acme/personal-data-deletion",
            Some(&key),
            None,
        )
        .await;
    assert_eq!(lp[0]["request_id"], id, "every surface lists it");

    let status_path = format!("/api/public/bot/b1/conversations/delete/status/{job_id}");
    let (status, shown) = kore(&app, Method::GET, &status_path, Some(&jwt), None, None).await;
    assert_eq!(status, 200, "{shown}");
    assert_eq!(
        shown,
        json!({"jobId": job_id, "status": "queued", "submittedAt": queued["submittedAt"], "startedAt": null,
               "completedAt": null, "deletedCount": 0, "failedCount": 0})
    );
    post(&app, "acme", &key, &format!("/{id}/cancel"), None).await;
    let (_, shown) = kore(&app, Method::GET, &status_path, Some(&jwt), None, None).await;
    assert_eq!(shown["status"], "canceled");
    let (status, _) = kore(
        &app,
        Method::GET,
        "/api/public/bot/b2/conversations/delete/status/x",
        Some(&jwt),
        None,
        None,
    )
    .await;
    assert_eq!(status, 403, "an app acts for its own bot only");
    let (status, _) = kore(
        &app,
        Method::GET,
        &status_path.replace("b1", "b2"),
        None,
        Some(&key),
        None,
    )
    .await;
    assert_eq!(status, 404, "b1's job is not b2's");
}

async fn channel_user_dates(app: TestApp) {
    let key = seed(&app).await;
    let (status, queued) = kore(
        &app,
        Method::POST,
        DELETE,
        None,
        Some(&key),
        Some(json!({"cId": "wa-1"})),
    )
    .await;
    assert_eq!(status, 202, "{queued}");
    let (_, list) = get(&app, "acme", &key, "").await;
    let today = chrono::DateTime::from_timestamp_millis(app.now_ms())
        .unwrap()
        .format("%Y-%m-%d")
        .to_string();
    assert_eq!(
        list[0]["target"]["channel_user"],
        json!({"cid": "wa-1", "from": today, "to": today, "bot_id": "b1"}),
        "defaults: from the later of the user's and the bot's creation, to today"
    );
    let ranged = json!({"cId": "wa-1", "startDate": "2026-03-01", "endDate": "2026-03-04"});
    assert_eq!(
        kore(&app, Method::POST, DELETE, None, Some(&key), Some(ranged)).await.0,
        202
    );
    let (_, list) = get(&app, "acme", &key, "").await;
    let (_, preview) = get(&app, "acme", &key, &format!("/{}/preview", list[0]["id"])).await;
    let ids: Vec<&str> = preview["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["k1"], "b1 only, March 1 to 4 inclusive: {preview}");

    let tomorrow = (chrono::DateTime::from_timestamp_millis(app.now_ms()).unwrap() + chrono::Duration::days(1))
        .format("%Y-%m-%d")
        .to_string();
    let cases = [
        (json!({"cId": "wa-1", "endDate": tomorrow}), "endDate"),
        (json!({"cId": "wa-1", "conversationIds": ["k1"]}), "cId"),
        (
            json!({"conversationIds": ["k1"], "startDate": "2026-03-01"}),
            "startDate",
        ),
        (json!({"cId": "wa-1", "startDate": "03/01/2026"}), "startDate"),
        (json!({"cid": "wa-1"}), "cid"),
        (json!({}), "conversationIds"),
    ];
    for (body, field) in cases {
        let (status, answer) = kore(&app, Method::POST, DELETE, None, Some(&key), Some(body.clone())).await;
        assert_eq!(
            (status, answer["field"].as_str()),
            (400, Some(field)),
            "{body} → {answer}"
        );
    }
}

async fn credentials_and_tenancy(app: TestApp) {
    let key = seed(&app).await;
    let body = json!({"conversationIds": ["k1"]});
    let (app_id, secret) = app_for(&app, &key, "b1", &["deletion:write"]).await;
    let (b2_id, b2_secret) = app_for(&app, &key, "b2", &["deletion:write", "deletion:read"]).await;
    let call = |auth: Option<String>, bearer: Option<String>, path: &'static str| {
        let app = &app;
        let body = body.clone();
        async move {
            kore(app, Method::POST, path, auth.as_deref(), bearer.as_deref(), Some(body))
                .await
                .0
        }
    };
    assert_eq!(call(None, None, DELETE).await, 401);
    assert_eq!(call(Some(token(&app_id, "wrong-secret")), None, DELETE).await, 401);
    assert_eq!(call(Some("not.a.jwt".into()), None, DELETE).await, 401);
    assert_eq!(
        call(Some(token(&b2_id, &b2_secret)), None, DELETE).await,
        403,
        "b2's app on b1"
    );
    assert_eq!(
        call(None, Some(app.operator_key.clone()), DELETE).await,
        403,
        "no account in the path"
    );
    let reader = app.key("acme", &["deletion:read"]).await;
    assert_eq!(call(None, Some(reader), DELETE).await, 403);
    assert_eq!(call(Some(token(&app_id, &secret)), None, DELETE).await, 202);
    assert_eq!(
        call(
            Some(token(&app_id, &secret)),
            None,
            "/api/public/bot/b9/conversations/delete"
        )
        .await,
        403
    );
    assert_eq!(
        call(None, Some(key.clone()), "/api/public/bot/b9/conversations/delete").await,
        404
    );

    let status_path = "/api/public/bot/b1/conversations/delete/status/";
    let (_, list) = get(&app, "acme", &key, "").await;
    let job = list[0]["job_id"].as_str().unwrap().to_owned();
    let (status, _) = kore(
        &app,
        Method::GET,
        &format!("{status_path}{job}"),
        Some(&token(&app_id, &secret)),
        None,
        None,
    )
    .await;
    assert_eq!(status, 403, "the app lacks deletion:read");
    let native = common::deletion::create(&app, "acme", &key, json!({"conversation_ids": ["k1"]})).await;
    let (status, _) = kore(
        &app,
        Method::GET,
        &format!("{status_path}{}", native["job_id"].as_str().unwrap()),
        None,
        Some(&key),
        None,
    )
    .await;
    assert_eq!(status, 404, "a request with no bot is not a Kore.ai job");

    app.create_account("other").await;
    let other = app.key("other", &["deletion:read", "deletion:write", "admin"]).await;
    app.json(
        Method::POST,
        "/v1/accounts/other/bots",
        Some(&other),
        Some(json!({"bot_id": "b1", "name": "b1"})),
    )
    .await;
    let (status, _) = kore(
        &app,
        Method::GET,
        &format!("{status_path}{job}"),
        None,
        Some(&other),
        None,
    )
    .await;
    assert_eq!(status, 404, "another account's job");
}

backend_tests!(jobs_by_conversation_ids, channel_user_dates, credentials_and_tenancy);
