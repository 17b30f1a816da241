//! The native ingest wire format, shared by the `/v1` API and NDJSON bulk import so the
//! two accept exactly the same records.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use lethe_domain::conversation::*;
use lethe_domain::time::parse_rfc3339;
use lethe_domain::{
    BotId, ConsumerId, ConversationId, DomainError, DomainResult, FileId, MessageId, Millis, SiteId, SurveyId,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// A consumer profile; PUT replaces the whole record.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsumerInput {
    /// Required in bulk import; in a PUT it may be omitted, or must equal the path id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub private_token: Option<String>,
    /// Channel user ids (`cId`) through which this person reached the brand.
    #[serde(default)]
    pub channel_identities: Vec<ChannelIdentityInput>,
    /// Custom attributes (personal data).
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

/// A channel user id.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelIdentityInput {
    pub channel: String,
    pub cid: String,
}

/// The consumer participant's fields as copied into a conversation.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ParticipantInput {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// An engagement attribute (SDE).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttributeInput {
    /// `personalInfo`, `customerInfo` or `userUpdate`.
    pub kind: String,
    pub name: String,
    pub value: String,
}

/// A conversation (or chat engagement) with, optionally, its content.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConversationInput {
    pub id: String,
    /// `messaging` (default) or `chat`; a chat id is the account id + chat id.
    #[serde(default = "default_kind")]
    pub kind: String,
    pub consumer_id: Option<String>,
    pub bot_id: Option<String>,
    /// The channel user id (`cId`) the conversation came through.
    pub channel_user_id: Option<String>,
    /// RFC 3339.
    pub start_time: String,
    /// RFC 3339; when given, the conversation is created closed.
    pub end_time: Option<String>,
    pub close_reason: Option<String>,
    pub source: Option<String>,
    pub device: Option<String>,
    pub agent_id: Option<String>,
    pub skill_id: Option<String>,
    pub csat: Option<i64>,
    pub mcs: Option<i64>,
    /// Copied from the consumer's profile when omitted and the consumer exists.
    pub consumer_participant: Option<ParticipantInput>,
    #[serde(default)]
    pub attributes: Vec<AttributeInput>,
    #[serde(default)]
    pub messages: Vec<MessageInput>,
    #[serde(default)]
    pub surveys: Vec<SurveyInput>,
    /// Hosted files inline (base64), for bulk import.
    #[serde(default)]
    pub files: Vec<FileInput>,
}

fn default_kind() -> String {
    "messaging".into()
}

/// A message.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageInput {
    pub id: String,
    /// RFC 3339.
    pub time: String,
    /// `consumer` or `agent`.
    pub sent_by: String,
    pub participant_id: Option<String>,
    /// `text` (default), `link`, `hosted_file` or `rich_content`.
    #[serde(rename = "type", default = "default_message_type")]
    pub message_type: String,
    pub text: Option<String>,
    pub url: Option<String>,
    pub caption: Option<String>,
    pub file_id: Option<String>,
    /// Structured content of a `rich_content` message.
    pub content: Option<serde_json::Value>,
}

fn default_message_type() -> String {
    "text".into()
}

/// A post-conversation survey.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SurveyInput {
    pub survey_id: String,
    pub answers: Vec<SurveyAnswerInput>,
}

/// One answer: a `choice` (reporting data) or free `text` (personal data).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SurveyAnswerInput {
    pub question_id: String,
    pub question: Option<String>,
    pub choice: Option<String>,
    pub text: Option<String>,
}

/// A hosted file given inline.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FileInput {
    pub id: String,
    pub name: Option<String>,
    pub content_type: String,
    pub data_base64: String,
}

/// Closing an open conversation.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseInput {
    /// RFC 3339.
    pub end_time: String,
    pub close_reason: Option<String>,
    pub csat: Option<i64>,
    pub mcs: Option<i64>,
}

/// One line of an NDJSON import: `{"consumer": {…}}` or `{"conversation": {…}}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ImportLine {
    Consumer(ConsumerInput),
    Conversation(Box<ConversationInput>),
}

/// A conversation record in domain form, ready to seal.
#[derive(Debug, Clone)]
pub struct ParsedConversation {
    pub conversation: NewConversation,
    pub messages: Vec<NewMessage>,
    pub surveys: Vec<NewSurvey>,
    pub files: Vec<NewFile>,
}

/// Parses an RFC 3339 field.
pub fn parse_time(field: &str, value: &str) -> DomainResult<Millis> {
    parse_rfc3339(value).ok_or_else(|| DomainError::invalid(field, "must be an RFC 3339 timestamp"))
}

fn parse_enum<T>(field: &str, value: &str, parse: fn(&str) -> Option<T>, all: &[&str]) -> DomainResult<T> {
    parse(value).ok_or_else(|| DomainError::invalid(field, format!("must be one of: {}", all.join(", "))))
}

fn names<T: Copy>(all: &[T], name: fn(T) -> &'static str) -> Vec<&'static str> {
    all.iter().map(|v| name(*v)).collect()
}

fn prefixed(prefix: &str) -> impl Fn(DomainError) -> DomainError + '_ {
    move |e| match e {
        DomainError::Invalid { field, message } => DomainError::Invalid {
            field: format!("{prefix}.{field}"),
            message,
        },
        other => other,
    }
}

impl ConsumerInput {
    /// The profile in domain form.
    pub fn profile(&self) -> ConsumerProfile {
        ConsumerProfile {
            pii: ParticipantPii {
                first_name: self.first_name.clone(),
                last_name: self.last_name.clone(),
                email: self.email.clone(),
                phone: self.phone.clone(),
            },
            private_token: self.private_token.clone(),
            channel_identities: self
                .channel_identities
                .iter()
                .map(|c| ChannelIdentity {
                    channel: c.channel.clone(),
                    cid: c.cid.clone(),
                })
                .collect(),
            attributes: self.attributes.clone(),
        }
    }
}

impl AttributeInput {
    fn to_domain(&self) -> DomainResult<Attribute> {
        Ok(Attribute {
            kind: parse_enum(
                "kind",
                &self.kind,
                AttributeKind::parse,
                &names(AttributeKind::ALL, AttributeKind::as_str),
            )?,
            name: self.name.clone(),
            value: self.value.clone(),
        })
    }
}

impl MessageInput {
    /// The message in domain form; fields that do not belong to its type are rejected.
    pub fn to_domain(&self) -> DomainResult<NewMessage> {
        let kind = parse_enum(
            "type",
            &self.message_type,
            MessageType::parse,
            &names(MessageType::ALL, MessageType::as_str),
        )?;
        let require = |field: &str, value: &Option<String>| {
            value
                .clone()
                .ok_or_else(|| DomainError::invalid(field, format!("is required for a {} message", kind.as_str())))
        };
        let body = match kind {
            MessageType::Text => MessageBody::Text(require("text", &self.text)?),
            MessageType::Link => MessageBody::Link {
                url: require("url", &self.url)?,
                caption: self.caption.clone(),
            },
            MessageType::HostedFile => MessageBody::HostedFile {
                file_id: FileId::parse(require("file_id", &self.file_id)?)?,
                caption: self.caption.clone(),
            },
            MessageType::RichContent => MessageBody::RichContent(
                self.content
                    .clone()
                    .ok_or_else(|| DomainError::invalid("content", "is required for a rich_content message"))?,
            ),
        };
        let stray = [
            ("text", self.text.is_some() && kind != MessageType::Text),
            ("url", self.url.is_some() && kind != MessageType::Link),
            (
                "caption",
                self.caption.is_some() && !matches!(kind, MessageType::Link | MessageType::HostedFile),
            ),
            ("file_id", self.file_id.is_some() && kind != MessageType::HostedFile),
            ("content", self.content.is_some() && kind != MessageType::RichContent),
        ];
        if let Some((field, _)) = stray.iter().find(|(_, bad)| *bad) {
            return Err(DomainError::invalid(
                *field,
                format!("does not belong to a {} message", kind.as_str()),
            ));
        }
        Ok(NewMessage {
            id: MessageId::parse(&self.id)?,
            time: parse_time("time", &self.time)?,
            sent_by: parse_enum(
                "sent_by",
                &self.sent_by,
                SentBy::parse,
                &names(SentBy::ALL, SentBy::as_str),
            )?,
            participant_id: self.participant_id.clone(),
            body,
        })
    }
}

impl SurveyInput {
    /// The survey in domain form.
    pub fn to_domain(&self) -> DomainResult<NewSurvey> {
        if self.answers.is_empty() {
            return Err(DomainError::invalid("answers", "must not be empty"));
        }
        let mut seen = std::collections::HashSet::new();
        let answers = self
            .answers
            .iter()
            .map(|a| {
                if a.question_id.is_empty() {
                    return Err(DomainError::invalid("question_id", "must not be empty"));
                }
                if !seen.insert(a.question_id.as_str()) {
                    return Err(DomainError::invalid(
                        "question_id",
                        format!("`{}` is answered twice", a.question_id),
                    ));
                }
                if a.choice.is_none() && a.text.is_none() {
                    return Err(DomainError::invalid("answers", "each answer needs a choice or a text"));
                }
                Ok(SurveyAnswer {
                    question_id: a.question_id.clone(),
                    question: a.question.clone(),
                    choice: a.choice.clone(),
                    text: a.text.clone(),
                })
            })
            .collect::<DomainResult<_>>()?;
        Ok(NewSurvey {
            survey_id: SurveyId::parse(&self.survey_id)?,
            answers,
        })
    }
}

impl CloseInput {
    /// The closing in domain form.
    pub fn to_domain(&self) -> DomainResult<Closing> {
        Ok(Closing {
            end_time: parse_time("end_time", &self.end_time)?,
            close_reason: self.close_reason.clone(),
            ratings: Ratings {
                csat: self.csat,
                mcs: self.mcs,
            },
        })
    }
}

impl ConversationInput {
    /// Validates the record and converts it to domain form.
    pub fn to_domain(&self, site: &SiteId) -> DomainResult<ParsedConversation> {
        let kinds = names(ConversationKind::ALL, ConversationKind::as_str);
        let start_time = parse_time("start_time", &self.start_time)?;
        let closing = match &self.end_time {
            Some(end) => Some(Closing {
                end_time: parse_time("end_time", end)?,
                close_reason: self.close_reason.clone(),
                ratings: Ratings {
                    csat: self.csat,
                    mcs: self.mcs,
                },
            }),
            None if self.close_reason.is_some() => {
                return Err(DomainError::invalid("close_reason", "needs end_time"));
            }
            None => None,
        };
        let conversation = NewConversation {
            id: ConversationId::parse(&self.id)?,
            kind: parse_enum("kind", &self.kind, ConversationKind::parse, &kinds)?,
            consumer_id: self.consumer_id.as_deref().map(ConsumerId::parse).transpose()?,
            bot_id: self.bot_id.as_deref().map(BotId::parse).transpose()?,
            channel_user_id: self.channel_user_id.clone(),
            start_time,
            routing: Routing {
                source: self.source.clone(),
                device: self.device.clone(),
                agent_id: self.agent_id.clone(),
                skill_id: self.skill_id.clone(),
            },
            participant: self.consumer_participant.as_ref().map(|p| ParticipantPii {
                first_name: p.first_name.clone(),
                last_name: p.last_name.clone(),
                email: p.email.clone(),
                phone: p.phone.clone(),
            }),
            attributes: self
                .attributes
                .iter()
                .enumerate()
                .map(|(i, a)| a.to_domain().map_err(prefixed(&format!("attributes[{i}]"))))
                .collect::<DomainResult<_>>()?,
            closing,
        };
        conversation.validate(site)?;
        let messages = self.parse_messages()?;
        let surveys = self
            .surveys
            .iter()
            .enumerate()
            .map(|(i, s)| s.to_domain().map_err(prefixed(&format!("surveys[{i}]"))))
            .collect::<DomainResult<Vec<_>>>()?;
        let files = self.parse_files()?;
        for (i, m) in messages.iter().enumerate() {
            if let MessageBody::HostedFile { file_id, .. } = &m.body {
                if !files.iter().any(|f| &f.id == file_id) {
                    return Err(DomainError::invalid(
                        format!("messages[{i}].file_id"),
                        "names no file of this record",
                    ));
                }
            }
        }
        Ok(ParsedConversation {
            conversation,
            messages,
            surveys,
            files,
        })
    }

    fn parse_messages(&self) -> DomainResult<Vec<NewMessage>> {
        let mut seen = std::collections::HashSet::new();
        self.messages
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let message = m.to_domain().map_err(prefixed(&format!("messages[{i}]")))?;
                if !seen.insert(message.id.clone()) {
                    return Err(DomainError::invalid(format!("messages[{i}].id"), "is repeated"));
                }
                Ok(message)
            })
            .collect()
    }

    fn parse_files(&self) -> DomainResult<Vec<NewFile>> {
        let mut seen = std::collections::HashSet::new();
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let field = |name: &str| format!("files[{i}].{name}");
                let id = FileId::parse(&f.id).map_err(prefixed(&format!("files[{i}]")))?;
                if !seen.insert(id.clone()) {
                    return Err(DomainError::invalid(field("id"), "is repeated"));
                }
                let bytes = B64
                    .decode(f.data_base64.as_bytes())
                    .map_err(|_| DomainError::invalid(field("data_base64"), "is not valid base64"))?;
                Ok(NewFile {
                    id,
                    name: f.name.clone(),
                    content_type: f.content_type.clone(),
                    bytes,
                })
            })
            .collect()
    }
}
