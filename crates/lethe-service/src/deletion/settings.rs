//! Per-account settings: defaults until changed; every change is logged.

use crate::error::{ServiceError, ServiceResult};
use crate::{Lethe, Principal};
use lethe_domain::settings::{AccountSettings, SettingsPatch};
use lethe_domain::SiteId;
use lethe_store::LogDraft;
use serde_json::json;

impl Lethe {
    /// The account's settings (defaults where never set).
    pub async fn account_settings(&self, site: &SiteId) -> ServiceResult<AccountSettings> {
        self.require_account(site).await?;
        match self.store.settings(site.as_str()).await? {
            Some(text) => serde_json::from_str(&text)
                .map_err(|e| ServiceError::Internal(format!("stored settings are unreadable: {e}"))),
            None => Ok(AccountSettings::default()),
        }
    }

    /// Applies a partial update; operator-only fields are refused to account keys.
    pub async fn update_settings(
        &self,
        who: &Principal,
        site: &SiteId,
        patch: SettingsPatch,
    ) -> ServiceResult<AccountSettings> {
        let current = self.account_settings(site).await?;
        let (next, changed) = current.apply(patch, who.is_operator())?;
        if changed.is_empty() {
            return Ok(current);
        }
        let text = serde_json::to_string(&next).map_err(|e| ServiceError::Internal(e.to_string()))?;
        let log = LogDraft {
            at: self.now(),
            actor: who.actor(),
            event: "settings_changed".into(),
            from_status: None,
            to_status: None,
            // Names only: e-mail and webhook values stay out of the log.
            detail: json!({ "fields": changed }).to_string(),
        };
        self.store.put_settings(site.as_str(), &text, &log).await?;
        Ok(next)
    }
}
