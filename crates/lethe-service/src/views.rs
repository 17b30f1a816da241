//! Opened (decrypted) records, for rendering by any surface.

use crate::error::{ServiceError, ServiceResult};
use crate::message_body;
use crate::sealing::*;
use crate::Lethe;
use lethe_crypto::DataKey;
use lethe_domain::conversation::{Attribute, ConsumerProfile, MessageBody, ParticipantPii, SentBy};
use lethe_domain::{ConversationId, SiteId};
use lethe_store::{ConversationParts, ConversationRecord, KeyOwnerKind, PartsWanted};
use std::collections::HashMap;

/// A consumer profile, opened.
#[derive(Debug, Clone)]
pub struct ConsumerView {
    pub id: String,
    pub profile: ConsumerProfile,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A message, opened.
#[derive(Debug, Clone)]
pub struct MessageView {
    pub id: String,
    pub seq: i64,
    pub time: i64,
    pub sent_by: SentBy,
    pub participant_id: Option<String>,
    pub body: MessageBody,
    /// The content type of a hosted file this message references.
    pub file_content_type: Option<String>,
}

/// A survey answer, opened.
#[derive(Debug, Clone)]
pub struct SurveyAnswerView {
    pub survey_id: String,
    pub question_id: String,
    pub question: Option<String>,
    pub choice: Option<String>,
    pub text: Option<String>,
}

/// A hosted file's metadata.
#[derive(Debug, Clone)]
pub struct FileView {
    pub id: String,
    pub name: Option<String>,
    pub content_type: String,
    pub size: i64,
    pub created_at: i64,
}

/// A conversation with the parts that were asked for, opened.
#[derive(Debug, Clone)]
pub struct ConversationView {
    pub record: ConversationRecord,
    pub participant: Option<ParticipantPii>,
    pub attributes: Vec<Attribute>,
    pub messages: Vec<MessageView>,
    pub survey_answers: Vec<SurveyAnswerView>,
    pub files: Vec<FileView>,
}

/// Parses an opened field. The bytes are checked as UTF-8 once, in one pass, so the
/// JSON reader need not check each string it meets again (a fifth of decoding). serde's
/// message can quote the input, which is personal data here, so only its position
/// reaches the log.
pub(crate) fn parse<T: serde::de::DeserializeOwned>(what: &str, plain: &[u8]) -> ServiceResult<T> {
    let text = std::str::from_utf8(plain)
        .map_err(|e| ServiceError::Internal(format!("stored {what} is not UTF-8 (at byte {})", e.valid_up_to())))?;
    serde_json::from_str(text).map_err(|e| {
        ServiceError::Internal(format!(
            "stored {what} does not parse (line {}, column {})",
            e.line(),
            e.column()
        ))
    })
}

#[derive(Default)]
struct Grouped {
    survey_answers: Vec<lethe_store::SurveyAnswerRecord>,
    files: Vec<lethe_store::FileRecord>,
}

/// Content types by hosted-file id: the store's lookup for the messages' files, and
/// the file rows read with the conversations.
type FileTypes = HashMap<String, String>;

/// The entry of `id`, cloning the id only for a conversation not seen yet: a page holds
/// thousands of child rows and only tens of conversations.
fn entry<'a>(by_id: &'a mut HashMap<String, Grouped>, id: &str) -> &'a mut Grouped {
    if !by_id.contains_key(id) {
        by_id.insert(id.to_owned(), Grouped::default());
    }
    by_id.get_mut(id).expect("inserted above")
}

/// The page's survey answers and files by conversation, and the content types of its
/// files. Messages are not here: each conversation's come from its row.
fn group(parts: ConversationParts) -> (HashMap<String, Grouped>, FileTypes) {
    let mut types: FileTypes = parts.file_types.into_iter().collect();
    types.extend(parts.files.iter().map(|f| (f.file_id.clone(), f.content_type.clone())));
    let mut by_id: HashMap<String, Grouped> = HashMap::new();
    for s in parts.survey_answers {
        entry(&mut by_id, &s.conversation_id).survey_answers.push(s);
    }
    for f in parts.files {
        entry(&mut by_id, &f.conversation_id).files.push(f);
    }
    (by_id, types)
}

/// Opens the attributes a conversation row holds packed, in position order.
fn open_attributes(key: &DataKey, packed: &[u8]) -> ServiceResult<Vec<Attribute>> {
    let fields = lethe_store::unpack_sealed(packed)
        .ok_or_else(|| ServiceError::Internal("stored attributes are not whole frames".into()))?;
    fields
        .into_iter()
        .map(|(position, sealed)| {
            let plain = key.open(&attribute_context(position as usize), sealed)?;
            parse("attribute", &plain)
        })
        .collect()
}

/// Opens the messages of a conversation's column, in sequence order.
fn open_messages(key: &DataKey, log: &[u8], file_types: &FileTypes) -> ServiceResult<Vec<MessageView>> {
    let logged = lethe_store::unpack_messages(log)
        .ok_or_else(|| ServiceError::Internal("stored messages are not whole frames".into()))?;
    let mut context = Vec::new();
    let mut views = Vec::with_capacity(logged.len());
    for m in logged {
        write_message_context(&mut context, m.message_id);
        let plain = key.open(&context, m.sealed_body)?;
        let sent_by = SentBy::parse(m.sent_by)
            .ok_or_else(|| ServiceError::Internal("a stored message has an unknown sender".into()))?;
        views.push(MessageView {
            body: message_body::decode(plain)?,
            id: m.message_id.to_owned(),
            seq: m.seq,
            time: m.time,
            sent_by,
            participant_id: m.participant_id.map(str::to_owned),
            file_content_type: m.file_id.and_then(|f| file_types.get(f)).cloned(),
        });
    }
    Ok(views)
}

impl Lethe {
    /// One conversation with all its parts, opened.
    pub async fn conversation_view(&self, site: &SiteId, id: &ConversationId) -> ServiceResult<ConversationView> {
        let record = self
            .store
            .conversation(site.as_str(), id.as_str())
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("conversation {id}")))?;
        // The messages came with the row; the files' rows give their content types.
        let wanted = PartsWanted {
            messages: false,
            surveys: true,
            files: true,
        };
        let mut views = self.open_conversations(site, vec![record], wanted).await?;
        Ok(views.remove(0))
    }

    /// Loads the wanted parts of several conversations and opens everything.
    pub async fn open_conversations(
        &self,
        site: &SiteId,
        records: Vec<ConversationRecord>,
        wanted: PartsWanted,
    ) -> ServiceResult<Vec<ConversationView>> {
        let ids: Vec<String> = records.iter().map(|r| r.conversation_id.clone()).collect();
        let parts = self.store.conversation_parts(site.as_str(), &ids, wanted).await?;
        self.open_with_parts(site, records, parts)
    }

    /// Opens conversations whose child rows are already loaded.
    pub fn open_with_parts(
        &self,
        site: &SiteId,
        records: Vec<ConversationRecord>,
        parts: ConversationParts,
    ) -> ServiceResult<Vec<ConversationView>> {
        let (mut grouped, file_types) = group(parts);
        records
            .into_iter()
            .map(|record| {
                let parts = grouped.remove(&record.conversation_id).unwrap_or_default();
                self.open_conversation(site, record, parts, &file_types)
            })
            .collect()
    }

    fn open_conversation(
        &self,
        site: &SiteId,
        record: ConversationRecord,
        parts: Grouped,
        file_types: &FileTypes,
    ) -> ServiceResult<ConversationView> {
        let key = self.open_data_key(
            site.as_str(),
            KeyOwnerKind::Conversation,
            &record.conversation_id,
            &record.kek_id,
            &record.wrapped,
        )?;
        let participant = match &record.sealed_participant {
            Some(sealed) => Some(parse("participant", &key.open(PARTICIPANT, sealed)?)?),
            None => None,
        };
        let attributes = match &record.sealed_attributes {
            Some(packed) => open_attributes(&key, packed)?,
            None => Vec::new(),
        };
        let messages = match &record.sealed_messages {
            Some(log) => open_messages(&key, log, file_types)?,
            None => Vec::new(),
        };
        let survey_answers = parts
            .survey_answers
            .into_iter()
            .map(|s| {
                let text = match &s.sealed_text {
                    Some(sealed) => Some(key.open_string(&survey_context(&s.survey_id, &s.question_id), sealed)?),
                    None => None,
                };
                Ok(SurveyAnswerView {
                    survey_id: s.survey_id,
                    question_id: s.question_id,
                    question: s.question,
                    choice: s.choice,
                    text,
                })
            })
            .collect::<ServiceResult<_>>()?;
        let files = parts
            .files
            .into_iter()
            .map(|f| {
                let name = match &f.sealed_name {
                    Some(sealed) => Some(key.open_string(&file_name_context(&f.file_id), sealed)?),
                    None => None,
                };
                Ok(FileView {
                    id: f.file_id,
                    name,
                    content_type: f.content_type,
                    size: f.size,
                    created_at: f.created_at,
                })
            })
            .collect::<ServiceResult<_>>()?;
        Ok(ConversationView {
            record,
            participant,
            attributes,
            messages,
            survey_answers,
            files,
        })
    }
}
