//! Synchronous deletes (the Intercom dialect): an explicit act that skips the grace
//! period, approval and quota, but is still a request with a job, run at once by the
//! same engine code, so it leaves the same change-log entries, tombstone, metrics
//! handling and blob outbox.

use super::runner::RunMode;
use crate::error::{ServiceError, ServiceResult};
use crate::{Lethe, Principal};
use lethe_domain::deletion::{RequestSource, RequestStatus, Target};
use lethe_domain::settings::ApprovalMode;
use lethe_domain::settings::ErasureMode;
use lethe_domain::{ConversationId, SiteId};
use lethe_store::{Lease, LogDraft, NewJob, RequestChange, RequestItem, RequestUpdates};
use serde_json::json;

impl Lethe {
    /// Erases one conversation now; `NotFound` when it is not there (already erased
    /// included, or erased by a concurrent delete).
    pub async fn delete_conversation_now(
        &self,
        who: &Principal,
        site: &SiteId,
        id: &ConversationId,
        retain_metrics: bool,
    ) -> ServiceResult<()> {
        self.require_account(site).await?;
        let missing = || ServiceError::NotFound(format!("conversation {id}"));
        self.store
            .conversation(site.as_str(), id.as_str())
            .await?
            .ok_or_else(missing)?;
        let target = Target::Conversations(vec![id.as_str().to_owned()]);
        let (request, created) = self.new_request(who, site, &target, RequestSource::Intercom, ApprovalMode::Auto, 0);
        let item = RequestItem {
            position: 0,
            item_kind: "conversation".into(),
            item_id: id.as_str().to_owned(),
            problem: None,
            outcome: None,
        };
        let now = self.now();
        let lease = Lease {
            owner: format!("sync-{}", request.job_id),
            now,
            until: now + self.engine.lease_ms,
        };
        // Created final, its job claimed by this call, in one transaction: it runs here,
        // not on a scheduled runner.
        let finalized = RequestChange {
            allowed_from: vec![RequestStatus::Pending.as_str().into()],
            require_unapproved: false,
            to_status: Some(RequestStatus::Approved.as_str().into()),
            updates: RequestUpdates {
                final_at: Some(now),
                ..RequestUpdates::default()
            },
            items: vec![item],
            log: LogDraft {
                at: now,
                actor: who.actor(),
                event: "finalized".into(),
                from_status: None,
                to_status: Some(RequestStatus::Approved.as_str().into()),
                detail: json!({"synchronous": true, "retain_metrics": retain_metrics}).to_string(),
            },
            job: Some(NewJob {
                job_id: request.job_id.clone(),
                total_items: 1,
                max_attempts: 1,
                run_at: now,
                erasure_mode: ErasureMode::Delete.as_str().to_owned(),
                mask_marker: None,
                leased_to: Some(lease),
            }),
            notifications: Vec::new(),
        };
        let (request, job) = self
            .store
            .create_changed_request(&request, &created, &finalized)
            .await?;
        let job = job.ok_or_else(|| ServiceError::Internal("the synchronous job is missing".into()))?;
        let mode = RunMode {
            synchronous: true,
            retain_metrics: Some(retain_metrics),
        };
        self.run_job(&job, mode).await?;
        let items = self.store.request_items(site.as_str(), request.id).await?;
        match items.first().and_then(|i| i.outcome.as_deref()) {
            Some("erased") => Ok(()),
            _ => Err(missing()),
        }
    }
}
