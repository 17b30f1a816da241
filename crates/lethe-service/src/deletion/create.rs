//! Creating a request: one target, sealed; quota and idempotency checked in the same
//! transaction as the insert.

use super::view::RequestView;
use super::TARGET_CONTEXT;
use crate::error::{ServiceError, ServiceResult};
use crate::{Lethe, Principal};
use lethe_domain::deletion::{job_id, RequestSource, Target, DUE_AFTER_MS};
use lethe_domain::settings::ApprovalMode;
use lethe_domain::time::utc_month;
use lethe_domain::SiteId;
use lethe_store::{CreateGuards, CreateOutcome, IdempotencyClaim, KeyOwnerKind, LogDraft, NewRequest, StoreError};
use serde_json::json;
use sha2::{Digest, Sha256};

/// How long an idempotency key is remembered.
const IDEMPOTENCY_TTL_MS: i64 = 24 * 3_600_000;

/// A request to create.
#[derive(Debug, Clone)]
pub struct NewDeletion {
    pub target: Target,
    pub source: RequestSource,
    /// The client's `Idempotency-Key`, scoped to the account and `route`.
    pub idempotency_key: Option<String>,
    pub route: &'static str,
}

/// A created (or, for a repeated idempotency key, the earlier) request.
#[derive(Debug, Clone)]
pub struct Created {
    pub request: RequestView,
    /// True when an earlier create with the same key and body answered.
    pub replayed: bool,
}

impl Lethe {
    /// A request row with its target sealed under a data key of its own, and its first
    /// change-log entry.
    pub(crate) fn new_request(
        &self,
        who: &Principal,
        site: &SiteId,
        target: &Target,
        source: RequestSource,
        approval_mode: ApprovalMode,
        grace_ms: i64,
    ) -> (NewRequest, LogDraft) {
        let now = self.now();
        let job = job_id(&uuid::Uuid::new_v4().to_string());
        let (key, data_key) = self.new_data_key(site.as_str(), KeyOwnerKind::Request, &job);
        let request = NewRequest {
            account_id: site.as_str().to_owned(),
            job_id: job,
            source: source.as_str().to_owned(),
            target_kind: target.kind().as_str().to_owned(),
            sealed_target: key.seal(TARGET_CONTEXT, target.to_native().to_string().as_bytes()),
            data_key,
            requested_by: who.name.clone(),
            approval_mode: approval_mode.as_str().to_owned(),
            created_at: now,
            grace_ends_at: now + grace_ms,
            due_at: now + DUE_AFTER_MS,
        };
        let log = LogDraft {
            at: now,
            actor: who.actor(),
            event: "created".into(),
            from_status: None,
            to_status: Some("pending".into()),
            detail: json!({"source": source.as_str(), "target_kind": target.kind().as_str()}).to_string(),
        };
        (request, log)
    }

    /// Creates a deletion request in its cancel window.
    pub async fn create_deletion(&self, who: &Principal, site: &SiteId, new: NewDeletion) -> ServiceResult<Created> {
        self.require_account(site).await?;
        if let Some(key) = &new.idempotency_key {
            if key.is_empty() || key.len() > 255 || key.chars().any(char::is_control) {
                return Err(ServiceError::invalid(
                    "Idempotency-Key",
                    "must be 1 to 255 printable characters",
                ));
            }
        }
        // Over-large filters are refused now, not when the request becomes final.
        if matches!(new.target, Target::Filter(_) | Target::ChannelUser(_)) {
            self.preview_target(site, &new.target).await?;
        }
        // A racing create with the same key loses on the key's primary key; the retry
        // then finds the winner's request.
        let created = match self.try_create(who, site, &new).await? {
            Some(created) => created,
            None => self
                .try_create(who, site, &new)
                .await?
                .ok_or_else(|| ServiceError::Unavailable("concurrent create; retry".into()))?,
        };
        if !created.replayed && created.request.grace_ends_at <= self.now() {
            self.promote_due(Some(site)).await?;
            let record = self.request_record(site, created.request.id).await?;
            return Ok(Created {
                request: self.request_view(record)?,
                replayed: false,
            });
        }
        Ok(created)
    }

    /// One attempt; `None` when a concurrent create with the same key won.
    async fn try_create(&self, who: &Principal, site: &SiteId, new: &NewDeletion) -> ServiceResult<Option<Created>> {
        let settings = self.account_settings(site).await?;
        let now = self.now();
        let native = new.target.to_native();
        let (month, resets_at) = utc_month(now);
        let guards = CreateGuards {
            month,
            quota: settings.monthly_quota,
            count_quota: true,
            idempotency: new.idempotency_key.as_ref().map(|key| IdempotencyClaim {
                route: new.route.to_owned(),
                key: key.clone(),
                body_hash: Sha256::digest(native.to_string().as_bytes()).to_vec(),
                fresh_after: now - IDEMPOTENCY_TTL_MS,
            }),
        };
        let grace_ms = settings.grace_period_seconds as i64 * 1000;
        let (request, log) = self.new_request(who, site, &new.target, new.source, settings.approval_mode, grace_ms);
        let outcome = match self.store.create_request(&request, &guards, &log).await {
            Err(StoreError::Constraint(_)) if guards.idempotency.is_some() => return Ok(None),
            other => other?,
        };
        Ok(Some(match outcome {
            CreateOutcome::Created(r) => Created {
                request: self.request_view(r)?,
                replayed: false,
            },
            CreateOutcome::Replayed(r) => Created {
                request: self.request_view(r)?,
                replayed: true,
            },
            CreateOutcome::KeyReused => {
                return Err(ServiceError::Conflict(
                    "this Idempotency-Key was already used with a different request body".into(),
                ))
            }
            CreateOutcome::QuotaExceeded => {
                return Err(ServiceError::QuotaExceeded {
                    limit: settings.monthly_quota,
                    resets_at,
                })
            }
        }))
    }
}
