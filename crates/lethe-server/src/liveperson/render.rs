//! Conversation history records in LivePerson's shape.

use chrono::{TimeZone, Utc};
use lethe_domain::conversation::{AttributeKind, MessageBody};
use lethe_service::views::ConversationView;
use serde_json::{json, Map, Value};

/// The record sections lethe can produce, as `contentToRetrieve` names them.
pub const SECTIONS: [&str; 5] = [
    "info",
    "messageRecords",
    "consumerParticipants",
    "sdes",
    "conversationSurveys",
];

/// LivePerson's message-time text form, e.g. `2017-06-01 12:00:00.000+0000`.
fn lp_time(ms: i64) -> String {
    Utc.timestamp_millis_opt(ms)
        .single()
        .map(|t| t.format("%Y-%m-%d %H:%M:%S%.3f+0000").to_string())
        .unwrap_or_default()
}

fn info(site: &str, c: &ConversationView) -> Value {
    let r = &c.record;
    json!({
        "conversationId": r.conversation_id,
        "brandId": site,
        "status": if r.status == "open" { "OPEN" } else { "CLOSE" },
        "startTime": r.start_time,
        "endTime": r.end_time.unwrap_or(-1),
        "duration": r.end_time.map_or(-1, |end| end - r.start_time),
        "closeReason": r.close_reason,
        "source": r.source,
        "device": r.device,
        "latestAgentId": r.agent_id,
        "latestSkillId": r.skill_id,
    })
}

fn file_type(content_type: &str) -> String {
    content_type.rsplit('/').next().unwrap_or(content_type).to_uppercase()
}

fn message_records(site: &str, c: &ConversationView) -> Value {
    let records: Vec<Value> = c
        .messages
        .iter()
        .map(|m| {
            let (kind, data) = match &m.body {
                MessageBody::Text(text) => ("TEXT_PLAIN", json!({"msg": {"text": text}})),
                MessageBody::Link { url, caption } => ("LINK", json!({"link": {"url": url, "caption": caption}})),
                MessageBody::HostedFile { file_id, caption } => {
                    let content_type = c.files.iter().find(|f| f.id == file_id.as_str()).map(|f| f.content_type.as_str());
                    let path = format!("/v1/accounts/{site}/conversations/{}/files/{file_id}", c.record.conversation_id);
                    ("HOSTED_FILE", json!({"file": {"relativePath": path, "fileType": content_type.map(file_type), "caption": caption}}))
                }
                MessageBody::RichContent(content) => ("RICH_CONTENT", json!({"richContent": {"content": content}})),
            };
            json!({
                "messageId": m.id,
                "seq": m.seq,
                "time": lp_time(m.time),
                "timeL": m.time,
                "type": kind,
                "messageData": data,
                "participantId": m.participant_id,
                "sentBy": if m.sent_by == "consumer" { "Consumer" } else { "Agent" },
            })
        })
        .collect();
    Value::Array(records)
}

fn consumer_participants(c: &ConversationView) -> Value {
    let Some(p) = &c.participant else { return json!([]) };
    let participant_id = c
        .messages
        .iter()
        .find(|m| m.sent_by == "consumer")
        .and_then(|m| m.participant_id.clone())
        .or_else(|| c.record.consumer_id.clone());
    json!([{
        "participantId": participant_id,
        "firstName": p.first_name,
        "lastName": p.last_name,
        "email": p.email,
        "phone": p.phone,
        "time": lp_time(c.record.start_time),
        "timeL": c.record.start_time,
    }])
}

fn sdes(c: &ConversationView) -> Value {
    let events: Vec<Value> = AttributeKind::ALL
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
    json!({ "events": events })
}

fn surveys(c: &ConversationView) -> Value {
    let mut ids: Vec<&str> = c.survey_answers.iter().map(|s| s.survey_id.as_str()).collect();
    ids.dedup();
    let surveys: Vec<Value> = ids
        .into_iter()
        .map(|id| {
            let data: Vec<Value> = c
                .survey_answers
                .iter()
                .filter(|s| s.survey_id == id)
                .map(|s| json!({"questionId": s.question_id, "question": s.question, "answer": s.text.as_ref().or(s.choice.as_ref())}))
                .collect();
            json!({"surveyId": id, "surveyStatus": "FILLED", "surveyData": data})
        })
        .collect();
    Value::Array(surveys)
}

/// One `conversationHistoryRecords` entry with the requested sections.
pub fn record(site: &str, c: &ConversationView, sections: &[&str]) -> Value {
    let mut out = Map::new();
    for section in sections {
        let value = match *section {
            "info" => info(site, c),
            "messageRecords" => message_records(site, c),
            "consumerParticipants" => consumer_participants(c),
            "sdes" => sdes(c),
            "conversationSurveys" => surveys(c),
            _ => continue,
        };
        out.insert((*section).to_owned(), value);
    }
    Value::Object(out)
}
