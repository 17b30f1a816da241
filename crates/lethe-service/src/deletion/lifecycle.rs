//! Moves of a request up to final: grace-period promotion, cancel, operator approval
//! and rejection. Each is one guarded store change with its change-log entry.

use crate::error::{ServiceError, ServiceResult};
use crate::{Lethe, Principal};
use lethe_domain::deletion::{RequestStatus, Target};
use lethe_domain::settings::{ApprovalMode, ErasureMode};
use lethe_domain::{Millis, SiteId};
use lethe_store::{ChangeOutcome, LogDraft, NewJob, RequestChange, RequestRecord, RequestUpdates};
use serde_json::json;

use super::view::RequestView;

/// Longest rejection reason kept.
const MAX_REASON: usize = 500;

fn log(at: Millis, actor: String, event: &str, to: Option<RequestStatus>, detail: serde_json::Value) -> LogDraft {
    LogDraft {
        at,
        actor,
        event: event.into(),
        from_status: None,
        to_status: to.map(|s| s.as_str().to_owned()),
        detail: detail.to_string(),
    }
}

impl Lethe {
    /// Makes final every pending request whose grace period has ended and that needs
    /// no further approval (in one account, or all); returns how many.
    pub async fn promote_due(&self, site: Option<&SiteId>) -> ServiceResult<usize> {
        let due = self
            .store
            .promotable_requests(site.map(SiteId::as_str), self.now())
            .await?;
        let mut promoted = 0;
        for (account, id) in due {
            let site = SiteId::parse(account)?;
            let record = self.request_record(&site, id).await?;
            let final_at = record.grace_ends_at.max(record.approved_at.unwrap_or(Millis::MIN));
            if self
                .finalize(&site, &record, final_at, "system".into(), None)
                .await?
                .is_some()
            {
                promoted += 1;
            }
        }
        Ok(promoted)
    }

    /// Resolves the target as it stands and makes the request final with those items.
    async fn finalize(
        &self,
        site: &SiteId,
        record: &RequestRecord,
        at: Millis,
        actor: String,
        approval: Option<(Millis, String)>,
    ) -> ServiceResult<Option<RequestRecord>> {
        let Some(sealed) = &record.sealed_target else {
            return Ok(None);
        };
        let target = self.open_target(record, sealed)?;
        let preview = self.preview_target(site, &target).await?;
        let settings = self.account_settings(site).await?;
        let erasure_mode = settings.erasure_mode;
        let event = if approval.is_some() { "approved" } else { "finalized" };
        let change = RequestChange {
            allowed_from: vec![RequestStatus::Pending.as_str().into()],
            require_unapproved: approval.is_some(),
            to_status: Some(RequestStatus::Approved.as_str().into()),
            updates: RequestUpdates {
                approved: approval,
                final_at: Some(at),
                ..RequestUpdates::default()
            },
            items: preview.request_items(),
            log: log(
                at,
                actor,
                event,
                Some(RequestStatus::Approved),
                json!({"items": preview.items.len(), "erasure_mode": erasure_mode.as_str()}),
            ),
            job: Some(NewJob {
                job_id: record.job_id.clone(),
                total_items: preview.items.len() as i64,
                max_attempts: self.engine.max_attempts,
                run_at: at,
                erasure_mode: erasure_mode.as_str().to_owned(),
                mask_marker: (erasure_mode == ErasureMode::Mask).then_some(settings.mask_marker),
                leased_to: None,
            }),
            notifications: Vec::new(),
        };
        Ok(
            match self.store.change_request(site.as_str(), record.id, &change).await? {
                ChangeOutcome::Changed(r) => {
                    self.jobs_due.notify_one();
                    Some(r)
                }
                _ => None,
            },
        )
    }

    /// Cancels a request inside its cancel window; afterwards 409 with its status.
    pub async fn cancel_deletion(&self, who: &Principal, site: &SiteId, id: i64) -> ServiceResult<RequestView> {
        self.end_request(who, site, id, RequestStatus::Canceled, None).await
    }

    /// Rejects a pending request (operator, with a reason).
    pub async fn reject_deletion(
        &self,
        who: &Principal,
        site: &SiteId,
        id: i64,
        reason: &str,
    ) -> ServiceResult<RequestView> {
        require_operator(who)?;
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > MAX_REASON {
            return Err(ServiceError::invalid(
                "reason",
                format!("must be 1 to {MAX_REASON} characters"),
            ));
        }
        self.end_request(who, site, id, RequestStatus::Rejected, Some(reason.to_owned()))
            .await
    }

    async fn end_request(
        &self,
        who: &Principal,
        site: &SiteId,
        id: i64,
        to: RequestStatus,
        reason: Option<String>,
    ) -> ServiceResult<RequestView> {
        self.require_account(site).await?;
        self.promote_due(Some(site)).await?;
        let record = self.request_record(site, id).await?;
        let now = self.now();
        let hashed_target = match &record.sealed_target {
            Some(sealed) => Some(self.hashed_target(site, &self.open_target(&record, sealed)?)),
            None => None,
        };
        let event = to.as_str();
        let change = RequestChange {
            allowed_from: vec![RequestStatus::Pending.as_str().into()],
            require_unapproved: false,
            to_status: Some(to.as_str().into()),
            updates: RequestUpdates {
                canceled: Some((now, who.name.clone())),
                rejection_reason: reason,
                hashed_target,
                ..RequestUpdates::default()
            },
            items: Vec::new(),
            log: log(now, who.actor(), event, Some(to), json!({})),
            job: None,
            notifications: Vec::new(),
        };
        let verb = if to == RequestStatus::Rejected {
            "rejected"
        } else {
            "canceled"
        };
        self.applied(site, id, &change, verb).await
    }

    /// Records an operator's approval; the request becomes final at once if its grace
    /// period is over, otherwise when it ends.
    pub async fn approve_deletion(&self, who: &Principal, site: &SiteId, id: i64) -> ServiceResult<RequestView> {
        require_operator(who)?;
        self.require_account(site).await?;
        self.promote_due(Some(site)).await?;
        let record = self.request_record(site, id).await?;
        let status = RequestStatus::parse(&record.status).unwrap_or(RequestStatus::Pending);
        if record.approval_mode == ApprovalMode::Auto.as_str() && status == RequestStatus::Pending {
            return Err(wrong_state(
                status,
                "it needs no approval: the account's approval mode is auto",
            ));
        }
        let now = self.now();
        let approval = Some((now, who.name.clone()));
        if record.grace_ends_at <= now && status == RequestStatus::Pending && record.approved_at.is_none() {
            if let Some(r) = self.finalize(site, &record, now, who.actor(), approval.clone()).await? {
                return self.request_view(r);
            }
        }
        let change = RequestChange {
            allowed_from: vec![RequestStatus::Pending.as_str().into()],
            require_unapproved: true,
            to_status: None,
            updates: RequestUpdates {
                approved: approval,
                ..RequestUpdates::default()
            },
            items: Vec::new(),
            log: log(
                now,
                who.actor(),
                "approved",
                None,
                json!({"final_at": record.grace_ends_at}),
            ),
            job: None,
            notifications: Vec::new(),
        };
        self.applied(site, id, &change, "approved").await
    }

    async fn applied(&self, site: &SiteId, id: i64, change: &RequestChange, verb: &str) -> ServiceResult<RequestView> {
        match self.store.change_request(site.as_str(), id, change).await? {
            ChangeOutcome::Changed(r) => self.request_view(r),
            ChangeOutcome::NotFound => Err(ServiceError::NotFound(format!("deletion request {id}"))),
            ChangeOutcome::Refused(r) => {
                let status = RequestStatus::parse(&r.status).unwrap_or(RequestStatus::Pending);
                let why = if status == RequestStatus::Pending && r.approved_at.is_some() {
                    "it was already approved".to_owned()
                } else {
                    format!("only a pending request can be {verb}")
                };
                Err(wrong_state(status, &why))
            }
        }
    }

    /// The keyed-hash form that replaces a target when its request ends.
    pub(crate) fn hashed_target(&self, site: &SiteId, target: &Target) -> String {
        target.to_hashed(&|value| self.hash_value(site, value)).to_string()
    }

    /// The hex keyed hash that replaces one id or value of an ended request.
    pub(crate) fn hash_value(&self, site: &SiteId, value: &str) -> String {
        hex::encode(self.keyring.lookup_hash(site.as_str(), "request-target", value))
    }
}

fn require_operator(who: &Principal) -> ServiceResult<()> {
    if who.is_operator() {
        Ok(())
    } else {
        Err(ServiceError::Forbidden(
            "only an operator key may approve or reject requests".into(),
        ))
    }
}

fn wrong_state(status: RequestStatus, why: &str) -> ServiceError {
    ServiceError::WrongState {
        current: status.as_str().to_owned(),
        message: format!("the request is {}; {why}", status.as_str()),
    }
}
