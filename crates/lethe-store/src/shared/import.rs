/// Inserts file rows, skipping ids that exist; returns how many were new.
async fn insert_files(tx: &mut Tx, account: &str, files: &[FileRecord]) -> Res<u64> {
    let mut inserted = 0;
    for f in files {
        inserted += sqlx::query(
            "INSERT INTO files (account_id, file_id, conversation_id, blob_key, content_type, size, \
             sealed_name, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (account_id, file_id) DO NOTHING",
        )
        .bind(account)
        .bind(&f.file_id)
        .bind(&f.conversation_id)
        .bind(&f.blob_key)
        .bind(&f.content_type)
        .bind(f.size)
        .bind(f.sealed_name.as_deref())
        .bind(f.created_at)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    }
    Ok(inserted)
}

async fn insert_survey_answers(
    tx: &mut Tx,
    account: &str,
    conversation: &str,
    answers: &[SurveyAnswerWrite],
) -> Res<()> {
    insert_rows(
        tx,
        "INSERT INTO survey_answers (account_id, conversation_id, survey_id, question_id, question, \
         choice, sealed_text) ",
        "",
        7,
        answers,
        |row, a| {
            row.push_bind(account)
                .push_bind(conversation)
                .push_bind(a.survey_id.as_str())
                .push_bind(a.question_id.as_str())
                .push_bind(a.question.as_deref())
                .push_bind(a.choice.as_deref())
                .push_bind(a.sealed_text.as_deref());
        },
    )
    .await
}

/// Writes a batch; a conversation id that exists with other content aborts it.
async fn write_import_batch(tx: &mut Tx, account: &str, batch: &ImportBatch) -> Res<Result<ImportCounts, String>> {
    let mut counts = ImportCounts::default();
    for consumer in &batch.consumers {
        write_consumer(tx, account, consumer).await?;
        counts.consumers += 1;
    }
    let mut created = Vec::with_capacity(batch.conversations.len());
    for item in &batch.conversations {
        let conv = &item.conversation;
        if insert_conversation(tx, account, item).await? {
            created.push(item);
            counts.conversations_created += 1;
            continue;
        }
        match existing_conversation_outcome(tx, account, conv).await? {
            WriteOutcome::Unchanged => {
                counts.conversations_unchanged += 1;
                counts.unchanged_ids.push(conv.conversation_id.clone());
            }
            _ => {
                return Ok(Err(format!(
                    "conversation `{}` already exists with different content",
                    conv.conversation_id
                )))
            }
        }
    }
    counts.messages = created.iter().map(|item| item.messages.len() as u64).sum();
    for item in &created {
        let conv = &item.conversation;
        let files_new = insert_files(tx, account, &item.files).await?;
        if files_new != item.files.len() as u64 {
            return Ok(Err(format!(
                "a file id of conversation `{}` already exists",
                conv.conversation_id
            )));
        }
        insert_survey_answers(tx, account, &conv.conversation_id, &item.survey_answers).await?;
        if let Some(end_time) = conv.end_time {
            let times: Vec<(i64, SentBy)> = item.messages.iter().map(|m| (m.time, sent_by(&m.sent_by))).collect();
            insert_metrics(tx, account, &metrics_source(conv, end_time), &times).await?;
        }
    }
    Ok(Ok(counts))
}
