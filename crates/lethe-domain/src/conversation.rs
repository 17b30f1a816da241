//! Conversations, messages, attributes and consumer profiles in plaintext form.

use crate::error::{DomainError, DomainResult};
use crate::ids::{BotId, ConsumerId, ConversationId, FileId, MessageId, SiteId, SurveyId};
use crate::time::Millis;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

wire_enum!(
    /// Messaging conversation or chat engagement.
    ConversationKind { Messaging = "messaging", Chat = "chat" }
);
wire_enum!(
    /// A conversation's latest status.
    ConversationStatus { Open = "open", Closed = "closed" }
);
wire_enum!(
    /// What a message carries.
    MessageType { Text = "text", Link = "link", HostedFile = "hosted_file", RichContent = "rich_content" }
);
wire_enum!(
    /// Who sent a message.
    SentBy { Consumer = "consumer", Agent = "agent" }
);
wire_enum!(
    /// The engagement-attribute (SDE) families a brand searches by.
    AttributeKind { PersonalInfo = "personalInfo", CustomerInfo = "customerInfo", UserUpdate = "userUpdate" }
);

/// Personal fields of a consumer participant, as copied into a conversation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParticipantPii {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// A channel user id (`cId`) through which a consumer reached the brand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelIdentity {
    pub channel: String,
    pub cid: String,
}

/// A consumer profile: everything in it is personal data.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumerProfile {
    #[serde(flatten)]
    pub pii: ParticipantPii,
    pub private_token: Option<String>,
    pub channel_identities: Vec<ChannelIdentity>,
    pub attributes: BTreeMap<String, String>,
}

/// A consumer as written by an upsert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consumer {
    pub id: ConsumerId,
    pub profile: ConsumerProfile,
}

/// One engagement attribute (SDE) value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attribute {
    pub kind: AttributeKind,
    pub name: String,
    pub value: String,
}

/// Reporting figures a client may supply when it opens or closes a conversation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ratings {
    pub csat: Option<i64>,
    pub mcs: Option<i64>,
}

/// Routing facts about a conversation: reporting data, not personal data.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Routing {
    pub source: Option<String>,
    pub device: Option<String>,
    pub agent_id: Option<String>,
    pub skill_id: Option<String>,
}

/// How a conversation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closing {
    pub end_time: Millis,
    pub close_reason: Option<String>,
    pub ratings: Ratings,
}

/// A conversation as created by ingest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewConversation {
    pub id: ConversationId,
    pub kind: ConversationKind,
    pub consumer_id: Option<ConsumerId>,
    pub bot_id: Option<BotId>,
    pub channel_user_id: Option<String>,
    pub start_time: Millis,
    pub routing: Routing,
    pub participant: Option<ParticipantPii>,
    pub attributes: Vec<Attribute>,
    pub closing: Option<Closing>,
}

impl NewConversation {
    /// Checks rules that span fields: chat ids embed the account id, ends follow starts.
    pub fn validate(&self, site: &SiteId) -> DomainResult<()> {
        if self.kind == ConversationKind::Chat && !self.id.as_str().starts_with(site.as_str()) {
            return Err(DomainError::invalid(
                "id",
                "a chat engagement id is the account id followed by the chat id",
            ));
        }
        if let Some(closing) = &self.closing {
            check_end_after_start(self.start_time, closing.end_time)?;
        }
        Ok(())
    }
}

/// Rejects an end time before the start time.
pub fn check_end_after_start(start: Millis, end: Millis) -> DomainResult<()> {
    if end < start {
        return Err(DomainError::invalid("end_time", "must not be before start_time"));
    }
    Ok(())
}

/// The personal payload of a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageBody {
    Text(String),
    Link { url: String, caption: Option<String> },
    HostedFile { file_id: FileId, caption: Option<String> },
    RichContent(serde_json::Value),
}

impl MessageBody {
    /// The message type this body is.
    pub fn message_type(&self) -> MessageType {
        match self {
            MessageBody::Text(_) => MessageType::Text,
            MessageBody::Link { .. } => MessageType::Link,
            MessageBody::HostedFile { .. } => MessageType::HostedFile,
            MessageBody::RichContent(_) => MessageType::RichContent,
        }
    }
}

/// A message as appended by ingest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    pub id: MessageId,
    pub time: Millis,
    pub sent_by: SentBy,
    pub participant_id: Option<String>,
    pub body: MessageBody,
}

/// One answer in a post-conversation survey.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurveyAnswer {
    pub question_id: String,
    pub question: Option<String>,
    /// A chosen option: reporting data.
    pub choice: Option<String>,
    /// Free text: personal data.
    pub text: Option<String>,
}

/// A survey's answers for one conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSurvey {
    pub survey_id: SurveyId,
    pub answers: Vec<SurveyAnswer>,
}

/// A hosted file as uploaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFile {
    pub id: FileId,
    pub name: Option<String>,
    pub content_type: String,
    pub bytes: Vec<u8>,
}
