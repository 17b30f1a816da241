//! Per-conversation reporting figures: no personal data.

use crate::conversation::{Ratings, SentBy};
use crate::time::Millis;

/// The reporting row kept for a closed conversation.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConversationMetrics {
    pub duration_ms: Millis,
    pub consumer_messages: i64,
    pub agent_messages: i64,
    pub first_response_ms: Option<Millis>,
    pub csat: Option<i64>,
    pub mcs: Option<i64>,
}

impl ConversationMetrics {
    /// Derives the figures from message times and senders (in any order).
    pub fn compute(start: Millis, end: Millis, messages: &[(Millis, SentBy)], ratings: Ratings) -> Self {
        let first = |who: SentBy| messages.iter().filter(|(_, by)| *by == who).map(|(t, _)| *t).min();
        let first_consumer = first(SentBy::Consumer);
        let first_response_ms = first_consumer.and_then(|c| {
            messages
                .iter()
                .filter(|(t, by)| *by == SentBy::Agent && *t >= c)
                .map(|(t, _)| t - c)
                .min()
        });
        let count = |who: SentBy| messages.iter().filter(|(_, by)| *by == who).count() as i64;
        Self {
            duration_ms: (end - start).max(0),
            consumer_messages: count(SentBy::Consumer),
            agent_messages: count(SentBy::Agent),
            first_response_ms,
            csat: ratings.csat,
            mcs: ratings.mcs,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_response_is_the_first_agent_reply_after_the_consumer() {
        let msgs = [
            (100, SentBy::Agent),
            (200, SentBy::Consumer),
            (260, SentBy::Consumer),
            (500, SentBy::Agent),
        ];
        let m = ConversationMetrics::compute(0, 1000, &msgs, Ratings::default());
        assert_eq!(m.first_response_ms, Some(300));
        assert_eq!((m.consumer_messages, m.agent_messages), (2, 2));
        assert_eq!(m.duration_ms, 1000);
    }
}
