/// Appends the filter's conditions; every value is bound, never spliced.
fn push_filter<'a>(query: &mut QueryBuilder<'a, Db>, account: &'a str, f: &'a StoreFilter) {
    query.push(" WHERE c.account_id = ").push_bind(account);
    if let Some(r) = f.start {
        query
            .push(" AND c.start_time BETWEEN ")
            .push_bind(r.from)
            .push(" AND ")
            .push_bind(r.to);
    }
    if let Some(r) = f.end {
        query
            .push(" AND c.end_time BETWEEN ")
            .push_bind(r.from)
            .push(" AND ")
            .push_bind(r.to);
    }
    if !f.statuses.is_empty() {
        query.push(" AND c.status");
        push_in_list(query, &f.statuses);
    }
    if let Some(kind) = &f.kind {
        query.push(" AND c.kind = ").push_bind(kind.as_str());
    }
    if let Some(consumer) = &f.consumer_id {
        query.push(" AND c.consumer_id = ").push_bind(consumer.as_str());
    }
    if let Some(cid) = &f.cid_hash {
        query.push(" AND c.cid_hash = ").push_bind(cid.as_slice());
    }
    for hash in &f.attribute_hashes {
        query
            .push(
                " AND EXISTS (SELECT 1 FROM conversation_attributes a WHERE a.account_id = c.account_id \
                 AND a.conversation_id = c.conversation_id AND a.value_hash = ",
            )
            .push_bind(hash.as_slice())
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

#[async_trait]
impl ReadStore for Backend {
    async fn consumer(&self, account: &str, id: &str) -> Res<Option<ConsumerRecord>> {
        Ok(sqlx::query_as(
            "SELECT c.consumer_id, c.sealed_profile, k.kek_id, k.wrapped, c.created_at, c.updated_at \
             FROM consumers c JOIN data_keys k ON k.account_id = c.account_id \
             AND k.owner_kind = 'consumer' AND k.owner_id = c.consumer_id \
             WHERE c.account_id = $1 AND c.consumer_id = $2",
        )
        .bind(account)
        .bind(id)
        .fetch_optional(self.read_pool())
        .await?)
    }

    async fn conversation(&self, account: &str, id: &str) -> Res<Option<ConversationRecord>> {
        let sql = format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations c{CONVERSATION_KEY_JOIN} \
             WHERE c.account_id = $1 AND c.conversation_id = $2"
        );
        Ok(sqlx::query_as(&sql)
            .bind(account)
            .bind(id)
            .fetch_optional(self.read_pool())
            .await?)
    }

    async fn metrics(&self, account: &str, conversation: &str) -> Res<Option<MetricsRecord>> {
        Ok(sqlx::query_as(
            "SELECT conversation_id, duration_ms, consumer_messages, agent_messages, first_response_ms, \
             csat, mcs FROM metrics WHERE account_id = $1 AND conversation_id = $2",
        )
        .bind(account)
        .bind(conversation)
        .fetch_optional(self.read_pool())
        .await?)
    }

    async fn file(&self, account: &str, conversation: &str, file: &str) -> Res<Option<FileRecord>> {
        Ok(sqlx::query_as(
            "SELECT file_id, conversation_id, blob_key, content_type, size, sealed_name, created_at \
             FROM files WHERE account_id = $1 AND file_id = $2 AND conversation_id = $3",
        )
        .bind(account)
        .bind(file)
        .bind(conversation)
        .fetch_optional(self.read_pool())
        .await?)
    }

    async fn conversation_parts(&self, account: &str, ids: &[String], wanted: PartsWanted) -> Res<ConversationParts> {
        let mut parts = ConversationParts::default();
        if ids.is_empty() {
            return Ok(parts);
        }
        let pool = self.read_pool();
        let select = |head: &'static str, alias: &'static str, tail: &'static str| {
            let mut query = QueryBuilder::<Db>::new(head);
            query.push(format!(" WHERE {alias}account_id = ")).push_bind(account);
            query.push(format!(" AND {alias}conversation_id"));
            push_in_list(&mut query, ids);
            query.push(tail);
            query
        };
        if wanted.messages {
            parts.messages = select(
                "SELECT m.conversation_id, m.message_id, m.seq, m.time, m.sent_by, m.participant_id, m.msg_type, \
                 m.file_id, m.sealed_body, f.content_type AS file_content_type FROM messages m \
                 LEFT JOIN files f ON f.account_id = m.account_id AND f.file_id = m.file_id",
                "m.",
                " ORDER BY m.conversation_id, m.seq",
            )
            .build_query_as()
            .fetch_all(pool)
            .await?;
        }
        if wanted.attributes {
            parts.attributes = select(
                "SELECT conversation_id, position, kind, sealed FROM conversation_attributes",
                "",
                " ORDER BY conversation_id, position",
            )
            .build_query_as()
            .fetch_all(pool)
            .await?;
        }
        if wanted.surveys {
            parts.survey_answers = select(
                "SELECT conversation_id, survey_id, question_id, question, choice, sealed_text FROM survey_answers",
                "",
                " ORDER BY conversation_id, survey_id, question_id",
            )
            .build_query_as()
            .fetch_all(pool)
            .await?;
        }
        if wanted.files {
            parts.files = select(
                "SELECT file_id, conversation_id, blob_key, content_type, size, sealed_name, created_at FROM files",
                "",
                " ORDER BY conversation_id, file_id",
            )
            .build_query_as()
            .fetch_all(pool)
            .await?;
        }
        Ok(parts)
    }

    async fn search(&self, account: &str, filter: &StoreFilter, sort: Sort, page: &Page) -> Res<SearchPage> {
        let pool = self.read_pool();
        let expr = sort_expression(sort);
        let (dir, cmp) = if sort.descending { ("DESC", "<") } else { ("ASC", ">") };
        let mut result = SearchPage::default();
        if let Page::Offset { .. } = page {
            let mut count = QueryBuilder::<Db>::new("SELECT COUNT(*) FROM conversations c");
            push_filter(&mut count, account, filter);
            let total: i64 = count.build_query_scalar().fetch_one(pool).await?;
            result.total = Some(total as u64);
        }
        let mut query = QueryBuilder::<Db>::new(format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations c{CONVERSATION_KEY_JOIN}"
        ));
        push_filter(&mut query, account, filter);
        if let Page::Keyset {
            after: Some(cursor), ..
        } = page
        {
            query
                .push(format!(" AND ({expr}, c.conversation_id) {cmp} ("))
                .push_bind(cursor.sort_value)
                .push(", ")
                .push_bind(cursor.conversation_id.as_str())
                .push(")");
        }
        query.push(format!(" ORDER BY {expr} {dir}, c.conversation_id {dir} LIMIT "));
        match page {
            Page::Offset { offset, limit } => {
                query
                    .push_bind(i64::from(*limit))
                    .push(" OFFSET ")
                    .push_bind(*offset as i64);
            }
            Page::Keyset { limit, .. } => {
                query.push_bind(i64::from(*limit) + 1);
            }
        }
        let mut rows: Vec<ConversationRecord> = query.build_query_as().fetch_all(pool).await?;
        if rows.len() > page.limit() as usize {
            rows.truncate(page.limit() as usize);
            result.has_more = true;
        }
        result.rows = rows;
        Ok(result)
    }
}
