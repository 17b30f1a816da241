//! Schema migrations carry existing data forward, on SQLite and PostgreSQL: a database
//! made by the earlier migrations, holding rows in their old shape, opens with every
//! value where the current schema keeps it.

mod common;

use common::pg::TempDatabase;
use lethe_domain::filter::{Page, Sort};
use lethe_store::{PartsWanted, StoreFilter};
use sqlx::migrate::Migrator;
use std::path::{Path, PathBuf};

/// The migrations that left a conversation's sealed attributes in their own rows.
const BEFORE_SEALED_ATTRIBUTES: usize = 7;

fn migrations_dir(backend: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../lethe-store/migrations")
        .join(backend)
}

/// A directory holding the first `count` migrations of a backend.
fn first_migrations(backend: &str, count: usize) -> tempfile::TempDir {
    let mut files: Vec<PathBuf> = std::fs::read_dir(migrations_dir(backend))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let dir = tempfile::tempdir().unwrap();
    for file in &files[..count] {
        std::fs::copy(file, dir.path().join(file.file_name().unwrap())).unwrap();
    }
    dir
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Rows as the schema of migration 0007 held them: a conversation with two sealed
/// attributes, stored out of position order, and one without any; each conversation's
/// data key in `data_keys`, beside a consumer's; c1's three messages in their own rows
/// (inserted out of order, one referencing a hosted file, one with a non-ASCII id) and
/// two survey answers.
fn old_rows(postgres: bool) -> String {
    let blob = |bytes: &[u8]| match postgres {
        true => format!("'\\x{}'::bytea", hex(bytes)),
        false => format!("x'{}'", hex(bytes)),
    };
    let conversation = |id: &str, key: u8| {
        format!(
            "INSERT INTO conversations (account_id, conversation_id, kind, status, start_time, content_mac, created_at) \
             VALUES ('a1', '{id}', 'messaging', 'closed', 1000, {mac}, 1); \
             INSERT INTO data_keys (account_id, owner_kind, owner_id, kek_id, wrapped, created_at) \
             VALUES ('a1', 'conversation', '{id}', 'k1', {wrapped}, 1);",
            mac = blob(&[1; 32]),
            wrapped = blob(&[key; 8]),
        )
    };
    let attribute = |position: i64, hash: u8, sealed: &[u8]| {
        format!(
            "INSERT INTO conversation_attributes (account_id, conversation_id, position, kind, value_hash, sealed) \
             VALUES ('a1', 'c1', {position}, 'customerInfo', {}, {});",
            blob(&[hash; 32]),
            blob(sealed)
        )
    };
    let message = |seq: i64, id: &str, participant: &str, file: &str, body: &[u8]| {
        format!(
            "INSERT INTO messages (account_id, conversation_id, message_id, seq, time, sent_by, \
             participant_id, msg_type, file_id, sealed_body, content_mac) \
             VALUES ('a1', 'c1', '{id}', {seq}, {time}, 'agent', {participant}, 'TEXT_PLAIN', {file}, {}, {});",
            blob(body),
            blob(&[seq as u8; 32]),
            time = 2000 + seq,
        )
    };
    [
        "INSERT INTO accounts (site_id, created_at) VALUES ('a1', 1);".to_owned(),
        message(2, "m3", "NULL", "'f1'", b"third"),
        message(0, "m1-\u{e9}", "'agent-1'", "NULL", b"first body"),
        message(1, "m2", "NULL", "NULL", b""),
        "INSERT INTO files (account_id, file_id, conversation_id, blob_key, content_type, size, created_at) \
         VALUES ('a1', 'f1', 'c1', 'a1/b1', 'image/png', 3, 1);"
            .to_owned(),
        "INSERT INTO survey_answers (account_id, conversation_id, survey_id, question_id, choice) \
         VALUES ('a1', 'c1', 's1', 'q1', '5'), ('a1', 'c1', 's1', 'q2', '3');"
            .to_owned(),
        conversation("c1", 2),
        conversation("c2", 3),
        format!(
            "INSERT INTO data_keys (account_id, owner_kind, owner_id, kek_id, wrapped, created_at) \
             VALUES ('a1', 'consumer', 'u1', 'k1', {}, 1);",
            blob(&[4; 8])
        ),
        attribute(1, 8, b"second sealed value"),
        attribute(0, 7, b"first"),
    ]
    .concat()
}

/// A database at migration 0007 holding [`old_rows`]; its URL.
async fn old_database(postgres: bool, pg: Option<&TempDatabase>, dir: &Path) -> String {
    let backend = if postgres { "postgres" } else { "sqlite" };
    let migrations = Migrator::new(first_migrations(backend, BEFORE_SEALED_ATTRIBUTES).path())
        .await
        .unwrap();
    match pg {
        Some(db) => {
            let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
            migrations.run(&pool).await.unwrap();
            sqlx::raw_sql(&old_rows(true)).execute(&pool).await.unwrap();
            pool.close().await;
            db.url.clone()
        }
        None => {
            let url = format!("sqlite://{}", dir.join("old.db").display());
            let pool = sqlx::SqlitePool::connect(&format!("{url}?mode=rwc")).await.unwrap();
            migrations.run(&pool).await.unwrap();
            sqlx::raw_sql(&old_rows(false)).execute(&pool).await.unwrap();
            pool.close().await;
            url
        }
    }
}

/// A PostgreSQL database when `postgres` (`None` when the suite may skip it), and a
/// directory for a SQLite file.
async fn scratch(postgres: bool) -> Option<(tempfile::TempDir, Option<TempDatabase>)> {
    let dir = tempfile::tempdir().unwrap();
    match postgres {
        true => Some((dir, Some(TempDatabase::create().await?))),
        false => Some((dir, None)),
    }
}

/// Migration 0008 folds each conversation's sealed attributes into its row, in
/// position order, and keeps what attribute search matches on.
async fn sealed_attributes_move_into_the_conversation_row(postgres: bool) {
    let Some((dir, pg)) = scratch(postgres).await else {
        return;
    };
    let url = old_database(postgres, pg.as_ref(), dir.path()).await;
    let store = lethe_store::open(&url).await.expect("the store migrates and opens");
    let c1 = store.conversation("a1", "c1").await.unwrap().expect("c1 is kept");
    let packed = c1.sealed_attributes.expect("c1's attributes are in its row");
    assert_eq!(
        lethe_store::unpack_sealed(&packed),
        Some(vec![(0, &b"first"[..]), (1, &b"second sealed value"[..])])
    );
    let c2 = store.conversation("a1", "c2").await.unwrap().expect("c2 is kept");
    assert_eq!(c2.sealed_attributes, None, "no attributes, no frames");
    let by_attribute = StoreFilter {
        attribute_hashes: vec![vec![8; 32]],
        ..StoreFilter::default()
    };
    let page = Page::Offset { offset: 0, limit: 10 };
    let found = store
        .search("a1", &by_attribute, Sort::default(), &page, PartsWanted::default())
        .await
        .unwrap();
    let ids: Vec<&str> = found.rows.iter().map(|r| r.conversation_id.as_str()).collect();
    assert_eq!(ids, ["c1"], "attribute search still finds the conversation");
}

#[tokio::test]
async fn sqlite_sealed_attributes_move_into_the_conversation_row() {
    sealed_attributes_move_into_the_conversation_row(false).await;
}

#[tokio::test]
async fn postgres_sealed_attributes_move_into_the_conversation_row() {
    sealed_attributes_move_into_the_conversation_row(true).await;
}

/// Rows left in `data_keys` per owner kind, read straight from the database.
async fn data_key_owners(url: &str) -> Vec<(String, i64)> {
    const SQL: &str = "SELECT owner_kind, COUNT(*) FROM data_keys GROUP BY owner_kind ORDER BY owner_kind";
    match url.starts_with("sqlite:") {
        true => {
            let pool = sqlx::SqlitePool::connect(url).await.unwrap();
            sqlx::query_as(SQL).fetch_all(&pool).await.unwrap()
        }
        false => {
            let pool = sqlx::PgPool::connect(url).await.unwrap();
            sqlx::query_as(SQL).fetch_all(&pool).await.unwrap()
        }
    }
}

/// Migration 0009 moves each conversation's wrapped data key into its row and leaves
/// the other owners' keys where they were.
async fn conversation_keys_move_into_the_conversation_row(postgres: bool) {
    let Some((dir, pg)) = scratch(postgres).await else {
        return;
    };
    let url = old_database(postgres, pg.as_ref(), dir.path()).await;
    let store = lethe_store::open(&url).await.expect("the store migrates and opens");
    for (id, key) in [("c1", 2), ("c2", 3)] {
        let row = store
            .conversation("a1", id)
            .await
            .unwrap()
            .expect("the conversation is kept");
        assert_eq!(
            (row.kek_id.as_str(), row.wrapped),
            ("k1", vec![key; 8]),
            "{id}'s own key"
        );
    }
    let found = store
        .search(
            "a1",
            &StoreFilter::default(),
            Sort::default(),
            &Page::Offset { offset: 0, limit: 10 },
            PartsWanted::default(),
        )
        .await
        .unwrap();
    assert_eq!(found.rows.len(), 2, "search reads the keys from the rows");
    assert_eq!(data_key_owners(&url).await, [("consumer".to_owned(), 1)]);
}

#[tokio::test]
async fn sqlite_conversation_keys_move_into_the_conversation_row() {
    conversation_keys_move_into_the_conversation_row(false).await;
}

#[tokio::test]
async fn postgres_conversation_keys_move_into_the_conversation_row() {
    conversation_keys_move_into_the_conversation_row(true).await;
}

/// Migration 0010 folds each conversation's message rows into its row, in sequence
/// order, with every field; a conversation without messages has none.
async fn messages_move_into_the_conversation_row(postgres: bool) {
    let Some((dir, pg)) = scratch(postgres).await else {
        return;
    };
    let url = old_database(postgres, pg.as_ref(), dir.path()).await;
    let store = lethe_store::open(&url).await.expect("the store migrates and opens");
    let all = PartsWanted {
        messages: true,
        surveys: false,
        files: false,
    };
    let parts = store
        .conversation_parts("a1", &["c1".into(), "c2".into()], all)
        .await
        .unwrap();
    let read: Vec<_> = parts
        .messages
        .iter()
        .map(|m| {
            (
                m.conversation_id.as_str(),
                m.seq,
                m.message_id.as_str(),
                m.time,
                m.sealed_body.as_slice(),
            )
        })
        .collect();
    assert_eq!(
        read,
        [
            ("c1", 0, "m1-\u{e9}", 2000, &b"first body"[..]),
            ("c1", 1, "m2", 2001, &b""[..]),
            ("c1", 2, "m3", 2002, &b"third"[..]),
        ]
    );
    let first = &parts.messages[0];
    assert_eq!(
        (first.sent_by.as_str(), first.msg_type.as_str()),
        ("agent", "TEXT_PLAIN")
    );
    assert_eq!(
        (first.participant_id.as_deref(), first.file_id.as_deref()),
        (Some("agent-1"), None)
    );
    let third = &parts.messages[2];
    assert_eq!(third.file_id.as_deref(), Some("f1"));
    assert_eq!(
        parts.file_types,
        [("f1".to_owned(), "image/png".to_owned())],
        "the file's type is looked up"
    );
    let page = store
        .search(
            "a1",
            &StoreFilter::default(),
            Sort::default(),
            &Page::Offset { offset: 0, limit: 10 },
            all,
        )
        .await
        .unwrap();
    let in_rows: usize = page
        .rows
        .iter()
        .filter_map(|r| r.sealed_messages.as_deref())
        .map(|log| lethe_store::unpack_messages(log).unwrap().len())
        .sum();
    assert_eq!(in_rows, 3, "a search's messages come in its rows");
    assert_eq!(page.parts.file_types, parts.file_types);
    let logged = store
        .conversation("a1", "c1")
        .await
        .unwrap()
        .unwrap()
        .sealed_messages
        .unwrap();
    let macs: Vec<Vec<u8>> = lethe_store::unpack_messages(&logged)
        .unwrap()
        .iter()
        .map(|m| m.content_mac.to_vec())
        .collect();
    assert_eq!(macs, [vec![0; 32], vec![1; 32], vec![2; 32]]);
    assert_eq!(
        store.conversation("a1", "c2").await.unwrap().unwrap().sealed_messages,
        None
    );
}

#[tokio::test]
async fn sqlite_messages_move_into_the_conversation_row() {
    messages_move_into_the_conversation_row(false).await;
}

#[tokio::test]
async fn postgres_messages_move_into_the_conversation_row() {
    messages_move_into_the_conversation_row(true).await;
}

/// Migration 0011 counts each conversation's survey answers into its row, and a search
/// still reads them.
async fn survey_counts_move_into_the_conversation_row(postgres: bool) {
    let Some((dir, pg)) = scratch(postgres).await else {
        return;
    };
    let url = old_database(postgres, pg.as_ref(), dir.path()).await;
    let store = lethe_store::open(&url).await.expect("the store migrates and opens");
    let wanted = PartsWanted {
        surveys: true,
        ..PartsWanted::default()
    };
    let page = Page::Offset { offset: 0, limit: 10 };
    let found = store
        .search("a1", &StoreFilter::default(), Sort::default(), &page, wanted)
        .await
        .unwrap();
    assert_eq!(
        common::survey_counts(&found),
        [("c1".to_owned(), 2), ("c2".to_owned(), 0)]
    );
    assert_eq!(found.parts.survey_answers.len(), 2, "the search reads c1's answers");
}

#[tokio::test]
async fn sqlite_survey_counts_move_into_the_conversation_row() {
    survey_counts_move_into_the_conversation_row(false).await;
}

#[tokio::test]
async fn postgres_survey_counts_move_into_the_conversation_row() {
    survey_counts_move_into_the_conversation_row(true).await;
}
