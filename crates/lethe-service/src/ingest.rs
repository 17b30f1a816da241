//! Ingest of single records through the native API.

use crate::error::{ServiceError, ServiceResult};
use crate::import::write_lines;
use crate::sealing::*;
use crate::views::{ConsumerView, FileView};
use crate::wire::{CloseInput, ConsumerInput, ConversationInput, MessageInput, SurveyInput};
use crate::Lethe;
use lethe_domain::conversation::{check_end_after_start, NewFile};
use lethe_domain::{ConsumerId, ConversationId, SiteId};
use lethe_store::{AppendRefusal, CloseWrite, FileRecord, KeyOwnerKind, MessageWrite, SurveyAnswerWrite, WriteOutcome};

/// Whether a create made something new or found it already there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    New,
    AlreadyThere,
}

impl Lethe {
    /// Why an append was refused; a missing conversation is 410 when it was erased.
    async fn refusal(&self, site: &SiteId, refusal: AppendRefusal, conversation: &ConversationId) -> ServiceError {
        // A masked conversation is still there, closed, but erased: that answer wins.
        let missing = self.missing_conversation(site, conversation).await;
        match refusal {
            AppendRefusal::Missing => missing,
            _ if matches!(missing, ServiceError::Gone(_)) => missing,
            AppendRefusal::Closed => ServiceError::Conflict(format!("conversation {conversation} is closed")),
            AppendRefusal::FileMissing => ServiceError::invalid("file_id", "names no file of this conversation"),
        }
    }
}

fn created(outcome: WriteOutcome, what: &str) -> ServiceResult<Created> {
    match outcome {
        WriteOutcome::Created => Ok(Created::New),
        WriteOutcome::Unchanged => Ok(Created::AlreadyThere),
        WriteOutcome::Conflict => Err(ServiceError::Conflict(format!(
            "{what} already exists with different content"
        ))),
    }
}

impl Lethe {
    /// Replaces a consumer's record whole.
    pub async fn upsert_consumer(&self, site: &SiteId, id: &ConsumerId, input: &ConsumerInput) -> ServiceResult<()> {
        self.note_online_write();
        if input.id.as_deref().is_some_and(|body_id| body_id != id.as_str()) {
            return Err(ServiceError::invalid("id", "differs from the id in the path"));
        }
        self.require_account(site).await?;
        let line = crate::wire::ImportLine::Consumer(ConsumerInput {
            id: Some(id.as_str().to_owned()),
            ..input.clone()
        });
        write_lines(self, site, vec![line])
            .await?
            .map_err(ServiceError::Conflict)?;
        Ok(())
    }

    /// A consumer's profile, opened.
    pub async fn consumer(&self, site: &SiteId, id: &ConsumerId) -> ServiceResult<ConsumerView> {
        let record = self
            .store
            .consumer(site.as_str(), id.as_str())
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("consumer {id}")))?;
        let key = self.open_data_key(
            site.as_str(),
            KeyOwnerKind::Consumer,
            id.as_str(),
            &record.kek_id,
            &record.wrapped,
        )?;
        let profile = serde_json::from_slice(&key.open(PROFILE, &record.sealed_profile)?)
            .map_err(|e| ServiceError::Internal(format!("stored profile does not parse (column {})", e.column())))?;
        Ok(ConsumerView {
            id: record.consumer_id,
            profile,
            created_at: record.created_at,
            updated_at: record.updated_at,
        })
    }

    /// Creates a conversation (with any inline content); an identical repeat is a no-op.
    pub async fn create_conversation(&self, site: &SiteId, input: &ConversationInput) -> ServiceResult<Created> {
        self.note_online_write();
        input.to_domain(site)?;
        self.require_account(site).await?;
        let line = crate::wire::ImportLine::Conversation(Box::new(input.clone()));
        let counts = write_lines(self, site, vec![line])
            .await?
            .map_err(ServiceError::Conflict)?;
        Ok(if counts.conversations_created == 1 {
            Created::New
        } else {
            Created::AlreadyThere
        })
    }

    async fn conversation_key(
        &self,
        site: &SiteId,
        id: &ConversationId,
    ) -> ServiceResult<(lethe_store::ConversationRecord, lethe_crypto::DataKey)> {
        let Some(record) = self.store.conversation(site.as_str(), id.as_str()).await? else {
            return Err(self.missing_conversation(site, id).await);
        };
        let key = self.open_data_key(
            site.as_str(),
            KeyOwnerKind::Conversation,
            id.as_str(),
            &record.kek_id,
            &record.wrapped,
        )?;
        Ok((record, key))
    }

    /// Appends a message; the same id with the same content is a no-op.
    pub async fn append_message(
        &self,
        site: &SiteId,
        id: &ConversationId,
        input: &MessageInput,
    ) -> ServiceResult<Created> {
        self.note_online_write();
        let message = input.to_domain()?;
        let (_, key) = self.conversation_key(site, id).await?;
        let write = self.seal_message(site, &key, input, &message);
        let outcome = match self.store.append_message(site.as_str(), id.as_str(), &write).await? {
            Ok(outcome) => outcome,
            Err(r) => return Err(self.refusal(site, r, id).await),
        };
        created(outcome, &format!("message {}", message.id))
    }

    pub(crate) fn seal_message(
        &self,
        site: &SiteId,
        key: &lethe_crypto::DataKey,
        input: &MessageInput,
        message: &lethe_domain::conversation::NewMessage,
    ) -> MessageWrite {
        let body = crate::message_body::encode(&message.body);
        let canonical = serde_json::to_vec(input).expect("message inputs serialise");
        MessageWrite {
            message_id: message.id.as_str().to_owned(),
            time: message.time,
            sent_by: message.sent_by.as_str().to_owned(),
            participant_id: message.participant_id.clone(),
            msg_type: message.body.message_type().as_str().to_owned(),
            file_id: match &message.body {
                lethe_domain::conversation::MessageBody::HostedFile { file_id, .. } => {
                    Some(file_id.as_str().to_owned())
                }
                _ => None,
            },
            sealed_body: key.seal(&message_context(message.id.as_str()), &body),
            content_mac: self.keyring.content_mac(site.as_str(), &canonical),
        }
    }

    /// Stores a hosted file for an open conversation: bytes sealed into the blob store,
    /// then the row. A refused row removes the blob again.
    pub async fn add_file(&self, site: &SiteId, id: &ConversationId, file: NewFile) -> ServiceResult<FileView> {
        self.note_online_write();
        let (_, key) = self.conversation_key(site, id).await?;
        let record = self.seal_file(site, id, &key, &file);
        let sealed = key.seal(&file_context(file.id.as_str()), &file.bytes);
        self.blobs.put(&record.blob_key, sealed).await?;
        let result = self.store.add_file(site.as_str(), &record).await;
        let outcome = match result {
            Ok(Ok(WriteOutcome::Created)) => Ok(()),
            Ok(Ok(_)) => Err(ServiceError::Conflict(format!("file {} already exists", file.id))),
            Ok(Err(r)) => Err(self.refusal(site, r, id).await),
            Err(e) => Err(e.into()),
        };
        if let Err(e) = outcome {
            self.blobs.delete(&record.blob_key).await?;
            return Err(e);
        }
        Ok(FileView {
            id: record.file_id,
            name: file.name,
            content_type: record.content_type,
            size: record.size,
            created_at: record.created_at,
        })
    }

    pub(crate) fn seal_file(
        &self,
        site: &SiteId,
        id: &ConversationId,
        key: &lethe_crypto::DataKey,
        file: &NewFile,
    ) -> FileRecord {
        FileRecord {
            file_id: file.id.as_str().to_owned(),
            conversation_id: id.as_str().to_owned(),
            blob_key: format!("{}/{}", site, uuid::Uuid::new_v4()),
            content_type: file.content_type.clone(),
            size: file.bytes.len() as i64,
            sealed_name: file
                .name
                .as_ref()
                .map(|n| key.seal(&file_name_context(file.id.as_str()), n.as_bytes())),
            created_at: self.now(),
        }
    }

    /// A hosted file's metadata and bytes, opened.
    pub async fn file_bytes(
        &self,
        site: &SiteId,
        id: &ConversationId,
        file_id: &str,
    ) -> ServiceResult<(FileView, Vec<u8>)> {
        let (_, key) = self.conversation_key(site, id).await?;
        let record = self
            .store
            .file(site.as_str(), id.as_str(), file_id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("file {file_id}")))?;
        let sealed = self
            .blobs
            .get(&record.blob_key)
            .await?
            .ok_or_else(|| ServiceError::Internal(format!("blob of file {file_id} is missing")))?;
        let bytes = key.open(&file_context(file_id), &sealed)?;
        let name = match &record.sealed_name {
            Some(sealed) => Some(key.open_string(&file_name_context(file_id), sealed)?),
            None => None,
        };
        let view = FileView {
            id: record.file_id,
            name,
            content_type: record.content_type,
            size: record.size,
            created_at: record.created_at,
        };
        Ok((view, bytes))
    }

    /// Records a survey's answers; free text is sealed, choices stay reporting data.
    pub async fn add_survey(&self, site: &SiteId, id: &ConversationId, input: &SurveyInput) -> ServiceResult<()> {
        self.note_online_write();
        let survey = input.to_domain()?;
        let (_, key) = self.conversation_key(site, id).await?;
        let answers = seal_survey(&key, &survey);
        let outcome = match self.store.add_survey(site.as_str(), id.as_str(), &answers).await? {
            Ok(outcome) => outcome,
            Err(r) => return Err(self.refusal(site, r, id).await),
        };
        match outcome {
            WriteOutcome::Created => Ok(()),
            _ => Err(ServiceError::Conflict(format!(
                "survey {} already has answers here",
                survey.survey_id
            ))),
        }
    }

    /// Closes an open conversation and derives its reporting row.
    pub async fn close_conversation(
        &self,
        site: &SiteId,
        id: &ConversationId,
        input: &CloseInput,
    ) -> ServiceResult<()> {
        self.note_online_write();
        let closing = input.to_domain()?;
        let Some(record) = self.store.conversation(site.as_str(), id.as_str()).await? else {
            return Err(self.missing_conversation(site, id).await);
        };
        check_end_after_start(record.start_time, closing.end_time)?;
        let close = CloseWrite {
            end_time: closing.end_time,
            close_reason: closing.close_reason,
            csat: closing.ratings.csat,
            mcs: closing.ratings.mcs,
        };
        match self
            .store
            .close_conversation(site.as_str(), id.as_str(), &close)
            .await?
        {
            Ok(()) => Ok(()),
            Err(r) => Err(self.refusal(site, r, id).await),
        }
    }
}

pub(crate) fn seal_survey(
    key: &lethe_crypto::DataKey,
    survey: &lethe_domain::conversation::NewSurvey,
) -> Vec<SurveyAnswerWrite> {
    survey
        .answers
        .iter()
        .map(|a| SurveyAnswerWrite {
            survey_id: survey.survey_id.as_str().to_owned(),
            question_id: a.question_id.clone(),
            question: a.question.clone(),
            choice: a.choice.clone(),
            sealed_text: a
                .text
                .as_ref()
                .map(|t| key.seal(&survey_context(survey.survey_id.as_str(), &a.question_id), t.as_bytes())),
        })
        .collect()
}
