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

    /// Refuses a new conversation whose id was erased, or whose consumer was erased
    /// after it started (late data); a consumer who comes back later is welcome.
    pub(crate) async fn refuse_erased(&self, site: &SiteId, input: &ConversationInput) -> ServiceResult<()> {
        if self.erased_at(site, "conversation", &input.id).await?.is_some() {
            return Err(ServiceError::Gone(format!(
                "conversation {} was erased under a deletion request; it cannot be written again",
                input.id
            )));
        }
        if let Some(consumer) = &input.consumer_id {
            if let Some(erased) = self.erased_at(site, "consumer", consumer).await? {
                let start = crate::wire::parse_time("start_time", &input.start_time)?;
                if start < erased {
                    return Err(ServiceError::Gone(format!(
                        "consumer {consumer} was erased after this conversation started; late data for an erased person is refused"
                    )));
                }
            }
        }
        Ok(())
    }
}
