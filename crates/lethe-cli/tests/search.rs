//! Native search and the LivePerson search dialect.

mod common;

use common::{conversation, TestApp};
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::HashSet;

/// 2026-03-01T00:00:00Z
const BASE: i64 = 1_772_323_200_000;
const MINUTE: i64 = 60_000;

fn at(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// 24 conversations, 5 minutes apart: three consumers, every fourth open, every third a chat.
async fn seed(app: &TestApp) -> String {
    let key = app.account_with_key("acme").await;
    for i in 0..24i64 {
        let start = BASE + i * 5 * MINUTE;
        let chat = i % 3 == 0;
        let id = if chat {
            format!("acme{i:04}")
        } else {
            format!("c{i:02}")
        };
        let mut extra = json!({
            "consumer_id": format!("u{}", i % 3),
            "channel_user_id": format!("cid-{}", i % 3),
            "kind": if chat { "chat" } else { "messaging" },
            "attributes": [{"kind": "customerInfo", "name": "customerId", "value": format!("C-{}", i % 3)}],
            "messages": [{"id": "m1", "time": at(start + 1000), "sent_by": "consumer", "text": format!("text {i}")}],
        });
        if i % 4 != 0 {
            extra["end_time"] = json!(at(start + (24 - i) * 7 * MINUTE));
        }
        let (status, body) = app
            .json(
                Method::POST,
                "/v1/accounts/acme/conversations",
                Some(&key),
                Some(conversation(&id, &at(start), extra)),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    key
}

async fn all_pages(app: &TestApp, key: &str, mut body: Value) -> Vec<String> {
    let mut ids = Vec::new();
    loop {
        let (status, page) = app
            .json(
                Method::POST,
                "/v1/accounts/acme/conversations/search",
                Some(key),
                Some(body.clone()),
            )
            .await;
        assert_eq!(status, 200, "{page}");
        ids.extend(
            page["conversations"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(cursor) => body["cursor"] = json!(cursor),
            None => return ids,
        }
    }
}

async fn native_search_filters_and_keyset_paging(app: TestApp) {
    let key = seed(&app).await;
    for sort in ["start:asc", "start:desc", "end:asc", "end:desc"] {
        let ids = all_pages(&app, &key, json!({"sort": sort, "limit": 5})).await;
        let unique: HashSet<_> = ids.iter().collect();
        assert_eq!((ids.len(), unique.len()), (24, 24), "{sort}: every record exactly once");
    }
    let asc = all_pages(&app, &key, json!({"sort": "start:asc", "limit": 7})).await;
    let mut desc = all_pages(&app, &key, json!({"sort": "start:desc", "limit": 7})).await;
    desc.reverse();
    assert_eq!(asc, desc);
    let by_end = all_pages(&app, &key, json!({"sort": "end:asc", "limit": 4, "status": ["closed"]})).await;
    assert_eq!(by_end.first().map(String::as_str), Some("c23"), "ends soonest first");

    let count = |body: Value| {
        let app = &app;
        let key = key.clone();
        async move { all_pages(app, &key, body).await.len() }
    };
    assert_eq!(count(json!({"consumer_id": "u1"})).await, 8);
    assert_eq!(count(json!({"status": ["open"]})).await, 6);
    assert_eq!(count(json!({"kind": "chat"})).await, 8);
    assert_eq!(count(json!({"channel_user_id": "cid-2"})).await, 8);
    assert_eq!(
        count(json!({"attributes": [{"kind": "customerInfo", "value": "C-0"}]})).await,
        8
    );
    assert_eq!(
        count(json!({"attributes": [{"kind": "personalInfo", "value": "C-0"}]})).await,
        0,
        "an attribute matches only its own kind"
    );
    assert_eq!(
        count(json!({"start": {"from": at(BASE), "to": at(BASE + 10 * MINUTE)}})).await,
        3
    );
    assert_eq!(
        count(json!({"consumer_id": "u0", "kind": "chat", "status": ["closed"]})).await,
        6
    );

    let (status, body) = app
        .json(
            Method::POST,
            "/v1/accounts/acme/conversations/search",
            Some(&key),
            Some(json!({"limit": 0})),
        )
        .await;
    assert_eq!((status, body["field"].as_str()), (400, Some("limit")));
    let (status, _) = app
        .json(
            Method::POST,
            "/v1/accounts/acme/conversations/search",
            Some(&key),
            Some(json!({"cursor": "garbage"})),
        )
        .await;
    assert_eq!(status, 400);
}

fn lp(path: &str) -> String {
    format!("/messaging_history/api/account/acme/conversations/{path}")
}

async fn liveperson_search(app: TestApp) {
    let key = seed(&app).await;
    let range = json!({"from": BASE, "to": BASE + 200 * MINUTE});
    let (status, page) = app
        .json(
            Method::POST,
            &lp("search?offset=0&limit=10&sort=start:asc"),
            Some(&key),
            Some(json!({"start": range})),
        )
        .await;
    assert_eq!(status, 200, "{page}");
    let meta = &page["_metadata"];
    assert_eq!(meta["count"], 24);
    assert_eq!(meta["self"]["rel"], "self");
    assert!(
        meta["next"]["href"]
            .as_str()
            .unwrap()
            .contains("offset=10&limit=10&sort=start:asc"),
        "{meta}"
    );
    assert!(meta.get("prev").is_none(), "no previous page on the first one");
    let records = page["conversationHistoryRecords"].as_array().unwrap();
    assert_eq!(records.len(), 10);
    let first = &records[0];
    assert_eq!(first["info"]["conversationId"], "acme0000");
    assert_eq!(first["info"]["startTime"], BASE);
    assert_eq!(first["info"]["status"], "OPEN");
    assert_eq!(first["info"]["brandId"], "acme");
    assert_eq!(first["messageRecords"][0]["messageData"]["msg"]["text"], "text 0");
    assert_eq!(first["messageRecords"][0]["type"], "TEXT_PLAIN");
    assert_eq!(first["messageRecords"][0]["sentBy"], "Consumer");
    assert_eq!(first["messageRecords"][0]["timeL"], BASE + 1000);
    assert_eq!(first["sdes"]["events"][0]["sdeType"], "CUSTOMER_INFO");

    let mut seen = HashSet::new();
    for sort in ["start:desc", "end:asc"] {
        seen.clear();
        for offset in (0..30).step_by(7) {
            let (_, page) = app
                .json(
                    Method::POST,
                    &lp(&format!("search?offset={offset}&limit=7&sort={sort}")),
                    Some(&key),
                    Some(json!({"start": range})),
                )
                .await;
            for r in page["conversationHistoryRecords"].as_array().unwrap() {
                assert!(
                    seen.insert(r["info"]["conversationId"].as_str().unwrap().to_owned()),
                    "{sort}: duplicate"
                );
            }
            if offset > 0 {
                assert!(page["_metadata"]["prev"].is_object());
            }
        }
        assert_eq!(seen.len(), 24, "{sort}: nothing missing");
    }

    // `to` rounds up to the next 10 minutes: a range ending 1 ms after a start at 10:05
    // still reaches the conversation at 10:10; `from` rounds down likewise.
    let narrow = json!({"start": {"from": BASE + 11 * MINUTE, "to": BASE + 11 * MINUTE + 1}});
    let (_, page) = app.json(Method::POST, &lp("search"), Some(&key), Some(narrow)).await;
    assert_eq!(
        page["_metadata"]["count"], 3,
        "10:10 to 10:20 after rounding covers starts at 10:10, 10:15, 10:20: {page}"
    );

    let day = 86_400_000i64;
    let long = json!({"start": {"from": 0, "to": 92 * day + 1}});
    let (status, body) = app.json(Method::POST, &lp("search"), Some(&key), Some(long)).await;
    assert_eq!((status, body["field"].as_str()), (400, Some("start")), "{body}");
    let ok = json!({"start": {"from": 0, "to": 92 * day}});
    assert_eq!(app.json(Method::POST, &lp("search"), Some(&key), Some(ok)).await.0, 200);
    assert_eq!(
        app.json(
            Method::POST,
            &lp("search?limit=101"),
            Some(&key),
            Some(json!({"start": range}))
        )
        .await
        .0,
        400
    );
    let huge = format!("search?offset={}", u64::MAX);
    let (status, body) = app
        .json(Method::POST, &lp(&huge), Some(&key), Some(json!({"start": range})))
        .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (400, Some("offset")),
        "an offset beyond any result is refused, not a 500: {body}"
    );
    let (_, page) = app
        .json(Method::POST, &lp("search"), Some(&key), Some(json!({"start": range})))
        .await;
    assert_eq!(
        page["conversationHistoryRecords"].as_array().unwrap().len(),
        24,
        "limit defaults to 50"
    );

    let (status, body) = app
        .json(
            Method::POST,
            &lp("search"),
            Some(&key),
            Some(json!({"start": range, "keyword": "refund"})),
        )
        .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (400, Some("keyword")),
        "unimplemented filters are refused: {body}"
    );
    assert_eq!(
        app.json(Method::POST, &lp("search"), Some(&key), Some(json!({"end": range})))
            .await
            .0,
        400,
        "start is required"
    );

    let sde = json!({"start": range, "sdeSearch": {"customerInfo": "C-2"}, "status": ["CLOSE"], "contentToRetrieve": ["info", "sdes"]});
    let (_, page) = app.json(Method::POST, &lp("search"), Some(&key), Some(sde)).await;
    assert_eq!(page["_metadata"]["count"], 6);
    let record = page["conversationHistoryRecords"][0].as_object().unwrap();
    let keys: HashSet<&str> = record.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        HashSet::from(["info", "sdes"]),
        "the projection returns only what was asked"
    );
    let (status, _) = app
        .json(
            Method::POST,
            &lp("search"),
            Some(&key),
            Some(json!({"start": range, "contentToRetrieve": ["transfers"]})),
        )
        .await;
    assert_eq!(status, 400);

    let (status, page) = app
        .json(
            Method::POST,
            &lp("consumer/search?limit=5"),
            Some(&key),
            Some(json!({"consumer": "u1", "status": ["CLOSE"]})),
        )
        .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["_metadata"]["count"], 6);
    assert_eq!(page["conversationHistoryRecords"].as_array().unwrap().len(), 5);
    let (status, _) = app
        .json(
            Method::POST,
            &lp("consumer/search"),
            Some(&key),
            Some(json!({"consumer": "u1", "extra": 1})),
        )
        .await;
    assert_eq!(status, 400);
}

/// A page too large to read on the async worker is read on a blocking thread; both
/// give the same records.
async fn large_and_small_pages_agree(app: TestApp) {
    let key = seed(&app).await;
    for i in 24..30i64 {
        let extra = json!({
            "consumer_id": "u0",
            "messages": [{"id": "m1", "time": at(BASE + i * 5 * MINUTE + 1000), "sent_by": "consumer", "text": format!("text {i}")}],
        });
        let conv = conversation(&format!("c{i:02}"), &at(BASE + i * 5 * MINUTE), extra);
        let (status, body) = app
            .json(Method::POST, "/v1/accounts/acme/conversations", Some(&key), Some(conv))
            .await;
        assert_eq!(status, 201, "{body}");
    }
    let range = json!({"start": {"from": BASE, "to": BASE + 200 * MINUTE}});
    let page = |query: String| {
        let (app, key, range) = (&app, &key, range.clone());
        async move {
            let (status, page) = app.json(Method::POST, &lp(&query), Some(key), Some(range)).await;
            assert_eq!(status, 200, "{page}");
            page["conversationHistoryRecords"].as_array().unwrap().clone()
        }
    };
    let whole = page("search?offset=0&limit=30".into()).await;
    assert_eq!(whole.len(), 30);
    let mut halves = page("search?offset=0&limit=15".into()).await;
    halves.extend(page("search?offset=15&limit=15".into()).await);
    assert_eq!(whole, halves);
    assert!(whole
        .iter()
        .all(|r| r["messageRecords"][0]["messageData"]["msg"]["text"].is_string()));
}

backend_tests!(
    native_search_filters_and_keyset_paging,
    liveperson_search,
    large_and_small_pages_agree
);
