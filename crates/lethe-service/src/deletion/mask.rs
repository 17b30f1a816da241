//! `mask` mode: a conversation keeps its structure (messages with their times and
//! senders, survey answers with their choices) while every personal text becomes the
//! account's marker, sealed under a fresh data key that replaces the old one.

use crate::error::{ServiceError, ServiceResult};
use crate::sealing::{message_context, survey_context};
use crate::Lethe;
use lethe_domain::conversation::{MessageBody, MessageType, SentBy};
use lethe_domain::{ConversationId, SiteId};
use lethe_store::{ConversationMask, KeyOwnerKind, MessageWrite, PartsWanted, SurveyAnswerWrite};
use std::collections::HashMap;

impl Lethe {
    /// The masks of these conversations, by id, each under a new data key. Planned just
    /// before the batch; the batch deletes every row first, so a row written between
    /// planning and committing is erased rather than left unmasked.
    pub(crate) async fn conversation_masks(
        &self,
        site: &SiteId,
        ids: &[String],
        marker: &str,
    ) -> ServiceResult<HashMap<String, ConversationMask>> {
        let wanted = PartsWanted {
            messages: true,
            surveys: true,
            ..PartsWanted::default()
        };
        let parts = self.store.conversation_parts(site.as_str(), ids, wanted).await?;
        let mut masks: HashMap<String, ConversationMask> = HashMap::new();
        let mut keys = HashMap::new();
        for id in ids {
            let (key, stored) = self.new_data_key(site.as_str(), KeyOwnerKind::Conversation, id);
            keys.insert(id.clone(), key);
            let mask = ConversationMask {
                key: stored,
                messages: Vec::new(),
                survey_answers: Vec::new(),
            };
            masks.insert(id.clone(), mask);
        }
        let body = crate::message_body::encode(&MessageBody::Text(marker.to_owned()));
        for m in parts.messages {
            let (Some(key), Some(mask)) = (keys.get(&m.conversation_id), masks.get_mut(&m.conversation_id)) else {
                continue;
            };
            // A consumer's participant id can be their own id: it goes with the text.
            let participant_id = (m.sent_by != SentBy::Consumer.as_str())
                .then_some(m.participant_id)
                .flatten();
            let write = MessageWrite {
                sealed_body: key.seal(&message_context(&m.message_id), &body),
                message_id: m.message_id,
                time: m.time,
                sent_by: m.sent_by,
                participant_id,
                msg_type: MessageType::Text.as_str().to_owned(),
                file_id: None,
                content_mac: Vec::new(),
            };
            mask.messages.push((m.seq, write));
        }
        for s in parts.survey_answers {
            let (Some(key), Some(mask)) = (keys.get(&s.conversation_id), masks.get_mut(&s.conversation_id)) else {
                continue;
            };
            let sealed_text = s
                .sealed_text
                .map(|_| key.seal(&survey_context(&s.survey_id, &s.question_id), marker.as_bytes()));
            mask.survey_answers.push(SurveyAnswerWrite {
                survey_id: s.survey_id,
                question_id: s.question_id,
                question: s.question,
                choice: s.choice,
                sealed_text,
            });
        }
        Ok(masks)
    }

    /// Reads masked conversations back through the normal read path: every text must be
    /// the marker, and nothing may link the conversation to a person.
    pub(crate) async fn verify_masked(&self, site: &SiteId, ids: &[String], marker: &str) -> ServiceResult<()> {
        let left = self.store.unmasked_remains(site.as_str(), ids).await?;
        if left > 0 {
            return Err(ServiceError::Internal(format!(
                "verification found {left} unmasked rows"
            )));
        }
        for id in ids {
            let id = ConversationId::parse(id.clone())?;
            let view = match self.conversation_view(site, &id).await {
                // Deleted since (by another request): more than masked.
                Err(ServiceError::NotFound(_)) => continue,
                other => other?,
            };
            let texts_masked = view
                .messages
                .iter()
                .all(|m| matches!(&m.body, MessageBody::Text(t) if t == marker))
                && view
                    .survey_answers
                    .iter()
                    .all(|s| s.text.as_deref().is_none_or(|t| t == marker));
            if !texts_masked || view.participant.is_some() || !view.attributes.is_empty() || !view.files.is_empty() {
                return Err(ServiceError::Internal(format!(
                    "verification found conversation {id} not masked"
                )));
            }
        }
        Ok(())
    }
}
