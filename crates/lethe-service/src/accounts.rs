//! Accounts (tenants) and their bots.

use crate::error::ServiceResult;
use crate::keys::created_or_conflict;
use crate::Lethe;
use lethe_domain::{BotId, SiteId};
use lethe_store::{AccountRecord, BotRecord};

impl Lethe {
    /// Creates an account; an existing id is a conflict.
    pub async fn create_account(&self, site: &SiteId) -> ServiceResult<AccountRecord> {
        let now = self.now();
        let outcome = self.store.create_account(site.as_str(), now).await?;
        created_or_conflict(outcome, format!("account {site}"))?;
        Ok(AccountRecord {
            site_id: site.as_str().to_owned(),
            created_at: now,
        })
    }

    /// All accounts, by id.
    pub async fn list_accounts(&self) -> ServiceResult<Vec<AccountRecord>> {
        Ok(self.store.accounts().await?)
    }

    /// Creates a bot in an account.
    pub async fn create_bot(&self, site: &SiteId, bot: &BotId, name: &str) -> ServiceResult<BotRecord> {
        self.require_account(site).await?;
        let record = BotRecord {
            account_id: site.as_str().to_owned(),
            bot_id: bot.as_str().to_owned(),
            name: name.to_owned(),
            created_at: self.now(),
        };
        let outcome = self.store.create_bot(&record).await?;
        created_or_conflict(outcome, format!("bot {bot}"))?;
        Ok(record)
    }

    /// An account's bots.
    pub async fn list_bots(&self, site: &SiteId) -> ServiceResult<Vec<BotRecord>> {
        self.require_account(site).await?;
        Ok(self.store.bots(site.as_str()).await?)
    }
}
