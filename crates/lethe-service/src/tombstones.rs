//! Erased ids stay erased: writes to an erased conversation are 410, and so is late data
//! for an erased consumer (events dated before the erasure). Tombstones hold keyed
//! hashes, never the ids.

use crate::error::{ServiceError, ServiceResult};
use crate::wire::ConversationInput;
use crate::Lethe;
use lethe_domain::{ConversationId, SiteId};

impl Lethe {
    async fn erased_at(&self, site: &SiteId, kind: &str, id: &str) -> ServiceResult<Option<i64>> {
        let hash = self
            .keyring
            .lookup_hash(site.as_str(), &format!("tombstone:{kind}"), id);
        Ok(self.store.tombstone(site.as_str(), kind, &hash).await?)
    }

    /// The error for a conversation that is not there: 410 if it was erased, else 404.
    pub(crate) async fn missing_conversation(&self, site: &SiteId, id: &ConversationId) -> ServiceError {
        match self.erased_at(site, "conversation", id.as_str()).await {
            Ok(Some(_)) => ServiceError::Gone(format!(
                "conversation {id} was erased under a deletion request; it cannot be written again"
            )),
            Ok(None) => ServiceError::NotFound(format!("conversation {id}")),
            Err(e) => e,
        }
    }

    /// Refuses an import batch that writes an erased conversation id, or late data for
    /// an erased consumer (one query per kind for the whole batch).
    pub(crate) async fn refuse_erased_batch(&self, site: &SiteId, inputs: &[&ConversationInput]) -> ServiceResult<()> {
        let hash = |kind: &str, id: &str| {
            self.keyring
                .lookup_hash(site.as_str(), &format!("tombstone:{kind}"), id)
        };
        let ids: Vec<Vec<u8>> = inputs.iter().map(|c| hash("conversation", &c.id)).collect();
        let erased = self.store.tombstones_among(site.as_str(), "conversation", &ids).await?;
        if let Some((i, _)) = ids
            .iter()
            .enumerate()
            .find(|(_, h)| erased.iter().any(|(e, _)| e == *h))
        {
            return Err(ServiceError::Gone(format!(
                "conversation {} was erased under a deletion request; it cannot be written again",
                inputs[i].id
            )));
        }
        let with_consumer: Vec<&&ConversationInput> = inputs.iter().filter(|c| c.consumer_id.is_some()).collect();
        let consumer_hashes: Vec<Vec<u8>> = with_consumer
            .iter()
            .map(|c| hash("consumer", c.consumer_id.as_deref().unwrap_or_default()))
            .collect();
        let erased = self
            .store
            .tombstones_among(site.as_str(), "consumer", &consumer_hashes)
            .await?;
        for (input, h) in with_consumer.iter().zip(&consumer_hashes) {
            if let Some((_, at)) = erased.iter().find(|(e, _)| e == h) {
                if crate::wire::parse_time("start_time", &input.start_time)? < *at {
                    return Err(ServiceError::Gone(format!(
                        "conversation {}: its consumer was erased after it started; late data for an erased person is refused",
                        input.id
                    )));
                }
            }
        }
        Ok(())
    }
}
