//! Conversation history records in LivePerson's shape, as typed structs (serialised
//! straight to the response, and described in the OpenAPI document).

use chrono::{Datelike, TimeZone, Timelike, Utc};
use lethe_domain::conversation::{Attribute, AttributeKind, MessageBody, SentBy};
use lethe_service::views::{ConversationView, MessageView, SurveyAnswerView};
use lethe_store::ConversationRecord;
use serde::Serialize;
use serde_json::Value;
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
    #[schema(value_type = String)]
    pub time: LpTime,
    /// Epoch milliseconds.
    #[serde(rename = "timeL")]
    pub time_l: i64,
    /// `TEXT_PLAIN`, `HOSTED_FILE`, `LINK` or `RICH_CONTENT`.
    #[serde(rename = "type")]
    pub message_type: &'static str,
    pub message_data: MessageData,
    pub participant_id: Option<String>,
    /// `Consumer` or `Agent`.
    pub sent_by: &'static str,
}

/// A message's content, keyed by its kind as LivePerson names it.
#[derive(Debug, Serialize, ToSchema)]
pub enum MessageData {
    #[serde(rename = "msg")]
    Msg { text: String },
    #[serde(rename = "link")]
    Link { url: String, caption: Option<String> },
    #[serde(rename = "file")]
    File(HostedFile),
    #[serde(rename = "richContent")]
    RichContent { content: Value },
}

/// Where a hosted file can be fetched, and what it is.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HostedFile {
    pub relative_path: String,
    /// The subtype of the file's content type, upper-case (`PNG`, `PDF`, …).
    pub file_type: Option<String>,
    pub caption: Option<String>,
}

/// An instant that serialises in LivePerson's message-time text form.
#[derive(Debug, Clone, Copy)]
pub struct LpTime(pub i64);

impl LpTime {
    /// Hands the text form to `use_text` without allocating; empty for an instant the
    /// form cannot show.
    pub(super) fn with_text<R>(&self, use_text: impl FnOnce(&str) -> R) -> R {
        self.with_ascii(|ascii| use_text(std::str::from_utf8(ascii).unwrap_or_default()))
    }

    /// [`LpTime::with_text`] as the ASCII bytes it is made of, for the JSON writer: a
    /// page writes hundreds of times, and checking each as UTF-8 showed in profiles.
    pub(super) fn with_ascii<R>(&self, use_ascii: impl FnOnce(&[u8]) -> R) -> R {
        let mut text = [0u8; LP_TIME_LEN];
        match write_lp_time(self.0, &mut text) {
            Some(()) => use_ascii(&text),
            None => use_ascii(b""),
        }
    }
}

impl Serialize for LpTime {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.with_text(|text| serializer.serialize_str(text))
    }
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
    #[schema(value_type = String)]
    pub time: LpTime,
    #[serde(rename = "timeL")]
    pub time_l: i64,
}

/// Engagement attributes, one event per attribute family.
#[derive(Debug, Serialize, ToSchema)]
pub struct Sdes {
    #[schema(value_type = Vec<Value>)]
    pub events: Vec<SdeEvent>,
}

/// One attribute family's event: `{"sdeType", "serverTimeStamp", "<family>": {"<family>":
/// {name: value, …}}}`. Written field by field rather than built as `serde_json` maps: a
/// page holds one or more per conversation, and the maps' allocations and hashing showed
/// in profiles.
#[derive(Debug)]
pub struct SdeEvent {
    pub(super) kind: AttributeKind,
    pub(super) server_time_stamp: i64,
    /// Names in first-seen order; a repeated name keeps its place and takes the last value.
    pub(super) fields: Vec<(String, String)>,
}

impl SdeEvent {
    /// The event's `sdeType`.
    pub(super) fn sde_type(&self) -> &'static str {
        match self.kind {
            AttributeKind::PersonalInfo => "PERSONAL_INFO",
            AttributeKind::CustomerInfo => "CUSTOMER_INFO",
            AttributeKind::UserUpdate => "USER_UPDATE",
        }
    }
}

impl Serialize for SdeEvent {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut event = serializer.serialize_map(Some(3))?;
        event.serialize_entry("sdeType", self.sde_type())?;
        event.serialize_entry("serverTimeStamp", &self.server_time_stamp)?;
        event.serialize_entry(self.kind.as_str(), &Family(self))?;
        event.end()
    }
}

/// `{"<family>": {name: value, …}}` inside an event.
struct Family<'a>(&'a SdeEvent);

impl Serialize for Family<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut family = serializer.serialize_map(Some(1))?;
        family.serialize_entry(self.0.kind.as_str(), &Fields(&self.0.fields))?;
        family.end()
    }
}

struct Fields<'a>(&'a [(String, String)]);

impl Serialize for Fields<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(name, value)| (name, value)))
    }
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

/// Length of `2017-06-01 12:00:00.000+0000`.
const LP_TIME_LEN: usize = 28;

/// Writes LivePerson's message-time text form, e.g. `2017-06-01 12:00:00.000+0000`, into
/// a buffer: searches return hundreds of messages, and a `String` per time showed in
/// profiles. `None` for an instant chrono cannot represent or a year beyond 9999.
fn write_lp_time(ms: i64, out: &mut [u8; LP_TIME_LEN]) -> Option<()> {
    // The naive UTC time: DateTime<Utc>'s accessors each apply the (zero) offset again.
    let t = Utc.timestamp_millis_opt(ms).single()?.naive_utc();
    let year = u32::try_from(t.year()).ok().filter(|y| *y <= 9999)?;
    let mut at = 0;
    let mut put = |value: u32, digits: u32, after: &[u8]| {
        for i in (0..digits).rev() {
            out[at] = b'0' + (value / 10u32.pow(i) % 10) as u8;
            at += 1;
        }
        out[at..at + after.len()].copy_from_slice(after);
        at += after.len();
    };
    put(year, 4, b"-");
    put(t.month(), 2, b"-");
    put(t.day(), 2, b" ");
    put(t.hour(), 2, b":");
    put(t.minute(), 2, b":");
    put(t.second(), 2, b".");
    put(t.nanosecond() / 1_000_000, 3, b"+0000");
    Some(())
}

/// The conversation's facts, moved out of its record.
fn info(site: &str, r: ConversationRecord) -> Info {
    Info {
        conversation_id: r.conversation_id,
        brand_id: site.to_owned(),
        status: if r.status == "open" { "OPEN" } else { "CLOSE" },
        start_time: r.start_time,
        end_time: r.end_time.unwrap_or(-1),
        duration: r.end_time.map_or(-1, |end| end - r.start_time),
        close_reason: r.close_reason,
        source: r.source,
        device: r.device,
        latest_agent_id: r.agent_id,
        latest_skill_id: r.skill_id,
    }
}

fn file_type(content_type: &str) -> String {
    content_type.rsplit('/').next().unwrap_or(content_type).to_uppercase()
}

/// A message's wire type and content.
fn message_data(
    site: &str,
    conversation_id: &str,
    body: MessageBody,
    content_type: Option<&str>,
) -> (&'static str, MessageData) {
    match body {
        MessageBody::Text(text) => ("TEXT_PLAIN", MessageData::Msg { text }),
        MessageBody::Link { url, caption } => ("LINK", MessageData::Link { url, caption }),
        MessageBody::HostedFile { file_id, caption } => (
            "HOSTED_FILE",
            MessageData::File(HostedFile {
                relative_path: format!("/v1/accounts/{site}/conversations/{conversation_id}/files/{file_id}"),
                file_type: content_type.map(file_type),
                caption,
            }),
        ),
        MessageBody::RichContent(content) => ("RICH_CONTENT", MessageData::RichContent { content }),
    }
}

/// The messages, moved out of the view: a page can hold thousands of them.
fn message_records(site: &str, conversation_id: &str, messages: Vec<MessageView>) -> Vec<MessageRecord> {
    messages
        .into_iter()
        .map(|m| {
            let (message_type, message_data) =
                message_data(site, conversation_id, m.body, m.file_content_type.as_deref());
            MessageRecord {
                message_id: m.id,
                seq: m.seq,
                time: LpTime(m.time),
                time_l: m.time,
                message_type,
                message_data,
                participant_id: m.participant_id,
                sent_by: match m.sent_by {
                    SentBy::Consumer => "Consumer",
                    SentBy::Agent => "Agent",
                },
            }
        })
        .collect()
}

/// The consumer participant, its personal fields moved out of the view.
fn consumer_participants(c: &mut ConversationView) -> Vec<ConsumerParticipant> {
    let Some(p) = c.participant.take() else {
        return Vec::new();
    };
    let participant_id = c
        .messages
        .iter()
        .find(|m| m.sent_by == SentBy::Consumer)
        .and_then(|m| m.participant_id.clone())
        .or_else(|| c.record.consumer_id.clone());
    vec![ConsumerParticipant {
        participant_id,
        first_name: p.first_name,
        last_name: p.last_name,
        email: p.email,
        phone: p.phone,
        time: LpTime(c.record.start_time),
        time_l: c.record.start_time,
    }]
}

/// The attributes, moved out of the view, as one event per family present.
pub(super) fn sdes(start_time: i64, attributes: Vec<Attribute>) -> Sdes {
    let mut events: Vec<SdeEvent> = AttributeKind::ALL
        .iter()
        .map(|kind| SdeEvent {
            kind: *kind,
            server_time_stamp: start_time,
            fields: Vec::new(),
        })
        .collect();
    for a in attributes {
        let Some(event) = events.iter_mut().find(|e| e.kind == a.kind) else {
            continue;
        };
        match event.fields.iter_mut().find(|(name, _)| *name == a.name) {
            Some((_, value)) => *value = a.value,
            None => event.fields.push((a.name, a.value)),
        }
    }
    events.retain(|e| !e.fields.is_empty());
    Sdes { events }
}

/// The survey answers, moved out of the view, grouped by survey in their stored order.
fn surveys(answers: Vec<SurveyAnswerView>) -> Vec<Survey> {
    let mut surveys: Vec<Survey> = Vec::new();
    for answer in answers {
        let data = SurveyAnswer {
            question_id: answer.question_id,
            question: answer.question,
            answer: answer.text.or(answer.choice),
        };
        match surveys.last_mut() {
            Some(survey) if survey.survey_id == answer.survey_id => survey.survey_data.push(data),
            _ => surveys.push(Survey {
                survey_id: answer.survey_id,
                survey_status: "FILLED",
                survey_data: vec![data],
            }),
        }
    }
    surveys
}

/// One record with the requested sections, made from (and consuming) the view.
pub fn record(site: &str, mut c: ConversationView, sections: Sections) -> Record {
    let consumer_participants = sections.participants.then(|| consumer_participants(&mut c));
    let conversation_surveys = sections.surveys.then(|| surveys(std::mem::take(&mut c.survey_answers)));
    let sdes = sections
        .sdes
        .then(|| sdes(c.record.start_time, std::mem::take(&mut c.attributes)));
    let message_records = sections
        .messages
        .then(|| message_records(site, &c.record.conversation_id, std::mem::take(&mut c.messages)));
    Record {
        info: sections.info.then(|| info(site, c.record)),
        message_records,
        consumer_participants,
        sdes,
        conversation_surveys,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn text(ms: i64) -> String {
        serde_json::to_value(LpTime(ms)).unwrap().as_str().unwrap().to_owned()
    }

    #[test]
    fn message_times_use_livepersons_text_form() {
        assert_eq!(text(0), "1970-01-01 00:00:00.000+0000");
        assert_eq!(text(1_496_318_400_007), "2017-06-01 12:00:00.007+0000");
        assert_eq!(text(253_402_300_799_999), "9999-12-31 23:59:59.999+0000");
        assert_eq!(text(253_402_300_800_000), "");
        assert_eq!(text(-1), "1969-12-31 23:59:59.999+0000");
    }

    #[test]
    fn message_data_keeps_the_wire_shape() {
        let data = |body| serde_json::to_value(message_data("s", "c", body, Some("image/png")).1).unwrap();
        assert_eq!(data(MessageBody::Text("hi".into())), json!({"msg": {"text": "hi"}}));
        assert_eq!(
            data(MessageBody::Link {
                url: "https://x".into(),
                caption: None
            }),
            json!({"link": {"url": "https://x", "caption": null}})
        );
        assert_eq!(
            data(MessageBody::HostedFile {
                file_id: lethe_domain::FileId::parse("f1").unwrap(),
                caption: Some("c".into())
            }),
            json!({"file": {"relativePath": "/v1/accounts/s/conversations/c/files/f1", "fileType": "PNG", "caption": "c"}})
        );
        assert_eq!(
            data(MessageBody::RichContent(json!({"type": "card"}))),
            json!({"richContent": {"content": {"type": "card"}}})
        );
    }

    #[test]
    fn sdes_are_one_event_per_family_in_a_fixed_order() {
        let attribute = |kind, name: &str, value: &str| Attribute {
            kind,
            name: name.into(),
            value: value.into(),
        };
        let attributes = vec![
            attribute(AttributeKind::UserUpdate, "status", "gold"),
            attribute(AttributeKind::PersonalInfo, "name", "Ada"),
            attribute(AttributeKind::PersonalInfo, "age", "36"),
            attribute(AttributeKind::PersonalInfo, "name", "Ada L."),
        ];
        let text = serde_json::to_string(&sdes(7, attributes)).unwrap();
        assert_eq!(
            text,
            r#"{"events":[{"sdeType":"PERSONAL_INFO","serverTimeStamp":7,"personalInfo":{"personalInfo":{"name":"Ada L.","age":"36"}}},{"sdeType":"USER_UPDATE","serverTimeStamp":7,"userUpdate":{"userUpdate":{"status":"gold"}}}]}"#,
            "a repeated name keeps its place and takes the last value"
        );
        assert_eq!(serde_json::to_string(&sdes(7, Vec::new())).unwrap(), r#"{"events":[]}"#);
    }
}
