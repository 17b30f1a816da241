//! Response bodies of the native API (request bodies of ingest live in
//! `lethe_service::wire`, shared with bulk import).

use lethe_domain::conversation::MessageBody;
use lethe_domain::time::to_rfc3339;
use lethe_service::views::{ConsumerView, ConversationView, FileView, MessageView};
use lethe_service::wire::{AttributeInput, ChannelIdentityInput, ParticipantInput};
use lethe_store::ConversationRecord;
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// Whether a write created something or found it already there.
#[derive(Debug, Serialize, ToSchema)]
pub struct WriteOut {
    pub id: String,
    pub created: bool,
}

/// A consumer profile.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsumerOut {
    pub id: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub private_token: Option<String>,
    pub channel_identities: Vec<ChannelIdentityInput>,
    pub attributes: BTreeMap<String, String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<ConsumerView> for ConsumerOut {
    fn from(v: ConsumerView) -> Self {
        let p = v.profile;
        Self {
            id: v.id,
            first_name: p.pii.first_name,
            last_name: p.pii.last_name,
            email: p.pii.email,
            phone: p.pii.phone,
            private_token: p.private_token,
            channel_identities: p
                .channel_identities
                .into_iter()
                .map(|c| ChannelIdentityInput {
                    channel: c.channel,
                    cid: c.cid,
                })
                .collect(),
            attributes: p.attributes,
            created_at: to_rfc3339(v.created_at),
            updated_at: to_rfc3339(v.updated_at),
        }
    }
}

/// A conversation without its content: what search lists.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationSummary {
    pub id: String,
    pub kind: String,
    pub status: String,
    pub consumer_id: Option<String>,
    pub bot_id: Option<String>,
    pub start_time: String,
    pub end_time: Option<String>,
    pub close_reason: Option<String>,
    pub source: Option<String>,
    pub device: Option<String>,
    pub agent_id: Option<String>,
    pub skill_id: Option<String>,
    pub csat: Option<i64>,
    pub mcs: Option<i64>,
}

impl From<&ConversationRecord> for ConversationSummary {
    fn from(r: &ConversationRecord) -> Self {
        Self {
            id: r.conversation_id.clone(),
            kind: r.kind.clone(),
            status: r.status.clone(),
            consumer_id: r.consumer_id.clone(),
            bot_id: r.bot_id.clone(),
            start_time: to_rfc3339(r.start_time),
            end_time: r.end_time.map(to_rfc3339),
            close_reason: r.close_reason.clone(),
            source: r.source.clone(),
            device: r.device.clone(),
            agent_id: r.agent_id.clone(),
            skill_id: r.skill_id.clone(),
            csat: r.csat,
            mcs: r.mcs,
        }
    }
}

/// A message as stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageOut {
    pub id: String,
    pub seq: i64,
    pub time: String,
    pub sent_by: String,
    pub participant_id: Option<String>,
    #[serde(rename = "type")]
    pub message_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<serde_json::Value>,
}

impl From<MessageView> for MessageOut {
    fn from(m: MessageView) -> Self {
        let mut out = Self {
            message_type: m.body.message_type().as_str().to_owned(),
            id: m.id,
            seq: m.seq,
            time: to_rfc3339(m.time),
            sent_by: m.sent_by.as_str().to_owned(),
            participant_id: m.participant_id,
            text: None,
            url: None,
            caption: None,
            file_id: None,
            content: None,
        };
        match m.body {
            MessageBody::Text(text) => out.text = Some(text),
            MessageBody::Link { url, caption } => (out.url, out.caption) = (Some(url), caption),
            MessageBody::HostedFile { file_id, caption } => {
                (out.file_id, out.caption) = (Some(file_id.into()), caption)
            }
            MessageBody::RichContent(content) => out.content = Some(content),
        }
        out
    }
}

/// A survey answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct SurveyAnswerOut {
    pub survey_id: String,
    pub question_id: String,
    pub question: Option<String>,
    pub choice: Option<String>,
    pub text: Option<String>,
}

/// A hosted file's metadata.
#[derive(Debug, Serialize, ToSchema)]
pub struct FileOut {
    pub id: String,
    pub name: Option<String>,
    pub content_type: String,
    pub size: i64,
    pub created_at: String,
}

impl From<FileView> for FileOut {
    fn from(f: FileView) -> Self {
        Self {
            id: f.id,
            name: f.name,
            content_type: f.content_type,
            size: f.size,
            created_at: to_rfc3339(f.created_at),
        }
    }
}

/// A conversation with everything in it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationOut {
    #[serde(flatten)]
    pub summary: ConversationSummary,
    pub consumer_participant: Option<ParticipantInput>,
    pub attributes: Vec<AttributeInput>,
    pub messages: Vec<MessageOut>,
    pub survey_answers: Vec<SurveyAnswerOut>,
    pub files: Vec<FileOut>,
}

impl From<ConversationView> for ConversationOut {
    fn from(v: ConversationView) -> Self {
        Self {
            summary: ConversationSummary::from(&v.record),
            consumer_participant: v.participant.map(|p| ParticipantInput {
                first_name: p.first_name,
                last_name: p.last_name,
                email: p.email,
                phone: p.phone,
            }),
            attributes: v
                .attributes
                .into_iter()
                .map(|a| AttributeInput {
                    kind: a.kind.as_str().to_owned(),
                    name: a.name,
                    value: a.value,
                })
                .collect(),
            messages: v.messages.into_iter().map(MessageOut::from).collect(),
            survey_answers: v
                .survey_answers
                .into_iter()
                .map(|s| SurveyAnswerOut {
                    survey_id: s.survey_id,
                    question_id: s.question_id,
                    question: s.question,
                    choice: s.choice,
                    text: s.text,
                })
                .collect(),
            files: v.files.into_iter().map(FileOut::from).collect(),
        }
    }
}
