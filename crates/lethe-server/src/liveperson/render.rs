//! Conversation history records in LivePerson's shape, as typed structs (serialised
//! straight to the response, and described in the OpenAPI document).

use chrono::{Datelike, TimeZone, Timelike, Utc};
use lethe_domain::conversation::{AttributeKind, MessageBody};
use lethe_service::views::ConversationView;
use serde::Serialize;
use serde_json::{json, Map, Value};
use utoipa::ToSchema;

/// The record sections lethe can produce, as `contentToRetrieve` names them.
pub const SECTIONS: [&str; 5] = [
    "info",
    "messageRecords",
    "consumerParticipants",
    "sdes",
    "conversationSurveys",
];

/// Which sections a search asked for.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sections {
    pub info: bool,
    pub messages: bool,
    pub participants: bool,
    pub sdes: bool,
    pub surveys: bool,
}

impl Sections {
    /// Every section.
    pub fn all() -> Self {
        Self {
            info: true,
            messages: true,
            participants: true,
            sdes: true,
            surveys: true,
        }
    }

    /// Turns one section on by its wire name; false for a name lethe does not hold.
    pub fn enable(&mut self, name: &str) -> bool {
        let flag = match name {
            "info" => &mut self.info,
            "messageRecords" => &mut self.messages,
            "consumerParticipants" => &mut self.participants,
            "sdes" => &mut self.sdes,
            "conversationSurveys" => &mut self.surveys,
            _ => return false,
        };
        *flag = true;
        true
    }
}

/// Conversation facts.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Info {
    pub conversation_id: String,
    pub brand_id: String,
    /// `OPEN` or `CLOSE`.
    pub status: &'static str,
    /// Epoch milliseconds.
    pub start_time: i64,
    /// Epoch milliseconds; -1 while open.
    pub end_time: i64,
    /// Milliseconds; -1 while open.
    pub duration: i64,
    pub close_reason: Option<String>,
    pub source: Option<String>,
    pub device: Option<String>,
    pub latest_agent_id: Option<String>,
    pub latest_skill_id: Option<String>,
}

/// One message.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessageRecord {
    pub message_id: String,
    pub seq: i64,
    /// `yyyy-MM-dd HH:mm:ss.SSS+0000`.
    pub time: String,
    /// Epoch milliseconds.
    #[serde(rename = "timeL")]
    pub time_l: i64,
    /// `TEXT_PLAIN`, `HOSTED_FILE`, `LINK` or `RICH_CONTENT`.
    #[serde(rename = "type")]
    pub message_type: &'static str,
    pub message_data: Value,
    pub participant_id: Option<String>,
    /// `Consumer` or `Agent`.
    pub sent_by: &'static str,
}

/// The consumer participant's personal fields as copied into the conversation.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConsumerParticipant {
    pub participant_id: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub time: String,
    #[serde(rename = "timeL")]
    pub time_l: i64,
}

/// Engagement attributes, one event per attribute family.
#[derive(Debug, Serialize, ToSchema)]
pub struct Sdes {
    pub events: Vec<Value>,
}

/// One survey's answers.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Survey {
    pub survey_id: String,
    pub survey_status: &'static str,
    pub survey_data: Vec<SurveyAnswer>,
}

/// One answer: the free text, or else the chosen option.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SurveyAnswer {
    pub question_id: String,
    pub question: Option<String>,
    pub answer: Option<String>,
}

/// One `conversationHistoryRecords` entry; absent sections were not requested.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Record {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub info: Option<Info>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_records: Option<Vec<MessageRecord>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consumer_participants: Option<Vec<ConsumerParticipant>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sdes: Option<Sdes>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conversation_surveys: Option<Vec<Survey>>,
}

/// LivePerson's message-time text form, e.g. `2017-06-01 12:00:00.000+0000`.
fn lp_time(ms: i64) -> String {
    // Formatted by hand: chrono's `format` parses its pattern on every call, which showed
    // up in profiles of searches returning hundreds of messages.
    Utc.timestamp_millis_opt(ms)
        .single()
        .map(|t| {
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:03}+0000",
                t.year(),
                t.month(),
                t.day(),
                t.hour(),
                t.minute(),
                t.second(),
                t.timestamp_subsec_millis()
            )
        })
        .unwrap_or_default()
}

fn info(site: &str, c: &ConversationView) -> Info {
    let r = &c.record;
    Info {
        conversation_id: r.conversation_id.clone(),
        brand_id: site.to_owned(),
        status: if r.status == "open" { "OPEN" } else { "CLOSE" },
        start_time: r.start_time,
        end_time: r.end_time.unwrap_or(-1),
        duration: r.end_time.map_or(-1, |end| end - r.start_time),
        close_reason: r.close_reason.clone(),
        source: r.source.clone(),
        device: r.device.clone(),
        latest_agent_id: r.agent_id.clone(),
        latest_skill_id: r.skill_id.clone(),
    }
}

fn file_type(content_type: &str) -> String {
    content_type.rsplit('/').next().unwrap_or(content_type).to_uppercase()
}

fn message_records(site: &str, c: &ConversationView) -> Vec<MessageRecord> {
    c.messages
        .iter()
        .map(|m| {
            let (message_type, message_data) = match &m.body {
                MessageBody::Text(text) => ("TEXT_PLAIN", json!({"msg": {"text": text}})),
                MessageBody::Link { url, caption } => ("LINK", json!({"link": {"url": url, "caption": caption}})),
                MessageBody::HostedFile { file_id, caption } => {
                    let path = format!(
                        "/v1/accounts/{site}/conversations/{}/files/{file_id}",
                        c.record.conversation_id
                    );
                    let file_type = m.file_content_type.as_deref().map(file_type);
                    let file = json!({"file": {"relativePath": path, "fileType": file_type, "caption": caption}});
                    ("HOSTED_FILE", file)
                }
                MessageBody::RichContent(content) => ("RICH_CONTENT", json!({"richContent": {"content": content}})),
            };
            MessageRecord {
                message_id: m.id.clone(),
                seq: m.seq,
                time: lp_time(m.time),
                time_l: m.time,
                message_type,
                message_data,
                participant_id: m.participant_id.clone(),
                sent_by: if m.sent_by == "consumer" { "Consumer" } else { "Agent" },
            }
        })
        .collect()
}

fn consumer_participants(c: &ConversationView) -> Vec<ConsumerParticipant> {
    let Some(p) = &c.participant else { return Vec::new() };
    let participant_id = c
        .messages
        .iter()
        .find(|m| m.sent_by == "consumer")
        .and_then(|m| m.participant_id.clone())
        .or_else(|| c.record.consumer_id.clone());
    vec![ConsumerParticipant {
        participant_id,
        first_name: p.first_name.clone(),
        last_name: p.last_name.clone(),
        email: p.email.clone(),
        phone: p.phone.clone(),
        time: lp_time(c.record.start_time),
        time_l: c.record.start_time,
    }]
}

fn sdes(c: &ConversationView) -> Sdes {
    let events = AttributeKind::ALL
        .iter()
        .filter_map(|kind| {
            let fields: Map<String, Value> = c
                .attributes
                .iter()
                .filter(|a| a.kind == *kind)
                .map(|a| (a.name.clone(), Value::String(a.value.clone())))
                .collect();
            if fields.is_empty() {
                return None;
            }
            let sde_type = match kind {
                AttributeKind::PersonalInfo => "PERSONAL_INFO",
                AttributeKind::CustomerInfo => "CUSTOMER_INFO",
                AttributeKind::UserUpdate => "USER_UPDATE",
            };
            let mut event = Map::new();
            event.insert("sdeType".into(), json!(sde_type));
            event.insert("serverTimeStamp".into(), json!(c.record.start_time));
            event.insert(kind.as_str().into(), json!({ kind.as_str(): fields }));
            Some(Value::Object(event))
        })
        .collect();
    Sdes { events }
}

fn surveys(c: &ConversationView) -> Vec<Survey> {
    let mut surveys: Vec<Survey> = Vec::new();
    for answer in &c.survey_answers {
        let data = SurveyAnswer {
            question_id: answer.question_id.clone(),
            question: answer.question.clone(),
            answer: answer.text.clone().or_else(|| answer.choice.clone()),
        };
        match surveys.last_mut() {
            Some(survey) if survey.survey_id == answer.survey_id => survey.survey_data.push(data),
            _ => surveys.push(Survey {
                survey_id: answer.survey_id.clone(),
                survey_status: "FILLED",
                survey_data: vec![data],
            }),
        }
    }
    surveys
}

/// One record with the requested sections.
pub fn record(site: &str, c: &ConversationView, sections: Sections) -> Record {
    Record {
        info: sections.info.then(|| info(site, c)),
        message_records: sections.messages.then(|| message_records(site, c)),
        consumer_participants: sections.participants.then(|| consumer_participants(c)),
        sdes: sections.sdes.then(|| sdes(c)),
        conversation_surveys: sections.surveys.then(|| surveys(c)),
    }
}
