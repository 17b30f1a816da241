// Query code shared by both backends. Each backend module `include!`s these files after
// defining `Db` (its sqlx database), `Backend` (its store type), `FOR_UPDATE` and
// `BACKEND_NAME`, and the methods `begin_write` and `read_pool`. Written once, compiled
// twice against concrete driver types. Placeholders are `$N`, which both engines accept.

use crate::error::{StoreError, StoreResult as Res};
use crate::records::*;
use crate::{AdminStore, IngestStore};
use async_trait::async_trait;
use lethe_domain::conversation::{Ratings, SentBy};
use lethe_domain::metrics::ConversationMetrics;
use sqlx::query_builder::Separated;
use sqlx::QueryBuilder;

type Tx = Transaction<'static, Db>;

/// Bind parameters per statement; below SQLite's 32,766 and PostgreSQL's 65,535.
const MAX_BINDS: usize = 30_000;

/// Inserts rows with multi-row `VALUES` statements, chunked under the bind limit.
async fn insert_rows<'a, T>(
    tx: &mut Tx,
    head: &'static str,
    tail: &'static str,
    columns: usize,
    rows: &'a [T],
    mut bind: impl FnMut(&mut Separated<'_, 'a, Db, &'static str>, &'a T),
) -> Res<()> {
    for chunk in rows.chunks((MAX_BINDS / columns).max(1)) {
        let mut query = QueryBuilder::<'a, Db>::new(head);
        query.push_values(chunk, |mut row, item| bind(&mut row, item));
        query.push(tail);
        query.build().execute(&mut **tx).await?;
    }
    Ok(())
}

/// Appends `IN ($a, $b, …)` for the given values.
fn push_in_list<'a>(query: &mut QueryBuilder<'a, Db>, values: &'a [String]) {
    query.push(" IN (");
    let mut list = query.separated(", ");
    for value in values {
        list.push_bind(value.as_str());
    }
    list.push_unseparated(")");
}

/// The facts the reporting row is derived from.
struct MetricsSource<'a> {
    conversation_id: &'a str,
    consumer_id: Option<&'a str>,
    kind: &'a str,
    agent_id: Option<&'a str>,
    skill_id: Option<&'a str>,
    start_time: i64,
    end_time: i64,
    ratings: Ratings,
}

async fn insert_metrics(tx: &mut Tx, account: &str, source: &MetricsSource<'_>, messages: &[(i64, SentBy)]) -> Res<()> {
    let m = ConversationMetrics::compute(source.start_time, source.end_time, messages, source.ratings);
    sqlx::query(
        "INSERT INTO metrics (account_id, conversation_id, consumer_id, kind, agent_id, skill_id, \
         start_time, duration_ms, consumer_messages, agent_messages, first_response_ms, csat, mcs) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
         ON CONFLICT (account_id, conversation_id) DO NOTHING",
    )
    .bind(account)
    .bind(source.conversation_id)
    .bind(source.consumer_id)
    .bind(source.kind)
    .bind(source.agent_id)
    .bind(source.skill_id)
    .bind(source.start_time)
    .bind(m.duration_ms)
    .bind(m.consumer_messages)
    .bind(m.agent_messages)
    .bind(m.first_response_ms)
    .bind(m.csat)
    .bind(m.mcs)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn sent_by(value: &str) -> SentBy {
    SentBy::parse(value).unwrap_or(SentBy::Agent)
}
