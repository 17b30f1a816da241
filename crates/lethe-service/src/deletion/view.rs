//! A request as every surface renders it: target opened (or its hashed remains),
//! statuses parsed, timeline from the change log.

use super::TARGET_CONTEXT;
use crate::error::{ServiceError, ServiceResult};
use crate::Lethe;
use lethe_domain::deletion::{RequestSource, RequestStatus, Target, TargetKind, TargetLimits};
use lethe_domain::settings::ApprovalMode;
use lethe_domain::{Millis, SiteId};
use lethe_store::{KeyOwnerKind, RequestRecord};
use serde_json::Value;

/// A deletion request, opened.
#[derive(Debug, Clone)]
pub struct RequestView {
    pub id: i64,
    pub job_id: String,
    pub account: String,
    pub source: RequestSource,
    pub status: RequestStatus,
    pub target_kind: TargetKind,
    /// The native target, or its keyed-hash form once the request has ended.
    pub target: Value,
    pub target_hashed: bool,
    pub requested_by: String,
    pub approval_mode: ApprovalMode,
    pub created_at: Millis,
    pub grace_ends_at: Millis,
    pub due_at: Millis,
    pub approved_at: Option<Millis>,
    pub approved_by: Option<String>,
    pub final_at: Option<Millis>,
    pub canceled_at: Option<Millis>,
    pub canceled_by: Option<String>,
    pub rejection_reason: Option<String>,
    pub updated_at: Millis,
}

/// One step of a request's history.
#[derive(Debug, Clone)]
pub struct TimelineEntry {
    pub seq: i64,
    pub at: Millis,
    pub event: String,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub actor: String,
}

fn corrupt(what: &str) -> ServiceError {
    ServiceError::Internal(format!("stored request has an invalid {what}"))
}

impl Lethe {
    /// Opens a stored request.
    pub(crate) fn request_view(&self, r: RequestRecord) -> ServiceResult<RequestView> {
        let (target, hashed) = match (&r.sealed_target, &r.hashed_target) {
            (_, Some(hashed)) => (
                serde_json::from_str(hashed).map_err(|_| corrupt("hashed target"))?,
                true,
            ),
            (Some(sealed), None) => (self.open_target(&r, sealed)?.to_native(), false),
            (None, None) => return Err(corrupt("target")),
        };
        Ok(RequestView {
            id: r.id,
            job_id: r.job_id,
            account: r.account_id,
            source: RequestSource::parse(&r.source).ok_or_else(|| corrupt("source"))?,
            status: RequestStatus::parse(&r.status).ok_or_else(|| corrupt("status"))?,
            target_kind: TargetKind::parse(&r.target_kind).ok_or_else(|| corrupt("target kind"))?,
            target,
            target_hashed: hashed,
            requested_by: r.requested_by,
            approval_mode: ApprovalMode::parse(&r.approval_mode).ok_or_else(|| corrupt("approval mode"))?,
            created_at: r.created_at,
            grace_ends_at: r.grace_ends_at,
            due_at: r.due_at,
            approved_at: r.approved_at,
            approved_by: r.approved_by,
            final_at: r.final_at,
            canceled_at: r.canceled_at,
            canceled_by: r.canceled_by,
            rejection_reason: r.rejection_reason,
            updated_at: r.updated_at,
        })
    }

    /// The request's target in the clear; only while it is still sealed.
    pub(crate) fn open_target(&self, r: &RequestRecord, sealed: &[u8]) -> ServiceResult<Target> {
        let (Some(kek_id), Some(wrapped)) = (&r.kek_id, &r.wrapped) else {
            return Err(corrupt("data key"));
        };
        let key = self.open_data_key(&r.account_id, KeyOwnerKind::Request, &r.job_id, kek_id, wrapped)?;
        let text = key.open_string(TARGET_CONTEXT, sealed)?;
        let value: Value = serde_json::from_str(&text).map_err(|_| corrupt("target"))?;
        let unbounded = TargetLimits { max_ids: usize::MAX };
        Target::from_native(&value, unbounded).map_err(|_| corrupt("target"))
    }

    /// A request's stored record, or 404 (another account's request included).
    pub(crate) async fn request_record(&self, site: &SiteId, id: i64) -> ServiceResult<RequestRecord> {
        self.store
            .request(site.as_str(), id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("deletion request {id}")))
    }

    /// One request, after promoting whatever has become final.
    pub async fn deletion_request(&self, site: &SiteId, id: i64) -> ServiceResult<RequestView> {
        self.require_account(site).await?;
        self.promote_due(Some(site)).await?;
        let record = self.request_record(site, id).await?;
        self.request_view(record)
    }

    /// A request's history, oldest first.
    pub async fn request_timeline(&self, site: &SiteId, id: i64) -> ServiceResult<Vec<TimelineEntry>> {
        let entries = self.store.change_log(site.as_str(), Some(id)).await?;
        Ok(entries
            .into_iter()
            .map(|e| TimelineEntry {
                seq: e.entry.seq,
                at: e.entry.at,
                event: e.entry.event,
                from_status: e.entry.from_status,
                to_status: e.entry.to_status,
                actor: e.entry.actor,
            })
            .collect())
    }

    /// Requests of an account, newest first.
    pub async fn deletion_requests(
        &self,
        site: &SiteId,
        filter: &super::RequestFilter,
    ) -> ServiceResult<Vec<RequestView>> {
        self.require_account(site).await?;
        self.promote_due(Some(site)).await?;
        let query = lethe_store::RequestQuery {
            statuses: filter.statuses.iter().map(|s| s.as_str().to_owned()).collect(),
            created_from: filter.created_from,
            created_to: filter.created_to,
            source: filter.source.map(|s| s.as_str().to_owned()),
            before_id: filter.before_id,
            limit: filter.limit,
        };
        let records = self.store.requests(site.as_str(), &query).await?;
        records.into_iter().map(|r| self.request_view(r)).collect()
    }
}

impl Lethe {
    /// The items a request froze when it became final (empty before).
    pub async fn deletion_request_items(&self, site: &SiteId, id: i64) -> ServiceResult<Vec<lethe_store::RequestItem>> {
        Ok(self.store.request_items(site.as_str(), id).await?)
    }
}

impl Lethe {
    /// An account's jobs, newest first, optionally only in the given phases.
    pub async fn deletion_jobs(&self, site: &SiteId, phases: &[String]) -> ServiceResult<Vec<lethe_store::JobRecord>> {
        self.require_account(site).await?;
        Ok(self.store.jobs(site.as_str(), phases, 500).await?)
    }

    /// The job of a final request, if it has one.
    pub async fn deletion_job(&self, site: &SiteId, id: i64) -> ServiceResult<Option<lethe_store::JobRecord>> {
        Ok(self.store.job_for_request(site.as_str(), id).await?)
    }
}
