//! Deletion requests on /v1: lifecycle in both approval modes, cancel, reject, preview,
//! quota, idempotency and validation, with the server's clock moved instead of sleeps.

mod common;

use common::deletion::{create, get, post, seed, settings, DAY};
use common::{conversation, TestApp};
use lethe_domain::time::{parse_rfc3339, utc_month};
use reqwest::Method;
use serde_json::{json, Value};

fn ms(value: &Value) -> i64 {
    parse_rfc3339(value.as_str().expect("a timestamp")).expect("RFC 3339")
}

async fn auto_mode_lifecycle(app: TestApp) {
    let key = seed(&app, "acme").await;
    let created = create(&app, "acme", &key, json!({"conversation_ids": ["c1", "c2", "nope"]})).await;
    assert_eq!(created["status"], "pending");
    assert_eq!(created["source"], "v1");
    assert!(created["job_id"].as_str().unwrap().starts_with("cdj-"), "{created}");
    assert_eq!(ms(&created["due_at"]) - ms(&created["created_at"]), 30 * DAY);
    assert_eq!(ms(&created["grace_ends_at"]) - ms(&created["created_at"]), 5 * DAY);
    let id = created["id"].as_i64().unwrap();

    let (status, preview) = get(&app, "acme", &key, &format!("/{id}/preview")).await;
    assert_eq!(status, 200, "{preview}");
    assert_eq!(
        preview["counts"],
        json!({"conversations": 1, "engagements": 0, "messages": 2, "files": 1, "file_bytes": 5,
               "survey_answers": 1, "consumers": 0, "metrics": 1})
    );
    let problems: Vec<(&str, &Value)> = preview["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["id"].as_str().unwrap(), &i["problem"]))
        .collect();
    assert_eq!(
        problems,
        vec![
            ("c1", &Value::Null),
            ("c2", &json!("open")),
            ("nope", &json!("not_found"))
        ]
    );

    app.clock.advance(5 * DAY - 1000);
    assert_eq!(get(&app, "acme", &key, &format!("/{id}")).await.1["status"], "pending");
    app.clock.advance(2000);
    let (_, shown) = get(&app, "acme", &key, &format!("/{id}")).await;
    assert_eq!(shown["status"], "scheduled", "{shown}");
    assert_eq!(shown["final_at"], shown["grace_ends_at"]);
    let events: Vec<&str> = shown["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["event"].as_str().unwrap())
        .collect();
    assert_eq!(events, vec!["created", "finalized", "scheduled"]);
    assert_eq!(shown["timeline"][1]["actor"], "system");
    assert_eq!(
        shown["items"].as_array().unwrap().len(),
        3,
        "items are frozen when final"
    );

    let (status, refused) = post(&app, "acme", &key, &format!("/{id}/cancel"), None).await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (409, Some("invalid_state")),
        "{refused}"
    );
    assert_eq!(refused["current_status"], "scheduled");

    // The job erases c1, skips the open c2 and finds no `nope`.
    assert_eq!(app.run_jobs().await, 1);
    let (_, done) = get(&app, "acme", &key, &format!("/{id}")).await;
    assert_eq!(done["status"], "partially_completed", "{done}");
    let outcomes: Vec<&str> = done["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, vec!["erased", "skipped_open", "not_found"]);
    assert_eq!(done["target_hashed"], true);
    assert!(
        !done.to_string().contains("\"c1\""),
        "ids are hashed once the request ends: {done}"
    );
    let events: Vec<&str> = done["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        vec![
            "created",
            "finalized",
            "scheduled",
            "started",
            "target_hashed",
            "partially_completed"
        ]
    );
    let (status, _) = app
        .json(Method::GET, "/v1/accounts/acme/conversations/c1", Some(&key), None)
        .await;
    assert_eq!(status, 404);
    let msg = json!({"id": "m9", "time": "2026-03-01T10:09:00Z", "sent_by": "agent", "text": "late"});
    let (status, gone) = app
        .json(
            Method::POST,
            "/v1/accounts/acme/conversations/c1/messages",
            Some(&key),
            Some(msg),
        )
        .await;
    assert_eq!((status, gone["code"].as_str()), (410, Some("gone")), "{gone}");
    let again = conversation("c1", "2026-03-01T10:00:00Z", json!({}));
    let (status, _) = app
        .json(Method::POST, "/v1/accounts/acme/conversations", Some(&key), Some(again))
        .await;
    assert_eq!(status, 410, "an erased id cannot come back");
    assert_eq!(
        app.json(Method::GET, "/v1/accounts/acme/conversations/c2", Some(&key), None)
            .await
            .0,
        200
    );
}

async fn zero_grace_is_final_at_once(app: TestApp) {
    let key = seed(&app, "acme").await;
    let (status, body) = settings(&app, "acme", &key, json!({"grace_period_seconds": 0})).await;
    assert_eq!(status, 200, "{body}");
    let created = create(&app, "acme", &key, json!({"engagement_ids": ["acme123"]})).await;
    assert_eq!(created["status"], "scheduled", "{created}");
}

async fn manual_mode_needs_an_operator(app: TestApp) {
    let key = seed(&app, "acme").await;
    let op = app.operator_key.clone();
    let (status, _) = settings(
        &app,
        "acme",
        &op,
        json!({"approval_mode": "manual", "grace_period_seconds": 3600}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = settings(&app, "acme", &key, json!({"approval_mode": "auto"})).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("forbidden")), "{body}");

    let first = create(&app, "acme", &key, json!({"conversation_ids": ["c1"]})).await;
    let id = first["id"].as_i64().unwrap();
    assert_eq!(first["approval_mode"], "manual");
    let (status, _) = post(&app, "acme", &key, &format!("/{id}/approve"), None).await;
    assert_eq!(status, 403, "an account key cannot approve");
    let (status, approved) = post(&app, "acme", &op, &format!("/{id}/approve"), None).await;
    assert_eq!(status, 200, "{approved}");
    assert_eq!(
        approved["status"], "pending",
        "final only when the grace period also ended"
    );
    assert!(approved["approved_at"].is_string());
    let (status, twice) = post(&app, "acme", &op, &format!("/{id}/approve"), None).await;
    assert_eq!(
        (status, twice["current_status"].as_str()),
        (409, Some("pending")),
        "{twice}"
    );

    let second = create(&app, "acme", &key, json!({"conversation_ids": ["c1"]})).await;
    let second_id = second["id"].as_i64().unwrap();
    app.clock.advance(3600 * 1000 + 1);
    assert_eq!(
        get(&app, "acme", &key, &format!("/{id}")).await.1["status"],
        "scheduled"
    );
    let (_, waiting) = get(&app, "acme", &key, &format!("/{second_id}")).await;
    assert_eq!(
        waiting["status"], "pending",
        "grace over but not approved: still cancellable"
    );
    let (status, late) = post(&app, "acme", &op, &format!("/{second_id}/approve"), None).await;
    assert_eq!((status, late["status"].as_str()), (200, Some("scheduled")), "{late}");
    assert_eq!(late["final_at"], late["approved_at"]);

    settings(&app, "acme", &op, json!({"approval_mode": "auto"})).await;
    let auto = create(&app, "acme", &key, json!({"conversation_ids": ["c1"]})).await;
    let (status, body) = post(&app, "acme", &op, &format!("/{}/approve", auto["id"]), None).await;
    assert_eq!(status, 409, "auto mode needs no approval: {body}");
}

async fn cancel_and_reject_leave_only_hashes(app: TestApp) {
    let key = seed(&app, "acme").await;
    let op = app.operator_key.clone();
    let first = create(&app, "acme", &key, json!({"consumer_ids": ["u1"]})).await;
    let id = first["id"].as_i64().unwrap();
    app.clock.advance(4 * DAY);
    let (status, canceled) = post(&app, "acme", &key, &format!("/{id}/cancel"), None).await;
    assert_eq!(
        (status, canceled["status"].as_str()),
        (200, Some("canceled")),
        "{canceled}"
    );
    assert_eq!(canceled["canceled_by"], "Mike");
    assert_eq!(canceled["target_hashed"], true);
    let shown = get(&app, "acme", &key, &format!("/{id}")).await.1.to_string();
    assert!(!shown.contains("\"u1\""), "raw id survives: {shown}");
    assert!(shown.contains("hmac-sha256:"), "{shown}");
    let (status, again) = post(&app, "acme", &key, &format!("/{id}/cancel"), None).await;
    assert_eq!((status, again["current_status"].as_str()), (409, Some("canceled")));
    assert_eq!(get(&app, "acme", &key, &format!("/{id}/preview")).await.0, 409);

    let second = create(&app, "acme", &key, json!({"channel_user": {"cid": "cid-1"}})).await;
    let second_id = second["id"].as_i64().unwrap();
    let reject = |k: String, body: Value| {
        let path = format!("/{second_id}/reject");
        let app = &app;
        async move { post(app, "acme", &k, &path, Some(body)).await }
    };
    assert_eq!(reject(key.clone(), json!({"reason": "dupe"})).await.0, 403);
    assert_eq!(reject(op.clone(), json!({"reason": " "})).await.0, 400);
    let (status, rejected) = reject(op.clone(), json!({"reason": "duplicate of another request"})).await;
    assert_eq!(
        (status, rejected["status"].as_str()),
        (200, Some("rejected")),
        "{rejected}"
    );
    assert_eq!(rejected["rejection_reason"], "duplicate of another request");
    assert!(!rejected.to_string().contains("cid-1"), "{rejected}");
}

async fn quota_holds_under_concurrency_and_resets_monthly(app: TestApp) {
    let key = seed(&app, "acme").await;
    let (status, _) = settings(&app, "acme", &key, json!({"monthly_quota": 4})).await;
    assert_eq!(status, 403, "quota is operator-only");
    settings(&app, "acme", &app.operator_key, json!({"monthly_quota": 4})).await;
    let path = "/v1/accounts/acme/deletion-requests";
    let attempts = (0..10).map(|_| {
        app.call(
            Method::POST,
            path,
            Some(&key),
            Some(json!({"conversation_ids": ["c1"]})),
        )
    });
    let responses = futures::future::join_all(attempts).await;
    let mut codes: Vec<u16> = responses.iter().map(|r| r.status().as_u16()).collect();
    codes.sort_unstable();
    assert_eq!(codes, [vec![201; 4], vec![429; 6]].concat());
    let refused = responses.into_iter().find(|r| r.status() == 429).unwrap();
    assert!(refused.headers().contains_key("retry-after"));
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["code"], "quota_exceeded");
    let (_, next_month) = utc_month(app.now_ms());
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains(&lethe_domain::time::to_rfc3339(next_month)),
        "{body}"
    );
    let lp = app
        .json(
            Method::POST,
            "/api/account/acme/personal-data-deletion",
            Some(&key),
            Some(json!({"conversation": ["c1"]})),
        )
        .await;
    assert_eq!(lp.0, 429, "every surface counts against one quota");

    app.clock.set(next_month);
    create(&app, "acme", &key, json!({"conversation_ids": ["c1"]})).await;
    let (_, report) = app
        .json(Method::GET, "/v1/accounts/acme/change-log/verify", Some(&key), None)
        .await;
    assert_eq!(report["valid"], true, "concurrent appends keep one chain: {report}");
    assert_eq!(
        report["entries"], 6,
        "the quota change, four creates, one after the reset: {report}"
    );
}

async fn idempotency_keys_replay_or_conflict(app: TestApp) {
    let key = seed(&app, "acme").await;
    let send = |idem: &'static str, body: Value| {
        let request = app
            .client
            .post(app.url("/v1/accounts/acme/deletion-requests"))
            .bearer_auth(&key)
            .header("Idempotency-Key", idem)
            .json(&body);
        async move {
            let response = request.send().await.unwrap();
            let replayed = response
                .headers()
                .get("idempotent-replayed")
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default();
            (
                response.status().as_u16(),
                replayed,
                response.json::<Value>().await.unwrap(),
            )
        }
    };
    let (status, replayed, first) = send("k-1", json!({"conversation_ids": ["c1"]})).await;
    assert_eq!((status, replayed.as_str()), (201, "false"));
    let (status, replayed, again) = send("k-1", json!({"conversation_ids": ["c1"]})).await;
    assert_eq!((status, replayed.as_str(), &again["id"]), (201, "true", &first["id"]));
    let (status, _, conflict) = send("k-1", json!({"conversation_ids": ["c2"]})).await;
    assert_eq!(status, 409, "{conflict}");
    app.clock.advance(DAY + 1);
    let (status, _, later) = send("k-1", json!({"conversation_ids": ["c2"]})).await;
    assert_eq!(status, 201, "keys are remembered 24 hours: {later}");
    assert_ne!(later["id"], first["id"]);
    let (_, list) = get(&app, "acme", &key, "").await;
    assert_eq!(list.as_array().unwrap().len(), 2);
}

async fn invalid_requests_name_the_field(app: TestApp) {
    let key = seed(&app, "acme").await;
    let ids: Vec<String> = (0..101).map(|i| format!("c{i}")).collect();
    let cases = [
        (json!({}), "target"),
        (
            json!({"conversation_ids": ["c1"], "consumer_ids": ["u1"]}),
            "consumer_ids",
        ),
        (json!({"conversation_ids": []}), "conversation_ids"),
        (json!({"conversation_ids": ["c1", 7]}), "conversation_ids[1]"),
        (json!({"conversation_ids": [""]}), "conversation_ids[0]"),
        (json!({"conversation_ids": ids}), "conversation_ids"),
        (json!({"conversation_ids": ["c1"], "reason": "x"}), "reason"),
        (
            json!({"engagement_ids": ["a"], "include_conversations": true}),
            "include_conversations",
        ),
        (
            json!({"channel_user": {"cid": "cid-1", "to": "yesterday"}}),
            "channel_user.to",
        ),
        (
            json!({"filter": {"start": {"from": 0, "to": 1}, "skill": "x"}}),
            "filter.skill",
        ),
        (
            json!({"filter": {"start": {"from": 0, "to": 93 * DAY}}}),
            "filter.start",
        ),
        (json!({"filter": {"end": {"from": 0, "to": 1}}}), "filter.start"),
    ];
    for (body, field) in cases {
        let (status, answer) = post(&app, "acme", &key, "", Some(body.clone())).await;
        assert_eq!(
            (status, answer["field"].as_str()),
            (400, Some(field)),
            "{body} → {answer}"
        );
    }
    // The test server allows 3 conversations per filter; a fourth makes it too many.
    let extra = conversation("c4", "2026-03-04T10:00:00Z", json!({}));
    app.json(Method::POST, "/v1/accounts/acme/conversations", Some(&key), Some(extra))
        .await;
    let start = parse_rfc3339("2026-02-20T00:00:00Z").unwrap();
    let all = json!({"filter": {"start": {"from": start, "to": start + 30 * DAY}}});
    let (status, answer) = post(&app, "acme", &key, "", Some(all)).await;
    assert_eq!((status, answer["field"].as_str()), (400, Some("filter")), "{answer}");
    assert!(
        answer["message"].as_str().unwrap().contains("matches 4 conversations"),
        "{answer}"
    );
    let malformed = app
        .client
        .post(app.url("/v1/accounts/acme/deletion-requests"))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body("{\"conversation_ids\": [")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status().as_u16(), 400);
    let (_, list) = get(&app, "acme", &key, "").await;
    assert_eq!(list, json!([]), "nothing was created by invalid input");
}

async fn targets_resolve_as_documented(app: TestApp) {
    let key = seed(&app, "acme").await;
    let preview = |body: Value| {
        let app = &app;
        let key = key.clone();
        async move {
            let (status, answer) = post(app, "acme", &key, "/preview", Some(body)).await;
            assert_eq!(status, 200, "{answer}");
            answer
        }
    };
    let profile_only = preview(json!({"consumer_ids": ["u1", "ghost"]})).await;
    assert_eq!(profile_only["counts"]["consumers"], 1);
    assert_eq!(
        profile_only["counts"]["conversations"], 0,
        "consumer targets leave conversations alone"
    );
    assert_eq!(profile_only["items"][1]["problem"], "not_found");
    let with_conversations = preview(json!({"consumer_ids": ["u1"], "include_conversations": true})).await;
    assert_eq!(with_conversations["counts"]["conversations"], 1);
    assert_eq!(
        with_conversations["items"][2],
        json!({"kind": "conversation", "id": "c2", "problem": "open"})
    );

    let user = preview(json!({"channel_user": {"cid": "cid-1", "from": "2026-03-02", "to": "2026-03-02"}})).await;
    let ids: Vec<&str> = user["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["c2"], "the date range is inclusive and by start time");
    let nobody = preview(json!({"channel_user": {"cid": "cid-9"}})).await;
    assert_eq!(nobody["items"][0]["problem"], "not_found");
    let wrong_kind = preview(json!({"engagement_ids": ["c1"]})).await;
    assert_eq!(
        wrong_kind["items"][0]["problem"], "not_found",
        "c1 is a messaging conversation"
    );

    let start = parse_rfc3339("2026-02-20T00:00:00Z").unwrap();
    let filter = json!({"filter": {"start": {"from": start, "to": start + 30 * DAY},
        "sdeSearch": {"customerInfo": "C-1"}}});
    assert_eq!(
        preview(filter.clone()).await["items"],
        json!([{"kind": "conversation", "id": "c1", "problem": null}])
    );
    let created = create(&app, "acme", &key, filter).await;
    let id = created["id"].as_i64().unwrap();
    let newer = conversation(
        "c5",
        "2026-03-05T10:00:00Z",
        json!({"end_time": "2026-03-05T10:30:00Z", "attributes": [{"kind": "customerInfo", "name": "customerId", "value": "C-1"}]}),
    );
    app.json(Method::POST, "/v1/accounts/acme/conversations", Some(&key), Some(newer))
        .await;
    app.clock.advance(5 * DAY + 1);
    let (_, shown) = get(&app, "acme", &key, &format!("/{id}")).await;
    let frozen: Vec<&str> = shown["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(frozen, vec!["c1", "c5"], "resolved when final: {shown}");
    let latest = conversation(
        "c6",
        "2026-03-06T10:00:00Z",
        json!({"end_time": "2026-03-06T10:30:00Z", "attributes": [{"kind": "customerInfo", "name": "customerId", "value": "C-1"}]}),
    );
    app.json(
        Method::POST,
        "/v1/accounts/acme/conversations",
        Some(&key),
        Some(latest),
    )
    .await;
    let (_, after) = get(&app, "acme", &key, &format!("/{id}/preview")).await;
    assert_eq!(
        after["items"].as_array().unwrap().len(),
        2,
        "a final request's preview is frozen: {after}"
    );
}

async fn settings_round_trip_and_validate(app: TestApp) {
    let key = seed(&app, "acme").await;
    let (status, defaults) = app
        .json(Method::GET, "/v1/accounts/acme/settings", Some(&key), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(defaults["grace_period_seconds"], 5 * 86_400);
    assert_eq!(defaults["monthly_quota"], 100);
    assert_eq!(defaults["approval_mode"], "auto");
    let patch = json!({"execution_window": "01:00-05:00 Europe/Berlin", "erasure_mode": "mask", "mask_marker": "[gone]",
        "retain_metrics": false, "notification_email": "privacy@acme.example", "webhook_url": "https://hooks.acme.example/lethe"});
    let (status, changed) = settings(&app, "acme", &key, patch).await;
    assert_eq!(
        (status, changed["execution_window"].as_str()),
        (200, Some("01:00-05:00 Europe/Berlin")),
        "{changed}"
    );
    assert_eq!(changed["erasure_mode"], "mask");
    let bad = [
        (json!({"execution_window": "01:00-05:00 Mars/Olympus"}), 400),
        (json!({"grace_period_seconds": 60 * 86_400}), 400),
        (json!({"erasure_mode": "shred"}), 400),
        (json!({"colour": "red"}), 400),
        (json!({"webhook_url": "http://127.0.0.1:9/x"}), 403),
        (json!({"min_grace_period_seconds": 10}), 403),
    ];
    for (patch, want) in bad {
        let (status, body) = settings(&app, "acme", &key, patch.clone()).await;
        assert_eq!(status, want, "{patch} → {body}");
    }
    let (status, _) = settings(
        &app,
        "acme",
        &app.operator_key,
        json!({"min_grace_period_seconds": 3600}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = settings(&app, "acme", &key, json!({"grace_period_seconds": 60})).await;
    assert_eq!(status, 400, "below the operator's minimum: {body}");
    let (status, cleared) = settings(&app, "acme", &key, json!({"notification_email": null})).await;
    assert_eq!((status, &cleared["notification_email"]), (200, &Value::Null));
}

backend_tests!(
    auto_mode_lifecycle,
    zero_grace_is_final_at_once,
    manual_mode_needs_an_operator,
    cancel_and_reject_leave_only_hashes,
    quota_holds_under_concurrency_and_resets_monthly,
    idempotency_keys_replay_or_conflict,
    invalid_requests_name_the_field,
    targets_resolve_as_documented,
    settings_round_trip_and_validate,
);
