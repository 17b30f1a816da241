//! Read queries as text plus parameters, built once for both backends. PostgreSQL binds
//! them through sqlx; SQLite runs them on rusqlite connections.

use crate::records::{ConversationRecord, PartsWanted};
use crate::search::StoreFilter;
use lethe_domain::filter::{Page, Sort, SortField};

/// A bound value.
#[derive(Debug, Clone)]
pub(crate) enum Param {
    Int(i64),
    Text(String),
    Blob(Vec<u8>),
    /// A list of text values: one parameter whatever its length, so a statement's text
    /// (and the prepared statement cached for it) does not change with the list's size.
    TextList(Vec<String>),
}

/// How the engine spells the n-th parameter.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Style {
    /// `$1` (PostgreSQL).
    Dollar,
    /// `?1` (SQLite: an explicit index, whatever the order of appearance).
    Question,
}

/// Query text and its parameters, in order.
#[derive(Debug, Clone)]
pub(crate) struct Sql {
    pub text: String,
    pub params: Vec<Param>,
    style: Style,
}

impl Sql {
    fn new(style: Style, head: &str) -> Self {
        Self {
            text: head.to_owned(),
            params: Vec::new(),
            style,
        }
    }

    fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    fn bind(&mut self, param: Param) -> &mut Self {
        self.params.push(param);
        let sigil = match self.style {
            Style::Dollar => '$',
            Style::Question => '?',
        };
        self.text.push(sigil);
        self.text.push_str(&self.params.len().to_string());
        self
    }

    /// Membership in a list bound as one parameter: a `text[]` on PostgreSQL, a JSON
    /// array on SQLite. A list spelled out as `IN (?, ?, …)` made a new statement for every
    /// length; searches of consumers with 1 to 50 conversations overflowed the prepared-
    /// statement cache and re-parsed their queries.
    fn bind_list(&mut self, values: &[String]) -> &mut Self {
        let (head, tail) = match self.style {
            Style::Dollar => (" = ANY(", ")"),
            Style::Question => (" IN (SELECT value FROM json_each(", "))"),
        };
        self.push(head).bind(Param::TextList(values.to_vec())).push(tail)
    }
}

pub(crate) const CONVERSATION_COLUMNS: &str = "c.conversation_id, c.kind, c.status, c.consumer_id, c.bot_id, \
     c.start_time, c.end_time, c.close_reason, c.source, c.device, c.agent_id, c.skill_id, \
     c.csat, c.mcs, c.sealed_participant, c.sealed_attributes, c.kek_id, c.wrapped_key AS wrapped, \
     c.sealed_messages, c.survey_count";

/// An API key by the hash of its secret.
pub(crate) fn api_key_by_hash(style: Style, hash: &[u8]) -> Sql {
    let mut sql = Sql::new(
        style,
        "SELECT id, account_id, name, scopes, prefix, created_at, revoked_at FROM api_keys WHERE key_hash = ",
    );
    sql.bind(Param::Blob(hash.to_vec()));
    sql
}

/// One account.
pub(crate) fn account(style: Style, site_id: &str) -> Sql {
    let mut sql = Sql::new(style, "SELECT site_id, created_at FROM accounts WHERE site_id = ");
    sql.bind(Param::Text(site_id.into()));
    sql
}

/// One conversation with its key.
pub(crate) fn conversation(style: Style, account: &str, id: &str) -> Sql {
    let mut sql = Sql::new(style, &format!("SELECT {CONVERSATION_COLUMNS} FROM conversations c"));
    sql.push(" WHERE c.account_id = ").bind(Param::Text(account.into()));
    sql.push(" AND c.conversation_id = ").bind(Param::Text(id.into()));
    sql
}

/// One consumer with its key.
pub(crate) fn consumer(style: Style, account: &str, id: &str) -> Sql {
    let mut sql = Sql::new(
        style,
        "SELECT c.consumer_id, c.sealed_profile, k.kek_id, k.wrapped, c.created_at, c.updated_at \
         FROM consumers c JOIN data_keys k ON k.account_id = c.account_id \
         AND k.owner_kind = 'consumer' AND k.owner_id = c.consumer_id WHERE c.account_id = ",
    );
    sql.bind(Param::Text(account.into()))
        .push(" AND c.consumer_id = ")
        .bind(Param::Text(id.into()));
    sql
}

/// A conversation's reporting row.
pub(crate) fn metrics(style: Style, account: &str, conversation: &str) -> Sql {
    let mut sql = Sql::new(
        style,
        "SELECT conversation_id, duration_ms, consumer_messages, agent_messages, first_response_ms, \
         csat, mcs FROM metrics WHERE account_id = ",
    );
    sql.bind(Param::Text(account.into()))
        .push(" AND conversation_id = ")
        .bind(Param::Text(conversation.into()));
    sql
}

const FILE_COLUMNS: &str = "file_id, conversation_id, blob_key, content_type, size, sealed_name, created_at";

/// One hosted file's row.
pub(crate) fn file(style: Style, account: &str, conversation: &str, file: &str) -> Sql {
    let mut sql = Sql::new(style, &format!("SELECT {FILE_COLUMNS} FROM files WHERE account_id = "));
    sql.bind(Param::Text(account.into()));
    sql.push(" AND file_id = ").bind(Param::Text(file.into()));
    sql.push(" AND conversation_id = ")
        .bind(Param::Text(conversation.into()));
    sql
}

/// The part queries a reader wants, in the order messages (the conversation rows'
/// framed column), surveys, files; attributes come with the conversation row.
pub(crate) fn parts(style: Style, account: &str, ids: &[String], wanted: PartsWanted) -> [Option<Sql>; 3] {
    let by_conversation = |columns: &str, table: &str, tail: &str| {
        let rows = ListedRows {
            columns,
            table,
            column: "conversation_id",
        };
        rows.sql(style, account, ids, tail)
    };
    [
        wanted.messages.then(|| {
            by_conversation(
                "conversation_id, sealed_messages",
                "conversations",
                " AND sealed_messages IS NOT NULL ORDER BY conversation_id",
            )
        }),
        wanted.surveys.then(|| {
            by_conversation(
                "conversation_id, survey_id, question_id, question, choice, sealed_text",
                "survey_answers",
                " ORDER BY conversation_id, survey_id, question_id",
            )
        }),
        wanted
            .files
            .then(|| by_conversation(FILE_COLUMNS, "files", " ORDER BY conversation_id, file_id")),
    ]
}

/// Rows of one of an account's tables whose `column` is one of a list of values.
struct ListedRows<'a> {
    /// Columns to select; none may share a name with `json_each`'s (`key`, `value`,
    /// `type`, `id`, …), which SQLite would refuse as ambiguous.
    columns: &'a str,
    table: &'a str,
    column: &'a str,
}

impl ListedRows<'_> {
    /// The query, with `tail` (more conditions, an order) appended. On SQLite the list
    /// drives the loop, one index lookup per value (`json_each` CROSS JOIN the table):
    /// `IN (SELECT value FROM json_each(…))` first copied the list into a temporary
    /// B-tree, about a fifth of a search's survey read. The values are deduplicated, as
    /// `IN` would.
    fn sql(&self, style: Style, account: &str, values: &[String], tail: &str) -> Sql {
        let Self { columns, table, column } = self;
        match style {
            Style::Dollar => {
                let mut sql = Sql::new(style, &format!("SELECT {columns} FROM {table} WHERE account_id = "));
                sql.bind(Param::Text(account.into()));
                sql.push(&format!(" AND {column}")).bind_list(values).push(tail);
                sql
            }
            Style::Question => {
                let mut unique = values.to_vec();
                unique.sort_unstable();
                unique.dedup();
                let mut sql = Sql::new(style, &format!("SELECT {columns} FROM json_each("));
                sql.bind(Param::TextList(unique))
                    .push(&format!(") j CROSS JOIN {table} ON {table}.account_id = "))
                    .bind(Param::Text(account.into()))
                    .push(&format!(" AND {table}.{column} = j.value"))
                    .push(tail);
                sql
            }
        }
    }
}

/// The part queries of a search page. Its messages come with the rows, and survey
/// answers are asked for only for the conversations that have some.
pub(crate) fn page_parts(
    style: Style,
    account: &str,
    rows: &[ConversationRecord],
    wanted: PartsWanted,
) -> [Option<Sql>; 3] {
    let ids = |keep: fn(&ConversationRecord) -> bool| -> Vec<String> {
        rows.iter()
            .filter(|r| keep(r))
            .map(|r| r.conversation_id.clone())
            .collect()
    };
    let files = PartsWanted {
        files: wanted.files,
        ..PartsWanted::default()
    };
    let [_, _, files] = parts(style, account, &ids(|_| true), files);
    let surveyed = ids(|r| r.survey_count > 0);
    let surveys = PartsWanted {
        surveys: wanted.surveys && !surveyed.is_empty(),
        ..PartsWanted::default()
    };
    let [_, surveys, _] = parts(style, account, &surveyed, surveys);
    [None, surveys, files]
}

/// The content types of the listed hosted files, for messages that reference them.
pub(crate) fn file_types(style: Style, account: &str, files: &[String]) -> Sql {
    let rows = ListedRows {
        columns: "file_id, content_type",
        table: "files",
        column: "file_id",
    };
    rows.sql(style, account, files, "")
}

/// Appends the filter's conditions; every value is bound, never spliced.
fn push_filter(sql: &mut Sql, account: &str, f: &StoreFilter) {
    sql.push(" WHERE c.account_id = ").bind(Param::Text(account.into()));
    if let Some(r) = f.start {
        sql.push(" AND c.start_time BETWEEN ")
            .bind(Param::Int(r.from))
            .push(" AND ")
            .bind(Param::Int(r.to));
    }
    if let Some(r) = f.end {
        sql.push(" AND c.end_time BETWEEN ")
            .bind(Param::Int(r.from))
            .push(" AND ")
            .bind(Param::Int(r.to));
    }
    if !f.statuses.is_empty() {
        sql.push(" AND c.status").bind_list(&f.statuses);
    }
    if let Some(kind) = &f.kind {
        sql.push(" AND c.kind = ").bind(Param::Text(kind.clone()));
    }
    if let Some(consumer) = &f.consumer_id {
        sql.push(" AND c.consumer_id = ").bind(Param::Text(consumer.clone()));
    }
    if let Some(bot) = &f.bot_id {
        sql.push(" AND c.bot_id = ").bind(Param::Text(bot.clone()));
    }
    if let Some(cid) = &f.cid_hash {
        sql.push(" AND c.cid_hash = ").bind(Param::Blob(cid.clone()));
    }
    for hash in &f.attribute_hashes {
        sql.push(
            " AND EXISTS (SELECT 1 FROM conversation_attributes a WHERE a.account_id = c.account_id \
             AND a.conversation_id = c.conversation_id AND a.value_hash = ",
        )
        .bind(Param::Blob(hash.clone()))
        .push(")");
    }
}

/// The ordering expression; open conversations sort as ending last.
fn sort_expression(sort: Sort) -> &'static str {
    match sort.field {
        SortField::Start => "c.start_time",
        SortField::End => "COALESCE(c.end_time, 9223372036854775807)",
    }
}

/// How many conversations match (offset paging reports it).
pub(crate) fn count(style: Style, account: &str, filter: &StoreFilter) -> Sql {
    let mut sql = Sql::new(style, "SELECT COUNT(*) FROM conversations c");
    push_filter(&mut sql, account, filter);
    sql
}

/// One page of matching conversations; keyset pages fetch one extra row to tell
/// whether more follow.
pub(crate) fn page(style: Style, account: &str, filter: &StoreFilter, sort: Sort, page: &Page) -> Sql {
    let expr = sort_expression(sort);
    let (dir, cmp) = if sort.descending { ("DESC", "<") } else { ("ASC", ">") };
    let mut sql = Sql::new(style, &format!("SELECT {CONVERSATION_COLUMNS} FROM conversations c"));
    push_filter(&mut sql, account, filter);
    if let Page::Keyset {
        after: Some(cursor), ..
    } = page
    {
        sql.push(&format!(" AND ({expr}, c.conversation_id) {cmp} ("))
            .bind(Param::Int(cursor.sort_value))
            .push(", ")
            .bind(Param::Text(cursor.conversation_id.as_str().to_owned()))
            .push(")");
    }
    sql.push(&format!(" ORDER BY {expr} {dir}, c.conversation_id {dir} LIMIT "));
    match page {
        Page::Offset { offset, limit } => {
            sql.bind(Param::Int(i64::from(*limit)))
                .push(" OFFSET ")
                .bind(Param::Int(*offset as i64));
        }
        Page::Keyset { limit, .. } => {
            sql.bind(Param::Int(i64::from(*limit) + 1));
        }
    }
    sql
}

/// What erasing each listed conversation would touch.
pub(crate) fn conversation_stats(style: Style, account: &str, ids: &[String]) -> Sql {
    let child = |table: &str, what: &str| {
        format!(
            "(SELECT {what} FROM {table} x WHERE x.account_id = c.account_id \
             AND x.conversation_id = c.conversation_id)"
        )
    };
    let mut sql = Sql::new(
        style,
        &format!(
            "SELECT c.conversation_id, c.kind, c.bot_id, c.status, c.message_count, {}, {}, \
             c.survey_count, {} FROM conversations c",
            child("files", "COUNT(*)"),
            child("files", "CAST(COALESCE(SUM(x.size), 0) AS BIGINT)"),
            child("metrics", "COUNT(*)"),
        ),
    );
    sql.push(" WHERE c.account_id = ").bind(Param::Text(account.into()));
    sql.push(" AND c.conversation_id").bind_list(ids);
    sql
}

/// Which of the listed consumers exist.
pub(crate) fn existing_consumers(style: Style, account: &str, ids: &[String]) -> Sql {
    let mut sql = Sql::new(style, "SELECT consumer_id FROM consumers WHERE account_id = ");
    sql.bind(Param::Text(account.into()));
    sql.push(" AND consumer_id").bind_list(ids);
    sql
}

/// The conversations of the listed consumers, oldest first.
pub(crate) fn conversations_of_consumers(style: Style, account: &str, ids: &[String]) -> Sql {
    let mut sql = Sql::new(
        style,
        "SELECT c.conversation_id FROM conversations c WHERE c.account_id = ",
    );
    sql.bind(Param::Text(account.into()));
    sql.push(" AND c.consumer_id")
        .bind_list(ids)
        .push(" ORDER BY c.start_time, c.conversation_id");
    sql
}

/// When the earliest consumer holding a channel-user hash was created.
pub(crate) fn channel_user_since(style: Style, account: &str, cid_hash: &[u8]) -> Sql {
    let mut sql = Sql::new(
        style,
        "SELECT MIN(c.created_at) FROM consumers c JOIN consumer_lookups l ON l.account_id = c.account_id \
         AND l.consumer_id = c.consumer_id WHERE l.account_id = ",
    );
    sql.bind(Param::Text(account.into()));
    sql.push(" AND l.value_hash = ").bind(Param::Blob(cid_hash.to_vec()));
    sql
}

/// Up to `cap` ids of conversations matching a filter, oldest first.
pub(crate) fn matching_ids(style: Style, account: &str, filter: &StoreFilter, cap: usize) -> Sql {
    let mut sql = Sql::new(style, "SELECT c.conversation_id FROM conversations c");
    push_filter(&mut sql, account, filter);
    sql.push(" ORDER BY c.start_time, c.conversation_id LIMIT ")
        .bind(Param::Int(cap as i64));
    sql
}
