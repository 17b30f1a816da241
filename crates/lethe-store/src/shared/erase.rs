// What one erasure batch does to the data, in set-based statements (a handful per table
// and batch rather than per item: statement overhead dominates small rows); included by
// both backends (see util.rs).

/// The content MAC of a masked row: empty, so no keyed digest of the old content stays
/// and verification can tell a rewritten row from one that was missed.
const MASKED_MAC: &[u8] = b"";

/// Runs `head … IN (ids)` plus `tail` within the account; rows affected.
async fn execute_in(tx: &mut Tx, head: &str, account: &str, ids: &[String], tail: &str) -> Res<u64> {
    if ids.is_empty() {
        return Ok(0);
    }
    let mut query = QueryBuilder::<Db>::new(head);
    query.push(" WHERE account_id = ").push_bind(account).push(tail);
    push_in_list(&mut query, ids);
    Ok(query.build().execute(&mut **tx).await?.rows_affected())
}

/// Deletes the rows of these conversations from a table; how many.
async fn delete_conversation_rows(tx: &mut Tx, table: &str, account: &str, ids: &[String]) -> Res<u64> {
    execute_in(
        tx,
        &format!("DELETE FROM {table}"),
        account,
        ids,
        " AND conversation_id",
    )
    .await
}

/// The batch's conversations that exist, with their status and message count, locked
/// for the batch.
async fn lock_conversations(
    tx: &mut Tx,
    account: &str,
    ids: &[String],
) -> Res<std::collections::HashMap<String, (String, i64)>> {
    let mut query =
        QueryBuilder::<Db>::new("SELECT conversation_id, status, message_count FROM conversations WHERE account_id = ");
    query.push_bind(account).push(" AND conversation_id");
    push_in_list(&mut query, ids);
    query.push(FOR_UPDATE);
    let rows: Vec<(String, String, i64)> = query.build_query_as().fetch_all(&mut **tx).await?;
    Ok(rows
        .into_iter()
        .map(|(id, status, messages)| (id, (status, messages)))
        .collect())
}

/// Erases the batch's conversations (either kind); each one's outcome.
async fn erase_conversations(
    tx: &mut Tx,
    account: &str,
    request_id: i64,
    items: &[&ItemErasure],
    plan: &BatchPlan,
    counts: &mut BatchCounts,
) -> Res<Vec<(i64, &'static str)>> {
    let ids: Vec<String> = items.iter().map(|i| i.id.clone()).collect();
    let status = lock_conversations(tx, account, &ids).await?;
    let mut outcomes = Vec::new();
    let mut erasable = Vec::new();
    for item in items {
        let found = status.get(&item.id);
        let outcome = match found.map(|(status, _)| status.as_str()) {
            None => "not_found",
            Some("open") if !plan.include_open => "skipped_open",
            _ => "erased",
        };
        if outcome == "erased" {
            erasable.push(*item);
            counts.messages += found.map_or(0, |(_, messages)| *messages);
        }
        outcomes.push((item.position, outcome));
    }
    if erasable.is_empty() {
        return Ok(outcomes);
    }
    let ids: Vec<String> = erasable.iter().map(|i| i.id.clone()).collect();
    queue_blob_deletions(tx, account, request_id, &ids, plan.now, counts).await?;
    delete_conversation_rows(tx, "conversation_attributes", account, &ids).await?;
    counts.survey_answers += delete_conversation_rows(tx, "survey_answers", account, &ids).await? as i64;
    delete_conversation_rows(tx, "files", account, &ids).await?;
    if plan.retain_metrics {
        // The reporting rows stay, with no link back to the person.
        for item in &erasable {
            sqlx::query(
                "UPDATE metrics SET consumer_id = NULL, conversation_id = $3 \
                 WHERE account_id = $1 AND conversation_id = $2",
            )
            .bind(account)
            .bind(&item.id)
            .bind(&item.metrics_id)
            .execute(&mut **tx)
            .await?;
        }
    } else {
        counts.metrics += delete_conversation_rows(tx, "metrics", account, &ids).await? as i64;
    }
    let mut deleted = Vec::new();
    for item in &erasable {
        match &item.mask {
            // Everything was deleted above, so a row that arrived after the mask was
            // planned is gone rather than left unmasked.
            Some(mask) => write_mask(tx, account, &item.id, mask).await?,
            None => deleted.push(item.id.clone()),
        }
    }
    // A conversation's data key is in its row: deleting the row destroys it.
    delete_conversation_rows(tx, "conversations", account, &deleted).await?;
    counts.conversations += erasable.len() as i64;
    Ok(outcomes)
}

/// Queues the blobs of these conversations for deletion in the erasing transaction, so a
/// crash leaves neither a row without its blob record nor a blob nobody will delete.
async fn queue_blob_deletions(
    tx: &mut Tx,
    account: &str,
    request_id: i64,
    ids: &[String],
    now: i64,
    counts: &mut BatchCounts,
) -> Res<()> {
    let mut query = QueryBuilder::<Db>::new("SELECT blob_key, size FROM files WHERE account_id = ");
    query.push_bind(account).push(" AND conversation_id");
    push_in_list(&mut query, ids);
    let files: Vec<(String, i64)> = query.build_query_as().fetch_all(&mut **tx).await?;
    counts.files += files.len() as i64;
    counts.bytes += files.iter().map(|(_, size)| size).sum::<i64>();
    for chunk in files.chunks(MAX_BINDS / 4) {
        let mut insert =
            QueryBuilder::<Db>::new("INSERT INTO blob_deletions (account_id, request_id, blob_key, created_at) ");
        insert.push_values(chunk, |mut row, (blob_key, _)| {
            row.push_bind(account)
                .push_bind(request_id)
                .push_bind(blob_key.as_str())
                .push_bind(now);
        });
        insert.push(" RETURNING id, account_id, blob_key");
        let queued: Vec<BlobDeletion> = insert.build_query_as().fetch_all(&mut **tx).await?;
        counts.queued_blobs.extend(queued);
    }
    Ok(())
}

/// Writes a masked conversation's structure back under its fresh key, which replaces
/// (destroys) the old one; the conversation loses its links to the person.
async fn write_mask(tx: &mut Tx, account: &str, conversation: &str, mask: &ConversationMask) -> Res<()> {
    insert_survey_answers(tx, account, conversation, &mask.survey_answers).await?;
    let mut messages = Vec::new();
    for (seq, m) in &mask.messages {
        let seq = u32::try_from(*seq).map_err(|_| StoreError::Database("a message number out of range".into()))?;
        crate::message_log::append(&mut messages, seq, m);
    }
    sqlx::query(
        "UPDATE conversations SET consumer_id = NULL, cid_hash = NULL, sealed_participant = NULL, \
         sealed_attributes = NULL, content_mac = $3, kek_id = $4, wrapped_key = $5, \
         sealed_messages = $6, message_count = $7, survey_count = $8 \
         WHERE account_id = $1 AND conversation_id = $2",
    )
    .bind(account)
    .bind(conversation)
    .bind(MASKED_MAC)
    .bind(&mask.key.kek_id)
    .bind(&mask.key.wrapped)
    .bind((!messages.is_empty()).then_some(messages))
    .bind(mask.messages.len() as i64)
    .bind(mask.survey_answers.len() as i64)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Erases the batch's consumers: profile, lookups and key; each one's outcome.
async fn erase_consumers(
    tx: &mut Tx,
    account: &str,
    items: &[&ItemErasure],
    counts: &mut BatchCounts,
) -> Res<Vec<(i64, &'static str)>> {
    let ids: Vec<String> = items.iter().map(|i| i.id.clone()).collect();
    let mut query = QueryBuilder::<Db>::new("SELECT consumer_id FROM consumers WHERE account_id = ");
    query.push_bind(account).push(" AND consumer_id");
    push_in_list(&mut query, &ids);
    query.push(FOR_UPDATE);
    let found: std::collections::HashSet<String> = query
        .build_query_scalar()
        .fetch_all(&mut **tx)
        .await?
        .into_iter()
        .collect();
    execute_in(tx, "DELETE FROM consumers", account, &ids, " AND consumer_id").await?;
    execute_in(tx, "DELETE FROM consumer_lookups", account, &ids, " AND consumer_id").await?;
    let keys = "DELETE FROM data_keys";
    execute_in(tx, keys, account, &ids, " AND owner_kind = 'consumer' AND owner_id").await?;
    counts.consumers += found.len() as i64;
    Ok(items
        .iter()
        .map(|i| (i.position, if found.contains(&i.id) { "erased" } else { "not_found" }))
        .collect())
}

/// Erases every item of a batch; the outcomes by position, tombstones and item outcomes
/// written.
async fn erase_items(tx: &mut Tx, account: &str, request_id: i64, plan: &BatchPlan) -> Res<BatchCounts> {
    let mut counts = BatchCounts::default();
    let (consumers, conversations): (Vec<&ItemErasure>, Vec<&ItemErasure>) =
        plan.items.iter().partition(|i| i.kind == "consumer");
    let mut outcomes = Vec::new();
    if !conversations.is_empty() {
        outcomes.extend(erase_conversations(tx, account, request_id, &conversations, plan, &mut counts).await?);
    }
    if !consumers.is_empty() {
        outcomes.extend(erase_consumers(tx, account, &consumers, &mut counts).await?);
    }
    outcomes.sort_unstable();
    let erased: Vec<&ItemErasure> = plan
        .items
        .iter()
        .filter(|i| outcomes.iter().any(|(p, o)| *p == i.position && *o == "erased"))
        .collect();
    insert_rows(
        tx,
        "INSERT INTO tombstones (account_id, kind, id_hash, erased_at) ",
        " ON CONFLICT (account_id, kind, id_hash) DO NOTHING",
        4,
        &erased,
        |row, item| {
            row.push_bind(account)
                .push_bind(item.kind)
                .push_bind(item.tombstone_hash.as_slice())
                .push_bind(plan.now);
        },
    )
    .await?;
    for outcome in ["erased", "not_found", "skipped_open"] {
        let positions: Vec<i64> = outcomes
            .iter()
            .filter(|(_, o)| *o == outcome)
            .map(|(p, _)| *p)
            .collect();
        if positions.is_empty() {
            continue;
        }
        let mut query = QueryBuilder::<Db>::new("UPDATE request_items SET outcome = ");
        query
            .push_bind(outcome)
            .push(" WHERE request_id = ")
            .push_bind(request_id)
            .push(" AND position IN (");
        let mut list = query.separated(", ");
        for p in positions {
            list.push_bind(p);
        }
        list.push_unseparated(")");
        query.build().execute(&mut **tx).await?;
    }
    counts.outcomes = outcomes;
    Ok(counts)
}
