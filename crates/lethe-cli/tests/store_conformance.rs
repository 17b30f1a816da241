//! The storage conformance suite: one story against the `Store` trait, run on SQLite
//! and PostgreSQL, so both backends keep the same contract.

mod common;

use common::pg::TempDatabase;
use lethe_domain::filter::{Cursor, Page, Sort};
use lethe_domain::ConversationId;
use lethe_store::*;
use std::sync::Arc;

struct Opened {
    store: Arc<dyn Store>,
    url: String,
    _dir: tempfile::TempDir,
    _pg: Option<TempDatabase>,
}

async fn open(postgres: bool) -> Option<Opened> {
    let dir = tempfile::tempdir().unwrap();
    let (url, pg) = if postgres {
        let db = TempDatabase::create().await?;
        (db.url.clone(), Some(db))
    } else {
        (format!("sqlite://{}", dir.path().join("s.db").display()), None)
    };
    let store = lethe_store::open(&url).await.expect("open store");
    Some(Opened {
        store,
        url,
        _dir: dir,
        _pg: pg,
    })
}

macro_rules! conformance {
    ($($name:ident),+) => {
        mod sqlite { $( #[tokio::test] async fn $name() { super::$name(super::open(false).await.unwrap()).await } )+ }
        mod postgres { $( #[tokio::test] async fn $name() { if let Some(s) = super::open(true).await { super::$name(s).await } } )+ }
    };
}

fn check(lookup: u8, kek_id: &str, kek: u8) -> KeyringCheck {
    KeyringCheck {
        kek_id: kek_id.into(),
        kek_check: vec![kek; 32],
        lookup_check: vec![lookup; 32],
    }
}

fn api_key(account: Option<&str>, hash: u8) -> NewApiKey {
    NewApiKey {
        account_id: account.map(Into::into),
        name: "k".into(),
        scopes: "admin".into(),
        prefix: "lethe_x".into(),
        key_hash: vec![hash; 32],
        created_at: 1,
    }
}

fn key(tag: u8) -> StoredKey {
    StoredKey {
        kek_id: "k1".into(),
        wrapped: vec![tag; 40],
    }
}

fn conversation(id: &str, start: i64, mac: u8) -> ImportedConversation {
    let message = |n: usize| MessageWrite {
        message_id: format!("m{n}"),
        time: start + n as i64,
        sent_by: if n.is_multiple_of(2) { "consumer" } else { "agent" }.into(),
        participant_id: None,
        msg_type: "text".into(),
        file_id: None,
        sealed_body: vec![n as u8; 16],
        content_mac: vec![n as u8; 32],
    };
    ImportedConversation {
        conversation: ConversationWrite {
            conversation_id: id.into(),
            kind: "messaging".into(),
            status: "closed".into(),
            consumer_id: Some("u1".into()),
            bot_id: None,
            cid_hash: None,
            start_time: start,
            end_time: Some(start + 100),
            close_reason: None,
            source: None,
            device: None,
            agent_id: None,
            skill_id: None,
            csat: Some(4),
            mcs: None,
            sealed_participant: None,
            content_mac: vec![mac; 32],
            key: key(mac),
            attributes: vec![AttributeWrite {
                kind: "customerInfo".into(),
                value_hash: vec![9; 32],
                sealed: vec![1; 8],
            }],
            created_at: start,
        },
        messages: (0..4).map(message).collect(),
        survey_answers: Vec::new(),
        files: Vec::new(),
    }
}

async fn bootstrap_and_secrets(s: Opened) {
    let store = &s.store;
    assert!(
        store.bootstrap(&check(1, "k1", 2), &api_key(None, 1)).await.unwrap(),
        "first start creates the operator key"
    );
    assert!(
        !store.bootstrap(&check(1, "k1", 2), &api_key(None, 2)).await.unwrap(),
        "exactly once"
    );
    assert!(matches!(
        store.bootstrap(&check(9, "k1", 2), &api_key(None, 3)).await,
        Err(StoreError::KeyringMismatch(_))
    ));
    assert!(matches!(
        store.bootstrap(&check(1, "k1", 7), &api_key(None, 3)).await,
        Err(StoreError::KeyringMismatch(_))
    ));
    assert!(matches!(
        store.bootstrap(&check(1, "k2", 2), &api_key(None, 3)).await,
        Err(StoreError::KeyringMismatch(_))
    ));
    assert_eq!(store.api_keys(None).await.unwrap().len(), 1);
}

async fn concurrent_first_starts_create_one_operator_key(s: Opened) {
    let second = lethe_store::open(&s.url).await.unwrap();
    let starts = (0..6u8).map(|i| {
        let store = if i % 2 == 0 { s.store.clone() } else { second.clone() };
        tokio::spawn(async move {
            store
                .bootstrap(&check(1, "k1", 2), &api_key(None, 10 + i))
                .await
                .unwrap()
        })
    });
    let created = futures::future::join_all(starts)
        .await
        .into_iter()
        .filter(|r| *r.as_ref().unwrap())
        .count();
    assert_eq!(created, 1);
    assert_eq!(s.store.api_keys(None).await.unwrap().len(), 1);
}

async fn accounts_keys_and_data_keys(s: Opened) {
    let store = &s.store;
    assert_eq!(store.create_account("a1", 1).await.unwrap(), WriteOutcome::Created);
    assert_eq!(store.create_account("a1", 2).await.unwrap(), WriteOutcome::Conflict);
    store.create_account("a2", 1).await.unwrap();
    let id = store.create_api_key(&api_key(Some("a1"), 5)).await.unwrap();
    assert_eq!(
        store
            .api_key_by_hash(&[5; 32])
            .await
            .unwrap()
            .unwrap()
            .account_id
            .as_deref(),
        Some("a1")
    );
    assert!(
        !store.revoke_api_key(Some("a2"), id, 3).await.unwrap(),
        "another account's key is not found"
    );
    assert!(store.revoke_api_key(Some("a1"), id, 3).await.unwrap());
    assert_eq!(
        store.api_key_by_hash(&[5; 32]).await.unwrap().unwrap().revoked_at,
        Some(3)
    );

    let first = store
        .ensure_data_keys("a1", KeyOwnerKind::Consumer, &[("u1".into(), key(1))], 1)
        .await
        .unwrap();
    let again = store
        .ensure_data_keys(
            "a1",
            KeyOwnerKind::Consumer,
            &[("u1".into(), key(2)), ("u2".into(), key(3))],
            1,
        )
        .await
        .unwrap();
    assert_eq!(again, vec![first[0].clone(), key(3)], "the first key written wins");
    let other = store
        .ensure_data_keys("a2", KeyOwnerKind::Consumer, &[("u1".into(), key(4))], 1)
        .await
        .unwrap();
    assert_eq!(other, vec![key(4)], "ids are unique per account only");
}

async fn import_batches_are_atomic_and_idempotent(s: Opened) {
    let store = &s.store;
    store.create_account("a1", 1).await.unwrap();
    let batch = ImportBatch {
        consumers: Vec::new(),
        conversations: vec![conversation("c1", 1000, 1), conversation("c2", 2000, 2)],
    };
    let counts = store.import_batch("a1", &batch).await.unwrap().unwrap();
    assert_eq!((counts.conversations_created, counts.messages), (2, 8));
    let counts = store.import_batch("a1", &batch).await.unwrap().unwrap();
    assert_eq!((counts.conversations_unchanged, counts.unchanged_ids.len()), (2, 2));
    let conflicting = ImportBatch {
        consumers: Vec::new(),
        conversations: vec![conversation("c3", 3000, 3), conversation("c1", 1000, 9)],
    };
    assert!(store.import_batch("a1", &conflicting).await.unwrap().is_err());
    assert!(
        store.conversation("a1", "c3").await.unwrap().is_none(),
        "a conflicting batch writes nothing"
    );
    let metrics = store.metrics("a1", "c1").await.unwrap().unwrap();
    assert_eq!(
        (
            metrics.duration_ms,
            metrics.consumer_messages,
            metrics.first_response_ms,
            metrics.csat
        ),
        (100, 2, Some(1), Some(4))
    );
    let parts = store
        .conversation_parts(
            "a1",
            &["c1".into(), "c2".into()],
            PartsWanted {
                messages: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(parts.messages.len(), 8);
    let c1 = store.conversation("a1", "c1").await.unwrap().expect("c1 exists");
    let packed = c1.sealed_attributes.expect("c1 has an attribute");
    assert_eq!(
        lethe_store::unpack_sealed(&packed),
        Some(vec![(0, &[1u8; 8][..])]),
        "the attribute's sealed value comes with its conversation row"
    );
    let msg = conversation("x", 0, 0).messages[0].clone();
    assert_eq!(
        store.append_message("a1", "c1", &msg).await.unwrap(),
        Ok(WriteOutcome::Unchanged),
        "same id, same content"
    );
    let new_msg = MessageWrite {
        message_id: "m9".into(),
        ..msg
    };
    assert_eq!(
        store.append_message("a1", "c1", &new_msg).await.unwrap(),
        Err(AppendRefusal::Closed)
    );
    assert_eq!(
        store.append_message("a1", "nope", &new_msg).await.unwrap(),
        Err(AppendRefusal::Missing)
    );
}

async fn search_pages_by_offset_and_keyset(s: Opened) {
    let store = &s.store;
    store.create_account("a1", 1).await.unwrap();
    let conversations = (0..10)
        .map(|i| conversation(&format!("c{i}"), 1000 + (i % 5) * 10, i as u8))
        .collect();
    store
        .import_batch(
            "a1",
            &ImportBatch {
                consumers: Vec::new(),
                conversations,
            },
        )
        .await
        .unwrap()
        .unwrap();
    let filter = StoreFilter {
        consumer_id: Some("u1".into()),
        ..Default::default()
    };
    let page = store
        .search(
            "a1",
            &filter,
            Sort::default(),
            &Page::Offset { offset: 8, limit: 5 },
            PartsWanted {
                messages: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!((page.total, page.rows.len()), (Some(10), 2));
    let in_rows: usize = page
        .rows
        .iter()
        .map(|r| {
            lethe_store::unpack_messages(r.sealed_messages.as_deref().unwrap())
                .unwrap()
                .len()
        })
        .sum();
    assert_eq!(in_rows, 8, "the page's messages come in its rows, and only those");
    for (offset, limit, shown) in [(0, 10, 10), (5, 5, 5), (10, 5, 0), (20, 5, 0)] {
        let page = store
            .search(
                "a1",
                &filter,
                Sort::default(),
                &Page::Offset { offset, limit },
                PartsWanted::default(),
            )
            .await
            .unwrap();
        assert_eq!(
            (page.total, page.rows.len()),
            (Some(10), shown),
            "offset {offset}, limit {limit}: full and empty pages still count"
        );
    }
    let without = store
        .search(
            "a1",
            &filter,
            Sort::default(),
            &Page::Offset { offset: 8, limit: 5 },
            PartsWanted::default(),
        )
        .await
        .unwrap();
    assert!(
        without.rows.iter().all(|r| r.sealed_messages.is_none()),
        "a search that does not want the messages drops them"
    );
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .search(
                "a1",
                &filter,
                Sort::default(),
                &Page::Keyset {
                    after: after.clone(),
                    limit: 3,
                },
                PartsWanted::default(),
            )
            .await
            .unwrap();
        seen.extend(page.rows.iter().map(|r| r.conversation_id.clone()));
        let Some(last) = page.rows.last().filter(|_| page.has_more) else {
            break;
        };
        after = Some(Cursor {
            sort_value: last.start_time,
            conversation_id: ConversationId::parse(last.conversation_id.clone()).unwrap(),
        });
    }
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(
        (seen.len(), sorted.len()),
        (10, 10),
        "ties on start time page without loss or repeats"
    );
    let none = StoreFilter {
        attribute_hashes: vec![vec![8; 32]],
        ..Default::default()
    };
    assert_eq!(
        store
            .search(
                "a1",
                &none,
                Sort::default(),
                &Page::Offset { offset: 0, limit: 5 },
                PartsWanted::default()
            )
            .await
            .unwrap()
            .total,
        Some(0)
    );
    let hit = StoreFilter {
        attribute_hashes: vec![vec![9; 32]],
        statuses: vec!["closed".into()],
        ..Default::default()
    };
    assert_eq!(
        store
            .search(
                "a1",
                &hit,
                Sort::default(),
                &Page::Offset { offset: 0, limit: 5 },
                PartsWanted::default()
            )
            .await
            .unwrap()
            .total,
        Some(10)
    );
}

fn answer(survey: &str, question: &str) -> SurveyAnswerWrite {
    SurveyAnswerWrite {
        survey_id: survey.into(),
        question_id: question.into(),
        question: None,
        choice: Some("5".into()),
        sealed_text: None,
    }
}

/// A search reads the survey answers of the conversations that have some, whether they
/// came with the import, were added later or were never there.
async fn search_reads_the_survey_answers_each_conversation_has(s: Opened) {
    let store = &s.store;
    store.create_account("a1", 1).await.unwrap();
    let mut imported = conversation("s0", 1000, 1);
    imported.survey_answers = vec![answer("sv", "q1"), answer("sv", "q2")];
    let conversations = vec![imported, conversation("s1", 1010, 2), conversation("s2", 1020, 3)];
    let batch = ImportBatch {
        consumers: Vec::new(),
        conversations,
    };
    store.import_batch("a1", &batch).await.unwrap().unwrap();
    let added = store.add_survey("a1", "s2", &[answer("later", "q1")]).await.unwrap();
    assert_eq!(added, Ok(WriteOutcome::Created));
    let filter = StoreFilter {
        consumer_id: Some("u1".into()),
        ..Default::default()
    };
    let wanted = PartsWanted {
        surveys: true,
        ..Default::default()
    };
    let page = Page::Offset { offset: 0, limit: 10 };
    let found = store
        .search("a1", &filter, Sort::default(), &page, wanted)
        .await
        .unwrap();
    assert_eq!(
        common::survey_counts(&found),
        [("s0".to_owned(), 2), ("s1".to_owned(), 0), ("s2".to_owned(), 1)]
    );
    let mut answers: Vec<(&str, &str, &str)> = found
        .parts
        .survey_answers
        .iter()
        .map(|a| (a.conversation_id.as_str(), a.survey_id.as_str(), a.question_id.as_str()))
        .collect();
    answers.sort();
    assert_eq!(answers, [("s0", "sv", "q1"), ("s0", "sv", "q2"), ("s2", "later", "q1")]);

    // Asked for by id: each row once whatever the list repeats, in conversation, survey
    // and question order, and never another account's rows under the same ids.
    store.create_account("a2", 1).await.unwrap();
    let mut theirs = conversation("s0", 1000, 1);
    theirs.survey_answers = vec![answer("theirs", "q1")];
    let batch = ImportBatch {
        consumers: Vec::new(),
        conversations: vec![theirs],
    };
    store.import_batch("a2", &batch).await.unwrap().unwrap();
    let ids: Vec<String> = ["s2", "s0", "nope", "s2", "s0"].map(String::from).to_vec();
    let parts = store.conversation_parts("a1", &ids, wanted).await.unwrap();
    let listed: Vec<(&str, &str, &str)> = parts
        .survey_answers
        .iter()
        .map(|a| (a.conversation_id.as_str(), a.survey_id.as_str(), a.question_id.as_str()))
        .collect();
    assert_eq!(listed, [("s0", "sv", "q1"), ("s0", "sv", "q2"), ("s2", "later", "q1")]);
}

conformance!(
    bootstrap_and_secrets,
    concurrent_first_starts_create_one_operator_key,
    accounts_keys_and_data_keys,
    import_batches_are_atomic_and_idempotent,
    search_pages_by_offset_and_keyset,
    search_reads_the_survey_answers_each_conversation_has
);
