async fn write_consumer(tx: &mut Tx, account: &str, consumer: &ConsumerWrite) -> Res<()> {
    sqlx::query(
        "INSERT INTO consumers (account_id, consumer_id, sealed_profile, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $4) ON CONFLICT (account_id, consumer_id) DO UPDATE \
         SET sealed_profile = excluded.sealed_profile, updated_at = excluded.updated_at",
    )
    .bind(account)
    .bind(&consumer.consumer_id)
    .bind(&consumer.sealed_profile)
    .bind(consumer.now)
    .execute(&mut **tx)
    .await?;
    sqlx::query("DELETE FROM consumer_lookups WHERE account_id = $1 AND consumer_id = $2")
        .bind(account)
        .bind(&consumer.consumer_id)
        .execute(&mut **tx)
        .await?;
    insert_rows(
        tx,
        "INSERT INTO consumer_lookups (account_id, consumer_id, value_hash) ",
        " ON CONFLICT DO NOTHING",
        3,
        &consumer.lookup_hashes,
        |row, hash| {
            row.push_bind(account)
                .push_bind(consumer.consumer_id.as_str())
                .push_bind(hash.as_slice());
        },
    )
    .await
}

/// The conversation's sealed attributes as its row stores them, by position.
fn sealed_attributes(c: &ConversationWrite) -> Option<Vec<u8>> {
    (!c.attributes.is_empty()).then(|| {
        let fields = c.attributes.iter().enumerate();
        crate::sealed_list::pack(fields.map(|(i, a)| (i as u32, a.sealed.as_slice())))
    })
}

/// Inserts a conversation row, with its wrapped data key, its messages and the count of
/// its survey answers, unless its id exists; true when inserted.
async fn insert_conversation(tx: &mut Tx, account: &str, item: &ImportedConversation) -> Res<bool> {
    let (c, messages) = (&item.conversation, &item.messages);
    let inserted = sqlx::query(
        "INSERT INTO conversations (account_id, conversation_id, kind, status, consumer_id, bot_id, \
         cid_hash, start_time, end_time, close_reason, source, device, agent_id, skill_id, csat, mcs, \
         sealed_participant, sealed_attributes, content_mac, created_at, kek_id, wrapped_key, \
         sealed_messages, message_count, survey_count) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, \
         $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25) \
         ON CONFLICT (account_id, conversation_id) DO NOTHING",
    )
    .bind(account)
    .bind(&c.conversation_id)
    .bind(&c.kind)
    .bind(&c.status)
    .bind(c.consumer_id.as_deref())
    .bind(c.bot_id.as_deref())
    .bind(c.cid_hash.as_deref())
    .bind(c.start_time)
    .bind(c.end_time)
    .bind(c.close_reason.as_deref())
    .bind(c.source.as_deref())
    .bind(c.device.as_deref())
    .bind(c.agent_id.as_deref())
    .bind(c.skill_id.as_deref())
    .bind(c.csat)
    .bind(c.mcs)
    .bind(c.sealed_participant.as_deref())
    .bind(sealed_attributes(c))
    .bind(&c.content_mac)
    .bind(c.created_at)
    .bind(&c.key.kek_id)
    .bind(&c.key.wrapped)
    .bind(crate::message_log::pack(messages))
    .bind(messages.len() as i64)
    .bind(item.survey_answers.len() as i64)
    .execute(&mut **tx)
    .await?
    .rows_affected()
        == 1;
    if !inserted {
        return Ok(false);
    }
    let positioned: Vec<(i64, &AttributeWrite)> = c.attributes.iter().enumerate().map(|(i, a)| (i as i64, a)).collect();
    insert_rows(
        tx,
        "INSERT INTO conversation_attributes (account_id, conversation_id, position, kind, value_hash) ",
        "",
        5,
        &positioned,
        |row, (position, a)| {
            row.push_bind(account)
                .push_bind(c.conversation_id.as_str())
                .push_bind(*position)
                .push_bind(a.kind.as_str())
                .push_bind(a.value_hash.as_slice());
        },
    )
    .await?;
    Ok(true)
}

/// Compares a create that hit an existing id with what is stored.
async fn existing_conversation_outcome(tx: &mut Tx, account: &str, c: &ConversationWrite) -> Res<WriteOutcome> {
    let stored: Vec<u8> =
        sqlx::query_scalar("SELECT content_mac FROM conversations WHERE account_id = $1 AND conversation_id = $2")
            .bind(account)
            .bind(&c.conversation_id)
            .fetch_one(&mut **tx)
            .await?;
    Ok(if stored == c.content_mac {
        WriteOutcome::Unchanged
    } else {
        WriteOutcome::Conflict
    })
}

/// Locks a conversation row for a child write and reports whether it accepts one.
async fn lock_conversation(tx: &mut Tx, account: &str, id: &str, need_open: bool) -> Res<Result<(), AppendRefusal>> {
    let sql = format!("SELECT status FROM conversations WHERE account_id = $1 AND conversation_id = $2{FOR_UPDATE}");
    let status: Option<String> = sqlx::query_scalar(&sql)
        .bind(account)
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(match status.as_deref() {
        None => Err(AppendRefusal::Missing),
        Some("open") => Ok(()),
        Some(_) if need_open => Err(AppendRefusal::Closed),
        Some(_) => Ok(()),
    })
}

#[async_trait]
impl IngestStore for Backend {
    async fn ensure_data_keys(
        &self,
        account: &str,
        kind: KeyOwnerKind,
        candidates: &[(String, StoredKey)],
        now: i64,
    ) -> Res<Vec<StoredKey>> {
        if candidates.is_empty() {
            // No write transaction for nothing: it would wait its turn at the writer.
            return Ok(Vec::new());
        }
        let mut tx = self.begin_write().await?;
        insert_rows(
            &mut tx,
            "INSERT INTO data_keys (account_id, owner_kind, owner_id, kek_id, wrapped, created_at) ",
            " ON CONFLICT (account_id, owner_kind, owner_id) DO NOTHING",
            6,
            candidates,
            |row, (owner, key)| {
                row.push_bind(account)
                    .push_bind(kind.as_str())
                    .push_bind(owner.as_str())
                    .push_bind(key.kek_id.as_str())
                    .push_bind(key.wrapped.as_slice())
                    .push_bind(now);
            },
        )
        .await?;
        let mut stored = Vec::with_capacity(candidates.len());
        for (owner, _) in candidates {
            let key: StoredKey = sqlx::query_as(
                "SELECT kek_id, wrapped FROM data_keys WHERE account_id = $1 AND owner_kind = $2 AND owner_id = $3",
            )
            .bind(account)
            .bind(kind.as_str())
            .bind(owner)
            .fetch_one(&mut *tx)
            .await?;
            stored.push(key);
        }
        tx.commit().await?;
        Ok(stored)
    }

    async fn upsert_consumer(&self, account: &str, consumer: &ConsumerWrite) -> Res<()> {
        let mut tx = self.begin_write().await?;
        write_consumer(&mut tx, account, consumer).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn append_message(
        &self,
        account: &str,
        conversation: &str,
        msg: &MessageWrite,
    ) -> Res<Result<WriteOutcome, AppendRefusal>> {
        let mut tx = self.begin_write().await?;
        // Read under the row lock: on PostgreSQL two appends must not both take the
        // same sequence number from the same column.
        let sql = format!(
            "SELECT sealed_messages FROM conversations WHERE account_id = $1 AND conversation_id = $2{FOR_UPDATE}"
        );
        let log: Option<Option<Vec<u8>>> = sqlx::query_scalar(&sql)
            .bind(account)
            .bind(conversation)
            .fetch_optional(&mut *tx)
            .await?;
        let mut log = log.flatten().unwrap_or_default();
        let logged = crate::message_log::unpack(&log).ok_or_else(crate::message_log::corrupt)?;
        if let Some(same_id) = logged.iter().find(|m| m.message_id == msg.message_id) {
            return Ok(Ok(if same_id.content_mac == msg.content_mac.as_slice() {
                WriteOutcome::Unchanged
            } else {
                WriteOutcome::Conflict
            }));
        }
        let seq = logged.len() as u32;
        if let Err(refusal) = lock_conversation(&mut tx, account, conversation, true).await? {
            return Ok(Err(refusal));
        }
        if let Some(file_id) = &msg.file_id {
            let found: Option<String> = sqlx::query_scalar(
                "SELECT file_id FROM files WHERE account_id = $1 AND file_id = $2 AND conversation_id = $3",
            )
            .bind(account)
            .bind(file_id)
            .bind(conversation)
            .fetch_optional(&mut *tx)
            .await?;
            if found.is_none() {
                return Ok(Err(AppendRefusal::FileMissing));
            }
        }
        crate::message_log::append(&mut log, seq, msg);
        sqlx::query(
            "UPDATE conversations SET sealed_messages = $3, message_count = message_count + 1 \
             WHERE account_id = $1 AND conversation_id = $2",
        )
        .bind(account)
        .bind(conversation)
        .bind(&log)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Ok(WriteOutcome::Created))
    }

    async fn add_file(&self, account: &str, file: &FileRecord) -> Res<Result<WriteOutcome, AppendRefusal>> {
        let mut tx = self.begin_write().await?;
        if let Err(refusal) = lock_conversation(&mut tx, account, &file.conversation_id, true).await? {
            return Ok(Err(refusal));
        }
        let inserted = insert_files(&mut tx, account, std::slice::from_ref(file)).await?;
        tx.commit().await?;
        Ok(Ok(if inserted == 1 {
            WriteOutcome::Created
        } else {
            WriteOutcome::Conflict
        }))
    }

    async fn add_survey(
        &self,
        account: &str,
        conversation: &str,
        answers: &[SurveyAnswerWrite],
    ) -> Res<Result<WriteOutcome, AppendRefusal>> {
        let mut tx = self.begin_write().await?;
        if let Err(refusal) = lock_conversation(&mut tx, account, conversation, false).await? {
            return Ok(Err(refusal));
        }
        let survey_ids: Vec<String> = answers.iter().map(|a| a.survey_id.clone()).collect();
        let mut query = QueryBuilder::<Db>::new("SELECT COUNT(*) FROM survey_answers WHERE account_id = ");
        query
            .push_bind(account)
            .push(" AND conversation_id = ")
            .push_bind(conversation)
            .push(" AND survey_id");
        push_in_list(&mut query, &survey_ids);
        let existing: i64 = query.build_query_scalar().fetch_one(&mut *tx).await?;
        if existing > 0 {
            return Ok(Ok(WriteOutcome::Conflict));
        }
        insert_survey_answers(&mut tx, account, conversation, answers).await?;
        sqlx::query(
            "UPDATE conversations SET survey_count = survey_count + $3 WHERE account_id = $1 AND conversation_id = $2",
        )
        .bind(account)
        .bind(conversation)
        .bind(answers.len() as i64)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Ok(WriteOutcome::Created))
    }

    async fn close_conversation(
        &self,
        account: &str,
        conversation: &str,
        close: &CloseWrite,
    ) -> Res<Result<(), AppendRefusal>> {
        let mut tx = self.begin_write().await?;
        if let Err(refusal) = lock_conversation(&mut tx, account, conversation, true).await? {
            return Ok(Err(refusal));
        }
        let closed: ConversationCloseRow = sqlx::query_as(
            "UPDATE conversations SET status = 'closed', end_time = $3, close_reason = $4, \
             csat = COALESCE($5, csat), mcs = COALESCE($6, mcs) \
             WHERE account_id = $1 AND conversation_id = $2 \
             RETURNING conversation_id, kind, consumer_id, agent_id, skill_id, start_time, csat, mcs",
        )
        .bind(account)
        .bind(conversation)
        .bind(close.end_time)
        .bind(close.close_reason.as_deref())
        .bind(close.csat)
        .bind(close.mcs)
        .fetch_one(&mut *tx)
        .await?;
        let log: Option<Vec<u8>> = sqlx::query_scalar(
            "SELECT sealed_messages FROM conversations WHERE account_id = $1 AND conversation_id = $2",
        )
        .bind(account)
        .bind(conversation)
        .fetch_one(&mut *tx)
        .await?;
        let log = log.unwrap_or_default();
        let logged = crate::message_log::unpack(&log).ok_or_else(crate::message_log::corrupt)?;
        let messages: Vec<(i64, SentBy)> = logged.iter().map(|m| (m.time, sent_by(m.sent_by))).collect();
        let source = MetricsSource {
            conversation_id: &closed.conversation_id,
            consumer_id: closed.consumer_id.as_deref(),
            kind: &closed.kind,
            agent_id: closed.agent_id.as_deref(),
            skill_id: closed.skill_id.as_deref(),
            start_time: closed.start_time,
            end_time: close.end_time,
            ratings: Ratings {
                csat: closed.csat,
                mcs: closed.mcs,
            },
        };
        insert_metrics(&mut tx, account, &source, &messages).await?;
        tx.commit().await?;
        Ok(Ok(()))
    }

    async fn import_batch(&self, account: &str, batch: &ImportBatch) -> Res<Result<ImportCounts, String>> {
        let mut tx = self.begin_write().await?;
        let outcome = write_import_batch(&mut tx, account, batch).await?;
        if outcome.is_ok() {
            tx.commit().await?;
        } else {
            tx.rollback().await?;
        }
        Ok(outcome)
    }
}

#[derive(sqlx::FromRow)]
struct ConversationCloseRow {
    conversation_id: String,
    kind: String,
    consumer_id: Option<String>,
    agent_id: Option<String>,
    skill_id: Option<String>,
    start_time: i64,
    csat: Option<i64>,
    mcs: Option<i64>,
}

fn metrics_source(c: &ConversationWrite, end_time: i64) -> MetricsSource<'_> {
    MetricsSource {
        conversation_id: &c.conversation_id,
        consumer_id: c.consumer_id.as_deref(),
        kind: &c.kind,
        agent_id: c.agent_id.as_deref(),
        skill_id: c.skill_id.as_deref(),
        start_time: c.start_time,
        end_time,
        ratings: Ratings {
            csat: c.csat,
            mcs: c.mcs,
        },
    }
}
