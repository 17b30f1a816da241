//! The history records written through [`WriteJson`]: the same members, in the same
//! order and spelling, as the `Serialize` derives in `render.rs` and `search.rs` (the
//! tests below hold the two equal).

use super::render::*;
use super::search::{Link, Metadata, SearchResponse};
use crate::json_write::{object, unescaped_ascii, Members, WriteJson};

impl WriteJson for SearchResponse {
    fn write_json(&self, out: &mut Vec<u8>) {
        object(out, |o| {
            o.member("_metadata", &self.metadata);
            o.member("conversationHistoryRecords", &self.records);
        });
    }
}

impl WriteJson for Metadata {
    fn write_json(&self, out: &mut Vec<u8>) {
        object(out, |o| {
            o.member("count", &self.count);
            o.member("self", &self.self_link);
            o.member_if("next", &self.next);
            o.member_if("prev", &self.prev);
        });
    }
}

impl WriteJson for Link {
    fn write_json(&self, out: &mut Vec<u8>) {
        object(out, |o| {
            o.member("rel", &self.rel);
            o.member("href", &self.href);
        });
    }
}

impl WriteJson for Record {
    fn write_json(&self, out: &mut Vec<u8>) {
        object(out, |o| {
            o.member_if("info", &self.info);
            o.member_if("messageRecords", &self.message_records);
            o.member_if("consumerParticipants", &self.consumer_participants);
            o.member_if("sdes", &self.sdes);
            o.member_if("conversationSurveys", &self.conversation_surveys);
        });
    }
}

impl WriteJson for Info {
    fn write_json(&self, out: &mut Vec<u8>) {
        object(out, |o| {
            o.member("conversationId", &self.conversation_id);
            o.member("brandId", &self.brand_id);
            o.literal("status", self.status);
            o.member("startTime", &self.start_time);
            o.member("endTime", &self.end_time);
            o.member("duration", &self.duration);
            o.member("closeReason", &self.close_reason);
            o.member("source", &self.source);
            o.member("device", &self.device);
            o.member("latestAgentId", &self.latest_agent_id);
            o.member("latestSkillId", &self.latest_skill_id);
        });
    }
}

impl WriteJson for LpTime {
    fn write_json(&self, out: &mut Vec<u8>) {
        self.with_ascii(|ascii| unescaped_ascii(out, ascii));
    }
}

impl WriteJson for MessageRecord {
    fn write_json(&self, out: &mut Vec<u8>) {
        object(out, |o| {
            o.member("messageId", &self.message_id);
            o.member("seq", &self.seq);
            o.member("time", &self.time);
            o.member("timeL", &self.time_l);
            o.literal("type", self.message_type);
            o.member("messageData", &self.message_data);
            o.member("participantId", &self.participant_id);
            o.literal("sentBy", self.sent_by);
        });
    }
}

impl WriteJson for MessageData {
    fn write_json(&self, out: &mut Vec<u8>) {
        object(out, |o| match self {
            MessageData::Msg { text } => o.member("msg", &fields(|o| o.member("text", text))),
            MessageData::Link { url, caption } => o.member(
                "link",
                &fields(|o| {
                    o.member("url", url);
                    o.member("caption", caption);
                }),
            ),
            MessageData::File(file) => o.member(
                "file",
                &fields(|o| {
                    o.member("relativePath", &file.relative_path);
                    o.member("fileType", &file.file_type);
                    o.member("caption", &file.caption);
                }),
            ),
            MessageData::RichContent { content } => o.member("richContent", &fields(|o| o.member("content", content))),
        });
    }
}

/// An object whose members a closure writes, for the nested shapes above.
struct Fields<F>(F);

fn fields<F: Fn(&mut Members<'_>)>(members: F) -> Fields<F> {
    Fields(members)
}

impl<F: Fn(&mut Members<'_>)> WriteJson for Fields<F> {
    fn write_json(&self, out: &mut Vec<u8>) {
        object(out, |o| (self.0)(o));
    }
}

impl WriteJson for ConsumerParticipant {
    fn write_json(&self, out: &mut Vec<u8>) {
        object(out, |o| {
            o.member("participantId", &self.participant_id);
            o.member("firstName", &self.first_name);
            o.member("lastName", &self.last_name);
            o.member("email", &self.email);
            o.member("phone", &self.phone);
            o.member("time", &self.time);
            o.member("timeL", &self.time_l);
        });
    }
}

impl WriteJson for Sdes {
    fn write_json(&self, out: &mut Vec<u8>) {
        object(out, |o| o.member("events", &self.events));
    }
}

impl WriteJson for SdeEvent {
    fn write_json(&self, out: &mut Vec<u8>) {
        let family = self.kind.as_str();
        object(out, |o| {
            o.literal("sdeType", self.sde_type());
            o.member("serverTimeStamp", &self.server_time_stamp);
            o.member(
                family,
                &fields(|o| {
                    o.member(
                        family,
                        &fields(|o| {
                            for (name, value) in &self.fields {
                                o.escaped_member(name, value);
                            }
                        }),
                    )
                }),
            );
        });
    }
}

impl WriteJson for Survey {
    fn write_json(&self, out: &mut Vec<u8>) {
        object(out, |o| {
            o.member("surveyId", &self.survey_id);
            o.literal("surveyStatus", self.survey_status);
            o.member("surveyData", &self.survey_data);
        });
    }
}

impl WriteJson for SurveyAnswer {
    fn write_json(&self, out: &mut Vec<u8>) {
        object(out, |o| {
            o.member("questionId", &self.question_id);
            o.member("question", &self.question);
            o.member("answer", &self.answer);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json_write::to_string;
    use lethe_domain::conversation::{Attribute, AttributeKind};
    use serde_json::json;

    const ODD: &str = "quote \" backslash \\ newline \n nul \u{0} é 日本 😀";

    fn message(seq: i64, message_data: MessageData) -> MessageRecord {
        MessageRecord {
            message_id: format!("m{seq} {ODD}"),
            seq,
            time: LpTime(1_496_318_400_007 + seq),
            time_l: 1_496_318_400_007 + seq,
            message_type: "TEXT_PLAIN",
            message_data,
            participant_id: (seq % 2 == 0).then(|| "p1".to_owned()),
            sent_by: "Consumer",
        }
    }

    fn full_record() -> Record {
        let attribute = |kind, name: &str, value: &str| Attribute {
            kind,
            name: name.into(),
            value: value.into(),
        };
        Record {
            info: Some(Info {
                conversation_id: "c1".into(),
                brand_id: "b".into(),
                status: "CLOSE",
                start_time: 1,
                end_time: -1,
                duration: -1,
                close_reason: None,
                source: Some(ODD.into()),
                device: None,
                latest_agent_id: Some("a".into()),
                latest_skill_id: None,
            }),
            message_records: Some(vec![
                message(0, MessageData::Msg { text: ODD.into() }),
                message(
                    1,
                    MessageData::Link {
                        url: "https://x".into(),
                        caption: None,
                    },
                ),
                message(
                    2,
                    MessageData::File(HostedFile {
                        relative_path: "/v1/f".into(),
                        file_type: Some("PNG".into()),
                        caption: Some(ODD.into()),
                    }),
                ),
                message(
                    3,
                    MessageData::RichContent {
                        content: json!({"z": [1, 2.5, null], "a": ODD}),
                    },
                ),
                message(
                    4,
                    MessageData::Link {
                        url: "u".into(),
                        caption: Some("c".into()),
                    },
                ),
            ]),
            consumer_participants: Some(vec![ConsumerParticipant {
                participant_id: None,
                first_name: Some("Ada".into()),
                last_name: None,
                email: Some(ODD.into()),
                phone: None,
                time: LpTime(253_402_300_800_000),
                time_l: 253_402_300_800_000,
            }]),
            sdes: Some(sdes(
                7,
                vec![
                    attribute(AttributeKind::UserUpdate, "status", "gold"),
                    attribute(AttributeKind::PersonalInfo, ODD, ODD),
                    attribute(AttributeKind::CustomerInfo, "tier", "1"),
                ],
            )),
            conversation_surveys: Some(vec![Survey {
                survey_id: "s1".into(),
                survey_status: "FILLED",
                survey_data: vec![
                    SurveyAnswer {
                        question_id: "q1".into(),
                        question: None,
                        answer: Some(ODD.into()),
                    },
                    SurveyAnswer {
                        question_id: "q2".into(),
                        question: Some("why?".into()),
                        answer: None,
                    },
                ],
            }]),
        }
    }

    fn link(rel: &'static str) -> Link {
        Link {
            rel,
            href: format!("http://h/p?offset=0&{rel}=\""),
        }
    }

    /// A record with only some sections, each empty.
    fn sparse_record() -> Record {
        Record {
            info: None,
            message_records: Some(Vec::new()),
            consumer_participants: None,
            sdes: Some(sdes(0, Vec::new())),
            conversation_surveys: None,
        }
    }

    #[test]
    fn pages_are_written_as_serde_writes_them() {
        for (next, prev) in [(None, None), (Some(link("next")), Some(link("prev")))] {
            let page = SearchResponse {
                metadata: Metadata {
                    count: 2,
                    self_link: link("self"),
                    next,
                    prev,
                },
                records: vec![full_record(), sparse_record()],
            };
            assert_eq!(to_string(&page), serde_json::to_string(&page).unwrap());
        }
    }
}
